"""Pay in a real Chromium: the admin sets the floor, the manager sets the rates, work is paid,
the dashboard warns under the floor, and the contributor reads their statement."""

import pytest
from playwright.sync_api import Page, expect

from annotation import queue
from labelhub.models import OrganizationMember
from pay.models import Earning
from tests.e2e.test_review import log_in
from tests.quality.helpers import make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def answer(project, user, *, seconds: int) -> None:
    assignment = queue.assignment_claim_next(project=project, contributor=user)
    queue.annotation_submit(
        assignment_id=assignment.pk,
        contributor=user,
        result={"preference": "a", "strength": 1},
        active_seconds=seconds,
    )


def test_rates_floor_warning_and_statement_in_the_browser(live_server, page: Page):
    project, people, _reviewer, manager = make_quality_project(
        contributors=1, quality={"review_share": 0}
    )
    OrganizationMember.objects.filter(user=manager).update(is_admin=True)
    slug = project.organization.slug

    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/organizations/{slug}/pay/")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Fair-pay floor per active hour").fill("12")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Pay settings saved.")).to_be_visible()

    page.goto(f"{live_server.url}/projects/{project.pk}/pay/")
    page.get_by_label("Per task", exact=True).check()
    page.get_by_label("Per accepted task", exact=True).fill("-1")
    page.get_by_role("button", name="Save rates").click()
    # The browser refuses it before it is sent (the server would too: tests/pay).
    assert page.get_by_label("Per accepted task", exact=True).evaluate("e => !e.validity.valid")
    expect(page.get_by_text("Rates saved")).to_have_count(0)
    page.get_by_label("Per accepted task", exact=True).fill("0.10")
    page.get_by_role("button", name="Save rates").click()
    expect(page.get_by_text("Rates saved")).to_be_visible()

    # Ten answers of a minute each at 0.10: 6 EUR per active hour, under the floor of 12.
    make_ranking_tasks(project, 10)
    for _ in range(10):
        answer(project, people[0], seconds=60)
    assert Earning.objects.filter(person=people[0]).count() == 10
    page.goto(f"{live_server.url}/projects/{project.pk}/quality/")
    warning = page.get_by_test_id("fair-pay-warning")
    expect(warning).to_contain_text("under the organization's fair-pay floor of 12.00 EUR")
    expect(warning).to_contain_text("from 0.10 to")

    log_in(page, live_server, people[0])
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("earnings-link").click()
    expect(page.get_by_test_id("amount-due")).to_have_text("1.00 EUR")
    expect(page.get_by_test_id("statement-entry")).to_have_count(10)
    expect(page.get_by_test_id("payouts")).to_have_count(0)


def test_pay_not_set_is_told_then_rates_pay_the_earlier_answers(live_server, page: Page):
    project, people, _reviewer, manager = make_quality_project(
        contributors=1, quality={"review_share": 0}
    )
    make_ranking_tasks(project, 4)

    # The contributor reads on their home page, before starting, that pay is not set.
    log_in(page, live_server, people[0])
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("pay-terms")).to_have_text(
        "Pay not set yet: ask the project's manager before you start"
    )
    for _ in range(2):
        answer(project, people[0], seconds=60)
    assert not Earning.objects.exists()

    # The manager is warned on the project and sets the rates on the Pay page.
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("pay-unset-warning").get_by_role("link").click()
    expect(page.get_by_test_id("pay-unset-warning")).to_be_visible()
    expect(page.get_by_label("Unpaid (volunteer or internal staff)")).to_be_visible()
    page.get_by_label("Per task", exact=True).check()
    page.get_by_label("Per accepted task", exact=True).fill("0.30")
    page.get_by_role("button", name="Save rates").click()
    expect(page.get_by_text("2 answers made before have no pay")).to_be_visible()
    expect(page.get_by_test_id("pay-unset-warning")).to_have_count(0)
    page.get_by_role("button", name="Pay 2 earlier answers").click()
    expect(page.get_by_text("Paid 2 earlier answers at the current rates")).to_be_visible()
    expect(page.get_by_test_id("backpay")).to_have_count(0)
    assert Earning.objects.filter(person=people[0]).count() == 2

    # The contributor now reads the rate, and the project is on their statement.
    log_in(page, live_server, people[0])
    page.goto(f"{live_server.url}/")
    expect(page.get_by_test_id("pay-terms")).to_have_text("Pays 0.30 USD per accepted task")
    page.get_by_test_id("earnings-link").click()
    expect(page.get_by_test_id("amount-due")).to_have_text("0.60 USD")
    expect(page.get_by_test_id("statement-entry")).to_have_count(2)


def test_unpaid_is_chosen_by_the_manager_and_read_by_contributors(live_server, page: Page):
    project, people, _reviewer, manager = make_quality_project(contributors=1)
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project.pk}/pay/")
    page.get_by_label("Unpaid (volunteer or internal staff)").check()
    page.get_by_role("button", name="Save rates").click()
    expect(page.get_by_text("this project is unpaid")).to_be_visible()
    expect(page.get_by_test_id("pay-unset-warning")).to_have_count(0)
    log_in(page, live_server, people[0])
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_test_id("pay-terms")).to_have_text("Unpaid (volunteer or internal staff).")
