"""RL environment tasks: an expert writes a task for an agent and a verifier, and proves it.

A project's task is a brief: ``data = {"brief": "write a task for a spreadsheet agent about
invoices", "domain"?, "difficulty"?}``. The schema is the project's frame:
``{"verifier_kinds": ["checks", "script", "rubric"], "tools": ["bash", …], "difficulties":
["easy", "medium", "hard"], "pass_mark": 1.0, "limits": {"files", "bytes", "seconds",
"memory_mb", "disk_mb"}, "runtime": "python:3.13-slim"}``.

The author's answer (``result``):

- ``instruction``: what the agent is asked to do (Markdown);
- ``files``: the starting state, ``{"path/in/tree": "text", …}`` (at most ``limits.files``
  files and ``limits.bytes`` bytes in all);
- ``tools``: the tools the agent may use, from the project's list;
- ``verifier``: ``checks`` (state checks, see :mod:`kinds.environment.checks`) with
  ``checks_mode`` (``all`` or ``weighted``), a ``script`` (``{"language": "shell" | "pytest",
  "code"}``; a shell script writes its reward to ``$REWARD_FILE`` or exits 0 for 1, a pytest file
  gives 1 when every test passes), and ``rubric`` claims (``[{"claim", "points"}]``, judged by
  reviewers: they are not part of the proof). Checks or a script are needed, since only they can
  be proven;
- ``solution``: a bash script that turns the starting files into a solved state; and
  ``wrong_attempt``: a plausible wrong one ("" leaves the start untouched);
- ``difficulty`` and ``expected_minutes``; ``pass_mark`` optionally lowers the project's.

The proof (``prove``), run by the sandbox worker, never in a web request: the solution then the
verifier must reach the pass mark, the wrong attempt then the verifier must not, and the
verifier run again on the solution's state must give the same reward. A verifier run sees the
agent's tree at ``/app``, its own files read-only at ``/tests`` and writes ``/logs/verifier`` —
the paths Harbor uses, so the exported ``tests/test.sh`` is the one that was proven.
"""

import difflib
import json
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path, PurePosixPath

from kinds import (
    BuilderForm,
    Consensus,
    EditorSpec,
    Errors,
    ProofReport,
    ProofRunReport,
    ReviewViews,
    SchemaBuilder,
    TaskKind,
    int_or_text,
    number_or_text,
    object_errors,
)
from kinds.environment import checks as state
from kinds.environment import formats
from kinds.formats import ExportFormat

