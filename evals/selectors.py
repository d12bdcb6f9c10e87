"""Reads of the evals app: the leaderboard, graded responses for export, judges' calibration."""

from collections.abc import Iterator
from itertools import combinations
from statistics import median

import numpy as np
from django.utils import timezone

from evals.models import Calibration, EvalItem, EvalRun, Judge, JudgeGrade, Response
from evals.services import people_verdicts, responses_settle
from kinds.rubric_eval import formats, metrics
from labelhub.models import Project


def _label(name: str, version: str) -> str:
    return f"{name} {version}".strip()


def leaderboard(*, project: Project) -> dict:
    """Per model version: the mean score with its bootstrap 95% interval (over prompts), the
    same per tag, responses scored and waiting, cost and latency; then every pair of versions
    with the paired-bootstrap difference of their means on the prompts both answered, and
    whether they can be told apart (the interval leaves out 0). Settles stale responses first.
    """
    responses_settle(project=project)
    rows = Response.objects.filter(project=project).values_list(
        "model_name",
        "version",
        "item_id",
        "score",
        "tag_scores",
        "cost",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
    )
    groups: dict[tuple[str, str], list] = {}
    for row in rows.iterator(chunk_size=5000):
        groups.setdefault((row[0], row[1]), []).append(row)
    entries, scored_by = [], {}
    tags: set[str] = set()
    for (name, version), members in groups.items():
        scored = [(r[2], r[3]) for r in members if r[3] is not None]
        scored_by[(name, version)] = dict(scored)
        mean = metrics.bootstrap_mean([s for _, s in scored])
        per_tag: dict[str, list[float]] = {}
        for r in members:
            for tag, value in (r[4] or {}).items():
                per_tag.setdefault(tag, []).append(value)
        tags |= set(per_tag)
        latencies = [r[6] for r in members if r[6] is not None]
        costs = [r[5] for r in members if r[5] is not None]
        tokens = [(r[7] or 0) + (r[8] or 0) for r in members if r[7] is not None]
        entries.append(
            {
                "model": name,
                "version": version,
                "label": _label(name, version),
                "responses": len(members),
                "scored": len(scored),
                "score": mean.as_dict() if scored else None,
                "tags": {
                    tag: {**metrics.bootstrap_mean(values).as_dict(), "n": len(values)}
                    for tag, values in sorted(per_tag.items())
                },
                "cost": sum(costs) if costs else None,
                "cost_per_response": sum(costs) / len(costs) if costs else None,
                "latency_ms": {
                    "median": median(latencies),
                    "p95": float(np.percentile(latencies, 95)),
                }
                if latencies
                else None,
                "tokens_per_response": sum(tokens) / len(tokens) if tokens else None,
            }
        )
    entries.sort(key=lambda e: (-(e["score"] or {}).get("value", -1), e["label"]))
    for rank, entry in enumerate(entries, start=1):
        entry["rank"] = rank
    pairs = []
    for first, second in combinations(entries, 2):
        a = scored_by[(first["model"], first["version"])]
        b = scored_by[(second["model"], second["version"])]
        common = sorted(set(a) & set(b))
        if not common:
            continue
        diff = metrics.paired_difference([a[i] for i in common], [b[i] for i in common])
        pairs.append(
            {
                "first": first["label"],
                "second": second["label"],
                "prompts": len(common),
                "difference": diff.as_dict(),
                "distinguishable": diff.low > 0 or diff.high < 0,
            }
        )
    return {
        "project": project.pk,
        "computed_at": timezone.now().isoformat(),
        "prompts": EvalItem.objects.filter(project=project).count(),
        "tags": sorted(tags),
        "models": entries,
        "pairs": pairs,
        "method": (
            "score = points of met criteria / sum of positive points, clipped to [0, 1]; "
            f"95% percentile bootstrap, {metrics.RESAMPLES} resamples of prompts, seed "
            f"{metrics.SEED}; pairs: paired bootstrap over prompts both versions answered"
        ),
    }


