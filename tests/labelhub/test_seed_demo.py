import pytest
from django.core.management import call_command
from django.urls import reverse

from annotation.models import Task
from labelhub.models import Project, ProjectMember

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_one_project_of_each_kind_with_valid_tasks():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    projects = {project.kind: project for project in Project.objects.all()}
    assert set(projects) == {"bbox", "ranking", "transcription"}
    assert ProjectMember.objects.values("user").distinct().count() == 4
    for project in projects.values():
        kind = project.task_kind
        assert kind.clean_schema(project.schema) == project.schema
        tasks = list(project.tasks.all())
        assert len(tasks) >= 4
        for task in tasks:
            kind.clean_data(task.data, schema=project.schema)
            if task.is_gold:
                kind.clean_result(task.gold, schema=project.schema, data=task.data)
    images = projects["bbox"].tasks.all()
    assert all(task.media_meta["width"] > 0 and task.thumbnail for task in images)
    clips = projects["transcription"].tasks.all()
    assert all(2.0 < task.media_meta["duration"] < 10.0 for task in clips)
    ranking_sizes = {len(task.data["responses"]) for task in projects["ranking"].tasks.all()}
    assert min(ranking_sizes) >= 2
    assert max(ranking_sizes) <= 4


def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    before = (Project.objects.count(), Task.objects.count(), ProjectMember.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (Project.objects.count(), Task.objects.count(), ProjectMember.objects.count()) == before


def test_demo_media_is_served_to_members_only(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    task = Task.objects.filter(project__kind="bbox").first()
    url = reverse("annotation:task-media", kwargs={"task_id": task.pk})
    assert task.data["image"] == url
    assert client.get(url).status_code == 404
    client.login(username="ana", password="labelhub-demo")
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"  # a JPEG


@pytest.mark.django_db(transaction=True)  # the quality step runs once each answer commits
def test_seed_demo_plays_real_work_through_the_queue_once():
    from annotation.models import Annotation, TaskStatus

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    answered = Annotation.objects.count()
    people = set(Annotation.objects.values_list("contributor__username", flat=True))
    assert people == {"ana", "ben"}
    assert Task.objects.filter(status=TaskStatus.ACCEPTED).exists()  # the quality step ran
    assert not Task.objects.filter(is_gold=True, annotations__isnull=False).exists()  # no gold rate
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Annotation.objects.count() == answered
