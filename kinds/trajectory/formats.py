"""Datasets from judged agent runs, in the shapes training code loads unchanged.

* **Stepwise supervision** (JSONL, TRL's documented stepwise type): ``prompt`` (the text before
  the agent's first step: system and user turns, else the instruction), ``completions`` (one text
  per agent step, a tool call written ``name({arguments})``, followed by what the environment
  answered before the agent's next step) and ``labels`` (one boolean per agent step: rated within
  the project's ``correct_ratings``). Exactly these three columns.
* **SFT** (JSONL, TRL's conversational ``messages`` plus a ``tools`` column): the corrected run —
  the steps before the divergence, then the correction in its place — or, for a run whose every
  step is counted correct, the whole run. The divergence is the first agent step not counted
  correct (past ``correct_ratings``: the first step the stepwise labels call false), so a
  "partly correct" step before the first wrong one is where a per-step run diverges and its
  correction is what is trained on. A run whose divergence has no correction gives no row.
  Consecutive agent steps make one assistant turn (``content``, ``reasoning_content`` when it
  thought, ``tool_calls`` as ``{id, type: "function", function: {name, arguments}}``); a tool's
  answer is a ``tool`` turn with ``tool_call_id`` and ``name``. Every turn carries all six keys,
  ``null`` where one does not apply, and ``arguments`` and ``tools`` are JSON text (as TRL
  accepts them), so that every column keeps one type whatever the tools' parameters are.
* **DPO at the divergence** (JSONL, conversational preference): ``prompt`` is the run up to the
  assistant turn holding the divergence (as for SFT), ``chosen`` that turn with the correction,
  ``rejected`` that turn with the original step; plus ``tools``.
* **Verdicts** (JSONL and CSV): one row per run with the accepted verdict, first error, rubric
  scores, failure modes and critique, the consensus confidence and every contributor's verdict.
* **ATIF** (JSONL, Harbor's trajectory format): the run back in ATIF (an agent's consecutive
  steps and the results they got as one ATIF step; a run imported from ATIF in its own steps,
  with their timestamps, models and metrics), the labels under ``extra.labelhub`` of each step
  and of the trajectory, the run's tools as ``agent.tool_definitions``, screenshots as image
  content parts; a run imported from ATIF keeps its ``session_id``, ``agent`` and
  ``final_metrics``.
"""

import json
import mimetypes
from collections.abc import Iterator

from kinds.formats import Chunks, ExportContext, ExportItem, ItemSource
from kinds.streams import csv_rows, json_line
from kinds.trajectory.model import arguments_text, step_text

ATIF_VERSION = "ATIF-v1.6"
ATIF_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
ATIF_METRICS = (
    ("input_tokens", "prompt_tokens"),
    ("output_tokens", "completion_tokens"),
    ("cost_usd", "cost_usd"),
)
VERDICT_COLUMNS = [
    "task_id",
    "external_id",
    "verdict",
    "confidence",
    "first_error",
    "wrong_steps",
    "failure_modes",
    "critique",
    "contributors",
    "verdicts",
]


def _position(steps: list[dict], step_id: str | None) -> int | None:
    return next((i for i, step in enumerate(steps) if step["id"] == step_id), None)


# --- stepwise supervision ------------------------------------------------------------------


def stepwise_row(item: ExportItem, schema: dict) -> dict | None:
    steps = item.data.get("steps") or []
    ratings = schema.get("ratings") or ["correct", "partly correct", "wrong"]
    correct = schema.get("correct_ratings", 1)
    judgements = item.result.get("steps") or {}
    first_agent = next((i for i, s in enumerate(steps) if s.get("source") == "agent"), None)
    if first_agent is None:
        return None
    before = [s.get("content") or "" for s in steps[:first_agent] if s.get("content")]
    prompt = "\n\n".join(before) or item.data.get("instruction") or ""
    completions: list[str] = []
    labels: list[bool] = []
    for step in steps[first_agent:]:
        if step.get("source") == "agent":
            entry = judgements.get(step["id"])
            if entry is None or entry.get("rating") not in ratings:
                return None  # an answer that does not rate every step gives no row
            completions.append(step_text(step))
            labels.append(ratings.index(entry["rating"]) < correct)
        elif completions:
            answer = step.get("content") or ("[screenshot]" if step.get("image") else "")
            completions[-1] += f"\n[{step.get('source')} {step.get('type')}] {answer}"
    return {"prompt": prompt, "completions": completions, "labels": labels}


def stepwise(items: ItemSource, context: ExportContext) -> Chunks:
    for item in items():
        row = stepwise_row(item, context.schema)
        if row is not None:
            yield json_line(row)


