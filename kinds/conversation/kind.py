"""Conversations judged turn by turn against a rubric, rewritten, written, or compared.

``data = {"messages": [{"role": "system"|"user"|"assistant", "content", "model"?, "judge"?}],
"candidates"?: [{"id", "content", "model"?}], "context"?, "title"?, "live"?}``. The turns to
judge are the assistant turns (those marked ``"judge": true``, else all); candidates are possible
next assistant replies; ``context`` and ``title`` are notes for people. A ``live`` task is a seed
that the contributor turns into a conversation with the project's own model (``genai``).

The schema is the manager's rubric: ``criteria`` (each a name, a ``scale`` of 2 to 9 points with
words for each point, judged per ``turn`` or per ``conversation``), ``error_types`` for marking
spans (each with a severity), the ``modes`` the project uses (``rate``: scores, spans, rationale;
``rewrite``: the assistant turn as it should have been; ``write``: the next reply, or user turns
and replies, from the instructions alone; ``compare``: rank the candidates and score each on the
per-turn criteria), how ``write`` works (``reply`` or ``conversation``) and the ``rationale``.

``result = {"turns": [{"index", "scores", "spans": [{"start", "end", "type", "note"?}],
"rewrite"?}], "scores"?, "candidates"?: [{"id", "scores", "spans"}], "order"?, "written"?,
"rationale"?}``; span offsets are characters of the turn's content (Python string indexes).
The metrics are in ``metrics.py`` beside this module, the files it writes in
``formats.py``.
"""

from kinds import (
    SHUFFLE_BAR,
    AlphaQuestion,
    BuilderForm,
    Consensus,
    EditorSpec,
    Errors,
    LiveLimits,
    PositionOutcome,
    ReviewViews,
    SchemaBuilder,
    TaskKind,
    edit_rows,
    in_order,
    int_or_text,
    object_errors,
    one_line,
    rows_with_errors,
    without_models,
)
from kinds.conversation import formats as files
from kinds.conversation import metrics
from kinds.diffs import word_diff
from kinds.formats import ExportFormat

MODES = ("rate", "rewrite", "write", "compare")
ROLES = ("system", "user", "assistant")
PER = ("turn", "conversation")
SEVERITIES = ("minor", "major", "critical")
WRITE_STYLES = ("reply", "conversation")
RATIONALE_CHOICES = ("none", "optional", "required")
MAX_MESSAGES = 500
MAX_TEXT = 100_000
MAX_CONVERSATION = 1_000_000
MAX_SPANS = 200
JSONL = "application/x-ndjson"
SCHEMA_KEYS = {"modes", "criteria", "error_types", "write", "rationale"}
RESULT_KEYS = {"turns", "scores", "candidates", "order", "written", "rationale"}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def default_labels(scale: int) -> list[str]:
    return [""] * scale


def judged_turns(messages: list[dict]) -> list[int]:
    return files.judged_turns(messages)


def next_role(messages: list[dict]) -> str:
    """Who speaks next: the assistant after a user turn, else the user."""
    return "assistant" if messages and messages[-1].get("role") == "user" else "user"


