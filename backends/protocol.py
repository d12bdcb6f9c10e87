"""The LabelHub model-backend protocol, and LabelHub's side of it.

A backend is any HTTP server with two routes under its base URL:

``POST {url}/predict`` with ``{"kind", "schema", "tasks": [{"id", "data", "media"?}]}``
    ``media``, for a task whose file was uploaded to LabelHub, is ``{"name", "content_type",
    "base64"}`` (the backend cannot fetch LabelHub's member-only media URLs). The answer is
    ``{"predictions": [{"task", "result", "score", "model_version"}]}``: ``task`` an id that was
    sent, ``result`` in the kind's own result shape (``kinds/<kind>/kind.py``), ``score`` 0 to 1
    (how sure the model is), ``model_version`` a short name of the model that answered. A task
    the model has no answer for is left out.
``GET {url}/health``
    Any 2xx is healthy; a JSON body's ``model_version`` is shown to the manager.

Calls go through the webhooks' address guard (``annotation.webhooks.destination_check``) and to
the address it checked (``pinned_connection``): a backend on a loopback, private or link-local
address is refused unless ``MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES`` is on — a setting of its own,
as for live models, because a model on the company network is common where a webhook receiver
there is not. Redirects are failures. Each batch waits at most the backend's timeout per attempt
and is tried up to ``ATTEMPTS`` times (network errors, timeouts, 5xx and 429); a reply is read up
to ``MAX_REPLY`` bytes.
"""

import base64
import http.client
import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from annotation.webhooks import DeliveryRefused, destination_check, pinned_connection
from backends.models import ModelBackend

USER_AGENT = "LabelHub-Backends/1"
ATTEMPTS = 3
RETRY_DELAYS = (0.5, 2.0)
MAX_REPLY = 50 * 1024 * 1024
MAX_MEDIA = 25 * 1024 * 1024
MAX_VERSION = 100


class BackendFailed(Exception):
    """The backend gave no usable answer; the message says why, in words."""


@dataclass(frozen=True)
class Reply:
    """One prediction as the backend sent it, already checked against the kind."""

    task_id: int
    result: dict
    score: float
    model_version: str


def allow_private() -> bool:
    return bool(getattr(settings, "MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES", False))


def _joined(base: str, route: str) -> str:
    return base.rstrip("/") + "/" + route


def _request(
    backend: ModelBackend, *, method: str, route: str, body: bytes | None = None
) -> tuple[int, bytes]:
    """One call, retried on what may pass (network, timeout, 5xx, 429); (status, body)."""
    try:
        destination = destination_check(
            _joined(backend.url, route), allow_private=allow_private(), called="model backend calls"
        )
    except DeliveryRefused as refused:
        raise BackendFailed(f"The backend's address is refused: {refused}") from None
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if backend.auth_header:
        headers["Authorization"] = backend.auth_header
    last = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)])
        connection = pinned_connection(destination, timeout=backend.timeout_seconds)
        try:
            connection.request(method, destination.target, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read(MAX_REPLY + 1)
        except TimeoutError:
            last = f"The backend did not answer within {backend.timeout_seconds} s."
            continue
        except (OSError, http.client.HTTPException) as error:
            last = f"The backend could not be reached: {error or type(error).__name__}."
            continue
        finally:
            connection.close()
        if 300 <= response.status < 400:
            raise BackendFailed(f"HTTP {response.status}: redirects are not followed.")
        if response.status >= 500 or response.status == 429:
            last = f"The backend answered HTTP {response.status}."
            continue
        if response.status >= 400:
            detail = raw[:300].decode("utf-8", "replace").strip()
            raise BackendFailed(f"The backend answered HTTP {response.status}: {detail}")
        if len(raw) > MAX_REPLY:
            raise BackendFailed(f"The backend's answer is over {MAX_REPLY // 2**20} MB.")
        return response.status, raw
    raise BackendFailed(f"{last} (tried {ATTEMPTS} times)")


def health_check(*, backend: ModelBackend) -> tuple[bool, str]:
    """(healthy, what it said in words)."""
    try:
        _status, raw = _request(backend, method="GET", route="health")
    except BackendFailed as failure:
        return False, str(failure)
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {}
    version = body.get("model_version") if isinstance(body, dict) else None
    return True, f"Healthy{f', model {str(version)[:MAX_VERSION]}' if version else ''}."


def task_payload(task) -> dict:
    """What is sent of one task: its data, and its uploaded file inline."""
    item = {"id": task.pk, "data": task.data}
    if task.media:
        if task.media.size > MAX_MEDIA:
            raise BackendFailed(f"Task {task.pk}'s file is over {MAX_MEDIA // 2**20} MB.")
        with task.media.open("rb") as handle:
            content = handle.read()
        item["media"] = {
            "name": task.media.name.rsplit("/", 1)[-1],
            "content_type": (task.media_meta or {}).get("content_type", ""),
            "base64": base64.b64encode(content).decode("ascii"),
        }
    return item


def predict(*, backend: ModelBackend, tasks: list) -> tuple[list[Reply], list[str]]:
    """Ask the backend about one batch; the checked replies and the problems with the rest.

    Raises :class:`BackendFailed` when the whole batch failed.
    """
    project = backend.project
    body = json.dumps(
        {
            "kind": project.kind,
            "schema": project.schema,
            "tasks": [task_payload(task) for task in tasks],
        }
    ).encode()
    _status, raw = _request(backend, method="POST", route="predict", body=body)
    try:
        answer = json.loads(raw)
    except ValueError:
        raise BackendFailed("The backend's answer is not JSON.") from None
    items = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise BackendFailed('The backend\'s answer has no "predictions" list.')
    return check_replies(items=items, tasks=tasks, kind=project.task_kind, schema=project.schema)


def check_replies(*, items: list, tasks: list, kind, schema: dict) -> tuple[list[Reply], list[str]]:
    """Each prediction checked like an imported one; one per task (the first wins)."""
    by_id = {task.pk: task for task in tasks}
    replies: dict[int, Reply] = {}
    problems: list[str] = []
    for i, item in enumerate(items):
        where = f"predictions.{i}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object.")
            continue
        task = by_id.get(item.get("task")) if isinstance(item.get("task"), int) else None
        if task is None:
            problems.append(f"{where}: task {item.get('task')!r} was not sent.")
            continue
        if task.pk in replies:
            continue
        score = item.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            problems.append(f"{where}: the score is a number from 0 to 1.")
            continue
        version = item.get("model_version")
        if not isinstance(version, str) or not version.strip() or len(version) > MAX_VERSION:
            problems.append(f"{where}: model_version is a name of 1 to {MAX_VERSION} characters.")
            continue
        result = item.get("result")
        try:
            data = kind.answer_data(data=task.data, result=result)
            cleaned = kind.clean_result(result, schema=schema, data=data)
        except ValidationError as error:
            detail = "; ".join(
                f"{path}: {' '.join(messages)}" for path, messages in error.message_dict.items()
            )
            problems.append(f"{where} (task {task.pk}): {detail}"[:500])
            continue
        replies[task.pk] = Reply(
            task_id=task.pk, result=cleaned, score=float(score), model_version=version.strip()
        )
    return list(replies.values()), problems
