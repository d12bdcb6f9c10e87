"""The formats agents write, turned into LabelHub's step model (:mod:`kinds.trajectory.model`).

Each converter takes one imported row (one run) and returns the step model, or raises a
``ValidationError`` keyed by the path of the wrong field in the row (``data.messages.3.tool_calls.0
.function.arguments``), so that the import names the row and the field and imports nothing.
A row's format is detected from its keys, or named on the import (``?format=atif``).

==================  ===========================================================================
``steps``           LabelHub's own step model, as is.
``openai``          OpenAI chat: ``messages`` with ``tool_calls`` (``function.arguments`` as JSON
                    text) and ``role: "tool"`` replies by ``tool_call_id``; ``tools`` as
                    ``{"type": "function", "function": {name, description, parameters}}``.
``anthropic``       Anthropic Messages: ``system``, ``messages`` whose ``content`` is text or
                    blocks (``text``, ``thinking``, ``tool_use {id, name, input}``,
                    ``tool_result {tool_use_id, content, is_error}``, ``image``); ``tools`` with
                    ``input_schema``.
``openai_agents``   An OpenAI Agents SDK trace export: ``{"trace"?, "spans": [...]}`` or the
                    exporter's batch ``{"data": [trace, span, ...]}``; spans' ``span_data`` of
                    type ``agent``, ``generation``, ``function``, ``handoff``, ``guardrail``
                    (``response`` and ``custom`` spans carry no step).
``otel``            OpenTelemetry GenAI spans in OTLP JSON (``resourceSpans[].scopeSpans[].spans``
                    with ``attributes`` as ``{key, value: {stringValue | intValue | …}}``):
                    ``gen_ai.operation.name`` ``chat`` / ``execute_tool`` / ``invoke_agent``,
                    ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (parts ``text``,
                    ``reasoning``, ``tool_call``, ``tool_call_response``), ``gen_ai.tool.name``,
                    ``gen_ai.tool.call.id``, ``gen_ai.tool.call.arguments``,
                    ``gen_ai.tool.call.result``, ``gen_ai.usage.*``, ``gen_ai.tool.definitions``
                    (the run's tools); without ``execute_tool`` spans, the tools' answers
                    from ``tool_call_response`` parts of later chat spans' input messages.
``atif``            Harbor's Agent Trajectory Interchange Format: ``schema_version`` "ATIF-v1.x",
                    ``agent`` (``tool_definitions`` become the run's tools), ``steps[{step_id,
                    source, message (text or text/image parts), reasoning_content, tool_calls
                    [{tool_call_id, function_name, arguments}], observation{results
                    [{source_call_id, content}]}, metrics}]``, ``final_metrics``; the reward
                    from the root ``extra`` (ATIF has no reward field). Each ATIF step's other
                    fields (``timestamp``, ``model_name``…) and which of our steps it became are
                    kept in ``metadata.atif.steps``, so the ATIF export gives the run back.
``swe_agent``       SWE-agent ``.traj``: ``trajectory[{thought, action, observation,
                    execution_time}]``, ``history`` (the problem statement is its first user
                    turn), ``info{exit_status, submission, model_stats}`` (the cost and tokens
                    in total, on the last agent step).
==================  ===========================================================================

What a person needs to judge the run is kept: texts, reasoning, every call with its arguments and
result, errors, timing, tokens and cost; the format's own identifiers go to ``metadata``.
"""

import json
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError

FORMATS = {
    "steps": "LabelHub steps",
    "openai": "OpenAI chat messages with tool calls",
    "anthropic": "Anthropic Messages content blocks",
    "openai_agents": "OpenAI Agents SDK trace",
    "otel": "OpenTelemetry GenAI spans (OTLP JSON)",
    "atif": "Harbor ATIF trajectory",
    "swe_agent": "SWE-agent .traj",
}


class Refused(Exception):
    """A wrong field in the row: where (a path under ``data``) and why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path, self.message = path, message


def _need(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise Refused(path, message)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text_of(value: Any) -> str:
    """Content that may be text, a list of text parts, or any JSON, as text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):
        texts = [p.get("text") or p.get("content") for p in value]
        if all(isinstance(t, str) for t in texts):
            return "\n".join(texts)
    return json.dumps(value, ensure_ascii=False, indent=2)


def _json_arguments(text: Any, path: str) -> Any:
    """Tool-call arguments given as JSON text, parsed (an object); any other JSON is refused."""
    if isinstance(text, dict):
        return text
    _need(isinstance(text, str), path, "The arguments are JSON text or an object.")
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise Refused(path, f"The arguments are not valid JSON ({error.msg}).") from None
    _need(isinstance(value, dict), path, "The arguments are a JSON object.")
    return value


