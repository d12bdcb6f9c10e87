"""Time the quality dashboard of a big project, as its manager sees it (in-process, no network).

    manage.py bench_export --annotations 100000 --keep     # builds a project, prints its id
    manage.py bench_dashboard --project ID [--runs 10]

Prints the annotation count, p50 / p95 / max milliseconds per full page render and the number of
queries a render runs, then one JSON line.
"""

import json
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotation.models import Annotation
from labelhub.models import OrganizationMember, Project, ProjectMember, Role


class Command(BaseCommand):
    help = "Time the quality dashboard of an existing project."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", type=int, required=True)
        parser.add_argument("--runs", type=int, default=10)

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError("No such project.")
        manager, _ = get_user_model().objects.get_or_create(username="bench-dashboard-manager")
        OrganizationMember.objects.get_or_create(organization=project.organization, user=manager)
        ProjectMember.objects.get_or_create(
            project=project, user=manager, defaults={"role": Role.MANAGER}
        )
        client = Client(SERVER_NAME="localhost")
        client.force_login(manager)
        url = reverse("quality:dashboard", kwargs={"project_id": project.pk})
        if client.get(url).status_code != 200:  # warm up (and check access)
            raise CommandError("The dashboard did not answer 200.")
        timings = []
        for _ in range(options["runs"]):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"The dashboard answered {response.status_code}.")
        timings.sort()
        figures = {
            "annotations": Annotation.objects.filter(task__project=project).count(),
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
            "max_ms": round(timings[-1], 1),
            "queries": len(queries),
        }
        self.stdout.write(
            f"dashboard of {figures['annotations']:,} annotations: p50 {figures['p50_ms']} ms, "
            f"p95 {figures['p95_ms']} ms, max {figures['max_ms']} ms, {figures['queries']} queries"
        )
        self.stdout.write(json.dumps({"bench": "dashboard", **figures}))
