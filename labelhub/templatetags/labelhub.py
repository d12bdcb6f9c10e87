import json

from django import template
from django.utils.safestring import SafeString

from labelhub.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """``{{ text|markdown }}``: user or model Markdown as safe HTML."""
    return render_markdown(text)


@register.filter(name="as_json")
def as_json_filter(value: object) -> str:
    """``{{ task.data|as_json }}``: a value as compact JSON text (escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@register.filter(name="hours_minutes")
def hours_minutes_filter(seconds) -> str:
    """A duration for people: "3 h 05 min", "12 min", "40 s" (never "11078 s")."""
    try:
        seconds = max(0, round(float(seconds)))
    except (TypeError, ValueError):
        return "—"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"
