"""Measure the evals app: the leaderboard page at scale, and a judge's throughput.

``manage.py bench_evals`` builds, inside a transaction it rolls back at the end (the database is
left as it was), an eval set of ``--models`` model versions × ``--prompts`` prompts ×
``--criteria`` criteria with every response graded, and times the leaderboard page (the view
with its template, as a manager's browser asks for it). With ``--judge N`` it also starts a small
OpenAI-compatible server on 127.0.0.1 (answering every grader prompt after ``--latency`` ms) and
times a judge grading N responses at ``--concurrency`` calls at once, through the same run
machinery as production (address guard allowed for loopback, rate limit, retries, parsing).
"""

import json
import random
import re
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.utils import timezone

from evals import services, views
from evals.models import EvalItem, EvalRun, Judge, Response
from kinds.rubric_eval import metrics
from labelhub.models import Organization, Project, ProjectMember, Role

TAGS = ["axis:accuracy", "axis:completeness", "axis:communication", "axis:context_awareness",
        "theme:emergency", "theme:medication"]  # fmt: skip


class Rollback(Exception):
    pass


def judge_server(latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][-1]["content"]
            ids = re.findall(r"^(c\d+) \(", prompt, flags=re.M)
            time.sleep(latency)
            reply = json.dumps({"verdicts": {c: {"met": i % 2 == 0} for i, c in enumerate(ids)}})
            payload = json.dumps(
                {
                    "choices": [{"message": {"role": "assistant", "content": reply}}],
                    "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 40},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Command(BaseCommand):
    help = "Time the leaderboard at scale and a judge against a loopback server."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--models", type=int, default=10)
        parser.add_argument("--prompts", type=int, default=1000)
        parser.add_argument("--criteria", type=int, default=20)
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument("--judge", type=int, default=0, help="responses for the judge bench")
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--latency", type=float, default=50.0, help="server delay, ms")

    def handle(self, *args, **options) -> None:
        try:
            with transaction.atomic():
                self.bench(options)
                raise Rollback
        except Rollback:
            self.stdout.write("Rolled back: the database is as it was.")

    def bench(self, options) -> None:
        rng = random.Random(1)  # noqa: S311 (made-up grades, not a secret)
        org = Organization.objects.create(name="Bench", slug=f"bench-{time.time_ns()}")
        manager = get_user_model().objects.create(username=f"bench-{time.time_ns()}")
        project = Project.objects.create(
            organization=org, name="Bench eval set", kind="rubric_eval",
            schema={"mode": "grade", "evidence": "optional", "tags": []}, quality={"overlap": 1},
        )  # fmt: skip
        ProjectMember.objects.create(project=project, user=manager, role=Role.MANAGER)
        started = time.monotonic()
        items = EvalItem.objects.bulk_create(
            [
                EvalItem(
                    project=project,
                    key=f"p{i}",
                    prompt=[{"role": "user", "content": f"Question {i}?"}],
                    rubric=[
                        {
                            "id": f"c{j + 1}",
                            "criterion": f"Criterion {j + 1} of prompt {i}",
                            "points": rng.choice([-6, -3, 2, 4, 5, 8, 10]),
                            "tags": [TAGS[j % 4], TAGS[4 + (j + i) % 2]],
                        }
                        for j in range(options["criteria"])
                    ],
                )
                for i in range(options["prompts"])
            ],
            batch_size=1000,
        )
        now = timezone.now()
        rows = []
        for m in range(options["models"]):
            skill = 0.35 + 0.05 * m
            for item in items:
                met = {c["id"]: (rng.random() < skill) == (c["points"] > 0) for c in item.rubric}
                rows.append(
                    Response(
                        project=project,
                        item=item,
                        model_name=f"model-{m}",
                        version="v1",
                        text=f"Answer {m} to {item.key}",
                        prompt_tokens=200,
                        completion_tokens=300,
                        latency_ms=rng.randint(300, 3000),
                        cost=0.001,
                        route="people",
                        verdicts={c: {"met": v} for c, v in met.items()},
                        score=metrics.response_score(item.rubric, met),
                        tag_scores=metrics.tag_scores(item.rubric, met),
                        stale=False,
                        settled_at=now,
                    )
                )
        Response.objects.bulk_create(rows, batch_size=2000)
        self.stdout.write(
            f"Built {options['models']} models × {options['prompts']} prompts × "
            f"{options['criteria']} criteria ({len(rows)} graded responses) in "
            f"{time.monotonic() - started:.1f} s."
        )
        request = RequestFactory().get(f"/projects/{project.pk}/evals/leaderboard/")
        request.user = manager
        times = []
        for _ in range(options["repeat"]):
            began = time.monotonic()
            page = views.leaderboard(request, project_id=project.pk)
            if page.status_code != 200:
                raise CommandError(f"The leaderboard answered {page.status_code}.")
            times.append(time.monotonic() - began)
        self.stdout.write(
            f"Leaderboard page: median {statistics.median(times) * 1000:.0f} ms, "
            f"each {', '.join(f'{t * 1000:.0f}' for t in times)} ms "
            f"({len(page.content) // 1024} KB of HTML)."
        )
        # After a calibration every response is stale: the next page settles all of them.
        Response.objects.filter(project=project).update(stale=True)
        began = time.monotonic()
        page = views.leaderboard(request, project_id=project.pk)
        self.stdout.write(
            f"Leaderboard page with every response to settle again (as after a calibration): "
            f"{(time.monotonic() - began) * 1000:.0f} ms."
        )
        if options["judge"]:
            self.bench_judge(project, manager, options)

    def bench_judge(self, project: Project, manager, options) -> None:
        server = judge_server(options["latency"] / 1000)
        try:
            with override_settings(LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES=True):
                judge = services.judge_save(
                    project=project, actor=manager,
                    values={"name": "bench judge", "model": "judge",
                            "base_url": f"http://127.0.0.1:{server.server_address[1]}/v1",
                            "concurrency": options["concurrency"],
                            "requests_per_minute": 100_000, "max_retries": 0},
                )  # fmt: skip
                keep = list(
                    Response.objects.filter(project=project)
                    .order_by("pk")
                    .values_list("pk", flat=True)[: options["judge"]]
                )
                Response.objects.filter(project=project).exclude(pk__in=keep).delete()
                run = EvalRun.objects.create(
                    project=project, judge_version=services.judge_current_version(judge=judge)
                )
                began = time.monotonic()
                run = services.run_execute(run_id=run.pk)
                seconds = time.monotonic() - began
        finally:
            server.shutdown()
            server.server_close()
        Judge.objects.filter(pk=judge.pk).delete()
        self.stdout.write(
            f"Judge: {run.done} responses graded ({run.failed} failed) in {seconds:.1f} s = "
            f"{run.done / seconds:.1f} responses/s at {options['concurrency']} at once, "
            f"{options['latency']:.0f} ms server latency, "
            f"{options['criteria']} criteria each (parse, store and route included; "
            "nothing to calibrate on: the bench has no people's grades)."
        )
