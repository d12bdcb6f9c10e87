import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import ContributorStatus, ProjectContributor, TaskStatus
from labelhub.models import AuditEvent
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db

ALWAYS = {"review_policy": "share", "review_share": 1.0}


@pytest.fixture
def worked(django_capture_on_commit_callbacks):
    """Three contributors answered four tasks each; every task is in review."""
    project, people, reviewer, manager = make_quality_project(quality=ALWAYS)
    make_ranking_tasks(project, 4, overlap=3)
    for user in people:
        for _ in range(4):
            answer_next(
                django_capture_on_commit_callbacks, project=project, user=user, preference="a"
            )
    return project, people, reviewer, manager


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_review_queue_page_lists_tasks_in_a_fixed_number_of_queries(
    client, worked, django_assert_max_num_queries
):
    project, _, reviewer, _ = worked
    client.force_login(reviewer)
    with django_assert_max_num_queries(7):  # and one for the people to filter by
        response = client.get(reverse("quality:review-queue", args=[project.pk]))
    assert response.content.decode().count('data-testid="review-row"') == 4
    assert "Reviewing every one of" in response.content.decode()


def test_the_review_queue_has_the_project_header_and_the_menu_for_managers(client, worked):
    project, _, reviewer, manager = worked
    url = reverse("quality:review-queue", args=[project.pk])
    client.force_login(manager)
    html = client.get(url).content.decode()
    assert f'<p class="meta">{project.get_kind_display()} · ' in html
    assert f'href="{url}" aria-current="page">Review queue</a>' in html
    client.force_login(reviewer)
    html = client.get(url).content.decode()
    assert 'data-testid="start-review"' in html
    assert '<nav class="subnav" aria-label="Project">' not in html  # the menu is the managers'


def test_dashboard_shows_standing_and_charts_in_a_fixed_number_of_queries(
    client, worked, django_assert_max_num_queries
):
    project, _people, _, manager = worked
    client.force_login(manager)
    with django_assert_max_num_queries(16):  # 9, the backlog, two for the ranking alpha, pay's two,
        # the position-bias report, the project menu's count of open appeals
        response = client.get(reverse("quality:dashboard", args=[project.pk]) + "?sort=-submitted")
    html = response.content.decode()
    assert html.count('data-testid="contributor-row"') == 3
    assert 'data-testid="chart-agreement"' in html
    assert "In review 4" in html  # statuses in words, not codes
    assert '<nav class="subnav" aria-label="Project">' in html  # the project pages' shared header
    assert f'href="/projects/{project.pk}/quality/" aria-current="page">Quality</a>' in html


def test_contributor_cannot_open_the_dashboard_or_the_review_queue(client, worked):
    project, people, _, _ = worked
    client.force_login(people[0])
    assert client.get(reverse("quality:dashboard", args=[project.pk])).status_code == 404
    assert client.get(reverse("quality:review-queue", args=[project.pk])).status_code == 404
    assert api_as(people[0]).get(f"/api/v1/projects/{project.pk}/reviews/next/").status_code == 404


def test_my_work_shows_own_verdicts_and_comments_only(client, worked):
    project, people, reviewer, _ = worked
    item = api_as(reviewer).get(f"/api/v1/projects/{project.pk}/reviews/next/").json()
    mine = next(a for a in item["answers"] if a["contributor"] == "C0")
    response = api_as(reviewer).post(
        f"/api/v1/reviews/{item['task']['id']}/",
        {"verdict": "reject", "comment": "Read B again.", "annotations": [mine["annotation"]]},
        format="json",
    )
    assert response.status_code == 200
    client.force_login(people[0])
    html = client.get(reverse("quality:my-work", args=[project.pk])).content.decode()
    assert html.count('data-testid="my-work-row"') == 4
    assert "Read B again." in html
    client.force_login(people[1])
    html = client.get(reverse("quality:my-work", args=[project.pk])).content.decode()
    assert "Read B again." not in html


def test_api_review_flow_accept_then_conflict_then_nothing_left(worked):
    project, _, reviewer, _ = worked
    api = api_as(reviewer)
    seen = set()
    for _ in range(4):
        item = api.get(f"/api/v1/projects/{project.pk}/reviews/next/").json()
        assert item["reason"] == "sampled"
        assert len(item["answers"]) == 3
        answer = api.post(
            f"/api/v1/reviews/{item['task']['id']}/",
            {"verdict": "accept", "version": item["version"]},
            format="json",
        )
        assert answer.json()["task_status"] == TaskStatus.ACCEPTED
        seen.add(item["task"]["id"])
        again = api.post(
            f"/api/v1/reviews/{item['task']['id']}/", {"verdict": "accept"}, format="json"
        )
        assert again.status_code == 409
    assert len(seen) == 4
    assert api.get(f"/api/v1/projects/{project.pk}/reviews/next/").status_code == 204