class _Run:
    """Steps as they are read, with ids in order, and where each came from in the row: the
    path of the object it was read from (``here`` unless given) and, per field of the step
    model, the field of that object (``{"call_id": "id"}``), so that a problem the kind's
    ``clean_data`` finds in the converted run names the user's field (:meth:`user_path`)."""

    def __init__(self, main: str) -> None:
        self.steps: list[dict] = []
        self.instruction = ""
        self.main = main  # the list of the row that holds the run
        self.here = main
        self.sources: list[tuple[str, dict[str, str]]] = []
        self.tools_at: tuple[str, dict[str, str]] = ("data.tools", {})

    def add(
        self, source: str, kind: str, *, at: str = "", fields: dict | None = None, **values: Any
    ) -> dict:
        step = {"id": str(len(self.steps) + 1), "source": source, "type": kind}
        step.update({k: v for k, v in values.items() if v is not None})
        self.steps.append(step)
        self.sources.append((at or self.here, fields or {}))
        return step

    def done(self, **extra: Any) -> "Converted":
        data = {"instruction": self.instruction, "steps": self.steps}
        data.update({k: v for k, v in extra.items() if v})
        return Converted(data, self.user_path)

    def user_path(self, path: str) -> str:
        """A path in the converted run (``data.steps.4.call_id``) as the field of the row it
        came from (``data.messages.3.tool_calls.0.id``); the object itself when the field has
        no counterpart there."""
        parts = path.split(".")
        if len(parts) >= 3 and parts[1] in ("steps", "tools") and parts[2].isdigit():
            i, rest = int(parts[2]), ".".join(parts[3:])
            if parts[1] == "steps" and i < len(self.sources):
                where, fields = self.sources[i]
            elif parts[1] == "tools":
                where, fields = f"{self.tools_at[0]}.{i}", self.tools_at[1]
            else:
                return self.main
            for ours in sorted(fields, key=len, reverse=True):
                if rest == ours or rest.startswith(ours + "."):
                    theirs = fields[ours] + rest[len(ours) :]
                    return f"{where}.{theirs}" if theirs else where
            return where
        if path in ("data.steps", "data.tools"):
            return self.main if path == "data.steps" else self.tools_at[0]
        return path


class Converted(NamedTuple):
    """A row converted into the step model, with the way back to the row's own fields."""

    data: dict
    user_path: Callable[[str], str]
    format: str = ""


TOOL_FIELDS = ("name", "description", "parameters")
OPENAI_CALL = {
    "call_id": "id",
    "tool.name": "function.name",
    "tool.arguments": "function.arguments",
}
OTEL_CALL = {"call_id": "id", "tool.name": "name", "tool.arguments": "arguments"}
OPENAI_REPLY = {"call_id": "tool_call_id", "content": "content"}


# --- OpenAI chat ---------------------------------------------------------------------------


def _openai_tools(tools: Any, path: str) -> list[dict]:
    if tools is None:
        return []
    _need(isinstance(tools, list), path, "Tools are a list.")
    out = []
    for i, tool in enumerate(tools):
        where = f"{path}.{i}"
        _need(isinstance(tool, dict), where, "A tool is an object.")
        function = tool.get("function", tool)
        _need(
            isinstance(function, dict) and isinstance(function.get("name"), str),
            f"{where}.function.name",
            "A tool names its function.",
        )
        entry = {"name": function["name"]}
        if isinstance(function.get("description"), str):
            entry["description"] = function["description"]
        if isinstance(function.get("parameters"), dict):
            entry["parameters"] = function["parameters"]
        out.append(entry)
    return out


def from_openai(row: dict) -> dict:
    messages = row.get("messages")
    _need(isinstance(messages, list) and messages, "data.messages", "Messages are a list.")
    run = _Run("data.messages")
    wrapped = any(isinstance(t, dict) and "function" in t for t in row.get("tools") or [])
    run.tools_at = ("data.tools", {k: f"function.{k}" for k in TOOL_FIELDS} if wrapped else {})
    calls: set[str] = set()
    for i, message in enumerate(messages):
        path = run.here = f"data.messages.{i}"
        _need(isinstance(message, dict), path, "A message is an object {role, content}.")
        role = message.get("role")
        _need(
            role in ("system", "developer", "user", "assistant", "tool"),
            f"{path}.role",
            "A role is system, developer, user, assistant or tool.",
        )
        content = _text_of(message.get("content"))
        if role in ("system", "developer"):
            run.add("system", "message", content=content or "(empty)")
        elif role == "user":
            if not run.instruction:
                run.instruction = content
            run.add("user", "message", content=content or "(empty)")
        elif role == "assistant":
            reasoning = message.get("reasoning_content") or message.get("reasoning")
            if isinstance(reasoning, str) and reasoning.strip():
                run.add("agent", "reasoning", content=reasoning, fields={"content": "reasoning"})
            if content:
                run.add("agent", "message", content=content, fields={"content": "content"})
            tool_calls = message.get("tool_calls") or []
            _need(isinstance(tool_calls, list), f"{path}.tool_calls", "Tool calls are a list.")
            for j, call in enumerate(tool_calls):
                where = f"{path}.tool_calls.{j}"
                _need(isinstance(call, dict), where, "A tool call is an object.")
                function = call.get("function")
                _need(
                    isinstance(function, dict) and isinstance(function.get("name"), str),
                    f"{where}.function.name",
                    "A tool call names its function.",
                )
                call_id = call.get("id")
                _need(isinstance(call_id, str) and call_id, f"{where}.id", "A tool call has an id.")
                arguments = _json_arguments(
                    function.get("arguments", "{}"), f"{where}.function.arguments"
                )
                run.add(
                    "agent",
                    "tool_call",
                    tool={"name": function["name"], "arguments": arguments},
                    call_id=call_id,
                    at=where,
                    fields=OPENAI_CALL,
                )
                calls.add(call_id)
            if not content and not tool_calls and message.get("refusal"):
                run.add("agent", "message", content=str(message["refusal"]))
        else:
            call_id = message.get("tool_call_id")
            _need(
                isinstance(call_id, str) and call_id in calls,
                f"{path}.tool_call_id",
                "A tool reply names an earlier tool call's id.",
            )
            run.add(
                "environment", "observation", content=content, call_id=call_id, fields=OPENAI_REPLY
            )
    return run.done(tools=_openai_tools(row.get("tools"), "data.tools"))


