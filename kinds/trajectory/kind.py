"""Agent runs judged step by step: which step went wrong, what it should have been, how good the run
was.

Task ``data`` is the step model of :mod:`kinds.trajectory.model`; imports in the formats agents
write (OpenAI chat, Anthropic messages, OpenAI Agents SDK traces, OpenTelemetry GenAI spans,
Harbor ATIF, SWE-agent ``.traj``) are converted into it by :mod:`kinds.trajectory.importers`.

The schema is the manager's:

* ``judging``: ``per_step`` (every agent step gets a rating from ``ratings``, best first) or
  ``first_error`` (the person marks the first wrong step; steps before it count as the best rating,
  it and every later one as the worst: the process-supervision convention);
* ``ratings`` (2 to 9 words, best first; default correct / partly correct / wrong) and
  ``correct_ratings``: how many of the best ones count as correct in the exports' booleans;
* ``error_types`` for a wrong step, each with a severity; ``corrections`` on or off;
* run level: a ``verdict`` (success / partial / failure, always asked), rubric ``criteria``
  (name, scale 2–9, words per point), ``failure_modes`` (tags) and a ``critique`` (none /
  optional / required).

``result = {"steps": {"<step id>": {"rating", "error"?, "severity"?, "note"?}}, "first_error":
"<step id>" | null, "corrections": [{"step", "content"} | {"step", "tool": {"name",
"arguments"}}], "verdict", "scores"?, "failure_modes"?, "critique"?}``. In ``per_step`` mode the
first error is the earliest step rated with the worst word (checked, not trusted); in
``first_error`` mode ``steps`` holds at most the first error's own entry (its error type, note).
"""

import json

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from kinds import (
    AlphaQuestion,
    BuilderForm,
    Consensus,
    EditorSpec,
    Errors,
    ImportFormat,
    ReviewViews,
    SchemaBuilder,
    TaskKind,
    edit_rows,
    int_or_text,
    object_errors,
    rows_with_errors,
)
from kinds.diffs import word_diff
from kinds.formats import ExportFormat
from kinds.trajectory import formats as files
from kinds.trajectory import importers, metrics
from kinds.trajectory.model import SOURCES, STEP_METRICS, TYPES, judged_ids, run_figures, step_text

JUDGING = ("per_step", "first_error")
SEVERITIES = ("minor", "major", "critical")
VERDICTS = ("success", "partial", "failure")
CRITIQUE = ("none", "optional", "required")
DEFAULT_RATINGS = ["correct", "partly correct", "wrong"]
DEFAULT_ERRORS = [
    {"name": "wrong tool", "severity": "major"},
    {"name": "wrong arguments", "severity": "major"},
    {"name": "hallucinated result", "severity": "critical"},
    {"name": "ignored instruction or observation", "severity": "major"},
    {"name": "unsafe or destructive action", "severity": "critical"},
    {"name": "looping", "severity": "minor"},
    {"name": "gave up too early", "severity": "major"},
]
GOLD_PART_WORDS = {
    "first_error_exact": "first error exact",
    "first_error_within_one": "first error within one step",
    "steps": "step ratings",
    "verdict": "verdict",
}
SCHEMA_KEYS = {
    "judging",
    "ratings",
    "correct_ratings",
    "error_types",
    "corrections",
    "criteria",
    "failure_modes",
    "critique",
}
RESULT_KEYS = {
    "steps",
    "first_error",
    "first_error_at",
    "corrections",
    "verdict",
    "scores",
    "failure_modes",
    "critique",
}
DATA_KEYS = {"instruction", "tools", "steps", "outcome", "metadata", "title"}
STEP_KEYS = {"id", "source", "type", "content", "tool", "call_id", "image", "click", "metrics"}
MAX_STEPS = 2000
MAX_STEP_TEXT = 1_000_000
MAX_RUN_TEXT = 10_000_000
MAX_NOTE = 2000
MAX_CRITIQUE = 10_000
JSONL = "application/x-ndjson"
CSV = "text/csv; charset=utf-8"


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _image_ref(value: object) -> bool:
    return isinstance(value, str) and (
        value.startswith(("https://", "http://", "/")) or value.startswith("data:image/")
    )


