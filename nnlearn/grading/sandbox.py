"""How the grader starts a kernel for untrusted code.

Full isolation (Linux, grader running as root, bubblewrap installed, cgroups writable):

    python -I -m nnlearn.grading.sandbox --cgroup-procs F ... --rlimits ... --
        setpriv --reuid U --regid U --clear-groups --
        bwrap --unshare-all ... -- python -m ipykernel_launcher -f CONNECTION_FILE

The launcher (started from "/", in isolated mode, so nothing a student can write is ever on
its import path) joins the submission's cgroup, sets resource limits and replaces itself with
setpriv, which drops to a fresh unprivileged host user id U before bubblewrap runs. Bubblewrap
gives the kernel its own user, PID, mount, network, IPC, UTS and cgroup namespaces, dies with
its parent, sees read-only only the Python installation and the nnlearn package (no
repository, no .git, no solutions, no submissions), a private tmpfs home, /tmp and /dev/shm,
and the folder of its connection sockets. Everything dies with the kernel; nothing it writes
survives it.

Where something is missing the grader falls back to what is there (bubblewrap as the same
user, or resource limits only) and every report says which isolation it had.
"""
import argparse
import functools
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .cgroups import available as cgroups_available

HOME = "/home/student"
STAGE = "/run/nnlearn-sandbox"     # an empty folder every user may enter; mounts go on it
SANDBOX_UIDS = range(61000, 63000)
_UID_LOCKS = "/run/nnlearn-sandbox-uids"
INSTALL_HINT = ("for full isolation run the grader as root on Linux with bubblewrap installed "
                "(Debian/Ubuntu: apt-get install bubblewrap) and cgroups writable, e.g. in Gradescope's container")


@dataclass
class Limits:
    memory_mb: int = 4096          # memory of the whole submission (cgroup) and of each process (address space)
    cpu_seconds: int = 600         # CPU time of each process
    processes: int = 128           # processes and threads of the whole submission
    file_mb: int = 100             # largest file the kernel may write
    open_files: int = 256


@dataclass
class Isolation:
    """What this machine lets the sandbox do; written into every report."""
    sandbox: str                   # "bubblewrap" or "none"
    user: str                      # "own uid" or "same user"
    cgroup: str                    # "cgroup" or why not
    notes: list = field(default_factory=list)

    @property
    def full(self):
        return self.sandbox == "bubblewrap" and self.user == "own uid" and self.cgroup == "cgroup"

    def summary(self):
        if self.full:
            return ("isolated: bubblewrap (no network, own PID/IPC/mount namespaces, read-only Python, "
                    "private /tmp), a fresh unprivileged user id, per-submission cgroup (memory, processes)")
        parts = [f"sandbox: {self.sandbox}", f"user: {self.user}", f"limits: {self.cgroup}"] + self.notes
        return "PARTLY ISOLATED: " + "; ".join(parts) + f" — {INSTALL_HINT}"


@functools.lru_cache(maxsize=1)
def probe_isolation():
    """Find out once which isolation is available here, by trying it."""
    if sys.platform != "linux":
        return Isolation("none", "same user", "resource limits only (needs Linux)")
    bwrap = shutil.which("bwrap")
    root = os.geteuid() == 0
    notes = []
    sandbox = "none"
    if bwrap is None:
        notes.append("bubblewrap not installed")
    elif _try_bwrap(root):
        sandbox = "bubblewrap"
    else:
        notes.append("bubblewrap refused to start here (user namespaces disabled?)")
    user = "own uid" if root and sandbox == "bubblewrap" else "same user"
    if not root:
        notes.append("not root: no user id of its own, no cgroup")
    cgroup = (cgroups_available() or "cgroup") if root else "resource limits per process only"
    return Isolation(sandbox, user, cgroup, notes)


def _try_bwrap(root):
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        argv = bwrap_argv(folder, [sys.executable, "-c", "import nnlearn"])
        if root:
            argv = _drop_to(SANDBOX_UIDS[-1]) + argv
        return _run_quietly(launcher_prefix() + ["--"] + argv)


def _run_quietly(argv):
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def launcher_prefix():
    """python -I -m nnlearn.grading.sandbox, as root in a private mount namespace of its own."""
    argv = [sys.executable, "-I", "-m", "nnlearn.grading.sandbox"]
    if os.geteuid() == 0 and shutil.which("unshare"):
        os.makedirs(STAGE, mode=0o755, exist_ok=True)
        argv = [shutil.which("unshare"), "--mount", "--propagation", "private", "--"] + argv
    return argv


def _drop_to(uid):
    return [shutil.which("setpriv") or "setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
            "--inh-caps=-all", "--"]


