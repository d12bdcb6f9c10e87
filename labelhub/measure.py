"""Small measuring tools shared by the bench commands: percentiles, and CPU time by process.

CPU time is read from ``/proc`` (Linux): the seconds a set of processes spent on a core, so
that a figure can be given per core (cycles per second of one busy core) and per request (ms of
PostgreSQL CPU per cycle), which is what capacity planning needs. Elsewhere it reads ``None``.
"""

import os
import statistics
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def summary(values: list[float]) -> dict:
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "p99": round(percentile(values, 99), 2),
        "mean": round(statistics.fmean(values), 2) if values else None,
        "n": len(values),
    }


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds of the process and its reaped children)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14–17.
    ticks = sum(int(value) for value in fields[11:15])
    return name, int(fields[1]), ticks / TICKS


def _all() -> dict[int, tuple[str, int, float]]:
    found = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                found[int(entry.name)] = stat
    return found


def cpu_seconds_of_tree(root_pid: int) -> float | None:
    """CPU seconds of a process and every live descendant (gunicorn's master and workers)."""
    table = _all()
    if root_pid not in table:
        return None
    total, frontier = 0.0, [root_pid]
    while frontier:
        pid = frontier.pop()
        total += table[pid][2]
        frontier.extend(child for child, (_, parent, _) in table.items() if parent == pid)
    return total


def cpu_seconds_named(name: str) -> float | None:
    """CPU seconds of every process called ``name`` (all of PostgreSQL's server processes).

    Backends that ended meanwhile are counted through their parent's reaped-children time.
    """
    table = _all()
    if not table:
        return None
    return sum(cpu for command, _, cpu in table.values() if command == name)
