"""Webhooks: a task's outcome POSTed to its ``callback_url``, signed, retried, logged.

Each delivery carries these headers, so the receiver can check it and drop repeats:

- ``X-LabelHub-Delivery``: the delivery's id (the same on every retry of it);
- ``X-LabelHub-Event``: e.g. ``task.accepted``;
- ``X-LabelHub-Timestamp``: Unix seconds when this attempt was signed;
- ``X-LabelHub-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"`` with the
  project's webhook secret.

A failed attempt (network error, timeout, any non-2xx) is retried with exponential backoff — 30 s,
1 min, 2 min … capped at 2 h — until 24 hours after the delivery was made; then it is marked failed.
Managers read the log per project and can send a delivery again.

Addresses inside private networks (loopback, RFC 1918, link-local such as cloud metadata) are
refused unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is on, so a callback URL cannot reach into our
own network.
"""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.tasks import default_task_backend, task
from django.utils import timezone

from annotation.models import DeliveryStatus, Task, WebhookDelivery
from labelhub.models import Project

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=2)
TIMEOUT_SECONDS = 10
USER_AGENT = "LabelHub-Webhooks/1"


class DeliveryRefused(Exception):
    """The URL may not be called (a private address, a bad scheme)."""


def project_webhook_secret(*, project: Project) -> str:
    """The project's signing secret, made on first use (once, even under concurrent callers)."""
    if not project.webhook_secret:
        Project.objects.filter(pk=project.pk, webhook_secret="").update(
            webhook_secret=secrets.token_hex(32)
        )
        project.webhook_secret = (
            Project.objects.filter(pk=project.pk).values_list("webhook_secret", flat=True).get()
        )
    return project.webhook_secret


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(FIRST_DELAY * (2 ** max(attempts - 1, 0)), LONGEST_DELAY)


def check_destination(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryRefused("Only http and https URLs can receive webhooks.")
    if getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise DeliveryRefused(f"Cannot resolve {parts.hostname}.") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DeliveryRefused(
                f"{parts.hostname} is a private address; webhooks go to public ones."
            )


@transaction.atomic
def webhook_enqueue(*, task_obj: Task, event: str, result: dict) -> WebhookDelivery | None:
    """Record a delivery for a task with a callback URL; it is sent once the transaction commits."""
    if not task_obj.callback_url:
        return None
    delivery = WebhookDelivery.objects.create(
        project_id=task_obj.project_id,
        task=task_obj,
        event=event,
        url=task_obj.callback_url,
        payload={
            "event": event,
            "project": task_obj.project_id,
            "task": {"id": task_obj.pk, "external_id": task_obj.external_id},
            "result": result,
            "created_at": timezone.now().isoformat(),
        },
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: deliver_webhook.enqueue(delivery.pk))
    return delivery


@transaction.atomic
def webhook_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again as a new one (a manager's decision; the receiver sees a new id)."""
    copy = WebhookDelivery.objects.create(
        project_id=delivery.project_id,
        task_id=delivery.task_id,
        event=delivery.event,
        url=delivery.url,
        payload={**delivery.payload, "resent_from": delivery.pk},
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: deliver_webhook.enqueue(copy.pk))
    return copy


def webhook_attempt(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery:
    """Make one attempt if the delivery is still pending and due; record what happened.

    The row is locked for the attempt, so two workers never send the same delivery at once, and a
    delivered one is never sent again.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("project")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return WebhookDelivery.objects.get(pk=delivery_id)
        now = now or timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return delivery
        body = json.dumps({**delivery.payload, "delivery_id": delivery.pk}).encode()
        timestamp = int(time.time())
        code, error = None, ""
        try:
            check_destination(delivery.url)
            request = urllib.request.Request(  # noqa: S310 - scheme checked above
                delivery.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "X-LabelHub-Delivery": str(delivery.pk),
                    "X-LabelHub-Event": delivery.event,
                    "X-LabelHub-Timestamp": str(timestamp),
                    "X-LabelHub-Signature": sign(
                        secret=project_webhook_secret(project=delivery.project),
                        timestamp=timestamp,
                        body=body,
                    ),
                },
            )
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                code = response.status
        except urllib.error.HTTPError as failure:
            code, error = failure.code, f"HTTP {failure.code}"
        except (urllib.error.URLError, OSError, DeliveryRefused) as failure:
            error = str(getattr(failure, "reason", failure))[:500]
        delivery.attempts += 1
        delivery.last_status_code = code
        delivery.last_error = error
        if code is not None and 200 <= code < 300:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif now + retry_delay(delivery.attempts) > delivery.created_at + GIVE_UP_AFTER:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save()
    if delivery.status == DeliveryStatus.PENDING and default_task_backend.supports_defer:
        deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    return delivery


@task
def deliver_webhook(delivery_id: int) -> str:
    """Background entry point: one attempt at one delivery."""
    return webhook_attempt(delivery_id=delivery_id).status


def webhook_deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Attempt every pending delivery that is due (housekeeping after a worker was down)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:limit]
    count = 0
    for delivery_id in list(due):
        webhook_attempt(delivery_id=delivery_id, now=now)
        count += 1
    return count