# --- chat messages with tool calls ---------------------------------------------------------


def openai_tools(data: dict) -> list[dict]:
    """The run's tools in OpenAI's function-calling shape (as TRL and ATIF take them)."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool["name"],
                "description": tool.get("description", ""),
                "parameters": tool.get("parameters") or {"type": "object", "properties": {}},
            },
        }
        for tool in data.get("tools") or []
    ]


def tools_json(data: dict) -> str:
    return json.dumps(openai_tools(data), ensure_ascii=False)


MESSAGE_KEYS = ("role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name")


def messages(steps: list[dict]) -> list[dict]:
    """Steps as chat turns: an agent's consecutive steps make one assistant turn. Every turn has
    the same keys (``null`` where a key does not apply): ``datasets`` gives a list of turns whose
    keys differ no type at all, only raw JSON."""
    return [{key: turn.get(key) for key in MESSAGE_KEYS} for turn in _turns(steps)]


def _turns(steps: list[dict]) -> list[dict]:
    out: list[dict] = []
    names: dict[str, str] = {}
    turn: dict | None = None

    def close() -> None:
        nonlocal turn
        if turn is not None:
            out.append(turn)
            turn = None

    for step in steps:
        source, kind = step.get("source"), step.get("type")
        if source == "agent":
            if turn is None:
                turn = {"role": "assistant", "content": ""}
            if kind == "tool_call":
                call_id = step.get("call_id") or f"call_{step['id']}"
                names[call_id] = step["tool"]["name"]
                turn.setdefault("tool_calls", []).append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": step["tool"]["name"],
                            "arguments": arguments_text(step["tool"].get("arguments", {})),
                        },
                    }
                )
            elif kind == "reasoning":
                previous = turn.get("reasoning_content")
                text = step.get("content") or ""
                turn["reasoning_content"] = f"{previous}\n{text}" if previous else text
            elif step.get("content"):
                sep = "\n" if turn["content"] else ""
                turn["content"] += sep + step["content"]
            continue
        close()
        text = step.get("content") or ("[screenshot]" if step.get("image") else "")
        if kind == "error":
            text = f"Error: {text}"
        call_id = step.get("call_id")
        if call_id and call_id in names:
            out.append(
                {"role": "tool", "tool_call_id": call_id, "name": names[call_id], "content": text}
            )
        elif source == "system":
            out.append({"role": "system", "content": text})
        else:
            out.append({"role": "user", "content": text})
    close()
    return out


def corrected_step(step: dict, correction: dict) -> dict:
    if correction.get("tool"):
        return {
            "id": step["id"],
            "source": "agent",
            "type": "tool_call",
            "tool": correction["tool"],
            "call_id": f"{step.get('call_id') or 'call_' + step['id']}_corrected",
        }
    return {
        "id": step["id"],
        "source": "agent",
        "type": "message",
        "content": correction["content"],
    }


def divergence_step(item: ExportItem, schema: dict) -> str | None:
    """Where the run stops being right for training: its first agent step not counted correct
    (rated past ``correct_ratings``, as the stepwise labels say). In per-step mode a "partly
    correct" step before the first wrong one is where it diverges; ``None``: every step is
    counted correct."""
    from kinds.trajectory.metrics import wrong_steps

    wrong = wrong_steps(item.result, schema=schema, data=item.data)
    return wrong[0] if wrong else None


def _divergence(item: ExportItem, schema: dict) -> tuple[list[dict], int, dict] | None:
    """The run's steps, the divergence's position and its correction; ``None`` when every step
    is counted correct or the divergence has no correction."""
    steps = item.data.get("steps") or []
    at = _position(steps, divergence_step(item, schema))
    correction = next(
        (c for c in item.result.get("corrections") or [] if at is not None and
         c.get("step") == steps[at]["id"]),
        None,
    )  # fmt: skip
    if at is None or correction is None:
        return None
    return steps, at, correction


def _trim(turns: list[dict]) -> list[dict]:
    """Up to the last assistant turn (an SFT row ends with what the model says)."""
    while turns and turns[-1]["role"] != "assistant":
        turns.pop()
    return turns


def sft_row(item: ExportItem, schema: dict) -> dict | None:
    ids = {"task_id": item.task_id, "external_id": item.external_id}
    if divergence_step(item, schema) is None:
        turns = _trim(messages(item.data.get("steps") or []))
        if not turns:
            return None
        return {"messages": turns, "tools": tools_json(item.data), **ids, "source": "run"}
    found = _divergence(item, schema)
    if found is None:
        return None
    steps, at, correction = found
    turns = messages([*steps[:at], corrected_step(steps[at], correction)])
    return {"messages": turns, "tools": tools_json(item.data), **ids, "source": "correction"}


def sft(items: ItemSource, context: ExportContext) -> Chunks:
    for item in items():
        row = sft_row(item, context.schema)
        if row is not None:
            yield json_line(row)


def dpo_row(item: ExportItem, schema: dict) -> dict | None:
    found = _divergence(item, schema)
    if found is None:
        return None
    steps, at, correction = found
    # The assistant turn the first error is in starts after the last step that is not the agent's.
    start = at
    while start > 0 and steps[start - 1].get("source") == "agent":
        start -= 1
    prompt = messages(steps[:start])
    if not prompt:
        return None
    chosen = messages([*steps[start:at], corrected_step(steps[at], correction)])
    rejected = messages(steps[start : at + 1])
    return {
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
        "tools": tools_json(item.data),
        "task_id": item.task_id,
        "external_id": item.external_id,
        "step": steps[at]["id"],
    }


def dpo(items: ItemSource, context: ExportContext) -> Chunks:
    for item in items():
        row = dpo_row(item, context.schema)
        if row is not None:
            yield json_line(row)


# --- verdicts ------------------------------------------------------------------------------


def verdict_row(item: ExportItem, schema: dict) -> dict:
    from kinds.trajectory.metrics import wrong_steps

    criteria = [c["name"] for c in schema.get("criteria") or []]
    scores = item.result.get("scores") or {}
    return {
        "task_id": item.task_id,
        "external_id": item.external_id,
        "verdict": item.result.get("verdict"),
        "confidence": item.confidence,
        "first_error": item.result.get("first_error"),
        "wrong_steps": len(wrong_steps(item.result, schema=schema)),
        "scores": {name: scores.get(name) for name in criteria},
        "failure_modes": list(item.result.get("failure_modes") or []),
        "critique": item.result.get("critique") or "",
        "answers": [
            {
                "contributor": answer.contributor,
                "verdict": answer.result.get("verdict"),
                "first_error": answer.result.get("first_error"),
            }
            for answer in item.answers
        ],
    }


def verdicts_jsonl(items: ItemSource, context: ExportContext) -> Chunks:
    for item in items():
        yield json_line(verdict_row(item, context.schema))


def verdicts_csv(items: ItemSource, context: ExportContext) -> Chunks:
    criteria = [c["name"] for c in context.schema.get("criteria") or []]
    header = VERDICT_COLUMNS[:5] + [f"score:{name}" for name in criteria] + VERDICT_COLUMNS[5:]

    def rows() -> Iterator[list]:
        for item in items():
            row = verdict_row(item, context.schema)
            cells = {
                **row,
                "failure_modes": ";".join(row["failure_modes"]),
                "contributors": ";".join(a["contributor"] for a in row["answers"]),
                "verdicts": ";".join(f"{a['contributor']}={a['verdict']}" for a in row["answers"]),
                **{f"score:{name}": row["scores"].get(name) for name in criteria},
            }
            yield [cells[column] for column in header]

    return csv_rows(header, rows())


# --- ATIF ----------------------------------------------------------------------------------


def _atif_groups(data: dict) -> list[tuple[dict, list[dict]]]:
    """The run's steps grouped into ATIF steps, each with what is known of that ATIF step: as
    they were when the run was imported from ATIF, else an agent's consecutive steps with the
    results they got (a user's or system's step alone)."""
    steps = data.get("steps") or []
    kept = ((data.get("metadata") or {}).get("atif") or {}).get("steps")
    if isinstance(kept, list) and all(isinstance(k, dict) for k in kept):
        given = [step_id for k in kept for step_id in k.get("ids") or []]
        if given == [step["id"] for step in steps]:
            by_id = {step["id"]: step for step in steps}
            return [(k, [by_id[step_id] for step_id in k.get("ids") or []]) for k in kept]
    groups: list[tuple[dict, list[dict]]] = []
    current: list[dict] | None = None
    answered = False
    for step in steps:
        source = step.get("source")
        if source == "agent":
            if current is None or answered:
                current, answered = [], False
                groups.append(({"source": "agent"}, current))
            current.append(step)
        elif source == "environment" and current is not None:
            current.append(step)
            answered = True
        else:
            groups.append(({"source": "user" if source == "user" else "system"}, [step]))
            current = None
    return groups


def _image_part(location: str) -> dict:
    if location.startswith("data:"):
        media_type = location[5:].split(";", 1)[0].split(",", 1)[0]
    else:
        media_type = mimetypes.guess_type(location.split("?", 1)[0])[0] or ""
    if media_type not in ATIF_IMAGE_TYPES:
        media_type = "image/png"
    return {"type": "image", "source": {"media_type": media_type, "path": location}}


def _atif_content(text: str, images: list[str]) -> str | list[dict]:
    if not images:
        return text
    parts = [{"type": "text", "text": text}] if text else []
    return parts + [_image_part(image) for image in images]


def atif_trajectory(item: ExportItem) -> dict:
    data, result = item.data, item.result
    original = (data.get("metadata") or {}).get("atif") or {}
    judgements = result.get("steps") or {}
    corrections = {c["step"]: c for c in result.get("corrections") or []}
    has_images = False

    def label(step: dict) -> dict:
        entry = {"step": step["id"], "type": step.get("type"), **judgements.get(step["id"], {})}
        if step["id"] in corrections:
            correction = dict(corrections[step["id"]])
            correction.pop("step")
            entry["correction"] = correction
        return entry

    out_steps: list[dict] = []
    for info, group in _atif_groups(data):
        out: dict = {"step_id": len(out_steps) + 1, "source": info["source"]}
        out.update({k: v for k, v in info.items() if k not in ("step_id", "source", "ids")})
        texts, images, labels, calls, results = [], [], [], [], []
        figures: dict = {}
        for step in group:
            source, kind = step.get("source"), step.get("type")
            if source == "environment":
                entry: dict = {"content": _atif_content(step.get("content") or "", [
                    step["image"]] if step.get("image") else [])}  # fmt: skip
                if step.get("call_id") in {c["tool_call_id"] for c in calls}:
                    entry["source_call_id"] = step["call_id"]
                if kind == "error":
                    entry["extra"] = {"error": True}
                results.append(entry)
                continue
            if source == "agent":
                labels.append(label(step))
                for name, theirs in ATIF_METRICS:
                    value = (step.get("metrics") or {}).get(name)
                    if value is not None:
                        figures[theirs] = figures.get(theirs, 0) + value
            if kind == "tool_call":
                calls.append(
                    {
                        "tool_call_id": step.get("call_id") or f"call_{step['id']}",
                        "function_name": step["tool"]["name"],
                        "arguments": step["tool"].get("arguments", {}),
                    }
                )
            elif kind == "reasoning":
                out["reasoning_content"] = "\n".join(
                    filter(None, [out.get("reasoning_content"), step.get("content")])
                )
            elif step.get("content"):
                texts.append(step["content"])
            if step.get("image"):
                images.append(step["image"])
        has_images = (
            has_images or bool(images) or any(isinstance(r["content"], list) for r in results)
        )
        out["message"] = _atif_content("\n".join(texts), images)
        if calls:
            out["tool_calls"] = calls
        if results:
            out["observation"] = {"results": results}
        if out["source"] == "agent" and figures and "metrics" not in out:
            out["metrics"] = figures
        if labels:
            out["extra"] = {**(out.get("extra") or {}), "labelhub": labels}
        out_steps.append(out)
    version = original.get("schema_version") or ATIF_VERSION
    if has_images and int(version.rsplit(".", 1)[-1]) < 6:
        version = "ATIF-v1.6"  # image content parts came with ATIF-v1.6
    agent = dict(original.get("agent") or {"name": "unknown", "version": "unknown"})
    model = (data.get("metadata") or {}).get("model")
    if isinstance(model, str) and model and not agent.get("model_name"):
        agent["model_name"] = model
    if data.get("tools"):
        agent["tool_definitions"] = openai_tools(data)
    trajectory = {
        "schema_version": version,
        "session_id": original.get("session_id") or f"labelhub-task-{item.task_id}",
        "agent": agent,
        "steps": out_steps,
    }
    for key in ("trajectory_id", "notes"):
        if original.get(key):
            trajectory[key] = original[key]
    final = dict(original.get("final_metrics") or {})
    final.setdefault("total_steps", len(out_steps))
    trajectory["final_metrics"] = final
    outcome = data.get("outcome") or {}
    trajectory["extra"] = {
        **(original.get("extra") or {}),
        "labelhub": {
            "task_id": item.task_id,
            "external_id": item.external_id,
            "instruction": data.get("instruction", ""),
            "verdict": result.get("verdict"),
            "first_error": result.get("first_error"),
            "scores": result.get("scores") or {},
            "failure_modes": result.get("failure_modes") or [],
            "critique": result.get("critique") or "",
            "confidence": item.confidence,
            "reward": outcome.get("reward"),
        },
    }
    return trajectory


def atif(items: ItemSource, context: ExportContext) -> Chunks:
    for item in items():
        yield json_line(atif_trajectory(item))