# --- Anthropic Messages --------------------------------------------------------------------


def from_anthropic(row: dict) -> dict:
    messages = row.get("messages")
    _need(isinstance(messages, list) and messages, "data.messages", "Messages are a list.")
    run = _Run("data.messages")
    run.tools_at = ("data.tools", {"parameters": "input_schema"})
    system = row.get("system")
    if system:
        run.add("system", "message", content=_text_of(system), at="data.system")
    calls: set[str] = set()
    for i, message in enumerate(messages):
        path = f"data.messages.{i}"
        _need(isinstance(message, dict), path, "A message is an object {role, content}.")
        role = message.get("role")
        _need(role in ("user", "assistant"), f"{path}.role", "A role is user or assistant.")
        blocks = message.get("content")
        if isinstance(blocks, str):
            blocks = [{"type": "text", "text": blocks}]
        _need(isinstance(blocks, list), f"{path}.content", "Content is text or a list of blocks.")
        source = "agent" if role == "assistant" else "user"
        for j, block in enumerate(blocks):
            where = run.here = f"{path}.content.{j}"
            _need(isinstance(block, dict), where, "A content block is an object.")
            kind = block.get("type")
            if kind == "text":
                _need(isinstance(block.get("text"), str), f"{where}.text", "A text block has text.")
                if source == "user" and not run.instruction:
                    run.instruction = block["text"]
                run.add(source, "message", content=block["text"], fields={"content": "text"})
            elif kind in ("thinking", "redacted_thinking"):
                thought = block.get("thinking") or "(redacted thinking)"
                run.add("agent", "reasoning", content=thought, fields={"content": "thinking"})
            elif isinstance(kind, str) and (kind == "tool_use" or kind.endswith("_tool_use")):
                # server_tool_use (web search, code execution) and mcp_tool_use as well
                _need(role == "assistant", f"{where}.type", "Only the assistant uses tools.")
                _need(isinstance(block.get("id"), str), f"{where}.id", "A tool use has an id.")
                _need(isinstance(block.get("name"), str), f"{where}.name", "A tool use names it.")
                arguments = block.get("input", {})
                _need(isinstance(arguments, dict), f"{where}.input", "The input is an object.")
                run.add(
                    "agent",
                    "tool_call",
                    tool={"name": block["name"], "arguments": arguments},
                    call_id=block["id"],
                    fields={"call_id": "id", "tool.name": "name", "tool.arguments": "input"},
                )
                calls.add(block["id"])
            elif isinstance(kind, str) and (kind == "tool_result" or kind.endswith("_tool_result")):
                # a server tool's result (web_search_tool_result…) sits in the assistant's turn
                call_id = block.get("tool_use_id")
                _need(
                    isinstance(call_id, str) and call_id in calls,
                    f"{where}.tool_use_id",
                    "A tool result names an earlier tool use's id.",
                )
                texts = block.get("content")
                images = []
                if isinstance(texts, list):
                    images = [b for b in texts if isinstance(b, dict) and b.get("type") == "image"]
                    texts = [
                        b for b in texts if not (isinstance(b, dict) and b.get("type") == "image")
                    ]
                failed = block.get("is_error") is True or (
                    isinstance(texts, dict) and str(texts.get("type", "")).endswith("_error")
                )
                step_kind = "error" if failed else "observation"
                run.add(
                    "environment",
                    step_kind,
                    content=_text_of(texts) or ("(image)" if images else "(empty)"),
                    call_id=call_id,
                    image=_anthropic_image(images[0]) if images else None,
                    fields={"call_id": "tool_use_id", "content": "content", "image": "content"},
                )
            elif kind == "image":
                run.add(
                    source, "screenshot", image=_anthropic_image(block), fields={"image": "source"}
                )
            else:
                raise Refused(f"{where}.type", f"Unknown content block type {kind!r}.")
    tools = []
    for i, tool in enumerate(row.get("tools") or []):
        _need(
            isinstance(tool, dict) and isinstance(tool.get("name"), str),
            f"data.tools.{i}.name",
            "A tool has a name.",
        )
        entry = {"name": tool["name"]}
        if isinstance(tool.get("description"), str):
            entry["description"] = tool["description"]
        if isinstance(tool.get("input_schema"), dict):
            entry["parameters"] = tool["input_schema"]
        tools.append(entry)
    return run.done(tools=tools)


def _anthropic_image(block: dict) -> str | None:
    source = block.get("source") or {}
    if source.get("type") == "url":
        return source.get("url")
    if source.get("type") == "base64" and source.get("media_type", "").startswith("image/"):
        return f"data:{source['media_type']};base64,{source.get('data', '')}"
    return None


# --- OpenAI Agents SDK ---------------------------------------------------------------------


def _iso_ms(start: Any, end: Any) -> float | None:
    from datetime import datetime

    try:
        begin = datetime.fromisoformat(str(start))
        finish = datetime.fromisoformat(str(end))
    except ValueError:
        return None
    return max((finish - begin).total_seconds() * 1000, 0.0)


def _index_order(path: str) -> list:
    return [int(part) if part.isdigit() else -1 for part in path.split(".")]


