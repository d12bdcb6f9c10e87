"""Preference datasets: DPO-style pairs and full rankings, as JSON lines.

A pairwise answer ``{"preference": "a"}`` implies one pair; a ranking ``{"order": ["b", "a",
"c"]}`` implies every ordered pair (b>a, b>c, a>c). Ties imply no pair. A chat prompt
(``messages``) is written in the conversational shape (``prompt`` a list of messages,
``chosen``/``rejected`` one assistant message each); a text prompt stays text.
"""

from collections.abc import Iterator
from itertools import combinations

from labelhub.formats import Chunks, ExportItem, ItemSource
from labelhub.formats.streams import json_line


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


def _prompt_and_reply(item: ExportItem, text: str) -> tuple[object, object]:
    if "messages" in item.data:
        return item.data["messages"], [{"role": "assistant", "content": text}]
    return item.data.get("prompt", ""), text


def dpo(items: ItemSource) -> Chunks:
    for item in items():
        texts = {response["id"]: response["text"] for response in item.data["responses"]}
        for chosen, rejected in implied_pairs(item.result, list(texts)):
            prompt, chosen_text = _prompt_and_reply(item, texts[chosen])
            _prompt, rejected_text = _prompt_and_reply(item, texts[rejected])
            yield json_line(
                {
                    "prompt": prompt,
                    "chosen": chosen_text,
                    "rejected": rejected_text,
                    "confidence": item.confidence,
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
        }
        yield json_line({key: value for key, value in row.items() if value is not None})
