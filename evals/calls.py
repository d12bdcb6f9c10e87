"""Many chat calls at once, each endpoint within its own limits (no database here).

Every endpoint (a measured model, a judge) gets its own pool of ``concurrency`` threads and a
rate limit of ``requests_per_minute`` (calls are started at most that often, evenly spaced).
A call that fails for a reason worth another try (no answer, a time-out, HTTP 429 or 5xx) is
tried again up to ``max_retries`` times, waiting 0.5 s, 1 s, 2 s… between tries; an HTTP 4xx
other than 429 is final. Results come back as they finish, in the caller's thread, so the
caller alone writes to the database.
"""

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from genai.client import ChatRequest, Completion, ModelFailed, chat_complete

RETRY_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_BACKOFF = 8.0


@dataclass(frozen=True)
class Call:
    key: object  # the caller's handle (an item id, a response id)
    endpoint: object  # an evals.models.Endpoint: base_url, model, api_key, limits
    messages: list[dict]


@dataclass(frozen=True)
class Outcome:
    call: Call
    completion: Completion | None
    error: str
    latency_ms: int
    attempts: int


class RateLimit:
    """Starts at most ``per_minute`` calls a minute, spaced evenly, across threads."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / max(1, per_minute)
        self.clock = clock
        self.next_start = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = self.clock()
            start = max(now, self.next_start)
            self.next_start = start + self.interval
        if start > now:
            time.sleep(start - now)


def _retryable(failure: ModelFailed) -> bool:
    return failure.status is None or failure.status in RETRY_STATUSES


def call_once(call: Call, limit: RateLimit, *, send=chat_complete) -> Outcome:
    endpoint = call.endpoint
    request = ChatRequest(
        endpoint=endpoint.endpoint,
        model=endpoint.model,
        api_key=endpoint.api_key,
        temperature=endpoint.temperature,
        max_tokens=endpoint.max_tokens,
        messages=call.messages,
        timeout=endpoint.timeout_seconds,
    )
    attempts, error = 0, ""
    while attempts <= endpoint.max_retries:
        if attempts:
            time.sleep(min(MAX_BACKOFF, 0.5 * 2 ** (attempts - 1)))
        attempts += 1
        limit.wait()
        started = time.monotonic()
        try:
            completion = send(request)
        except ModelFailed as failure:
            error = str(failure)
            if not _retryable(failure):
                break
            continue
        latency = int((time.monotonic() - started) * 1000)
        return Outcome(call, completion, "", latency, attempts)
    return Outcome(call, None, error, 0, attempts)


def call_all(calls: Iterable[Call], *, send=chat_complete) -> Iterator[Outcome]:
    """Run every call, each endpoint within its limits; outcomes as they finish."""
    pools: dict[int, tuple[ThreadPoolExecutor, RateLimit]] = {}
    pending: set[Future] = set()
    try:
        for call in calls:
            handle = id(call.endpoint)
            if handle not in pools:
                endpoint = call.endpoint
                pools[handle] = (
                    ThreadPoolExecutor(max_workers=endpoint.concurrency),
                    RateLimit(endpoint.requests_per_minute),
                )
            pool, limit = pools[handle]
            pending.add(pool.submit(call_once, call, limit, send=send))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
    finally:
        for future in pending:
            future.cancel()
        for pool, _limit in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