def test_api_fix_is_validated_by_the_kind(worked):
    project, _, reviewer, _ = worked
    api = api_as(reviewer)
    item = api.get(f"/api/v1/projects/{project.pk}/reviews/next/").json()
    bad = api.post(
        f"/api/v1/reviews/{item['task']['id']}/",
        {"verdict": "fix", "result": {"preference": "z"}},
        format="json",
    )
    assert bad.status_code == 400
    assert "result.preference" in bad.json()


def test_api_contributors_lists_standing_for_managers_only(worked):
    project, people, reviewer, manager = worked
    rows = api_as(manager).get(f"/api/v1/projects/{project.pk}/contributors/").json()
    assert {r["username"] for r in rows} == {p.username for p in people}
    assert all(r["submitted"] == 4 for r in rows)
    assert all(r["peer_agreement"] == 1.0 for r in rows)
    assert api_as(reviewer).get(f"/api/v1/projects/{project.pk}/contributors/").status_code == 404
    other, *_ = make_quality_project(contributors=1)
    assert api_as(manager).get(f"/api/v1/projects/{other.pk}/contributors/").status_code == 404


def test_manager_pauses_and_resumes_a_contributor(client, worked):
    project, people, _, manager = worked
    client.force_login(manager)
    url = reverse("quality:contributor-pause", args=[project.pk, people[1].pk])
    client.post(url, {"reason": "Too fast to be careful."})
    pc = ProjectContributor.objects.get(project=project, user=people[1])
    assert pc.status == ContributorStatus.PAUSED
    html = client.get(reverse("quality:dashboard", args=[project.pk])).content.decode()
    assert "Too fast to be careful." in html
    client.post(reverse("quality:contributor-resume", args=[project.pk, people[1].pk]))
    pc.refresh_from_db()
    assert (pc.status, pc.pause_reason) == (ContributorStatus.ACTIVE, "")


def test_api_pauses_and_resumes_a_contributor_and_the_audit_log_says_who(worked):
    project, people, reviewer, manager = worked
    base = f"/api/v1/projects/{project.pk}/contributors/{people[1].pk}"
    paused = api_as(manager).post(f"{base}/pause/", {"reason": "Check the guide."}, format="json")
    assert paused.status_code == 200
    assert paused.json() == {
        "username": people[1].username,
        "status": "paused",
        "pause_reason": "Check the guide.",
    }
    refused = api_as(people[1]).post(f"/api/v1/projects/{project.pk}/next/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "paused"
    assert "Check the guide." in refused.json()["detail"]
    resumed = api_as(manager).post(f"{base}/resume/")
    assert resumed.json()["status"] == "active"
    assert api_as(people[1]).post(f"/api/v1/projects/{project.pk}/next/").status_code != 403
    events = AuditEvent.objects.filter(project=project, action__startswith="contributor.")
    assert [(e.action, e.actor) for e in events.order_by("pk")] == [
        ("contributor.paused", manager),
        ("contributor.resumed", manager),
    ]
    assert events.order_by("pk").first().changes["status"] == {"from": "active", "to": "paused"}
    # Only managers; a person who is not a contributor here is a 404, as is too long a reason.
    assert api_as(reviewer).post(f"{base}/pause/").status_code == 404
    assert api_as(people[0]).post(f"{base}/pause/").status_code == 404
    stranger = f"/api/v1/projects/{project.pk}/contributors/{reviewer.pk}/pause/"
    assert api_as(manager).post(stranger).status_code == 404
    too_long = api_as(manager).post(f"{base}/pause/", {"reason": "x" * 501}, format="json")
    assert too_long.status_code == 400
    assert "reason" in too_long.json()


def test_a_disqualified_contributor_cannot_be_paused_and_resumed_back_in(worked):
    project, people, _, manager = worked
    ProjectContributor.objects.filter(project=project, user=people[2]).update(
        status=ContributorStatus.DISQUALIFIED
    )
    base = f"/api/v1/projects/{project.pk}/contributors/{people[2].pk}"
    api_as(manager).post(f"{base}/pause/")
    assert api_as(manager).post(f"{base}/resume/").json()["status"] == "disqualified"


def test_manager_flags_an_accepted_task_for_review(client, django_capture_on_commit_callbacks):
    project, people, reviewer, manager = make_quality_project(
        contributors=1, quality={"review_policy": "none"}
    )
    (task,) = make_ranking_tasks(project, 1)
    answer_next(django_capture_on_commit_callbacks, project=project, user=people[0], preference="a")
    client.force_login(manager)
    client.post(reverse("quality:task-flag", args=[project.pk, task.pk]), {"note": "Odd one"})
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.review_note == f"Flagged by {manager.username}: Odd one"
    client.force_login(reviewer)
    page = client.get(reverse("quality:review", args=[project.pk, task.pk]))
    assert page.status_code == 200
    assert 'id="editor-config"' in page.content.decode()
