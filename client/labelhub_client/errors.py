"""Typed errors: each carries the HTTP status and the server's message, field by field.

``LabelHubError`` is the base; ``ValidationFailed`` (400) has ``fields``, e.g.
``{"quality.overlap": ["…"]}``; ``ImportFailed`` has ``problems`` with the row (counted from 1
over the whole import, not the batch) and the field; queue refusals (403/409) have ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class LabelHubError(Exception):
    """Something the server refused or could not do."""

    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        fields: dict[str, list[str]] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = code
        self.fields = fields or {}
        self.body = body


class ConnectionFailed(LabelHubError):
    """The server could not be reached (after the retries, for requests that may be repeated)."""


class AuthenticationFailed(LabelHubError):
    """401: no token, or a token the server does not know."""

    status = 401


class PermissionDenied(LabelHubError):
    """403: e.g. a paused contributor asking for work (``code`` says why)."""

    status = 403


class NotFound(LabelHubError):
    """404: it does not exist, or the caller may not see it (the server does not say which)."""

    status = 404


class Conflict(LabelHubError):
    """409: e.g. a lease that was lost, a draft changed elsewhere, an archived project."""

    status = 409


class ValidationFailed(LabelHubError):
    """400: invalid input; ``fields`` maps each path (``schema.labels.0.hotkey``) to messages."""

    status = 400


class RateLimited(LabelHubError):
    """429 that outlasted the retries; ``retry_after`` is the server's last word, in seconds."""

    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(LabelHubError):
    """5xx that outlasted the retries (or a request that could not be repeated safely)."""


class JobFailed(LabelHubError):
    """A background job (import or export) ended as failed."""


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an import: the row (from 1, over the whole import), field, why."""

    row: int | None
    field: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        place = f"row {self.row}" if self.row is not None else self.where or "import"
        return (
            f"{place}, {self.field}: {self.message}" if self.field else f"{place}: {self.message}"
        )


class ImportFailed(LabelHubError):
    """The server refused (part of) an import; nothing of the refused batch was written.

    Imports are idempotent by ``external_id``: fix the rows and send everything again."""

    status = 400

    def __init__(self, message: str, *, problems: list[ImportProblem], **kwargs: Any) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        super().__init__(f"{message} {shown}".strip(), **kwargs)
        self.problems = problems


BY_STATUS: dict[int, type[LabelHubError]] = {
    400: ValidationFailed,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    429: RateLimited,
}


def error_from_response(status: int, body: Any) -> LabelHubError:
    """The typed error for a refused answer, with the server's own words."""
    cls = BY_STATUS.get(status, ServerError if status >= 500 else LabelHubError)
    code, fields, message = "", {}, f"HTTP {status}"
    if isinstance(body, dict):
        code = str(body.get("code", "") or "")
        detail = body.get("detail")
        fields = {
            key: value if isinstance(value, list) else [str(value)]
            for key, value in body.items()
            if key not in ("detail", "code")
        }
        parts = [str(detail)] if detail else []
        parts += [f"{key}: {' '.join(map(str, value))}" for key, value in fields.items()]
        message = "; ".join(parts) or message
    elif isinstance(body, str) and body.strip():
        message = f"HTTP {status}: {body.strip()[:300]}"
    return cls(message, status=status, code=code, fields=fields, body=body)
