"""Start a Jupyter kernel for untrusted code: resource limits, and where the OS allows it
(running as root on Linux) no network, hidden instructor folders and an unprivileged user.

The grader launches `python -m nnlearn.grading.sandbox [options] -- KERNEL_COMMAND...`, usually
wrapped in `unshare --net --mount` (see `kernel_argv`). This process applies the limits,
then replaces itself with the kernel.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field


@dataclass
class Limits:
    memory_mb: int = 4096          # address space of the kernel process
    cpu_seconds: int = 600         # CPU time of the kernel process
    processes: int = 64            # processes/threads of the sandbox user (beyond those it has)
    file_mb: int = 100             # largest file the kernel may write
    open_files: int = 256


@dataclass
class Isolation:
    """What this machine lets the sandbox do; written into every report."""
    network: str
    user: str
    hidden_paths: str
    notes: list = field(default_factory=list)

    def summary(self):
        return f"network {self.network}; user {self.user}; instructor files {self.hidden_paths}"


def probe_isolation():
    """Find out once which isolation is available here."""
    if sys.platform != "linux":
        return Isolation("not isolated (needs Linux)", "same user", "readable", ["resource limits only"])
    if os.geteuid() != 0:
        return Isolation("not isolated (needs root for unshare)", "same user (needs root to switch)",
                         "readable by the same user")
    unshare = shutil.which("unshare")
    ok = unshare is not None and _probe_namespace(unshare)
    if not ok:
        return Isolation("not isolated (unshare refused)", "same user (root: process limit not enforced)", "readable")
    return Isolation("isolated (unshare --net)", "a user id of its own", "hidden (private mount namespace)")


def _probe_namespace(unshare):
    """Can we make a private network and mount namespace, mount a tmpfs in it and drop to a
    user id of our own? (Some containers allow unshare but not mount or setuid.)"""
    import tempfile

    with tempfile.TemporaryDirectory() as target:
        script = ("import os, subprocess, sys\n"
                  "subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4k', 'none', sys.argv[1]], check=True)\n"
                  f"os.setgroups([]); os.setgid({SANDBOX_UIDS[-1]}); os.setuid({SANDBOX_UIDS[-1]})\n")
        try:
            done = subprocess.run([unshare, "--net", "--mount", "--propagation", "private", "--",
                                   sys.executable, "-c", script, target], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return done.returncode == 0


SANDBOX_UIDS = range(61000, 62000)
_UID_LOCKS = "/tmp/nnlearn-sandbox-uids"


def reserve_uid():
    """(uid, lock) of a user id no other sandbox uses right now. The lock (an open file with
    an flock) is released when closed or when this process dies."""
    import fcntl

    os.makedirs(_UID_LOCKS, mode=0o700, exist_ok=True)
    start = os.getpid() % len(SANDBOX_UIDS)
    for i in range(len(SANDBOX_UIDS)):
        uid = SANDBOX_UIDS[(start + i) % len(SANDBOX_UIDS)]
        lock = open(os.path.join(_UID_LOCKS, str(uid)), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, lock
        except OSError:
            lock.close()
    raise RuntimeError("no free sandbox user id")


def kernel_argv(python, workdir, limits, isolation, hide_paths, uid=None):
    """The command line that starts a sandboxed ipykernel; {connection_file} is filled in by jupyter_client."""
    argv = [python, "-m", "nnlearn.grading.sandbox", "--workdir", workdir, "--memory-mb", str(limits.memory_mb),
            "--cpu-seconds", str(limits.cpu_seconds), "--processes", str(limits.processes),
            "--file-mb", str(limits.file_mb), "--open-files", str(limits.open_files)]
    if uid is not None:
        argv += ["--uid", str(uid), "--stash", os.path.join(os.path.dirname(workdir), "stash")]
        for path in {python, os.path.realpath(python), sys.prefix, sys.base_prefix, *filter(os.path.isdir, sys.path),
                     os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}:
            argv += ["--expose", path]
    if isolation.hidden_paths.startswith("hidden"):
        for path in hide_paths:
            argv += ["--hide", str(path)]
    argv += ["--", python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    if isolation.network.startswith("isolated"):
        argv = [shutil.which("unshare"), "--net", "--mount", "--propagation", "private", "--"] + argv
    return argv


def _count_processes(uid):
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def _mount(args):
    subprocess.run(["mount", *args], check=True)


def _closed_ancestor(path):
    """The highest folder above `path` that other users may not enter, or None."""
    parts = os.path.realpath(path).split(os.sep)[1:]
    for i in range(1, len(parts)):
        folder = os.sep + os.path.join(*parts[:i])
        if not os.stat(folder).st_mode & 0o001:
            return folder, parts[i]
    return None


def _expose(paths, stash):
    """Let an unprivileged kernel reach e.g. a Python installed under /root: cover the closed
    folder with a tmpfs that holds only bind mounts of the needed entries (the rest of the
    closed folder stays unreachable)."""
    covered = {}
    for path in paths:
        found = _closed_ancestor(path)
        if found:
            covered.setdefault(found[0], set()).add(found[1])
    for i, (folder, children) in enumerate(sorted(covered.items())):
        original = os.path.join(stash, str(i))
        os.makedirs(original, exist_ok=True)
        _mount(["--bind", folder, original])
        _mount(["-t", "tmpfs", "-o", "mode=755", "none", folder])
        for child in sorted(children):
            source = os.path.join(original, child)
            target = os.path.join(folder, child)
            if os.path.isdir(source):
                os.mkdir(target)
            else:
                open(target, "w").close()
            _mount(["--bind", source, target])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb)
    parser.add_argument("--cpu-seconds", type=int, default=Limits.cpu_seconds)
    parser.add_argument("--processes", type=int, default=Limits.processes)
    parser.add_argument("--file-mb", type=int, default=Limits.file_mb)
    parser.add_argument("--open-files", type=int, default=Limits.open_files)
    parser.add_argument("--uid", type=int, help="switch to this user id (needs root)")
    parser.add_argument("--hide", action="append", default=[], help="cover this folder with an empty tmpfs")
    parser.add_argument("--expose", action="append", default=[],
                        help="a folder the kernel needs that lies under a folder only root may enter")
    parser.add_argument("--stash", help="an empty folder for --expose to use")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    # Mount changes happen only inside the private mount namespace made by `unshare --mount`.
    if args.uid is not None and args.expose:
        _expose(args.expose, args.stash)
    for path in args.hide:
        if os.path.isdir(path):
            _mount(["-t", "tmpfs", "-o", "size=4k,mode=000", "none", path])
    os.chdir(args.workdir)
    mb = 1 << 20
    limits = [(resource.RLIMIT_AS, args.memory_mb * mb), (resource.RLIMIT_CPU, args.cpu_seconds),
              (resource.RLIMIT_FSIZE, args.file_mb * mb), (resource.RLIMIT_NOFILE, args.open_files),
              (resource.RLIMIT_CORE, 0)]
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):   # e.g. macOS refuses some limits: best effort, as documented
            pass
    uid = os.getuid()
    if args.uid is not None:
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)
        uid = args.uid
        os.environ.update(HOME=args.workdir, USER="student", LOGNAME="student")
    # Root ignores RLIMIT_NPROC, so this bounds forks only once we are an unprivileged user.
    if os.path.isdir("/proc"):
        nproc = _count_processes(uid) + args.processes
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    for var in ("JPY_SESSION_NAME",):
        os.environ.pop(var, None)
    os.environ.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