VERIFIER_KINDS = ("checks", "script", "rubric")
SCRIPT_LANGUAGES = ("shell", "pytest")
DEFAULT_TOOLS = ["bash", "python", "read_file", "write_file", "list_files"]
DEFAULT_LIMITS = {
    "files": 200,
    "bytes": 5_000_000,
    "seconds": 60,
    "memory_mb": 512,
    "disk_mb": 100,
}
LIMIT_RANGES = {
    "files": (1, 2000),
    "bytes": (1000, 50_000_000),
    "seconds": (1, 900),
    "memory_mb": (64, 8192),
    "disk_mb": (16, 10240),
}
MAX_TEXT = 200_000
MAX_CHECKS = 100
MAX_CLAIMS = 50
RESULT_KEYS = {
    "instruction", "files", "tools", "verifier", "solution", "wrong_attempt", "difficulty",
    "expected_minutes", "pass_mark",
}  # fmt: skip
VERIFIER_KEYS = {"checks", "checks_mode", "script", "rubric"}
CHECK_KEYS = {"file", "json", "csv", "op", "value", "weight"}
OUTPUT_SHOWN = 8000


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def clean_path(name: object) -> str | None:
    """A file's path in the tree, normalised; None when it is not a plain relative path."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        return None
    if "\\" in name or "\x00" in name or name.startswith("/"):
        return None
    parts = [part for part in PurePosixPath(name).parts if part != "."]
    if not parts or any(part == ".." for part in parts):
        return None
    return "/".join(parts)


class EnvironmentKind(TaskKind):
    name = "environment"
    label = "RL environment authoring"
    description = (
        "Experts write tasks for agents — instruction, starting files, tools, a verifier, a "
        "reference solution and a wrong attempt — proven in a sandbox before they count."
    )
    editor = EditorSpec(template="environment/editor.html", module="environment/editor.js")
    review_template = "environment/review_answer.html"
    schema_builder = SchemaBuilder(
        template="environment/builder.html",
        heading="The authors' frame",
        save_label="Save frame",
    )
    needs_proof = True
    takes_audits = True
    lease_renewal_seconds = 300
    pay_level_name = "difficulty"

    def default_schema(self) -> dict:
        return {
            "verifier_kinds": list(VERIFIER_KINDS),
            "tools": list(DEFAULT_TOOLS),
            "difficulties": ["easy", "medium", "hard"],
            "pass_mark": 1.0,
            "limits": dict(DEFAULT_LIMITS),
            "runtime": "python:3.13-slim",
        }

    # --- schema and data --------------------------------------------------------------------

    def clean_schema(self, schema: dict) -> dict:
        errors = object_errors(schema, path="", message="The schema must be a JSON object.")
        default = self.default_schema()
        kinds = schema.get("verifier_kinds", default["verifier_kinds"])
        if (
            not isinstance(kinds, list)
            or not kinds
            or any(k not in VERIFIER_KINDS for k in kinds)
            or not {"checks", "script"} & set(kinds)
        ):
            errors.add(
                "verifier_kinds",
                "Choose from checks, script, rubric; checks or script must be allowed "
                "(only they can be proven).",
            )
            kinds = []
        tools = schema.get("tools", default["tools"])
        if (
            not isinstance(tools, list)
            or not all(_text(t) and len(t) <= 80 for t in tools)
            or len(tools) > 100
            or len({t.strip() for t in tools if isinstance(t, str)}) != len(tools)
        ):
            errors.add("tools", "Tools are a list of up to 100 distinct names.")
            tools = []
        difficulties = schema.get("difficulties", default["difficulties"])
        if (
            not isinstance(difficulties, list)
            or not difficulties
            or not all(_text(d) and len(d) <= 40 for d in difficulties)
        ):
            errors.add("difficulties", "Difficulties are a list of names (easy, medium, hard).")
            difficulties = []
        pass_mark = schema.get("pass_mark", 1.0)
        if not _number(pass_mark) or not 0 < pass_mark <= 1:
            errors.add("pass_mark", "The pass mark is a reward above 0 and at most 1.")
        limits = schema.get("limits", {})
        if not isinstance(limits, dict):
            errors.add(
                "limits", "Limits are an object {files, bytes, seconds, memory_mb, disk_mb}."
            )
            limits = {}
        cleaned_limits = {}
        for key, fallback in DEFAULT_LIMITS.items():
            value = limits.get(key, fallback)
            low, high = LIMIT_RANGES[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors.add(f"limits.{key}", f"A whole number from {low} to {high}.")
            cleaned_limits[key] = value
        for key in sorted(set(limits) - set(DEFAULT_LIMITS)):
            errors.add(f"limits.{key}", "Unknown limit.")
        runtime = schema.get("runtime", default["runtime"])
        if not isinstance(runtime, str) or not re.fullmatch(r"[a-z0-9][\w./:@-]{0,200}", runtime):
            errors.add("runtime", "The runtime is a container image name (python:3.13-slim).")
        for key in sorted(set(schema) - set(default)):
            errors.add(key, "Unknown setting for an environment project.")
        errors.raise_if_any()
        return {
            "verifier_kinds": [k for k in VERIFIER_KINDS if k in kinds],
            "tools": [t.strip() for t in tools],
            "difficulties": [d.strip() for d in difficulties],
            "pass_mark": float(pass_mark),
            "limits": cleaned_limits,
            "runtime": runtime,
        }

    def clean_data(self, data: dict, *, schema: dict) -> dict:
        errors = object_errors(data, path="data", message="A task's data must be a JSON object.")
        if not _text(data.get("brief")) or len(data["brief"]) > 20_000:
            errors.add("data.brief", "Give the brief: what the author should write (text).")
        for key in ("domain", "title"):
            if key in data and not (isinstance(data[key], str) and len(data[key]) <= 200):
                errors.add(f"data.{key}", "Text of at most 200 characters.")
        if "difficulty" in data and data["difficulty"] not in schema.get("difficulties", []):
            errors.add("data.difficulty", "Choose one of the project's difficulties.")
        for key in sorted(set(data) - {"brief", "domain", "title", "difficulty"}):
            errors.add(f"data.{key}", "Not part of an environment task.")
        errors.raise_if_any()
        return data

    # --- the answer -------------------------------------------------------------------------

    def clean_result(self, result: dict, *, schema: dict, data: dict) -> dict:
        errors = object_errors(result, path="result", message="The answer must be a JSON object.")
        limits = {**DEFAULT_LIMITS, **schema.get("limits", {})}
        cleaned: dict = {}
        instruction = result.get("instruction")
        if not _text(instruction) or len(instruction) > MAX_TEXT:
            errors.add("result.instruction", "Write the instruction for the agent.")
        cleaned["instruction"] = instruction
        cleaned["files"] = self._clean_files(result.get("files", {}), limits, errors)
        tools = result.get("tools", [])
        allowed = schema.get("tools", [])
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            errors.add("result.tools", "Tools are a list of names.")
            tools = []
        for i, tool in enumerate(tools):
            if tool not in allowed:
                errors.add(f"result.tools.{i}", f"Not one of the project's tools: {tool!r}.")
        cleaned["tools"] = [t for t in allowed if t in tools]
        cleaned["verifier"] = self._clean_verifier(result.get("verifier"), schema, errors)
        for key in ("solution", "wrong_attempt"):
            script = result.get(key, "")
            if not isinstance(script, str) or len(script) > MAX_TEXT:
                errors.add(f"result.{key}", "A bash script (text).")
                script = ""
            cleaned[key] = script
        if not _text(cleaned["solution"]):
            errors.add("result.solution", "Write the reference solution (a bash script).")
        difficulty = result.get("difficulty")
        if difficulty not in schema.get("difficulties", []):
            errors.add(
                "result.difficulty",
                f"Choose a difficulty: {', '.join(schema.get('difficulties', []))}.",
            )
        cleaned["difficulty"] = difficulty
        minutes = result.get("expected_minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 10080:
            errors.add("result.expected_minutes", "Minutes an agent or a person needs (1–10080).")
        cleaned["expected_minutes"] = minutes
        if "pass_mark" in result and result["pass_mark"] is not None:
            mark = result["pass_mark"]
            if not _number(mark) or not 0 < mark <= schema.get("pass_mark", 1.0):
                errors.add(
                    "result.pass_mark",
                    f"A pass mark above 0, at most the project's {schema.get('pass_mark', 1.0):g}.",
                )
            else:
                cleaned["pass_mark"] = float(mark)
        for key in sorted(set(result) - RESULT_KEYS):
            errors.add(f"result.{key}", "Not part of an environment task.")
        errors.raise_if_any()
        return cleaned

    def _clean_files(self, files: object, limits: dict, errors: Errors) -> dict:
        if not isinstance(files, dict):
            errors.add("result.files", "Files are an object {path: text}.")
            return {}
        if len(files) > limits["files"]:
            errors.add("result.files", f"At most {limits['files']} files; here {len(files)}.")
            return {}
        cleaned: dict[str, str] = {}
        total = 0
        for name, text in files.items():
            path = clean_path(name)
            if path is None:
                errors.add(
                    f"result.files.{name}",
                    "A path inside the tree: relative, with '/', no '..', at most 200 characters.",
                )
                continue
            if not isinstance(text, str):
                errors.add(f"result.files.{name}", "A file's content is text.")
                continue
            if path in cleaned or any(
                other.startswith(path + "/") or path.startswith(other + "/") for other in cleaned
            ):
                errors.add(f"result.files.{name}", "This path clashes with another file's.")
                continue
            total += len(text.encode())
            cleaned[path] = text
        if total > limits["bytes"]:
            errors.add("result.files", f"At most {limits['bytes']:,} bytes in all; here {total:,}.")
        return dict(sorted(cleaned.items()))

    def _clean_verifier(self, verifier: object, schema: dict, errors: Errors) -> dict:
        if not isinstance(verifier, dict):
            errors.add("result.verifier", "The verifier is an object {checks, script, rubric}.")
            return {}
        allowed = schema.get("verifier_kinds", VERIFIER_KINDS)
        cleaned: dict = {}
        checks = verifier.get("checks") or []
        if checks and "checks" not in allowed:
            errors.add("result.verifier.checks", "This project does not take state checks.")
        elif not isinstance(checks, list) or len(checks) > MAX_CHECKS:
            errors.add("result.verifier.checks", f"State checks are a list of up to {MAX_CHECKS}.")
        elif checks:
            cleaned["checks"] = [
                clean_check(check, path=f"result.verifier.checks.{i}", errors=errors)
                for i, check in enumerate(checks)
            ]
            mode = verifier.get("checks_mode", "all")
            if mode not in state.MODES:
                errors.add("result.verifier.checks_mode", "'all' must hold, or a 'weighted' share.")
            cleaned["checks_mode"] = mode
        script = verifier.get("script")
        if script not in (None, {}) and "script" not in allowed:
            errors.add("result.verifier.script", "This project does not take test scripts.")
        elif script not in (None, {}):
            if not isinstance(script, dict):
                errors.add("result.verifier.script", "A script is {language, code}.")
            else:
                if script.get("language") not in SCRIPT_LANGUAGES:
                    errors.add(
                        "result.verifier.script.language", "The language is shell or pytest."
                    )
                code = script.get("code")
                if not _text(code) or len(code) > MAX_TEXT:
                    errors.add("result.verifier.script.code", "Write the test script.")
                cleaned["script"] = {"language": script.get("language"), "code": code}
        rubric = verifier.get("rubric") or []
        if rubric and "rubric" not in allowed:
            errors.add("result.verifier.rubric", "This project does not take rubric claims.")
        elif not isinstance(rubric, list) or len(rubric) > MAX_CLAIMS:
            errors.add("result.verifier.rubric", f"Rubric claims are a list of up to {MAX_CLAIMS}.")
        elif rubric:
            claims = []
            for i, claim in enumerate(rubric):
                path = f"result.verifier.rubric.{i}"
                if not isinstance(claim, dict) or not _text(claim.get("claim")):
                    errors.add(f"{path}.claim", "A claim is a statement a grader checks.")
                    continue
                points = claim.get("points", 1)
                if not _number(points) or not -100 <= points <= 100 or points == 0:
                    errors.add(f"{path}.points", "Points: a number from -100 to 100, not 0.")
                claims.append({"claim": claim["claim"].strip(), "points": points})
            cleaned["rubric"] = claims
        for key in sorted(set(verifier) - VERIFIER_KEYS):
            errors.add(f"result.verifier.{key}", "Not part of a verifier.")
        if not cleaned.get("checks") and not cleaned.get("script"):
            errors.add(
                "result.verifier",
                "Give state checks or a test script: rubric claims alone cannot be proven.",
            )
        return cleaned

    # --- quality: authored work is judged by its proof and by review --------------------------

    def score(self, result: dict, gold: dict, *, schema: dict, quality: dict) -> float:
        """1 when the answer is the gold one, else 0: authored tasks are not graded against a
        key (their quality is the proof and the review; see docs/environments.md)."""
        return 1.0 if result == gold else 0.0

    def agreement(self, results: list[dict], *, schema: dict, quality: dict) -> float:
        if len(results) < 2:
            return 1.0
        pairs = [
            self.score(a, b, schema=schema, quality=quality)
            for i, a in enumerate(results)
            for b in results[i + 1 :]
        ]
        return sum(pairs) / len(pairs)

    def consolidate(
        self,
        results: list[dict],
        *,
        schema: dict,
        quality: dict,
        weights: list[float] | None = None,
        data: dict | None = None,
    ) -> Consensus:
        """Authored tasks are not merged: the first answer stands (a reviewer picks or fixes)."""
        return Consensus(result=results[0], confidence=1.0 / len(results))

    # --- the proof ---------------------------------------------------------------------------

    @staticmethod
    @contextmanager
    def _workspace(result: dict, schema: dict, purpose: str):
        """The run's terms (limits, pass mark, verifier) and a scratch folder holding the
        verifier's tests, removed afterwards: what a proof and an audit both start from."""
        limits = {**DEFAULT_LIMITS, **schema.get("limits", {})}
        mark = float(result.get("pass_mark") or schema.get("pass_mark", 1.0))
        verifier = result.get("verifier", {})
        with tempfile.TemporaryDirectory(prefix=f"labelhub-{purpose}-") as scratch:
            root = Path(scratch)
            tests = root / "tests"
            formats.write_tests(tests, verifier, with_checks=False)
            yield root, tests, limits, mark, verifier

    def prove(self, result: dict, *, schema: dict, data: dict, sandbox) -> ProofReport:
        with self._workspace(result, schema, "proof") as (root, tests, limits, mark, verifier):
            solved, solution = self._attempt(
                root, "solution", result, result["solution"], sandbox, limits, verifier, tests
            )
            reports = [solution]
            wrong = self._attempt(
                root, "wrong_attempt", result, result.get("wrong_attempt", ""), sandbox, limits,
                verifier, tests,
            )[1]  # fmt: skip
            reports.append(wrong)
            repeat = self._verify(
                root, "repeat", solved, sandbox, limits, verifier, tests, output="", seconds=0.0
            )
        solution = _judge(solution, must_pass=True, mark=mark)
        wrong = _judge(wrong, must_pass=False, mark=mark)
        same = solution.reward is not None and repeat.reward == solution.reward
        repeat = ProofRunReport(
            run="repeat",
            reward=repeat.reward,
            passed=same and repeat.status != "stopped",
            output=repeat.output,
            seconds=repeat.seconds,
            status=repeat.status if same else "failed",
            reason="" if same else _repeat_reason(solution, repeat),
            details=repeat.details,
        )  # fmt: skip
        return ProofReport(runs=[solution, wrong, repeat])

    def audit(
        self, result: dict, *, schema: dict, data: dict, attempt: str, sandbox
    ) -> ProofRunReport:
        """An auditor's own attempt, run like the solution on a fresh copy of the starting
        files, then the task's verifier: ``passed`` when it reaches the pass mark. An attempt
        that fails to run is still judged (the verifier sees what it left), as an agent's."""
        with self._workspace(result, schema, "audit") as (root, tests, limits, mark, verifier):
            _, report = self._attempt(
                root, "audit", result, attempt, sandbox, limits, verifier, tests
            )
        if report.status == "stopped" or report.reward is None:
            return replace(report, passed=False, status="stopped")
        passed = report.reward >= mark
        return replace(
            report,
            passed=passed,
            status="passed" if passed else "failed",
            reason=f"The verifier gave {report.reward:g} (the pass mark is {mark:g}).",
        )

    def rubric_claims(self, result: dict) -> list[dict]:
        return list((result.get("verifier") or {}).get("rubric") or [])

    def grade_claims(self, result: dict, *, grades: object) -> float:
        """The points of the claims met over the points of the positive claims, within 0..1
        (a met claim with negative points, a mistake the rubric names, takes points away)."""
        claims = self.rubric_claims(result)
        errors = Errors()
        if not claims:
            errors.add("grades", "This task has no rubric claims to grade.")
        elif not isinstance(grades, list) or len(grades) != len(claims):
            errors.add("grades", f"Grade every claim: a list of {len(claims)} true/false.")
        else:
            for i, grade in enumerate(grades):
                if not isinstance(grade, bool):
                    errors.add(f"grades.{i}", "Met (true) or not met (false).")
        errors.raise_if_any()
        possible = sum(c["points"] for c in claims if c["points"] > 0)
        earned = sum(c["points"] for c, met in zip(claims, grades, strict=True) if met)
        return round(min(1.0, max(0.0, earned / possible)), 4) if possible else 0.0

    def _attempt(self, root, name, result, script, sandbox, limits, verifier, tests):
        """Run an attempt on a fresh copy of the files, then the verifier; keep a copy of the
        state the attempt left (the repeat runs the verifier on it again)."""
        app = root / name / "app"
        _write_tree(app, result["files"])
        output, seconds, stopped = "", 0.0, None
        if script.strip():
            outcome = sandbox.run(
                script=script, app=app, tests=None, logs=None, seconds=limits["seconds"]
            )
            output = f"$ {name.replace('_', ' ')}\n{outcome.output}"
            seconds = outcome.seconds
            if not outcome.ok:
                stopped = outcome
        kept = root / name / "state"
        shutil.copytree(app, kept, symlinks=True)
        changes = _changes(result["files"], kept)
        if stopped is not None and name == "solution":
            report = ProofRunReport(
                run=name, reward=None, passed=False, output=output[-OUTPUT_SHOWN:],
                seconds=seconds, status="stopped" if stopped.stopped_by != "exit" else "failed",
                reason=f"The solution itself failed. {stopped.reason}",
                details={"changes": changes},
            )  # fmt: skip
            return kept, report
        report = self._verify(root, name, app, sandbox, limits, verifier, tests, output, seconds)
        return kept, replace(report, details={**report.details, "changes": changes})

    def _verify(self, root, name, app, sandbox, limits, verifier, tests, output, seconds):
        """The verifier on ``app``: the state checks in Python, the script in the sandbox."""
        rewards: list[float] = []
        details: dict = {}
        if verifier.get("checks"):
            reward, lines = state.evaluate(
                verifier["checks"],
                read=state.tree_reader(str(app)),
                mode=verifier.get("checks_mode", "all"),
            )
            rewards.append(reward)
            details["checks"] = lines
        status, reason = "passed", ""
        if verifier.get("script"):
            logs = root / name / f"logs-{len(list((root / name).glob('logs-*')))}"
            logs.mkdir(parents=True)
            outcome = sandbox.run(
                script="bash /tests/test.sh",
                app=app,
                tests=tests,
                logs=logs,
                seconds=limits["seconds"],
            )
            output += f"\n$ verifier\n{outcome.output}"
            seconds += outcome.seconds
            reward = _read_reward(logs)
            if outcome.stopped_by and outcome.stopped_by != "exit":
                status, reason = "stopped", f"The verifier was stopped. {outcome.reason}"
                reward = None
            elif reward is None:
                status, reason = "failed", "The verifier wrote no reward between 0 and 1."
            if reward is not None:
                rewards.append(reward)
            else:
                rewards.append(float("nan"))
        total = None if not rewards or any(r != r for r in rewards) else min(rewards)
        return ProofRunReport(
            run=name, reward=total, passed=False, output=output.strip()[-OUTPUT_SHOWN:],
            seconds=round(seconds, 3), status=status, reason=reason, details=details,
        )  # fmt: skip

    # --- the settings page's form ------------------------------------------------------------

    def schema_from_form(self, post) -> dict:
        """The schema the form's fields describe: tools and difficulties one per line (or
        separated by commas), numbers as typed (``clean_schema`` says what is wrong, by path)."""

        def lines(name: str) -> list[str]:
            text = post.get(name, "") or ""
            return [item.strip() for item in re.split(r"[\n,]", text) if item.strip()]

        return {
            "verifier_kinds": [k for k in post.getlist("verifier_kinds") if k],
            "tools": lines("tools"),
            "difficulties": lines("difficulties"),
            "pass_mark": number_or_text(post.get("pass_mark")),
            "limits": {key: int_or_text(post.get(f"limits.{key}")) for key in DEFAULT_LIMITS},
            "runtime": (post.get("runtime") or "").strip(),
        }

    def schema_form(self, *, schema: dict, errors: dict[str, list[str]]) -> BuilderForm:
        """Each field with its value and the errors of its path."""
        limits = schema.get("limits") if isinstance(schema.get("limits"), dict) else {}
        labels = {
            "files": ("Files in the starting tree", ""),
            "bytes": ("Bytes in the starting tree", ""),
            "seconds": ("Seconds per sandbox run", ""),
            "memory_mb": ("Memory per run (MB)", ""),
            "disk_mb": ("Disk per run (MB)", "what a run may write: /app, the logs, /tmp"),
        }
        limit_fields = [
            {
                "key": key,
                "name": f"limits.{key}",
                "label": labels[key][0],
                "help": labels[key][1],
                "value": limits.get(key, DEFAULT_LIMITS[key]),
                "low": LIMIT_RANGES[key][0],
                "high": LIMIT_RANGES[key][1],
                "errors": errors.get(f"limits.{key}", []),
            }
            for key in DEFAULT_LIMITS
        ]
        allowed = schema.get("verifier_kinds") or []
        context = {
            "verifier_kinds": [
                (kind, words, kind in allowed)
                for kind, words in (
                    ("checks", "State checks (assertions on the final files)"),
                    ("script", "A test script (shell or pytest)"),
                    ("rubric", "Rubric claims (graded by people)"),
                )
            ],
            "tools_text": "\n".join(_strings(schema.get("tools"))),
            "difficulties_text": "\n".join(_strings(schema.get("difficulties"))),
            "limit_fields": limit_fields,
            "field_errors": {
                key: errors.get(key, [])
                for key in ("verifier_kinds", "tools", "difficulties", "pass_mark", "runtime")
            },
        }
        used = {"verifier_kinds", "tools", "difficulties", "pass_mark", "runtime"}
        used |= {f"limits.{key}" for key in DEFAULT_LIMITS}
        return BuilderForm(context=context, used=frozenset(used))

    # --- pay: a rate per difficulty ---------------------------------------------------------

    def pay_levels(self, *, schema: dict) -> list[str]:
        """The project's difficulties: a hard task may pay more than an easy one."""
        levels = schema.get("difficulties") if isinstance(schema, dict) else None
        return [d for d in levels if isinstance(d, str)] if isinstance(levels, list) else []

    def pay_level(self, result: object, *, schema: dict) -> str | None:
        """The difficulty the author gave the task (reviewers check it with the rest)."""
        difficulty = result.get("difficulty") if isinstance(result, dict) else None
        return difficulty if difficulty in self.pay_levels(schema=schema) else None

    # --- the screens around the kind ----------------------------------------------------------

    def export_formats(self) -> tuple[ExportFormat, ...]:
        return formats.export_formats()

    def review_summary(self, result: dict, *, schema: dict) -> str:
        verifier = result.get("verifier") or {}
        parts = [f"{len(result.get('files') or {})} files"]
        if verifier.get("checks"):
            parts.append(f"{len(verifier['checks'])} state checks")
        if verifier.get("script"):
            parts.append(f"{verifier['script'].get('language')} verifier")
        if verifier.get("rubric"):
            parts.append(f"{len(verifier['rubric'])} rubric claims")
        parts.append(f"{result.get('difficulty')}, ~{result.get('expected_minutes')} min")
        return " · ".join(parts)

    def review_views(
        self,
        *,
        results: list[dict],
        proposal: dict | None,
        data: dict,
        media_meta: dict,
        schema: dict,
    ) -> ReviewViews:
        answers = []
        for result in results:
            verifier = result.get("verifier") or {}
            answers.append(
                {
                    "files": sorted((result.get("files") or {}).items()),
                    "checks": verifier.get("checks") or [],
                    "checks_mode": verifier.get("checks_mode", "all"),
                    "script": verifier.get("script"),
                    "rubric": verifier.get("rubric") or [],
                }
            )
        return ReviewViews(shared={}, answers=answers)


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def clean_check(check: object, *, path: str, errors: Errors) -> dict:
    """One state check, normalised; each problem named by its field."""
    if not isinstance(check, dict):
        errors.add(path, "A check is an object {file, json?, csv?, op, value}.")
        return {}
    cleaned: dict = {}
    name = clean_path(check.get("file"))
    if name is None:
        errors.add(f"{path}.file", "Name the file the check reads (a path in the tree).")
    cleaned["file"] = name
    if "json" in check and "csv" in check:
        errors.add(f"{path}.json", "Read a JSON path or a CSV cell, not both.")
    if "json" in check:
        try:
            if not isinstance(check["json"], str) or len(check["json"]) > 500:
                raise state.PathError("A JSON path is text such as $.totals[0].amount.")
            state.parse_json_path(check["json"])
            cleaned["json"] = check["json"]
        except state.PathError as error:
            errors.add(f"{path}.json", f"Not a JSON path: {error}")
    if "csv" in check:
        cell = check["csv"]
        if (
            not isinstance(cell, dict)
            or not isinstance(cell.get("row"), int)
            or isinstance(cell.get("row"), bool)
            or cell["row"] < 1
            or not (
                (isinstance(cell.get("column"), str) and cell["column"].strip())
                or (isinstance(cell.get("column"), int) and cell["column"] >= 0)
            )
        ):
            errors.add(f"{path}.csv", "A CSV cell is {row: 1…, column: header name or index}.")
        else:
            cleaned["csv"] = {"row": cell["row"], "column": cell["column"]}
    op = check.get("op")
    if op not in state.OPERATORS:
        errors.add(f"{path}.op", f"The operator is one of {', '.join(state.OPERATORS)}.")
    cleaned["op"] = op
    value = check.get("value")
    if op in ("gt", "gte", "lt", "lte") and not _number(value):
        errors.add(f"{path}.value", f"'{op}' compares with a number.")
    elif op == "in" and not isinstance(value, list):
        errors.add(f"{path}.value", "'in' takes a list of allowed values.")
    elif op == "exists" and not isinstance(value, bool):
        errors.add(f"{path}.value", "'exists' takes true (must be there) or false.")
    elif op == "regex":
        try:
            if not isinstance(value, str) or len(value) > 1000:
                raise re.error("a pattern is text of at most 1000 characters")
            re.compile(value)
        except re.error as error:
            errors.add(f"{path}.value", f"Not a regular expression: {error}.")
    elif op in ("eq", "neq", "contains") and "value" not in check:
        errors.add(f"{path}.value", "Give the expected value.")
    cleaned["value"] = value
    weight = check.get("weight", 1)
    if not _number(weight) or not 0 < weight <= 1000:
        errors.add(f"{path}.weight", "A weight above 0, at most 1000.")
    cleaned["weight"] = weight
    for key in sorted(set(check) - CHECK_KEYS):
        errors.add(f"{path}.{key}", "Not part of a state check.")
    return cleaned


