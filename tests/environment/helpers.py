from kinds.environment.demo import BRIEFS
from labelhub.models import Role
from tests.factories import make_organization, make_project, make_task, make_user


def make_environment_project(*, briefs=None, quality=None):
    """An environment project with an author, a reviewer, a manager and one task per brief."""
    organization = make_organization()
    author = make_user(organization=organization)
    reviewer = make_user(organization=organization)
    manager = make_user(organization=organization)
    project = make_project(
        organization=organization,
        kind="environment",
        members={author: Role.CONTRIBUTOR, reviewer: Role.REVIEWER, manager: Role.MANAGER},
        quality=quality or {"review_policy": "share", "review_share": 1.0},
    )
    tasks = [make_task(project=project, data=dict(brief)) for brief in (briefs or BRIEFS[:1])]
    return project, tasks, author, reviewer, manager
