"""The HTTP layer: one connection pool, the token, retries with backoff, typed errors.

Retries: a ``429`` is retried for any request (the server did nothing), after ``Retry-After``
seconds when it says so; connection errors and ``5xx`` are retried only for requests that may be
repeated without harm (``GET``, ``PUT``, ``DELETE``, and the calls the API documents as
idempotent, such as submitting an answer or importing by ``external_id``). Backoff doubles from
``backoff`` seconds, with jitter, up to ``max_backoff``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from labelhub_client import __version__
from labelhub_client.errors import ConnectionFailed, RateLimited, error_from_response

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
API_VERSION_HEADER = "X-LabelHub-API-Version"


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class Http:
    """Calls to one LabelHub server with one token."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.api_version: str | None = None
        self.client = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Token {token}",
                "Accept": "application/json",
                "User-Agent": f"labelhub-client/{__version__}",
            },
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def _sleep_before(self, attempt: int, response: httpx.Response | None) -> None:
        wait = retry_after_seconds(response) if response is not None else None
        if wait is None:
            wait = min(self.backoff * 2**attempt, self.max_backoff)
            wait *= 0.5 + random.random() / 2  # noqa: S311 - jitter, not a secret
        time.sleep(wait)

    def request(
        self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One call, retried as the module says; refusals raise typed errors."""
        repeatable = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempt = 0
        while True:
            try:
                response = self.client.request(method, self.url(path), **kwargs)
            except httpx.TransportError as error:
                if repeatable and attempt < self.max_retries:
                    self._sleep_before(attempt, None)
                    attempt += 1
                    continue
                raise ConnectionFailed(f"{method} {path}: {error}") from error
            self.api_version = response.headers.get(API_VERSION_HEADER, self.api_version)
            retry = response.status_code == 429 or (
                repeatable and response.status_code in RETRY_STATUSES
            )
            if retry and attempt < self.max_retries:
                self._sleep_before(attempt, response)
                attempt += 1
                continue
            if response.status_code >= 400:
                raise self.error(response)
            return response

    def error(self, response: httpx.Response) -> Exception:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        error = error_from_response(response.status_code, body)
        if isinstance(error, RateLimited):
            error.retry_after = retry_after_seconds(response)
        return error

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    @contextmanager
    def stream(self, path: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        """A streamed GET (the caller reads it); redirects to an object store are followed
        (httpx drops the token when the redirect leaves the server's origin)."""
        with self.client.stream(
            "GET", self.url(path), headers=headers, follow_redirects=True
        ) as response:
            if response.status_code >= 400 and response.status_code != 416:
                response.read()
                raise self.error(response)
            yield response
