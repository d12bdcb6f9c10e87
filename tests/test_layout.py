"""The layout's rules: nothing outside ``kinds/`` asks for a kind by name or by class, and the
import-linter contracts (``make lint``) cover every app and every kind and refuse what they say.

A screen or a service that needs something of a kind asks the kind (``TaskKind``: its templates,
``context_template``, ``model_figures``, ``live_mode`` …); comparing ``project.kind`` with a
name, or a kind with its class, would make a new kind a change in many places instead of one
folder. The grep covers Python, templates and the ES modules (``static/`` and each kind's own,
which may name only its own kind); Python imports are the linter's.
"""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from django.conf import settings

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
# The companion app of a kind may know that kind's class (as the linter lets it import it).
COMPANIONS = {"evals/": "rubric_eval"}
SKIPPED_PARTS = {"migrations", "__pycache__", "node_modules", "media", "staticfiles"}
SUFFIXES = (".py", ".html", ".js")


def comparison(name: str) -> re.Pattern:
    quoted = rf"""["']{re.escape(name)}["']"""
    return re.compile(
        rf"(?:===?|!==?)\s*{quoted}"  # kind == "bbox", kind === "bbox"
        rf"|{quoted}\s*(?:===?|!==?)"  # "bbox" == kind
        rf"|\bin\s*[\(\[\{{][^\)\]\}}]*{quoted}"  # kind in ("bbox", …)
        rf"|kinds\.(?:get|find)\(\s*{quoted}"  # kinds.get("bbox")
        rf"|\bcase\s+{quoted}\s*:"  # switch (kind) { case "bbox": … }, match … case "bbox":
        rf"|\[[^\]]*{quoted}[^\]]*\]\s*\.includes\("  # ["bbox", …].includes(kind)
    )


def class_check(name: str) -> re.Pattern:
    """``isinstance(kind, RubricEvalKind)``: asking a kind what it is by its class."""
    return re.compile(rf"\b(?:isinstance|issubclass)\([^)]*\b{re.escape(name)}\b")


def kind_folder(relative: str) -> str | None:
    """The kind whose folder holds this file (``kinds/bbox/…`` → ``bbox``), else ``None``."""
    parts = relative.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "kinds" else None


def source_files():
    """Every file to check, with the kinds it may name: its own kind's folder may name its kind
    in its templates and ES modules (a conversation's ``write: "conversation"``); the shared
    modules of ``kinds/`` and a kind's Python are left to the linter."""
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if path.suffix not in SUFFIXES or SKIPPED_PARTS & set(path.parts):
            continue
        own = kind_folder(relative)
        if own is not None and path.suffix in (".html", ".js"):
            yield relative, path.read_text(encoding="utf-8"), {own}
            continue
        if relative.startswith(ALLOWED):
            continue
        yield relative, path.read_text(encoding="utf-8"), set()


def kind_name_comparisons() -> list[str]:
    patterns = {name: comparison(name) for name in kinds.registry()}
    found = []
    for relative, text, own in source_files():
        checked = [pattern for name, pattern in patterns.items() if name not in own]
        for number, line in enumerate(text.splitlines(), start=1):
            if any(pattern.search(line) for pattern in checked):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def kind_class_checks() -> list[str]:
    """``isinstance``/``issubclass`` with a concrete kind class outside that kind's folder (and
    its companion app)."""
    classes = {name: class_check(type(kind).__name__) for name, kind in kinds.registry().items()}
    found = []
    for relative, text, _own in source_files():
        if not relative.endswith(".py"):
            continue
        companion = next((k for app, k in COMPANIONS.items() if relative.startswith(app)), None)
        checked = [pattern for name, pattern in classes.items() if name != companion]
        for number, line in enumerate(text.splitlines(), start=1):
            if any(pattern.search(line) for pattern in checked):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_module_or_template_outside_kinds_compares_a_kind_name():
    found = kind_name_comparisons()
    assert not found, "Ask the kind instead of comparing its name:\n" + "\n".join(found)