def _one_trace(ids: list[tuple[str, Any]]) -> None:
    """A row is one run: refuse a second trace id, at the first field that carries it."""
    seen: list[str] = []
    for path, trace_id in ids:
        if trace_id in (None, "") or trace_id in seen:
            continue
        seen.append(str(trace_id))
        if len(seen) > 1:
            raise Refused(
                path,
                f"A second trace ({trace_id}; the first is {seen[0]}): a row is one run. "
                "Give each trace its own row (one line of a JSONL file per trace).",
            )


def from_openai_agents(row: dict) -> dict:
    if isinstance(row.get("data"), list):
        items, base = row["data"], "data.data"
        trace = next((x for x in items if isinstance(x, dict) and x.get("object") == "trace"), {})
        spans = [
            (i, x)
            for i, x in enumerate(items)
            if isinstance(x, dict) and x.get("object") != "trace"
        ]
    else:
        trace, base = row.get("trace") or {}, "data.spans"
        _need(isinstance(row.get("spans"), list), "data.spans", "The spans are a list.")
        spans = list(enumerate(row["spans"]))
    traces = [(f"{base}.{i}.trace_id", x.get("trace_id")) for i, x in spans if isinstance(x, dict)]
    if isinstance(row.get("data"), list):
        traces += [
            (f"data.data.{i}.id", x.get("id"))
            for i, x in enumerate(row["data"])
            if isinstance(x, dict) and x.get("object") == "trace"
        ]
    elif isinstance(trace, dict) and trace.get("id"):
        traces.insert(0, ("data.trace.id", trace["id"]))
    _one_trace(sorted(traces, key=lambda pair: _index_order(pair[0])))
    run = _Run(base)
    run.instruction = str(row.get("instruction") or "")
    metadata = {
        key: trace.get(key)
        for key in ("id", "workflow_name", "group_id", "metadata")
        if trace.get(key) is not None
    }
    ordered = sorted(spans, key=lambda pair: str(pair[1].get("started_at") or ""))
    calls = 0
    for i, span in ordered:
        path = run.here = f"{base}.{i}"
        _need(isinstance(span, dict), path, "A span is an object.")
        data = span.get("span_data")
        _need(isinstance(data, dict), f"{path}.span_data", "A span has its span_data.")
        kind = data.get("type")
        latency = _iso_ms(span.get("started_at"), span.get("ended_at"))
        figures = {"latency_ms": round(latency, 1)} if latency is not None else None
        if kind == "agent":
            tools = ", ".join(data.get("tools") or [])
            run.add(
                "system",
                "message",
                content=f"Agent {data.get('name', '?')} starts"
                + (f" (tools: {tools})" if tools else ""),
            )
        elif kind == "generation":
            inputs = data.get("input") or []
            if not run.instruction and isinstance(inputs, list):
                first_user = next(
                    (m for m in inputs if isinstance(m, dict) and m.get("role") == "user"), None
                )
                if first_user:
                    run.instruction = _text_of(first_user.get("content"))
                    run.add("user", "message", content=run.instruction)
            usage = data.get("usage") or {}
            figures = dict(figures or {})
            for ours, theirs in (
                ("input_tokens", "input_tokens"),
                ("output_tokens", "output_tokens"),
            ):
                if isinstance(usage.get(theirs), int):
                    figures[ours] = usage[theirs]
            outputs = data.get("output") or []
            _need(isinstance(outputs, list), f"{path}.span_data.output", "The output is a list.")
            texts = [
                _text_of(m.get("content"))
                for m in outputs
                if isinstance(m, dict) and m.get("content")
            ]
            run.add(
                "agent", "message", content="\n".join(texts) or "(no text)", metrics=figures or None
            )
        elif kind == "function":
            _need(
                isinstance(data.get("name"), str),
                f"{path}.span_data.name",
                "A function span names it.",
            )
            arguments = _json_arguments(data.get("input") or "{}", f"{path}.span_data.input")
            calls += 1
            call_id = str(span.get("span_id") or span.get("id") or f"call-{calls}")
            run.add(
                "agent",
                "tool_call",
                tool={"name": data["name"], "arguments": arguments},
                call_id=call_id,
                metrics=figures,
                fields={"tool.name": "span_data.name", "tool.arguments": "span_data.input"},
            )
            error = span.get("error")
            if error:
                message = error.get("message") if isinstance(error, dict) else str(error)
                run.add("environment", "error", content=str(message), call_id=call_id)
            else:
                run.add(
                    "environment",
                    "observation",
                    content=_text_of(data.get("output")),
                    call_id=call_id,
                )
        elif kind == "handoff":
            run.add(
                "agent",
                "message",
                content=f"Hands off from {data.get('from_agent', '?')} "
                f"to {data.get('to_agent', '?')}",
            )
        elif kind == "guardrail":
            triggered = data.get("triggered") is True
            run.add(
                "environment",
                "error" if triggered else "observation",
                content=f"Guardrail {data.get('name', '?')} "
                + ("triggered" if triggered else "passed"),
            )
        elif kind in ("response", "custom", "mcp_tools", "transcription", "speech", "speech_group"):
            continue
        else:
            raise Refused(f"{path}.span_data.type", f"Unknown span type {kind!r}.")
    return run.done(metadata={"openai_agents": metadata} if metadata else None)


# --- OpenTelemetry GenAI (OTLP JSON) -------------------------------------------------------


