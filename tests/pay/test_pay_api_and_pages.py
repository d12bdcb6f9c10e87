"""Rates, ledger, statements, payouts and the fair-pay floor through the API and the pages:
members see their own, managers their project's, admins their organization's; nobody else."""

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from labelhub.accounts import api_token_issue
from labelhub.models import AuditAction, AuditEvent, OrganizationMember
from pay.models import Earning, EarningEvent, OrganizationPay, PayBasis
from tests.factories import PASSWORD, make_organization, make_user
from tests.pay.helpers import answer, paid_project
from tests.quality.helpers import make_ranking_tasks

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user).key}")
    return client


@pytest.fixture
def worked(django_capture_on_commit_callbacks):
    """Two contributors with paid answers; the manager is the organization's admin."""
    project, people, reviewer, manager = paid_project(contributors=2, quality={"review_share": 0})
    OrganizationMember.objects.filter(organization=project.organization, user=manager).update(
        is_admin=True
    )
    make_ranking_tasks(project, 5)
    for user, n in ((people[0], 3), (people[1], 2)):
        for _ in range(n):
            answer(django_capture_on_commit_callbacks, project=project, user=user, seconds=300)
    return project, people, reviewer, manager


def test_rates_are_set_by_managers_with_field_errors_and_an_audit_record(worked):
    project, people, _reviewer, manager = worked
    url = f"/api/v1/projects/{project.pk}/pay/"
    bad = api(manager).put(url, {"accepted_rate": "-1", "basis": "piece"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"accepted_rate", "basis"}
    assert project.pay.accepted_rate == Decimal("0.50")  # nothing changed
    good = api(manager).put(url, {"accepted_rate": "0.75", "bonus_accuracy": 0.8}, format="json")
    assert good.status_code == 200, good.json()
    body = good.json()
    assert body["rates"]["accepted_rate"] == "0.7500"
    assert body["rates"]["rejected_rate"] == "0.1000"  # left out: kept
    assert "fair_pay" in body
    assert AuditEvent.objects.filter(action=AuditAction.PAY_RATES_CHANGED, project=project).exists()
    assert api(people[0]).put(url, {"accepted_rate": "9"}, format="json").status_code == 404
    mine = api(people[0]).get(url).json()
    assert "fair_pay" not in mine
    assert mine["earned"]["amount"] == "1.5000"
    assert mine["earned"]["active_seconds"] == 900
    outsider = make_user(organization=make_organization())
    assert api(outsider).get(url).status_code == 404


def test_the_ledger_shows_a_contributor_only_their_own_entries(worked):
    project, people, _reviewer, manager = worked
    url = f"/api/v1/projects/{project.pk}/pay/ledger/"
    mine = api(people[1]).get(url).json()
    assert len(mine) == 2
    assert {e["person"] for e in mine} == {people[1].username}
    everyone = api(manager).get(url).json()
    assert len(everyone) == 5
    one = api(manager).get(url, {"person": people[0].username}).json()
    assert {e["person"] for e in one} == {people[0].username}
    assert api(people[1]).get(url, {"person": people[0].username}).json() == mine


def test_statements_for_the_person_and_the_admin_and_payouts_as_csv(worked):
    project, people, _reviewer, manager = worked
    slug = project.organization.slug
    url = f"/api/v1/organizations/{slug}/statements/"
    mine = api(people[0]).get(url, {"period": "week"})
    assert mine.status_code == 200
    body = mine.json()
    assert body["person"] == people[0].username
    assert body["amount_due"] == "1.50"
    assert body["lines"][0]["answers"] == 3
    assert body["lines"][0]["active_seconds"] == 900
    # A member cannot read someone else's; the admin can, and sees everyone's totals.
    assert api(people[0]).get(url, {"person": people[1].username}).status_code == 404
    theirs = api(manager).get(url, {"person": people[1].username}).json()
    assert theirs["amount_due"] == "1.00"
    totals = api(manager).get(url).json()
    assert {p["person"]: p["amount"] for p in totals["people"]} == {
        people[0].username: "1.50",
        people[1].username: "1.00",
    }
    # The period is checked.
    bad = api(people[0]).get(url, {"period": "year", "start": "yesterday"})
    assert bad.status_code == 400
    assert "period" in bad.json()
    # A past period holds nothing.
    assert api(people[0]).get(url, {"start": "2020-01-15"}).json()["lines"] == []

    payouts = api(manager).get(f"/api/v1/organizations/{slug}/payouts/", {"period": "month"})
    assert payouts.status_code == 200
    assert payouts["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(payouts.content.decode())))
    assert {r["username"]: r["amount"] for r in rows} == {
        people[0].username: "1.50",
        people[1].username: "1.00",
    }
    assert rows[0]["period_start"] == timezone.now().date().replace(day=1).isoformat()
    assert api(people[0]).get(f"/api/v1/organizations/{slug}/payouts/").status_code == 404


def test_payout_csv_never_hands_a_spreadsheet_a_formula(worked):
    project, people, _reviewer, manager = worked
    people[0].first_name = "=HYPERLINK(1)"
    people[0].save()
    slug = project.organization.slug
    text = api(manager).get(f"/api/v1/organizations/{slug}/payouts/").content.decode()
    assert "'=HYPERLINK(1)" in text


def test_organization_pay_settings_admins_only(worked):
    project, people, _reviewer, manager = worked
    url = f"/api/v1/organizations/{project.organization.slug}/pay/"
    assert api(people[0]).get(url).json() == {"currency": "USD", "fair_pay_floor": None}
    assert api(people[0]).put(url, {"currency": "EUR"}, format="json").status_code == 404
    bad = api(manager).put(url, {"currency": "euro", "fair_pay_floor": "x"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"currency", "fair_pay_floor"}
    ok = api(manager).put(url, {"currency": "eur", "fair_pay_floor": "12.50"}, format="json")
    assert ok.json() == {"currency": "EUR", "fair_pay_floor": "12.5000"}
    assert AuditEvent.objects.filter(action=AuditAction.PAY_SETTINGS_CHANGED).count() == 1


def _earned(project, user, *, amount: str, seconds: int) -> None:
    Earning.objects.create(
        organization=project.organization,
        project=project,
        project_name=project.name,
        person=user,
        event=EarningEvent.JUDGED,
        amount=Decimal(amount),
        currency="USD",
        active_seconds=seconds,
        created_at=timezone.now(),
    )


def test_the_fair_pay_warning_appears_exactly_when_the_median_falls_under_the_floor(
    django_capture_on_commit_callbacks,
):
    project, people, _reviewer, manager = paid_project(contributors=3, quality={"review_share": 0})
    OrganizationPay.objects.create(organization=project.organization, fair_pay_floor=Decimal(12))
    # Effective pay per active hour: 10, 12 and 20 → the median is exactly the floor.
    for user, amount in zip(people, ("10", "12", "20"), strict=True):
        _earned(project, user, amount=amount, seconds=3600)
    fair = api(manager).get(f"/api/v1/projects/{project.pk}/").json()["fair_pay"]
    assert fair["median_hourly"] == "12.00"
    assert fair["below_floor"] is False
    client = APIClient()
    client.login(username=manager.username, password=PASSWORD)
    page = client.get(f"/projects/{project.pk}/quality/")
    assert b'data-testid="fair-pay-ok"' in page.content
    assert b"fair-pay-warning" not in page.content

    # One more hour at 11.99 for the middle person: their rate drops under 12 → so does the
    # median, and the warning names the rate that would reach the floor.
    _earned(project, people[1], amount="11.99", seconds=3600)
    fair = api(manager).get(f"/api/v1/projects/{project.pk}/pay/").json()["fair_pay"]
    assert fair["below_floor"] is True
    assert Decimal(fair["median_hourly"]) < 12
    # 0.50 × 12 / 11.995 = 0.50021 → 0.51 (rounded up to the cent).
    assert fair["rate_needed"] == {"accepted_rate": "0.51"}
    assert "fair-pay floor" in fair["message"]
    page = client.get(f"/projects/{project.pk}/quality/")
    assert b'data-testid="fair-pay-warning"' in page.content
    assert b"0.51" in page.content

    # Under ten minutes of active time a person does not count: the median is theirs no more.
    _earned(project, make_user(), amount="0", seconds=300)
    assert api(manager).get(f"/api/v1/projects/{project.pk}/pay/").json()["fair_pay"]["people"] == 3


def test_hourly_projects_warn_with_the_hourly_rate_needed():
    project, people, _reviewer, manager = paid_project(
        contributors=1, basis=PayBasis.HOUR, hourly="8", quality={"review_share": 0}
    )
    OrganizationPay.objects.create(organization=project.organization, fair_pay_floor=Decimal(10))
    _earned(project, people[0], amount="8", seconds=3600)
    fair = api(manager).get(f"/api/v1/projects/{project.pk}/pay/").json()["fair_pay"]
    assert fair["below_floor"]
    assert fair["rate_needed"] == {"hourly_rate": "10.00"}


def test_pages_rates_statements_and_payout_download(worked):
    project, people, _reviewer, manager = worked
    client = APIClient()
    client.login(username=manager.username, password=PASSWORD)
    page = client.get(f"/projects/{project.pk}/pay/")
    assert page.status_code == 200
    assert b'data-testid="pay-form"' in page.content
    bad = client.post(
        f"/projects/{project.pk}/pay/",
        {
            "basis": "task",
            "accepted_rate": "-2",
            "rejected_rate": "0",
            "hourly_rate": "0",
            "bonus_per_task": "0",
            "bonus_accuracy": "0.9",
        },
    )
    assert bad.status_code == 422
    saved = client.post(
        f"/projects/{project.pk}/pay/",
        {
            "basis": "task",
            "accepted_rate": "0.60",
            "rejected_rate": "0",
            "hourly_rate": "0",
            "bonus_per_task": "0",
            "bonus_accuracy": "0.9",
        },
    )
    assert saved.status_code == 302
    project.pay.refresh_from_db()
    assert project.pay.accepted_rate == Decimal("0.60")
    slug = project.organization.slug
    statements = client.get(f"/organizations/{slug}/statements/")
    assert statements.status_code == 200
    assert b'data-testid="payouts"' in statements.content
    download = client.get(f"/organizations/{slug}/statements/", {"download": "payouts"})
    assert download["Content-Type"].startswith("text/csv")

    contributor = APIClient()
    contributor.login(username=people[0].username, password=PASSWORD)
    assert contributor.get("/statements/").status_code == 302
    mine = contributor.get(f"/organizations/{slug}/statements/", {"period": "week"})
    assert mine.status_code == 200
    assert mine.content.count(b'data-testid="statement-entry"') == 3
    assert b'data-testid="payouts"' not in mine.content
    assert (
        contributor.get(f"/organizations/{slug}/statements/", {"download": "payouts"}).status_code
        == 404
    )
    assert (
        contributor.get(
            f"/organizations/{slug}/statements/", {"person": people[1].username}
        ).status_code
        == 404
    )
    rates = contributor.get(f"/projects/{project.pk}/pay/")
    assert b'data-testid="rates"' in rates.content
    assert b"pay-form" not in rates.content
    assert contributor.post(f"/projects/{project.pk}/pay/", {"basis": "task"}).status_code == 404
