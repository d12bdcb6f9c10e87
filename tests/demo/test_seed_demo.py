"""The demo: a few hundred tasks of each kind, and two weeks of history made through the real
services by simulated contributors, so that every page a manager opens shows something true."""

import io
import random
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

import kinds
from annotation.models import (
    Annotation,
    ContributorStatus,
    DeliveryStatus,
    ProjectContributor,
    Task,
    TaskStatus,
    WebhookDelivery,
)
from annotation.queue import assignment_claim_next
from demo import content, people
from demo.management.commands.seed_demo import (
    CALLBACK_URL,
    DEFAULT_TASKS,
    SCHEMAS,
    SHARED_QUALITY,
    TASKS_AT_MOST,
)
from kinds.trajectory import demo as trajectory_demo
from labelhub.models import AuditAction, AuditEvent, Project, ProjectMember
from quality.models import ContributorStanding, Review, TaskOutcome, Verdict

SMALL = 60  # tasks per project in the test: enough for every rule to fire, quick to build


def quiet() -> io.StringIO:
    return io.StringIO()


def test_the_default_demo_has_valid_tasks_of_each_kind_hundreds_of_most():
    assert DEFAULT_TASKS >= 200
    rng = random.Random(1)
    for kind_name in ("bbox", "ranking", "transcription", "conversation", "trajectory"):
        kind = kinds.get(kind_name)
        schema = kind.clean_schema(SCHEMAS[kind_name])
        size = min(DEFAULT_TASKS, TASKS_AT_MOST.get(kind_name, DEFAULT_TASKS))
        items = getattr(content, f"{kind_name}_tasks")(size, rng)
        assert len(items) == size >= 60
        assert len({item.external_id for item in items}) == size
        for item in items:
            data = dict(item.data)
            if kind_name == "bbox":
                image = Image.open(io.BytesIO(item.media[1]))
                data.update(image="/media/x.jpg", width=image.width, height=image.height)
                assert item.truth["boxes"], item.external_id  # something to draw on every crop
            if kind_name == "transcription":
                data["audio"] = "/media/x.flac"
            data = kind.clean_data(data, schema=schema)
            assert kind.clean_result(item.truth, schema=schema, data=data)
    prompts = {item.data["prompt"] for item in content.ranking_tasks(DEFAULT_TASKS, rng)[4:]}
    assert len(prompts) > DEFAULT_TASKS * 0.9  # templates, not one prompt repeated


def test_simulated_judges_of_agent_runs_give_valid_answers_that_sort_them_out():
    """Every profile's answer to every run is a valid answer; against the truth the careful one
    scores near 1, the sloppy one above the demo's accuracy floor, the careless one far below."""
    kind = kinds.get("trajectory")
    schema = kind.clean_schema(SCHEMAS["trajectory"])
    rng = random.Random(7)
    mean = {}
    for profile in (people.CAREFUL, people.AVERAGE, people.SLOPPY, people.CARELESS):
        scores = []
        for _ in range(20):
            for run in trajectory_demo.runs():
                data = kind.clean_data(run.data, schema=schema)
                answer = people.answer("trajectory", run.truth, data, profile, rng)
                cleaned = kind.clean_result(answer, schema=schema, data=data)
                scores.append(kind.score(cleaned, run.truth, schema=schema, quality={}))
        mean[profile.name] = sum(scores) / len(scores)
    floor = SHARED_QUALITY["accuracy_floor"]
    assert mean["careful"] > 0.95
    assert mean["careful"] > mean["average"] > mean["sloppy"] > floor + 0.1
    assert mean["careless"] < 0.5


def standing(username: str, project: Project) -> ProjectContributor:
    return ProjectContributor.objects.select_related("standing").get(
        project=project, user__username=username
    )


def gold_accuracy(username: str) -> float:
    rows = ProjectContributor.objects.filter(user__username=username)
    answered = sum(pc.gold_answered_count for pc in rows)
    assert answered > 0, username
    return sum(pc.gold_score_sum for pc in rows) / answered


