"""Run code people wrote (verifiers, reference solutions) behind bubblewrap's walls.

Nothing here imports Django: the runner is a function from a script and some directories to an
:class:`Outcome`, so it can be measured, tested and moved to another machine on its own.

The walls, each enforced by the kernel, not by asking the code nicely:

- **no network**: ``--unshare-all`` gives the run its own network namespace with no interface
  up (a connect fails with "Network is unreachable"), its own PID, IPC, UTS and cgroup namespaces;
- **a read-only system**: ``/usr`` (and the ``/bin``, ``/lib`` links into it), the dynamic
  linker's cache and ``/etc/alternatives`` are bound read-only; the rest of the host — ``/etc``
  with its ``shadow``, ``/root``, ``/home``, the project's own directory, the database's socket —
  is simply not there. A fresh ``/tmp`` and ``/dev`` are private to the run;
- **a fresh writable copy of the task's files** only: the caller makes a new directory per run and
  binds it at ``/app`` (plus, read-only or writable, whatever else the run is given);
- **another user**: run as root (CI, containers), the run switches (``setpriv``, every
  capability dropped) to an unprivileged user id of its own, picked per run: process limits do
  not apply to root, and the run's files are that user's only. Run as another user, ``bwrap``
  makes a user namespace instead and the run keeps that user, without capabilities;
- **limits**: wall time (the whole process tree is killed after ``seconds``), address space
  (``RLIMIT_AS``), processes of the run's user (``RLIMIT_NPROC``), CPU seconds, the size of any
  file written (``RLIMIT_FSIZE``), open files, and the output kept (the run is stopped once it has
  written more than ``output_bytes``); ``--die-with-parent`` ends the run with its runner,
  ``--new-session`` keeps it off the runner's terminal;
- **disk**: ``disk_mb`` bounds what a run may write in all. ``/tmp`` and ``/dev/shm`` are tmpfs
  mounts of that size (``--size``: the kernel refuses a write past it, "No space left on
  device"); the writable binds (``/app``, the logs) live on the host's disk, where no
  unprivileged wall exists, so the runner watches them: it measures them every
  ``DISK_CHECK_SECONDS`` and once more when the run ends, and stops a run whose files take more
  than ``disk_mb`` (each file counted at least one block, so a flood of empty files counts).
  Between two checks a run can overshoot by what it writes in that time (each file at most
  ``file_mb``); the verdict is the same either way: stopped, "disk limit of N MB reached".

Python verifiers (pytest) run with the runner's own virtualenv and the interpreter it was made
from bound read-only, so ``python`` and ``pytest`` inside the sandbox are the ones LabelHub has.
"""

import contextlib
import json
import os
import random
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BWRAP = "bwrap"
SETPRIV = "/usr/bin/setpriv"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
DISK_CHECK_SECONDS = 0.2
BLOCK = 4096
# Per-run user ids when the runner is root: a wide range far from real accounts.
RUN_UID_LOW, RUN_UID_HIGH = 200_000, 299_999
_uid_dice = random.SystemRandom()


class SandboxUnavailable(RuntimeError):
    """bubblewrap is not installed, or cannot make namespaces on this machine."""


@dataclass(frozen=True)
class Limits:
    seconds: float = 30.0
    memory_mb: int = 512
    processes: int = 64
    output_bytes: int = 64_000
    file_mb: int = 20
    open_files: int = 256
    disk_mb: int = 100


@dataclass(frozen=True)
class Bind:
    """A directory of the host seen at ``target`` inside the run."""

    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a run ended. ``reason`` is empty for a clean exit, else why it was stopped or failed,
    in words (``stopped_by`` says which wall: ``time``, ``memory``, ``processes``, ``output``,
    ``network``, ``disk``, ``exit``)."""

    exit_code: int | None
    output: str
    seconds: float
    stopped_by: str = ""
    reason: str = ""
    truncated: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.stopped_by


def available() -> bool:
    return shutil.which(BWRAP) is not None


def _python_binds() -> list[str]:
    """The virtualenv and the interpreter it was made from (outside ``/usr``)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return sorted(p for p in paths if p and not p.startswith("/usr"))


def _namespaces(uid: int | None) -> list[str]:
    """Every namespace there is. As root no user namespace: the run's user is a real one (a
    user namespace made by root maps only root), switched to by ``setpriv`` inside."""
    if uid is None:
        return ["--unshare-all"]
    return [
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]


