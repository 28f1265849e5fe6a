"""The sandbox, tried as a hostile class would. Each attack runs in a real sandboxed kernel
(nnlearn.grading.kernel) and comes with a positive control: the same step shown to work where
the defence does not apply, so a test cannot pass because the attack never ran.

Under CI=true a missing sandbox (bubblewrap, root, cgroups) is a failure, never a skip.
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from nnlearn.grading import judge
from nnlearn.grading.kernel import MAX_OUTPUT_BYTES, KernelSession
from nnlearn.grading.sandbox import Isolation, Limits, probe_isolation

ROOT = Path(__file__).resolve().parents[1]
ISOLATION = probe_isolation()


def test_full_isolation_is_available_in_ci():
    if os.environ.get("CI") == "true":
        assert ISOLATION.full, f"CI must grade with full isolation: {ISOLATION.summary()}"
    elif not ISOLATION.full:
        pytest.skip(f"NOT TESTED HERE — this machine lacks full isolation: {ISOLATION.summary()}")


@pytest.fixture
def isolated():
    if not ISOLATION.full:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must grade with full isolation: {ISOLATION.summary()}")
        pytest.skip(f"NOT TESTED HERE — needs full isolation: {ISOLATION.summary()}")
    return ISOLATION


def value(session, expression, timeout=20):
    """Evaluate an expression in the kernel and bring the value back through the judge's wire."""
    result = session.run(f"_probe = {expression}", timeout)
    assert result.ok, result.error
    reply = session.run(judge.request_source("_probe", False), timeout)
    assert reply.ok and reply.payload, reply.error
    return judge.decode(reply.payload)


def host_uids(session):
    uids = set()
    for pid in session.host_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                uids.add(int(line.split()[1]))
    return uids


def test_fresh_unprivileged_host_uid_per_submission(isolated):
    seen = []
    for _ in range(2):
        with KernelSession() as session:
            uids = host_uids(session)                       # read from outside the sandbox
            assert len(uids) == 1 and 0 not in uids, uids
            assert value(session, "__import__('os').getuid()") != 0
            seen.append(uids.pop())
    assert seen[0] != seen[1]


def test_leftover_processes_die_with_the_submission(isolated):
    # A double-forked daemon in a new session keeps trying to write into the grader's folders.
    daemon = ("import os, time\n"
              "if os.fork() == 0:\n"
              "    os.setsid()\n"
              "    if os.fork() == 0:\n"
              "        while True:\n"
              "            for d in ('/tmp', os.environ.get('HOME', '/'), '/run'):\n"
              "                try: open(os.path.join(d, 'sitecustomize.py'), 'w').write('raise SystemExit')\n"
              "                except OSError: pass\n"
              "            time.sleep(0.05)\n"
              "    os._exit(0)\n")
    with KernelSession() as session:
        assert session.run(daemon, 10).ok
        time.sleep(0.5)
        uid, pids = session.uid, session.host_pids()
        assert len(pids) >= 4            # control: the daemon runs beside the kernel
    time.sleep(0.2)
    survivors = [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]
    assert survivors == []
    assert not Path("/tmp/sitecustomize.py").exists() and not Path("/run/sitecustomize.py").exists()


