"""Load test over real HTTP: ``python manage.py loadtest [--users 100] [--seconds 120]``.

Builds a throwaway preference-ranking project (the bench's fast builder), starts gunicorn with
several workers on 127.0.0.1 only (the bench's server, stopped at the end or after
``--max-seconds``), and runs ``--users`` simulated contributors, one thread and one keep-alive
connection each, for ``--seconds`` (at most 600): each one asks for the next task, saves a draft,
saves it again, submits, and pauses ``--think`` seconds (jittered ±50 %) between actions, as a
person labelling quickly would. Prints requests per second, p50/p95/p99 per endpoint, and every
error (any status other than the expected ones, or a failed connection), then deletes the project.
"""

import json
import random
import threading
import time
from collections import Counter, defaultdict

from django.core.management.base import CommandError

from bench.management.commands.bench import RESULT, ApiConnection, summary
from bench.management.commands.bench import Command as Bench

EXPECTED = {"next": {200, 204}, "draft": {200}, "submit": {200, 201}}
MAX_SECONDS = 600
MAX_USERS = 500


class Command(Bench):
    help = "Load test: N simulated contributors doing next/draft/submit against gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=100)
        parser.add_argument("--seconds", type=float, default=120.0)
        parser.add_argument("--think", type=float, default=1.0, help="seconds between actions")
        parser.add_argument("--tasks", type=int, default=50_000)
        parser.add_argument("--workers", type=int, default=4)
        parser.add_argument("--threads", type=int, default=8, help="gunicorn threads/worker")
        parser.add_argument("--max-seconds", type=int, default=900, help="hard stop for the run")
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args, **options):
        users, seconds = options["users"], options["seconds"]
        if not 1 <= users <= MAX_USERS:
            raise CommandError(f"--users is between 1 and {MAX_USERS}.")
        if not 0 < seconds <= MAX_SECONDS:
            raise CommandError(f"--seconds is at most {MAX_SECONDS}.")
        options["max_seconds"] = min(options["max_seconds"], int(seconds) + 300)
        started = time.perf_counter()
        project, tokens = self.build_project(n=options["tasks"], overlap=1, people=users)
        self.stdout.write(
            f"built {options['tasks']:,} tasks and {users} contributors "
            f"in {time.perf_counter() - started:.1f} s"
        )
        try:
            with self.server(options) as port:
                self.warm_up(port=port, project_id=project.pk, token=tokens[0], options=options)
                latencies, errors, elapsed = self.run_load(
                    port=port,
                    project_id=project.pk,
                    tokens=tokens,
                    seconds=seconds,
                    think=options["think"],
                )
        finally:
            if not options["keep"]:
                self.delete_project(project)
        self.print_report(latencies, errors, elapsed, users=users, options=options)

    def warm_up(self, *, port: int, project_id: int, token: str, options) -> None:
        """Until every worker has booted and answered: reads of the project, in parallel, until a
        round is fast (the figures should not include gunicorn's start)."""
        path = f"/api/v1/projects/{project_id}/"
        width = options["workers"] * 2
        for _ in range(30):
            times: list[float] = []

            def read(times=times) -> None:
                times.append(ApiConnection(port, token).call("GET", path, None)[2])

            threads = [threading.Thread(target=read) for _ in range(width)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if max(times) < 200:
                return

    def run_load(self, *, port: int, project_id: int, tokens: list[str], seconds, think):
        latencies: dict[str, list[float]] = defaultdict(list)
        errors: Counter = Counter()
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def pause() -> None:
            time.sleep(think * random.uniform(0.5, 1.5))  # noqa: S311 (jitter, not security)

        def record(endpoint: str, status: int, ms: float, body) -> bool:
            with lock:
                latencies[endpoint].append(ms)
                if status not in EXPECTED[endpoint]:
                    detail = (body or {}).get("code", "") if isinstance(body, dict) else ""
                    errors[f"{endpoint} {status or 'connection failed'} {detail}".strip()] += 1
                    return False
            return True

        def contributor(token: str) -> None:
            client = ApiConnection(port, token)
            time.sleep(random.uniform(0, think))  # noqa: S311 (staggered start)
            while time.monotonic() < stop_at:
                status, body, ms = client.call("POST", f"/api/v1/projects/{project_id}/next/", None)
                if not record("next", status, ms, body) or status == 204:
                    pause()
                    continue
                assignment = body["assignment"]["id"]
                version = body["assignment"]["version"]
                for _ in range(2):
                    pause()
                    status, body, ms = client.call(
                        "PUT",
                        f"/api/v1/assignments/{assignment}/draft/",
                        {"result": RESULT, "version": version},
                    )
                    if record("draft", status, ms, body):
                        version = body["version"]
                pause()
                status, body, ms = client.call(
                    "POST",
                    f"/api/v1/assignments/{assignment}/submit/",
                    {"result": RESULT, "active_seconds": 5},
                )
                record("submit", status, ms, body)
                pause()
            client.conn.close()

        threads = [threading.Thread(target=contributor, args=(t,), daemon=True) for t in tokens]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        return latencies, errors, time.perf_counter() - started

    def print_report(self, latencies, errors, elapsed, *, users, options) -> None:
        total = sum(len(v) for v in latencies.values())
        self.stdout.write(
            f"\n{users} contributors, {elapsed:.0f} s, think {options['think']} s, "
            f"gunicorn {options['workers']} workers × {options['threads']} threads"
        )
        self.stdout.write(f"{total:,} requests, {total / elapsed:.1f} requests/s")
        self.stdout.write(f"{'endpoint':<8} {'n':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8}")
        figures = {}
        for endpoint in ("next", "draft", "submit"):
            s = summary(latencies.get(endpoint, []))
            figures[endpoint] = {**s, "per_second": round(s["n"] / elapsed, 1)}
            self.stdout.write(
                f"{endpoint:<8} {s['n']:>7} {s['n'] / elapsed:>7.1f} {s['p50']:>8} {s['p95']:>8}"
            )
        self.stdout.write(f"errors: {sum(errors.values())}")
        for key, count in errors.most_common():
            self.stdout.write(f"  {count:>6}  {key}")
        self.stdout.write(
            json.dumps(
                {
                    "users": users,
                    "seconds": round(elapsed, 1),
                    "requests_per_second": round(total / elapsed, 1),
                    "endpoints": figures,
                    "errors": dict(errors),
                }
            )
        )
