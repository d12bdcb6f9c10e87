"""Hand-written runs in each format the trajectory kind imports, written from the formats' field
lists (not copied from any tool's output), and a run in LabelHub's own step model."""

import copy
import json

TOOLS = [
    {
        "name": "read_file",
        "description": "Read a file of the repository.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"],
            "additionalProperties": False,
        },
    },
    {
        "name": "run_tests",
        "description": "Run the test suite, or one test file.",
        "parameters": {
            "type": "object",
            "properties": {"target": {"type": "string"}, "verbose": {"type": "boolean"}},
        },
    },
]

STEPS = {
    "instruction": "The test test_total fails. Find out why and fix it.",
    "tools": TOOLS,
    "steps": [
        {"id": "u1", "source": "user", "type": "message",
         "content": "The test test_total fails. Find out why and fix it."},
        {"id": "a1", "source": "agent", "type": "reasoning",
         "content": "I should run the failing test first."},
        {"id": "a2", "source": "agent", "type": "tool_call",
         "tool": {"name": "run_tests", "arguments": {"target": "tests/test_cart.py"}},
         "call_id": "c1", "metrics": {"input_tokens": 900, "output_tokens": 40, "cost_usd": 0.002}},
        {"id": "o1", "source": "environment", "type": "observation", "call_id": "c1",
         "content": "FAILED test_total: assert 30 == 33", "metrics": {"latency_ms": 1200}},
        {"id": "a3", "source": "agent", "type": "tool_call",
         "tool": {"name": "read_file", "arguments": {"path": "README.md"}}, "call_id": "c2",
         "metrics": {"input_tokens": 1000, "output_tokens": 30, "cost_usd": 0.002}},
        {"id": "o2", "source": "environment", "type": "observation", "call_id": "c2",
         "content": "# Cart\nA shopping cart."},
        {"id": "a4", "source": "agent", "type": "message",
         "content": "The test expects tax to be included; I changed the test to expect 30."},
    ],
    "outcome": {"reward": 0.0, "notes": "tests still fail upstream"},
}  # fmt: skip

OPENAI = {
    "messages": [
        {"role": "system", "content": "You are a coding agent."},
        {"role": "user", "content": "The test test_total fails. Find out why and fix it."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "run_tests",
                        "arguments": '{"target": "tests/test_cart.py"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "FAILED test_total: 30 != 33"},
        {
            "role": "assistant",
            "content": "Let me look at the code.",
            "tool_calls": [
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "cart.py"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_2", "content": "def total(items): ..."},
        {"role": "assistant", "content": "Tax was missing from total(); fixed."},
    ],
    "tools": [{"type": "function", "function": tool} for tool in TOOLS],
}

ANTHROPIC = {
    "system": "You are a coding agent.",
    "tools": [
        {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
        for t in TOOLS
    ],
    "messages": [
        {"role": "user", "content": "The test test_total fails. Find out why and fix it."},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Run the test first.", "signature": "sig"},
                {"type": "text", "text": "I will run the test."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "run_tests",
                    "input": {"target": "tests/test_cart.py"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01",
                    "content": [{"type": "text", "text": "1 failed"}],
                    "is_error": False,
                }
            ],
        },
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_02",
                    "name": "read_file",
                    "input": {"path": "missing.py"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_02",
                    "content": "No such file",
                    "is_error": True,
                },
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "I could not find it."}]},
    ],
}