def _otlp_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_otlp_value(v) for v in value["arrayValue"].get("values") or []]
    if "kvlistValue" in value:
        return {
            kv.get("key"): _otlp_value(kv.get("value"))
            for kv in value["kvlistValue"].get("values") or []
        }
    return None


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def from_otel(row: dict) -> dict:
    resources = row.get("resourceSpans")
    _need(isinstance(resources, list), "data.resourceSpans", "OTLP JSON has resourceSpans.")
    spans = []
    for r, resource in enumerate(resources):
        _need(isinstance(resource, dict), f"data.resourceSpans.{r}", "A resource is an object.")
        for s, scope in enumerate(resource.get("scopeSpans") or []):
            for k, span in enumerate(scope.get("spans") or []):
                path = f"data.resourceSpans.{r}.scopeSpans.{s}.spans.{k}"
                _need(isinstance(span, dict), path, "A span is an object.")
                attributes = span.get("attributes") or []
                _need(isinstance(attributes, list), f"{path}.attributes", "Attributes are a list.")
                values = {
                    a.get("key"): _otlp_value(a.get("value"))
                    for a in attributes
                    if isinstance(a, dict)
                }
                spans.append((path, span, values))
    _need(bool(spans), "data.resourceSpans", "The trace has no spans.")
    _one_trace([(f"{path}.traceId", span.get("traceId")) for path, span, _ in spans])
    spans.sort(key=lambda item: int(item[1].get("startTimeUnixNano") or 0))
    run = _Run("data.resourceSpans")
    calls: set[str] = set()
    answered: set[str] = set()  # calls whose result is a step already
    tools: list[dict] = []
    model = None
    for path, span, values in spans:
        run.here = path
        operation = values.get("gen_ai.operation.name")
        if not tools and values.get("gen_ai.tool.definitions") is not None:
            run.tools_at = (f"{path}.attributes.gen_ai.tool.definitions", {})
            tools = _openai_tools(
                _maybe_json(values["gen_ai.tool.definitions"]),
                f"{path}.attributes.gen_ai.tool.definitions",
            )
        start, end = span.get("startTimeUnixNano"), span.get("endTimeUnixNano")
        figures: dict = {}
        if start and end:
            figures["latency_ms"] = round((int(end) - int(start)) / 1e6, 1)
        for ours in ("input_tokens", "output_tokens"):
            if isinstance(values.get(f"gen_ai.usage.{ours}"), int):
                figures[ours] = values[f"gen_ai.usage.{ours}"]
        failed = (span.get("status") or {}).get("code") in (2, "STATUS_CODE_ERROR")
        if operation == "chat" or operation == "text_completion":
            model = model or values.get("gen_ai.request.model")
            if not run.steps:
                system = _maybe_json(values.get("gen_ai.system_instructions"))
                if system:
                    run.add("system", "message", content=_text_of(system))
                for m in _maybe_json(values.get("gen_ai.input.messages")) or []:
                    if isinstance(m, dict) and m.get("role") in ("user", "system"):
                        text = _parts_text(m.get("parts"))
                        if m["role"] == "user" and not run.instruction:
                            run.instruction = text
                        run.add(m["role"], "message", content=text or "(empty)")
            _tool_replies(run, values, path, calls=calls, answered=answered)
            output = _maybe_json(values.get("gen_ai.output.messages"))
            _need(
                output is None or isinstance(output, list),
                f"{path}.attributes.gen_ai.output.messages",
                "Output messages are a JSON list.",
            )
            first = True
            for m, message in enumerate(output or []):
                for p, part in enumerate((message or {}).get("parts") or []):
                    where = f"{path}.attributes.gen_ai.output.messages.{m}.parts.{p}"
                    _need(isinstance(part, dict), where, "A part is an object.")
                    step_figures = figures if first else None
                    first = False
                    if part.get("type") == "text":
                        run.add(
                            "agent",
                            "message",
                            content=str(part.get("content", "")),
                            metrics=step_figures or None,
                        )
                    elif part.get("type") == "reasoning":
                        run.add(
                            "agent",
                            "reasoning",
                            content=str(part.get("content", "")),
                            metrics=step_figures or None,
                        )
                    elif part.get("type") == "tool_call":
                        _need(
                            isinstance(part.get("name"), str),
                            f"{where}.name",
                            "A tool call names it.",
                        )
                        call_id = str(part.get("id") or f"call-{len(calls) + 1}")
                        arguments = part.get("arguments", {})
                        if isinstance(arguments, str):
                            arguments = _json_arguments(arguments, f"{where}.arguments")
                        run.add(
                            "agent",
                            "tool_call",
                            tool={"name": part["name"], "arguments": arguments},
                            call_id=call_id,
                            metrics=step_figures or None,
                            at=where,
                            fields=OTEL_CALL,
                        )
                        calls.add(call_id)
        elif operation == "execute_tool":
            name = values.get("gen_ai.tool.name")
            _need(
                isinstance(name, str),
                f"{path}.attributes.gen_ai.tool.name",
                "A tool span names its tool.",
            )
            call_id = str(values.get("gen_ai.tool.call.id") or span.get("spanId") or "")
            if call_id not in calls:
                arguments = _maybe_json(values.get("gen_ai.tool.call.arguments"))
                if isinstance(arguments, str):
                    arguments = _json_arguments(
                        arguments, f"{path}.attributes.gen_ai.tool.call.arguments"
                    )
                run.add(
                    "agent",
                    "tool_call",
                    tool={"name": name, "arguments": arguments or {}},
                    call_id=call_id,
                )
                calls.add(call_id)
            result = values.get("gen_ai.tool.call.result")
            answered.add(call_id)
            if failed:
                message = (
                    (span.get("status") or {}).get("message") or values.get("error.type") or "error"
                )
                run.add(
                    "environment",
                    "error",
                    content=str(message),
                    call_id=call_id,
                    metrics=figures or None,
                )
            else:
                run.add(
                    "environment",
                    "observation",
                    content=_text_of(_maybe_json(result))
                    if result is not None
                    else "(no result recorded)",
                    call_id=call_id,
                    metrics=figures or None,
                )
        elif operation in ("invoke_agent", "create_agent") and failed:
            run.add(
                "environment",
                "error",
                content=str((span.get("status") or {}).get("message") or "The agent failed."),
            )
        # Other spans (HTTP, database, embeddings) are not steps of the agent.
    _need(
        bool(run.steps), "data.resourceSpans", "No GenAI span (gen_ai.operation.name) in the trace."
    )
    return run.done(tools=tools, metadata={"model": model} if model else None)


