"""The layout's rules that a linter cannot say: nothing outside ``kinds/`` asks for a kind by name.

A screen or a service that needs something of a kind asks the kind (``TaskKind``: its templates,
``context_template``, ``model_figures``, ``live_mode`` …); comparing ``project.kind`` with a
name would make a new kind a change in many places instead of one folder.
"""

import re
from pathlib import Path

import kinds

ROOT = Path(__file__).resolve().parent.parent

# Where a kind's name may be compared, and why:
ALLOWED = (
    "kinds/",  # the kinds themselves
    "tests/",  # tests build projects of each kind
    "reference_backends/",  # its own package: a model backend answers the kinds it knows
    "docs/",  # the screenshot script walks the demo's projects of each kind
    "demo/",  # the demo's content is written per kind
    "bench/",  # a bench builds a project of the kind it measures
    ".venv/",
)
SKIPPED_PARTS = {"migrations", "__pycache__", "node_modules", "media", "staticfiles"}


def comparison(name: str) -> re.Pattern:
    quoted = rf"""["']{re.escape(name)}["']"""
    return re.compile(
        rf"(?:==|!=)\s*{quoted}"  # kind == "bbox"
        rf"|{quoted}\s*(?:==|!=)"  # "bbox" == kind
        rf"|\bin\s*[\(\[\{{][^\)\]\}}]*{quoted}"  # kind in ("bbox", …)
        rf"|kinds\.(?:get|find)\(\s*{quoted}"  # kinds.get("bbox")
    )


def source_files():
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if path.suffix not in (".py", ".html") or SKIPPED_PARTS & set(path.parts):
            continue
        if relative.startswith(ALLOWED):
            continue
        yield relative, path.read_text(encoding="utf-8")


def kind_name_comparisons() -> list[str]:
    patterns = [comparison(name) for name in kinds.registry()]
    found = []
    for relative, text in source_files():
        for number, line in enumerate(text.splitlines(), start=1):
            if any(pattern.search(line) for pattern in patterns):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_module_or_template_outside_kinds_compares_a_kind_name():
    found = kind_name_comparisons()
    assert not found, "Ask the kind instead of comparing its name:\n" + "\n".join(found)


def test_the_check_finds_a_comparison(tmp_path):
    patterns = [comparison(name) for name in kinds.registry()]
    caught = [
        'if project.kind == "bbox":',
        "{% if project.kind == 'transcription' %}",
        'if kind.name in ("ranking", "conversation"):',
        'kind = kinds.get("ranking")',
        '"conversation" != project.kind',
    ]
    left = ['"kind": "bbox",', "editor-{{ project.kind }}", 'PROJECTS = {"bbox": "Street"}']
    assert all(any(p.search(line) for p in patterns) for line in caught)
    assert not any(p.search(line) for p in patterns for line in left)