OPENAI_AGENTS = {
    "trace": {
        "object": "trace",
        "id": "trace_0123456789abcdef0123456789abcdef",
        "workflow_name": "Cart fixer",
        "group_id": None,
        "metadata": {"team": "qa"},
    },
    "spans": [
        {
            "object": "trace.span",
            "id": "span_agent",
            "trace_id": "trace_0123456789abcdef0123456789abcdef",
            "parent_id": None,
            "started_at": "2026-11-02T10:00:00+00:00",
            "ended_at": "2026-11-02T10:00:09+00:00",
            "span_data": {
                "type": "agent",
                "name": "Fixer",
                "handoffs": ["Reviewer"],
                "tools": ["run_tests", "read_file"],
                "output_type": "str",
            },
            "error": None,
        },
        {
            "object": "trace.span",
            "id": "span_gen1",
            "trace_id": "trace_0123456789abcdef0123456789abcdef",
            "parent_id": "span_agent",
            "started_at": "2026-11-02T10:00:01+00:00",
            "ended_at": "2026-11-02T10:00:02.500000+00:00",
            "span_data": {
                "type": "generation",
                "input": [{"role": "user", "content": "Fix the failing cart test."}],
                "output": [{"role": "assistant", "content": "Running the tests."}],
                "model": "gpt-x",
                "model_config": {"temperature": 0},
                "usage": {"input_tokens": 120, "output_tokens": 12},
            },
            "error": None,
        },
        {
            "object": "trace.span",
            "id": "span_fn1",
            "trace_id": "trace_0123456789abcdef0123456789abcdef",
            "parent_id": "span_agent",
            "started_at": "2026-11-02T10:00:03+00:00",
            "ended_at": "2026-11-02T10:00:05+00:00",
            "span_data": {
                "type": "function",
                "name": "run_tests",
                "input": '{"target": "tests/test_cart.py"}',
                "output": "1 failed, 3 passed",
                "mcp_data": None,
            },
            "error": None,
        },
        {
            "object": "trace.span",
            "id": "span_guard",
            "trace_id": "trace_0123456789abcdef0123456789abcdef",
            "parent_id": "span_agent",
            "started_at": "2026-11-02T10:00:06+00:00",
            "ended_at": "2026-11-02T10:00:06.100000+00:00",
            "span_data": {"type": "guardrail", "name": "no_secrets", "triggered": False},
            "error": None,
        },
        {
            "object": "trace.span",
            "id": "span_handoff",
            "trace_id": "trace_0123456789abcdef0123456789abcdef",
            "parent_id": "span_agent",
            "started_at": "2026-11-02T10:00:07+00:00",
            "ended_at": "2026-11-02T10:00:07.100000+00:00",
            "span_data": {"type": "handoff", "from_agent": "Fixer", "to_agent": "Reviewer"},
            "error": None,
        },
    ],
}


def _attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


OTEL = {
    "resourceSpans": [
        {
            "resource": {"attributes": [_attr("service.name", "cart-agent")]},
            "scopeSpans": [
                {
                    "scope": {"name": "agent-sdk"},
                    "spans": [
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "name": "invoke_agent Fixer",
                            "kind": 1,
                            "startTimeUnixNano": "1700000000000000000",
                            "endTimeUnixNano": "1700000009000000000",
                            "attributes": [
                                _attr("gen_ai.operation.name", "invoke_agent"),
                                _attr("gen_ai.agent.name", "Fixer"),
                            ],
                        },
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b175",
                            "parentSpanId": "eee19b7ec3c1b174",
                            "name": "chat gpt-x",
                            "kind": 3,
                            "startTimeUnixNano": "1700000001000000000",
                            "endTimeUnixNano": "1700000002000000000",
                            "attributes": [
                                _attr("gen_ai.operation.name", "chat"),
                                _attr("gen_ai.request.model", "gpt-x"),
                                _attr("gen_ai.usage.input_tokens", 300),
                                _attr("gen_ai.usage.output_tokens", 25),
                                _attr(
                                    "gen_ai.input.messages",
                                    json.dumps(
                                        [
                                            {
                                                "role": "user",
                                                "parts": [
                                                    {
                                                        "type": "text",
                                                        "content": "Fix the cart test.",
                                                    }
                                                ],
                                            }
                                        ]
                                    ),
                                ),
                                _attr(
                                    "gen_ai.output.messages",
                                    json.dumps(
                                        [
                                            {
                                                "role": "assistant",
                                                "parts": [
                                                    {"type": "text", "content": "Running it."},
                                                    {
                                                        "type": "tool_call",
                                                        "id": "call_a",
                                                        "name": "run_tests",
                                                        "arguments": {
                                                            "target": "tests/test_cart.py"
                                                        },
                                                    },
                                                ],
                                                "finish_reason": "tool_call",
                                            }
                                        ]
                                    ),
                                ),
                            ],
                        },
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b176",
                            "parentSpanId": "eee19b7ec3c1b174",
                            "name": "execute_tool run_tests",
                            "kind": 1,
                            "startTimeUnixNano": "1700000003000000000",
                            "endTimeUnixNano": "1700000004500000000",
                            "attributes": [
                                _attr("gen_ai.operation.name", "execute_tool"),
                                _attr("gen_ai.tool.name", "run_tests"),
                                _attr("gen_ai.tool.call.id", "call_a"),
                                _attr(
                                    "gen_ai.tool.call.arguments", '{"target": "tests/test_cart.py"}'
                                ),
                                _attr("gen_ai.tool.call.result", "1 failed"),
                            ],
                        },
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b177",
                            "parentSpanId": "eee19b7ec3c1b174",
                            "name": "execute_tool read_file",
                            "kind": 1,
                            "startTimeUnixNano": "1700000005000000000",
                            "endTimeUnixNano": "1700000005200000000",
                            "status": {"code": 2, "message": "file not found"},
                            "attributes": [
                                _attr("gen_ai.operation.name", "execute_tool"),
                                _attr("gen_ai.tool.name", "read_file"),
                                _attr("gen_ai.tool.call.id", "call_b"),
                                _attr("gen_ai.tool.call.arguments", '{"path": "nope.py"}'),
                            ],
                        },
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b178",
                            "name": "GET /health",
                            "kind": 3,
                            "startTimeUnixNano": "1700000006000000000",
                            "endTimeUnixNano": "1700000006100000000",
                            "attributes": [_attr("http.request.method", "GET")],
                        },
                    ],
                }
            ],
        }
    ]
}

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["location"],
    },
}


