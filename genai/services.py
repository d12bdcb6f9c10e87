"""Live mode: the project's model connection, and one turn of a live conversation.

A live task starts as a seed (``{"messages": [], "live": true}``, a system prompt, a scenario in
``context``). The contributor who holds it writes a user turn; :func:`live_turn_events` sends the
conversation so far to the project's model, streams the reply back as server-sent events, and,
once the reply is whole, stores both turns in the task's data (the assistant's with ``model``
naming the model), so the conversation the contributor then rates or rewrites is the task.
Turns are added only while nobody has answered the task: the conversation is fixed once judged.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from annotation.models import Annotation, Assignment, AssignmentStatus, Task
from annotation.webhooks import DeliveryRefused, destination_check
from genai.client import ChatRequest, ModelFailed, chat_stream
from genai.models import LiveModel
from labelhub.audit import audit_record
from labelhub.markdown import render_markdown
from labelhub.models import AuditAction, Project
from labelhub.refusals import Refusal

KEEP = object()  # the API key is kept as it is


class LiveTurnRefused(Refusal):
    """A turn that cannot be sent; ``status`` is the HTTP status, the message is for people."""

    code = "live_refused"
    status = 409


def live_model_for(*, project: Project) -> LiveModel | None:
    return LiveModel.objects.filter(project=project).first()


@transaction.atomic
def live_model_save(
    *,
    project: Project,
    actor: AbstractBaseUser,
    enabled: bool,
    base_url: str,
    model: str,
    temperature: float,
    max_tokens: int,
    api_key: object = KEEP,
) -> LiveModel:
    """Create or change the project's model connection; ``api_key`` is kept unless given ("" to
    remove it). The audit log says whether the key changed, never what it is."""
    live = LiveModel.objects.select_for_update().filter(project=project).first()
    before = (
        {}
        if live is None
        else {
            "enabled": live.enabled,
            "base_url": live.base_url,
            "model": live.model,
            "temperature": live.temperature,
            "max_tokens": live.max_tokens,
        }
    )
    live = live or LiveModel(project=project)
    live.enabled, live.base_url, live.model = enabled, base_url, model
    live.temperature, live.max_tokens = temperature, max_tokens
    key = "kept"
    if api_key is not KEEP and api_key != live.api_key:
        key = "removed" if not api_key else "changed"
        live.api_key = str(api_key)
    live.updated_by = actor
    try:  # the rule calls are made by, checked at save as backends' URLs are
        destination_check(
            live.endpoint,
            allow_private=getattr(settings, "LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES", False),
            called="calls to the model",
        )
    except DeliveryRefused as refused:
        raise ValidationError({"base_url": [str(refused)]}) from None
    live.full_clean(exclude=["project"])
    live.save()
    after = {
        k: getattr(live, k) for k in ("enabled", "base_url", "model", "temperature", "max_tokens")
    }
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if key != "kept":
        changes["api_key"] = key
    audit_record(
        actor=actor,
        action=AuditAction.PROJECT_CHANGED,
        project=project,
        summary=f"Live model connection: {model} at {base_url}",
        changes=changes,
    )
    return live


@dataclass(frozen=True)
class LiveTurn:
    """A turn checked and ready to send."""

    task_id: int
    live: LiveModel
    messages: list[dict]
    content: str


def live_turn_check(*, assignment: Assignment, content: object) -> LiveTurn:
    """Refuse a turn that cannot be sent (before any byte is streamed): the assignment must be
    open, the project connected, the task a live one nobody answered, the text reasonable."""
    project = assignment.project
    live = live_model_for(project=project)
    kind = project.installed_kind
    limits = kind.live_mode if kind is not None else None
    if live is None or not live.enabled or limits is None:
        raise LiveTurnRefused("This project is not connected to a model.", code="live_off")
    if assignment.status != AssignmentStatus.ACTIVE:
        raise LiveTurnRefused("This task is no longer yours to work on.", code="assignment_closed")
    if not isinstance(content, str) or not content.strip():
        raise LiveTurnRefused("Write your message first.", status=400, code="empty")
    if len(content) > limits.text:
        raise LiveTurnRefused(f"A message has at most {limits.text} characters.", status=400)
    task = Task.objects.only("pk", "data").get(pk=assignment.task_id)
    data = task.data if isinstance(task.data, dict) else {}
    if not data.get("live"):
        raise LiveTurnRefused("This task is a fixed conversation, not a live one.", code="not_live")
    if Annotation.objects.filter(task_id=task.pk).exists():
        raise LiveTurnRefused("This conversation is already answered: judge it as it is.")
    messages = list(data.get("messages") or [])
    if len(messages) + 2 > limits.messages:
        raise LiveTurnRefused(f"A conversation has at most {limits.messages} messages.")
    if messages and messages[-1].get("role") == "user":
        raise LiveTurnRefused("The model has not answered the last message yet.")
    return LiveTurn(task_id=task.pk, live=live, messages=messages, content=content)


def sse(payload: dict) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def _store(turn: LiveTurn, reply: str) -> int:
    """Append the user turn and the reply; the index of the reply. Refused if the conversation
    changed meanwhile (another tab sent a turn), so no turn lands out of order."""
    with transaction.atomic():
        task = Task.objects.select_for_update().only("pk", "data").get(pk=turn.task_id)
        messages = list((task.data or {}).get("messages") or [])
        if len(messages) != len(turn.messages):
            raise ModelFailed("The conversation changed meanwhile (another window?); reload it.")
        if Annotation.objects.filter(task_id=task.pk).exists():
            raise ModelFailed("This conversation was answered meanwhile; the reply is not kept.")
        messages += [
            {"role": "user", "content": turn.content},
            {"role": "assistant", "content": reply, "model": turn.live.model},
        ]
        Task.objects.filter(pk=task.pk).update(data={**task.data, "messages": messages})
    return len(messages) - 1


def live_turn_events(turn: LiveTurn) -> Iterator[bytes]:
    """The reply as server-sent events: ``{"delta"}`` pieces, then ``{"done", "index",
    "message", "html"}`` once it is stored, or ``{"error"}`` (nothing is stored then)."""
    request = ChatRequest(
        endpoint=turn.live.endpoint,
        model=turn.live.model,
        api_key=turn.live.api_key,
        temperature=turn.live.temperature,
        max_tokens=turn.live.max_tokens,
        messages=[*turn.messages, {"role": "user", "content": turn.content}],
    )
    parts: list[str] = []
    try:
        for delta in chat_stream(request):
            parts.append(delta)
            yield sse({"delta": delta})
        reply = "".join(parts)
        if not reply.strip():
            raise ModelFailed("The model sent an empty reply.")
        index = _store(turn, reply)
    except ModelFailed as failure:
        yield sse({"error": str(failure)})
        return
    message = {"role": "assistant", "content": reply, "model": turn.live.model}
    yield sse(
        {
            "done": True,
            "index": index,
            "user": {"role": "user", "content": turn.content},
            "message": message,
            "html": {"user": render_markdown(turn.content), "assistant": render_markdown(reply)},
        }
    )
