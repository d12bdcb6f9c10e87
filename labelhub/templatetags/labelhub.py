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
