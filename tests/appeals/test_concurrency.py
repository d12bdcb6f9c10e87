"""Two managers decide the same appeal at the same moment: one decision lands, the other is
told it was decided (the appeal's row lock), and the answer is reinstated once."""

import contextlib
import threading

import pytest
from django.db import connection

from appeals.models import Appeal
from appeals.services import AppealRefusal, appeal_decide, appeal_file_rejection
from labelhub.models import ProjectMember, Role
from pay.models import Earning, EarningEvent
from quality.models import ContributorStanding
from tests.appeals.helpers import rejected_answer
from tests.factories import make_user


def _no_capture(execute=True):
    return contextlib.nullcontext()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_deciding_at_once_make_one_decision():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    project, people, _, manager, _, annotation, _ = rejected_answer(_no_capture)
    second = make_user()
    ProjectMember.objects.create(project=project, user=second, role=Role.MANAGER)
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="Right.")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(actor, decision):
        start.wait()
        try:
            appeal_decide(
                appeal_id=appeal.pk, project=project, actor=actor, decision=decision, reason="R"
            )
            outcomes.append("landed")
        except AppealRefusal as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(manager, "reverse")),
        threading.Thread(target=decide, args=(second, "reverse")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["decided", "landed"]  # one lands, one is told it was decided
    assert Appeal.objects.get().status == "reversed"
    assert Earning.objects.filter(event=EarningEvent.APPEAL_REVERSED).count() == 1
    standing = ContributorStanding.objects.get(contributor__user=people[0])
    assert (standing.review_error_count, standing.review_accepted_count) == (0, 1)
