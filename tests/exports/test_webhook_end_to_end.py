"""From a contributor's submit to a signed POST on a real loopback receiver."""

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from annotation import queue
from annotation.models import DeliveryStatus, WebhookDelivery
from annotation.webhooks import project_webhook_secret, webhook_deliver_due
from tests.annotation.test_webhooks import Receiver, verify
from tests.quality.helpers import make_quality_project, make_ranking_tasks

pytestmark = [pytest.mark.django_db(transaction=True)]


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_an_accepted_submit_is_delivered_signed_retried_and_once():
    project, people, *_ = make_quality_project(contributors=1, quality={"review_policy": "none"})
    with Receiver([503, 200]) as receiver:
        (task,) = make_ranking_tasks(project, 1, overlap=1, callback_url=receiver.url)
        assignment = queue.assignment_claim_next(project=project, contributor=people[0])
        queue.annotation_submit(
            assignment_id=assignment.pk,
            contributor=people[0],
            result={"preference": "b", "strength": 2},
            active_seconds=12,
        )
        delivery = WebhookDelivery.objects.get(task=task)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.PENDING,
            1,
            503,
        )
        later = timezone.now() + timedelta(minutes=5)
        assert webhook_deliver_due(now=later) == 1
        assert webhook_deliver_due(now=later + timedelta(hours=1)) == 0  # delivered: not again
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert len(receiver.requests) == 2
        secret = project_webhook_secret(project=project)
        for request in receiver.requests:
            assert verify(secret, request)
            assert request["headers"]["X-LabelHub-Delivery"] == str(delivery.pk)
        sent = json.loads(receiver.requests[-1]["body"])
        assert sent["event"] == "task.accepted"
        assert sent["task"]["id"] == task.pk
        assert sent["result"]["preference"] == "b"
