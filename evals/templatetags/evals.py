from django import template

from evals.services import is_eval_set

register = template.Library()


@register.simple_tag
def eval_set(project) -> bool:
    """Whether the project is an eval set (the project menu then links to its Evals pages)."""
    return is_eval_set(project=project)