def _chat_span(span_id: str, start: int, inputs: list, outputs: list, **extra) -> dict:
    attributes = [
        _attr("gen_ai.operation.name", "chat"),
        _attr("gen_ai.provider.name", "openai"),
        _attr("gen_ai.request.model", "gpt-x"),
        _attr("gen_ai.tool.definitions", json.dumps([WEATHER_TOOL])),
        _attr("gen_ai.input.messages", json.dumps(inputs)),
        _attr("gen_ai.output.messages", json.dumps(outputs)),
    ] + [_attr(key, value) for key, value in extra.items()]
    return {
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "spanId": span_id,
        "name": "chat gpt-x",
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 800_000_000),
        "attributes": attributes,
    }


_ASK = {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}
_CALL = {"role": "assistant", "parts": [
    {"type": "tool_call", "id": "call_w1", "name": "get_weather",
     "arguments": {"location": "Paris"}}], "finish_reason": "tool_call"}  # fmt: skip
_REPLY = {"role": "tool", "parts": [
    {"type": "tool_call_response", "id": "call_w1", "response": "rainy, 14 C"}]}  # fmt: skip

# OpenTelemetry GenAI spans of an instrumented model client alone: chat spans, no execute_tool
# span. Each chat span's input carries the history, the tools' answers among it.
OTEL_CHAT_ONLY = {
    "resourceSpans": [
        {
            "resource": {"attributes": [_attr("service.name", "weather-bot")]},
            "scopeSpans": [
                {
                    "scope": {"name": "opentelemetry.instrumentation.openai_v2"},
                    "spans": [
                        _chat_span("b7ad6b7169203331", 1_700_000_000_000_000_000, [_ASK], [_CALL],
                                   **{"gen_ai.usage.input_tokens": 80}),
                        _chat_span(
                            "b7ad6b7169203332", 1_700_000_002_000_000_000, [_ASK, _CALL, _REPLY],
                            [{"role": "assistant", "finish_reason": "stop", "parts": [
                                {"type": "text", "content": "It is raining in Paris, 14 C."}]}],
                        ),
                    ],
                }
            ],
        }
    ]
}  # fmt: skip

BASH = {
    "name": "bash",
    "description": "Run a shell command.",
    "parameters": {
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    },
}

