"""Webhooks against a real HTTP receiver on loopback."""

import hashlib
import hmac
import json
import shutil
import ssl
import subprocess
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone

from annotation.models import DeliveryStatus, WebhookDelivery
from annotation.webhooks import (
    DeliveryRefused,
    destination_check,
    project_webhook_secret,
    retry_delay,
    webhook_attempt,
    webhook_deliver_due,
    webhook_enqueue,
    webhook_resend,
)
from tests.factories import make_project, make_task
from tests.network import FakeNetwork

pytestmark = [pytest.mark.django_db(transaction=True)]


class Receiver:
    """A loopback HTTP(S) server that answers with the status codes it is given, in turn.

    It records every request, whatever its method (a followed redirect may arrive as a GET), and
    answers a 3xx with ``Location: location``.
    """

    def __init__(
        self,
        codes: list[int],
        *,
        location: str = "",
        tls: ssl.SSLContext | None = None,
        keep_alive: bool = False,
    ) -> None:
        self.codes = list(codes)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                request = {
                    "method": self.command,
                    "path": self.path,
                    "headers": self.headers,
                    "client": self.client_address,
                }
                receiver.requests.append({**request, "body": body})
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                if 300 <= code < 400:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

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


@pytest.mark.postgres
@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_a_delivery_is_sent_while_others_work_on_its_project():
    """Every claim and submit on the project share-locks its row (their foreign keys): the
    attempt must still lock and send the delivery, not skip it as if another worker had it."""
    from django.db import connections

    project = make_project()
    with Receiver([200]) as receiver:
        task = make_task(project=project, callback_url=receiver.url)
        delivery = WebhookDelivery.objects.create(
            project=project,
            task=task,
            event="task.accepted",
            url=receiver.url,
            payload={"event": "task.accepted"},
            next_attempt_at=timezone.now(),
        )
        other = connections.create_connection("default")
        try:
            other.set_autocommit(False)
            with other.cursor() as cursor:  # what an INSERT of an assignment holds
                cursor.execute(
                    "SELECT id FROM labelhub_project WHERE id = %s FOR KEY SHARE", [project.pk]
                )
            attempted = webhook_attempt(delivery_id=delivery.pk)
        finally:
            other.rollback()
            other.close()
    assert attempted.status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_a_batch_of_deliveries_is_attempted_once_each_with_its_own_outcome():
    from annotation.webhooks import webhooks_attempt

    project = make_project()
    with Receiver([200, 500, 200], keep_alive=True) as receiver:
        tasks = [make_task(project=project, callback_url=receiver.url) for _ in range(3)]
        later = timezone.now() + timedelta(hours=1)
        deliveries = [
            WebhookDelivery.objects.create(
                project=project,
                task=task,
                event="task.accepted",
                url=receiver.url,
                payload={"event": "task.accepted", "task": {"id": task.pk}},
                next_attempt_at=when,
            )
            for task, when in zip(tasks, [timezone.now(), timezone.now(), later], strict=True)
        ]
        ids = [d.pk for d in deliveries]
        assert webhooks_attempt(delivery_ids=ids) == 1  # the third is not due yet
        assert webhooks_attempt(delivery_ids=ids[:1]) == 0  # delivered ones are never resent
    first, second, third = (WebhookDelivery.objects.get(pk=pk) for pk in ids)
    assert (first.status, first.attempts, first.last_status_code) == ("delivered", 1, 200)
    assert (second.status, second.attempts, second.last_error) == ("pending", 1, "HTTP 500")
    assert second.next_attempt_at > timezone.now()
    assert (third.status, third.attempts) == ("pending", 0)
    assert [r["headers"]["X-LabelHub-Delivery"] for r in receiver.requests] == [
        str(ids[0]),
        str(ids[1]),
    ]
    # one connection for the batch; the next batch opens its own
    assert receiver.requests[0]["client"] == receiver.requests[1]["client"]


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


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
def test_private_and_odd_destinations_are_refused_by_default(monkeypatch):
    network = FakeNetwork(monkeypatch)
    network.name("intranet.example.com", ["192.168.1.5"])
    network.name("half.example.com", ["93.184.215.14", "10.1.2.3"])
    network.name("hooks.example.com", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    refused = {
        "http://127.0.0.1:8000/x": "127.0.0.1 is a loopback address",
        "http://localhost/x": "localhost is not an allowed address",
        "http://[::1]/x": "::1 is a loopback address",
        "http://[::ffff:127.0.0.1]/x": "::ffff:127.0.0.1 is a loopback address",
        "http://[::ffff:a00:1]/x": "::ffff:a00:1 is a private address",
        "http://169.254.169.254/latest/meta-data": "169.254.169.254 is a link-local address",
        "http://[fe80::1]/x": "fe80::1 is a link-local address",
        "http://10.0.0.8/hook": "10.0.0.8 is a private address",
        "http://172.16.0.1/hook": "172.16.0.1 is a private address",
        "http://0.0.0.0/hook": "0.0.0.0 is an unspecified address",
        "http://224.0.0.1/hook": "224.0.0.1 is a multicast address",
        "http://100.64.0.1/hook": "100.64.0.1 is an address that is not publicly routable",
        "http://intranet.example.com/x": "intranet.example.com is not an allowed address",
        "http://half.example.com/x": "half.example.com is not an allowed address",
        "http://hooks.invalid/x": "hooks.invalid is not an allowed address",
        "ftp://example.com/x": "Only http and https URLs can receive webhooks.",
        "http://hooks.example.com:99999/x": "The URL's host or port is not valid.",
    }
    for url, message in refused.items():
        with pytest.raises(DeliveryRefused) as caught:
            destination_check(url)
        assert str(caught.value).startswith(message), url
    destination = destination_check("https://hooks.example.com/in?x=1#part")
    assert (destination.host, destination.port, destination.target) == (
        "hooks.example.com",
        443,
        "/in?x=1",
    )
    assert [str(address) for address in destination.addresses] == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
def test_refused_destination_is_logged_as_a_failed_attempt():
    task = make_task(project=make_project(), callback_url="http://127.0.0.1:9/hook")
    delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={})
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert "127.0.0.1 is a loopback address" in delivery.last_error


