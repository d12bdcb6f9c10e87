"""How many scores, agreements and consensus computations per second each kind does.

``manage.py bench_metrics [--seconds 0.5]``: synthetic answers of typical sizes (20 boxes × 3
annotators, 4 responses × 5 annotators, 30-word transcripts × 3), single thread.
"""

import random
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand

from kinds.bbox.kind import BoundingBoxKind
from kinds.ranking.kind import RankingKind
from kinds.transcription.kind import TranscriptionKind

WORDS = "the a cat dog sat ran on under mat rug quickly slowly red blue big small it was".split()  # noqa: SIM905


def jitter(rng: random.Random, box: dict) -> dict:
    return {**box, **{k: box[k] + rng.uniform(-2, 2) for k in ("x", "y")}}


def box_answers(rng: random.Random, boxes: int, annotators: int) -> list[dict]:
    truth = [
        {"label": rng.choice(["car", "person"]), "x": rng.uniform(0, 900), "y": rng.uniform(0, 600),
         "w": rng.uniform(20, 80), "h": rng.uniform(20, 80)}
        for _ in range(boxes)
    ]  # fmt: skip
    return [
        {"boxes": [jitter(rng, b) for b in truth if rng.random() > 0.1]} for _ in range(annotators)
    ]


def transcripts(rng: random.Random, words: int, annotators: int) -> list[dict]:
    truth = [rng.choice(WORDS) for _ in range(words)]
    return [
        {"text": " ".join(w if rng.random() > 0.1 else rng.choice(WORDS) for w in truth)}
        for _ in range(annotators)
    ]


class Command(BaseCommand):
    help = "Print how many quality computations per second each task kind does."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")

    def rate(self, function: Callable[[], object], seconds: float) -> float:
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds or calls == 0:
            function()
            calls += 1
        return calls / elapsed

    def handle(self, *args, seconds: float, **options):
        rng = random.Random(1)  # noqa: S311 - synthetic benchmark data, not secrets
        bbox, ranking, transcription = BoundingBoxKind(), RankingKind(), TranscriptionKind()
        box_schema = {"labels": [{"name": "car"}, {"name": "person"}]}
        pairwise = {"mode": "pairwise", "strength_scale": 3, "criteria": ["helpful"]}
        rank = {**pairwise, "mode": "rank"}
        ids = ["a", "b", "c", "d"]
        data = {"responses": [{"id": i, "text": i} for i in ids]}
        preferences = [
            {"preference": rng.choice(["a", "b", "tie"]), "strength": 2,
             "criteria": {"helpful": rng.choice(["a", "b"])}}
            for _ in range(5)
        ]  # fmt: skip
        orders = [{"order": rng.sample(ids, 4), "criteria": {}} for _ in range(5)]
        boxes = box_answers(rng, 20, 3)
        texts = transcripts(rng, 30, 3)
        quality = {"iou_threshold": 0.5}
        cases = [
            ("bbox", "20 boxes × 3", bbox, box_schema, boxes, {}),
            ("ranking pairwise", "5 answers", ranking, pairwise, preferences, {"data": data}),
            ("ranking rank", "4 responses × 5", ranking, rank, orders, {"data": data}),
            ("transcription", "30 words × 3", transcription, {"normalisation": []}, texts, {}),
        ]
        self.stdout.write(
            f"{'kind':<18} {'size':<16} {'score/s':>10} {'agree/s':>10} {'consensus/s':>12}"
        )
        for name, size, kind, schema, answers, extra in cases:
            score = self.rate(
                lambda k=kind, s=schema, a=answers: k.score(a[0], a[1], schema=s, quality=quality),
                seconds,
            )
            agree = self.rate(
                lambda k=kind, s=schema, a=answers: k.agreement(a, schema=s, quality=quality),
                seconds,
            )
            consensus = self.rate(
                lambda k=kind, s=schema, a=answers, e=extra: k.consolidate(
                    a, schema=s, quality=quality, **e
                ),
                seconds,
            )
            self.stdout.write(
                f"{name:<18} {size:<16} {score:>10,.0f} {agree:>10,.0f} {consensus:>12,.0f}"
            )