class ConversationKind(TaskKind):
    name = "conversation"
    label = "Conversation evaluation"
    description = (
        "Judge chats turn by turn against a rubric, mark wrong spans, rewrite replies, write "
        "ideal answers (SFT) or rank candidate replies."
    )
    editor = EditorSpec(template="conversation/editor.html", module="conversation/editor.js")
    schema_builder = SchemaBuilder(
        template="conversation/builder.html",
        heading="Rubric and modes",
        save_label="Save rubric",
    )
    review_template = "conversation/review.html"
    # genai: a live task is a seed the contributor talks on with the model, within these limits
    live_mode = LiveLimits(messages=MAX_MESSAGES, text=MAX_TEXT)
    has_alpha = True
    shows_candidates = True
    quality_bars = (SHUFFLE_BAR,)

    def candidate_ids(self, data: dict) -> list[str]:
        return [c["id"] for c in data.get("candidates") or [] if isinstance(c, dict) and "id" in c]

    def in_shown_order(self, data: dict, order: list[str]) -> dict:
        """The candidate replies in ``order``; the conversation itself stays as it is."""
        if not data.get("candidates"):
            return data
        return {**data, "candidates": in_order(data["candidates"], order)}

    def position_outcome(
        self, result: dict, *, shown_order: list[str], schema: dict
    ) -> PositionOutcome | None:
        """Whether the candidate shown first was ranked first (1 in n by chance; an order has
        no ties); ``None`` for an answer that ranked nothing."""
        order = result.get("order") if isinstance(result, dict) else None
        if len(shown_order) < 2 or not isinstance(order, list) or not order:
            return None
        return PositionOutcome(
            first_won=order[0] == shown_order[0],
            tie=False,
            expected=1 / len(shown_order),
            ties_possible=False,
        )

    def for_contributor(self, data: dict) -> dict:
        """Blind: the replies and candidates without the names of the models that wrote them."""
        if not isinstance(data, dict):
            return data
        blind = dict(data)
        for key in ("messages", "candidates"):
            if key in blind:
                blind[key] = without_models(blind[key])
        return blind

    def summary(self, data: dict) -> str:
        """How many turns, the last user message, and the candidates if any."""
        data = data or {}
        messages = data.get("messages") or []
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        last = one_line(str(users[-1].get("content", "")), limit=80) if users else ""
        words = f"{len(messages)} turn{'s' if len(messages) != 1 else ''}"
        if last:
            words += f" · “{last}”"
        candidates = data.get("candidates") or []
        if candidates:
            words += f" · {len(candidates)} candidate{'s' if len(candidates) != 1 else ''}"
        return words

    def default_schema(self) -> dict:
        return {
            "modes": ["rate", "rewrite"],
            "criteria": [
                {
                    "name": "accuracy",
                    "scale": 5,
                    "per": "turn",
                    "labels": [
                        "wrong or harmful",
                        "mostly wrong",
                        "partly right",
                        "mostly right",
                        "fully correct and helpful",
                    ],
                },
                {
                    "name": "helpfulness",
                    "scale": 5,
                    "per": "turn",
                    "labels": ["useless", "barely helps", "helps", "helps a lot", "ideal"],
                },
            ],
            "error_types": [
                {"name": "factual error", "severity": "major"},
                {"name": "instruction not followed", "severity": "major"},
                {"name": "unsafe", "severity": "critical"},
                {"name": "code bug", "severity": "major"},
            ],
            "write": "reply",
            "rationale": "optional",
        }

    # --- schema ---------------------------------------------------------------------------

    def clean_schema(self, schema: dict) -> dict:
        errors = object_errors(schema, path="", message="The schema must be a JSON object.")
        modes = schema.get("modes", ["rate"])
        if (
            not isinstance(modes, list)
            or not modes
            or any(mode not in MODES for mode in modes)
            or len(set(modes)) != len(modes)
        ):
            errors.add("modes", f"Choose one or more modes from {', '.join(MODES)}, once each.")
            modes = []
        criteria = self._clean_criteria(schema.get("criteria", []), errors)
        error_types = self._clean_error_types(schema.get("error_types", []), errors)
        if "rate" in modes and not criteria and not error_types:
            errors.add("criteria", "The rate mode needs a criterion to score or an error type.")
        write = schema.get("write", "reply")
        if write not in WRITE_STYLES:
            errors.add("write", "Writing is 'reply' (the next reply) or 'conversation'.")
        rationale = schema.get("rationale", "optional")
        if rationale not in RATIONALE_CHOICES:
            errors.add("rationale", "The rationale is 'none', 'optional' or 'required'.")
        for key in sorted(set(schema) - SCHEMA_KEYS):
            errors.add(key, "Unknown setting for a conversation project.")
        errors.raise_if_any()
        return {
            "modes": [mode for mode in MODES if mode in modes],
            "criteria": criteria,
            "error_types": error_types,
            "write": write,
            "rationale": rationale,
        }

    def _clean_criteria(self, criteria: object, errors: Errors) -> list[dict]:
        if not isinstance(criteria, list):
            errors.add("criteria", "Criteria are a list of {name, scale, per, labels}.")
            return []
        if len(criteria) > 12:
            errors.add("criteria", "At most 12 criteria.")
        cleaned: list[dict] = []
        names: set[str] = set()
        for i, item in enumerate(criteria):
            path = f"criteria.{i}"
            if not isinstance(item, dict):
                errors.add(path, "A criterion is an object {name, scale, per, labels}.")
                continue
            name = item.get("name")
            if not _text(name):
                errors.add(f"{path}.name", "A criterion needs a name.")
                continue
            name = name.strip()
            if len(name) > 60 or "." in name:
                errors.add(f"{path}.name", "A criterion name has at most 60 characters, no dot.")
            elif name.lower() in names:
                errors.add(f"{path}.name", f"The criterion {name!r} is given twice.")
            names.add(name.lower())
            scale = item.get("scale", 5)
            if not _is_int(scale) or not 2 <= scale <= 9:
                errors.add(f"{path}.scale", "A scale has 2 to 9 points (one digit key each).")
                scale = 5
            per = item.get("per", "turn")
            if per not in PER:
                errors.add(f"{path}.per", "A criterion is judged per 'turn' or 'conversation'.")
            labels = item.get("labels") or []
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                errors.add(f"{path}.labels", "The words per point are a list of texts.")
                labels = []
            labels = [label.strip() for label in labels]
            if labels and len(labels) != scale:
                errors.add(
                    f"{path}.labels", f"Give words for each of the {scale} points, or for none."
                )
            elif any(len(label) > 200 for label in labels):
                errors.add(f"{path}.labels", "The words for a point have at most 200 characters.")
            for key in sorted(set(item) - {"name", "scale", "per", "labels"}):
                errors.add(f"{path}.{key}", "Unknown setting for a criterion.")
            cleaned.append(
                {"name": name, "scale": scale, "per": per, "labels": labels or [""] * scale}
            )
        return cleaned

    def _clean_error_types(self, error_types: object, errors: Errors) -> list[dict]:
        if not isinstance(error_types, list):
            errors.add("error_types", "Error types are a list of {name, severity}.")
            return []
        if len(error_types) > 12:
            errors.add("error_types", "At most 12 error types.")
        cleaned: list[dict] = []
        names: set[str] = set()
        for i, item in enumerate(error_types):
            path = f"error_types.{i}"
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict):
                errors.add(path, "An error type is an object {name, severity}.")
                continue
            name = item.get("name")
            if not _text(name):
                errors.add(f"{path}.name", "An error type needs a name.")
                continue
            name = name.strip()
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

    # --- data -----------------------------------------------------------------------------

    def task_modes(self, *, schema: dict, data: dict) -> list[str]:
        """The modes that apply to this task: its own ``data.modes`` (some of the project's),
        else the project's."""
        own = data.get("modes") if isinstance(data, dict) else None
        return own if isinstance(own, list) and own else schema.get("modes", [])

    def applies(self, *, schema: dict, data: dict) -> dict[str, bool]:
        """Which of the task's modes (:meth:`task_modes`) it gives work for."""
        modes = self.task_modes(schema=schema, data=data)
        messages = data.get("messages") or []
        turns = bool(judged_turns(messages))
        style = schema.get("write", "reply")
        return {
            "rate": "rate" in modes and turns,
            "rewrite": "rewrite" in modes and turns,
            "compare": "compare" in modes and bool(data.get("candidates")),
            "write": "write" in modes
            and (style == "conversation" or next_role(messages) == "assistant"),
        }

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        errors = object_errors(data, path="data", message="A task's data must be a JSON object.")
        messages = data.get("messages", [])
        if not isinstance(messages, list):
            errors.add("data.messages", "Messages are a list of {role, content}.")
            errors.raise_if_any()
        if len(messages) > MAX_MESSAGES:
            errors.add("data.messages", f"At most {MAX_MESSAGES} messages.")
            errors.raise_if_any()
        total = 0
        for i, message in enumerate(messages):
            path = f"data.messages.{i}"
            if not isinstance(message, dict):
                errors.add(path, "A message is an object {role, content}.")
                continue
            if message.get("role") not in ROLES:
                errors.add(f"{path}.role", f"A role is one of {', '.join(ROLES)}.")
            content = message.get("content")
            if not isinstance(content, str):
                errors.add(f"{path}.content", "A message's content is text.")
                continue
            if len(content) > MAX_TEXT:
                errors.add(f"{path}.content", f"A message has at most {MAX_TEXT} characters.")
            total += len(content)
            if "model" in message and not (
                isinstance(message["model"], str) and len(message["model"]) <= 200
            ):
                errors.add(f"{path}.model", "The model is a name (text).")
            if "judge" in message and not isinstance(message["judge"], bool):
                errors.add(f"{path}.judge", "Say true or false.")
        if total > MAX_CONVERSATION:
            errors.add(
                "data.messages", f"A conversation has at most {MAX_CONVERSATION} characters."
            )
        candidates = data.get("candidates")
        if candidates is not None:
            self._clean_candidates(candidates, errors, schema=schema)
        own_modes = data.get("modes")
        if own_modes is not None:
            project_modes = schema.get("modes", [])
            if (
                not isinstance(own_modes, list)
                or not own_modes
                or any(mode not in project_modes for mode in own_modes)
                or len(set(own_modes)) != len(own_modes)
            ):
                errors.add(
                    "data.modes",
                    "The task's modes are some of the project's "
                    f"({', '.join(project_modes)}), once each.",
                )
        for key in sorted(set(data) - {"messages", "candidates", "live", "modes"}):
            if key not in ("title", "context"):  # free notes for people, kept as given
                errors.add(f"data.{key}", "Not part of a conversation task.")
        for key in ("title", "context"):
            if key in data and not (isinstance(data[key], str) and len(data[key]) <= 10_000):
                errors.add(f"data.{key}", "A note for people: text of at most 10000 characters.")
        live = data.get("live", False)
        if not isinstance(live, bool):
            errors.add("data.live", "Say true or false.")
        elif live and candidates is not None:
            errors.add("data.candidates", "A live conversation has no candidates.")
        # A live task is a seed: the contributor makes the conversation with the project's model.
        if not errors and not live:
            applies = self.applies(schema=schema, data=data)
            if not any(applies.values()):
                errors.add("data.messages", self._nothing_to_do(schema))
        errors.raise_if_any()
        return data

    def _clean_candidates(self, candidates: object, errors: Errors, *, schema: dict) -> None:
        if "compare" not in schema.get("modes", []):
            errors.add("data.candidates", "This project does not compare candidate replies.")
            return
        if not isinstance(candidates, list) or not 2 <= len(candidates) <= 8:
            errors.add("data.candidates", "Give 2 to 8 candidate replies.")
            return
        ids: set[str] = set()
        for i, candidate in enumerate(candidates):
            path = f"data.candidates.{i}"
            if not isinstance(candidate, dict):
                errors.add(path, "A candidate is an object {id, content}.")
                continue
            cid = candidate.get("id")
            if not _text(cid) or len(cid) > 40:
                errors.add(f"{path}.id", "A candidate id is short text.")
            elif cid in ids:
                errors.add(f"{path}.id", f"The id {cid!r} is used twice.")
            else:
                ids.add(cid)
            content = candidate.get("content")
            if not _text(content) or len(content) > MAX_TEXT:
                errors.add(
                    f"{path}.content", f"A candidate's content is text (at most {MAX_TEXT})."
                )

    def _nothing_to_do(self, schema: dict) -> str:
        modes = schema.get("modes", [])
        needs = []
        if "rate" in modes or "rewrite" in modes:
            needs.append("an assistant turn to judge")
        if "compare" in modes:
            needs.append("candidates to compare")
        if "write" in modes:
            needs.append("a last turn from the user (a reply to write)")
        return f"Nothing to do in this task: give {' or '.join(needs) or 'messages'}."

    # --- result ---------------------------------------------------------------------------

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        errors = object_errors(result, path="result", message="A result must be a JSON object.")
        messages = data.get("messages") or []
        applies = self.applies(schema=schema, data=data)
        criteria = [c for c in schema.get("criteria", []) if isinstance(c, dict)]
        per_turn = {c["name"]: c for c in criteria if c.get("per", "turn") == "turn"}
        per_conversation = {c["name"]: c for c in criteria if c.get("per") == "conversation"}
        types = {t["name"] for t in schema.get("error_types", []) if isinstance(t, dict)}
        judged = judged_turns(messages)
        cleaned: dict = {}
        if data.get("live") and not judged:
            errors.add("result.turns", "Talk to the model first: there is no reply to judge yet.")
        for key in sorted(set(result) - RESULT_KEYS):
            errors.add(f"result.{key}", "Not part of a conversation answer.")

        turns = result.get("turns", [])
        if not isinstance(turns, list):
            errors.add("result.turns", "Turns are a list of {index, scores, spans, rewrite}.")
            turns = []
        seen: dict[int, int] = {}
        cleaned_turns = []
        for i, turn in enumerate(turns):
            path = f"result.turns.{i}"
            if not isinstance(turn, dict):
                errors.add(path, "A turn is an object {index, scores, spans, rewrite}.")
                continue
            index = turn.get("index")
            if not _is_int(index) or index not in judged:
                errors.add(f"{path}.index", "Not a turn to judge in this conversation.")
                continue
            if index in seen:
                errors.add(f"{path}.index", f"Turn {index} is answered twice.")
                continue
            seen[index] = i
            for key in sorted(set(turn) - {"index", "scores", "spans", "rewrite"}):
                errors.add(f"{path}.{key}", "Not part of a turn's answer.")
            content = messages[index]["content"]
            entry = {"index": index}
            entry["scores"] = self._clean_scores(
                turn.get("scores"), per_turn, errors, path=f"{path}.scores",
                required=applies["rate"],
            )  # fmt: skip
            entry["spans"] = self._clean_spans(
                turn.get("spans"), types, len(content), errors, path=f"{path}.spans"
            )
            rewrite = turn.get("rewrite")
            if rewrite not in (None, ""):
                if not applies["rewrite"]:
                    errors.add(f"{path}.rewrite", "This project does not take rewrites.")
                elif not isinstance(rewrite, str) or len(rewrite) > MAX_TEXT:
                    errors.add(f"{path}.rewrite", f"A rewrite is text (at most {MAX_TEXT}).")
                elif not rewrite.strip():
                    errors.add(f"{path}.rewrite", "A rewrite needs some text.")
                elif rewrite == content:
                    errors.add(f"{path}.rewrite", "The rewrite is the same as the original turn.")
                else:
                    entry["rewrite"] = rewrite
            if entry["scores"] or entry["spans"] or "rewrite" in entry:
                cleaned_turns.append(entry)
        if applies["rate"] and per_turn:
            missing = [index for index in judged if index not in seen]
            if missing:
                listed = ", ".join(map(str, missing[:10])) + ("…" if len(missing) > 10 else "")
                errors.add("result.turns", f"Score every turn to judge; not yet: {listed}.")
        rewrite_only = applies["rewrite"] and not (
            applies["rate"] or applies["compare"] or applies["write"]
        )
        if rewrite_only and not any("rewrite" in t for t in cleaned_turns):
            errors.add("result.turns", "Rewrite at least one assistant turn.")
        cleaned["turns"] = sorted(cleaned_turns, key=lambda t: t["index"])

        scores = result.get("scores")
        if per_conversation or scores:
            cleaned["scores"] = self._clean_scores(
                scores, per_conversation, errors, path="result.scores", required=applies["rate"]
            )
        self._clean_compare(result, data, per_turn, types, applies, errors, cleaned)
        self._clean_written(result, schema, messages, applies, errors, cleaned)

        rationale = result.get("rationale", "")
        rule = schema.get("rationale", "optional")
        if not isinstance(rationale, str):
            errors.add("result.rationale", "The rationale is text.")
        elif rule == "none" and rationale.strip():
            errors.add("result.rationale", "This project does not ask for a rationale.")
        elif rule == "required" and not rationale.strip():
            errors.add("result.rationale", "This project asks for a rationale.")
        elif len(rationale) > 10_000:
            errors.add("result.rationale", "The rationale has at most 10000 characters.")
        elif rule != "none":
            cleaned["rationale"] = rationale
        errors.raise_if_any()
        return cleaned

    def _clean_scores(
        self, scores: object, criteria: dict[str, dict], errors: Errors, *, path: str, required
    ) -> dict:
        if scores is None:
            scores = {}
        if not isinstance(scores, dict):
            errors.add(path, "Scores are an object {criterion: points}.")
            return {}
        cleaned = {}
        for name in sorted(set(scores) - set(criteria)):
            errors.add(f"{path}.{name}", "Not a criterion of this project here.")
        for name, criterion in criteria.items():
            value = scores.get(name)
            scale = criterion.get("scale", 5)
            if value is None:
                if required:
                    errors.add(f"{path}.{name}", f"Score {name!r} from 1 to {scale}.")
                continue
            if not _is_int(value) or not 1 <= value <= scale:
                errors.add(f"{path}.{name}", f"A score of {name!r} is a whole number 1 to {scale}.")
                continue
            cleaned[name] = value
        return cleaned

    def _clean_spans(
        self, spans: object, types: set[str], length: int, errors: Errors, *, path: str
    ) -> list[dict]:
        if spans in (None, []):
            return []
        if not types:
            errors.add(path, "This project has no error types to mark spans with.")
            return []
        if not isinstance(spans, list):
            errors.add(path, "Spans are a list of {start, end, type, note}.")
            return []
        if len(spans) > MAX_SPANS:
            errors.add(path, f"At most {MAX_SPANS} spans in one turn.")
            return []
        cleaned, seen = [], set()
        for i, span in enumerate(spans):
            where = f"{path}.{i}"
            if not isinstance(span, dict):
                errors.add(where, "A span is an object {start, end, type, note}.")
                continue
            start, end = span.get("start"), span.get("end")
            if not _is_int(start) or not 0 <= start < length:
                errors.add(f"{where}.start", f"A span starts in the turn (0 to {length - 1}).")
                continue
            if not _is_int(end) or not start < end <= length:
                errors.add(f"{where}.end", f"A span ends after its start, at most at {length}.")
                continue
            if span.get("type") not in types:
                errors.add(f"{where}.type", f"Choose an error type: {', '.join(sorted(types))}.")
                continue
            note = span.get("note", "")
            if not isinstance(note, str) or len(note) > 2000:
                errors.add(f"{where}.note", "A note is text of at most 2000 characters.")
                continue
            for key in sorted(set(span) - {"start", "end", "type", "note"}):
                errors.add(f"{where}.{key}", "Not part of a span.")
            key = (start, end, span["type"])
            if key in seen:
                errors.add(where, "The same span is marked twice.")
                continue
            seen.add(key)
            entry = {"start": start, "end": end, "type": span["type"]}
            if note.strip():
                entry["note"] = note
            cleaned.append(entry)
        return sorted(cleaned, key=lambda s: (s["start"], s["end"], s["type"]))

    def _clean_compare(self, result, data, per_turn, types, applies, errors, cleaned) -> None:
        ids = [c["id"] for c in data.get("candidates") or [] if isinstance(c, dict)]
        contents = {c["id"]: c["content"] for c in data.get("candidates") or []}
        order, candidates = result.get("order"), result.get("candidates")
        if not applies["compare"]:
            if order not in (None, []):
                errors.add("result.order", "This task has no candidates to rank.")
            if candidates not in (None, []):
                errors.add("result.candidates", "This task has no candidates to score.")
            return
        if (
            not isinstance(order, list)
            or not all(isinstance(item, str) for item in order)
            or sorted(order) != sorted(ids)
        ):
            errors.add("result.order", "The order lists every candidate id once, best first.")
        else:
            cleaned["order"] = order
        if candidates is None:
            candidates = []
        if not isinstance(candidates, list):
            errors.add("result.candidates", "Candidates are a list of {id, scores, spans}.")
            candidates = []
        given: dict[str, int] = {}
        entries = []
        for i, candidate in enumerate(candidates):
            path = f"result.candidates.{i}"
            if not isinstance(candidate, dict) or candidate.get("id") not in ids:
                errors.add(f"{path}.id", "Not a candidate of this task.")
                continue
            cid = candidate["id"]
            if cid in given:
                errors.add(f"{path}.id", f"The candidate {cid!r} is answered twice.")
                continue
            given[cid] = i
            entry = {"id": cid}
            entry["scores"] = self._clean_scores(
                candidate.get("scores"), per_turn, errors, path=f"{path}.scores", required=True
            )
            entry["spans"] = self._clean_spans(
                candidate.get("spans"), types, len(contents[cid]), errors, path=f"{path}.spans"
            )
            entries.append(entry)
        if per_turn:
            missing = [cid for cid in ids if cid not in given]
            if missing:
                errors.add(
                    "result.candidates", f"Score every candidate; not yet: {', '.join(missing)}."
                )
        if entries:
            cleaned["candidates"] = sorted(entries, key=lambda e: ids.index(e["id"]))

    def _clean_written(self, result, schema, messages, applies, errors, cleaned) -> None:
        written = result.get("written")
        if not applies["write"]:
            if written not in (None, []):
                errors.add("result.written", "This project does not take written turns here.")
            return
        if not isinstance(written, list) or not written:
            errors.add("result.written", "Write the reply (a list of {role, content}).")
            return
        if len(written) > 50:
            errors.add("result.written", "At most 50 written turns.")
            return
        expected = next_role(messages)
        out = []
        for i, message in enumerate(written):
            path = f"result.written.{i}"
            if not isinstance(message, dict):
                errors.add(path, "A written turn is an object {role, content}.")
                continue
            if message.get("role") != expected:
                errors.add(f"{path}.role", f"This turn is the {expected}'s.")
            content = message.get("content")
            if not _text(content) or len(content) > MAX_TEXT:
                errors.add(f"{path}.content", f"Write this turn (at most {MAX_TEXT} characters).")
            for key in sorted(set(message) - {"role", "content"}):
                errors.add(f"{path}.{key}", "Not part of a written turn.")
            out.append({"role": expected, "content": content})
            expected = "user" if expected == "assistant" else "assistant"
        if schema.get("write", "reply") == "reply" and len(written) != 1:
            errors.add("result.written", "Write one reply: the assistant's next turn.")
        elif written and isinstance(written[-1], dict) and written[-1].get("role") != "assistant":
            errors.add("result.written", "End with the assistant's reply.")
        cleaned["written"] = out

    # --- quality: kinds/conversation/metrics.py explains the choices -----------

    def rubric(self, schema: dict) -> metrics.Rubric:
        return metrics.Rubric(
            scales={c["name"]: c.get("scale", 5) for c in schema.get("criteria", [])},
            error_types=tuple(t["name"] for t in schema.get("error_types", [])),
        )

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        """Ordinal agreement of the scores, span F1 and the order's τ, averaged."""
        return metrics.similarity(result, gold, self.rubric(schema))

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        return metrics.agreement(results, self.rubric(schema))

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        """Median scores, majority spans, Bradley–Terry order; texts from the medoid answer."""
        consensus = metrics.consolidate(results, self.rubric(schema), weights=weights)
        return Consensus(result=consensus.result, confidence=consensus.confidence)

    def alpha_questions(
        self, tasks: list[tuple[dict, list[dict]]], *, schema: dict
    ) -> list[AlphaQuestion]:
        """Ordinal alpha per criterion, one unit per task and turn (or candidate)."""
        names = [c["name"] for c in schema.get("criteria", [])]
        units = metrics.alpha_units((results for _data, results in tasks), names)
        return [AlphaQuestion(name, units[name], "ordinal") for name in names if units[name]]

    # --- the screens around the kind --------------------------------------------------------

    def schema_from_form(self, post) -> dict:
        names = post.getlist("criterion_name")
        scales = post.getlist("criterion_scale")
        pers = post.getlist("criterion_per")
        labels = post.getlist("criterion_labels")

        def at(values: list[str], i: int, default: str = "") -> str:
            return values[i] if i < len(values) else default

        criteria = [
            {
                "name": name,
                "scale": int_or_text(at(scales, i, "5")),
                "per": at(pers, i, "turn"),
                "labels": [line.strip() for line in at(labels, i).splitlines() if line.strip()],
            }
            for i, name in enumerate(names)
        ]
        severities = post.getlist("error_severity")
        error_types = [
            {"name": name, "severity": at(severities, i, "major")}
            for i, name in enumerate(post.getlist("error_name"))
        ]
        return {
            "modes": post.getlist("mode"),
            "criteria": criteria,
            "error_types": error_types,
            "write": post.get("write", "reply"),
            "rationale": post.get("rationale", "optional"),
        }

    def schema_form(self, *, schema: dict, errors: dict[str, list[str]]) -> BuilderForm:
        criteria = [
            {
                "name": c.get("name") or "",
                "scale": c.get("scale", 5),
                "per": c.get("per", "turn"),
                "labels": "\n".join(label for label in c.get("labels") or [] if label),
            }
            for c in schema.get("criteria", [])
            if isinstance(c, dict)
        ]
        rows, used = rows_with_errors(
            criteria, prefix="criteria", fields=("name", "scale", "per", "labels"), errors=errors
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
        modes = schema.get("modes", [])
        return BuilderForm(
            context={
                "criteria": rows,
                "error_types": error_rows,
                "modes": [
                    (mode, words, mode in modes)
                    for mode, words in (
                        ("rate", "Rate: score each assistant turn, mark wrong spans"),
                        ("rewrite", "Rewrite: write the assistant turn as it should have been"),
                        ("write", "Write: the next reply (SFT), from the instructions alone"),
                        ("compare", "Compare: rank candidate replies and score each"),
                    )
                ],
                "severities": SEVERITIES,
                "scales": list(range(2, 10)),
            },
            used=frozenset(used | more),
        )

    def schema_form_edit(self, *, schema: dict, action: str) -> dict:
        criteria = edit_rows(
            schema.get("criteria", []),
            action=action,
            noun="criterion",
            new={"name": "", "scale": 5, "per": "turn", "labels": []},
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
                "sft",
                "SFT chats (JSONL, messages)",
                JSONL,
                "jsonl",
                write=lambda items, context: files.sft(items),
            ),
            ExportFormat(
                "dpo",
                "DPO pairs, conversational (JSONL)",
                JSONL,
                "jsonl",
                write=lambda items, context: files.dpo(items),
            ),
            ExportFormat(
                "rubric",
                "Rubric scores (JSONL)",
                JSONL,
                "jsonl",
                write=files.rubric_jsonl,
                answers=True,
            ),
            ExportFormat(
                "rubric_csv",
                "Rubric scores (CSV)",
                "text/csv; charset=utf-8",
                "csv",
                write=files.rubric_csv,
                answers=True,
            ),
            ExportFormat(
                "jsonl",
                "Everything: data, result and every answer (JSONL)",
                JSONL,
                "jsonl",
                write=lambda items, context: files.full_jsonl(items),
                answers=True,
            ),
        )

    def review_summary(self, result: dict, *, schema: dict) -> str:
        turns = result.get("turns") or []
        spans = sum(len(t.get("spans") or []) for t in turns)
        rewrites = sum(1 for t in turns if t.get("rewrite"))
        parts = [f"{len(turns)} turn{'s' if len(turns) != 1 else ''} answered"]
        if spans:
            parts.append(f"{spans} span{'s' if spans != 1 else ''}")
        if rewrites:
            parts.append(f"{rewrites} rewrite{'s' if rewrites != 1 else ''}")
        if result.get("order"):
            parts.append("order " + " > ".join(result["order"]))
        if result.get("written"):
            parts.append(f"{len(result['written'])} written")
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
        """Per answer: each turn's scores, the marked text of each span, and the rewrite as a
        word diff against the original turn."""
        messages = data.get("messages") or []
        answers = []
        for result in results:
            turns = []
            for turn in result.get("turns") or []:
                index = turn.get("index")
                if not isinstance(index, int) or not 0 <= index < len(messages):
                    continue
                content = messages[index].get("content", "")
                turns.append(
                    {
                        "index": index,
                        "scores": turn.get("scores") or {},
                        "spans": [
                            {**span, "text": content[span["start"] : span["end"]][:300]}
                            for span in turn.get("spans") or []
                        ],
                        "diff": word_diff(content, turn["rewrite"])
                        if turn.get("rewrite")
                        else None,
                    }
                )
            answers.append(
                {
                    "turns": turns,
                    "scores": result.get("scores") or {},
                    "candidates": result.get("candidates") or [],
                    "order": result.get("order") or [],
                    "written": result.get("written") or [],
                    "rationale": result.get("rationale") or "",
                }
            )
        return ReviewViews(shared={}, answers=answers)
