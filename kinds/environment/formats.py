"""What an environment task becomes on disk: Harbor task folders, and a JSONL with proofs.

A Harbor task folder (the open format agent frameworks run, the successor of Terminal-Bench's):

- ``instruction.md``: the instruction;
- ``task.toml``: ``schema_version``, ``[metadata]`` (difficulty, category, tags, the author's time,
  LabelHub's ids), ``[verifier] timeout_sec``, ``[agent] timeout_sec``, ``[environment]``
  (``build_timeout_sec``, ``cpus``, ``memory_mb``, ``storage_mb``, ``network_mode = "no-network"``);
- ``environment/Dockerfile`` naming the runtime the sandbox stands for (the project's
  ``runtime`` image with pytest), which copies ``environment/files/`` to ``/app``;
- ``tests/test.sh``: the verifier; it writes the reward to ``/logs/verifier/reward.txt``, where
  Harbor reads it. State checks run with ``tests/checks.py`` (this kind's own evaluator, copied
  as it is) on ``tests/checks.json``; a shell script is ``tests/verify.sh`` (it may write its
  reward to ``$REWARD_FILE``, else its exit code decides); a pytest file is
  ``tests/test_task.py``. With both checks and a script, the reward is the lower of the two;
- ``solution/solve.sh``: the reference solution, run in ``/app``.

The same ``tests/`` directory (without the state checks, which LabelHub evaluates in Python) is
what the sandbox ran during the proof.
"""

import json
from pathlib import Path

from kinds.formats import ExportContext, ExportFormat, ExportItem, ItemSource
from kinds.streams import json_line, zip_stream

CHECKS_SOURCE = Path(__file__).with_name("checks.py")
JSONL = "application/x-ndjson"


def test_sh(verifier: dict, *, with_checks: bool) -> str:
    """The verifier as Harbor's ``tests/test.sh``."""
    lines = [
        "#!/usr/bin/env bash",
        "# The task's verifier, written and proven in LabelHub. The reward (0..1) goes to",
        "# /logs/verifier/reward.txt, where Harbor reads it.",
        "set -u",
        "mkdir -p /logs/verifier",
        "cd /app",
        "parts=()",
    ]
    if with_checks and verifier.get("checks"):
        lines += [
            "# State checks on the final files.",
            'parts+=("$(python3 /tests/checks.py /tests/checks.json /app || echo 0)")',
        ]
    script = verifier.get("script")
    if script and script.get("language") == "pytest":
        lines += [
            "# The author's tests: a reward of 1 when every test passes.",
            "if python3 -m pytest -q -p no:cacheprovider /tests/test_task.py; then",
            "  parts+=(1)",
            "else",
            "  parts+=(0)",
            "fi",
        ]
    elif script:
        lines += [
            "# The author's script: its reward in $REWARD_FILE, else its exit code decides.",
            "export REWARD_FILE=/logs/verifier/script_reward.txt",
            'rm -f "$REWARD_FILE"',
            "if bash /tests/verify.sh; then code=1; else code=0; fi",
            'if [ -s "$REWARD_FILE" ]; then',
            '  parts+=("$(head -c 64 "$REWARD_FILE")")',
            "else",
            '  parts+=("$code")',
            "fi",
        ]
    lines += [
        "python3 - \"${parts[@]}\" > /logs/verifier/reward.txt <<'PY'",
        "import sys",
        "values = []",
        "for part in sys.argv[1:]:",
        "    try:",
        "        value = float(part)",
        "    except ValueError:",
        "        value = 0.0",
        "    values.append(min(1.0, max(0.0, value)) if value == value else 0.0)",
        "print(min(values) if values else 0)",
        "PY",
        "cat /logs/verifier/reward.txt",
        "",
    ]
    return "\n".join(lines)


def tests_files(verifier: dict, *, with_checks: bool) -> dict[str, str]:
    """The ``tests/`` directory, as ``{name: text}``."""
    files = {"test.sh": test_sh(verifier, with_checks=with_checks)}
    if with_checks and verifier.get("checks"):
        files["checks.py"] = CHECKS_SOURCE.read_text(encoding="utf-8")
        files["checks.json"] = json.dumps(
            {"checks": verifier["checks"], "mode": verifier.get("checks_mode", "all")}, indent=2
        )
    script = verifier.get("script")
    if script:
        name = "test_task.py" if script.get("language") == "pytest" else "verify.sh"
        files[name] = script.get("code") or ""
    return files


