"""Pay per task at a rate per difficulty: the kind says an answer's level, the pay app pays it
at that level's rate (set on the pay page or through the API), and contributors read the rates
before they start."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from annotation.models import Task
from kinds.environment.demo import BRIEFS, INVOICE_TASK, PYTEST_TASK
from pay.models import Earning, EarningPart, ProjectPay
from sandbox import runner
from tests.environment.helpers import make_environment_project
from tests.environment.test_proof_gate import api, check, claim, submit
from tests.factories import PASSWORD, make_project, make_user

pytestmark = pytest.mark.django_db

RATES = {
    "basis": "task",
    "accepted_rate": "1.00",
    "rejected_rate": "0.10",
    "level_rates": {"easy": "2.50", "medium": "6", "hard": "12"},
}


def test_api_sets_a_rate_per_difficulty_and_contributors_read_it():
    project, _, author, _, manager = make_environment_project()
    saved = api(manager).put(f"/api/v1/projects/{project.pk}/pay/", RATES, format="json")
    assert saved.status_code == 200, saved.content
    rates = saved.json()["rates"]
    assert rates["level_name"] == "difficulty"
    assert rates["level_rates"] == {"easy": "2.5000", "medium": "6.0000", "hard": "12.0000"}
    assert rates["own_level_rates"] == {"easy": "2.5000", "medium": "6.0000", "hard": "12.0000"}
    seen = api(author).get(f"/api/v1/projects/{project.pk}/pay/").json()["rates"]
    assert seen["words"] == (
        "Pays per accepted task by difficulty: 2.50 USD easy, 6.00 USD medium, "
        "12.00 USD hard; 0.10 USD per rejected task"
    )

    # A level left out is paid the accepted rate.
    partial = api(manager).put(
        f"/api/v1/projects/{project.pk}/pay/", {"level_rates": {"hard": "9"}}, format="json"
    )
    assert partial.json()["rates"]["level_rates"] == {
        "easy": "1.0000",
        "medium": "1.0000",
        "hard": "9.0000",
    }


def test_api_refuses_an_unknown_level_or_a_bad_amount_by_its_path():
    project, _, _, _, manager = make_environment_project()
    refused = api(manager).put(
        f"/api/v1/projects/{project.pk}/pay/",
        {"level_rates": {"extreme": "5", "hard": "-1"}},
        format="json",
    )
    assert refused.status_code == 400
    body = refused.json()
    assert "Not one of the project's levels: easy, medium, hard." in body["level_rates.extreme"]
    assert body["level_rates.hard"] == ["An amount of 0 or more, like 0.25."]
    assert not ProjectPay.objects.filter(project=project).exists()


def test_a_kind_without_levels_takes_no_level_rates():
    manager = make_user()
    project = make_project(kind="ranking", members={manager: "manager"})
    refused = api(manager).put(
        f"/api/v1/projects/{project.pk}/pay/", {"level_rates": {"easy": "1"}}, format="json"
    )
    assert refused.status_code == 400
    assert "no levels" in refused.json()["level_rates"][0]


def test_pay_page_has_a_rate_field_per_difficulty_and_shows_them(client):
    project, _, author, _, manager = make_environment_project()
    client.login(username=manager.username, password=PASSWORD)
    url = reverse("pay:project", args=[project.pk])
    page = client.get(url).content.decode()
    for level in ("easy", "medium", "hard"):
        assert f'name="level_rate__{level}"' in page
    bad = client.post(
        url,
        {
            "basis": "task",
            "accepted_rate": "1",
            "rejected_rate": "0",
            "hourly_rate": "0",
            "bonus_per_task": "0",
            "bonus_accuracy": "0.9",
            "level_rate__hard": "-3",
        },
    )
    assert bad.status_code == 422
    assert "Ensure this value is greater than or equal to 0" in bad.content.decode()
    saved = client.post(
        url,
        {
            "basis": "task",
            "accepted_rate": "1",
            "rejected_rate": "0",
            "hourly_rate": "0",
            "bonus_per_task": "0",
            "bonus_accuracy": "0.9",
            "level_rate__easy": "",
            "level_rate__hard": "7.5",
        },
    )
    assert saved.status_code == 302
    assert ProjectPay.objects.get(project=project).level_rates == {"hard": "7.5000"}

    client.logout()
    client.login(username=author.username, password=PASSWORD)
    shown = client.get(url).content.decode()
    assert 'data-level="hard">hard 7.50 USD' in shown
    assert 'data-level="easy">easy 1.00 USD' in shown
    # Before they start: the project's page and the home page say the rates by difficulty.
    detail = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert "by difficulty: 1.00 USD easy, 1.00 USD medium, 7.50 USD hard" in detail
    home = client.get("/").content.decode()
    assert "by difficulty: 1.00 USD easy, 1.00 USD medium, 7.50 USD hard" in home


@pytest.mark.skipif(not runner.available(), reason="bubblewrap is not installed")
def test_each_answer_is_paid_at_its_difficultys_rate(django_capture_on_commit_callbacks):
    """An easy and a medium task earn their own rates; a rejection moves an answer to the
    rejected rate, and the recorded terms keep the level it was paid at."""
    capture = django_capture_on_commit_callbacks
    project, _, author, reviewer, manager = make_environment_project(briefs=BRIEFS[:2])
    saved = api(manager).put(f"/api/v1/projects/{project.pk}/pay/", RATES, format="json")
    assert saved.status_code == 200
    client = api(author)
    for result in (INVOICE_TASK, PYTEST_TASK):  # easy, medium
        assignment_id = claim(client, project)
        task = Task.objects.get(assignments__pk=assignment_id)
        assert check(client, task, result, capture)["holds"] is True
        with capture(execute=True):
            assert submit(client, assignment_id, result).status_code == 201

    base = Earning.objects.filter(person=author, part=EarningPart.BASE)
    paid = {e.annotation.result["difficulty"]: e for e in base.select_related("annotation")}
    assert paid["easy"].amount == Decimal("2.50")
    assert paid["medium"].amount == Decimal("6")
    assert paid["medium"].terms["level"] == "medium"

    medium_task = paid["medium"].annotation.task
    medium_task.refresh_from_db()
    with capture(execute=True):
        rejected = api(reviewer).post(
            f"/api/v1/reviews/{medium_task.pk}/",
            {"verdict": "reject", "comment": "The tests do not check rounding."},
            format="json",
        )
    assert rejected.status_code == 200, rejected.content
    total = base.aggregate(total=Sum("amount"))["total"]
    assert total == Decimal("2.50") + Decimal("0.10")
