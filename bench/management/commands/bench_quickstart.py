"""How long a newcomer waits between ``make run`` and the first page, and where the time goes.

Two measurements, both printed as a table of wall and CPU seconds per step (the machine may be
shared, so wall time alone says little; the CPU seconds of the step's processes are steadier):

- by default, in this checkout, the steps after the install on a new SQLite file in a temporary
  folder (its own ``MEDIA_ROOT`` too): ``migrate``, ``seed_demo`` and ``runserver`` until the
  first page answers, each run exactly as ``make run`` runs it;
- with ``--clone``, the whole thing: this checkout's committed ``HEAD`` cloned into a temporary
  folder and ``make run`` started there, its steps told apart by the commands make prints; the
  virtualenv and the runtime dependencies come from the package cache as they would on a
  newcomer's machine (warm if anything was installed before).

Python writes bytecode caches as it would for a newcomer: ``PYTHONDONTWRITEBYTECODE`` is dropped
from the steps' environment. The server is stopped (SIGINT, as Ctrl+C) once it answers.
"""

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# The lines ``make run`` prints before each step, in order: (pattern, step name).
MAKE_STEPS = [
    (re.compile(r"-m venv "), "virtualenv"),  # with uv and pip in it
    (re.compile(r"-r pyproject\.toml"), "dependencies"),
    (re.compile(r"manage\.py migrate"), "migrate"),
    (re.compile(r"manage\.py seed_demo"), "seed_demo"),
    (re.compile(r"manage\.py runserver"), "server start"),
]
FIRST_PAGE_SECONDS = 600  # give up on a server that never answers


@dataclass
class Step:
    name: str
    wall: float
    cpu: float | None  # seconds of user + system CPU of the step's processes, when known


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def group_cpu(pgid: int) -> float | None:
    """CPU seconds of a running process group: its live processes' own and those of the children
    they have reaped (Linux's /proc; None elsewhere). Read while the server still runs: once it is
    stopped, the autoreloader's child may be killed unreaped and its time lost."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in filter(str.isdigit, entries):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:  # pgrp; then utime, stime, cutime, cstime at 11-14
            total += sum(int(value) for value in fields[11:15])
    return total / tick


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_page(url: str, process: subprocess.Popen) -> None:
    """Poll until the page answers 200 (redirects followed): the first page a newcomer sees."""
    deadline = time.monotonic() + FIRST_PAGE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError(f"The server stopped (exit {process.returncode}) before {url}.")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise CommandError(f"No answer from {url} in {FIRST_PAGE_SECONDS} s.")


def stop(process: subprocess.Popen) -> None:
    """Ctrl+C to the whole process group (make, the server and its autoreloader), then wait,
    so that their CPU time is counted among this process's children."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def step_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    env.update(extra)
    return env


class Command(BaseCommand):
    help = "Time make run up to the first page: on a fresh database, or (--clone) a fresh clone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clone",
            action="store_true",
            help="clone this checkout's HEAD into a temporary folder and time `make run` there",
        )
        parser.add_argument(
            "--tasks",
            type=int,
            default=None,
            help="tasks per demo project (seed_demo --tasks; default: the demo's own)",
        )
        parser.add_argument(
            "--keep", action="store_true", help="leave the temporary folder (its path is printed)"
        )

    def handle(self, *args, **options) -> None:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            # Started in the background, this process ignores SIGINT, and its children would
            # inherit that and outlive stop(); with a handler here they start with the default.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        folder = Path(tempfile.mkdtemp(prefix="labelhub-quickstart-"))
        try:
            if options["clone"]:
                if options["tasks"] is not None:
                    raise CommandError(
                        "--tasks is for a fresh database; make run seeds the default."
                    )
                steps, total_cpu = self.from_clone(folder)
            else:
                steps = self.from_database(folder, tasks=options["tasks"])
                total_cpu = sum(step.cpu or 0.0 for step in steps)
        finally:
            if options["keep"]:
                self.stdout.write(f"Left in {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
        self.stdout.write(f"{'step':<14} {'wall s':>8} {'CPU s':>8}")
        for step in steps:
            cpu = f"{step.cpu:8.1f}" if step.cpu is not None else f"{'':>8}"
            self.stdout.write(f"{step.name:<14} {step.wall:8.1f} {cpu}")
        self.stdout.write(
            f"{'first page':<14} {sum(s.wall for s in steps):8.1f} {total_cpu:8.1f}  "
            f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the end)"
        )

    def from_database(self, folder: Path, *, tasks: int | None) -> list[Step]:
        """migrate, seed_demo and runserver in this checkout, on a new SQLite file."""
        env = step_environment(
            DEBUG="true",
            TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
            DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
            MEDIA_ROOT=str(folder / "media"),
        )
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        steps = []
        for name, command in [
            ("migrate", ["migrate", "--no-input"]),
            ("seed_demo", ["seed_demo", *([f"--tasks={tasks}"] if tasks else [])]),
        ]:
            cpu, began = children_cpu(), time.monotonic()
            done = subprocess.run(  # noqa: S603 - our own manage.py
                [*manage, *command], env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise CommandError(f"{name} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            steps.append(Step(name, time.monotonic() - began, children_cpu() - cpu))
        port = free_port()
        cpu, began = children_cpu(), time.monotonic()
        server = subprocess.Popen(  # noqa: S603
            [*manage, "runserver", f"127.0.0.1:{port}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_page(f"http://127.0.0.1:{port}/", server)
            wall = time.monotonic() - began
            server_cpu = group_cpu(server.pid)
        finally:
            stop(server)
        if server_cpu is None:
            server_cpu = children_cpu() - cpu
        steps.append(Step("server start", wall, server_cpu))
        return steps

    def from_clone(self, folder: Path) -> tuple[list[Step], float]:
        """``make run`` in a fresh clone; a step lasts from its command's line to the next one's,
        the last until the first page answers. CPU is known for the whole run only (the total)."""
        source = Path(settings.BASE_DIR)
        clone = folder / "labelhub"
        port = free_port()
        env = step_environment()
        env.pop("DATABASE_URL", None)
        env.pop("VIRTUAL_ENV", None)
        began, cpu = time.monotonic(), children_cpu()
        head = subprocess.run(  # noqa: S603
            ["git", "-C", str(source), "rev-parse", "HEAD"],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for command in (
            ["clone", "--quiet", "--no-checkout", str(source), str(clone)],
            ["-C", str(clone), "checkout", "--quiet", head],
        ):
            subprocess.run(["git", *command], check=True, env=env)  # noqa: S603, S607
        marks = [("clone", began)]
        make = subprocess.Popen(  # noqa: S603
            ["make", "run", f"PORT={port}"],  # noqa: S607
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        output: list[str] = []

        def read() -> None:
            for line in make.stdout:
                output.append(line)
                for pattern, name in MAKE_STEPS:
                    if pattern.search(line) and name not in {m[0] for m in marks}:
                        marks.append((name, time.monotonic()))
                        break

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            wait_for_page(f"http://127.0.0.1:{port}/", make)
            answered = time.monotonic()
            make_cpu = group_cpu(make.pid)
        except CommandError as error:
            stop(make)
            raise CommandError(f"{error}\n{''.join(output)[-3000:]}") from error
        git_cpu = children_cpu() - cpu
        stop(make)
        if make_cpu is None:
            make_cpu = children_cpu() - cpu - git_cpu
        reader.join(timeout=5)
        steps = [
            Step(name, end - start, None)
            for (name, start), (_next, end) in zip(
                marks, [*marks[1:], ("first page", answered)], strict=True
            )
        ]
        return steps, git_cpu + make_cpu
