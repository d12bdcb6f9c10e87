"""The data manager: search, filters and sort, the bulk actions (page and API alike), the task
page, and tasks that nobody can still answer flagged for the manager."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotation import queue
from annotation.bulk import (
    task_delete,
    task_mark_gold,
    task_raise_priority,
    task_requeue,
    task_unmark_gold,
)
from annotation.models import Assignment, AssignmentStatus, Task, TaskStatus
from annotation.selectors import TaskFilters, task_counts_for, tasks_for_manager
from labelhub.models import AuditAction, AuditEvent, Role
from quality.models import TaskOutcome
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db

SCHEMA = {
    "labels": [{"name": "car", "hotkey": 1}, {"name": "person", "hotkey": 2}],
    "min_size": 1,
    "allow_empty": True,
}


def box(label: str, x: int = 10) -> dict:
    return {"boxes": [{"label": label, "x": x, "y": 10, "w": 20, "h": 20}]}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def shop(django_capture_on_commit_callbacks):
    """A box project: two contributors, tasks answered, skipped and untouched."""
    ana, ben, maria = make_user("ana"), make_user("ben"), make_user("maria")
    project = make_project(
        schema=SCHEMA,
        quality={"overlap": 2, "review_policy": "none", "agreement_threshold": 0.0},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, maria: Role.MANAGER},
    )

    def task(external_id: str, **fields) -> Task:
        data = {"image": f"https://img.example/{external_id}.jpg", "width": 100, "height": 80}
        return Task.objects.create(
            project=project, data=data, external_id=external_id, overlap=2, **fields
        )

    tasks = {
        "cars": task("street-cars", priority=5),
        "people": task("market-people", priority=4, predictions=[box("person")]),
        "skipped": task("blurry", priority=3),
        "fresh": task("fresh", priority=2),
    }

    def work(user, answers):
        for action in answers:
            with django_capture_on_commit_callbacks(execute=True):
                lease = queue.assignment_claim_next(project=project, contributor=user)
                if action == "skip":
                    queue.assignment_skip(
                        assignment_id=lease.pk, contributor=user, reason="unclear"
                    )
                elif action == "broken":
                    queue.assignment_skip(assignment_id=lease.pk, contributor=user, reason="broken")
                else:
                    queue.annotation_submit(
                        assignment_id=lease.pk, contributor=user, result=action, active_seconds=4
                    )

    work(ana, [box("car"), box("person"), "skip"])
    work(ben, [box("car", x=11), box("person", x=60), "skip"])
    for value in tasks.values():
        value.refresh_from_db()
    return project, tasks, (ana, ben, maria)


def listed(project, **query) -> list[str]:
    filters = TaskFilters.from_query({k: str(v) for k, v in query.items()})
    return [t.external_id for t in tasks_for_manager(project=project, filters=filters)]


def test_search_filters_and_sort(shop):
    project, tasks, (_ana, _ben, _maria) = shop
    assert tasks["cars"].status == TaskStatus.ACCEPTED
    assert listed(project, q="STREET") == ["street-cars"]  # external id, any case
    assert listed(project, q="market-people.jpg") == ["market-people"]  # text in the data
    assert listed(project, q=str(tasks["fresh"].pk)) == ["fresh"]
    assert set(listed(project, status="accepted")) == {"street-cars", "market-people"}
    assert listed(project, skipped="yes") == ["blurry"]
    assert listed(project, contributor="ana", sort="id") == ["street-cars", "market-people"]
    assert listed(project, label="person") == ["market-people"]
    assert listed(project, label="car") == ["street-cars"]
    assert listed(project, prediction="yes") == ["market-people"]
    assert listed(project, agreement_min="0.9") == ["street-cars"]
    assert listed(project, agreement_max="0.5") == ["market-people"]
    assert listed(project, sort="-priority") == ["street-cars", "market-people", "blurry", "fresh"]
    assert listed(project, sort="-skips")[0] == "blurry"
    assert listed(project, gold="yes") == []


def test_a_task_everyone_skipped_is_flagged_instead_of_staying_open(shop):
    project, tasks, _people = shop
    assert tasks["skipped"].status == TaskStatus.OPEN  # "Open 0/2" for ever, before
    assert listed(project, status="attention") == ["blurry"]
    counts = task_counts_for(project=project)
    assert counts.needs_attention == 1
    assert counts.skips == 2
    assert counts.skips_by_reason == [("Unclear or unreadable", 2)]
    assert (counts.total, counts.gold) == (4, 0)

    # One skip as broken media is enough to flag a task, whoever is left to answer it.
    dora = make_user("dora")
    project.members.create(user=dora, role=Role.CONTRIBUTOR)
    assert listed(project, status="attention") == []  # dora could still answer it
    lease = queue.assignment_claim_next(project=project, contributor=dora)
    assert lease.task_id == tasks["skipped"].pk
    queue.assignment_skip(assignment_id=lease.pk, contributor=dora, reason="broken")
    assert listed(project, status="attention") == ["blurry"]


def test_mark_gold_takes_the_accepted_answer_or_a_chosen_or_typed_one(shop):
    project, tasks, (ana, _ben, maria) = shop
    outcome = task_mark_gold(
        project=project,
        task_ids=[tasks["cars"].pk, tasks["fresh"].pk, tasks["skipped"].pk],
        actor=maria,
    )
    assert outcome.changed == [tasks["cars"].pk]
    assert set(outcome.skipped) == {tasks["fresh"].pk, tasks["skipped"].pk}
    cars = Task.objects.get(pk=tasks["cars"].pk)
    assert cars.is_gold
    accepted = TaskOutcome.objects.get(task=cars).accepted_result["boxes"]
    assert cars.gold["boxes"] == [
        {k: b[k] for k in ("label", "x", "y", "w", "h")} for b in accepted
    ]

    chosen = tasks["people"].annotations.get(contributor=ana)
    task_mark_gold(
        project=project, task_ids=[tasks["people"].pk], actor=maria, annotation_id=chosen.pk
    )
    assert Task.objects.get(pk=tasks["people"].pk).gold == chosen.result

    task_mark_gold(project=project, task_ids=[tasks["fresh"].pk], actor=maria, result=box("car"))
    assert Task.objects.get(pk=tasks["fresh"].pk).gold["boxes"][0]["label"] == "car"
    with pytest.raises(Exception, match=r"gold\.boxes\.0"):
        task_mark_gold(
            project=project,
            task_ids=[tasks["fresh"].pk],
            actor=maria,
            result={"boxes": [{"label": "car", "x": 90, "y": 0, "w": 30, "h": 5}]},
        )
    events = AuditEvent.objects.filter(project=project, action=AuditAction.TASKS_GOLD_MARKED)
    assert events.count() == 3
    assert events.last().changes["tasks"] == [tasks["cars"].pk]


def test_unmark_gold_makes_normal_work_again_with_its_answers(
    shop, django_capture_on_commit_callbacks
):
    project, tasks, (ana, _ben, maria) = shop
    fresh = tasks["fresh"]
    task_mark_gold(project=project, task_ids=[fresh.pk], actor=maria, result=box("car"))
    carl = make_user("carl")
    project.members.create(user=carl, role=Role.CONTRIBUTOR)
    project.quality = {**project.quality, "gold_rate": 1.0}
    project.save()
    with django_capture_on_commit_callbacks(execute=True):
        lease = queue.assignment_claim_next(project=project, contributor=carl)
        assert lease.task_id == fresh.pk  # gold is served
        queue.annotation_submit(
            assignment_id=lease.pk, contributor=carl, result=box("car"), active_seconds=3
        )
    outcome = task_unmark_gold(project=project, task_ids=[fresh.pk, tasks["cars"].pk], actor=maria)
    assert outcome.changed == [fresh.pk]
    assert outcome.skipped == {tasks["cars"].pk: "not gold"}
    fresh.refresh_from_db()
    assert (fresh.is_gold, fresh.gold, fresh.status) == (False, None, TaskStatus.OPEN)
    assert (fresh.answer_count, fresh.lease_count, fresh.overlap) == (1, 0, 2)
    # It is real work again: the next contributor gets it (carl answered it already).
    assert queue.assignment_claim_next(project=project, contributor=ana).task_id == fresh.pk


def test_requeue_reopens_a_task_for_one_more_answer_and_for_those_who_skipped(shop):
    project, tasks, (ana, _ben, maria) = shop
    outcome = task_requeue(
        project=project, task_ids=[tasks["cars"].pk, tasks["skipped"].pk], actor=maria
    )
    assert outcome.changed == sorted([tasks["cars"].pk, tasks["skipped"].pk])
    cars = Task.objects.get(pk=tasks["cars"].pk)
    assert (cars.status, cars.overlap, cars.answer_count) == (TaskStatus.OPEN, 3, 2)
    assert not Assignment.objects.filter(task=tasks["skipped"], status=AssignmentStatus.SKIPPED)
    assert queue.assignment_claim_next(project=project, contributor=ana).task_id == (
        tasks["skipped"].pk  # priority 3, above "fresh"; ana skipped it before
    )
    event = AuditEvent.objects.get(project=project, action=AuditAction.TASKS_REQUEUED)
    assert {(c["user"], c["reason"]) for c in event.changes["cleared"]} == {
        ("ana", "unclear"),
        ("ben", "unclear"),
    }


def test_raise_priority_and_delete(shop):
    project, tasks, (_ana, _ben, maria) = shop
    task_raise_priority(project=project, task_ids=[tasks["fresh"].pk], actor=maria, by=100)
    assert Task.objects.get(pk=tasks["fresh"].pk).priority == 102
    other = make_project()
    stranger = Task.objects.create(project=other, data={"image": "https://x/y.jpg"})
    outcome = task_delete(project=project, task_ids=[tasks["cars"].pk, stranger.pk], actor=maria)
    assert outcome.changed == [tasks["cars"].pk]
    assert stranger.pk in outcome.skipped
    assert not Task.objects.filter(pk=tasks["cars"].pk).exists()
    assert Task.objects.filter(pk=stranger.pk).exists()  # not this project's: untouched
    assert AuditEvent.objects.get(action=AuditAction.TASKS_DELETED).changes["external_ids"] == [
        "street-cars"
    ]


def test_the_page_and_the_api_run_the_same_bulk_actions(client, shop):
    project, tasks, (ana, _ben, maria) = shop
    client.force_login(maria)
    url = reverse("annotation:task-bulk", args=[project.pk])
    back = reverse("annotation:task-list", args=[project.pk]) + "?status=attention"
    response = client.post(
        url, {"action": "requeue", "task": [tasks["skipped"].pk], "next": back}, follow=True
    )
    assert response.redirect_chain[-1][0] == back
    assert "1 task back in the queue." in response.content.decode()
    refused = client.post(url, {"action": "delete", "task": [tasks["fresh"].pk]}, follow=True)
    assert "tick the box" in refused.content.decode()
    assert Task.objects.filter(pk=tasks["fresh"].pk).exists()
    client.post(
        url, {"action": "raise_priority", "scope": "matching", "filter": "q=market"}, follow=True
    )
    assert Task.objects.get(pk=tasks["people"].pk).priority == 14
    assert Task.objects.get(pk=tasks["cars"].pk).priority == 5

    body = api(maria).post(
        f"/api/v1/projects/{project.pk}/tasks/bulk/",
        {"action": "mark_gold", "tasks": [tasks["cars"].pk, tasks["fresh"].pk]},
        format="json",
    )
    assert body.status_code == 200
    assert body.json()["changed"] == [tasks["cars"].pk]
    assert body.json()["skipped"] == {
        str(tasks["fresh"].pk): "no answer to take yet (open the task to type one)"
    }
    typed = api(maria).post(
        f"/api/v1/projects/{project.pk}/tasks/bulk/",
        {"action": "mark_gold", "tasks": [tasks["fresh"].pk], "result": box("person")},
        format="json",
    )
    assert typed.json()["changed"] == [tasks["fresh"].pk]
    assert (
        api(ana)
        .post(
            f"/api/v1/projects/{project.pk}/tasks/bulk/",
            {"action": "delete", "tasks": [tasks["fresh"].pk]},
            format="json",
        )
        .status_code
        == 404
    )


def test_the_api_lists_with_the_data_managers_filters_and_figures(shop):
    project, tasks, (ana, _ben, maria) = shop
    url = f"/api/v1/projects/{project.pk}/tasks/"
    rows = api(maria).get(url, {"needs_attention": "true"}).json()["results"]
    assert [row["external_id"] for row in rows] == ["blurry"]
    assert (rows[0]["skip_count"], rows[0]["needs_attention"]) == (2, True)
    assert [r["id"] for r in api(maria).get(url).json()["results"]] == sorted(
        t.pk for t in tasks.values()
    )  # oldest first, as before
    people = api(maria).get(url, {"label": "person", "agreement_max": 0.5}).json()["results"]
    assert [r["external_id"] for r in people] == ["market-people"]
    assert people[0]["agreement"] < 0.5
    # Contributors get the label-only shape and no filters.
    mine = api(ana).get(url, {"needs_attention": "true", "q": "blurry"}).json()["results"]
    assert len(mine) == 4
    assert sorted(mine[0]) == ["content", "data", "id", "predictions", "project"]

    detail = api(maria).get(f"/api/v1/tasks/{tasks['skipped'].pk}/").json()
    assert detail["needs_attention"] is True
    assert [(s["contributor"], s["reason"]) for s in detail["skips"]] == [
        ("ana", "Unclear or unreadable"),
        ("ben", "Unclear or unreadable"),
    ]
    assert "Skipped: Unclear or unreadable" in [event["what"] for event in detail["history"]]
    assert "skips" not in api(ana).get(f"/api/v1/tasks/{tasks['skipped'].pk}/").json()

    figures = api(maria).get(f"/api/v1/projects/{project.pk}/").json()["tasks"]
    assert figures["needs_attention"] == 1
    assert figures["skips_by_reason"] == {"Unclear or unreadable": 2}


def test_the_task_list_page_and_the_task_page(client, shop):
    project, tasks, (_ana, _ben, maria) = shop
    client.force_login(maria)
    page = client.get(reverse("annotation:task-list", args=[project.pk])).content.decode()
    assert "1 needs your attention" in page
    assert "Unclear or unreadable 2" not in page  # reasons read in lower case in the figures
    assert "unclear or unreadable 2" in page
    assert "Needs attention" in page
    assert "Accepted" in page

    one = client.get(reverse("quality:task-page", args=[project.pk, tasks["people"].pk]))
    html = one.content.decode()
    assert html.count('data-testid="task-answer"') == 2
    assert 'data-testid="task-outcome"' in html
    assert html.count('data-testid="answer-boxes"') == 3  # outcome and both answers drawn
    skipped = client.get(reverse("quality:task-page", args=[project.pk, tasks["skipped"].pk]))
    assert "Unclear or unreadable" in skipped.content.decode()
    assert client.get(reverse("quality:task-page", args=[project.pk, 999999])).status_code == 404