def write_tests(directory: Path, verifier: dict, *, with_checks: bool) -> None:
    directory.mkdir(parents=True)
    for name, text in tests_files(verifier, with_checks=with_checks).items():
        (directory / name).write_text(text, encoding="utf-8")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is JSON-escaped


def task_toml(item: ExportItem, schema: dict) -> str:
    result = item.result
    limits = schema.get("limits", {})
    seconds = int(limits.get("seconds", 60))
    minutes = int(result.get("expected_minutes") or 10)
    metadata = {
        "author_name": "LabelHub",
        "difficulty": result.get("difficulty") or "",
        "category": item.data.get("domain") or "general",
        "tags": list(result.get("tools") or []),
        "expert_time_estimate_min": float(minutes),
        "labelhub_task_id": item.task_id,
    }
    if item.external_id:
        metadata["labelhub_external_id"] = item.external_id
    sections = [
        'schema_version = "1.4"',
        "",
        "[metadata]",
        *(f"{key} = {_toml(value)}" for key, value in metadata.items()),
        "",
        "[verifier]",
        f"timeout_sec = {float(max(seconds, 1) * 2)}",
        "",
        "[agent]",
        f"timeout_sec = {float(max(minutes * 60, 60))}",
        "",
        "[environment]",
        "build_timeout_sec = 600.0",
        "cpus = 1",
        f"memory_mb = {int(limits.get('memory_mb', 512))}",
        "storage_mb = 1024",
        'network_mode = "no-network"',
        "",
    ]
    return "\n".join(sections)


def dockerfile(schema: dict) -> str:
    runtime = schema.get("runtime", "python:3.13-slim")
    return (
        f"FROM {runtime}\n"
        "# The runtime LabelHub's sandbox stands for: a Debian userland with Python and pytest.\n"
        "RUN pip install --no-cache-dir pytest\n"
        "WORKDIR /app\n"
        "COPY files/ /app/\n"
    )


def folder_name(item: ExportItem) -> str:
    base = item.external_id or f"task-{item.task_id}"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in base).strip(".-") or "task"
    return f"{safe[:80]}-{item.task_id}" if item.external_id else safe


def harbor_files(item: ExportItem, schema: dict):
    """(name, bytes) of one task's folder."""
    result = item.result
    root = folder_name(item)
    yield f"{root}/instruction.md", (result.get("instruction") or "").encode()
    yield f"{root}/task.toml", task_toml(item, schema).encode()
    yield f"{root}/environment/Dockerfile", dockerfile(schema).encode()
    files = result.get("files") or {}
    if not files:
        yield f"{root}/environment/files/.keep", b""
    for name, text in files.items():
        yield f"{root}/environment/files/{name}", text.encode()
    for name, text in tests_files(result.get("verifier") or {}, with_checks=True).items():
        yield f"{root}/tests/{name}", text.encode()
    solve = result.get("solution") or ""
    if not solve.startswith("#!"):
        solve = "#!/usr/bin/env bash\nset -euo pipefail\ncd /app\n" + solve
    yield f"{root}/solution/solve.sh", solve.encode()


def harbor_zip(items: ItemSource, context: ExportContext):
    def files():
        for item in items():
            if item.result:
                yield from harbor_files(item, context.schema)

    return zip_stream(files())


def tasks_jsonl(items: ItemSource, context: ExportContext):
    """One line per task: the brief, the authored task, and the proof that made it count."""
    for item in items():
        if not item.result:
            continue
        evidence = context.evidence(item)
        yield json_line(
            {
                "task_id": item.task_id,
                "external_id": item.external_id,
                "brief": item.data,
                "task": item.result,
                "proof": evidence.get("proof"),
            }
        )


def export_formats() -> tuple[ExportFormat, ...]:
    return (
        ExportFormat(
            "harbor",
            "Harbor task folders (zip)",
            "application/zip",
            "zip",
            write=harbor_zip,
        ),
        ExportFormat(
            "jsonl",
            "Tasks with their proofs (JSONL)",
            JSONL,
            "jsonl",
            write=tasks_jsonl,
        ),
    )
