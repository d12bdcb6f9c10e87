"""Preference ranking of model responses (RLHF data).

``data = {"prompt": "…" | "messages": [{role, content}], "responses": [{"id", "text"}, …]}``
with 2–6 responses. The schema's ``mode`` is ``pairwise`` (A / B / tie with a strength) or
``rank`` (a full order).
"""

from kinds import (
    SHUFFLE_BAR,
    AlphaQuestion,
    BuilderForm,
    BuilderRow,
    Consensus,
    EditorSpec,
    PositionOutcome,
    QualityBar,
    SchemaBuilder,
    TaskKind,
    edit_rows,
    in_order,
    int_or_text,
    object_errors,
    one_line,
    without_models,
)
from kinds.formats import ExportFormat
from kinds.ranking import formats as preferences
from kinds.ranking import metrics as ranking_metrics

RATIONALE_CHOICES = ("none", "optional", "required")
JSONL = "application/x-ndjson"
ROLES = ("system", "user", "assistant", "tool")


class RankingKind(TaskKind):
    name = "ranking"
    label = "Preference ranking"
    description = "Compare model responses to a prompt: pick the better one, or order them."
    editor = EditorSpec(template="ranking/editor.html", module="ranking/editor.js")
    context_template = "ranking/context.html"
    schema_builder = SchemaBuilder(
        template="ranking/builder.html",
        heading="Ranking and criteria",
        save_label="Save ranking setup",
    )
    has_alpha = True
    shows_candidates = True
    quality_bars = (
        QualityBar(
            "strength_weight",
            "Weight of the preference strength",
            float,
            0.0,
            1.0,
            0.0,
            "How much a different strength counts against two answers that prefer the same "
            'response ("much better" against "slightly better"). 0 ignores strength, as the '
            "DPO export does; 1 makes the widest gap cost a whole task.",
        ),
        QualityBar(
            "criteria_weight",
            "Weight of the criteria",
            float,
            0.0,
            1.0,
            0.5,
            "When the project asks per-criterion verdicts (helpfulness, honesty, …), the share "
            "of a score that comes from them; the rest comes from the overall verdict. 0 scores "
            "the overall verdict only.",
        ),
        SHUFFLE_BAR,
    )

    def for_contributor(self, data: dict) -> dict:
        """Blind: the responses (and chat messages) without the names of their models."""
        if not isinstance(data, dict):
            return data
        blind = dict(data)
        for key in ("responses", "messages"):
            if key in blind:
                blind[key] = without_models(blind[key])
        return blind

    def candidate_ids(self, data: dict) -> list[str]:
        return [r["id"] for r in data.get("responses") or [] if isinstance(r, dict) and "id" in r]

    def in_shown_order(self, data: dict, order: list[str]) -> dict:
        """The responses in ``order``: response A on the screen is the first of it."""
        return {**data, "responses": in_order(data.get("responses") or [], order)}

    def position_outcome(
        self, result: dict, *, shown_order: list[str], schema: dict
    ) -> PositionOutcome | None:
        """Pairwise: the first shown won if it is the preference (a tie is neither); rank: if it
        was ranked first (1 in n by chance; a full order has no ties)."""
        if len(shown_order) < 2 or not isinstance(result, dict):
            return None
        first = shown_order[0]
        if "preference" in result:
            tie = result["preference"] == "tie"
            return PositionOutcome(
                first_won=None if tie else result["preference"] == first,
                tie=tie,
                expected=0.5,
                ties_possible=True,
            )
        order = result.get("order")
        if isinstance(order, list) and order:
            return PositionOutcome(
                first_won=order[0] == first,
                tie=False,
                expected=1 / len(shown_order),
                ties_possible=False,
            )
        return None

    def summary(self, data: dict) -> str:
        """The prompt (or the last user message) and how many responses there are."""
        data = data or {}
        prompt = data.get("prompt")
        if not prompt:
            users = [m for m in data.get("messages") or [] if m.get("role") == "user"]
            prompt = users[-1].get("content", "") if users else ""
        n = len(data.get("responses") or [])
        return f"{one_line(str(prompt), limit=100)} · {n} response{'s' if n != 1 else ''}"

    def default_schema(self) -> dict:
        return {"mode": "pairwise", "strength_scale": 3, "criteria": [], "rationale": "optional"}

    def clean_schema(self, schema: dict) -> dict:
        errors = object_errors(schema, path="", message="The schema must be a JSON object.")
        mode = schema.get("mode", "pairwise")
        if mode not in ("pairwise", "rank"):
            errors.add("mode", "The mode is 'pairwise' (A/B/tie) or 'rank' (order all responses).")
        scale = schema.get("strength_scale", 3)
        if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale <= 7:
            errors.add("strength_scale", "The strength scale has 1 to 7 steps.")
        criteria = schema.get("criteria", [])
        cleaned_criteria: list[str] = []
        if not isinstance(criteria, list):
            errors.add("criteria", "Criteria are a list of names, e.g. ['helpfulness', 'honesty'].")
            criteria = []
        for i, criterion in enumerate(criteria):
            if isinstance(criterion, dict):
                criterion = criterion.get("name")
            if not isinstance(criterion, str) or not criterion.strip():
                errors.add(f"criteria.{i}", "A criterion needs a name.")
            elif len(criterion) > 60:
                errors.add(f"criteria.{i}", "A criterion name has at most 60 characters.")
            elif criterion.strip().lower() in (c.lower() for c in cleaned_criteria):
                errors.add(f"criteria.{i}", f"The criterion {criterion!r} is given twice.")
            else:
                cleaned_criteria.append(criterion.strip())
        if len(cleaned_criteria) > 10:
            errors.add("criteria", "At most 10 criteria.")
        rationale = schema.get("rationale", "optional")
        if rationale not in RATIONALE_CHOICES:
            errors.add("rationale", "The rationale is 'none', 'optional' or 'required'.")
        for key in sorted(set(schema) - {"mode", "strength_scale", "criteria", "rationale"}):
            errors.add(key, "Unknown setting for a ranking project.")
        errors.raise_if_any()
        return {
            "mode": mode,
            "strength_scale": scale,
            "criteria": cleaned_criteria,
            "rationale": rationale,
        }

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        errors = object_errors(data, path="data", message="A task's data must be a JSON object.")
        prompt, messages = data.get("prompt"), data.get("messages")
        if prompt is None and messages is None:
            errors.add("data.prompt", "Give a prompt (text) or messages (a chat).")
        if prompt is not None and (not isinstance(prompt, str) or not prompt.strip()):
            errors.add("data.prompt", "The prompt is non-empty text.")
        if messages is not None:
            if not isinstance(messages, list) or not messages:
                errors.add("data.messages", "Messages are a non-empty list of {role, content}.")
            else:
                for i, message in enumerate(messages):
                    if not isinstance(message, dict):
                        errors.add(f"data.messages.{i}", "A message is an object {role, content}.")
                    elif message.get("role") not in ROLES:
                        errors.add(
                            f"data.messages.{i}.role", f"A role is one of {', '.join(ROLES)}."
                        )
                    elif not isinstance(message.get("content"), str):
                        errors.add(f"data.messages.{i}.content", "A message's content is text.")
        responses = data.get("responses")
        if not isinstance(responses, list) or not 2 <= len(responses) <= 6:
            errors.add("data.responses", "Give 2 to 6 responses.")
            errors.raise_if_any()
        if schema.get("mode") == "pairwise" and len(responses) != 2:
            errors.add("data.responses", "A pairwise project compares exactly 2 responses.")
        ids: set[str] = set()
        for i, response in enumerate(responses):
            if not isinstance(response, dict):
                errors.add(f"data.responses.{i}", "A response is an object {id, text}.")
                continue
            rid = response.get("id")
            if not isinstance(rid, str) or not rid.strip() or len(rid) > 40 or rid == "tie":
                errors.add(f"data.responses.{i}.id", "A response id is short text (not 'tie').")
            elif rid in ids:
                errors.add(f"data.responses.{i}.id", f"The id {rid!r} is used twice.")
            else:
                ids.add(rid)
            if not isinstance(response.get("text"), str) or not response["text"].strip():
                errors.add(f"data.responses.{i}.text", "A response needs its text.")
        errors.raise_if_any()
        return data

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        errors = object_errors(result, path="result", message="A result must be a JSON object.")
        ids = [response["id"] for response in data.get("responses", [])]
        cleaned: dict = {}
        if schema.get("mode", "pairwise") == "pairwise":
            preference = result.get("preference")
            if preference not in [*ids, "tie"]:
                errors.add("result.preference", f"Choose one of {', '.join([*ids, 'tie'])}.")
            strength = result.get("strength", 1)
            scale = schema.get("strength_scale", 3)
            if (
                not isinstance(strength, int)
                or isinstance(strength, bool)
                or not 1 <= strength <= scale
            ):
                errors.add("result.strength", f"The strength is a whole number from 1 to {scale}.")
            cleaned = {"preference": preference, "strength": strength}
        else:
            order = result.get("order")
            if (
                not isinstance(order, list)
                or not all(isinstance(item, str) for item in order)
                or sorted(order) != sorted(ids)
            ):
                errors.add("result.order", "The order lists every response id exactly once.")
            cleaned = {"order": order}
        answers = result.get("criteria")
        if answers is None:
            answers = {}
        if not isinstance(answers, dict):
            errors.add(
                "result.criteria", "Criteria answers are an object {criterion: response id}."
            )
            answers = {}
        for criterion in schema.get("criteria", []):
            if answers.get(criterion) not in [*ids, "tie"]:
                errors.add(
                    f"result.criteria.{criterion}", f"Answer {criterion!r} with a response or tie."
                )
        for criterion in sorted(set(answers) - set(schema.get("criteria", []))):
            errors.add(f"result.criteria.{criterion}", "Not a criterion of this project.")
        cleaned["criteria"] = answers
        rationale = result.get("rationale", "")
        if not isinstance(rationale, str):
            errors.add("result.rationale", "The rationale is text.")
        elif schema.get("rationale") == "required" and not rationale.strip():
            errors.add("result.rationale", "This project asks for a rationale.")
        elif len(rationale) > 10_000:
            errors.add("result.rationale", "The rationale has at most 10000 characters.")
        cleaned["rationale"] = rationale if isinstance(rationale, str) else ""
        errors.raise_if_any()
        return cleaned

    # Quality math: kinds/ranking/metrics.py explains the choices.

    def metric_settings(self, *, schema: dict, quality: dict) -> ranking_metrics.RankingSettings:
        """The schema's mode and scale, and the quality bars ``strength_weight`` (default 0:
        strength is ignored) and ``criteria_weight`` (default 0.5)."""
        return ranking_metrics.RankingSettings(
            mode=schema.get("mode", "pairwise"),
            strength_scale=schema.get("strength_scale", 3),
            strength_weight=quality.get("strength_weight", 0.0),
            criteria_weight=quality.get("criteria_weight", 0.5),
        )

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        """Pairwise: 1 same verdict, ½ tie against a side, 0 opposite; rank: (τ_b + 1) / 2;
        blended with the per-criterion verdicts."""
        settings = self.metric_settings(schema=schema, quality=quality)
        return ranking_metrics.score(result, gold, settings)

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        settings = self.metric_settings(schema=schema, quality=quality)
        return ranking_metrics.agreement(results, settings)

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        """Pairwise: the best-backed verdict; rank: the Bradley–Terry order (with ``scores``).

        ``data`` (the task's) gives the response ids, so that a verdict nobody chose can still
        win a draw and every response appears in the order; without it the answers' ids are used.
        """
        settings = self.metric_settings(schema=schema, quality=quality)
        ids = [r["id"] for r in (data or {}).get("responses", []) if isinstance(r, dict)]
        consensus = ranking_metrics.consolidate(
            results, settings, response_ids=ids, weights=weights
        )
        return Consensus(result=consensus.result, confidence=consensus.confidence)

    # The screens around the kind: settings builder, export formats, review, dashboard.

    def schema_from_form(self, post) -> dict:
        return {
            "mode": post.get("mode", ""),
            "strength_scale": int_or_text(post.get("strength_scale", "")),
            "criteria": post.getlist("criterion"),
            "rationale": post.get("rationale", ""),
        }

    def schema_form(self, *, schema: dict, errors: dict[str, list[str]]) -> BuilderForm:
        criteria = schema.get("criteria", [])
        rows = [
            BuilderRow(values={"name": name}, errors=errors.get(f"criteria.{i}", []))
            for i, name in enumerate(criteria)
        ]
        used = frozenset(f"criteria.{i}" for i in range(len(criteria)))
        return BuilderForm(context={"criteria": rows}, used=used)

    def schema_form_edit(self, *, schema: dict, action: str) -> dict:
        criteria = list(schema.get("criteria", []))
        return {**schema, "criteria": edit_rows(criteria, action=action, noun="criterion", new="")}

    def export_formats(self) -> tuple[ExportFormat, ...]:
        return (
            ExportFormat(
                "dpo",
                "DPO pairs (JSONL)",
                JSONL,
                "jsonl",
                write=lambda items, context: preferences.dpo(
                    items, style=preferences.dpo_style(context)
                ),
                check=preferences.dpo_style,
                options=("style",),
                styles=preferences.DPO_STYLE_CHOICES,
            ),
            ExportFormat(
                "rankings",
                "Full rankings (JSONL)",
                JSONL,
                "jsonl",
                write=lambda items, context: preferences.rankings(items),
                answers=True,
            ),
        )

    def review_summary(self, result: dict, *, schema: dict) -> str:
        """``b > a > c``, or ``a (strength 2)``."""
        if isinstance(result.get("order"), list):
            return " > ".join(map(str, result["order"]))
        if "preference" in result:
            return f"{result['preference']} (strength {result.get('strength', 1)})"
        return ""

    def alpha_questions(
        self, tasks: list[tuple[dict, list[dict]]], *, schema: dict
    ) -> list[AlphaQuestion]:
        """Nominal alpha of the verdicts (pairwise: the preference; rank: the top choice) and of
        each criterion."""
        results_per_task = [results for _data, results in tasks]
        if schema.get("mode", "pairwise") == "pairwise":
            ids = [[r["id"] for r in data.get("responses", [])] for data, _results in tasks]
            units = ranking_metrics.preference_units(zip(ids, results_per_task, strict=True))
            name = "Preferred response"
        else:
            units = [[(r.get("order") or [None])[0] for r in rs] for rs in results_per_task]
            name = "Top choice"
        questions = [AlphaQuestion(name, units)] if units else []
        criteria = ranking_metrics.criteria_units(results_per_task)
        questions += [AlphaQuestion(name, units) for name, units in sorted(criteria.items())]
        return questions
