"""Reads of the annotation app, each with the joins it needs."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.http import Http404

from labelhub.models import Project, ProjectMember, Role

# What the queue needs of a project; the other fields load on first use.
QUEUE_PROJECT_FIELDS = ("id", "organization_id", "name", "kind", "schema", "quality")


def project_for_contributor(*, user: AbstractBaseUser, project_id: int) -> Project:
    """The project if ``user`` is a contributor on it, else 404 (as ``project_for`` answers).

    One hand-written query: the queue asks this on every call, and building it with the ORM
    costs more than running it.
    """
    if not user.is_authenticated:
        raise Http404("No such project.")
    columns = ", ".join(f"p.{name}" for name in QUEUE_PROJECT_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {Project._meta.db_table} p "  # noqa: S608 - from _meta
            f"JOIN {ProjectMember._meta.db_table} m ON m.project_id = p.id "
            "WHERE p.id = %s AND m.user_id = %s AND m.role = %s",
            [project_id, user.pk, Role.CONTRIBUTOR.value],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such project.")
    values = dict(zip(QUEUE_PROJECT_FIELDS, row, strict=True))
    for name in ("schema", "quality"):
        values[name] = Project._meta.get_field(name).from_db_value(values[name], None, connection)
    names = [f.attname for f in Project._meta.concrete_fields if f.attname in values]
    project = Project.from_db(connection.alias, names, [values[n] for n in names])
    project._role_cache = (user.pk, Role.CONTRIBUTOR)  # type: ignore[attr-defined]
    return project