def readable_roots():
    """What the kernel needs to see: the Python installation (venv and base) and the nnlearn package."""
    import nnlearn

    package = Path(nnlearn.__file__).resolve().parent
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent}
    if not any(package.is_relative_to(r) for r in roots):   # an editable install: only the package folder
        roots.add(package)
    return sorted(r for r in roots if not any(r != o and r.is_relative_to(o) for o in roots))


def bwrap_argv(kernel_dir, command):
    argv = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
            "--disable-userns", "--hostname", "sandbox"]
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / top
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    for etc in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime", "mime.types"):
        argv += ["--ro-bind-try", f"/etc/{etc}", f"/etc/{etc}"]
    # The private folders first: what is bound after them may lie inside (a venv under /tmp).
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--tmpfs", HOME]
    for path in readable_roots():   # staged by the root launcher: the sandbox user may not
        argv += ["--ro-bind", f"{{stage:{path}}}", str(path)]   # reach the original (e.g. under /root)
    argv += ["--bind", f"{{stage:{kernel_dir}}}", str(kernel_dir), "--chdir", HOME, "--"]
    return argv + list(command)


def kernel_argv(kernel_dir, limits, isolation, uid=None, cgroup=None):
    """The command line that starts a sandboxed ipykernel; {connection_file} is filled in by jupyter_client."""
    # -P: the working folder, which the student writes, is never on the import path
    kernel = [sys.executable, "-P", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if isolation.sandbox == "bubblewrap":
        kernel = bwrap_argv(kernel_dir, kernel)
        if uid is not None:
            kernel = _drop_to(uid) + kernel
    argv = launcher_prefix() + ["--memory-mb", str(limits.memory_mb),
            "--cpu-seconds", str(limits.cpu_seconds), "--file-mb", str(limits.file_mb),
            "--open-files", str(limits.open_files)]
    if uid is not None:   # RLIMIT_NPROC counts per user: it holds only for a user id of its own
        argv += ["--processes", str(limits.processes)]
    for procs in (cgroup.procs_files if cgroup else []):
        argv += ["--cgroup-procs", procs]
    return argv + ["--"] + kernel


def reserve_uid(avoid=()):
    """(uid, lock) of a user id no other grader process uses right now, never one of `avoid`.
    The lock (an open file with an flock) is released when closed or when this process dies."""
    import fcntl

    os.makedirs(_UID_LOCKS, mode=0o700, exist_ok=True)
    start = random.randrange(len(SANDBOX_UIDS))
    for i in range(len(SANDBOX_UIDS)):
        uid = SANDBOX_UIDS[(start + i) % len(SANDBOX_UIDS)]
        if uid in avoid:
            continue
        lock = open(os.path.join(_UID_LOCKS, str(uid)), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, lock
        except OSError:
            lock.close()
    raise RuntimeError("no free sandbox user id")


def _stage(command):
    """Replace each '{stage:PATH}' with a path the sandbox user can reach. As root (in the private
    mount namespace `unshare --mount` made for this launcher) PATH is bind-mounted under a fresh
    tmpfs at STAGE; otherwise the user can already reach PATH."""
    tokens = [a for a in command if a.startswith("{stage:") and a.endswith("}")]
    if not tokens or os.geteuid() != 0:
        return [a[7:-1] if a in tokens else a for a in command]
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=64k", "nnlearn-stage", STAGE], check=True)
    staged = {}
    for token in dict.fromkeys(tokens):
        target = os.path.join(STAGE, str(len(staged)))
        os.mkdir(target)
        subprocess.run(["mount", "--bind", token[7:-1], target], check=True)
        staged[token] = target
    return [staged.get(a, a) for a in command]


def main(argv=None):
    """The launcher: join the cgroup, set the limits, become the sandbox."""
    parser = argparse.ArgumentParser(description="start a sandboxed kernel (used by the grader)")
    for name, default in (("memory-mb", 4096), ("cpu-seconds", 600), ("file-mb", 100), ("open-files", 256)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--cgroup-procs", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    command = _stage(command)
    for procs in args.cgroup_procs:
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    mb = 1 << 20
    limits = [(resource.RLIMIT_AS, args.memory_mb * mb), (resource.RLIMIT_CPU, args.cpu_seconds),
              (resource.RLIMIT_FSIZE, args.file_mb * mb), (resource.RLIMIT_NOFILE, args.open_files),
              (resource.RLIMIT_CORE, 0)]
    if args.processes:
        limits.append((resource.RLIMIT_NPROC, args.processes))
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):   # e.g. macOS refuses some limits: best effort, as documented
            pass
    # In its own PID namespace the kernel's parent is bubblewrap's init, so ipykernel would take the
    # grader for dead; the kernel dies with bubblewrap (--die-with-parent) instead.
    os.environ.pop("JPY_PARENT_PID", None)
    os.environ.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