def _command(
    *, binds: list[Bind], workdir: str, uid: int | None, disk_mb: int = Limits.disk_mb
) -> list[str]:
    size = str(disk_mb * 1024 * 1024)
    args = [
        BWRAP,
        *_namespaces(uid),
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # /dev/shm and /tmp: private, empty, of at most disk_mb, writable by the run's user
        # (sticky, like the host's).
        "--perms",
        "1777",
        "--size",
        size,
        "--tmpfs",
        "/dev/shm",  # noqa: S108 - a path inside the run
        "--perms",
        "1777",
        "--size",
        size,
        "--tmpfs",
        "/tmp",  # noqa: S108 - a path inside the run
        "--dir",
        "/etc",
    ]
    for link in ("bin", "sbin", "lib", "lib32", "lib64"):
        if os.path.islink(f"/{link}"):
            args += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
        elif os.path.isdir(f"/{link}"):
            args += ["--ro-bind", f"/{link}", f"/{link}"]
    for etc in ("/etc/ld.so.cache", "/etc/alternatives"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    made: set[str] = {"/", "/usr", "/tmp", "/etc"}  # noqa: S108 - paths inside the run
    for python in _python_binds():
        parent = os.path.dirname(python)
        parents = []
        while parent not in made:
            parents.append(parent)
            made.add(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(parents):  # readable by the run's user, e.g. under /root
            args += ["--perms", "0755", "--dir", directory]
        args += ["--ro-bind", python, python]
        made.add(python)
    for bind in binds:
        parent, parents = os.path.dirname(bind.target), []
        while parent not in made:
            parents.append(parent)
            made.add(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(parents):  # bwrap would make them 0700, closed to the run
            args += ["--perms", "0755", "--dir", directory]
        args += ["--bind" if bind.writable else "--ro-bind", str(bind.source), bind.target]
    path = SANDBOX_PATH
    if sys.prefix != sys.base_prefix:
        path = f"{sys.prefix}/bin:{path}"
    args += [
        "--setenv", "PATH", path,
        "--setenv", "HOME", "/tmp",  # noqa: S108 - the run's private /tmp
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "PYTHONUNBUFFERED", "1",
        # pytest starts with no plugins of LabelHub's own environment (Django, Playwright).
        "--setenv", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1",
        "--chdir", workdir,
        "--",
    ]  # fmt: skip
    if uid is not None:
        args += [
            SETPRIV,
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
    return args


def _limits(limits: Limits, uid: int | None):
    """The child's last step before ``bwrap``: its limits, inherited by everything it starts.
    The process limit binds once ``setpriv`` has switched to the run's user (root is exempt)."""

    def apply() -> None:
        memory = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(limits.seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        size = limits.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        processes = limits.processes
        if uid is None:
            # Not root: the limit counts every process of this user, so it is set above what
            # they already run.
            processes += _processes_of(os.getuid())
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))

    return apply


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdecimal():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def run_uid() -> int | None:
    """A fresh unprivileged user id for one run when the runner is root, else ``None``."""
    if os.geteuid() != 0:
        return None
    return _uid_dice.randint(RUN_UID_LOW, RUN_UID_HIGH)


def give_to(path: Path, uid: int | None) -> None:
    """Make a tree the run's user's own (it writes there); a no-op when not root."""
    if uid is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid, follow_symlinks=False)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, uid, follow_symlinks=False)


def run(
    *,
    script: str,
    binds: list[Bind],
    limits: Limits,
    workdir: str = "/app",
    uid: int | None = None,
) -> Outcome:
    """Run ``script`` with ``bash`` in a new sandbox; wait at most ``limits.seconds``.

    ``uid`` is the run's user when the runner is root (:func:`run_uid`; writable binds must be
    theirs, :func:`give_to`). The output (stdout and stderr together) is kept up to
    ``limits.output_bytes``; more stops the run.
    """
    if not available():
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    # bwrap says on this pipe which host pid the run's PID namespace began with (its first
    # process), so that the run is seen to end in full (:func:`_wait_for_the_run_to_end`).
    info_read, info_write = os.pipe()
    bwrap, *walls = _command(binds=binds, workdir=workdir, uid=uid, disk_mb=limits.disk_mb)
    command = [bwrap, "--info-fd", str(info_write), *walls, "/bin/bash", "-c", script]
    written = [bind.source for bind in binds if bind.writable]
    started = time.monotonic()
    try:
        process = subprocess.Popen(  # noqa: S603 - the argument list is built above, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_limits(limits, uid),
            env={"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"},
            pass_fds=(info_write,),
        )
    finally:
        os.close(info_write)
    try:
        output, stopped_by = _collect(process, limits=limits, started=started, written=written)
        _wait_for_the_run_to_end(info_read)
    finally:
        os.close(info_read)
    elapsed = time.monotonic() - started
    if not stopped_by and _over_disk(written, limits=limits):
        stopped_by = "disk"  # what it wrote since the last check, seen once it ended
    text = output[: limits.output_bytes].decode("utf-8", errors="replace")
    code = process.returncode
    hit = _wall_hit(text, code)
    if not stopped_by or (stopped_by == "time" and hit in ("processes", "memory")):
        stopped_by = hit  # a fork bomb runs until its time is up: the processes are the cause
    return Outcome(
        exit_code=code,
        output=text,
        seconds=round(elapsed, 3),
        stopped_by=stopped_by,
        reason=_reason(stopped_by, code=code, limits=limits),
        truncated=len(output) > limits.output_bytes,
    )


def _wait_for_the_run_to_end(info_fd: int, *, timeout: float = 5.0) -> None:
    """Wait until every process of the run has ended, not only bwrap.

    Once bwrap is gone the kernel kills the rest of the run's PID namespace, but not at once: a
    stopped run's writer could still be adding files to ``/app`` while the proof copies or
    deletes that folder (a CI run saw a proof fail so, under load). The namespace's first
    process ends only after all the others have (the kernel waits for them), so its end, as a
    zombie or gone, is the run's end.
    """
    os.set_blocking(info_fd, False)
    try:
        pid = int(json.loads(os.read(info_fd, 4096) or b"{}").get("child-pid", 0))
    except (BlockingIOError, ValueError, AttributeError):
        return
    deadline = time.monotonic() + timeout
    while pid and time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                # "pid (name) S …": the state after the name, which may hold spaces or parens.
                if stat.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                    return
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return
        time.sleep(0.005)


def disk_used(roots: list[Path], *, stop_above: int | None = None) -> int:
    """Bytes the files under ``roots`` take: their allocated blocks (a sparse file counts what
    it holds), each file and directory at least one block, a hard-linked file once; links are
    not followed. Stops counting once past ``stop_above``."""
    total = 0
    seen: set[tuple[int, int]] = set()
    stack = [str(root) for root in roots]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except PermissionError:
            if not _open_to_runner(directory):
                continue
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += max(BLOCK, info.st_blocks * 512)
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
        if stop_above is not None and total > stop_above:
            break
    return total


def _open_to_runner(directory: str) -> bool:
    """A directory the run closed (``chmod 000``) is opened again for counting: its files are
    the runner's own when it is not root (as root every directory is readable anyway)."""
    try:
        os.chmod(directory, 0o700)
        os.scandir(directory).close()
    except OSError:
        return False
    return True


def _over_disk(written: list[Path], *, limits: Limits) -> bool:
    cap = limits.disk_mb * 1024 * 1024
    return bool(written) and disk_used(written, stop_above=cap) > cap


def _collect(
    process: subprocess.Popen, *, limits: Limits, started: float, written: list[Path] = ()
) -> tuple[bytes, str]:
    """Read the run's output until it ends, its time is up, it wrote too much output, or its
    files grew past the disk limit (measured every ``DISK_CHECK_SECONDS``)."""
    stdout = process.stdout
    if stdout is None:
        raise RuntimeError("The run's output is not piped.")
    chunks: list[bytes] = []
    size = 0
    stopped_by = ""
    deadline = started + limits.seconds
    next_check = started + DISK_CHECK_SECONDS
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                stopped_by = "time"
                break
            if written and now >= next_check:
                if _over_disk(list(written), limits=limits):
                    stopped_by = "disk"
                    break
                next_check = time.monotonic() + DISK_CHECK_SECONDS
            wait = min(left, 0.5, max(0.0, next_check - now)) if written else min(left, 0.5)
            if not selector.select(timeout=wait):
                if process.poll() is not None:
                    break
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limits.output_bytes:
                stopped_by = "output"
                break
    if stopped_by:
        _kill(process)
    try:
        process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        stopped_by = stopped_by or "time"
        _kill(process)
        process.wait()
    process.stdout.close()
    return b"".join(chunks), stopped_by


def _kill(process: subprocess.Popen) -> None:
    """Kill bwrap's process group. The run's own processes go with it: bwrap's child is the
    first process of the run's PID namespace and dies with bwrap (``--die-with-parent``), and
    the kernel ends a PID namespace's every process when its first one dies."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


FORK_FAILED = ("fork: retry", "fork: Resource temporarily unavailable", "BlockingIOError")
NO_MEMORY = ("MemoryError", "Cannot allocate memory", "xmalloc", "std::bad_alloc", "out of memory")
NO_NETWORK = ("Network is unreachable", "Temporary failure in name resolution", "Name or service")
NO_SPACE = ("No space left on device", "Disk quota exceeded")


def _wall_hit(output: str, code: int | None) -> str:
    """Which wall a run that ended on its own ran into, from what it said and how it ended."""
    if any(words in output for words in FORK_FAILED):
        return "processes"  # even when it exited 0: the kernel refused its forks
    if code == 0:
        return ""
    if code is not None and code < 0:
        if -code == signal.SIGXCPU:
            return "time"
        if -code == signal.SIGXFSZ:
            return "output"
    if any(words in output for words in NO_SPACE):
        return "disk"
    if any(words in output for words in NO_MEMORY):
        return "memory"
    if any(words in output for words in NO_NETWORK):
        return "network"
    return "exit"


def _reason(stopped_by: str, *, code: int | None, limits: Limits) -> str:
    return {
        "": "",
        "time": f"Stopped: ran past its time limit of {limits.seconds:g} s.",
        "output": f"Stopped: wrote more than the limit ({limits.output_bytes:,} bytes of output "
        f"or a file over {limits.file_mb} MB).",
        "processes": f"Stopped: tried to start more than {limits.processes} processes.",
        "memory": f"Failed: ran out of memory (limit {limits.memory_mb} MB).",
        "network": "Failed: tried to reach the network, which the sandbox does not have.",
        "disk": f"Stopped: disk limit of {limits.disk_mb} MB reached (the files it wrote).",
        "exit": f"Failed: exited with code {code}.",
    }[stopped_by]