def _write_tree(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True)
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _changes(start: dict[str, str], tree: Path) -> list[dict]:
    """The files an attempt changed, added or removed, each with a unified diff (capped)."""
    read = state.tree_reader(str(tree))
    after = {}
    for path in sorted(tree.rglob("*")):
        if path.is_file() and not path.is_symlink():
            name = path.relative_to(tree).as_posix()
            after[name] = read(name) or ""
        if len(after) > 500:
            break
    changes = []
    for name in sorted(set(start) | set(after)):
        before, now = start.get(name), after.get(name)
        if before == now:
            continue
        diff = "".join(
            difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                (now or "").splitlines(keepends=True),
                fromfile=f"start/{name}" if before is not None else "/dev/null",
                tofile=f"solved/{name}" if now is not None else "/dev/null",
            )
        )
        state_word = "added" if before is None else "removed" if now is None else "changed"
        changes.append({"file": name, "change": state_word, "diff": diff[:4000]})
    return changes[:100]


def _read_reward(logs: Path) -> float | None:
    """The reward the verifier wrote (``reward.txt``, or ``reward.json`` ``{"reward": x}``)."""
    for name in ("reward.txt", "reward.json"):
        path = logs / name
        if path.is_file() and not path.is_symlink():
            text = path.read_text(errors="replace")[:1000].strip()
            try:
                value = json.loads(text)
            except ValueError:
                return None
            if isinstance(value, dict):
                value = value.get("reward")
            if _number(value) and 0 <= value <= 1:
                return float(value)
            return None
    return None


