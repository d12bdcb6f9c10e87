"""The receiving half of LabelHub's webhooks: check a delivery before trusting it.

LabelHub POSTs each event signed with the project's webhook secret (the project's webhook page
shows it):

- ``X-LabelHub-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{raw body}"``;
- ``X-LabelHub-Timestamp``: Unix seconds when the attempt was signed;
- ``X-LabelHub-Delivery``: the delivery's id, the same on every retry: drop repeats by it (it
  is also in the signed body as ``delivery_id``; :func:`verify` returns that one and refuses a
  header that differs);
- ``X-LabelHub-Event``: e.g. ``task.accepted``.

:func:`verify` checks the signature on the raw bytes (before any JSON parsing), refuses a
timestamp outside the window (a replayed old request), and returns the delivery to act on::

    delivery = webhooks.verify(SECRET, request.headers, request.body)
    if already_seen(delivery.id):
        return 200        # a retry of one we handled: answer 2xx, do nothing
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_TOLERANCE = 300  # seconds either side of now


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh LabelHub delivery (the message says why)."""


@dataclass(frozen=True)
class Delivery:
    """A verified delivery: its id (for de-duplication), event, time and parsed body."""

    id: str
    event: str
    timestamp: int
    payload: dict[str, Any]


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature LabelHub sends for ``body`` at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Delivery:
    """Check a delivery's signature and age; return it, or raise WebhookVerificationError.

    ``headers`` is any mapping (names in any case: Django's ``request.headers``, Flask's,
    a plain dict); ``body`` the raw request body, exactly as received."""
    raw = body.encode() if isinstance(body, str) else bytes(body)
    given = _header(headers, "X-LabelHub-Signature")
    stamp = _header(headers, "X-LabelHub-Timestamp")
    delivery_id = _header(headers, "X-LabelHub-Delivery")
    if not given or not stamp:
        raise WebhookVerificationError("The signature or timestamp header is missing.")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("The timestamp is not a number of seconds.") from None
    if not hmac.compare_digest(given, signature(secret, timestamp, raw)):
        raise WebhookVerificationError("The signature does not match this body and secret.")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"The delivery was signed {int(current - timestamp)} s from now, outside the "
            f"{tolerance} s window: a replay, or a clock far off."
        )
    try:
        payload = json.loads(raw)
    except ValueError:
        raise WebhookVerificationError("The body is not JSON.") from None
    # The id to de-duplicate by is the signed one, in the body: a replay inside the window with
    # another id in the (unsigned) header would otherwise pass as a new delivery.
    signed_id = str(payload.get("delivery_id", "")) if isinstance(payload, dict) else ""
    if not signed_id:
        raise WebhookVerificationError("The body has no delivery_id.")
    if delivery_id and delivery_id != signed_id:
        raise WebhookVerificationError(
            f"The delivery id header ({delivery_id}) is not the signed one ({signed_id})."
        )
    return Delivery(
        id=signed_id,
        event=_header(headers, "X-LabelHub-Event") or str(payload.get("event", "")),
        timestamp=timestamp,
        payload=payload,
    )
