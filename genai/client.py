"""The call to the customer's model: one streamed ``POST …/chat/completions`` (OpenAI-compatible).

The URL goes through the webhooks' address guard (``annotation.webhooks.destination_check``):
a host that resolves to a loopback, private, link-local or otherwise non-public address is
refused unless ``LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES`` is on (a model on your own network), and
the connection goes to the address that was checked, never to a second DNS answer; a redirect is
a failure. Timeouts: connecting and each read wait at most ``READ_TIMEOUT`` seconds, the whole
reply at most ``TOTAL_TIMEOUT``; a reply over ``MAX_REPLY`` characters is cut. Every failure is a
:class:`ModelFailed` whose message says what went wrong in words, for the contributor.
"""

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from annotation.webhooks import DeliveryRefused, destination_check, pinned_connection

READ_TIMEOUT = 30
TOTAL_TIMEOUT = 180
MAX_REPLY = 100_000
USER_AGENT = "LabelHub-Live/1"


class ModelFailed(Exception):
    """The model could not give a reply; the message says why, in words."""

    status: int | None = None  # the HTTP status, when the server answered with an error


@dataclass(frozen=True)
class ChatRequest:
    endpoint: str
    model: str
    api_key: str
    temperature: float
    max_tokens: int
    messages: list[dict]
    timeout: float | None = None  # None: READ_TIMEOUT


def _error_detail(raw: bytes) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the start of the body."""
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(error, str):
        return error[:300]
    return text.strip()[:300]


def _post(
    request: ChatRequest, *, stream: bool
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """Send the request through the address guard; the open connection and its response."""
    try:
        destination = destination_check(
            request.endpoint,
            allow_private=getattr(settings, "LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES", False),
            called="calls to the model",
        )
    except DeliveryRefused as refused:
        raise ModelFailed(f"The model's address is refused: {refused}") from None
    body = json.dumps(
        {
            "model": request.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in request.messages],
            "stream": stream,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": USER_AGENT,
    }
    if request.api_key:
        headers["Authorization"] = f"Bearer {request.api_key}"
    timeout = request.timeout or READ_TIMEOUT
    connection = pinned_connection(destination, timeout=timeout)
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        return connection, connection.getresponse()
    except TimeoutError:
        connection.close()
        raise ModelFailed(f"The model did not answer within {timeout:g} s.") from None
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        raise ModelFailed(
            f"The model could not be reached: {error or type(error).__name__}."
        ) from None


@dataclass(frozen=True)
class Completion:
    """A whole reply with the token counts the server reported (``None`` when it said none)."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None


def _token_count(usage: object, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def chat_complete(request: ChatRequest) -> Completion:
    """One whole reply (not streamed) with its token usage. Raises :class:`ModelFailed`;
    ``ModelFailed.status`` is the HTTP status when the server answered with an error."""
    connection, response = _post(request, stream=False)
    try:
        if 300 <= response.status < 400:
            raise ModelFailed(
                f"The model answered HTTP {response.status}: redirects are not followed."
            )
        try:
            raw = response.read(MAX_REPLY * 4 + 100_000)
        except TimeoutError:
            raise ModelFailed(
                f"The model did not answer within {request.timeout or READ_TIMEOUT:g} s."
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise ModelFailed(
                f"The model's reply broke off: {error or type(error).__name__}."
            ) from None
        if response.status != 200:
            failure = ModelFailed(
                f"The model answered HTTP {response.status}: "
                f"{_error_detail(raw) or response.reason}"
            )
            failure.status = response.status
            raise failure
        try:
            body = json.loads(raw)
            text = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ModelFailed("The model sent something that is not a chat completion.") from None
        if not isinstance(text, str):
            raise ModelFailed("The model sent a chat completion without text.")
        usage = body.get("usage")
        return Completion(
            text=text[:MAX_REPLY],
            prompt_tokens=_token_count(usage, "prompt_tokens"),
            completion_tokens=_token_count(usage, "completion_tokens"),
        )
    finally:
        connection.close()


def chat_stream(request: ChatRequest) -> Iterator[str]:
    """The reply's text as it streams in, piece by piece. Raises :class:`ModelFailed`."""
    connection, response = _post(request, stream=True)
    try:
        if 300 <= response.status < 400:
            raise ModelFailed(
                f"The model answered HTTP {response.status}: redirects are not followed."
            )
        if response.status != 200:
            detail = _error_detail(response.read(4000))
            raise ModelFailed(
                f"The model answered HTTP {response.status}: {detail or response.reason}"
            )
        yield from _events(response)
    finally:
        connection.close()


def _events(response: http.client.HTTPResponse) -> Iterator[str]:
    """The text deltas of a server-sent-events stream of chat completion chunks."""
    deadline = time.monotonic() + TOTAL_TIMEOUT
    size = 0
    while True:
        try:
            raw = response.readline(1 << 20)
        except TimeoutError:
            raise ModelFailed(
                f"The model stopped sending for {READ_TIMEOUT} s; the reply is cut."
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise ModelFailed(
                f"The model's reply broke off: {error or type(error).__name__}."
            ) from None
        if not raw:
            return  # the stream ended (some servers send no [DONE])
        if time.monotonic() > deadline:
            raise ModelFailed(f"The model took longer than {TOTAL_TIMEOUT} s; the reply is cut.")
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue  # blank lines between events, comments (":"), event names
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except ValueError:
            raise ModelFailed(
                "The model sent something that is not a chat completion chunk."
            ) from None
        if not isinstance(event, dict):
            raise ModelFailed("The model sent something that is not a chat completion chunk.")
        if event.get("error"):
            detail = _error_detail(json.dumps({"error": event["error"]}).encode())
            raise ModelFailed(f"The model reported an error: {detail}")
        choices = event.get("choices") or []
        delta = choices[0].get("delta") if choices and isinstance(choices[0], dict) else None
        text = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(text, str) and text:
            size += len(text)
            if size > MAX_REPLY:
                raise ModelFailed(f"The reply passed {MAX_REPLY} characters; it is cut.")
            yield text