def _uid_of(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def test_launcher_never_imports_from_a_student_folder(isolated):
    with KernelSession() as session:
        argv = session.km.kernel_spec.argv
        assert argv[argv.index(sys.executable) + 1] == "-I"            # isolated mode: no cwd on sys.path
        kernel_dir = session.kernel_dir
        assert value(session, f"__import__('os').path.isdir({kernel_dir!r})")   # control: it sees the folder
        wrote = value(session, f"__import__('os').access({kernel_dir!r}, __import__('os').W_OK)")
        assert wrote is False                                          # but cannot write a module there
        st = os.stat(kernel_dir)
        assert st.st_uid == 0 and not st.st_mode & 0o022


def test_repository_git_and_solutions_are_invisible(isolated):
    assert (ROOT / "solutions" / "ch01_perceptron.ipynb").is_file()      # control: they exist on the host
    with KernelSession() as session:
        import nnlearn
        package = str(Path(nnlearn.__file__).parent)
        assert value(session, f"__import__('os').path.isdir({package!r})")   # control: the package is there
        for path in (ROOT / ".git", ROOT / "solutions", ROOT / "README.md", ROOT / "exercises"):
            assert value(session, f"__import__('os').path.exists({str(path)!r})") is False, path
        home = value(session, f"sorted(__import__('os').listdir({str(Path.home())!r}))")
        assert home in ([], [".pyenv"]), home     # only what bubblewrap made to reach a Python under it
        assert value(session, "__import__('os').access(__import__('nnlearn').__file__, __import__('os').W_OK)") \
            is False                                                # the package is read-only


def test_grader_processes_and_command_lines_are_invisible(isolated):
    marker = f"--output=/secret/grades-{uuid.uuid4().hex}"
    keeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        for _ in range(100):
            if Path(f"/proc/{keeper.pid}/cmdline").read_bytes().count(b"\0") > 2:
                break
            time.sleep(0.05)
        assert marker.encode() in Path(f"/proc/{keeper.pid}/cmdline").read_bytes()   # control
        with KernelSession() as session:
            cmdlines = value(session, "[open(f'/proc/{p}/cmdline', 'rb').read().decode(errors='replace') "
                                      "for p in __import__('os').listdir('/proc') if p.isdigit()]")
            assert cmdlines and not any(marker in c or "pytest" in c for c in cmdlines)
    finally:
        keeper.kill()


def test_tmp_and_shm_files_do_not_outlive_the_submission(isolated):
    name = f"nnlearn-leak-{uuid.uuid4().hex}"
    with KernelSession() as session:
        for folder in ("/tmp", "/dev/shm"):
            code = f"open('{folder}/{name}', 'w').write('x' * 1000)"
            assert session.run(code, 10).ok
            assert value(session, f"open('{folder}/{name}').read() == 'x' * 1000")   # control: it was written
    assert not Path("/tmp", name).exists() and not Path("/dev/shm", name).exists()


def test_host_unix_sockets_are_unreachable(isolated):
    folder = tempfile.mkdtemp(prefix="nnlearn-sock-")
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "service.sock")
    abstract = f"\0nnlearn-test-{uuid.uuid4().hex}"
    servers = []
    for address in (path, abstract):
        server = socket.socket(socket.AF_UNIX)
        server.bind(address)
        server.listen()
        servers.append(server)
    os.chmod(path, 0o777)
    try:
        for address in (path, abstract):                     # control: reachable from the host
            client = socket.socket(socket.AF_UNIX)
            client.connect(address)
            client.close()
        with KernelSession() as session:
            for address in (path, abstract):
                code = ("(lambda s: (s.settimeout(2), s.connect_ex(" + repr(address) + ")))"
                        "(__import__('socket').socket(__import__('socket').AF_UNIX))[1]")
                assert value(session, code) != 0, address
    finally:
        for server in servers:
            server.close()
        os.unlink(path)
        os.rmdir(folder)


def test_network_is_unreachable(isolated):
    with KernelSession() as session:
        code = ("[i['ifname'] if isinstance(i, dict) else i[1] for i in __import__('socket').if_nameindex()]")
        assert value(session, code) == ["lo"]                   # only a loopback of its own
        code = "__import__('socket').socket().connect_ex(('10.255.255.1', 80))"
        assert value(session, code) != 0


# Four children hold 300 MB of their own memory or 512 MB of files in /dev/shm each (1.6 GB in
# all): every one stays within a per-process limit of 1.5 GB, the submission does not.
CHILDREN = ("import os, time\n"
            "children = {}\n"
            "for i in range(4):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        try:\n"
            "            if i % 2:\n"
            "                for k in range(8):   # files of 64 MB: under the file-size limit\n"
            "                    open(f'/dev/shm/blob-{i}-{k}', 'wb').write(b'x' * (64 << 20))\n"
            "            else:\n"
            "                block = bytearray(b'x') * (300 << 20)\n"
            "            open(f'/tmp/held-{i}', 'w').close()\n"
            "            while not os.path.exists('/tmp/release'):\n"
            "                time.sleep(0.05)\n"
            "        finally:\n"
            "            os._exit(0)\n"
            "    children[i] = pid\n"
            "deadline = time.time() + 30\n"
            "while children and time.time() < deadline:\n"
            "    children = {i: p for i, p in children.items() if os.waitpid(p, os.WNOHANG)[0] == 0}\n"
            "    held = sum(os.path.exists(f'/tmp/held-{i}') for i in children)\n"
            "    if held == len(children):\n"
            "        break\n"
            "    time.sleep(0.05)\n"
            "open('/tmp/release', 'w').close()\n")


def test_memory_limit_holds_for_the_submission_not_each_process(isolated):
    limits = Limits(memory_mb=1536)
    partial = Isolation("bubblewrap", "own uid", "per process only (test control)")
    with KernelSession(limits, isolation=partial) as session:     # control: per-process limits let it all in
        assert session.run(CHILDREN, 40).ok
        assert value(session, "held") == 4
    with KernelSession(limits) as session:
        result = session.run(CHILDREN, 40)
        peak = session.cgroup.memory_peak()
        assert peak is None or peak <= 1536 << 20
        assert not (result.ok and value(session, "held") == 4)


