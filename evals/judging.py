"""A judge's grader prompt and what its reply means (pure: no database, no network)."""

import json
import re

DEFAULT_TEMPLATE = """You grade one response to a conversation against a rubric written by experts.
For each criterion, decide whether the response meets it. A criterion with negative points
describes a mistake: it is "met" when the response makes that mistake.

Conversation:
{{conversation}}

Response to grade:
<<<
{{response}}
>>>

Rubric (one line each: id, points, criterion):
{{rubric}}

Answer with JSON only, in this shape, with every id of the rubric:
{"verdicts": {"c1": {"met": true, "evidence": "a short exact quote of the response, or empty"}}}
"""

PLACEHOLDERS = ("{{conversation}}", "{{response}}", "{{rubric}}")
MAX_TEMPLATE = 20_000


class GradeUnreadable(ValueError):
    """The judge's reply is not a verdict for every criterion; the message says what is off."""


def template_errors(template: object) -> list[str]:
    if not isinstance(template, str) or not template.strip():
        return ["Write the grader prompt."]
    if len(template) > MAX_TEMPLATE:
        return [f"At most {MAX_TEMPLATE} characters."]
    missing = [p for p in PLACEHOLDERS if p not in template]
    if missing:
        return [f"The prompt must contain {', '.join(missing)} (filled in for each response)."]
    return []


def render(template: str, *, prompt: list[dict], rubric: list[dict], response: str) -> str:
    conversation = "\n\n".join(f"[{m['role']}] {m['content']}" for m in prompt)
    lines = "\n".join(f"{c['id']} ({c['points']:+g}): {c['criterion']}" for c in rubric)
    return (
        template.replace("{{conversation}}", conversation)
        .replace("{{rubric}}", lines)
        .replace("{{response}}", response)
    )


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def parse(reply: str, *, rubric: list[dict], response: str) -> dict[str, dict]:
    """The verdicts in a judge's reply: ``{"verdicts": {id: {"met", "evidence"?}}}`` (or the
    inner object alone; ``true``/``false`` for a verdict). A quote that is not in the response
    is dropped, not trusted. Raises :class:`GradeUnreadable`."""
    match = re.search(r"\{.*\}", reply, flags=re.S)
    if match is None:
        raise GradeUnreadable("The judge's reply holds no JSON object.")
    try:
        body = json.loads(match.group(0))
    except ValueError:
        raise GradeUnreadable("The judge's reply is not valid JSON.") from None
    verdicts = body.get("verdicts", body) if isinstance(body, dict) else None
    if not isinstance(verdicts, dict):
        raise GradeUnreadable("The judge's reply has no verdicts object.")
    whole = _squash(response)
    cleaned, missing = {}, []
    for criterion in rubric:
        verdict = verdicts.get(criterion["id"])
        if isinstance(verdict, bool):
            verdict = {"met": verdict}
        if not isinstance(verdict, dict) or not isinstance(verdict.get("met"), bool):
            missing.append(criterion["id"])
            continue
        one = {"met": verdict["met"]}
        evidence = verdict.get("evidence")
        if isinstance(evidence, str) and evidence.strip() and _squash(evidence) in whole:
            one["evidence"] = evidence.strip()[:2000]
        cleaned[criterion["id"]] = one
    if missing:
        raise GradeUnreadable(f"The judge gave no true/false verdict for {', '.join(missing)}.")
    return cleaned
