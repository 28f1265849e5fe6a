"""What the grader writes for the instructor: private folders (0700) and files (0600), and
reports signed with an HMAC whose key only the grader can read, so a re-run never trusts a
report it did not write."""
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path

KEY_FILE = ".grader-key"
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


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