def test_no_module_outside_a_kind_asks_a_kind_its_class():
    found = kind_class_checks()
    assert not found, "Ask the kind (a TaskKind attribute) instead of its class:\n" + "\n".join(
        found
    )


def test_the_check_finds_a_comparison(tmp_path):
    patterns = [comparison(name) for name in kinds.registry()]
    caught = [
        'if project.kind == "bbox":',
        "{% if project.kind == 'transcription' %}",
        'if kind.name in ("ranking", "conversation"):',
        'kind = kinds.get("ranking")',
        '"conversation" != project.kind',
        'if (root.dataset.kind === "bbox") {',
        "const boxes = 'bbox' === kind;",
        'case "ranking":',
        '["bbox", "transcription"].includes(kind)',
    ]
    left = [
        '"kind": "bbox",',
        "editor-{{ project.kind }}",
        'PROJECTS = {"bbox": "Street"}',
        'import { mount } from "./bbox/editor.js";',
    ]
    assert all(any(p.search(line) for p in patterns) for line in caught)
    assert not any(p.search(line) for p in patterns for line in left)
    checks = [class_check(type(kind).__name__) for kind in kinds.registry().values()]
    assert any(p.search("if isinstance(kind, RubricEvalKind) and x:") for p in checks)
    assert any(p.search("issubclass(cls, (BoundingBoxKind, TaskKind))") for p in checks)
    assert not any(p.search("isinstance(kind, TaskKind)") for p in checks)


def test_the_walk_reads_es_modules_and_lets_a_kind_name_itself_only():
    walked = {relative: own for relative, _text, own in source_files()}
    assert walked["static/js/work.js"] == set()
    assert walked["kinds/conversation/static/conversation/editor.js"] == {"conversation"}
    assert "kinds/conversation/metrics.py" not in walked  # a kind's Python: the linter's


# --- the import-linter contracts --------------------------------------------------------------

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LINTER = PYPROJECT["tool"]["importlinter"]


def contract(contract_id: str) -> dict:
    found = [c for c in LINTER["contracts"] if c["id"] == contract_id]
    assert found, f"pyproject.toml has no import-linter contract {contract_id!r}"
    return found[0]


def local_apps() -> list[str]:
    """The installed apps that are LabelHub's own (a folder here), as dotted names."""
    return [app for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()]


def test_every_app_is_in_one_layer_and_every_kind_in_the_contracts():
    packages = {app.split(".")[0] for app in local_apps()}
    assert packages <= set(LINTER["root_packages"]), "add the app to root_packages"
    layers = [{name.strip() for name in layer.split("|")} for layer in contract("layers")["layers"]]
    for package in packages:
        assert sum(package in layer for layer in layers) == 1, f"{package}: in one layer"
    kind_apps = {app for app in local_apps() if app.startswith("kinds.")}
    assert set(contract("kinds-through-the-contract")["forbidden_modules"]) == kind_apps
    assert contract("kinds-independent")["modules"] == ["kinds.*"]


def test_lint_imports_refuses_an_upward_import_a_kind_reaching_into_another_and_an_app_into_one(
    tmp_path,
):
    """The contracts of pyproject.toml, run on a copy of the code with three imports planted: one
    up the layers, one from a kind into another, one from an app into a kind's package."""
    for package in LINTER["root_packages"]:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=lambda folder, names: [
                n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = {
        "kinds/streams.py": "import labelhub.models",
        "kinds/bbox/metrics.py": "import kinds.ranking.metrics",
        "exports/forms.py": "import kinds.bbox.formats",
    }
    for relative, line in planted.items():
        with (tmp_path / relative).open("a", encoding="utf-8") as file:
            file.write(f"\n{line}  # planted\n")
    run = subprocess.run(
        [Path(sys.executable).parent / "lint-imports", "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    for name in (c["name"] for c in LINTER["contracts"]):
        assert f"{name} BROKEN" in out, out
    assert "kinds.streams -> labelhub.models" in out
    assert "kinds.bbox.metrics -> kinds.ranking.metrics" in out
    assert "exports.forms -> kinds.bbox.formats" in out
