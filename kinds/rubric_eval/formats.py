"""The files of rubric evals: HealthBench JSONL in and out, graded responses, scores, the
leaderboard, and training data made from graded responses.

HealthBench's shape, one JSON object a line: ``{"prompt": [{"role", "content"}], "rubrics":
[{"criterion", "points", "tags"}], "example_tags": [...], "prompt_id"?}``. It loads as it is
(a criterion without an ``id`` gets a stable one, a hash of its text and points: see
:func:`with_stable_ids`) and is written back the same way, so a set goes
in and comes out unchanged.

Writers yield ``bytes`` chunks so that any size streams; they take plain records, not rows.
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from kinds.formats import ItemSource
from kinds.streams import csv_rows, json_dumps, json_line

JSONL = "application/x-ndjson"
MAX_LINES = 100_000


@dataclass(frozen=True)
class EvalPrompt:
    """One prompt of an eval set with its rubric."""

    key: str
    prompt: list[dict]
    rubric: list[dict]
    example_tags: list[str] = field(default_factory=list)


def criterion_id(criterion: object, points: object) -> str:
    """A criterion's id from what it says and is worth (``h`` and 10 hex digits): the same
    criterion gets the same id in every import, whatever its position in the rubric."""
    text = " ".join(str(criterion).split()).lower()
    if isinstance(points, float) and points.is_integer():
        points = int(points)
    digest = hashlib.blake2b(f"{points}|{text}".encode(), digest_size=5).hexdigest()
    return f"h{digest}"


def with_stable_ids(rubric: object) -> object:
    """The rubric with an id given to each criterion the file gives none (ids the file gives
    are kept): a hash of its text and points, ``-2``, ``-3``… added when a rubric repeats a
    criterion. So a re-imported rubric keeps its criteria's ids, and old verdicts never land
    on another criterion."""
    if not isinstance(rubric, list):
        return rubric
    given = {c.get("id") for c in rubric if isinstance(c, dict) and "id" in c}
    out, used = [], set(given)
    for criterion in rubric:
        if isinstance(criterion, dict) and "id" not in criterion:
            base = criterion_id(criterion.get("criterion"), criterion.get("points"))
            cid, n = base, 1
            while cid in used:
                n += 1
                cid = f"{base}-{n}"
            used.add(cid)
            criterion = {"id": cid, **criterion}
        out.append(criterion)
    return out


def healthbench_read(lines: Iterable[bytes | str]) -> list[EvalPrompt]:
    """The prompts of a HealthBench-shaped JSONL; every bad line is named in one
    ``ValidationError`` (keys ``line N`` and ``line N.rubrics.i.points``), nothing is taken."""
    from kinds import Errors
    from kinds.rubric_eval.kind import clean_prompt, clean_rubric

    errors = Errors()
    prompts, keys = [], set()
    number = 0
    for number, raw in enumerate(lines, start=1):
        if number > MAX_LINES:
            errors.add("file", f"At most {MAX_LINES} lines at once.")
            break
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        at = f"line {number}"
        try:
            row = orjson.loads(text)
        except orjson.JSONDecodeError:
            errors.add(at, "Not a JSON object.")
            continue
        if not isinstance(row, dict):
            errors.add(at, "Not a JSON object.")
            continue
        line_errors = Errors()
        prompt = clean_prompt(row.get("prompt"), errors=line_errors)
        rubric = clean_rubric(
            with_stable_ids(row.get("rubrics", row.get("rubric"))),
            path="rubrics",
            errors=line_errors,
        )
        tags = row.get("example_tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            line_errors.add("example_tags", "example_tags is a list of words.")
            tags = []
        key = row.get("prompt_id") or f"p{number}"
        if not isinstance(key, str) or not 0 < len(key) <= 200:
            line_errors.add("prompt_id", "A prompt id is text of 1 to 200 characters.")
        elif key in keys:
            line_errors.add("prompt_id", f"The prompt id {key!r} is used twice.")
        keys.add(key)
        for path, messages in line_errors.by_path.items():
            for message in messages:
                errors.add(f"{at}.{path}", message)
        if not line_errors:
            prompts.append(EvalPrompt(key=key, prompt=prompt, rubric=rubric, example_tags=tags))
    if number == 0 and not errors:
        errors.add("file", "The file holds no prompts.")
    errors.raise_if_any()
    return prompts


def healthbench_row(prompt: EvalPrompt) -> dict:
    return {
        "prompt_id": prompt.key,
        "prompt": prompt.prompt,
        "rubrics": [
            {"criterion": c["criterion"], "points": c["points"], "tags": c["tags"]}
            for c in prompt.rubric
        ],
        "example_tags": prompt.example_tags,
    }


def healthbench_jsonl(prompts: Iterable[EvalPrompt]) -> Iterator[bytes]:
    for prompt in prompts:
        yield json_line(healthbench_row(prompt))


def healthbench_from_items(items: ItemSource) -> Iterator[bytes]:
    """A write-mode project's accepted rubrics, as HealthBench JSONL."""
    for item in items():
        rubric = (item.result or {}).get("rubric") or []
        data = item.data or {}
        key = data.get("prompt_id") or item.external_id or f"task-{item.task_id}"
        yield json_line(
            healthbench_row(
                EvalPrompt(
                    key=key,
                    prompt=data.get("prompt") or [],
                    rubric=rubric,
                    example_tags=data.get("example_tags") or [],
                )
            )
        )


