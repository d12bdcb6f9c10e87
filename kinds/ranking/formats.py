"""Preference datasets: DPO-style pairs and full rankings, as JSON lines.

A pairwise answer ``{"preference": "a"}`` implies one pair; a ranking ``{"order": ["b", "a",
"c"]}`` implies every ordered pair (b>a, b>c, a>c). Ties imply no pair.

A DPO file is in one of TRL's two preference formats, the same for every row: ``datasets`` types
each column once, and a column of strings in some rows and message lists in others is mixed JSON
that ``DPOTrainer`` cannot use. ``conversational``: ``prompt`` is a list of ``{role, content}``
messages (a text prompt becomes one user turn), ``chosen``/``rejected`` one assistant message
each. ``standard``: all three are text; a chat prompt of one user turn becomes its text, any
other chat prompt cannot be written and is refused (:class:`StyleRefused`).
"""

from collections.abc import Iterator
from itertools import combinations
from typing import Literal

from kinds.formats import (
    Chunks,
    ExportContext,
    ExportItem,
    FormatRefused,
    ItemSource,
    confidence_of,
)
from kinds.streams import json_line

DpoStyle = Literal["standard", "conversational"]
# The values of the export's ``style`` option, with the export page's labels; the first is the
# default (``ExportFormat.styles``).
DPO_STYLE_CHOICES = (
    ("auto", "Automatic: chat messages as soon as one task has them"),
    ("standard", "Standard: every prompt text (refused for multi-turn chats)"),
    ("conversational", "Conversational: every prompt a list of messages"),
)
DPO_STYLES = tuple(value for value, _ in DPO_STYLE_CHOICES)


class StyleRefused(FormatRefused):
    """A task's chat prompt has no plain-text form, so the standard style cannot write it."""

    code = "dpo_style_refused"
    field = "style"

    def __init__(self, *, task_id: int, external_id: str) -> None:
        self.task_id, self.external_id = task_id, external_id
        name = f"task {task_id}" + (f" ({external_id})" if external_id else "")
        super().__init__(
            f"The standard DPO style writes every prompt as text, but {name} has a chat prompt "
            "that is not a single user turn; export with style=conversational (or auto)."
        )

    def details(self) -> dict:
        return {"task": {"id": self.task_id, "external_id": self.external_id}}


def dpo_style(context: ExportContext) -> DpoStyle:
    """The one style of a DPO file, decided before any row is written (a stream cannot go back).

    ``auto`` is conversational as soon as any exported task has a chat prompt, else standard;
    ``standard`` is refused (:class:`StyleRefused`) when a chat prompt has no plain-text form.
    """
    if context.style not in DPO_STYLES:
        raise ValueError(f"Unknown DPO style {context.style!r}; choose one of: {DPO_STYLES}.")
    if context.style == "conversational":
        return "conversational"
    if context.style == "auto":
        return "conversational" if context.has_chat() else "standard"
    refused = context.first_long_chat()
    if refused is not None:
        task_id, external_id = refused
        raise StyleRefused(task_id=task_id, external_id=external_id)
    return "standard"


def implied_pairs(result: dict, response_ids: list[str]) -> Iterator[tuple[str, str]]:
    """(preferred, other) pairs implied by a pairwise or ranking result."""
    if "order" in result:
        yield from combinations(result["order"], 2)
        return
    preference = result.get("preference")
    if preference in response_ids:
        for other in response_ids:
            if other != preference:
                yield preference, other


def _messages(item: ExportItem) -> list[dict]:
    """The task's chat as ``{role, content}`` only: extra keys in some messages would make the
    prompt column mixed JSON."""
    return [
        {"role": message["role"], "content": message["content"]}
        for message in item.data.get("messages") or []
    ]


def _prompt(item: ExportItem, style: DpoStyle) -> str | list[dict]:
    messages = _messages(item)
    if style == "conversational":
        return messages or [{"role": "user", "content": item.data.get("prompt", "")}]
    if not messages:
        return item.data.get("prompt", "")
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    raise StyleRefused(task_id=item.task_id, external_id=item.external_id)


def _reply(text: str, style: DpoStyle) -> str | list[dict]:
    return [{"role": "assistant", "content": text}] if style == "conversational" else text


def dpo(items: ItemSource, *, style: DpoStyle) -> Chunks:
    """One line per implied pair, every line in ``style`` (resolved by the caller beforehand)."""
    for item in items():
        texts = {response["id"]: response["text"] for response in item.data["responses"]}
        prompt = _prompt(item, style)  # checked for every task, as the service checks up front
        for chosen, rejected in implied_pairs(item.result, list(texts)):
            yield json_line(
                {
                    "prompt": prompt,
                    "chosen": _reply(texts[chosen], style),
                    "rejected": _reply(texts[rejected], style),
                    **confidence_of(item),
                    "task_id": item.task_id,
                    "external_id": item.external_id,
                    "chosen_id": chosen,
                    "rejected_id": rejected,
                }
            )


def rankings(items: ItemSource) -> Chunks:
    for item in items():
        row = {
            "task_id": item.task_id,
            "external_id": item.external_id,
            "prompt": item.data.get("prompt"),
            "messages": item.data.get("messages"),
            "responses": item.data["responses"],
            **{
                key: item.result[key]
                for key in ("order", "preference", "strength")
                if key in item.result
            },
            "criteria": item.result.get("criteria", {}),
            "rationale": item.result.get("rationale", ""),
            "confidence": item.confidence,
            "contributors": item.contributors,
        }
        yield json_line({key: value for key, value in row.items() if value is not None})
