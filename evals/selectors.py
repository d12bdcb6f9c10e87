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
    same per criterion tag and per theme (the prompts' example tags), responses and how many
    are scored, cost and latency; then every pair of versions
    with the paired-bootstrap difference of their means on the prompts both answered, and
    whether they can be told apart (the interval leaves out 0). Settles stale responses first.

    One set of resamples of the prompts serves every number (a version, a tag, a pair), so the
    whole board is a few matrix products: 10 versions × 1,000 prompts take milliseconds.
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
    prompt_index: dict[int, int] = {}
    for row in rows.iterator(chunk_size=5000):
        groups.setdefault((row[0], row[1]), []).append(row)
        if row[3] is not None:
            prompt_index.setdefault(row[2], len(prompt_index))
    keys = list(groups)
    n = len(prompt_index)
    scores = np.full((n, len(keys)), np.nan)
    tags: set[str] = set()
    for column, key in enumerate(keys):
        for r in groups[key]:
            if r[3] is not None:
                scores[prompt_index[r[2]], column] = r[3]
                tags |= set(r[4] or {})
    tag_list = sorted(tags)
    weights = metrics.resample_weights(n) if n else np.zeros((metrics.RESAMPLES, 0))
    means = metrics.bootstrap_columns(scores, weights) if n else []
    tag_at = {tag: t for t, tag in enumerate(tag_list)}
    width = len(tag_list)
    per_tag = np.full((n, len(keys) * width), np.nan)  # each version's tags side by side
    for column, key in enumerate(keys):
        for r in groups[key]:
            for tag, value in (r[4] or {}).items():
                per_tag[prompt_index[r[2]], column * width + tag_at[tag]] = value
    tag_intervals = metrics.bootstrap_columns(per_tag, weights) if n and width else []
    tag_counts = (~np.isnan(per_tag)).sum(axis=0)
    # Per theme (the prompts' example tags, HealthBench's ``theme:…``): each version's mean of
    # whole-response scores over the prompts that carry it, on the same resamples.
    themes_of = {
        prompt_index[pk]: tags
        for pk, tags in EvalItem.objects.filter(project=project).values_list("pk", "example_tags")
        if pk in prompt_index and tags
    }
    theme_list = sorted({t for tags in themes_of.values() for t in tags})
    theme_at = {theme: t for t, theme in enumerate(theme_list)}
    theme_width = len(theme_list)
    per_theme = np.full((n, len(keys) * theme_width), np.nan)
    for row, tags in themes_of.items():
        for theme in tags:
            per_theme[row, theme_at[theme] :: theme_width] = scores[row, :]
    theme_intervals = metrics.bootstrap_columns(per_theme, weights) if n and theme_width else []
    theme_counts = (~np.isnan(per_theme)).sum(axis=0)
    entries = []
    for column, (name, version) in enumerate(keys):
        members = groups[(name, version)]
        scored = sum(1 for r in members if r[3] is not None)
        at = column * width
        latencies = [r[6] for r in members if r[6] is not None]
        costs = [r[5] for r in members if r[5] is not None]
        tokens = [(r[7] or 0) + (r[8] or 0) for r in members if r[7] is not None]
        entries.append(
            {
                "model": name,
                "version": version,
                "label": _label(name, version),
                "responses": len(members),
                "scored": scored,
                "score": means[column].as_dict() if scored else None,
                "tags": {
                    tag: {**tag_intervals[at + t].as_dict(), "n": int(tag_counts[at + t])}
                    for t, tag in enumerate(tag_list)
                    if tag_counts[at + t]
                },
                "themes": {
                    theme: {
                        **theme_intervals[column * theme_width + t].as_dict(),
                        "n": int(theme_counts[column * theme_width + t]),
                    }
                    for t, theme in enumerate(theme_list)
                    if theme_counts[column * theme_width + t]
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
                "_column": column,
            }
        )
    entries.sort(key=lambda e: (-(e["score"] or {}).get("value", -1), e["label"]))
    for rank, entry in enumerate(entries, start=1):
        entry["rank"] = rank
    pairs, columns = [], []
    for first, second in combinations(entries, 2):
        diff = scores[:, first["_column"]] - scores[:, second["_column"]]
        both = int((~np.isnan(diff)).sum())
        if both:
            pairs.append((first, second, both))
            columns.append(diff)
    if columns:
        differences = metrics.bootstrap_columns(np.stack(columns, axis=1), weights)
    pair_rows = []
    for (first, second, both), diff in zip(pairs, differences if columns else [], strict=True):
        pair_rows.append(
            {
                "first": first["label"],
                "second": second["label"],
                "prompts": both,
                "difference": diff.as_dict(),
                "distinguishable": diff.low > 0 or diff.high < 0,
            }
        )
    for entry in entries:
        del entry["_column"]
    return {
        "project": project.pk,
        "computed_at": timezone.now().isoformat(),
        "prompts": EvalItem.objects.filter(project=project).count(),
        "tags": tag_list,
        "themes": theme_list,
        "models": entries,
        "pairs": pair_rows,
        "method": (
            "score = points of met criteria / sum of positive points, clipped to [0, 1]; "
            f"95% percentile bootstrap, {metrics.RESAMPLES} resamples of the prompts (seed "
            f"{metrics.SEED}), the same resamples for every version, tag and pair; a pair's "
            "difference is taken on the prompts both versions answered (paired bootstrap); "
            "a theme's mean is over the prompts whose example tags hold it. Each interval is "
            "95% on its own: with many versions, tags or pairs some will leave out 0 by chance "
            f"({len(pair_rows)} pairs here; no correction for multiple comparisons is made, "
            "so read a single 'told apart' among many pairs with care)"
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
    """A judge for its page and the API: its current version and template, every version's
    template, its latest calibration (overall, per tag and per theme, worst first) and how many
    responses it graded."""
    version = judge.versions.order_by("-number").first()
    calibration: Calibration | None = version.calibrations.first() if version else None
    grades = JudgeGrade.objects.filter(judge_version=version)
    per_tag, per_theme = [], []
    if calibration:
        per_tag, per_theme = (
            sorted(
                ({"tag": tag, **found} for tag, found in rows.items()),
                key=lambda t: (t["macro_f1"]["value"], t["tag"]),
            )
            for rows in (calibration.per_tag, calibration.per_theme)
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
            {"number": v.number, "created_at": v.created_at, "template": v.template}
            for v in judge.versions.all()
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
            "per_theme": per_theme,
            "passing_themes": calibration.passing_themes,
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