def test_fork_bomb_is_contained(isolated):
    with KernelSession(Limits(processes=64)) as session:
        code = ("import os\nn = 0\nfor _ in range(10000):\n    try:\n        if os.fork() == 0:\n"
                "            __import__('time').sleep(30)\n            os._exit(0)\n        n += 1\n"
                "    except OSError:\n        break\n")
        assert session.run(code, 20).ok
        forked = value(session, "n")
        assert 10 < forked < 64               # control: forking works; the limit stops it
        assert len(session.host_pids()) <= 64


def test_huge_result_is_refused_without_bloating_the_grader(isolated):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with KernelSession() as session:
        small = value(session, "'x' * 1000")   # control: results come back
        assert small is not None
        code = (f"from IPython.display import display\n"
                f"display({{{judge.MIME!r}: 'x' * ({judge.MAX_PAYLOAD_BYTES} * 3)}}, raw=True)")
        result = session.run(code, 30)
        assert result.payload is None and result.too_large and not result.timed_out, result
        assert session.km is None                       # stopped: the caller restarts it
        session.restart()
        assert value(session, "1 + 1") == 2
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grew_mb < judge.MAX_PAYLOAD_BYTES * 2 / 2**20, grew_mb


def test_iopub_flood_is_stopped(isolated):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with KernelSession() as session:
        code = ("from IPython.display import display\nblob = 'y' * (4 << 20)\n"
                "for i in range(200):\n    display({'text/plain': blob}, raw=True)\n")
        result = session.run(code, 60)
        assert not result.ok and result.too_much_output, result.error
        assert result.output_bytes > MAX_OUTPUT_BYTES    # control: display data is counted
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grew_mb < 200, grew_mb


def test_replay_after_a_kernel_death_stays_within_the_submission_timeout(student, solution, tmp_path):
    from grading_helpers import answer_source, submit
    from nnlearn.grading.grade import grade_submission

    slow = "# Exercise 1.1: slow\nimport time\ntime.sleep(3)\n" + answer_source(solution, "1.1")
    dies = "# Exercise 1.2: dies\nimport os\nos._exit(1)\n"
    path = submit(student, solution, tmp_path, answered=["1.3", "1.4"], replace={"1.1": slow, "1.2": dies})
    roomy = grade_submission(path, ROOT / "solutions", total_timeout=60)
    by_id = {r.id: r for r in roomy.exercises}
    assert roomy.status == "kernel-died" and by_id["1.4"].passed     # control: the state was replayed
    assert roomy.seconds > 6                                          # ... which re-ran the slow cell
    tight = grade_submission(path, ROOT / "solutions", total_timeout=5)
    assert tight.seconds < 5 + 3, tight.seconds


def test_decoding_a_result_has_a_memory_bound():
    assert judge.decode(judge.encode([[1.5, 2]] * 1000)) == [[1.5, 2]] * 1000      # control: nested data decodes
    with pytest.raises(ValueError, match="more than"):
        judge.decode("[" + ",".join(["[]"] * (judge.MAX_CONTAINERS * 3)) + "]")
    with pytest.raises(ValueError, match="larger than"):
        judge.decode(" " * (judge.MAX_PAYLOAD_BYTES + 1))


def test_modules_written_by_the_student_are_not_importable(isolated):
    with KernelSession() as session:
        assert session.run("open('shadowmod.py', 'w').write('VALUE = 42')", 10).ok
        assert value(session, "open('shadowmod.py').read()") == "VALUE = 42"     # control: it is there
        result = session.run("import shadowmod", 10)
        assert not result.ok and result.ename == "ModuleNotFoundError", result
        assert "" not in value(session, "__import__('sys').path")


def test_python_under_tmp_stays_visible_in_the_sandbox(monkeypatch):
    # A checkout (and its venv) under /tmp, as CI may clone it: the private /tmp must be mounted
    # before the Python installation is bound, or it hides the interpreter.
    import nnlearn.grading.sandbox as sandbox

    monkeypatch.setattr(sandbox, "readable_roots", lambda: [Path("/tmp/checkout/.venv")])
    argv = sandbox.bwrap_argv("/tmp/kernel", ["python"])
    private_tmp = argv.index("/tmp", argv.index("--tmpfs"))
    venv = argv.index("/tmp/checkout/.venv")
    assert argv[venv - 2] == "--ro-bind" and private_tmp < venv
    assert argv.index("/tmp/kernel") > private_tmp