@pytest.mark.parametrize("code", [302, 307])
@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_a_redirect_is_a_failed_attempt_and_is_not_followed(code):
    with Receiver([200]) as inside, Receiver([code], location=inside.url) as outside:
        task = make_task(project=make_project(), callback_url=outside.url)
        delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={})
        delivery.refresh_from_db()
    assert inside.requests == []
    assert [request["method"] for request in outside.requests] == ["POST"]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.last_status_code == code
    assert delivery.last_error == f"HTTP {code}: redirects are not followed."


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
def test_a_public_url_redirecting_to_an_internal_address_reaches_nothing_inside(monkeypatch):
    network = FakeNetwork(monkeypatch)
    network.name("hooks.example.com", ["93.184.215.14"])
    with Receiver([200]) as inside, Receiver([302], location=inside.url) as outside:
        network.route("93.184.215.14", 80, to=("127.0.0.1", outside.port))
        task = make_task(project=make_project(), callback_url="http://hooks.example.com/hook")
        delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={})
        delivery.refresh_from_db()
    assert inside.requests == []  # urllib used to follow, and log what the inside answered
    assert outside.requests[0]["headers"]["Host"] == "hooks.example.com"
    assert (delivery.last_status_code, delivery.status) == (302, DeliveryStatus.PENDING)
    assert "redirects are not followed" in delivery.last_error


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
def test_the_name_is_resolved_once_and_the_checked_address_is_called(monkeypatch):
    """A DNS answer that turns internal after the check (rebinding) is never connected to."""
    network = FakeNetwork(monkeypatch)
    with Receiver([200]) as inside, Receiver([200]) as outside:
        network.name("hooks.example.com", ["93.184.215.14"], ["127.0.0.1"])
        network.route("93.184.215.14", inside.port, to=("127.0.0.1", outside.port))
        url = f"http://hooks.example.com:{inside.port}/hook?t=1"
        task = make_task(project=make_project(), callback_url=url)
        delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={})
        delivery.refresh_from_db()
    assert network.lookups == ["hooks.example.com"]
    assert inside.requests == []
    (request,) = outside.requests
    assert (request["method"], request["path"]) == ("POST", "/hook?t=1")
    assert request["headers"]["Host"] == f"hooks.example.com:{inside.port}"
    assert verify(project_webhook_secret(project=task.project), request)
    assert delivery.status == DeliveryStatus.DELIVERED


def certificate(tmp_path, name: str) -> tuple[str, str]:
    """A self-signed certificate for ``name`` (made by the openssl command) and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "2"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
            *("-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.mark.parametrize("served_name", ["hooks.example.com", "other.example.com"])
@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=False)
def test_https_to_the_checked_address_sends_sni_and_verifies_the_host_name(
    monkeypatch, tmp_path, served_name
):
    cert, key = certificate(tmp_path, served_name)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    names_asked: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, context: names_asked.append(name)
    trusting = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: trusting(cafile=cert))
    network = FakeNetwork(monkeypatch)
    network.name("hooks.example.com", ["93.184.215.14"])
    with Receiver([200], tls=server_tls) as receiver:
        network.route("93.184.215.14", 443, to=("127.0.0.1", receiver.port))
        task = make_task(project=make_project(), callback_url="https://hooks.example.com/hook")
        delivery = webhook_enqueue(task_obj=task, event="task.accepted", result={})
        delivery.refresh_from_db()
    assert names_asked == ["hooks.example.com"]
    if served_name == "hooks.example.com":
        assert delivery.status == DeliveryStatus.DELIVERED
        assert receiver.requests[0]["headers"]["Host"] == "hooks.example.com"
    else:
        assert receiver.requests == []
        assert delivery.last_status_code is None
        assert "certificate verify failed" in delivery.last_error


def test_backoff_doubles_from_30_seconds_up_to_two_hours():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(30) == timedelta(hours=2)


def test_secret_is_made_once_and_kept():
    project = make_project()
    first = project_webhook_secret(project=project)
    project.refresh_from_db()
    assert len(first) == 64
    assert project_webhook_secret(project=project) == first


@override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
def test_connections_send_without_waiting_for_acks():
    """A kept-open connection without TCP_NODELAY waits 40 ms a delivery for a delayed ACK."""
    import socket

    from annotation.webhooks import _open_socket, destination_check

    with Receiver([200]) as receiver:
        sock = _open_socket(destination_check(receiver.url), 5)
        try:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        finally:
            sock.close()