def _tool_replies(run: _Run, values: dict, path: str, *, calls: set, answered: set) -> None:
    """The tool results a chat span's input messages carry (``tool_call_response`` parts) that
    no ``execute_tool`` span gave: a trace of chat spans alone keeps what each tool answered."""
    inputs = _maybe_json(values.get("gen_ai.input.messages"))
    if not isinstance(inputs, list):
        return
    for m, message in enumerate(inputs):
        parts = message.get("parts") if isinstance(message, dict) else None
        for p, part in enumerate(parts if isinstance(parts, list) else []):
            if not isinstance(part, dict) or part.get("type") != "tool_call_response":
                continue
            call_id = part.get("id")
            _need(
                isinstance(call_id, str) and call_id,
                f"{path}.attributes.gen_ai.input.messages.{m}.parts.{p}.id",
                "A tool call response names its tool call's id.",
            )
            if call_id in answered or call_id not in calls:
                continue  # given already, or a reply to a call from before the trace
            answered.add(call_id)
            run.add(
                "environment",
                "observation",
                content=_text_of(part.get("response")) or "(empty)",
                call_id=call_id,
            )


def _parts_text(parts: Any) -> str:
    if not isinstance(parts, list):
        return _text_of(parts)
    texts = []
    for part in parts:
        if isinstance(part, dict) and part.get("type") == "text":
            texts.append(str(part.get("content", "")))
        elif isinstance(part, dict) and part.get("type") == "tool_call_response":
            texts.append(_text_of(part.get("response")))
    return "\n".join(texts)


# --- Harbor ATIF ---------------------------------------------------------------------------


ATIF_CONVERTED = ("step_id", "source", "message", "reasoning_content", "tool_calls", "observation")


def _image_url(path: Any, where: str) -> str:
    """An image's location as LabelHub shows it: an http(s) URL, a site path or a data URL."""
    _need(isinstance(path, str) and path, where, "An image names its location.")
    _need(
        path.startswith(("https://", "http://", "/", "data:image/")),
        where,
        "LabelHub shows images from an http(s) URL, a site path or a data URL, not a file path.",
    )
    return path


def _atif_content(value: Any, path: str) -> tuple[str, list[str]]:
    """ATIF content (text, or a list of ContentParts): its text and its images' locations."""
    if value is None or isinstance(value, str):
        return value or "", []
    _need(isinstance(value, list), path, "Content is text or a list of content parts.")
    texts, images = [], []
    for k, part in enumerate(value):
        where = f"{path}.{k}"
        _need(isinstance(part, dict), where, "A content part is an object {type, …}.")
        kind = part.get("type")
        if kind == "text":
            _need(isinstance(part.get("text"), str), f"{where}.text", "A text part has text.")
            texts.append(part["text"])
        elif kind == "image":
            source = part.get("source")
            _need(isinstance(source, dict), f"{where}.source", "An image part has its source.")
            images.append(_image_url(source.get("path"), f"{where}.source.path"))
        else:
            raise Refused(f"{where}.type", f"LabelHub reads text and image parts, not {kind!r}.")
    return "\n".join(texts), images


def _atif_reward(row: dict) -> float | None:
    """ATIF has no reward field: the trajectory's own ``extra`` carries it (``extra.reward``, or
    the ``rewards`` of Harbor's verifier result, ``extra.rewards.reward``)."""
    extra = row.get("extra")
    if not isinstance(extra, dict):
        return None
    if _is_number(extra.get("reward")):
        return extra["reward"]
    rewards = extra.get("rewards")
    if isinstance(rewards, dict) and _is_number(rewards.get("reward")):
        return rewards["reward"]
    return None


