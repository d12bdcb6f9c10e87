"""Webhooks against a real HTTP receiver on loopback."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone

from annotation.models import DeliveryStatus, WebhookDelivery
from annotation.webhooks import (
    DeliveryRefused,
    check_destination,
    project_webhook_secret,
    retry_delay,
    webhook_attempt,
    webhook_deliver_due,
    webhook_enqueue,
    webhook_resend,
)
from tests.factories import make_project, make_task

pytestmark = [pytest.mark.django_db(transaction=True)]


class Receiver:
    """A loopback HTTP server that answers with the status codes it is given, in turn."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = list(codes)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body})
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, request: dict) -> bool:
    headers = request["headers"]
    message = f"{headers['X-LabelHub-Timestamp']}.".encode() + request["body"]
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-LabelHub-Signature"])


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_delivery_is_signed_retried_after_a_failure_and_delivered_once():
    project = make_project()
    with Receiver([500, 200]) as receiver:
        task = make_task(project=project, external_id="img-9", callback_url=receiver.url)
        delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={"boxes": []})
        delivery.refresh_from_db()  # the immediate backend made the first attempt on commit
        assert delivery.status == DeliveryStatus.PENDING
        assert (delivery.attempts, delivery.last_status_code) == (1, 500)
        assert delivery.next_attempt_at > timezone.now()

        later = timezone.now() + timedelta(minutes=5)
        assert webhook_deliver_due(now=later) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
        assert webhook_deliver_due(now=later + timedelta(hours=1)) == 0
        webhook_attempt(delivery_id=delivery.pk, now=later)  # a stray duplicate job sends nothing

    assert len(receiver.requests) == 2
    secret = project_webhook_secret(project=project)
    for request in receiver.requests:
        assert verify(secret, request)
        assert request["headers"]["X-LabelHub-Delivery"] == str(delivery.pk)
    body = json.loads(receiver.requests[-1]["body"])
    assert body["event"] == "task.accepted"
    assert body["task"] == {"id": task.pk, "external_id": "img-9"}
    assert body["result"] == {"boxes": []}
    assert not verify("another-secret", receiver.requests[-1])


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_delivery_gives_up_after_24_hours():
    project = make_project()
    with Receiver([503] * 50) as receiver:
        task = make_task(project=project, callback_url=receiver.url)
        delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={})
        moment = timezone.now()
        for _ in range(40):
            moment += timedelta(hours=2)
            webhook_attempt(delivery_id=delivery.pk, now=moment)
            delivery.refresh_from_db()
            if delivery.status != DeliveryStatus.PENDING:
                break
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_status_code == 503
    assert 5 < delivery.attempts < 25


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_resend_makes_a_new_delivery_with_its_own_id():
    project = make_project()
    with Receiver([200, 200]) as receiver:
        task = make_task(project=project, callback_url=receiver.url)
        first = webhook_enqueue(task_obj=task, event="task.accepted", result={"x": 1})
        second = webhook_resend(delivery=first)
    ids = [request["headers"]["X-LabelHub-Delivery"] for request in receiver.requests]
    assert ids == [str(first.pk), str(second.pk)]
    assert WebhookDelivery.objects.get(pk=second.pk).status == DeliveryStatus.DELIVERED


def test_tasks_without_callback_get_no_delivery():
    task = make_task(project=make_project())
    assert webhook_enqueue(task_obj=task, event="task.accepted", result={}) is None
    assert not WebhookDelivery.objects.exists()


def test_private_and_odd_destinations_are_refused_by_default():
    for url in [
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.8/hook",
        "ftp://example.com/x",
    ]:
        with pytest.raises(DeliveryRefused):
            check_destination(url)


def test_refused_destination_is_logged_as_a_failed_attempt():
    task = make_task(project=make_project(), callback_url="http://127.0.0.1:9/hook")
    delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={})
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert "private address" in delivery.last_error


def test_backoff_doubles_from_30_seconds_up_to_two_hours():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(30) == timedelta(hours=2)


def test_secret_is_made_once_and_kept():
    project = make_project()
    first = project_webhook_secret(project=project)
    project.refresh_from_db()
    assert len(first) == 64
    assert project_webhook_secret(project=project) == first
