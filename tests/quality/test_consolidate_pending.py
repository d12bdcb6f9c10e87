import pytest
from django.core.management import call_command
from django.test import override_settings

from annotation.models import Task, TaskStatus
from annotation.queue import annotation_submit, assignment_claim_next
from labelhub.models import Role
from tests.factories import make_project, make_task, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}})
def test_tasks_left_annotated_by_a_missed_background_step_are_consolidated_later():
    ana = make_user()
    project = make_project(
        kind="transcription",
        members={ana: Role.CONTRIBUTOR},
        quality={"overlap": 1, "review_share": 0.0},
    )
    task = make_task(project=project, overlap=1)
    assignment = assignment_claim_next(project=project, contributor=ana)
    annotation_submit(assignment_id=assignment.pk, contributor=ana, result={"text": "hello"})
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ANNOTATED  # no worker ran

    call_command("consolidate_pending", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACCEPTED
    call_command("consolidate_pending", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Task.objects.get(pk=task.pk).status == TaskStatus.ACCEPTED
