from django import template
from django.utils.safestring import SafeString

from labelhub.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """``{{ text|markdown }}``: user or model Markdown as safe HTML."""
    return render_markdown(text)
