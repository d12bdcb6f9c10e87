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

A callback URL may not reach into our own network: unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is
on, a host that does not resolve, or that resolves to any address that is not public (loopback,
RFC 1918, link-local such as cloud metadata, multicast, reserved, IPv4-mapped forms of these), is
refused by :func:`destination_check`, at import and again at each attempt. An attempt resolves the
name once, checks every address, and connects to a checked one (the request still names the host,
and https verifies its certificate), so a DNS answer that changes after the check is never used.
Redirects are not followed: a 3xx is a failed attempt.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.tasks import default_task_backend, task
from django.utils import timezone

from annotation.models import DeliveryStatus, Task, WebhookDelivery
from labelhub.background import enqueue_with_rows
from labelhub.models import Project

logger = logging.getLogger("labelhub.webhooks")

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=2)
TIMEOUT_SECONDS = 10
USER_AGENT = "LabelHub-Webhooks/1"
DEFAULT_PORTS = {"http": 80, "https": 443}
URL_SAFE = "!#$%&'()*+,/:;=?@[]~"  # kept as they are in the request target; the rest is %-encoded

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# What each host resolved to during one import (its public addresses, or why it is refused), so
# an import with 10,000 rows and one callback host asks DNS once.
HostLookups = dict[str, tuple[Address, ...] | str]


class DeliveryRefused(Exception):
    """The URL may not be called (a private address, a bad scheme, a host that does not resolve)."""


@dataclass(frozen=True)
class Destination:
    """A callback URL that passed the check, and the addresses it passed at.

    ``addresses`` is empty only when private addresses are allowed (nothing was checked): then the
    connection resolves the name itself.
    """

    scheme: str
    host: str
    port: int
    target: str
    addresses: tuple[Address, ...]


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


