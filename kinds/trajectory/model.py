"""The step model every imported run is turned into, and what the rest of the kind reads from it.

``data = {"instruction", "tools"?: [{"name", "description"?, "parameters"?}], "steps": [{"id",
"source", "type", "content"?, "tool"?: {"name", "arguments"}, "call_id"?, "image"?, "click"?,
"metrics"?}], "outcome"?: {"reward"?, "verifier"?, "notes"?}, "metadata"?: {…}}``.

Pure functions on plain dicts (no Django), shared by the kind, its importers, metrics and writers.
"""

import json

SOURCES = ("user", "agent", "system", "environment")
TYPES = ("message", "reasoning", "tool_call", "observation", "error", "screenshot")
STEP_METRICS = ("latency_ms", "input_tokens", "output_tokens", "cost_usd")


def judged_steps(data: dict) -> list[dict]:
    """The steps people judge: every step the agent took (its messages, reasoning, tool calls)."""
    return [step for step in data.get("steps") or [] if step.get("source") == "agent"]


def judged_ids(data: dict) -> list[str]:
    return [step["id"] for step in judged_steps(data)]


def arguments_text(arguments: object) -> str:
    """A tool call's arguments as JSON text (a string that is already JSON is kept as it is)."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False, sort_keys=True)


def step_text(step: dict) -> str:
    """One step in words, for a reward model or a diff: a tool call as ``name(arguments)``."""
    if step.get("type") == "tool_call" and isinstance(step.get("tool"), dict):
        tool = step["tool"]
        return f"{tool.get('name', '')}({arguments_text(tool.get('arguments', {}))})"
    text = step.get("content") or ""
    if step.get("type") == "reasoning":
        return f"(thinking) {text}"
    return text


def run_figures(data: dict) -> dict:
    """What the run header shows: counts, and time, tokens and cost where the trace has them."""
    steps = data.get("steps") or []
    totals = dict.fromkeys(STEP_METRICS, 0)
    seen = dict.fromkeys(STEP_METRICS, False)
    for step in steps:
        for name, value in (step.get("metrics") or {}).items():
            if name in totals and isinstance(value, int | float) and not isinstance(value, bool):
                totals[name] += value
                seen[name] = True
    return {
        "steps": len(steps),
        "agent_steps": sum(1 for s in steps if s.get("source") == "agent"),
        "tool_calls": sum(1 for s in steps if s.get("type") == "tool_call"),
        "errors": sum(1 for s in steps if s.get("type") == "error"),
        "seconds": round(totals["latency_ms"] / 1000, 1) if seen["latency_ms"] else None,
        "input_tokens": totals["input_tokens"] if seen["input_tokens"] else None,
        "output_tokens": totals["output_tokens"] if seen["output_tokens"] else None,
        "cost_usd": round(totals["cost_usd"], 4) if seen["cost_usd"] else None,
    }
