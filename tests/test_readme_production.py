"""The documented production run works from a clean checkout with DEBUG off (issue #24, item 6).

Before: pages answered 500 until ``collectstatic`` had been run, and nothing said so. The
commands of the "Running it for real" block of docs/deployment.md (where the README sends whoever
runs LabelHub for real) run here as written, in a fresh copy of the repository's tracked files
(the virtualenv's tools stand in for the install step), against a SQLite file, with gunicorn on
loopback: the log-in page and the static files it names answer 200, first without
``collectstatic`` (WhiteNoise serves from the apps), then with it.
"""

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The README sends whoever runs it for real to docs/deployment.md, whose first block this is.
MANUAL = (ROOT / "docs" / "deployment.md").read_text()
SECTION = MANUAL.split("## Running it for real", 1)[1].split("\n## ", 1)[0]
COMMANDS = re.search(r"```sh\n(.*?)```", SECTION, re.S).group(1)
BIN = Path(sys.executable).parent


def _checkout(target: Path) -> None:
    files = subprocess.run(
        [shutil.which("git") or "git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())


def _commands() -> list[list[str]]:
    """The block's commands, one per line (comments dropped, ``export`` lines read as the
    environment), with the virtualenv's ``.venv/bin/`` being this interpreter's."""
    steps = []
    for line in COMMANDS.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "export ", "python -m venv", ".venv/bin/pip")):
            continue
        steps.append([part.replace(".venv/bin/", f"{BIN}/") for part in shlex.split(line)])
    return steps


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def _serve_and_check(folder: Path, steps: list[list[str]]) -> None:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "DEBUG", "TEST_"))
    } | {
        "DEBUG": "false",
        "SECRET_KEY": "readme-production-test-key-of-enough-length-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "PYTHONPATH": str(folder),
    }
    server = None
    try:
        for step in steps:
            if step[0].endswith("gunicorn"):
                at = step.index("--bind") + 1
                step = [*step[:at], f"127.0.0.1:{port}", *step[at + 1 :]]
                server = subprocess.Popen(step, cwd=folder, env=env, start_new_session=True)
                continue
            if "db_worker" in step:
                continue  # a worker beside the server: not needed to serve pages
            subprocess.run(step, cwd=folder, env=env, check=True, capture_output=True, timeout=600)
        assert server is not None, "the block starts no gunicorn"
        deadline = time.monotonic() + 60
        status, page = 0, ""
        while time.monotonic() < deadline:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/accounts/login/")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
        assert assets, "the page names no static file"
        for asset in assets:
            assert _get(f"http://127.0.0.1:{port}{asset}")[0] == 200, asset
    finally:
        if server is not None:
            os.killpg(server.pid, 15)
            server.wait(timeout=20)


def test_the_readmes_production_commands_serve_pages_with_debug_off(tmp_path):
    _checkout(tmp_path)
    steps = _commands()
    assert any("collectstatic" in step for step in steps)
    # Forgetting collectstatic serves pages all the same (from the apps' folders) …
    _serve_and_check(tmp_path, [step for step in steps if "collectstatic" not in step])
    # … and the block as written serves the collected, hashed files.
    _serve_and_check(tmp_path, steps)
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()
