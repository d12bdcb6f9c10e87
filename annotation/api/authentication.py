"""The API's token authentication (hashed tokens, one query): see ``labelhub.authentication``.

On the queue's hottest call, "next task" for one project, the token's statement also reads that
project as the person's contributor role sees it (:class:`ContributorProjectRead`): one round trip
fewer on every claim. The view takes it with :func:`contributor_project`.
"""

from django.http import Http404
from rest_framework.request import Request

from annotation.selectors import (
    contributor_project_from_row,
    contributor_project_sql,
    project_for_contributor,
)
from labelhub.authentication import HashedTokenAuthentication as QueueTokenAuthentication
from labelhub.models import Project

__all__ = ["ContributorProjectRead", "QueueTokenAuthentication", "contributor_project"]


class ContributorProjectRead:
    """The route's ``project_id`` read with the token: the project, or None where the person is
    not its contributor (the view answers 404), as ``request.contributor_project``."""

    def sql(self, request: Request) -> tuple[str, str, list]:
        columns, joins, params = contributor_project_sql(user_column="u.id")
        return columns, joins, params(request.parser_context["kwargs"]["project_id"])

    def loaded(self, request: Request, user, values: tuple) -> None:
        request.contributor_project = contributor_project_from_row(values, user=user)


def contributor_project(request: Request, project_id: int) -> Project:
    """The project of the route if the user is its contributor, else 404: as the token's
    statement read it, or by its own query (a browser's session)."""
    if not hasattr(request, "contributor_project"):
        return project_for_contributor(user=request.user, project_id=project_id)
    if request.contributor_project is None:
        raise Http404("No such project.")
    return request.contributor_project
