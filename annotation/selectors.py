"""Reads of the annotation app, each with the joins it needs."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from labelhub.models import Project, Role


def project_for_contributor(*, user: AbstractBaseUser, project_id: int) -> Project:
    """The project if ``user`` is a contributor on it, else 404 (as ``project_for`` answers),
    in one query: the queue's hot path asks this on every call."""
    project = (
        Project.objects.filter(
            pk=project_id, members__user_id=user.pk, members__role=Role.CONTRIBUTOR
        ).first()
        if user.is_authenticated
        else None
    )
    if project is None:
        raise Http404("No such project.")
    project._role_cache = (user.pk, Role.CONTRIBUTOR)  # type: ignore[attr-defined]
    return project