# ATIF (Harbor's pydantic models, RFC 0001): no field for the reward, which goes in `extra`.
ATIF = {
    "schema_version": "ATIF-v1.6",
    "session_id": "sess-42",
    "agent": {
        "name": "terminus", "version": "2.0", "model_name": "model-x",
        "tool_definitions": [
            {"type": "function", "function": BASH},
            {"type": "function", "function": {"name": "screenshot",
                                              "description": "Capture the screen.",
                                              "parameters": {"type": "object", "properties": {}}}},
        ],
    },
    "steps": [
        {"step_id": 1, "timestamp": "2026-11-02T10:00:00Z", "source": "system",
         "message": "You are a terminal agent."},
        {"step_id": 2, "timestamp": "2026-11-02T10:00:01Z", "source": "user",
         "message": "Create hello.txt containing hi."},
        {
            "step_id": 3,
            "timestamp": "2026-11-02T10:00:02Z",
            "source": "agent",
            "model_name": "model-x",
            "message": "I will write the file.",
            "reasoning_content": "echo is enough.",
            "tool_calls": [
                {"tool_call_id": "call_1", "function_name": "bash",
                 "arguments": {"command": "echo hi > hello.txt"}},
            ],
            "observation": {"results": [{"source_call_id": "call_1", "content": ""}]},
            "metrics": {"prompt_tokens": 520, "completion_tokens": 42, "cost_usd": 0.0031},
        },
        {
            "step_id": 4,
            "timestamp": "2026-11-02T10:00:03Z",
            "source": "agent",
            "model_name": "model-y",
            "message": "",
            "tool_calls": [{"tool_call_id": "call_2", "function_name": "screenshot",
                            "arguments": {}}],
            "observation": {"results": [{"source_call_id": "call_2", "content": [
                {"type": "text", "text": "The terminal:"},
                {"type": "image",
                 "source": {"media_type": "image/png",
                            "path": "https://example.com/shots/terminal.png"}},
            ]}]},
        },
        {
            "step_id": 5,
            "timestamp": "2026-11-02T10:00:04Z",
            "source": "agent",
            "message": "Done.",
            "metrics": {"prompt_tokens": 600, "completion_tokens": 3},
        },
    ],
    "final_metrics": {"total_prompt_tokens": 1120, "total_completion_tokens": 45,
                      "total_cost_usd": 0.0031, "total_steps": 5},
    "extra": {"reward": 1.0},
}  # fmt: skip

SWE_AGENT = {
    "environment": "swe_main",
    "trajectory": [
        {
            "response": "DISCUSSION\nLet me find the file.\n\n```\nfind_file cart.py\n```",
            "thought": "Let me find the file.",
            "action": "find_file cart.py",
            "observation": 'Found 1 matches for "cart.py":\n/repo/src/cart.py',
            "state": '{"open_file": "n/a", "working_dir": "/repo"}',
            "execution_time": 0.4,
        },
        {
            "response": "Open it.",
            "thought": "Open it.",
            "action": "open src/cart.py",
            "observation": "[File: /repo/src/cart.py (20 lines total)]\n1:def total(items):",
            "state": '{"open_file": "/repo/src/cart.py", "working_dir": "/repo"}',
            "execution_time": 0.2,
        },
        {
            "response": "Submit.",
            "thought": "The fix is done.",
            "action": "submit",
            "observation": "diff --git a/src/cart.py b/src/cart.py",
            "execution_time": 0.1,
        },
    ],
    "history": [
        {
            "role": "system",
            "content": "SETTING: You are an autonomous programmer.",
            "agent": "primary",
        },
        {"role": "user", "content": "Fix issue #12: total() ignores tax.", "agent": "primary"},
    ],
    "info": {
        "exit_status": "submitted",
        "submission": "diff --git a/src/cart.py b/src/cart.py",
        "model_stats": {
            "instance_cost": 0.12,
            "tokens_sent": 9000,
            "tokens_received": 400,
            "api_calls": 3,
        },
    },
}

SAMPLES = {
    "steps": STEPS,
    "openai": OPENAI,
    "anthropic": ANTHROPIC,
    "openai_agents": OPENAI_AGENTS,
    "otel": OTEL,
    "atif": ATIF,
    "swe_agent": SWE_AGENT,
}


def sample(name: str) -> dict:
    return copy.deepcopy(SAMPLES[name])
