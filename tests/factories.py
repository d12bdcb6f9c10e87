"""Small factories for real database rows. Each takes only what a test cares about."""

from itertools import count

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

import kinds
from annotation.models import Task
from labelhub.models import Organization, OrganizationMember, Project, ProjectMember

PASSWORD = "correct-horse-battery"
_sequence = count(1)


def make_organization(name: str | None = None) -> Organization:
    n = next(_sequence)
    return Organization.objects.create(name=name or f"Org {n}", slug=f"org-{n}")


def make_user(
    username: str | None = None, *, organization: Organization | None = None, **extra
) -> AbstractUser:
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_sequence)}", password=PASSWORD, **extra
    )
    if organization is not None:
        OrganizationMember.objects.create(organization=organization, user=user)
    return user


def make_project(
    *,
    organization: Organization | None = None,
    kind: str = "bbox",
    name: str | None = None,
    members: dict | None = None,
    quality: dict | None = None,
    schema: dict | None = None,
) -> Project:
    """A project with the kind's default schema; ``members`` maps users to roles."""
    organization = organization or make_organization()
    project = Project.objects.create(
        organization=organization,
        name=name or f"Project {next(_sequence)}",
        kind=kind,
        schema=schema if schema is not None else kinds.get(kind).default_schema(),
        quality=quality or {},
    )
    for user, role in (members or {}).items():
        OrganizationMember.objects.get_or_create(organization=organization, user=user)
        ProjectMember.objects.create(project=project, user=user, role=role)
    return project


def make_task(*, project: Project, data: dict | None = None, **fields) -> Task:
    default_data = {
        "bbox": {"image": "https://example.com/cat.jpg"},
        "ranking": {
            "prompt": "Hi?",
            "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        },
        "transcription": {"audio": "https://example.com/clip.flac"},
        "conversation": {
            "messages": [
                {"role": "user", "content": "Hi?"},
                {"role": "assistant", "content": "Hello!"},
            ]
        },
    }.get(project.kind)
    return Task.objects.create(project=project, data=data or default_data, **fields)
