"""Files the grader reads from students, and the names it gives their reports.

Nothing a submission contains ever names a file: the assignment is looked up among the
instructor's notebooks by name, a submitted file is opened without following a link or
blocking on a FIFO, and report names come from a sanitised file name (plus a hash when
sanitising changed it). What the grader writes: nnlearn.grading.output.
"""
import errno
import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path

MAX_SUBMISSION_BYTES = 20 << 20
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class FileRefused(Exception):
    """A submitted file the grader will not read (a link, a FIFO, too large, unreadable)."""


# --- reading what students sent -----------------------------------------------------------

def _kind(mode):
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO (named pipe)"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device")):
        if test(mode):
            return name
    return "regular file" if stat.S_ISREG(mode) else "special file"


def read_submission(path, limit=MAX_SUBMISSION_BYTES):
    """The bytes of a submitted file, only if it is a regular file of at most `limit` bytes.
    Opened without following a symbolic link and without blocking on a FIFO; nothing of what
    a link points to is read or named."""
    try:
        before = os.lstat(path)
    except OSError as exc:
        raise FileRefused(f"cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(before.st_mode):
        raise FileRefused(f"the submission is a {_kind(before.st_mode)}, not a file; submit the notebook itself")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | _O_CLOEXEC)
    except OSError as exc:
        what = "the submission is a symbolic link" if exc.errno == errno.ELOOP else f"cannot read the file ({exc.strerror})"
        raise FileRefused(what) from None
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(now.st_mode):
            raise FileRefused("the file was replaced while the grader opened it")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileRefused(f"the file is larger than {limit / 2**20:g} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def file_sha256(path):
    """SHA-256 of a submission as the grader would read it ("" where it refuses to)."""
    try:
        return hashlib.sha256(read_submission(path)).hexdigest()
    except FileRefused:
        return ""


# --- the instructor's notebooks -------------------------------------------------------------

def instructor_notebooks(solutions_dir):
    """{assignment name: path} of the notebooks in the solutions folder (its listing, so a
    name from a submission can only ever select one of them)."""
    try:
        entries = list(os.scandir(solutions_dir))
    except OSError:
        return {}
    return {e.name[:-len(".ipynb")]: Path(e.path) for e in entries
            if e.name.endswith(".ipynb") and not e.name.startswith(".") and e.is_file()}


def bad_assignment_name(name):
    """Why `name` cannot be an assignment name, or None."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not a name"
    if not name or name.startswith(".") or any(c in name for c in "/\\\0") or os.path.isabs(name):
        return "is not a plain name (no folders, no '..', no leading dot)"
    return None


# --- names of reports ---------------------------------------------------------------------

_PLAIN = re.compile(r"\w([\w .+@-]*\w)?")


def output_name(path):
    """The name of a submission's report and feedback files. A plainly named notebook keeps its
    stem (alice.ipynb -> alice); any other name is sanitised and gets a hash of its bytes
    (alice.txt -> alice.txt~1f0e…), so no two submissions in a folder share a report. A plain
    name never contains '~', so the two forms cannot collide."""
    name = os.path.basename(os.fspath(path))
    stem = name[: -len(".ipynb")] if name.endswith(".ipynb") else None
    if stem and _PLAIN.fullmatch(stem) and len(stem.encode("utf-8", "surrogatepass")) <= 180 \
            and unicodedata.normalize("NFC", stem) == stem:
        return stem
    raw = os.fsencode(name)
    safe = re.sub(r"[^\w.+@-]+", "_", raw.decode("utf-8", "replace")).lstrip("._-")[:60] or "file"
    return f"{safe}~{hashlib.sha256(raw).hexdigest()[:12]}"