def graded_records(*, project: Project) -> Iterator[formats.GradedResponse]:
    """Every response with its final verdicts, the people's and each judge version's."""
    responses_settle(project=project)
    people = people_verdicts(project=project)
    judges: dict[int, dict[str, dict]] = {}
    for response_id, judge, number, verdicts in JudgeGrade.objects.filter(
        response__project=project, error=""
    ).values_list("response_id", "judge_version__judge__name", "judge_version__number", "verdicts"):
        judges.setdefault(response_id, {})[f"{judge} v{number}"] = verdicts
    for response in (
        Response.objects.filter(project=project).select_related("item").iterator(chunk_size=2000)
    ):
        item = response.item
        yield formats.GradedResponse(
            prompt=formats.EvalPrompt(
                key=item.key, prompt=item.prompt, rubric=item.rubric, example_tags=item.example_tags
            ),
            model=response.model_name,
            version=response.version,
            response=response.text,
            score=response.score,
            verdicts=response.verdicts,
            people=people.get(response.pk),
            judges=judges.get(response.pk, {}),
            tokens=(response.prompt_tokens or 0) + (response.completion_tokens or 0)
            if response.prompt_tokens is not None
            else None,
            latency_ms=response.latency_ms,
            cost=response.cost,
        )


def eval_prompts(*, project: Project) -> Iterator[formats.EvalPrompt]:
    for item in EvalItem.objects.filter(project=project).iterator(chunk_size=2000):
        yield formats.EvalPrompt(
            key=item.key, prompt=item.prompt, rubric=item.rubric, example_tags=item.example_tags
        )


def judge_summary(*, judge: Judge) -> dict:
    """A judge for its page and the API: its current version and template, its latest
    calibration (overall and per tag, worst tag first), grades and cost."""
    version = judge.versions.order_by("-number").first()
    calibration: Calibration | None = version.calibrations.first() if version else None
    grades = JudgeGrade.objects.filter(judge_version=version)
    per_tag = []
    if calibration:
        per_tag = sorted(
            ({"tag": tag, **found} for tag, found in calibration.per_tag.items()),
            key=lambda t: (t["macro_f1"]["value"], t["tag"]),
        )
    return {
        "id": judge.pk,
        "name": judge.name,
        "base_url": judge.base_url,
        "model": judge.model,
        "has_api_key": bool(judge.api_key),
        "status": judge.status,
        "stop_reason": judge.stop_reason,
        "bar": judge.bar,
        "min_items": judge.min_items,
        "human_share": judge.human_share,
        "concurrency": judge.concurrency,
        "requests_per_minute": judge.requests_per_minute,
        "timeout_seconds": judge.timeout_seconds,
        "max_retries": judge.max_retries,
        "price_input": judge.price_input,
        "price_output": judge.price_output,
        "version": version.number if version else None,
        "template": version.template if version else "",
        "versions": [
            {"number": v.number, "created_at": v.created_at} for v in judge.versions.all()
        ],
        "graded": grades.filter(error="").count(),
        "unreadable": grades.exclude(error="").count(),
        "calibration": None
        if calibration is None
        else {
            "created_at": calibration.created_at,
            "items": calibration.items,
            "bar": calibration.bar,
            "min_items": calibration.min_items,
            "overall": calibration.overall,
            "per_tag": per_tag,
            "passing_tags": calibration.passing_tags,
            "worst_tag": calibration.worst_tag,
        },
    }


def run_summary(run: EvalRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "judge": str(run.judge_version) if run.judge_version_id else None,
        "models": [str(m) for m in run.eval_models.all()] if not run.judge_version_id else [],
        "total": run.total,
        "done": run.done,
        "failed": run.failed,
        "cost": run.cost,
        "errors": run.errors,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "seconds": run.seconds,
    }
