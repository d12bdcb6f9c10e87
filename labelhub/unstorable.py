"""Text no database column can hold: a NUL character, or a lone UTF-16 surrogate.

PostgreSQL refuses NUL in ``text`` and ``jsonb`` (SQLite stores it), and a lone surrogate
(``"\\ud800"`` in JSON) cannot be encoded as UTF-8 by any driver; either would end a write in a
500. :class:`UnstorableTextMiddleware` refuses them at the door, in every request's query string,
form fields and JSON body, with a 400 that says what and where; files are read by the import,
which checks each row with :func:`unstorable_in` (its message names the row and the field).
"""

import re

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

# An escape in JSON text is a backslash preceded by an even number of backslashes.
_ESCAPE = r"(?<!\\)(?:\\\\)*\\u"
_NUL_ESCAPE = re.compile(_ESCAPE + r"0000")
_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_SURROGATE_ESCAPE = re.compile(_ESCAPE + r"[dD][89a-fA-F][0-9a-fA-F]{2}")

NUL_WORDS = "a NUL character"
SURROGATE_WORDS = "a lone surrogate (not a Unicode character)"


def unstorable(text: str) -> str:
    """Why ``text`` cannot be stored ("a NUL character", …), or "" when it can."""
    if "\x00" in text:
        return NUL_WORDS
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_WORDS
    return ""


def unstorable_in(value: object, path: str = "") -> tuple[str, str] | None:
    """The first (path, why) of a string in ``value`` (keys too) that cannot be stored."""
    if isinstance(value, str):
        why = unstorable(value)
        return (path, why) if why else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = unstorable_in(str(key), where) or unstorable_in(item, where)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unstorable_in(item, f"{path}[{index}]")
            if found:
                return found
    return None


def unstorable_in_json_text(text: str) -> str:
    """The same question for a JSON document, from its text (no parsing: cheap, and blind to
    nesting depth): a NUL byte, a ``\\u0000`` escape or a surrogate escape not in a pair."""
    if "\x00" in text or _NUL_ESCAPE.search(text):
        return NUL_WORDS
    if "\\u" in text and _SURROGATE_ESCAPE.search(_PAIR.sub("", text)):
        return SURROGATE_WORDS
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_WORDS
    return ""


def _problem(request: HttpRequest) -> tuple[str, str] | None:
    for key, values in request.GET.lists():
        found = unstorable_in([key, *values])
        if found:
            return f"the query parameter {key[:40]!r}", found[1]
    content_type = request.content_type or ""
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            text = request.body.decode("utf-8")
        except (UnicodeDecodeError, RequestDataTooBig):
            return None  # the parser, or the API's handler, answers those
        why = unstorable_in_json_text(text)
        return ("the JSON body", why) if why else None
    if request.method in ("POST", "PUT", "PATCH") and content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for key, values in request.POST.lists():
            found = unstorable_in([key, *values])
            if found:
                return f"the field {key[:40]!r}", found[1]
    return None


class UnstorableTextMiddleware:
    """Refuse a request carrying text no column can hold (see the module's docstring)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _problem(request)
        if problem is None:
            return self.get_response(request)
        where, why = problem
        message = f"{where[0].upper()}{where[1:]} contains {why}, which cannot be stored."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "unstorable_text"}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
