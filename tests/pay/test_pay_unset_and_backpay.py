"""A project's pay is a choice: rates, or "unpaid (volunteer or internal staff)". Until it is
made, managers are warned and contributors told; once rates are set, the manager may pay the
answers made before them, one settlement per answer."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from labelhub.accounts import api_token_issue
from labelhub.models import AuditAction, AuditEvent
from pay.ledger import annotations_settle
from pay.models import Earning, EarningEvent, ProjectPay
from pay.selectors import period_parse, statement_for
from quality.models import AnnotationReview, AnswerJudgement
from tests.pay.helpers import ALWAYS_REVIEW, answer
from tests.pay.test_ledger import review
from tests.quality.helpers import make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


@pytest.fixture
def unpaid_work(django_capture_on_commit_callbacks):
    """Three answers by two people on a project whose manager has not chosen its pay."""
    project, people, reviewer, manager = make_quality_project(contributors=2, quality={})
    make_ranking_tasks(project, 3)
    answers = [
        answer(django_capture_on_commit_callbacks, project=project, user=user, seconds=120)
        for user in (people[0], people[0], people[1])
    ]
    return project, people, reviewer, manager, answers


def test_answers_made_before_rates_are_paid_once_each_when_the_manager_asks(unpaid_work):
    project, people, _reviewer, manager, answers = unpaid_work
    url = f"/api/v1/projects/{project.pk}/pay/"
    assert not Earning.objects.exists()
    before = api(manager).get(url).json()
    assert before["rates"]["state"] == "unset"
    assert before["unpaid_answers"] == 3

    # No rates yet: nothing to pay at, and nothing changes.
    refused = api(manager).post(url + "backpay/")
    assert refused.status_code == 400
    assert "rates first" in str(refused.json())
    assert not Earning.objects.exists()

    api(manager).put(url, {"basis": "task", "accepted_rate": "0.40"}, format="json")
    assert api(manager).get(url).json()["unpaid_answers"] == 3
    assert api(people[0]).post(url + "backpay/").status_code == 404  # managers only

    done = api(manager).post(url + "backpay/")
    assert done.status_code == 200, done.json()
    assert done.json()["paid"] == 3
    assert done.json()["pay"]["unpaid_answers"] == 0
    entries = Earning.objects.filter(project=project)
    assert sorted(entries.values_list("annotation_id", flat=True)) == sorted(a.pk for a in answers)
    assert set(entries.values_list("event", flat=True)) == {EarningEvent.BACKPAY}
    assert {e.terms["accepted_rate"] for e in entries} == {"0.4000"}
    assert {e.active_seconds for e in entries} == {120}

    # Asked again: nothing more.
    assert api(manager).post(url + "backpay/").json()["paid"] == 0
    assert entries.count() == 3
    assert AuditEvent.objects.filter(
        project=project, action=AuditAction.PAY_RATES_CHANGED, summary__contains="3 answers"
    ).exists()

    # The project is on the person's statement, its answers counted as paid answers.
    statement = statement_for(
        organization=project.organization,
        person=people[0],
        period=period_parse(span="month", start=None),
    )
    (line,) = statement.lines
    assert line.project_name == project.name
    assert line.answers == 2
    assert line.pay == Decimal("0.80")


def test_a_rejected_answer_is_back_paid_at_the_rejected_rate_and_moves_like_any_other(
    django_capture_on_commit_callbacks,
):
    project, people, reviewer, manager = make_quality_project(contributors=1, quality=ALWAYS_REVIEW)
    (task,) = make_ranking_tasks(project, 1)
    answer(django_capture_on_commit_callbacks, project=project, user=people[0])
    review(task, reviewer, "reject", comment="Wrong side.")
    url = f"/api/v1/projects/{project.pk}/pay/"
    api(manager).put(
        url, {"basis": "task", "accepted_rate": "1.00", "rejected_rate": "0.25"}, format="json"
    )
    assert api(manager).post(url + "backpay/").json()["paid"] == 1
    (entry,) = Earning.objects.filter(project=project)
    assert entry.amount == Decimal("0.25")
    # Its terms are the rates of the back pay: a later settlement moves between them.
    AnnotationReview.objects.filter(annotation_id=entry.annotation_id).update(
        judgement=AnswerJudgement.ACCEPTED
    )
    annotations_settle(annotation_ids=[entry.annotation_id], event=EarningEvent.APPEAL_REVERSED)
    assert sum(e.amount for e in Earning.objects.filter(project=project)) == Decimal("1.00")


def test_unpaid_is_an_explicit_choice_that_writes_no_entries(django_capture_on_commit_callbacks):
    project, people, _reviewer, manager = make_quality_project(contributors=1, quality={})
    url = f"/api/v1/projects/{project.pk}/pay/"
    bad = api(manager).put(url, {"basis": "free"}, format="json")
    assert bad.status_code == 400
    assert "unpaid" in str(bad.json()["basis"])
    assert not ProjectPay.objects.filter(project=project).exists()

    body = api(manager).put(url, {"basis": "unpaid"}, format="json").json()
    assert body["rates"]["state"] == "unpaid"
    assert body["rates"]["configured"] is True
    assert body["rates"]["words"] == "Unpaid (volunteer or internal staff)"
    make_ranking_tasks(project, 1)
    answer(django_capture_on_commit_callbacks, project=project, user=people[0])
    assert not Earning.objects.exists()
    assert api(manager).post(url + "backpay/").status_code == 400
    assert not Earning.objects.exists()


def test_contributors_read_the_pay_before_they_start_and_managers_are_warned(client, unpaid_work):
    project, people, _reviewer, manager, _answers = unpaid_work
    client.force_login(people[0])
    home = client.get(reverse("home")).content.decode()
    assert "Pay not set yet" in home
    page = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "Pay not set yet" in page
    assert 'data-testid="pay-unset-warning"' not in page

    client.force_login(manager)
    page = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'data-testid="pay-unset-warning"' in page
    pay_page = client.get(reverse("pay:project", args=[project.pk])).content.decode()
    assert 'data-testid="pay-unset-warning"' in pay_page
    assert 'data-testid="backpay"' not in pay_page  # nothing to pay at yet

    response = client.post(
        reverse("pay:project", args=[project.pk]),
        {
            "basis": "hour",
            "accepted_rate": "0",
            "rejected_rate": "0",
            "hourly_rate": "18",
            "bonus_per_task": "0",
            "bonus_accuracy": "0.9",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "3 answers made before have no pay" in text
    assert 'data-testid="backpay"' in text
    assert 'data-testid="pay-unset-warning"' not in text

    client.force_login(people[0])
    assert "Pays 18.00 USD per active hour" in client.get(reverse("home")).content.decode()
