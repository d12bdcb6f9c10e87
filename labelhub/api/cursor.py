"""Cursor pages and field selection for the API's long listings.

A listing asked with ``?cursor=`` (empty for the first page) answers
``{"next": URL or null, "cursor": "…" or null, "results": [...]}``: a keyset page, read as
``WHERE key > last key ORDER BY key LIMIT n`` on an index, so page 100,000 costs what page 1 costs
(an OFFSET page reads and drops every row before it). There is no ``count``: counting a million
rows is itself a scan. Listings asked without ``cursor`` keep their old page-number shape.

A cursor is opaque to callers: URL-safe base64 of a small JSON object. It is not signed: all it
says is where to start, and the query still applies the caller's access rules.

``?fields=id,external_id,status`` keeps only those keys of each item (an unknown name is a 400
naming it), which makes pages smaller and, where every field is a plain column, cheaper to read.
"""

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def cursor_requested(request: Request) -> bool:
    """Whether the caller asked for cursor pages (``?cursor=``, empty for the first page)."""
    return "cursor" in request.query_params


def cursor_encode(position: dict) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(value: str, *, keys: Sequence[str], name: str = "cursor") -> dict | None:
    """The position a cursor names, or None for an empty one (the first page); anything not made
    by :func:`cursor_encode` with these ``keys`` is a 400 on ``name``."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError):
        position = None
    if not isinstance(position, dict) or set(position) != set(keys):
        raise ValidationError({name: ["This cursor is not one this listing gave out."]})
    return position


def page_size_of(request: Request, *, default: int = DEFAULT_PAGE_SIZE) -> int:
    value = request.query_params.get("page_size", "")
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
    return int(value)


def fields_of(request: Request, *, allowed: Iterable[str]) -> list[str] | None:
    """The keys asked for with ``?fields=``, in the order given; None when not asked."""
    value = request.query_params.get("fields")
    if value is None:
        return None
    allowed = list(allowed)
    wanted = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in allowed]
    if unknown or not wanted:
        raise ValidationError(
            {
                "fields": [
                    f"Unknown field(s): {', '.join(unknown) or '(none given)'}; choose from: "
                    f"{', '.join(allowed)}."
                ]
            }
        )
    return list(dict.fromkeys(wanted))


def only_fields(items: list[dict], fields: list[str] | None) -> list[dict]:
    if fields is None:
        return items
    return [{name: item[name] for name in fields} for item in items]


@dataclass(frozen=True)
class CursorPage:
    """One keyset page: its items and the cursor that continues after the last one."""

    results: list
    cursor: str | None

    def response_data(self, request: Request) -> dict:
        next_url = None
        if self.cursor is not None:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", self.cursor)
        return {"next": next_url, "cursor": self.cursor, "results": self.results}
