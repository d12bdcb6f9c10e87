"""Tasks in words on any screen: ``{{ status|status_word }}`` and the skip/gold figures block."""

from django import template

from annotation.models import TaskStatus
from annotation.selectors import task_counts_for

register = template.Library()


@register.filter
def status_word(value: str) -> str:
    """``in_review`` → "In review": people read words, not codes."""
    return dict(TaskStatus.choices).get(value, value)


@register.inclusion_tag("annotation/_task_figures.html")
def task_figures(project) -> dict:
    """Gold counted apart, skips by reason and the tasks that need the manager (one block)."""
    return {"project": project, "counts": task_counts_for(project=project)}
