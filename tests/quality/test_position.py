"""The position-bias and tie report: its math on crafted answers, and who may read it."""

import pytest
from django.utils import timezone

from annotation.models import Annotation, Assignment, Task
from kinds import PositionOutcome
from labelhub.models import Role
from quality.position import MIN_DECIDED, position_figures, position_report
from quality.stats import wilson_interval
from tests.annotation.test_queue_api import client_for
from tests.factories import make_project, make_user


def pair(first_won: bool | None) -> PositionOutcome:
    return PositionOutcome(
        first_won=first_won, tie=first_won is None, expected=0.5, ties_possible=True
    )


def test_a_crafted_set_gives_the_expected_share_interval_and_verdict():
    outcomes = [pair(True)] * 61 + [pair(False)] * 39 + [pair(None)] * 25
    figures = position_figures(outcomes)
    assert (figures.answers, figures.decided, figures.first_won) == (125, 100, 61)
    assert figures.share == pytest.approx(0.61)
    # Wilson 95% for 61/100 by hand: centre (0.61 + 1.96²/200) / (1 + 1.96²/100)
    assert figures.interval.low == pytest.approx(0.5120, abs=1e-3)
    assert figures.interval.high == pytest.approx(0.7001, abs=1e-3)
    assert figures.expected == 0.5
    assert figures.verdict == "bias_first"
    assert figures.words == (
        "First shown won 61% of 100 decided answers (95% CI 51–70%), 50% expected by chance: "
        "bias toward the first shown."
    )
    assert figures.tie_rate == pytest.approx(0.2)
    assert figures.tie_interval == wilson_interval(25, 125)
    assert figures.tie_words == "Ties: 20% of 125 answers (95% CI 14–28%)."


def test_a_fair_set_reads_as_no_bias_and_a_small_one_as_too_few():
    assert position_figures([pair(True)] * 27 + [pair(False)] * 23).verdict == "no_bias"
    assert position_figures([pair(True)] * (MIN_DECIDED - 1)).verdict == "too_few"
    assert position_figures([pair(False)] * 40).verdict == "bias_later"


def test_expected_share_of_n_way_answers_is_one_in_n_and_ties_do_not_apply():
    thirds = [PositionOutcome(first_won=False, tie=False, expected=1 / 3, ties_possible=False)] * 30
    figures = position_figures(thirds)
    assert figures.expected == pytest.approx(1 / 3)
    assert figures.tie_rate is None
    assert figures.tie_words == "Ties are not an answer here."


def answered(project, user, shown: list[str], result: dict) -> Annotation:
    task = Task.objects.create(
        project=project,
        data={"prompt": "P", "responses": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]},
    )
    lease = Assignment.objects.create(
        task=task, project=project, contributor=user, lease_expires_at=timezone.now()
    )
    return Annotation.objects.create(
        task=task, contributor=user, assignment=lease, result=result, shown_order=shown
    )


@pytest.mark.django_db
def test_the_report_reads_answers_per_project_and_per_contributor():
    ana, ben = make_user("ana"), make_user("ben")
    project = make_project(kind="ranking", members={ana: Role.CONTRIBUTOR, ben: Role.CONTRIBUTOR})
    for i in range(12):  # ana always picks the first shown, whichever it is
        shown = ["a", "b"] if i % 2 else ["b", "a"]
        answered(project, ana, shown, {"preference": shown[0], "strength": 1})
    for i in range(12):  # ben picks a, shown first half the time, and ties twice
        shown = ["a", "b"] if i % 2 else ["b", "a"]
        answered(project, ben, shown, {"preference": "tie" if i < 2 else "a", "strength": 1})
    report = position_report(project=project)
    assert report.applicable
    by_name = dict(report.contributors)
    assert by_name["ana"].first_won == 12
    assert by_name["ana"].verdict == "bias_first"
    assert (by_name["ben"].decided, by_name["ben"].first_won, by_name["ben"].ties) == (10, 5, 2)
    assert by_name["ben"].verdict == "no_bias"
    assert (report.project.decided, report.project.first_won) == (22, 17)


@pytest.mark.django_db
def test_a_kind_without_candidates_has_no_report():
    assert not position_report(project=make_project(kind="bbox")).applicable


@pytest.mark.django_db
def test_only_the_projects_managers_read_the_report_over_the_api():
    ana, maria, other = make_user("ana"), make_user("maria"), make_user("olga")
    project = make_project(kind="ranking", members={ana: Role.CONTRIBUTOR, maria: Role.MANAGER})
    make_project(kind="ranking", members={other: Role.MANAGER})  # another organization's
    answered(project, ana, ["b", "a"], {"preference": "b", "strength": 1})
    url = f"/api/v1/projects/{project.pk}/position-bias/"
    assert client_for(ana).get(url).status_code == 404
    assert client_for(other).get(url).status_code == 404
    body = client_for(maria).get(url).json()
    assert body["applicable"] is True
    assert body["shuffled"] is True
    assert body["project"]["first_won"] == 1
    assert body["project"]["verdict"] == "too_few"
    assert body["contributors"][0]["username"] == "ana"
    assert body["contributors"][0]["first_won_interval"] == [0.2065, 1.0]