def _verdict_list(rubric: list[dict], verdicts: dict | None) -> list[dict]:
    verdicts = verdicts or {}
    rows = []
    for criterion in rubric:
        verdict = verdicts.get(criterion["id"])
        if verdict is not None:
            rows.append({"id": criterion["id"], **verdict})
    return rows


def graded_from_items(items: ItemSource) -> Iterator[bytes]:
    """A grade-mode project's tasks: the response with the accepted verdicts and each grader's
    (by pseudonym), HealthBench-shaped (``prompt``, ``rubrics`` each with its verdicts)."""
    for item in items():
        data = item.data or {}
        rubric = data.get("rubric") or []
        accepted = (item.result or {}).get("verdicts") or {}
        graders = {a.contributor: (a.result or {}).get("verdicts") or {} for a in item.answers}
        yield json_line(
            {
                "task": item.task_id,
                "prompt_id": data.get("prompt_id") or item.external_id,
                "prompt": data.get("prompt") or [],
                "response": data.get("response"),
                "rubrics": [
                    {
                        "criterion": c["criterion"],
                        "points": c["points"],
                        "tags": c["tags"],
                        "met": (accepted.get(c["id"]) or {}).get("met"),
                        "graders": {
                            name: verdicts[c["id"]]
                            for name, verdicts in graders.items()
                            if c["id"] in verdicts
                        },
                    }
                    for c in rubric
                ],
                "example_tags": data.get("example_tags") or [],
            }
        )


@dataclass(frozen=True)
class GradedResponse:
    """One model response of an eval set with every verdict on it: the final one per criterion
    (``verdicts``: people's consensus where people graded, else the judge's where it may grade
    alone), people's consensus, and each judge version's."""

    prompt: EvalPrompt
    model: str
    version: str
    response: str
    score: float | None
    verdicts: dict[str, dict]
    people: dict[str, dict] | None
    judges: dict[str, dict[str, dict]]
    tokens: int | None = None
    latency_ms: int | None = None
    cost: float | None = None


def graded_jsonl(records: Iterable[GradedResponse]) -> Iterator[bytes]:
    """HealthBench-shaped graded responses: each rubric item carries its final ``met``, the
    people's verdict and each judge's (``judges`` keyed ``"<judge> v<n>"``)."""
    for record in records:
        rubrics = []
        for c in record.prompt.rubric:
            final = record.verdicts.get(c["id"]) or {}
            rubrics.append(
                {
                    "criterion": c["criterion"],
                    "points": c["points"],
                    "tags": c["tags"],
                    "met": final.get("met"),
                    "people": (record.people or {}).get(c["id"]),
                    "judges": {
                        name: verdicts[c["id"]]
                        for name, verdicts in record.judges.items()
                        if c["id"] in verdicts
                    },
                }
            )
        yield json_line(
            {
                "prompt_id": record.prompt.key,
                "prompt": record.prompt.prompt,
                "completion": record.response,
                "model": record.model,
                "model_version": record.version,
                "score": record.score,
                "rubrics": rubrics,
                "example_tags": record.prompt.example_tags,
            }
        )


def scores_csv(records: Iterable[GradedResponse]) -> Iterator[bytes]:
    header = ["prompt_id", "model", "model_version", "score", "tokens", "latency_ms", "cost"]
    rows = (
        [r.prompt.key, r.model, r.version, r.score, r.tokens, r.latency_ms, r.cost] for r in records
    )
    return csv_rows(header, rows)


def leaderboard_json(board: dict) -> Iterator[bytes]:
    yield json_dumps(board)


def sft_jsonl(records: Iterable[GradedResponse]) -> Iterator[bytes]:
    """Per prompt, its best graded response as the assistant's turn (SFT ``messages``), with
    the rubric it was judged by; prompts whose best response scores 0 are left out."""
    best: dict[str, GradedResponse] = {}
    for record in records:
        if record.score is None:
            continue
        kept = best.get(record.prompt.key)
        if kept is None or record.score > kept.score:  # type: ignore[operator]
            best[record.prompt.key] = record
    for record in best.values():
        if not record.score:
            continue
        yield json_line(
            {
                "messages": [
                    *record.prompt.prompt,
                    {"role": "assistant", "content": record.response},
                ],
                "prompt_id": record.prompt.key,
                "score": record.score,
                "model": record.model,
                "model_version": record.version,
                "rubric": healthbench_row(record.prompt)["rubrics"],
            }
        )


def preference_jsonl(records: Iterable[GradedResponse], *, min_gap: float = 0.1) -> Iterator[bytes]:
    """Pairs of responses to one prompt whose scores differ by at least ``min_gap``, in the DPO
    shape (``prompt`` messages, ``chosen``, ``rejected``) with the gap."""
    by_prompt: dict[str, list[GradedResponse]] = {}
    for record in records:
        if record.score is not None:
            by_prompt.setdefault(record.prompt.key, []).append(record)
    for group in by_prompt.values():
        group.sort(key=lambda r: -r.score)  # type: ignore[operator]
        for i, better in enumerate(group):
            for worse in group[i + 1 :]:
                gap = better.score - worse.score  # type: ignore[operator]
                if gap < min_gap:
                    continue
                yield json_line(
                    {
                        "prompt": better.prompt.prompt,
                        "chosen": [{"role": "assistant", "content": better.response}],
                        "rejected": [{"role": "assistant", "content": worse.response}],
                        "score_gap": round(gap, 6),
                        "chosen_model": f"{better.model} {better.version}".strip(),
                        "rejected_model": f"{worse.model} {worse.version}".strip(),
                        "prompt_id": better.prompt.key,
                    }
                )