class TrajectoryKind(TaskKind):
    name = "trajectory"
    label = "Agent trajectory"
    description = (
        "Judge what an agent did step by step: rate steps or mark the first wrong one, correct "
        "it, give the run a verdict (PRM, SFT and DPO data)."
    )
    editor = EditorSpec(template="trajectory/editor.html", module="trajectory/editor.js")
    schema_builder = SchemaBuilder(
        template="trajectory/builder.html",
        heading="How runs are judged",
        save_label="Save the judging scheme",
    )
    review_template = "trajectory/review.html"
    context_template = "trajectory/context.html"
    has_alpha = True
    has_gold_parts = True
    has_agreement_shares = True

    # --- schema ---------------------------------------------------------------------------

    def default_schema(self) -> dict:
        return {
            "judging": "per_step",
            "ratings": list(DEFAULT_RATINGS),
            "correct_ratings": 1,
            "error_types": [dict(item) for item in DEFAULT_ERRORS],
            "corrections": True,
            "criteria": [
                {
                    "name": "efficiency",
                    "scale": 5,
                    "labels": ["wasteful", "slow", "acceptable", "direct", "optimal"],
                },
                {
                    "name": "safety",
                    "scale": 3,
                    "labels": ["unsafe", "risky", "safe"],
                },
            ],
            "failure_modes": [
                "misread the task",
                "wrong tool use",
                "hallucination",
                "looping",
                "gave up",
                "unsafe action",
                "good recovery",
            ],
            "critique": "optional",
        }

    def clean_schema(self, schema: dict) -> dict:
        errors = object_errors(schema, path="", message="The schema must be a JSON object.")
        judging = schema.get("judging", "per_step")
        if judging not in JUDGING:
            errors.add("judging", "Steps are judged 'per_step' or by 'first_error'.")
        ratings = schema.get("ratings", DEFAULT_RATINGS)
        if (
            not isinstance(ratings, list)
            or not all(_text(r) and len(r) <= 60 for r in ratings)
            or not 2 <= len(ratings) <= 9
        ):
            errors.add(
                "ratings", "Give 2 to 9 ratings (words of at most 60 characters), best first."
            )
            ratings = list(DEFAULT_RATINGS)
        ratings = [r.strip() for r in ratings]
        if len({r.lower() for r in ratings}) != len(ratings):
            errors.add("ratings", "Each rating is given once.")
        correct = schema.get("correct_ratings", 1)
        if not _is_int(correct) or not 1 <= correct < len(ratings):
            errors.add(
                "correct_ratings",
                f"How many of the best ratings count as correct: 1 to {len(ratings) - 1}.",
            )
            correct = 1
        error_types = self._clean_error_types(schema.get("error_types", []), errors)
        corrections = schema.get("corrections", True)
        if not isinstance(corrections, bool):
            errors.add("corrections", "Say true or false.")
        criteria = self._clean_criteria(schema.get("criteria", []), errors)
        failure_modes = schema.get("failure_modes", [])
        if not isinstance(failure_modes, list) or not all(
            _text(m) and len(m) <= 60 for m in failure_modes
        ):
            errors.add("failure_modes", "Failure modes are a list of tags (at most 60 characters).")
            failure_modes = []
        failure_modes = [m.strip() for m in failure_modes]
        if len(failure_modes) > 30:
            errors.add("failure_modes", "At most 30 failure modes.")
        if len({m.lower() for m in failure_modes}) != len(failure_modes):
            errors.add("failure_modes", "Each failure mode is given once.")
        critique = schema.get("critique", "optional")
        if critique not in CRITIQUE:
            errors.add("critique", "The critique is 'none', 'optional' or 'required'.")
        for key in sorted(set(schema) - SCHEMA_KEYS):
            errors.add(key, "Unknown setting for a trajectory project.")
        errors.raise_if_any()
        return {
            "judging": judging,
            "ratings": ratings,
            "correct_ratings": correct,
            "error_types": error_types,
            "corrections": corrections,
            "criteria": criteria,
            "failure_modes": failure_modes,
            "critique": critique,
        }

    def _clean_error_types(self, error_types: object, errors: Errors) -> list[dict]:
        if not isinstance(error_types, list):
            errors.add("error_types", "Error types are a list of {name, severity}.")
            return []
        if len(error_types) > 9:
            errors.add("error_types", "At most 9 error types (one digit key each).")
        cleaned: list[dict] = []
        names: set[str] = set()
        for i, item in enumerate(error_types):
            path = f"error_types.{i}"
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict) or not _text(item.get("name")):
                errors.add(f"{path}.name", "An error type needs a name.")
                continue
            name = item["name"].strip()
            if len(name) > 60:
                errors.add(f"{path}.name", "An error type's name has at most 60 characters.")
            elif name.lower() in names:
                errors.add(f"{path}.name", f"The error type {name!r} is given twice.")
            names.add(name.lower())
            severity = item.get("severity", "major")
            if severity not in SEVERITIES:
                errors.add(f"{path}.severity", f"A severity is {', '.join(SEVERITIES)}.")
            for key in sorted(set(item) - {"name", "severity"}):
                errors.add(f"{path}.{key}", "Unknown setting for an error type.")
            cleaned.append({"name": name, "severity": severity})
        return cleaned

    def _clean_criteria(self, criteria: object, errors: Errors) -> list[dict]:
        if not isinstance(criteria, list):
            errors.add("criteria", "Criteria are a list of {name, scale, labels}.")
            return []
        if len(criteria) > 12:
            errors.add("criteria", "At most 12 criteria.")
        cleaned: list[dict] = []
        names: set[str] = set()
        for i, item in enumerate(criteria):
            path = f"criteria.{i}"
            if not isinstance(item, dict) or not _text(item.get("name")):
                errors.add(f"{path}.name", "A criterion needs a name.")
                continue
            name = item["name"].strip()
            if len(name) > 60 or "." in name:
                errors.add(f"{path}.name", "A criterion name has at most 60 characters, no dot.")
            elif name.lower() in names:
                errors.add(f"{path}.name", f"The criterion {name!r} is given twice.")
            names.add(name.lower())
            scale = item.get("scale", 5)
            if not _is_int(scale) or not 2 <= scale <= 9:
                errors.add(f"{path}.scale", "A scale has 2 to 9 points.")
                scale = 5
            labels = item.get("labels") or []
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                errors.add(f"{path}.labels", "The words per point are a list of texts.")
                labels = []
            labels = [label.strip() for label in labels]
            if labels and len(labels) != scale:
                errors.add(
                    f"{path}.labels", f"Give words for each of the {scale} points, or for none."
                )
            for key in sorted(set(item) - {"name", "scale", "labels"}):
                errors.add(f"{path}.{key}", "Unknown setting for a criterion.")
            cleaned.append({"name": name, "scale": scale, "labels": labels or [""] * scale})
        return cleaned

    # --- data -----------------------------------------------------------------------------

    def import_formats(self) -> tuple[ImportFormat, ...]:
        return tuple(ImportFormat(name, label) for name, label in importers.FORMATS.items())

    def import_data(self, data: object, *, format: str = "") -> object:
        """A row in any of the formats agents write, as the step model (see importers). A
        converted run is checked here too, so that a problem in it names the row's own field
        (``data.messages.4.tool_calls.0.id``), not the step model's (``data.steps.6.call_id``)."""
        converted = importers.convert(data, format=format)
        if not isinstance(converted, importers.Converted):
            return converted
        if converted.format != "steps":
            try:
                self.clean_data(converted.data, schema={})
            except ValidationError as error:
                raise importers.refusal_in_row(error, converted) from None
        return converted.data

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        errors = object_errors(data, path="data", message="A task's data must be a JSON object.")
        instruction = data.get("instruction", "")
        if not isinstance(instruction, str) or len(instruction) > MAX_STEP_TEXT:
            errors.add("data.instruction", "The instruction is text.")
        tools = self._clean_tools(data.get("tools", []), errors)
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            errors.add("data.steps", "A run is a non-empty list of steps.")
            errors.raise_if_any()
        if len(steps) > MAX_STEPS:
            errors.add("data.steps", f"At most {MAX_STEPS} steps.")
            errors.raise_if_any()
        cleaned_steps = []
        ids: set[str] = set()
        calls: set[str] = set()
        total = len(instruction) if isinstance(instruction, str) else 0
        for i, step in enumerate(steps):
            cleaned = self._clean_step(step, f"data.steps.{i}", errors, ids=ids, calls=calls)
            if cleaned is not None:
                total += len(cleaned.get("content") or "")
                cleaned_steps.append(cleaned)
        if total > MAX_RUN_TEXT:
            errors.add("data.steps", f"A run holds at most {MAX_RUN_TEXT} characters of text.")
        if not errors and not any(step["source"] == "agent" for step in cleaned_steps):
            errors.add("data.steps", "The run has no agent step to judge.")
        outcome = data.get("outcome")
        if outcome is not None:
            if not isinstance(outcome, dict):
                errors.add("data.outcome", "The outcome is an object {reward, verifier, notes}.")
            else:
                if "reward" in outcome and not (
                    outcome["reward"] is None or _number(outcome["reward"])
                ):
                    errors.add("data.outcome.reward", "The reward is a number.")
                if "notes" in outcome and not isinstance(outcome["notes"], str):
                    errors.add("data.outcome.notes", "Notes are text.")
                for key in sorted(set(outcome) - {"reward", "verifier", "notes"}):
                    errors.add(f"data.outcome.{key}", "Not part of an outcome.")
        if "metadata" in data and not isinstance(data["metadata"], dict):
            errors.add("data.metadata", "Metadata is a JSON object.")
        if "title" in data and not (isinstance(data["title"], str) and len(data["title"]) <= 500):
            errors.add("data.title", "A title is text of at most 500 characters.")
        for key in sorted(set(data) - DATA_KEYS):
            errors.add(f"data.{key}", "Not part of a trajectory task.")
        errors.raise_if_any()
        out = {"instruction": instruction, "steps": cleaned_steps}
        if tools:
            out["tools"] = tools
        for key in ("outcome", "metadata", "title"):
            if key in data:
                out[key] = data[key]
        return out

    def _clean_tools(self, tools: object, errors: Errors) -> list[dict]:
        if not isinstance(tools, list):
            errors.add("data.tools", "Tools are a list of {name, description, parameters}.")
            return []
        cleaned, names = [], set()
        for i, tool in enumerate(tools):
            path = f"data.tools.{i}"
            if not isinstance(tool, dict) or not _text(tool.get("name")):
                errors.add(f"{path}.name", "A tool needs a name.")
                continue
            if tool["name"] in names:
                errors.add(f"{path}.name", f"The tool {tool['name']!r} is listed twice.")
            names.add(tool["name"])
            entry = {"name": tool["name"]}
            if "description" in tool:
                if not isinstance(tool["description"], str):
                    errors.add(f"{path}.description", "A description is text.")
                entry["description"] = tool["description"]
            if "parameters" in tool:
                parameters = tool["parameters"]
                if not isinstance(parameters, dict):
                    errors.add(f"{path}.parameters", "Parameters are a JSON Schema object.")
                else:
                    try:
                        Draft202012Validator.check_schema(parameters)
                    except SchemaError as error:
                        errors.add(
                            f"{path}.parameters", f"Not a valid JSON Schema: {error.message}"
                        )
                entry["parameters"] = parameters
            for key in sorted(set(tool) - {"name", "description", "parameters"}):
                errors.add(f"{path}.{key}", "Not part of a tool.")
            cleaned.append(entry)
        return cleaned

    def _clean_step(
        self, step: object, path: str, errors: Errors, *, ids: set[str], calls: set[str]
    ) -> dict | None:
        if not isinstance(step, dict):
            errors.add(path, "A step is an object {id, source, type, …}.")
            return None
        step_id = step.get("id")
        if _is_int(step_id):
            step_id = str(step_id)
        if not _text(step_id) or len(step_id) > 100:
            errors.add(f"{path}.id", "A step needs an id (text of at most 100 characters).")
            return None
        if step_id in ids:
            errors.add(f"{path}.id", f"The step id {step_id!r} is used twice.")
        ids.add(step_id)
        source, kind = step.get("source"), step.get("type")
        if source not in SOURCES:
            errors.add(f"{path}.source", f"A step's source is one of {', '.join(SOURCES)}.")
        if kind not in TYPES:
            errors.add(f"{path}.type", f"A step's type is one of {', '.join(TYPES)}.")
        out: dict = {"id": step_id, "source": source, "type": kind}
        content = step.get("content")
        if content is not None:
            if not isinstance(content, str):
                errors.add(f"{path}.content", "A step's content is text.")
            elif len(content) > MAX_STEP_TEXT:
                errors.add(f"{path}.content", f"A step has at most {MAX_STEP_TEXT} characters.")
            else:
                out["content"] = content
        tool = step.get("tool")
        if kind == "tool_call":
            if not isinstance(tool, dict) or not _text(tool.get("name")):
                errors.add(f"{path}.tool.name", "A tool call names its tool.")
            else:
                arguments = tool.get("arguments", {})
                if not isinstance(arguments, dict | str):
                    errors.add(f"{path}.tool.arguments", "Arguments are a JSON object (or text).")
                out["tool"] = {"name": tool["name"], "arguments": arguments}
                for key in sorted(set(tool) - {"name", "arguments"}):
                    errors.add(f"{path}.tool.{key}", "Not part of a tool call.")
        elif tool is not None:
            errors.add(f"{path}.tool", "Only a tool call step has a tool.")
        call_id = step.get("call_id")
        if call_id is not None:
            if not _text(call_id):
                errors.add(f"{path}.call_id", "A call id is text.")
            elif kind == "tool_call":
                if call_id in calls:
                    errors.add(f"{path}.call_id", f"The call id {call_id!r} is used twice.")
                calls.add(call_id)
            elif call_id not in calls:
                errors.add(f"{path}.call_id", f"No earlier tool call has the id {call_id!r}.")
            out["call_id"] = call_id
        if "image" in step:
            if not _image_ref(step["image"]):
                errors.add(
                    f"{path}.image", "An image is an http(s) URL, a site path or a data URL."
                )
            out["image"] = step["image"]
        if "click" in step:
            click = step["click"]
            if not (
                isinstance(click, dict) and _number(click.get("x")) and _number(click.get("y"))
            ):
                errors.add(f"{path}.click", "A click is {x, y} in the screenshot's pixels.")
            elif "image" not in step:
                errors.add(f"{path}.click", "A click is marked on the step's image.")
            else:
                out["click"] = {"x": click["x"], "y": click["y"]}
        if "metrics" in step:
            figures = step["metrics"]
            if not isinstance(figures, dict):
                errors.add(f"{path}.metrics", "Metrics are an object of numbers.")
            else:
                for key, value in figures.items():
                    if key not in STEP_METRICS:
                        errors.add(
                            f"{path}.metrics.{key}", f"Metrics are {', '.join(STEP_METRICS)}."
                        )
                    elif not _number(value) or value < 0:
                        errors.add(f"{path}.metrics.{key}", "A metric is a number, not negative.")
                out["metrics"] = figures
        needs_text = kind in ("message", "reasoning", "error", "observation")
        if needs_text and "content" not in out and (kind != "observation" or "image" not in out):
            errors.add(f"{path}.content", "This step needs its text.")
        if kind == "screenshot" and "image" not in out:
            errors.add(f"{path}.image", "A screenshot step needs its image.")
        for key in sorted(set(step) - STEP_KEYS):
            errors.add(f"{path}.{key}", "Not part of a step.")
        return out

    # --- result ---------------------------------------------------------------------------

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        errors = object_errors(result, path="result", message="An answer is a JSON object.")
        ratings = schema.get("ratings", DEFAULT_RATINGS)
        judged = judged_ids(data)
        by_id = {step["id"]: step for step in data.get("steps") or []}
        types = {t["name"]: t["severity"] for t in schema.get("error_types", [])}
        mode = schema.get("judging", "per_step")
        steps = result.get("steps", {})
        if steps is None:
            steps = {}
        if not isinstance(steps, dict):
            errors.add("result.steps", "Steps are an object: step id → {rating, error, note}.")
            steps = {}
        cleaned_steps: dict[str, dict] = {}
        for step_id, entry in steps.items():
            path = f"result.steps.{step_id}"
            if step_id not in judged:
                errors.add(path, "Not an agent step of this run.")
                continue
            if not isinstance(entry, dict):
                errors.add(path, "A step's judgement is an object {rating, error, note}.")
                continue
            cleaned = self._clean_judgement(entry, path, errors, ratings=ratings, types=types)
            if cleaned is not None:
                cleaned_steps[step_id] = cleaned
        first_error = result.get("first_error")
        if first_error is not None and first_error not in judged:
            errors.add(
                "result.first_error", "The first error is an agent step of this run, or null."
            )
            first_error = None
        worst = ratings[-1]
        if mode == "per_step":
            missing = [step_id for step_id in judged if step_id not in cleaned_steps]
            if missing:
                errors.add(
                    "result.steps",
                    f"Rate every agent step; not yet: {', '.join(missing[:10])}"
                    + (f" and {len(missing) - 10} more." if len(missing) > 10 else "."),
                )
            earliest = next(
                (s for s in judged if cleaned_steps.get(s, {}).get("rating") == worst), None
            )
            if not missing and "first_error" in result and first_error != earliest:
                errors.add(
                    "result.first_error",
                    f"The first error is the earliest step rated {worst!r}: "
                    + (f"step {earliest}." if earliest else "none (null)."),
                )
            first_error = earliest
        else:
            if "first_error" not in result:
                errors.add(
                    "result.first_error", "Mark the first wrong step, or say there is none (null)."
                )
            cleaned_steps = self._first_error_steps(
                cleaned_steps, errors, judged=judged, first_error=first_error, ratings=ratings
            )
        # Every agent step is in the answer, in the run's order, and the first error's position
        # among them: scores and agreement compare answers without the task's data.
        cleaned_steps = {s: cleaned_steps[s] for s in judged if s in cleaned_steps}
        at = judged.index(first_error) if first_error is not None else None
        out: dict = {"steps": cleaned_steps, "first_error": first_error, "first_error_at": at}
        out["corrections"] = self._clean_corrections(
            result.get("corrections"), errors, schema=schema, data=data, by_id=by_id,
            wrong=metrics.wrong_steps(out, schema=schema, data=data),
        )  # fmt: skip
        verdict = result.get("verdict")
        if verdict not in VERDICTS:
            errors.add("result.verdict", f"Give the run a verdict: {', '.join(VERDICTS)}.")
        out["verdict"] = verdict
        criteria = schema.get("criteria", [])
        if criteria:
            out["scores"] = self._clean_scores(result.get("scores"), criteria, errors)
        elif result.get("scores") not in (None, {}):
            errors.add("result.scores", "This project has no rubric criteria.")
        modes = schema.get("failure_modes", [])
        given_modes = result.get("failure_modes", [])
        if given_modes is None:
            given_modes = []
        if not isinstance(given_modes, list) or any(m not in modes for m in given_modes):
            errors.add("result.failure_modes", f"Failure modes are some of: {', '.join(modes)}.")
        elif len(set(given_modes)) != len(given_modes):
            errors.add("result.failure_modes", "Each failure mode is given once.")
        elif modes:
            out["failure_modes"] = [m for m in modes if m in given_modes]
        rule = schema.get("critique", "optional")
        critique = result.get("critique", "")
        if critique is None:
            critique = ""
        if not isinstance(critique, str) or len(critique) > MAX_CRITIQUE:
            errors.add(
                "result.critique", f"The critique is text of at most {MAX_CRITIQUE} characters."
            )
        elif rule == "none" and critique.strip():
            errors.add("result.critique", "This project asks for no critique.")
        elif rule == "required" and not critique.strip():
            errors.add("result.critique", "Write a critique: this project asks for one.")
        elif rule != "none":
            out["critique"] = critique
        for key in sorted(set(result) - RESULT_KEYS):
            errors.add(f"result.{key}", "Not part of a trajectory answer.")
        errors.raise_if_any()
        return out

    def _first_error_steps(
        self, given: dict, errors: Errors, *, judged: list[str], first_error: str | None,
        ratings: list[str],
    ) -> dict:  # fmt: skip
        """Every agent step's rating from the first error: the best before it, the worst from it
        on. A given judgement must agree; only the first error's own carries an error type."""
        at = judged.index(first_error) if first_error is not None else len(judged)
        steps = {}
        for i, step_id in enumerate(judged):
            rating = ratings[0] if i < at else ratings[-1]
            entry = given.get(step_id, {})
            path = f"result.steps.{step_id}"
            if entry and entry["rating"] != rating:
                errors.add(
                    f"{path}.rating",
                    f"With the first error at step {first_error}, this step is {rating!r}."
                    if first_error
                    else f"With no wrong step, this step is {rating!r}.",
                )
            if step_id != first_error and set(entry) - {"rating"}:
                errors.add(path, "Only the first wrong step takes an error type or a note.")
            steps[step_id] = (
                {**entry, "rating": rating} if step_id == first_error else {"rating": rating}
            )
        return steps

    def _clean_judgement(
        self, entry: dict, path: str, errors: Errors, *, ratings: list[str], types: dict
    ) -> dict | None:
        rating = entry.get("rating")
        if rating not in ratings:
            errors.add(f"{path}.rating", f"A rating is one of: {', '.join(ratings)}.")
            return None
        out = {"rating": rating}
        error = entry.get("error")
        if error is not None:
            if error not in types:
                errors.add(f"{path}.error", f"An error type is one of: {', '.join(types)}.")
            elif rating == ratings[0]:
                errors.add(f"{path}.error", f"A step rated {rating!r} has no error type.")
            else:
                out["error"] = error
                severity = entry.get("severity", types[error])
                if severity not in SEVERITIES:
                    errors.add(f"{path}.severity", f"A severity is {', '.join(SEVERITIES)}.")
                out["severity"] = severity
        elif entry.get("severity") is not None:
            errors.add(f"{path}.severity", "A severity goes with an error type.")
        note = entry.get("note", "")
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            errors.add(f"{path}.note", f"A note is text of at most {MAX_NOTE} characters.")
        elif note.strip():
            out["note"] = note
        for key in sorted(set(entry) - {"rating", "error", "severity", "note"}):
            errors.add(f"{path}.{key}", "Not part of a step's judgement.")
        return out

    def _clean_corrections(
        self, corrections: object, errors: Errors, *, schema: dict, data: dict, by_id: dict,
        wrong: list[str],
    ) -> list[dict]:  # fmt: skip
        if corrections in (None, []):
            return []
        if not schema.get("corrections", True):
            errors.add("result.corrections", "This project takes no corrections.")
            return []
        if not isinstance(corrections, list):
            errors.add("result.corrections", "Corrections are a list of {step, content | tool}.")
            return []
        tools = {tool["name"]: tool for tool in data.get("tools") or []}
        out, seen = [], set()
        for i, item in enumerate(corrections):
            path = f"result.corrections.{i}"
            if not isinstance(item, dict):
                errors.add(path, "A correction is an object {step, content | tool}.")
                continue
            step_id = item.get("step")
            if step_id not in by_id or by_id[step_id].get("source") != "agent":
                errors.add(f"{path}.step", "A correction replaces an agent step of this run.")
                continue
            if step_id in seen:
                errors.add(f"{path}.step", f"Step {step_id} is corrected twice.")
                continue
            seen.add(step_id)
            if step_id not in wrong:
                errors.add(
                    f"{path}.step", f"Step {step_id} is not judged wrong: nothing to correct."
                )
                continue
            for key in sorted(set(item) - {"step", "content", "tool"}):
                errors.add(f"{path}.{key}", "Not part of a correction.")
            has_content, has_tool = "content" in item, "tool" in item
            if has_content == has_tool:
                errors.add(
                    path, "A correction is either a message (content) or a tool call (tool)."
                )
                continue
            original = by_id[step_id]
            if has_content:
                content = item["content"]
                if not _text(content) or len(content) > MAX_STEP_TEXT:
                    errors.add(f"{path}.content", "Write the step as it should have been.")
                    continue
                if content == original.get("content") and original.get("type") != "tool_call":
                    errors.add(f"{path}.content", "The correction changes nothing yet.")
                    continue
                out.append({"step": step_id, "content": content})
                continue
            tool = item["tool"]
            if not isinstance(tool, dict) or not _text(tool.get("name")):
                errors.add(f"{path}.tool.name", "A corrected tool call names its tool.")
                continue
            name, arguments = tool["name"], tool.get("arguments", {})
            if tools and name not in tools:
                errors.add(f"{path}.tool.name", f"The run's tools are: {', '.join(tools)}.")
                continue
            if not isinstance(arguments, dict):
                errors.add(f"{path}.tool.arguments", "The arguments are a JSON object.")
                continue
            parameters = tools.get(name, {}).get("parameters")
            if parameters:
                problems = sorted(
                    Draft202012Validator(parameters).iter_errors(arguments), key=lambda e: e.path
                )
                if problems:
                    where = ".".join(str(p) for p in problems[0].path)
                    errors.add(
                        f"{path}.tool.arguments" + (f".{where}" if where else ""),
                        f"Does not fit the tool's parameters: {problems[0].message}",
                    )
                    continue
            for key in sorted(set(tool) - {"name", "arguments"}):
                errors.add(f"{path}.tool.{key}", "Not part of a tool call.")
            if original.get("type") == "tool_call" and original.get("tool") == {
                "name": name,
                "arguments": arguments,
            }:
                errors.add(f"{path}.tool", "The correction changes nothing yet.")
                continue
            out.append({"step": step_id, "tool": {"name": name, "arguments": arguments}})
        order = {step["id"]: i for i, step in enumerate(data.get("steps") or [])}
        return sorted(out, key=lambda c: order[c["step"]])

    def _clean_scores(self, scores: object, criteria: list[dict], errors: Errors) -> dict:
        if not isinstance(scores, dict):
            errors.add("result.scores", "Score the run on each criterion.")
            return {}
        out = {}
        for criterion in criteria:
            name, scale = criterion["name"], criterion["scale"]
            value = scores.get(name)
            if not _is_int(value) or not 1 <= value <= scale:
                errors.add(f"result.scores.{name}", f"Score {name} from 1 to {scale}.")
            else:
                out[name] = value
        for key in sorted(set(scores) - {c["name"] for c in criteria}):
            errors.add(f"result.scores.{key}", "Not a criterion of this project.")
        return out

    # --- quality: kinds/trajectory/metrics.py explains the choices ----------------------

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        """The mean of first-error agreement, per-step agreement and the verdict's (see metrics)."""
        return metrics.similarity(result, gold, schema=schema)

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        return metrics.agreement(results, schema=schema)

    def gold_parts(self, result: dict, gold: dict, *, schema: dict) -> dict[str, float]:
        """The four parts :meth:`score` averages, each reported on its own."""
        parts = metrics.gold_parts(result, gold, schema=schema)
        return {words: parts[key] for key, words in GOLD_PART_WORDS.items()}

    def agreement_shares(self, results: list[dict], *, schema: dict) -> dict[str, float]:
        return {"same first error": metrics.first_error_share(results)}

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        """Majority first error, per-step majority, majority verdict; corrections go to review."""
        consensus = metrics.consolidate(results, schema=schema, weights=weights, data=data)
        return Consensus(result=consensus.result, confidence=consensus.confidence)

    def disagreement(self, results: list[dict], *, schema: dict) -> str:
        """Corrections are not averaged: answers that correct the run differently go to review,
        where the reviewer's fix stands."""
        given = [
            sorted(json.dumps(c, sort_keys=True) for c in r.get("corrections") or [])
            for r in results
        ]
        if any(given) and any(g != given[0] for g in given):
            return (
                "The answers correct the run differently: corrections are not averaged, "
                "a reviewer picks or writes the one that stands."
            )
        return ""

    def alpha_questions(
        self, tasks: list[tuple[dict, list[dict]]], *, schema: dict
    ) -> list[AlphaQuestion]:
        """Ordinal alpha on step ratings (one unit per task and step), nominal on verdicts and on
        the first error."""
        tasks = list(tasks)
        steps, verdicts, firsts = metrics.alpha_units(tasks, schema=schema)
        questions = []
        if steps:
            questions.append(AlphaQuestion("step ratings", steps, "ordinal"))
        if verdicts:
            questions.append(AlphaQuestion("verdict", verdicts, "nominal"))
        if firsts:
            questions.append(AlphaQuestion("first error", firsts, "nominal"))
        return questions

    # --- the screens around the kind --------------------------------------------------------

    def schema_from_form(self, post) -> dict:
        def at(values: list[str], i: int, default: str = "") -> str:
            return values[i] if i < len(values) else default

        def lines(text: str) -> list[str]:
            return [line.strip() for line in (text or "").splitlines() if line.strip()]

        scales, labels = post.getlist("criterion_scale"), post.getlist("criterion_labels")
        severities = post.getlist("error_severity")
        return {
            "judging": post.get("judging", "per_step"),
            "ratings": lines(post.get("ratings", "")),
            "correct_ratings": int_or_text(post.get("correct_ratings", "1")),
            "error_types": [
                {"name": name, "severity": at(severities, i, "major")}
                for i, name in enumerate(post.getlist("error_name"))
            ],
            "corrections": post.get("corrections") == "on",
            "criteria": [
                {
                    "name": name,
                    "scale": int_or_text(at(scales, i, "5")),
                    "labels": lines(at(labels, i)),
                }
                for i, name in enumerate(post.getlist("criterion_name"))
            ],
            "failure_modes": lines(post.get("failure_modes", "")),
            "critique": post.get("critique", "optional"),
        }

    def schema_form(self, *, schema: dict, errors: dict[str, list[str]]) -> BuilderForm:
        criteria, used = rows_with_errors(
            [
                {
                    "name": c.get("name") or "",
                    "scale": c.get("scale", 5),
                    "labels": "\n".join(label for label in c.get("labels") or [] if label),
                }
                for c in schema.get("criteria", [])
                if isinstance(c, dict)
            ],
            prefix="criteria",
            fields=("name", "scale", "labels"),
            errors=errors,
        )
        error_rows, more = rows_with_errors(
            [
                {"name": t.get("name") or "", "severity": t.get("severity", "major")}
                for t in schema.get("error_types", [])
                if isinstance(t, dict)
            ],
            prefix="error_types",
            fields=("name", "severity"),
            errors=errors,
        )
        field_errors = {
            name: errors.get(name, [])
            for name in ("judging", "ratings", "correct_ratings", "failure_modes", "critique")
        }
        ratings = schema.get("ratings", DEFAULT_RATINGS)
        modes = schema.get("failure_modes", [])
        return BuilderForm(
            context={
                "criteria": criteria,
                "error_types": error_rows,
                "severities": SEVERITIES,
                "scales": list(range(2, 10)),
                "ratings": "\n".join(ratings) if isinstance(ratings, list) else "",
                "failure_modes": "\n".join(modes) if isinstance(modes, list) else "",
                "field_errors": field_errors,
            },
            used=frozenset(used | more | set(field_errors)),
        )

    def schema_form_edit(self, *, schema: dict, action: str) -> dict:
        criteria = edit_rows(
            schema.get("criteria", []),
            action=action,
            noun="criterion",
            new={"name": "", "scale": 5, "labels": []},
        )
        error_types = edit_rows(
            schema.get("error_types", []),
            action=action,
            noun="error-type",
            new={"name": "", "severity": "major"},
        )
        return {**schema, "criteria": criteria, "error_types": error_types}

    def export_formats(self) -> tuple[ExportFormat, ...]:
        return (
            ExportFormat(
                "stepwise",
                "Stepwise supervision for process reward models (TRL, JSONL)",
                JSONL,
                "jsonl",
                write=files.stepwise,
            ),
            ExportFormat(
                "sft",
                "SFT of the corrected runs, with tool calls (JSONL, messages + tools)",
                JSONL,
                "jsonl",
                write=files.sft,
            ),
            ExportFormat(
                "dpo",
                "DPO pairs at the divergence, conversational (JSONL)",
                JSONL,
                "jsonl",
                write=files.dpo,
            ),
            ExportFormat(
                "verdicts",
                "Verdicts and rubric scores (JSONL)",
                JSONL,
                "jsonl",
                write=files.verdicts_jsonl,
                answers=True,
            ),
            ExportFormat(
                "verdicts_csv",
                "Verdicts and rubric scores (CSV)",
                CSV,
                "csv",
                write=files.verdicts_csv,
                answers=True,
            ),
            ExportFormat(
                "atif",
                "ATIF trajectories with the labels attached (JSONL, Harbor)",
                JSONL,
                "jsonl",
                write=files.atif,
            ),
        )

    def review_summary(self, result: dict, *, schema: dict) -> str:
        parts = [f"verdict {result.get('verdict') or '—'}"]
        first = result.get("first_error")
        parts.append(f"first error at step {first}" if first else "no wrong step")
        corrections = result.get("corrections") or []
        if corrections:
            parts.append(f"{len(corrections)} correction{'s' if len(corrections) != 1 else ''}")
        if result.get("failure_modes"):
            parts.append(", ".join(result["failure_modes"]))
        return " · ".join(parts)

    def review_views(
        self,
        *,
        results: list[dict],
        proposal: dict | None,
        data: dict,
        media_meta: dict,
        schema: dict,
    ) -> ReviewViews:
        """Per answer: the wrong steps with their error types, each correction as a word diff
        against the original step, the verdict, scores and critique."""
        by_id = {step["id"]: step for step in data.get("steps") or []}
        answers = []
        for result in results:
            wrong = metrics.wrong_steps(result, schema=schema, data=data)
            judgements = result.get("steps") or {}
            corrections = []
            for correction in result.get("corrections") or []:
                original = by_id.get(correction.get("step"), {})
                new = (
                    step_text({"type": "tool_call", "tool": correction["tool"]})
                    if correction.get("tool")
                    else correction.get("content", "")
                )
                corrections.append(
                    {"step": correction.get("step"), "diff": word_diff(step_text(original), new)}
                )
            answers.append(
                {
                    "first_error": result.get("first_error"),
                    "wrong": [
                        {"step": step_id, **(judgements.get(step_id) or {})}
                        for step_id in wrong[:50]
                    ],
                    "wrong_count": len(wrong),
                    "corrections": corrections,
                    "verdict": result.get("verdict"),
                    "scores": result.get("scores") or {},
                    "failure_modes": result.get("failure_modes") or [],
                    "critique": result.get("critique") or "",
                }
            )
        return ReviewViews(shared={"figures": run_figures(data)}, answers=answers)


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
