"""Rubric evals: experts write a rubric per prompt, and model responses are graded against it.

One kind, two modes (``schema["mode"]``), because the two jobs need different people and
screens but share the rubric's shape and rules:

``write``: an expert is given a prompt (and, if the task has them, sample responses) and writes
its rubric. ``data = {"prompt": [{"role", "content"}], "samples"?: ["…"], "rubric"?: […],
"example_tags"?: ["theme:…"], "prompt_id"?}`` (a given ``rubric`` is a draft to revise);
``result = {"rubric": [criterion, …]}``.

``grade``: a task is a prompt, its rubric and **one** model response (the model is not named:
graders judge blind). ``data = {"prompt": […], "rubric": [criterion, …], "response": "…",
"example_tags"?, "prompt_id"?}``; ``result = {"verdicts": {"<criterion id>": {"met": bool,
"evidence"?: "a quote of the response"}}}`` with a verdict for every criterion.

A criterion is ``{"id": "c1", "criterion": "words", "points": -10..10 (not 0), "tags":
["axis:accuracy", "level:example"]}``; a negative criterion is a pitfall (meeting it costs
points). ``prompt`` may be given as plain text (one user turn). Responses, eval runs, judges and
the leaderboard are the ``evals`` app's; the numbers are in :mod:`kinds.rubric_eval.metrics` and
the files in :mod:`kinds.rubric_eval.formats`.
"""

import re
from itertools import combinations

from rapidfuzz import fuzz

from kinds import (
    AlphaQuestion,
    Consensus,
    EditorSpec,
    Errors,
    TaskKind,
    object_errors,
)
from kinds.formats import ExportFormat
from kinds.rubric_eval import formats

MODES = ("grade", "write")
EVIDENCE = ("optional", "none")
ROLES = ("system", "user", "assistant", "developer")
MAX_CRITERIA = 100
MAX_TEXT = 100_000
MAX_CRITERION = 2_000
MAX_EVIDENCE = 2_000
MAX_TAGS = 20
TAG_PATTERN = re.compile(r"^[\w:.\-/ ]{1,100}$")
SCHEMA_KEYS = {"mode", "evidence", "tags", "instructions_per_criterion"}
SAME_CRITERION = 80  # rapidfuzz token-set ratio at which two written criteria are the same


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def clean_rubric(rubric: object, *, path: str, errors: Errors, required: bool = True) -> list:
    """A rubric normalised (ids ``c1``… given where missing, tags de-duplicated), its errors
    added at ``path.i.field``."""
    if rubric is None and not required:
        return []
    if not isinstance(rubric, list) or (required and not rubric):
        errors.add(path, "A rubric is a non-empty list of criteria.")
        return []
    if len(rubric) > MAX_CRITERIA:
        errors.add(path, f"A rubric has at most {MAX_CRITERIA} criteria.")
        return []
    cleaned, seen = [], set()
    for i, item in enumerate(rubric):
        at = f"{path}.{i}"
        if not isinstance(item, dict):
            errors.add(at, "A criterion is an object {criterion, points, tags}.")
            continue
        cid = item.get("id", f"c{i + 1}")
        if not isinstance(cid, str) or not re.fullmatch(r"[\w\-]{1,40}", cid):
            errors.add(f"{at}.id", "An id is 1 to 40 letters, digits, - or _.")
        elif cid in seen:
            errors.add(f"{at}.id", f"The id {cid!r} is used twice.")
        seen.add(cid)
        text = item.get("criterion")
        if not isinstance(text, str) or not text.strip():
            errors.add(f"{at}.criterion", "Say what the response must do (or must not do).")
        elif len(text) > MAX_CRITERION:
            errors.add(f"{at}.criterion", f"At most {MAX_CRITERION} characters.")
        points = item.get("points")
        if isinstance(points, float) and points.is_integer():
            points = int(points)
        if not _is_int(points) or not -10 <= points <= 10 or points == 0:
            errors.add(f"{at}.points", "Points are a whole number from -10 to 10, not 0.")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            errors.add(f"{at}.tags", f"Tags are a list of at most {MAX_TAGS} words.")
            tags = []
        for t, tag in enumerate(tags):
            if not isinstance(tag, str) or not TAG_PATTERN.match(tag.strip()):
                errors.add(f"{at}.tags.{t}", "A tag is 1 to 100 letters, digits, : . - / or _.")
        cleaned.append(
            {
                "id": cid,
                "criterion": text.strip() if isinstance(text, str) else text,
                "points": points,
                "tags": list(dict.fromkeys(t.strip() for t in tags if isinstance(t, str))),
            }
        )
    return cleaned


