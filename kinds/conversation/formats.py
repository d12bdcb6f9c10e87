"""Conversation datasets: SFT chats, DPO pairs, rubric scores, and the full record.

* **SFT** (JSONL, TRL's ``messages`` format): one row per rewritten turn (the conversation up to
  that turn, the rewrite in its place) and one per written conversation (the task's messages, then
  the written ones). Every row ends with an assistant turn; messages are ``{role, content}`` only,
  so the column has one type in ``datasets``.
* **DPO** (JSONL, TRL's conversational preference format, the same columns as the ranking kind's
  conversational DPO file): a rewrite is chosen over the turn it replaces (the prompt is the
  conversation before it; a turn with nothing before it gives no pair), and in compare mode the
  best candidate is chosen over the worst (the prompt is the whole conversation).
* **Rubric scores** (JSONL and CSV): one row per conversation × unit (a judged turn, a candidate,
  the whole conversation) × criterion, with the accepted score (``consensus``), where it comes
  from (``source``: ``review_fix`` when a reviewer's fix set it, which may differ from every
  contributor's score; ``consensus`` for the median of several answers; ``answer`` for a single
  answer) and every contributor's, by pseudonym. Units nobody scored are left out. The CSV has
  one header row; its ``scores`` cell lists ``contributor=score`` pairs separated by ``;``.
* **Full JSONL**: each task's data, accepted result, confidence and every counted answer.
"""

from collections.abc import Iterator

from kinds.formats import Chunks, ExportContext, ExportItem, ItemSource, confidence_of
from kinds.streams import csv_rows, json_line

RUBRIC_COLUMNS = [
    "task_id",
    "external_id",
    "unit",
    "turn",
    "candidate",
    "criterion",
    "scale",
    "consensus",
    "source",
    "mean",
    "contributors",
    "scores",
]


def chat(messages: list[dict]) -> list[dict]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def judged_turns(messages: list[dict]) -> list[int]:
    """The assistant turns to judge: those marked ``"judge": true``, else every one."""
    assistant = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
    marked = [i for i in assistant if messages[i].get("judge") is True]
    return marked or assistant


def sft_rows(item: ExportItem) -> Iterator[dict]:
    messages = item.data.get("messages") or []
    ids = {"task_id": item.task_id, "external_id": item.external_id}
    for turn in item.result.get("turns") or []:
        index, rewrite = turn.get("index"), turn.get("rewrite")
        if rewrite and isinstance(index, int) and 0 <= index < len(messages):
            rows = [*chat(messages[:index]), {"role": "assistant", "content": rewrite}]
            yield {"messages": rows, **ids, "turn": index, "source": "rewrite"}
    written = item.result.get("written") or []
    if written and written[-1].get("role") == "assistant":
        rows = chat(messages) + chat(written)
        yield {"messages": rows, **ids, "turn": len(rows) - 1, "source": "written"}


def sft(items: ItemSource) -> Chunks:
    for item in items():
        for row in sft_rows(item):
            yield json_line(row)


def dpo_rows(item: ExportItem) -> Iterator[dict]:
    messages = item.data.get("messages") or []
    ids = {**confidence_of(item), "task_id": item.task_id, "external_id": item.external_id}

    def reply(text: str) -> list[dict]:
        return [{"role": "assistant", "content": text}]

    for turn in item.result.get("turns") or []:
        index, rewrite = turn.get("index"), turn.get("rewrite")
        if rewrite and isinstance(index, int) and 0 < index < len(messages):
            yield {
                "prompt": chat(messages[:index]),
                "chosen": reply(rewrite),
                "rejected": reply(messages[index]["content"]),
                **ids,
                "chosen_id": f"rewrite:{index}",
                "rejected_id": f"turn:{index}",
            }
    order = item.result.get("order") or []
    texts = {c["id"]: c["content"] for c in item.data.get("candidates") or []}
    if len(order) >= 2 and messages and order[0] in texts and order[-1] in texts:
        yield {
            "prompt": chat(messages),
            "chosen": reply(texts[order[0]]),
            "rejected": reply(texts[order[-1]]),
            **ids,
            "chosen_id": order[0],
            "rejected_id": order[-1],
        }


def dpo(items: ItemSource) -> Chunks:
    for item in items():
        for row in dpo_rows(item):
            yield json_line(row)


def _unit_part(result: dict, unit: str, key) -> dict:
    if unit == "conversation":
        return {"scores": result.get("scores") or {}}
    field, name = ("turns", "index") if unit == "turn" else ("candidates", "id")
    return next((part for part in result.get(field) or [] if part.get(name) == key), {})


def rubric_rows(item: ExportItem, schema: dict) -> Iterator[dict]:
    criteria = [c for c in schema.get("criteria", []) if isinstance(c, dict)]
    per_turn = [c for c in criteria if c.get("per", "turn") == "turn"]
    per_conversation = [c for c in criteria if c.get("per") == "conversation"]
    units: list[tuple[str, int | str | None, list[dict]]] = [
        ("turn", index, per_turn) for index in judged_turns(item.data.get("messages") or [])
    ]
    units += [("candidate", c["id"], per_turn) for c in item.data.get("candidates") or []]
    units.append(("conversation", None, per_conversation))
    for unit, key, unit_criteria in units:
        for criterion in unit_criteria:
            name = criterion["name"]
            consensus = (_unit_part(item.result, unit, key).get("scores") or {}).get(name)
            scores = [
                {"contributor": answer.contributor, "score": value}
                for answer in item.answers
                if (value := (_unit_part(answer.result, unit, key).get("scores") or {}).get(name))
                is not None
            ]
            if consensus is None and not scores:
                continue
            values = [s["score"] for s in scores]
            if consensus is None:
                source = None
            elif item.fixed_by_review:
                source = "review_fix"
            else:
                source = "consensus" if item.confidence is not None else "answer"
            yield {
                "task_id": item.task_id,
                "external_id": item.external_id,
                "unit": unit,
                "turn": key if unit == "turn" else None,
                "candidate": key if unit == "candidate" else None,
                "criterion": name,
                "scale": criterion.get("scale"),
                "consensus": consensus,
                "source": source,
                "mean": round(sum(values) / len(values), 6) if values else None,
                "contributors": len(values),
                "scores": scores,
            }


def rubric_jsonl(items: ItemSource, context: ExportContext) -> Chunks:
    for item in items():
        for row in rubric_rows(item, context.schema):
            yield json_line(row)


def rubric_csv(items: ItemSource, context: ExportContext) -> Chunks:
    def rows():
        for item in items():
            for row in rubric_rows(item, context.schema):
                cells = {**row, "scores": ";".join(
                    f"{s['contributor']}={s['score']}" for s in row["scores"]
                )}  # fmt: skip
                yield [cells[column] for column in RUBRIC_COLUMNS]

    return csv_rows(RUBRIC_COLUMNS, rows())


def full_jsonl(items: ItemSource) -> Chunks:
    for item in items():
        yield json_line(
            {
                "task_id": item.task_id,
                "external_id": item.external_id,
                "data": item.data,
                "result": item.result,
                "confidence": item.confidence,
                "answers": [
                    {"contributor": a.contributor, "result": a.result} for a in item.answers
                ],
                **item.extra,
            }
        )
