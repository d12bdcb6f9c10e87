"""Filters for the trajectory templates: the run's figures, steps cut for the first paint, and
JSON laid out for people."""

import json

from django import template

from kinds.trajectory.model import run_figures

register = template.Library()

# A longer observation is shown cut to this many characters; the editor shows the rest on
# demand from the task's data, so that a run with megabytes of output opens at once.
PREVIEW_CHARS = 1500
PRETTY_LIMIT = 100_000


@register.filter
def trajectory_figures(data: dict) -> dict:
    return run_figures(data if isinstance(data, dict) else {})


@register.filter
def pretty_json(value: object) -> str:
    """Arguments or a result as indented JSON; text that is JSON is laid out too."""
    if isinstance(value, str):
        if len(value) > PRETTY_LIMIT or value.strip()[:1] not in ("{", "["):
            return value
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@register.filter
def preview(text: str | None) -> str:
    text = text or ""
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS]


@register.filter
def is_long(text: str | None) -> bool:
    return len(text or "") > PREVIEW_CHARS


@register.filter
def hidden_chars(text: str | None) -> int:
    return max(len(text or "") - PREVIEW_CHARS, 0)


@register.filter
def split_words(text: str) -> list[str]:
    return text.split()


@register.filter
def words(name: str) -> str:
    """``tool_call`` as "tool call"."""
    return str(name or "").replace("_", " ")