def clean_prompt(prompt: object, *, errors: Errors) -> list[dict]:
    if isinstance(prompt, str):
        prompt = [{"role": "user", "content": prompt}]
    if not isinstance(prompt, list) or not prompt:
        errors.add("prompt", "The prompt is text, or a list of messages {role, content}.")
        return []
    messages = []
    for i, message in enumerate(prompt):
        if not isinstance(message, dict):
            errors.add(f"prompt.{i}", "A message is an object {role, content}.")
            continue
        if message.get("role") not in ROLES:
            errors.add(f"prompt.{i}.role", f"The role is one of {', '.join(ROLES)}.")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            errors.add(f"prompt.{i}.content", "A message needs text.")
        elif len(content) > MAX_TEXT:
            errors.add(f"prompt.{i}.content", f"At most {MAX_TEXT} characters.")
        messages.append({"role": message.get("role"), "content": content})
    return messages


def _text_list(value: object, *, path: str, errors: Errors, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > limit:
        errors.add(path, f"A list of at most {limit} texts.")
        return []
    for i, text in enumerate(value):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            errors.add(f"{path}.{i}", f"Each is text of 1 to {MAX_TEXT} characters.")
    return [text for text in value if isinstance(text, str)]


def verdicts_met(result: dict) -> dict[str, bool]:
    return {cid: bool(v.get("met")) for cid, v in (result.get("verdicts") or {}).items()}


class RubricEvalKind(TaskKind):
    name = "rubric_eval"
    label = "Rubric eval"
    description = (
        "Experts write a rubric per prompt (criteria with signed points and tags); model "
        "responses are graded criterion by criterion, by people and calibrated judge models."
    )
    editor = EditorSpec(template="rubric_eval/editor.html", module="rubric_eval/editor.js")
    has_alpha = True

    def grades(self, *, schema: dict) -> bool:
        """Whether tasks of a project with this schema are responses to grade."""
        return schema.get("mode", "grade") == "grade"

    def writes(self, *, schema: dict) -> bool:
        """Whether tasks of a project with this schema ask for a rubric."""
        return schema.get("mode", "grade") == "write"

    # --- schema, data, result ------------------------------------------------------------------

    def default_schema(self) -> dict:
        return {"mode": "grade", "evidence": "optional", "tags": []}

    def clean_schema(self, schema: dict) -> dict:
        errors = object_errors(schema, path="__all__", message="The schema is a JSON object.")
        for key in set(schema) - SCHEMA_KEYS:
            errors.add(key, "Unknown setting.")
        mode = schema.get("mode", "grade")
        if mode not in MODES:
            errors.add("mode", "The mode is grade (grade responses) or write (write rubrics).")
        evidence = schema.get("evidence", "optional")
        if evidence not in EVIDENCE:
            errors.add("evidence", "Evidence is optional or none.")
        tags = schema.get("tags", [])
        if not isinstance(tags, list) or len(tags) > 200:
            errors.add("tags", "Suggested tags are a list of at most 200 words.")
            tags = []
        for i, tag in enumerate(tags):
            if not isinstance(tag, str) or not TAG_PATTERN.match(tag):
                errors.add(f"tags.{i}", "A tag is 1 to 100 letters, digits, : . - / or _.")
        errors.raise_if_any()
        return {"mode": mode, "evidence": evidence, "tags": list(dict.fromkeys(tags))}

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        errors = object_errors(data, path="__all__", message="A task's data is a JSON object.")
        mode = schema.get("mode", "grade")
        # HealthBench rows name the rubric "rubrics"; they load as they are.
        rubric_in = data.get("rubric", data.get("rubrics"))
        cleaned = {"prompt": clean_prompt(data.get("prompt", data.get("messages")), errors=errors)}
        rubric = clean_rubric(rubric_in, path="rubric", errors=errors, required=mode == "grade")
        if rubric:
            cleaned["rubric"] = rubric
        if mode == "grade":
            response = data.get("response")
            if not isinstance(response, str) or not response.strip():
                errors.add("response", "A task to grade holds one response (text).")
            elif len(response) > MAX_TEXT:
                errors.add("response", f"At most {MAX_TEXT} characters.")
            cleaned["response"] = response
        else:
            samples = _text_list(data.get("samples"), path="samples", errors=errors, limit=10)
            if samples:
                cleaned["samples"] = samples
        example_tags = _text_list(
            data.get("example_tags"), path="example_tags", errors=errors, limit=MAX_TAGS
        )
        if example_tags:
            cleaned["example_tags"] = example_tags
        prompt_id = data.get("prompt_id")
        if prompt_id is not None:
            if not isinstance(prompt_id, str) or not 0 < len(prompt_id) <= 200:
                errors.add("prompt_id", "A prompt id is text of 1 to 200 characters.")
            cleaned["prompt_id"] = prompt_id
        errors.raise_if_any()
        return cleaned

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        errors = object_errors(result, path="__all__", message="An answer is a JSON object.")
        if schema.get("mode", "grade") == "write":
            rubric = clean_rubric(result.get("rubric"), path="rubric", errors=errors)
            if rubric and not any(_is_int(c["points"]) and c["points"] > 0 for c in rubric):
                errors.add("rubric", "At least one criterion must earn points (be positive).")
            errors.raise_if_any()
            return {"rubric": rubric}
        verdicts = result.get("verdicts")
        if not isinstance(verdicts, dict):
            errors.add("verdicts", "Verdicts are an object: criterion id → {met, evidence?}.")
            errors.raise_if_any()
        ids = [c["id"] for c in data.get("rubric") or []]
        response = _squash(data.get("response") or "")
        cleaned: dict[str, dict] = {}
        for cid in set(verdicts) - set(ids):
            errors.add(f"verdicts.{cid}", "No criterion of this rubric has that id.")
        for cid in ids:
            verdict = verdicts.get(cid)
            if verdict is None:
                errors.add(f"verdicts.{cid}", "Say whether this criterion is met.")
                continue
            if isinstance(verdict, bool):
                verdict = {"met": verdict}
            if not isinstance(verdict, dict) or not isinstance(verdict.get("met"), bool):
                errors.add(f"verdicts.{cid}.met", "Met is true or false.")
                continue
            one = {"met": verdict["met"]}
            evidence = verdict.get("evidence")
            if evidence not in (None, ""):
                if schema.get("evidence") == "none":
                    errors.add(f"verdicts.{cid}.evidence", "This project takes no evidence.")
                elif not isinstance(evidence, str) or len(evidence) > MAX_EVIDENCE:
                    errors.add(f"verdicts.{cid}.evidence", "Evidence is a short quote (text).")
                elif _squash(evidence) not in response:
                    errors.add(
                        f"verdicts.{cid}.evidence", "Evidence must be a quote of the response."
                    )
                else:
                    one["evidence"] = evidence.strip()
            cleaned[cid] = one
        errors.raise_if_any()
        return {"verdicts": cleaned}

    # --- quality -------------------------------------------------------------------------------

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        if schema.get("mode", "grade") == "write":
            return rubric_match(result.get("rubric") or [], gold.get("rubric") or [])
        mine, theirs = verdicts_met(result), verdicts_met(gold)
        ids = set(mine) | set(theirs)
        if not ids:
            return 1.0
        return sum(mine.get(c) == theirs.get(c) for c in ids) / len(ids)

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        pairs = list(combinations(results, 2))
        if not pairs:
            return 1.0
        return sum(self.score(a, b, schema=schema, quality=quality) for a, b in pairs) / len(pairs)

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        """Grade: the weighted majority per criterion (a tie is "not met": a criterion counts
        only when most say so), with the mean majority share as confidence. Write: the rubric
        closest to the others (the medoid)."""
        weights = weights or [1.0] * len(results)
        if schema.get("mode", "grade") == "write":
            totals = [
                sum(
                    w * self.score(a, b, schema=schema, quality=quality)
                    for b, w in zip(results, weights, strict=True)
                    if b is not a
                )
                for a in results
            ]
            best = max(range(len(results)), key=lambda i: (totals[i], -i))
            others = sum(weights) - weights[best]
            return Consensus(results[best], totals[best] / others if others else 1.0)
        ids: list[str] = []
        for result in results:
            ids += [c for c in (result.get("verdicts") or {}) if c not in ids]
        verdicts, shares = {}, []
        for cid in ids:
            yes = sum(w for r, w in zip(results, weights, strict=True) if verdicts_met(r).get(cid))
            total = sum(
                w for r, w in zip(results, weights, strict=True) if cid in (r.get("verdicts") or {})
            )
            met = yes > total / 2
            verdict = {"met": met}
            quotes = [
                r["verdicts"][cid].get("evidence")
                for r in results
                if verdicts_met(r).get(cid) == met and r["verdicts"][cid].get("evidence")
            ]
            if quotes:
                verdict["evidence"] = quotes[0]
            verdicts[cid] = verdict
            shares.append(max(yes, total - yes) / total if total else 1.0)
        confidence = sum(shares) / len(shares) if shares else 1.0
        return Consensus({"verdicts": verdicts}, confidence)

    def alpha_questions(
        self, tasks: list[tuple[dict, list[dict]]], *, schema: dict
    ) -> list[AlphaQuestion]:
        if schema.get("mode", "grade") != "grade":
            return []
        units = []
        for data, answers in tasks:
            for criterion in data.get("rubric") or []:
                units.append([verdicts_met(a).get(criterion["id"]) for a in answers])
        return [AlphaQuestion(name="met", units=units)] if units else []

    # --- screens and files ---------------------------------------------------------------------

    def review_summary(self, result: dict, *, schema: dict) -> str:
        if "rubric" in result:
            rubric = result["rubric"]
            possible = sum(c["points"] for c in rubric if c["points"] > 0)
            return f"{len(rubric)} criteria, {possible} points to earn"
        met = verdicts_met(result)
        return f"{sum(met.values())} of {len(met)} criteria met"

    def export_formats(self) -> tuple[ExportFormat, ...]:
        return (
            ExportFormat(
                "healthbench",
                "Rubrics, HealthBench JSONL (prompt, rubrics, example_tags)",
                formats.JSONL,
                "jsonl",
                write=lambda items, context: formats.healthbench_from_items(items),
            ),
            ExportFormat(
                "graded",
                "Graded responses (JSONL, every grader's verdicts)",
                formats.JSONL,
                "jsonl",
                write=lambda items, context: formats.graded_from_items(items),
                answers=True,
            ),
        )


def rubric_match(first: list[dict], second: list[dict]) -> float:
    """How alike two written rubrics are: F1 of criteria matched one to one (same sign of
    points, wording alike by rapidfuzz's token-set ratio ≥ 80); two empty rubrics match."""
    if not first and not second:
        return 1.0
    used: set[int] = set()
    matched = 0
    for a in first:
        for j, b in enumerate(second):
            if j in used or (a["points"] > 0) != (b["points"] > 0):
                continue
            if fuzz.token_set_ratio(_squash(a["criterion"]), _squash(b["criterion"])) >= (
                SAME_CRITERION
            ):
                used.add(j)
                matched += 1
                break
    return 2 * matched / (len(first) + len(second))
