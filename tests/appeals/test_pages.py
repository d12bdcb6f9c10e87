"""The appeal pages: the pause appeal from the work screen, the queue and one appeal."""

import re

import pytest
from django.urls import reverse

from appeals.models import Appeal
from appeals.services import appeal_file_rejection
from quality.services import contributor_pause
from tests.appeals.helpers import rejected_answer

pytestmark = pytest.mark.django_db


def test_a_paused_contributor_appeals_from_the_work_screen(
    client, django_capture_on_commit_callbacks
):
    project, people, _reviewer, manager, *_ = rejected_answer(django_capture_on_commit_callbacks)
    ana = people[0]
    contributor_pause(project=project, user_id=ana.pk, actor=manager, reason="Too fast.")
    client.force_login(ana)
    panel = client.post(reverse("annotation:work-next", args=[project.pk]), HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert "Too fast." in html
    assert reverse("appeals:file-pause", args=[project.pk]) in html
    assert "Appeal this pause" in html
    mine = client.get(reverse("quality:my-work", args=[project.pk])).content.decode()
    assert 'data-testid="appeal-pause"' in mine
    empty = client.post(reverse("appeals:file-pause", args=[project.pk]), {"comment": " "})
    assert empty.status_code == 422
    sent = client.post(reverse("appeals:file-pause", args=[project.pk]), {"comment": "Careful."})
    assert sent.status_code == 302
    assert Appeal.objects.get().pause_reason == "Too fast."
    # Filed: the work screen no longer offers it.
    panel = client.post(reverse("annotation:work-next", args=[project.pk]), HTTP_HX_REQUEST="true")
    assert "Appeal this pause" not in panel.content.decode()


def test_the_queue_and_the_appeal_page_for_deciders(client, django_capture_on_commit_callbacks):
    project, people, reviewer, manager, _task, annotation, _ = rejected_answer(
        django_capture_on_commit_callbacks
    )
    appeal = appeal_file_rejection(annotation_id=annotation.pk, user=people[0], comment="A!")
    client.force_login(manager)
    detail = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    assert 'data-testid="nav-appeals-open">1 open' in detail
    queue = client.get(reverse("appeals:queue", args=[project.pk])).content.decode()
    assert queue.count('data-testid="appeal-row"') == 1
    # The shared project header: the menu, with this page marked, closes the page head.
    head = re.search(r'<div class="page-head">.*?</nav>\s*</div>', queue, re.DOTALL)
    assert head is not None
    assert 'data-testid="nav-appeals" aria-current="page"' in head.group()
    page = client.get(reverse("appeals:appeal", args=[project.pk, appeal.pk])).content.decode()
    assert 'data-testid="appeal-card-answer"' in page
    assert "A misses the question." in page
    assert 'data-testid="decision-form"' in page
    refused = client.post(
        reverse("appeals:decide", args=[project.pk, appeal.pk]), {"decision": "reverse"}
    )
    assert refused.status_code == 422
    # The reviewer who rejected it is told someone else decides.
    client.force_login(reviewer)
    page = client.get(reverse("appeals:appeal", args=[project.pk, appeal.pk])).content.decode()
    assert 'data-testid="not-yours"' in page
    assert 'data-testid="decision-form"' not in page
    # A contributor's My work shows it waiting.
    client.force_login(people[0])
    mine = client.get(reverse("quality:my-work", args=[project.pk])).content.decode()
    assert "Appeal waiting" in mine
    assert 'data-testid="my-appeals"' in mine