def address_refusal(address: Address) -> str:
    """What kind of non-public address this is ("a loopback address", …), or "" if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:  # some multicast ranges count as global
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return ""


def _host_addresses(
    host: str, *, shown: str, called: str = "webhooks"
) -> tuple[Address, ...] | str:
    """The host's addresses if every one is public, else why not (one DNS lookup).

    ``host`` is the name to ask DNS for (IDNA-encoded), ``shown`` the one the URL spelt,
    ``called`` what is sent there, for the message.
    """
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        refusal = address_refusal(literal)
        if refusal:
            return f"{shown} is {refusal}; {called} only go to public addresses."
        return (literal,)
    # A name that does not resolve and one that resolves to a non-public address get the same
    # words, naming neither the address nor the reason: either would let whoever may save a URL
    # look up the server's internal names through it. The reason goes to the server's log.
    refused = f"{shown} is not an allowed address: {called} only go to hosts with public addresses."
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, ValueError):  # ValueError: a name getaddrinfo cannot even ask about
        logger.info("Refused %s for %s: it does not resolve", shown, called)
        return refused
    addresses = tuple(
        dict.fromkeys(
            ipaddress.ip_address(info[4][0])
            for info in infos
            if info[0] in (socket.AF_INET, socket.AF_INET6)
        )
    )
    if not addresses:
        logger.info("Refused %s for %s: it has no IP address", shown, called)
        return refused
    for address in addresses:
        if address_refusal(address):
            logger.info("Refused %s for %s: it resolves to %s", shown, called, address)
            return refused
    return addresses


def destination_check(
    url: str,
    *,
    lookups: HostLookups | None = None,
    allow_private: bool | None = None,
    called: str = "webhooks",
) -> Destination:
    """Refuse a URL webhooks may not call; otherwise say where to connect.

    The import and every delivery attempt use this one rule, and so do other calls out of
    LabelHub (a live project's model: ``allow_private`` is then its own setting, ``called`` names
    what is sent in the messages). The addresses returned are the ones checked, so the connection
    needs no second DNS answer. ``lookups`` lets an import resolve each host once.
    """
    if allow_private is None:
        allow_private = getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [ in the host
        raise DeliveryRefused(f"Only http and https URLs can receive {called}.") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise DeliveryRefused(f"Only http and https URLs can receive {called}.")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        host = parts.hostname.encode("idna").decode("ascii")
    except ValueError:  # a port over 65535, a label too long for IDNA
        raise DeliveryRefused("The URL's host or port is not valid.") from None
    target = quote(parts.path or "/", safe=URL_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=URL_SAFE)
    if allow_private:
        return Destination(parts.scheme, host, port, target, addresses=())
    if lookups is not None and host in lookups:
        outcome = lookups[host]
    else:
        outcome = _host_addresses(host, shown=parts.hostname, called=called)
        if lookups is not None:
            lookups[host] = outcome
    if isinstance(outcome, str):
        raise DeliveryRefused(outcome)
    return Destination(parts.scheme, host, port, target, addresses=outcome)


def _open_socket(destination: Destination, timeout: float) -> socket.socket:
    """A TCP connection to one of the checked addresses (by name only if none was checked).

    With ``TCP_NODELAY``, as ``http.client`` sets it: on a kept-open connection the request's
    headers and body would otherwise wait for the receiver's delayed ACK (40 ms a delivery).
    """
    if not destination.addresses:
        return _no_delay(socket.create_connection((destination.host, destination.port), timeout))
    failures: list[OSError] = []
    for address in destination.addresses:  # in the resolver's order, as create_connection does
        try:
            return _no_delay(socket.create_connection((str(address), destination.port), timeout))
        except OSError as error:
            failures.append(error)
    raise failures[-1]


def _no_delay(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to the checked address; the Host header still names the URL's host."""

    def __init__(self, destination: Destination, *, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self.destination = destination

    def connect(self) -> None:
        self.sock = _open_socket(self.destination, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address, with SNI and the certificate checked against the host name."""

    def __init__(self, destination: Destination, *, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(destination.host, destination.port, timeout=timeout, context=self.tls)
        self.destination = destination

    def connect(self) -> None:
        raw = _open_socket(self.destination, self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.destination.host)
        except BaseException:
            raw.close()
            raise


def pinned_connection(destination: Destination, *, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to the address :func:`destination_check` passed, never another one
    (http.client follows no redirect by itself)."""
    kind = _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    return kind(destination, timeout=timeout)


# Open connections of one batch of attempts, by destination: most customers have one callback
# host, and a new TCP (and TLS) connection per delivery is most of an attempt's cost.
Connections = dict[tuple, http.client.HTTPConnection]


def _post(
    destination: Destination,
    *,
    body: bytes,
    headers: dict[str, str],
    connections: Connections | None = None,
) -> int:
    """POST once and return the status code; never follows a redirect.

    With ``connections`` the connection is kept open for the next delivery to the same checked
    destination, unless the receiver asks to close it. A kept connection the receiver has closed
    meanwhile is replaced once (the POST may then arrive twice: receivers drop repeats by
    ``X-LabelHub-Delivery``).
    """
    key = (destination.scheme, destination.host, destination.port, destination.addresses)
    reused = connections is not None and key in connections
    connection = (
        connections.pop(key) if reused else pinned_connection(destination, timeout=TIMEOUT_SECONDS)
    )
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        connection.close()
        if not reused:
            raise
        return _post(destination, body=body, headers=headers, connections=connections)
    except BaseException:
        connection.close()
        raise
    if connections is not None and not response.will_close:
        connections[key] = connection
    else:
        connection.close()
    return response.status


@transaction.atomic
def webhook_enqueue(*, task_obj: Task, event: str, result: dict) -> WebhookDelivery | None:
    """Record a delivery for a task with a callback URL and queue its sending with it."""
    deliveries = webhooks_enqueue(event=event, results=[(task_obj, result)])
    return deliveries[0] if deliveries else None


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
    enqueue_with_rows(deliver_webhook, copy.pk)
    return copy


def webhook_attempt(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery:
    """Make one attempt if the delivery is still pending and due; record what happened.

    The row is locked for the attempt, so two workers never send the same delivery at once, and a
    delivered one is never sent again. Only the delivery's row: the project row it joins is share-
    locked by every claim and submit on the project (their foreign keys), and skipping a delivery
    because of those would leave it pending with no attempt coming.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("project")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return WebhookDelivery.objects.get(pk=delivery_id)
        now = now or timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return delivery
        _attempt_and_note(delivery, now=now)
        delivery.save(update_fields=ATTEMPT_FIELDS)
        _retry_later([delivery])
    return delivery


ATTEMPT_FIELDS = [
    "attempts",
    "last_status_code",
    "last_error",
    "status",
    "delivered_at",
    "next_attempt_at",
]
BATCH_ATTEMPTS = 50


def webhooks_attempt(*, delivery_ids: list[int], now: datetime | None = None) -> int:
    """One attempt at each delivery of a batch that is pending and due; how many were delivered.

    The same rules as :func:`webhook_attempt`, with the database work of up to 50 deliveries done
    together: one locking read and one write for the lot. The POSTs go one by one, over one
    kept-open connection per destination when the receiver keeps it open.
    """
    delivered = 0
    connections: Connections = {}
    try:
        for start in range(0, len(delivery_ids), BATCH_ATTEMPTS):
            delivered += _attempt_chunk(
                delivery_ids[start : start + BATCH_ATTEMPTS], now=now, connections=connections
            )
    finally:
        for connection in connections.values():
            connection.close()
    return delivered


def _attempt_chunk(ids: list[int], *, now: datetime | None, connections: Connections) -> int:
    with transaction.atomic():
        at = now or timezone.now()
        deliveries = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("project")
            .filter(pk__in=ids, status=DeliveryStatus.PENDING)
            .exclude(next_attempt_at__gt=at)
            .order_by("pk")
        )
        for delivery in deliveries:
            _attempt_and_note(delivery, now=at, connections=connections)
        WebhookDelivery.objects.bulk_update(deliveries, ATTEMPT_FIELDS)
        _retry_later(deliveries)
    return sum(d.status == DeliveryStatus.DELIVERED for d in deliveries)


def _attempt_and_note(
    delivery: WebhookDelivery, *, now: datetime, connections: Connections | None = None
) -> None:
    """POST the delivery once (the caller holds its row lock) and note the outcome on it."""
    body = json.dumps({**delivery.payload, "delivery_id": delivery.pk}).encode()
    timestamp = int(time.time())
    code, error = None, ""
    try:
        destination = destination_check(delivery.url)
        code = _post(
            destination,
            body=body,
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
            connections=connections,
        )
        if 300 <= code < 400:
            error = f"HTTP {code}: redirects are not followed."
        elif not 200 <= code < 300:
            error = f"HTTP {code}"
    except (OSError, http.client.HTTPException, DeliveryRefused) as failure:
        error = (str(failure) or type(failure).__name__)[:500]
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


def _retry_later(deliveries: list[WebhookDelivery]) -> None:
    """Queue the next attempt of each delivery still pending, at its time, in the transaction
    that records this attempt (where the backend can defer; elsewhere ``manage.py
    deliver_webhooks`` picks them up)."""
    if not default_task_backend.supports_defer:
        return
    for delivery in deliveries:
        if delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at:
            deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)


# Deliveries share the head of the worker's queue with the quality step that makes them
# (``quality.tasks.JUDGING_PRIORITY`` is this number): a submission is done for the customer once
# it is judged *and* delivered. Below judging, a busy project always had a judging run queued
# ahead of its deliveries, and they waited until the submits paused (6 s p50 in the bench).
LINE_PRIORITY = 10


@task(priority=LINE_PRIORITY)
def deliver_webhook(delivery_id: int) -> str:
    """Background entry point: one attempt at one delivery."""
    return webhook_attempt(delivery_id=delivery_id).status


@task(priority=LINE_PRIORITY)
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """Background entry point: one attempt at each delivery of a batch (see
    :func:`webhooks_enqueue`); returns how many were delivered."""
    return webhooks_attempt(delivery_ids=delivery_ids)


def webhooks_enqueue(*, event: str, results: list[tuple[Task, dict]]) -> list[WebhookDelivery]:
    """Record the deliveries of many tasks at once (the quality step accepts tasks in batches):
    one INSERT and one background run for the batch, queued in the same transaction (see
    :mod:`labelhub.background`), so the run exists exactly when the deliveries do. Tasks without
    a callback URL are left out."""
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            project_id=task_obj.project_id,
            task=task_obj,
            event=event,
            url=task_obj.callback_url,
            payload={
                "event": event,
                "project": task_obj.project_id,
                "task": {"id": task_obj.pk, "external_id": task_obj.external_id},
                "result": result,
                "created_at": now.isoformat(),
            },
            next_attempt_at=now,
        )
        for task_obj, result in results
        if task_obj.callback_url
    )
    if deliveries:
        enqueue_with_rows(deliver_webhooks, [delivery.pk for delivery in deliveries])
    return deliveries


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
