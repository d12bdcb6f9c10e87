"""How fast one sandbox runner proves: the start of an empty sandbox, and whole proofs of the
demo's three tasks (state checks, pytest, shell), one after another as one worker runs them."""

import json
import statistics
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from kinds.environment.demo import TASKS
from kinds.environment.kind import EnvironmentKind
from sandbox import runner
from sandbox.services import BwrapSandbox


class Command(BaseCommand):
    help = "Measure the sandbox: start-up of a run, time of a proof, proofs per minute per runner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rounds", type=int, default=5, help="proofs of each demo task")

    def handle(self, *args, **options) -> None:
        rounds = options["rounds"]
        starts = []
        with tempfile.TemporaryDirectory() as scratch:
            app = Path(scratch) / "app"
            app.mkdir()
            for _ in range(20):
                outcome = BwrapSandbox().run(
                    script="true", app=app, tests=None, logs=None, seconds=10
                )
                starts.append(outcome.seconds)
        kind = EnvironmentKind()
        schema = kind.clean_schema(kind.default_schema())
        proofs: dict[str, list[float]] = {}
        runs: dict[str, list[float]] = {}
        began = time.monotonic()
        done = 0
        for _ in range(rounds):
            for n, task in enumerate(TASKS):
                result = kind.clean_result(task, schema=schema, data={})
                started = time.monotonic()
                report = kind.prove(result, schema=schema, data={}, sandbox=BwrapSandbox())
                name = ("checks", "pytest", "shell")[n]
                proofs.setdefault(name, []).append(time.monotonic() - started)
                runs.setdefault(name, []).extend(run.seconds for run in report.runs)
                if not report.holds:
                    self.stderr.write(f"{name}: the proof did not hold: {report.reasons}")
                done += 1
        elapsed = time.monotonic() - began
        figures = {
            "bwrap": runner.BWRAP,
            "sandbox_start_ms_median": round(statistics.median(starts) * 1000, 1),
            "proof_seconds_median": {k: round(statistics.median(v), 3) for k, v in proofs.items()},
            "run_seconds_median": {k: round(statistics.median(v), 3) for k, v in runs.items()},
            "proofs_per_minute_one_runner": round(done / elapsed * 60, 1),
        }
        self.stdout.write(
            f"sandbox start (empty run, median of 20): {figures['sandbox_start_ms_median']} ms"
        )
        for name, seconds in figures["proof_seconds_median"].items():
            self.stdout.write(
                f"proof of the {name} task (3 runs): {seconds:.2f} s, "
                f"a run {figures['run_seconds_median'][name]:.2f} s (median)"
            )
        per_minute = figures["proofs_per_minute_one_runner"]
        self.stdout.write(f"one runner, one after another: {per_minute} proofs a minute")
        self.stdout.write(json.dumps(figures))
