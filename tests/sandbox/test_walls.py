"""The sandbox's walls, each proven by code that tries to climb it (run as root in CI, too)."""

import os
import shutil
import time
from pathlib import Path

import pytest

from sandbox import runner

pytestmark = pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed")

LIMITS = runner.Limits(seconds=5, memory_mb=256, processes=32, output_bytes=20_000)


def _run(tmp_path: Path, script: str, limits: runner.Limits = LIMITS) -> runner.Outcome:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "data.txt").write_text("mine\n")
    uid = runner.run_uid()
    runner.give_to(app, uid)
    return runner.run(
        script=script, binds=[runner.Bind(app, "/app", writable=True)], limits=limits, uid=uid
    )


def test_a_run_works_in_its_own_copy_of_the_files(tmp_path):
    outcome = _run(tmp_path, "cat data.txt && echo written > out.txt")
    assert outcome.ok, outcome.output
    assert outcome.output == "mine\n"
    assert (tmp_path / "app" / "out.txt").read_text() == "written\n"


def test_a_socket_finds_no_network(tmp_path):
    script = "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 80), timeout=3)'"
    outcome = _run(tmp_path, script)
    assert outcome.exit_code != 0
    assert outcome.stopped_by == "network"
    assert "Network is unreachable" in outcome.output
    assert "network" in outcome.reason


def test_files_outside_the_tree_are_not_there(tmp_path):
    project_dir = Path(__file__).resolve().parents[2]
    assert (project_dir / "manage.py").exists()
    outcome = _run(
        tmp_path, f"cat /etc/shadow; cat {project_dir}/manage.py; ls /root; cat ../data.txt"
    )
    assert outcome.exit_code != 0
    assert "/etc/shadow: No such file or directory" in outcome.output
    assert "manage.py: No such file or directory" in outcome.output
    assert "django" not in outcome.output.lower()


def test_the_system_is_read_only(tmp_path):
    outcome = _run(tmp_path, "touch /usr/bin/planted")
    assert outcome.exit_code != 0
    assert "Read-only file system" in outcome.output or "Permission denied" in outcome.output
    assert not os.path.exists("/usr/bin/planted")


def test_a_fork_bomb_is_stopped_and_says_why(tmp_path):
    script = "python3 -c 'import os\nwhile True:\n    os.fork()'"
    outcome = _run(tmp_path, script)
    assert outcome.stopped_by == "processes", outcome.output[-500:]
    assert "more than 32 processes" in outcome.reason
    assert outcome.seconds < LIMITS.seconds + 2


def test_filling_memory_fails_and_says_why(tmp_path):
    outcome = _run(tmp_path, "python3 -c 'blocks = [bytearray(50_000_000) for _ in range(40)]'")
    assert outcome.stopped_by == "memory"
    assert "out of memory (limit 256 MB)" in outcome.reason


def test_a_run_past_its_time_is_killed_with_everything_it_started(tmp_path):
    limits = runner.Limits(seconds=1.5, memory_mb=256, processes=32)
    outcome = _run(tmp_path, "(sleep 61.37 &) ; sleep 61.37", limits)
    assert outcome.stopped_by == "time"
    assert "time limit of 1.5 s" in outcome.reason
    assert outcome.seconds < 4
    assert _sleepers() == []  # gone by the time the run returns, not some time after


def test_a_stopped_run_writes_nothing_after_it_returns(tmp_path):
    """The proof copies and deletes a run's folder right after the run: a writer still dying
    there made a proof fail with no runs (seen once in CI, under load)."""
    limits = runner.Limits(seconds=1, memory_mb=256, processes=32)
    writers = "for w in 1 2 3 4; do (while :; do echo x > /app/f$w-$RANDOM; done) & done; wait"
    outcome = _run(tmp_path, writers, limits)
    assert outcome.stopped_by in ("time", "disk")
    files = sorted(os.listdir(tmp_path / "app"))
    time.sleep(0.5)
    assert sorted(os.listdir(tmp_path / "app")) == files
    assert _writers() == []


def _writers() -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit() and "f$w-$RANDOM" in _cmdline(p)]


def _sleepers() -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p) == "sleep\x0061.37\x00"]


def test_endless_output_is_cut_and_the_run_stopped(tmp_path):
    outcome = _run(tmp_path, "yes")
    assert outcome.stopped_by == "output"
    assert outcome.truncated
    assert len(outcome.output) <= LIMITS.output_bytes


def test_the_run_is_not_root(tmp_path):
    outcome = _run(tmp_path, "id -u")
    assert outcome.ok
    assert outcome.output.strip() != "0"


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def test_bubblewrap_is_what_runs_it():
    assert shutil.which("bwrap")


DISK = runner.Limits(seconds=20, memory_mb=256, processes=32, output_bytes=20_000, disk_mb=16)


def test_many_files_past_the_disk_limit_stop_the_run_and_say_why(tmp_path):
    """Each file under the per-file cap, together past the total: the runner's watch stops it
    long before the 40 files (80 MB) it tries to write, and says which wall."""
    script = (
        "for i in $(seq 1 40); do head -c 2000000 /dev/zero > part-$i.bin || exit 3; "
        "sleep 0.05; done; echo finished"
    )
    outcome = _run(tmp_path, script, DISK)
    assert outcome.stopped_by == "disk", outcome.output
    assert outcome.reason == "Stopped: disk limit of 16 MB reached (the files it wrote)."
    assert "finished" not in outcome.output
    written = runner.disk_used([tmp_path / "app"])
    assert written < 40 * 2_000_000 / 2, written  # stopped early, not after the flood


def test_a_burst_past_the_disk_limit_between_checks_is_still_refused(tmp_path):
    """Written faster than the watch looks: the check when the run ends still refuses it."""
    script = "for i in $(seq 1 12); do head -c 2000000 /dev/zero > part-$i.bin; done"
    outcome = _run(tmp_path, script, DISK)
    assert outcome.stopped_by == "disk", outcome.output
    assert "disk limit of 16 MB" in outcome.reason


def test_a_flood_of_empty_files_counts_against_the_disk(tmp_path):
    script = "mkdir flood && cd flood && for i in $(seq 1 6000); do : > f$i; done; echo finished"
    outcome = _run(tmp_path, script, DISK)
    assert outcome.stopped_by == "disk", outcome.output[-300:]


def test_tmp_is_a_tmpfs_of_the_disk_limit(tmp_path):
    outcome = _run(tmp_path, "head -c 20000000 /dev/zero > /tmp/big", DISK)
    assert outcome.stopped_by == "disk", outcome.output
    assert "No space left on device" in outcome.output
    shm = _run(tmp_path, "head -c 20000000 /dev/zero > /dev/shm/big", DISK)
    assert shm.exit_code != 0
    assert shm.stopped_by == "disk", shm.output


def test_a_run_within_the_disk_limit_is_untouched(tmp_path):
    outcome = _run(
        tmp_path, "head -c 3000000 /dev/zero > a.bin && head -c 3000000 /dev/zero > /tmp/b", DISK
    )
    assert outcome.ok, outcome.output
