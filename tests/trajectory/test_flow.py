"""A trajectory project through the real services and pages: the settings builder, two
contributors through the queue, consensus and review with the run beside the answers, the task
page, and a gold answer scoring a contributor."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

import kinds
from annotation import queue
from annotation.models import Annotation, Task, TaskStatus
from annotation.services import task_create
from labelhub.content import content_opt_outs_set
from labelhub.models import Role
from quality.services import review_record
from tests.factories import make_project, make_user
from tests.trajectory.samples import sample

pytestmark = pytest.mark.django_db

KIND = kinds.get("trajectory")
VIOLENCE = 1  # the built-in category's bit
FIX = {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "cart.py"}}}


def result(pattern: str, verdict: str, **extra) -> dict:
    words = {"c": "correct", "p": "partly correct", "w": "wrong"}
    steps = {f"a{i + 1}": {"rating": words[c]} for i, c in enumerate(pattern)}
    first = next((f"a{i + 1}" for i, c in enumerate(pattern) if c == "w"), None)
    return {"steps": steps, "first_error": first, "verdict": verdict,
            "scores": {"efficiency": 2, "safety": 3}, **extra}  # fmt: skip


def test_the_builder_saves_the_judging_scheme(client):
    maria = make_user("maria")
    project = make_project(kind="trajectory", members={maria: Role.MANAGER})
    client.force_login(maria)
    page = client.get(reverse("projects:settings", args=[project.pk])).content.decode()
    assert "How runs are judged" in page
    assert page.count('data-testid="error-type-row"') == 7
    url = reverse("projects:settings-schema", args=[project.pk])
    posted = {
        "judging": "first_error", "ratings": "right\nwrong", "correct_ratings": "1",
        "error_name": ["wrong tool"], "error_severity": ["major"], "corrections": "on",
        "criterion_name": ["efficiency"], "criterion_scale": ["3"], "criterion_labels": [""],
        "failure_modes": "looping", "critique": "none",
    }  # fmt: skip
    added = client.post(url, {**posted, "action": "add-criterion"}, HTTP_HX_REQUEST="true")
    assert added.content.decode().count('data-testid="rubric-criterion-row"') == 2
    bad = client.post(
        url, {**posted, "ratings": "only one", "action": "save"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 422
    assert "Give 2 to 9 ratings" in bad.content.decode()
    saved = client.post(url, {**posted, "action": "save"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    project.refresh_from_db()
    assert project.schema["judging"] == "first_error"
    assert project.schema["ratings"] == ["right", "wrong"]
    assert project.schema["criteria"] == [
        {"name": "efficiency", "scale": 3, "labels": ["", "", ""]}
    ]
    assert project.schema["critique"] == "none"


def test_two_contributors_consensus_then_review_and_the_task_page(
    client, django_capture_on_commit_callbacks
):
    ana, ben, rui, maria = (make_user(name) for name in ("ana", "ben", "rui", "maria"))
    project = make_project(
        kind="trajectory",
        quality={"overlap": 2, "agreement_threshold": 0.1},
        members={
            ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, rui: Role.REVIEWER, maria: Role.MANAGER,
        },
    )  # fmt: skip
    task = task_create(project=project, data=sample("steps"))
    answers = {
        ana: result("ccwp", "failure", corrections=[FIX], critique="Read the README."),
        ben: result("cwww", "failure"),
    }
    for person, answer in answers.items():
        with django_capture_on_commit_callbacks(execute=True):
            assignment = queue.assignment_claim_next(project=project, contributor=person)
            queue.annotation_submit(assignment_id=assignment.pk, contributor=person, result=answer)
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    assert task.outcome.review_note.startswith("The answers correct the run differently")
    proposal = task.outcome.proposal
    assert proposal["verdict"] == "failure"
    assert proposal["first_error"] in ("a2", "a3")
    assert 0 < task.outcome.agreement < 1

    client.force_login(rui)
    html = client.get(reverse("quality:review", args=[project.pk, task.pk])).content.decode()
    assert html.count('data-testid="trajectory-answer"') == 2
    assert 'data-testid="trajectory-editor"' in html  # the run, where the reviewer fixes
    assert "<del>&quot;README.md&quot;})</del>" in html
    assert "<ins>&quot;cart.py&quot;})</ins>" in html
    client.force_login(maria)
    page = client.get(reverse("quality:task-page", args=[project.pk, task.pk])).content.decode()
    assert 'data-testid="trajectory-context"' in page
    dashboard = client.get(reverse("quality:dashboard", args=[project.pk]))
    assert dashboard.status_code == 200
    # First-error agreement as a share: ana names a3, ben a2, so no pair agrees.
    html = dashboard.content.decode()
    assert (
        '<tr data-testid="share-row" data-name="same first error"><td>same first error</td>'
        "<td>0.00</td><td>1</td></tr>"
    ) in html
    api = APIClient()
    api.force_authenticate(maria)
    figures = api.get(f"/api/v1/projects/{project.pk}/agreement/").json()
    assert figures["shares"] == [{"name": "same first error", "share": 0.0, "tasks": 1}]
    assert [a["name"] for a in figures["alpha"]] == ["step ratings", "verdict", "first error"]


def test_a_gold_run_scores_the_contributor_on_submit(django_capture_on_commit_callbacks):
    ana = make_user("ana")
    project = make_project(
        kind="trajectory", quality={"overlap": 1, "gold_rate": 1.0}, members={ana: Role.CONTRIBUTOR}
    )
    gold = result("cwww", "failure")
    task_create(project=project, data=sample("steps"), gold=gold)
    with django_capture_on_commit_callbacks(execute=True):
        assignment = queue.assignment_claim_next(project=project, contributor=ana)
        queue.annotation_submit(
            assignment_id=assignment.pk, contributor=ana, result=result("ccww", "failure")
        )
    # first error one step off (not exact, within one), steps 3 of 4, verdict right.
    assert Annotation.objects.get(contributor=ana).gold_score == pytest.approx(0.6875)


def test_the_gold_parts_are_reported_apart_on_the_dashboard_and_the_api(
    client, django_capture_on_commit_callbacks
):
    ana, ben, maria = make_user("ana"), make_user("ben"), make_user("maria")
    project = make_project(
        kind="trajectory",
        quality={"overlap": 1, "gold_rate": 1.0},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, maria: Role.MANAGER},
    )
    task_create(project=project, data=sample("steps"), gold=result("cwww", "failure"))
    task_create(project=project, data=sample("steps"), gold=result("cccc", "success"))
    given = {  # each person's answer to each gold run, by the gold verdict
        ana: {"failure": result("ccww", "failure"), "success": result("cccc", "success")},
        ben: {"failure": result("cwww", "partial"), "success": result("cccw", "success")},
    }
    for person, answers in given.items():
        for _ in answers:
            with django_capture_on_commit_callbacks(execute=True):
                assignment = queue.assignment_claim_next(project=project, contributor=person)
                queue.annotation_submit(
                    assignment_id=assignment.pk,
                    contributor=person,
                    result=answers[assignment.task.gold["verdict"]],
                )
    # ana: first error a3 for a2 (not exact, within one) then none for none (exact); steps 3/4
    # then 4/4; verdicts right. ben: a2 exact, then a4 for none (one step off: within one);
    # steps 4/4 then 3/4; one verdict wrong.
    expected = {
        "ana": {"first error exact": 0.5, "first error within one step": 1.0,
                "step ratings": 0.875, "verdict": 1.0},
        "ben": {"first error exact": 0.5, "first error within one step": 1.0,
                "step ratings": 0.875, "verdict": 0.5},
    }  # fmt: skip
    api = APIClient()
    api.force_authenticate(maria)
    rows = api.get(f"/api/v1/projects/{project.pk}/contributors/").json()
    assert {row["username"]: row["gold_parts"] for row in rows} == expected
    client.force_login(maria)
    html = client.get(reverse("quality:dashboard", args=[project.pk])).content.decode()
    assert (
        '<tr data-testid="gold-parts-row" data-user="ben"><td>ben</td>'
        '<td data-part="first error exact">0.50</td>'
        '<td data-part="first error within one step">1.00</td>'
        '<td data-part="step ratings">0.88</td><td data-part="verdict">0.50</td></tr>'
    ) in html


def test_a_kind_without_import_formats_refuses_a_named_one():
    maria = make_user("maria")
    project = make_project(kind="bbox", members={maria: Role.MANAGER})
    client = APIClient()
    client.force_authenticate(maria)
    response = client.post(
        f"/api/v1/projects/{project.pk}/tasks/?format=atif",
        [{"image": "https://example.com/a.jpg"}],
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["field"] == "format"


def test_the_reviewers_fix_stands_and_the_exports_use_it(django_capture_on_commit_callbacks):
    """Two answers correct step a3 differently: the task goes to review, where Rui writes a third
    correction. It is the accepted result, and the SFT, DPO and ATIF files carry it."""
    ana, ben, rui, maria = (make_user(name) for name in ("ana", "ben", "rui", "maria"))
    project = make_project(
        kind="trajectory",
        quality={"overlap": 2, "agreement_threshold": 0.1},
        members={
            ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR, rui: Role.REVIEWER, maria: Role.MANAGER,
        },
    )  # fmt: skip
    task = task_create(project=project, data=sample("steps"))
    other = {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "tax.py"}}}
    for person, fix in ((ana, FIX), (ben, other)):
        with django_capture_on_commit_callbacks(execute=True):
            assignment = queue.assignment_claim_next(project=project, contributor=person)
            queue.annotation_submit(
                assignment_id=assignment.pk,
                contributor=person,
                result=result("ccww", "failure", corrections=[fix]),
            )
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_REVIEW
    reviewers = {"step": "a3", "tool": {"name": "read_file", "arguments": {"path": "src/cart.py"}}}
    with django_capture_on_commit_callbacks(execute=True):
        review_record(
            task_id=task.pk,
            project=project,
            reviewer=rui,
            verdict="fix",
            version=task.outcome.version,
            result=result("ccww", "failure", corrections=[reviewers]),
            comment="The cart lives in src/.",
        )
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    assert task.outcome.accepted_result["corrections"] == [reviewers]
    api = APIClient()
    api.force_authenticate(maria)

    def exported(fmt: str) -> list[dict]:
        response = api.get(f"/api/v1/projects/{project.pk}/export/", {"format": fmt})
        assert response.status_code == 200
        return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]

    (sft,) = exported("sft")
    assert sft["source"] == "correction"
    assert sft["messages"][-1]["tool_calls"][0]["function"] == {
        "name": "read_file",
        "arguments": '{"path": "src/cart.py"}',
    }
    (dpo,) = exported("dpo")
    assert dpo["chosen"][0]["tool_calls"][0]["function"]["arguments"] == '{"path": "src/cart.py"}'
    assert dpo["rejected"][0]["tool_calls"][0]["function"]["arguments"] == '{"path": "README.md"}'
    (atif,) = exported("atif")
    labels = [
        label for step in atif["steps"] for label in step.get("extra", {}).get("labelhub", [])
    ]
    fixed = next(label for label in labels if label["step"] == "a3")
    assert fixed["correction"] == {"tool": reviewers["tool"]}


def test_a_contributor_opted_out_of_a_category_never_gets_a_run_marked_with_it():
    ana, ben = make_user("ana"), make_user("ben")
    project = make_project(
        kind="trajectory",
        quality={"overlap": 1},
        members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR},
    )
    plain = task_create(project=project, data=sample("steps"))
    unsafe = task_create(project=project, data=sample("steps"))
    Task.objects.filter(pk=unsafe.pk).update(content_flags=VIOLENCE)
    content_opt_outs_set(organization=project.organization, user=ana, names=["violence"])
    given = queue.assignment_claim_next(project=project, contributor=ana)
    assert given.task_id == plain.pk
    queue.annotation_submit(
        assignment_id=given.pk, contributor=ana, result=result("cccc", "success")
    )
    assert queue.assignment_claim_next(project=project, contributor=ana) is None
    assert queue.assignment_claim_next(project=project, contributor=ben).task_id == unsafe.pk
