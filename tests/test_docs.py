"""The repository explains itself: no pointer to a file that is not in it."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = re.compile(r"DESIGN\.md|STYLE\.md|shared/reference|\.\./shared")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    suffixes = {".py", ".md", ".html", ".js", ".css", ".txt", ".toml", ".cfg", ""}
    return [
        ROOT / name for name in names if Path(name).suffix in suffixes and (ROOT / name).is_file()
    ]


def test_no_file_points_outside_the_repository():
    offenders = []
    for path in tracked_text_files():
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(errors="ignore")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


MERGE_MARKER = re.compile(r"^(<{7} |>{7} |={7}$)")


def test_no_file_keeps_the_markers_of_a_merge_conflict():
    """A conflict resolved in a hurry once left both sides of a paragraph in the deployment
    guide, markers and all; nothing else would have noticed."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in tracked_text_files()
        for number, line in enumerate(path.read_text(errors="ignore").splitlines(), 1)
        if MERGE_MARKER.match(line)
    ]
    assert offenders == []


def test_every_local_link_of_the_markdown_files_exists():
    missing = []
    for path in tracked_text_files():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)#\s]+)", path.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (path.parent / target).exists():
                missing.append(f"{path.relative_to(ROOT)} → {target}")
    assert missing == []
