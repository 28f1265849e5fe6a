"""A sandboxed Jupyter kernel the grader talks to directly (jupyter_client, no nbclient):
run code under a timeout, keep only errors and judge results, discard printed output."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from queue import Empty

import zmq
from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from .cgroups import Cgroup
from .judge import MAX_PAYLOAD_BYTES, MIME
from .sandbox import HOME, Limits, kernel_argv, probe_isolation, reserve_uid


@dataclass
class CellResult:
    ok: bool
    ename: str = ""
    evalue: str = ""
    payload: str | None = None     # the judge result, if the code displayed one
    timed_out: bool = False
    died: bool = False
    output_bytes: int = 0
    too_much_output: bool = False
    too_large: bool = False


    @property
    def error(self):
        if self.too_large:
            return f"stopped: sent a result or output larger than {MAX_MESSAGE_BYTES >> 20} MB at once"
        if self.too_much_output:
            return f"stopped: printed more than {MAX_OUTPUT_BYTES >> 20} MB"
        if self.died:
            return "the kernel died (it crashed, exited or ran out of memory)"
        if self.timed_out:
            return "timed out"
        return f"{self.ename}: {self.evalue}".strip(": ") if not self.ok else None


MAX_OUTPUT_BYTES = 8 << 20   # printed and displayed output per cell: counted and discarded, never stored
MAX_MESSAGE_BYTES = MAX_PAYLOAD_BYTES + (1 << 20)   # one message frame from the kernel
QUEUED_MESSAGES = 16          # messages the grader buffers per channel
_last_uid = None             # consecutive submissions never share a user id


class _SpecManager(KernelSpecManager):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self._spec = spec

    def get_kernel_spec(self, kernel_name):
        return self._spec


class KernelSession:
    """One sandboxed kernel for one submission (nnlearn.grading.sandbox): a fresh user id and
    cgroup per session, a fresh kernel per start. Use as a context manager."""

    def __init__(self, limits=None, isolation=None, start_timeout=60):
        self.limits = limits or Limits()
        self.isolation = isolation or probe_isolation()
        self.start_timeout = start_timeout
        self.km = self.kc = self.context = self.cgroup = None
        self.uid = self.uid_lock = None

    def __enter__(self):
        global _last_uid
        self.root = tempfile.mkdtemp(prefix="nnlearn-grade-")      # 0700, owned by the grader
        try:
            if self.isolation.user == "own uid":
                self.uid, self.uid_lock = reserve_uid(avoid={_last_uid})
                _last_uid = self.uid
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.uid_lock is not None:
            self.uid_lock.close()
            self.uid_lock = None

    def start(self):
        self.kernel_dir = os.path.join(self.root, f"kernel-{time.monotonic_ns()}")
        os.mkdir(self.kernel_dir, 0o700)
        if self.uid is not None:                     # the kernel creates its sockets here
            os.chown(self.kernel_dir, self.uid, self.uid)
        if self.isolation.cgroup == "cgroup":
            self.cgroup = Cgroup.create(self.limits.memory_mb << 20, self.limits.processes)
        argv = kernel_argv(self.kernel_dir, self.limits, self.isolation, self.uid, self.cgroup)
        spec = KernelSpec(argv=argv, display_name="nnlearn sandbox", language="python",
                          interrupt_mode="message")   # a signal would not cross the PID namespace
        self.km = KernelManager(kernel_name="nnlearn-sandbox", kernel_spec_manager=_SpecManager(spec),
                                transport="ipc", ip=os.path.join(self.kernel_dir, "ipc"),
                                connection_file=os.path.join(self.root, f"connection-{time.monotonic_ns()}.json"))
        self.km.write_connection_file()
        os.rename(self.km.connection_file, os.path.join(self.kernel_dir, "connection.json"))
        self.km.connection_file = os.path.join(self.kernel_dir, "connection.json")
        if self.uid is not None:
            os.chown(self.km.connection_file, self.uid, self.uid)
        # The launcher runs as root: from "/", never from a folder the student can write.
        self.km.start_kernel(cwd="/" if self.isolation.sandbox == "bubblewrap" else self.kernel_dir,
                             env=self._kernel_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._lock_sockets()
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)   # a bigger message drops the link
        self.context.setsockopt(zmq.RCVHWM, QUEUED_MESSAGES)          # bounded memory under a flood
        self.kc = BlockingKernelClient(context=self.context, **self.km.get_connection_info(session=True))
        self.kc.start_channels()
        # zmq drops the link on a message over MAX_MESSAGE_BYTES: watch for that, to stop waiting
        self.dropped = self.kc.iopub_channel.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self.kc.wait_for_ready(timeout=self.start_timeout)

    def _lock_sockets(self):
        """Wait for the kernel's sockets, then take the folder back, so that student code
        cannot swap a socket for a link to some other socket the root grader would connect to."""
        info = self.km.get_connection_info()
        names = [f"{info['ip']}-{info[f'{c}_port']}" for c in ("shell", "iopub", "stdin", "control", "hb")]
        deadline = time.monotonic() + self.start_timeout
        while not all(os.path.exists(n) for n in names):
            if time.monotonic() > deadline or not self.km.is_alive():
                raise RuntimeError("the sandboxed kernel did not start")
            time.sleep(0.02)
        for name in names:
            if not stat.S_ISSOCK(os.lstat(name).st_mode):
                raise RuntimeError("the sandboxed kernel did not start")
        os.chown(self.kernel_dir, 0, 0) if self.uid is not None else None
        os.chmod(self.kernel_dir, 0o755 if self.uid is not None else 0o700)

    def _kernel_env(self):
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
        env = {k: v for k, v in os.environ.items() if k in keep}
        home = HOME if self.isolation.sandbox == "bubblewrap" else self.kernel_dir
        env.update(HOME=home, TMPDIR="/tmp" if self.isolation.sandbox == "bubblewrap" else home,
                   USER="student", LOGNAME="student", PYTHONNOUSERSITE="1", PYDEVD_DISABLE_FILE_VALIDATION="1",
                   MPLCONFIGDIR=os.path.join(home, ".matplotlib"), VIRTUAL_ENV=sys.prefix)
        return env

    def stop(self):
        if self.kc is not None:
            self.dropped.close(linger=0)
            self.kc.stop_channels()
        if self.km is not None:
            launcher = getattr(getattr(self.km.provisioner, "process", None), "pid", None)
            if self.cgroup is not None and launcher:   # inside first, so bubblewrap reaps them: no zombies
                self.cgroup.kill(wait=2.0, spare={launcher})
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        if self.cgroup is not None:                  # whatever the submission left running
            self.cgroup.remove()
        if self.context is not None:
            self.context.destroy(linger=0)
        self.km = self.kc = self.context = self.cgroup = None

    def host_pids(self):
        """Host process ids of everything the submission runs now (needs a cgroup)."""
        return self.cgroup.pids() if self.cgroup else set()

    def restart(self):
        self.stop()
        self.start()

    def run(self, code, timeout):
        """Execute code; return a CellResult. Never raises for anything the code does: the
        kernel is the student's, so every message from it is checked, sized and may be forged."""
        if self.km is None or not self.km.is_alive():
            return CellResult(ok=False, died=True)
        self._drain_shell()
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False, silent=False)
        result = CellResult(ok=True)
        deadline = time.monotonic() + timeout
        interrupted_at = None
        while True:
            now = time.monotonic()
            if now > deadline and interrupted_at is None:
                result.timed_out, result.ok = True, False
                self.km.interrupt_kernel()
                interrupted_at = now
            if interrupted_at is not None and now - interrupted_at > 5:
                self.stop()               # ignores interrupts: kill it; the caller restarts
                return result
            if interrupted_at is None and self.dropped.poll(0):
                result.ok, result.too_large = False, True     # the kernel state is unknown: restart it
                interrupted_at = now - 4
                continue
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                if not self.km.is_alive():
                    result.ok, result.died = False, True
                    return result
                continue
            except Exception:             # a malformed or unsigned message: ignore it
                continue
            if not isinstance(msg, dict) or _get(msg, "parent_header", "msg_id") != msg_id:
                continue
            kind, content = msg.get("msg_type"), msg.get("content")
            if not isinstance(content, dict):
                continue
            if kind == "status" and content.get("execution_state") == "idle":
                return result
            size = _size(content)
            data = content.get("data") if kind in ("display_data", "execute_result") else None
            if isinstance(data, dict) and isinstance(data.get(MIME), str) and result.payload is None:
                if len(data[MIME]) <= MAX_PAYLOAD_BYTES:
                    result.payload = data[MIME]
                size -= len(data[MIME])   # the judge's result has its own cap
            result.output_bytes += size
            if kind == "error" and not (result.timed_out or result.too_much_output or result.too_large):
                result.ok = False
                result.ename, result.evalue = str(content.get("ename", ""))[:100], str(content.get("evalue", ""))[:500]
            if result.output_bytes > MAX_OUTPUT_BYTES and interrupted_at is None:
                result.ok, result.too_much_output = False, True
                self.km.interrupt_kernel()
                interrupted_at = time.monotonic()

    def _drain_shell(self):
        """Drop the replies of earlier requests (their content came on iopub)."""
        while True:
            try:
                self.kc.get_shell_msg(timeout=0)
            except Exception:
                return


def _get(msg, *keys):
    for key in keys:
        if not isinstance(msg, dict):
            return None
        msg = msg.get(key)
    return msg


def _size(content):
    """Bytes of text in a message's content (strings at any depth, bounded walk)."""
    total, stack, seen = 0, [content], 0
    while stack and seen < 100_000:
        item = stack.pop()
        seen += 1
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return total
