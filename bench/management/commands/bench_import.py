"""Measure task import end to end through the real API: ``manage.py bench_import --tasks 100000``.

Builds a throwaway organization, manager and bounding-box project, posts the tasks as JSON lists
of ``--batch`` tasks (each a full HTTP request through Django's handler: token authentication,
DRF parsing, checking by the task kind, bulk insert), prints tasks per second and one JSON line,
then deletes what it made. ``--update`` posts the same external ids a second time to measure
re-import (bulk update). Batches up to the synchronous limit (1000) are created within the request;
bigger batches go through the background import (run at once with the immediate backend).
"""

import json
import time
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import Client, override_settings

from annotation.models import Task
from labelhub.accounts import api_token_issue
from labelhub.models import Organization, OrganizationMember
from labelhub.services import project_create


class Command(BaseCommand):
    help = "Import N tasks through POST /api/v1/projects/{id}/tasks/ and report tasks/s."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tasks", type=int, default=100_000)
        parser.add_argument("--batch", type=int, default=1000, help="tasks per request")
        parser.add_argument("--update", action="store_true", help="also time a re-import")
        parser.add_argument("--keep", action="store_true", help="keep the project afterwards")

    def handle(self, *args, tasks: int, batch: int, update: bool, keep: bool, **options) -> None:
        tag = uuid.uuid4().hex[:8]
        organization = Organization.objects.create(name=f"bench {tag}", slug=f"bench-{tag}")
        user = get_user_model().objects.create_user(username=f"bench-{tag}")
        OrganizationMember.objects.create(organization=organization, user=user, is_admin=True)
        project = project_create(
            user=user, organization=organization, name="Import benchmark", kind="bbox"
        )
        token = api_token_issue(user=user).key
        url = f"/api/v1/projects/{project.pk}/tasks/"
        bodies = [
            json.dumps(
                [
                    {
                        "data": {"image": f"https://example.com/images/{i}.jpg"},
                        "external_id": f"img-{i}",
                        "priority": i % 5,
                    }
                    for i in range(start, min(start + batch, tasks))
                ]
            )
            for start in range(0, tasks, batch)
        ]
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        results = {
            "tasks": tasks,
            "batch": batch,
            "database": connection.vendor,
            "tasks_backend": settings.TASKS["default"]["BACKEND"],
        }
        try:
            with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False):
                results["create_seconds"] = self._post_all(client, url, bodies)
                results["create_tasks_per_second"] = round(tasks / results["create_seconds"])
                if update:
                    results["update_seconds"] = self._post_all(client, url, bodies)
                    results["update_tasks_per_second"] = round(tasks / results["update_seconds"])
            count = Task.objects.filter(project=project).count()
            if count != tasks:
                raise RuntimeError(f"expected {tasks} tasks, found {count}")
        finally:
            if not keep:
                organization.delete()
                user.delete()
        self.stdout.write(
            f"Imported {tasks:,} tasks in {results['create_seconds']:.2f} s: "
            f"{results['create_tasks_per_second']:,} tasks/s ({connection.vendor}, "
            f"{batch} per request)"
        )
        if update:
            self.stdout.write(
                f"Re-imported them (updates) in {results['update_seconds']:.2f} s: "
                f"{results['update_tasks_per_second']:,} tasks/s"
            )
        self.stdout.write(json.dumps(results))

    def _post_all(self, client: Client, url: str, bodies: list[str]) -> float:
        started = time.perf_counter()
        for body in bodies:
            response = client.post(url, body, content_type="application/json")
            if response.status_code not in (201, 202):
                raise RuntimeError(f"{response.status_code}: {response.content[:500]!r}")
        return time.perf_counter() - started
