"""A sandboxed Jupyter kernel the grader talks to directly (jupyter_client, no nbclient):
run code under a timeout, keep only errors and judge results, discard printed output."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from queue import Empty

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from .judge import MIME, MAX_PAYLOAD_BYTES
from .sandbox import Limits, kernel_argv, probe_isolation, reserve_uid


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

    @property
    def error(self):
        if self.too_much_output:
            return f"stopped: printed more than {MAX_OUTPUT_BYTES >> 20} MB"
        if self.died:
            return "the kernel died (it crashed, exited or ran out of memory)"
        if self.timed_out:
            return "timed out"
        return f"{self.ename}: {self.evalue}".strip(": ") if not self.ok else None


MAX_OUTPUT_BYTES = 8 << 20   # printed output per cell; it is counted and discarded, never stored


class _SpecManager(KernelSpecManager):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self._spec = spec

    def get_kernel_spec(self, kernel_name):
        return self._spec


class KernelSession:
    """One sandboxed kernel in a fresh temporary directory. Use as a context manager."""

    def __init__(self, limits=None, hide_paths=(), isolation=None, start_timeout=60):
        self.limits = limits or Limits()
        self.isolation = isolation or probe_isolation()
        self.hide_paths = [os.path.realpath(p) for p in hide_paths]
        self.start_timeout = start_timeout
        self.km = self.kc = None
        self.uid = self.uid_lock = None

    def __enter__(self):
        if self.isolation.user.startswith("a user id"):
            self.uid, self.uid_lock = reserve_uid()
        self.root = tempfile.mkdtemp(prefix="nnlearn-grade-")
        self.workdir = os.path.join(self.root, "work")
        self.kernel_dir = os.path.join(self.root, "kernel")
        os.chmod(self.root, 0o711)
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.uid_lock is not None:
            self.uid_lock.close()

    def _fresh_dirs(self):
        for path in (self.workdir, self.kernel_dir):
            shutil.rmtree(path, ignore_errors=True)
            os.mkdir(path, 0o700)
            if self.uid is not None:
                os.chown(path, self.uid, self.uid)

    def hideable(self):
        """The folders to hide, minus any that hold what the kernel needs to run."""
        needed = [self.root, sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
        needed += [p for p in sys.path if p and os.path.isdir(p)]
        needed = [os.path.realpath(p) for p in needed]
        return [h for h in self.hide_paths
                if h != "/" and not any(n == h or n.startswith(h.rstrip(os.sep) + os.sep) for n in needed)]

    def start(self):
        self._fresh_dirs()
        argv = kernel_argv(sys.executable, self.workdir, self.limits, self.isolation, self.hideable(), self.uid)
        spec = KernelSpec(argv=argv, display_name="nnlearn sandbox", language="python")
        self.km = KernelManager(kernel_name="nnlearn-sandbox", kernel_spec_manager=_SpecManager(spec),
                                transport="ipc", ip=os.path.join(self.kernel_dir, "ipc"),
                                connection_file=os.path.join(self.kernel_dir, "connection.json"))
        self.km.start_kernel(cwd=self.workdir, env=self._kernel_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.uid is not None:
            os.chown(self.km.connection_file, self.uid, self.uid)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=self.start_timeout)

    def _kernel_env(self):
        keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT", "TZ")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(HOME=self.workdir, TMPDIR=self.workdir, PYTHONNOUSERSITE="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        return env

    def stop(self):
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
            self._kill_leftovers()
        self.km = self.kc = None

    def _kill_leftovers(self):
        """Processes the student forked that outlived the kernel (only with a user id of its own)."""
        if self.uid is None:
            return
        import signal
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if os.stat(f"/proc/{pid}").st_uid == self.uid:
                        os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass

    def restart(self):
        self.stop()
        self.start()

    def run(self, code, timeout):
        """Execute code; return a CellResult. Never raises for anything the code does."""
        if self.km is None or not self.km.is_alive():
            return CellResult(ok=False, died=True)
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
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                if not self.km.is_alive():
                    result.ok, result.died = False, True
                    return result
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return result
            if kind == "error" and not (result.timed_out or result.too_much_output):
                result.ok, result.ename, result.evalue = False, content["ename"], str(content["evalue"])[:500]
            elif kind == "stream":
                result.output_bytes += len(content.get("text", ""))
                if result.output_bytes > MAX_OUTPUT_BYTES and interrupted_at is None:
                    result.ok, result.too_much_output = False, True
                    self.km.interrupt_kernel()
                    interrupted_at = time.monotonic()
            elif kind in ("display_data", "execute_result"):
                data = content.get("data", {})
                if MIME in data and result.payload is None and len(data[MIME]) <= MAX_PAYLOAD_BYTES:
                    result.payload = data[MIME]
