"""A control group per submission: a memory limit and a process limit for everything the
submission starts together (forked children, threads, files in tmpfs), and a way to kill
all of it at the end. cgroup v2 (one unified tree) and v1 (a tree per controller) are both
supported; the groups are made inside the grader's own groups, so the host's limits still
hold above them."""
import os
import signal
import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_group(controller):
    """The grader's own group in a controller's hierarchy ('' for v2), from /proc/self/cgroup."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers.split(",") == [controller] or (controller == "" and controllers == ""):
            return path
    return None


def _is_v2():
    return (ROOT / "cgroup.controllers").is_file()


class Cgroup:
    """Use `Cgroup.create(memory_bytes, max_pids)`; `procs_files` are what the launcher
    writes its pid into; `kill()` ends every process in the group; `remove()` deletes it."""

    def __init__(self, folders, version):
        self.folders, self.version = folders, version

    @property
    def procs_files(self):
        return [str(f / "cgroup.procs") for f in self.folders]

    @classmethod
    def create(cls, memory_bytes, max_pids):
        name = f"nnlearn-{uuid.uuid4().hex[:12]}"
        if _is_v2():
            base = ROOT / (_own_group("") or "/").lstrip("/")
            folder = base / name
            folder.mkdir(mode=0o755)
            group = cls([folder], 2)
            try:
                (folder / "memory.max").write_text(str(memory_bytes))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
                (folder / "pids.max").write_text(str(max_pids))
            except OSError:
                group.remove()
                raise
            return group
        folders = []
        try:
            for controller in ("memory", "pids"):
                own = _own_group(controller)
                if own is None:
                    raise OSError(f"no cgroup v1 {controller} controller")
                folder = ROOT / controller / own.lstrip("/") / name
                folder.mkdir(mode=0o755)
                folders.append(folder)
            memory, pids = folders
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():   # no escape into swap
                (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            (pids / "pids.max").write_text(str(max_pids))
        except OSError:
            cls(folders, 1).remove()
            raise
        return cls(folders, 1)

    def pids(self):
        found = set()
        for folder in self.folders:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def memory_peak(self):
        """Largest memory use of the group so far, in bytes (None if unknown)."""
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            path = self.folders[0] / name
            if path.exists():
                return int(path.read_text())
        return None

    def kill(self, wait=5.0, spare=()):
        """SIGKILL every process in the group but `spare` until none is left (new forks included)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            pids = self.pids() - set(spare)
            if not pids:
                return True
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        return not self.pids() - set(spare)

    def remove(self):
        self.kill()
        for folder in reversed(self.folders):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:      # still busy for a moment after the last process died
                    time.sleep(0.02)


def available():
    """'' if a group can be made and removed here, else the reason why not."""
    try:
        Cgroup.create(64 << 20, 16).remove()
    except OSError as exc:
        return f"cgroups not writable ({exc.strerror or exc})"
    return ""
