from django import template

from appeals.selectors import appeals_open_count
from labelhub.permissions import can_manage

register = template.Library()


@register.simple_tag(takes_context=True)
def open_appeals(context, project) -> int:
    """How many appeals wait for the person viewing (managers: all; reviewers: rejections of
    tasks they did not opt out of)."""
    user = context["request"].user
    return appeals_open_count(
        project=project, reviewer=None if can_manage(user=user, project=project) else user
    )