def _repeat_reason(solution: ProofRunReport, repeat: ProofRunReport) -> str:
    if solution.reward is None:
        return "Not repeated: the solution's run gave no reward to compare with."
    if repeat.reason:
        return repeat.reason
    return f"Flaky: the same state gave {_fmt(solution.reward)}, then {_fmt(repeat.reward)}."


def _fmt(reward: float | None) -> str:
    return "no reward" if reward is None else f"{reward:g}"


def _judge(report: ProofRunReport, *, must_pass: bool, mark: float) -> ProofRunReport:
    """Whether a run did what it must: the solution reach the pass mark, the wrong attempt not."""
    if report.status == "stopped" or report.reward is None:
        # A verifier must give every attempt a reward, a wrong one too (0, not a crash).
        return replace(report, passed=False, reason=report.reason or "The verifier gave no reward.")
    reached = report.reward >= mark
    if must_pass:
        passed = reached
        reason = "" if passed else (
            f"The verifier fails the reference solution: reward {report.reward:g}, "
            f"the pass mark is {mark:g}."
        )  # fmt: skip
    else:
        passed = not reached
        reason = "" if passed else (
            f"The verifier passes the wrong attempt (reward {report.reward:g}): it cannot tell "
            "a wrong answer from a right one."
        )  # fmt: skip
    return replace(report, passed=passed, status="passed" if passed else "failed", reason=reason)
