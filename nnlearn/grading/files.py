"""Files the grader reads from students and writes for the instructor.

Nothing a submission contains ever names a file: the assignment is looked up among the
instructor's notebooks by name, a submitted file is opened without following a link or
blocking on a FIFO, and report names come from a sanitised file name (plus a hash when
sanitising changed it). Output folders are private (0700, files 0600) and every report
carries an HMAC whose key only the grader can read, so a re-run never trusts a report it
did not write.
"""
import errno
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import unicodedata
from pathlib import Path

MAX_SUBMISSION_BYTES = 20 << 20
KEY_FILE = ".grader-key"
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


# --- private output ---------------------------------------------------------------------------

def private_dir(path, parents=False):
    """Create `path` as a folder only this user can open (0700). An existing one must be a real
    folder of this user; it is made 0700."""
    path = Path(path)
    try:
        path.mkdir(mode=0o700, parents=parents)
        return path
    except FileExistsError:
        pass
    info = os.stat(path) if parents else os.lstat(path)   # the top folder may be a link the instructor made
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise PermissionError(f"{path} is not a folder of this user; choose another output folder")
    if not parents:
        os.chmod(path, 0o700)
    return path


def _open_private(path, flags):
    fd = os.open(path, flags | os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | _O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def write_private(path, text):
    """Write text to path atomically, readable by this user only."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = _open_private(tmp, os.O_EXCL)
    with open(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def append_private(path, text):
    with open(_open_private(path, os.O_APPEND), "a", encoding="utf-8") as f:
        f.write(text)


# --- signed reports --------------------------------------------------------------------------

def _canonical(data):
    return json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


class Signer:
    """HMAC-SHA256 of reports under a key kept in the output folder, readable by the grader
    only: a re-run trusts a report only if this grader signed it."""

    def __init__(self, folder):
        self.path = Path(folder) / KEY_FILE
        self.key = self._read() or self._create()

    def _read(self):
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _O_CLOEXEC)
        except OSError:
            return None
        with open(fd, "rb") as f:
            info = os.fstat(f.fileno())
            key = f.read(64)
        trusted = stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077
        return key if trusted and len(key) == 32 else None

    def _create(self):
        """A new key (every report signed with an old or untrusted one is re-graded)."""
        key = secrets.token_bytes(32)
        tmp = self.path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        with open(_open_private(tmp, os.O_EXCL), "wb") as f:
            f.write(key)
        try:
            os.link(tmp, self.path)             # fails if a concurrent shard made one first
        except FileExistsError:
            existing = self._read()
            if existing:
                os.unlink(tmp)
                return existing
            os.replace(tmp, self.path)          # a key file this grader did not make: replaced
            return key
        except OSError:                         # no hard links on this file system
            os.replace(tmp, self.path)
            return key
        os.unlink(tmp)
        return key

    def sign(self, data):
        return hmac.new(self.key, _canonical(data), hashlib.sha256).hexdigest()

    def verify(self, data, signature):
        return isinstance(signature, str) and hmac.compare_digest(self.sign(data), signature)