def from_atif(row: dict) -> dict:
    steps = row.get("steps")
    _need(isinstance(steps, list) and steps, "data.steps", "An ATIF trajectory has steps.")
    _need(
        "verifier_result" not in row,
        "data.verifier_result",
        "Not part of ATIF (Harbor keeps it in the trial's result.json): put the reward in the "
        "trajectory's extra.reward.",
    )
    agent = row.get("agent") or {}
    _need(isinstance(agent, dict), "data.agent", "The agent is an object {name, version, …}.")
    run = _Run("data.steps")
    run.tools_at = ("data.agent.tool_definitions", {k: f"function.{k}" for k in TOOL_FIELDS})
    calls: set[str] = set()
    kept_steps = []
    for i, step in enumerate(steps):
        path = run.here = f"data.steps.{i}"
        _need(isinstance(step, dict), path, "A step is an object.")
        source = step.get("source")
        _need(
            source in ("user", "agent", "system"),
            f"{path}.source",
            "A source is user, agent or system.",
        )
        first = len(run.steps)
        figures = {}
        metrics = step.get("metrics") or {}
        _need(isinstance(metrics, dict), f"{path}.metrics", "Metrics are an object.")
        for ours, theirs in (
            ("input_tokens", "prompt_tokens"),
            ("output_tokens", "completion_tokens"),
            ("cost_usd", "cost_usd"),
        ):
            if _is_number(metrics.get(theirs)):
                figures[ours] = metrics[theirs]
        message, images = _atif_content(step.get("message"), f"{path}.message")
        if source == "user" and message and not run.instruction:
            run.instruction = message
        if step.get("reasoning_content"):
            run.add(
                "agent",
                "reasoning",
                content=str(step["reasoning_content"]),
                metrics=figures or None,
                fields={"content": "reasoning_content"},
            )
            figures = {}
        if message:
            run.add(
                source,
                "message",
                content=message,
                metrics=figures or None,
                fields={"content": "message"},
            )
            figures = {}
        for image in images:
            run.add(
                source,
                "screenshot",
                image=image,
                metrics=figures or None,
                fields={"image": "message"},
            )
            figures = {}
        tool_calls = step.get("tool_calls") or []
        _need(isinstance(tool_calls, list), f"{path}.tool_calls", "Tool calls are a list.")
        for j, call in enumerate(tool_calls):
            where = f"{path}.tool_calls.{j}"
            _need(isinstance(call, dict), where, "A tool call is an object.")
            _need(
                isinstance(call.get("function_name"), str) and call["function_name"].strip(),
                f"{where}.function_name",
                "A tool call names its function.",
            )
            call_id = call.get("tool_call_id")
            _need(
                isinstance(call_id, str) and call_id,
                f"{where}.tool_call_id",
                "A tool call has an id.",
            )
            _need(
                call_id not in calls, f"{where}.tool_call_id", f"The id {call_id!r} is used twice."
            )
            arguments = call.get("arguments", {})
            if isinstance(arguments, str):
                arguments = _json_arguments(arguments, f"{where}.arguments")
            _need(isinstance(arguments, dict), f"{where}.arguments", "The arguments are an object.")
            run.add(
                "agent",
                "tool_call",
                tool={"name": call["function_name"], "arguments": arguments},
                call_id=call_id,
                metrics=figures or None,
                at=where,
                fields={"call_id": "tool_call_id", "tool.name": "function_name",
                        "tool.arguments": "arguments"},
            )  # fmt: skip
            figures = {}
            calls.add(call_id)
        observation = step.get("observation")
        if observation is not None:
            _need(
                isinstance(observation, dict) and isinstance(observation.get("results"), list),
                f"{path}.observation",
                "An observation is an object {results}.",
            )
            for j, result in enumerate(observation["results"]):
                where = f"{path}.observation.results.{j}"
                _need(isinstance(result, dict), where, "A result is an object.")
                call_id = result.get("source_call_id")
                _need(
                    call_id is None or call_id in calls,
                    f"{where}.source_call_id",
                    "A result names an earlier tool call's id.",
                )
                text, shots = _atif_content(result.get("content"), f"{where}.content")
                run.add(
                    "environment",
                    "observation",
                    content=text if text or not shots else None,
                    call_id=call_id,
                    image=shots[0] if shots else None,
                    at=where,
                    fields={"call_id": "source_call_id", "content": "content", "image": "content"},
                )
                for shot in shots[1:]:
                    run.add("environment", "screenshot", image=shot)
        if source == "agent" and len(run.steps) == first:
            run.add("agent", "message", content="(empty step)")
        kept = {key: value for key, value in step.items() if key not in ATIF_CONVERTED}
        kept_steps.append(
            {
                "step_id": step.get("step_id", i + 1),
                "source": source,
                "ids": [s["id"] for s in run.steps[first:]],
                **kept,
            }
        )
    outcome = {}
    reward = _atif_reward(row)
    if reward is not None:
        outcome["reward"] = reward
    tools = _openai_tools(agent.get("tool_definitions"), "data.agent.tool_definitions")
    kept_agent = {key: value for key, value in agent.items() if key != "tool_definitions"}
    metadata = {
        "atif": {
            key: row[key]
            for key in ("schema_version", "session_id", "trajectory_id", "notes", "extra")
            if key in row
        }
    }
    metadata["atif"]["agent"] = kept_agent
    metadata["atif"]["steps"] = kept_steps
    if row.get("final_metrics"):
        metadata["atif"]["final_metrics"] = row["final_metrics"]
    return run.done(tools=tools, outcome=outcome or None, metadata=metadata)


# --- SWE-agent .traj -----------------------------------------------------------------------