@pytest.mark.django_db(transaction=True)  # the services commit; the quality step runs after
def test_seed_demo_makes_two_weeks_of_history_through_the_real_services(client):
    call_command("seed_demo", tasks=SMALL, stdout=quiet())
    projects = {project.kind: project for project in Project.objects.all()}
    environment = projects.pop("environment")
    eval_set = projects.pop("rubric_eval")  # its content is tested in tests/evals/test_demo.py
    assert eval_set.eval_items.count() == 12
    assert set(projects) == {"bbox", "ranking", "transcription", "conversation", "trajectory"}
    # The agent runs: the dozen hand-written runs, each several times, with a history like the
    # other projects' (checked with them below); gold among runs that went right and wrong.
    runs = projects["trajectory"].tasks
    assert {t.external_id.split(".")[0] for t in runs.all()} == {
        run.external_id for run in trajectory_demo.runs()
    }
    gold_firsts = {t.gold["first_error"] is None for t in runs.filter(is_gold=True)}
    assert gold_firsts == {True, False}
    # Three authored environment tasks, each submitted with a holding proof; the first accepted.
    assert Annotation.objects.filter(task__project=environment).count() == 3
    assert environment.proofs.filter(holds=True).count() == 3
    first = environment.tasks.order_by("pk").first()
    assert first.status == TaskStatus.ACCEPTED
    usernames = set(ProjectMember.objects.values_list("user__username", flat=True))
    assert usernames == {"maria", "rui", "ana", "ben", "carla", "dev", "sam", "pia"}
    now = timezone.now()

    for project in projects.values():
        kind = project.task_kind
        tasks = list(project.tasks.all())
        assert len(tasks) == SMALL
        for task in tasks:
            kind.clean_data(task.data, schema=project.schema)
            if task.is_gold:
                kind.clean_result(task.gold, schema=project.schema, data=task.data)
        gold = [task for task in tasks if task.is_gold]
        assert len(gold) >= 10
        assert Annotation.objects.filter(task__in=gold, gold_score__isnull=False).count() >= 5
        # Several contributors, each with a record on the project.
        for username in ("carla", "dev", "sam", "pia"):
            assert standing(username, project).standing.submitted_count > 0
        # Work got all the way through: consensus, acceptance, review, and some left to do.
        accepted = project.tasks.filter(status=TaskStatus.ACCEPTED)
        assert accepted.count() >= 10
        assert not accepted.filter(outcome__accepted_result__isnull=True).exists()
        assert TaskOutcome.objects.filter(project=project, agreement__isnull=False).exists()
        assert project.tasks.filter(status=TaskStatus.OPEN, is_gold=False).count() >= 5
        assert Review.objects.filter(project=project).exists()
        # The history spans the two weeks, and none of it is in the future.
        days = {
            outcome.computed_at.date() for outcome in TaskOutcome.objects.filter(project=project)
        }
        assert len(days) >= 5
        answered = Annotation.objects.filter(task__project=project)
        assert answered.filter(created_at__lt=now - timedelta(days=7)).exists()
        assert not answered.filter(created_at__gt=now).exists()

    # Different standings: the careful one ahead of the sloppy one, the careless one far behind.
    assert gold_accuracy("carla") > gold_accuracy("sam") > gold_accuracy("pia")
    assert gold_accuracy("carla") > 0.9
    assert gold_accuracy("pia") < 0.5
    # Pia was paused by the accuracy-floor rule (not by a person), with the reason recorded.
    paused = ProjectContributor.objects.filter(status=ContributorStatus.PAUSED)
    assert paused.exists()
    assert set(paused.values_list("user__username", flat=True)) == {"pia"}
    for pc in paused:
        assert pc.pause_reason.startswith("Paused automatically: accuracy on quality checks")
        assert ContributorStanding.objects.get(contributor=pc).paused_automatically
    assert AuditEvent.objects.filter(
        action=AuditAction.CONTRIBUTOR_PAUSED, actor__isnull=True, summary__startswith="pia:"
    ).exists()
    # Reviews reached every verdict; tasks still wait for a reviewer.
    verdicts = set(Review.objects.values_list("verdict", flat=True))
    assert verdicts == {Verdict.ACCEPT, Verdict.FIX, Verdict.REJECT}
    assert Task.objects.filter(status=TaskStatus.IN_REVIEW).exists()
    # Webhooks: every accepted task with a callback URL has a logged delivery, retried on the
    # real schedule and given up after a day (nothing can receive them).
    with_callback = Task.objects.filter(callback_url=CALLBACK_URL, status=TaskStatus.ACCEPTED)
    assert with_callback.exists()
    deliveries = WebhookDelivery.objects.filter(task__in=with_callback)
    assert deliveries.count() == with_callback.count()
    assert deliveries.filter(status=DeliveryStatus.FAILED, attempts__gte=10).exists()
    assert not deliveries.filter(status=DeliveryStatus.DELIVERED).exists()
    assert all("203.0.113.10" in d.last_error for d in deliveries)

    # Every page a manager opens has something to show.
    client.login(username="maria", password="labelhub-demo")
    for project in projects.values():
        page = client.get(reverse("quality:dashboard", args=[project.pk])).content.decode()
        for name in ("Carla Costa", "Dev Okafor", "Sam Rivera", "Pia Lund"):
            assert name in page
        assert "no data yet" not in page  # the agreement-per-day line has points
        webhooks = client.get(reverse("exports:webhooks", args=[project.pk]))
        assert webhooks.status_code == 200
        assert client.get(reverse("annotation:task-list", args=[project.pk])).status_code == 200
    board = client.get(reverse("quality:dashboard", args=[projects["ranking"].pk]))
    assert b"alpha-row" in board.content
    log = client.get(reverse("exports:webhooks", args=[projects["ranking"].pk])).content
    assert log.count(b'data-testid="delivery-row"') >= 1
    audit = client.get(reverse("projects:audit", args=[paused.first().project_id]))
    assert b"Paused automatically" in audit.content
    client.logout()
    client.login(username="rui", password="labelhub-demo")
    waiting = client.get(reverse("quality:review-queue", args=[projects["bbox"].pk])).content
    assert b'data-testid="review-row"' in waiting or b"review-empty" in waiting
    assert (
        sum(
            client.get(reverse("quality:review-queue", args=[p.pk])).content.count(b"review-row")
            for p in projects.values()
        )
        >= 1
    )

    # A contributor sees their own history and still has work; the media is theirs to load.
    client.logout()
    client.login(username="ana", password="labelhub-demo")
    bbox = projects["bbox"]
    mine = client.get(reverse("quality:my-work", args=[bbox.pk])).content
    assert mine.count(b'data-testid="my-work-row"') >= 1
    ana = get_user_model().objects.get(username="ana")
    for project in projects.values():  # plenty of work is left for whoever logs in as Ana
        assert assignment_claim_next(project=project, contributor=ana) is not None
    image = bbox.tasks.first()
    media = client.get(reverse("annotation:task-media", kwargs={"task_id": image.pk}))
    assert b"".join(media.streaming_content)[:3] == b"\xff\xd8\xff"  # a JPEG
    client.logout()
    assert (
        client.get(reverse("annotation:task-media", kwargs={"task_id": image.pk})).status_code
        == 404
    )

    # The organization's people: skills, profiles, one invitation pending, an open project.
    client.login(username="maria", password="labelhub-demo")
    people_page = client.get(reverse("people:list", args=["acme-ai"])).content.decode()
    assert people_page.count('data-testid="person-row"') == 9
    assert 'data-state="sent"' in people_page
    assert 'data-state="accepted"' in people_page
    skills_page = client.get(reverse("people:skills", args=["acme-ai"])).content.decode()
    assert skills_page.count('data-testid="skill-row"') == 4
    assert "Verified by an admin" in skills_page
    requirements = client.get(reverse("people:project-people", args=[projects["ranking"].pk]))
    assert b"python" in requirements.content
    client.logout()
    client.login(username="lea", password="labelhub-demo")
    assert projects["ranking"].name.encode() in client.get(reverse("home")).content
    assert b"Lea Park" in client.get(reverse("people:profile", args=["acme-ai"])).content

    # Running it again changes nothing.
    before = (Task.objects.count(), Annotation.objects.count(), Review.objects.count())
    call_command("seed_demo", tasks=SMALL, stdout=quiet())
    assert (Task.objects.count(), Annotation.objects.count(), Review.objects.count()) == before
