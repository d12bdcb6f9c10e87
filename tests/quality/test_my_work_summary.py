"""The top of My work: time, accuracy on quality checks with its interval in words, reviews."""

from datetime import timedelta

import pytest
from django.urls import reverse

from annotation.models import Annotation
from labelhub.models import Project
from quality.selectors import my_work_summary
from tests.quality.helpers import answer_next, make_quality_project, make_ranking_tasks

pytestmark = pytest.mark.django_db

GOLD = {"preference": "a", "strength": 1}


def test_accuracy_counts_checks_up_to_yesterday_and_says_what_it_means(
    client, django_capture_on_commit_callbacks
):
    project, people, _, _ = make_quality_project(
        contributors=1, quality={"gold_rate": 1.0, "accuracy_floor": 0.7, "review_share": 0}
    )
    ana = people[0]
    make_ranking_tasks(project, 5, is_gold=True, gold=GOLD)
    for preference in "aaaab":
        answer_next(
            django_capture_on_commit_callbacks, project=project, user=ana, preference=preference
        )
    summary = my_work_summary(project=project, user=ana)
    assert (summary.answers, summary.active_seconds, summary.checks) == (5, 150, 0)
    assert "No quality check of yours is counted yet" in summary.accuracy_words

    # Answered before today: they count now.
    Annotation.objects.update(created_at=Annotation.objects.first().created_at - timedelta(days=1))
    summary = my_work_summary(project=project, user=ana)
    assert summary.checks == 5
    assert summary.check_score == pytest.approx(0.8)
    assert summary.check_interval.low < 0.8 < summary.check_interval.high
    words = summary.accuracy_words
    assert words.startswith("Of your 5 quality checks (up to yesterday) you scored 80% on average")
    assert "with 90% confidence your true accuracy is between" in words
    assert "even the top of this range is under 70%" in words
    Project.objects.filter(pk=project.pk).update(quality={**project.quality, "accuracy_floor": 0})
    project.refresh_from_db()
    assert "does not pause anyone" in my_work_summary(project=project, user=ana).accuracy_words

    client.force_login(ana)
    html = client.get(reverse("quality:my-work", args=[project.pk])).content.decode()
    assert 'data-testid="my-summary"' in html
    assert "2 min 30 s" in html
    assert "gold" not in html.lower()