def from_swe_agent(row: dict) -> dict:
    trajectory = row.get("trajectory")
    _need(
        isinstance(trajectory, list) and trajectory,
        "data.trajectory",
        "A .traj has a trajectory list.",
    )
    run = _Run("data.trajectory")
    for i, message in enumerate(row.get("history") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            run.instruction = _text_of(message.get("content"))
            break
        _need(isinstance(message, dict), f"data.history.{i}", "A history entry is an object.")
    if run.instruction:
        run.add("user", "message", content=run.instruction, at="data.history")
    for i, step in enumerate(trajectory):
        path = run.here = f"data.trajectory.{i}"
        _need(isinstance(step, dict), path, "A trajectory step is an object.")
        action = step.get("action")
        _need(
            isinstance(action, str) and action.strip(),
            f"{path}.action",
            "A step has its action (text).",
        )
        thought = step.get("thought")
        _need(thought is None or isinstance(thought, str), f"{path}.thought", "A thought is text.")
        figures = None
        if isinstance(step.get("execution_time"), int | float):
            figures = {"latency_ms": round(step["execution_time"] * 1000, 1)}
        if thought and thought.strip():
            run.add("agent", "reasoning", content=thought, fields={"content": "thought"})
        command = action.strip()
        call_id = f"action-{i + 1}"
        run.add(
            "agent",
            "tool_call",
            tool={"name": command.split()[0], "arguments": {"command": command}},
            call_id=call_id,
        )
        observation = step.get("observation")
        _need(
            observation is None or isinstance(observation, str),
            f"{path}.observation",
            "An observation is text.",
        )
        run.add(
            "environment",
            "observation",
            content=observation or "(no output)",
            call_id=call_id,
            metrics=figures,
        )
    info = row.get("info") or {}
    outcome = {}
    notes = []
    if info.get("exit_status"):
        notes.append(f"exit status: {info['exit_status']}")
    if info.get("submission"):
        notes.append(f"submission:\n{info['submission']}")
    if notes:
        outcome["notes"] = "\n".join(notes)
    stats = info.get("model_stats") or {}
    totals = {
        ours: stats[theirs]
        for ours, theirs in (
            ("cost_usd", "instance_cost"),
            ("input_tokens", "tokens_sent"),
            ("output_tokens", "tokens_received"),
        )
        if _is_number(stats.get(theirs)) and stats[theirs] >= 0
    }
    if totals and run.steps:
        # The run's cost and tokens are known only in total: shown once, on the last agent step.
        last = next(s for s in reversed(run.steps) if s["source"] == "agent")
        last["metrics"] = {**last.get("metrics", {}), **totals}
    return run.done(
        outcome=outcome or None,
        metadata={"swe_agent": {"exit_status": info.get("exit_status")}} if info else None,
    )


# --- detection -----------------------------------------------------------------------------

CONVERTERS: dict[str, Callable[[dict], Converted]] = {
    "steps": lambda row: Converted(row, lambda path: path),
    "openai": from_openai,
    "anthropic": from_anthropic,
    "openai_agents": from_openai_agents,
    "otel": from_otel,
    "atif": from_atif,
    "swe_agent": from_swe_agent,
}

ANTHROPIC_BLOCKS = {"text", "thinking", "redacted_thinking", "tool_use", "tool_result", "image"}


def detect(row: dict) -> str | None:
    """The format a row is in, from its keys; ``None`` when it looks like none of them."""
    if "resourceSpans" in row:
        return "otel"
    if isinstance(row.get("trajectory"), list):
        return "swe_agent"
    steps = row.get("steps")
    if isinstance(steps, list):
        if str(row.get("schema_version", "")).startswith("ATIF") or any(
            isinstance(s, dict) and "step_id" in s for s in steps
        ):
            return "atif"
        return "steps"
    if isinstance(row.get("spans"), list) or (
        isinstance(row.get("data"), list)
        and any(
            isinstance(x, dict) and str(x.get("object", "")).startswith("trace")
            for x in row["data"]
        )
    ):
        return "openai_agents"
    messages = row.get("messages")
    if isinstance(messages, list):
        blocks = [
            b.get("type")
            for m in messages
            if isinstance(m, dict) and isinstance(m.get("content"), list)
            for b in m["content"]
            if isinstance(b, dict)
        ]
        if "system" in row and not any(
            isinstance(m, dict) and m.get("role") == "system" for m in messages
        ):
            return "anthropic"
        if any(
            b in ("thinking", "redacted_thinking")
            or (isinstance(b, str) and b.endswith(("tool_use", "tool_result")))
            for b in blocks
        ):
            return "anthropic"
        return "openai"
    return None


def convert(data: Any, *, format: str = "") -> Converted | Any:
    """One imported row as the step model (with its way back to the row's fields); the format
    named, else detected. Data that is not an object is given back as it is."""
    if not isinstance(data, dict):
        return data  # clean_data says what is wrong
    if format and format not in CONVERTERS:
        raise ValidationError({"format": [f"Unknown format; choose one of {', '.join(FORMATS)}."]})
    name = format or detect(data)
    if name is None:
        raise ValidationError(
            {"data": ["Not an agent run in a format LabelHub reads (" + ", ".join(FORMATS) + ")."]}
        )
    try:
        return CONVERTERS[name](data)._replace(format=name)
    except Refused as refused:
        raise ValidationError({refused.path: [f"{FORMATS[name]}: {refused.message}"]}) from None


def refusal_in_row(error: ValidationError, converted: Converted) -> ValidationError:
    """A problem found in the converted run, keyed by the field of the row it came from."""
    problems: dict[str, list[str]] = {}
    for path, messages in error.message_dict.items():
        where = problems.setdefault(converted.user_path(path), [])
        where.extend(f"{FORMATS[converted.format]}: {message}" for message in messages)
    return ValidationError(problems)
