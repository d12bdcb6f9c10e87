"""State checks: assertions on the files an agent leaves behind, evaluated in plain Python.

This module uses the standard library only, on purpose: LabelHub evaluates the checks with it
after a proof's run, and the Harbor export ships this very file as ``tests/checks.py``, run by
``tests/test.sh`` inside the task's container (``python3 checks.py CHECKS_JSON APP_DIR`` prints
the reward), so a task is judged the same way here and there.

A check is ``{"file": "out/totals.json", "json": "$.invoices[0].total"?, "csv": {"row": 2,
"column": "amount"}?, "op": "eq", "value": 42, "weight": 1?}``: the target is the file's text,
a value inside a JSON file (``json``: ``$``, ``.key``, ``[index]``, ``["key"]``), or one cell of
a CSV file (``csv``: ``row`` counts data rows from 1, ``column`` is a header name or a
0-based index). Operators: ``eq``, ``neq``, ``gt``, ``gte``, ``lt``, ``lte``, ``in`` (the value
is one of a list), ``contains`` (text holds the value, a list has it as an item, an object as a
key), ``regex`` (Python ``re.search``), ``exists`` (``value`` true or false: the target is there
or not), ``deep_equal`` (JSON values equal all the way down). Numbers compare as numbers, also
when the target is text such as a CSV cell. ``mode`` ``all``: the reward is 1 when every check
holds, else 0; ``weighted``: the share of the weights of the checks that hold.
"""

import csv
import io
import json
import math
import os
import re
import stat
import sys

OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "contains", "regex", "exists")
OPERATORS += ("deep_equal",)
MODES = ("all", "weighted")
MAX_READ = 5_000_000
_MISSING = object()


class PathError(ValueError):
    """A JSON path that cannot be read."""


def parse_json_path(path: str) -> list:
    """``$.a.b[0]["c d"]`` (or ``a.b.0``) as a list of keys and indexes."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    parts: list = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == ".":
            i += 1
            match = re.match(r"[^.\[\]]+", text[i:])
            if not match:
                raise PathError("A '.' must be followed by a key.")
            key = match.group(0)
            parts.append(int(key) if key.isdecimal() else key)
            i += len(key)
        elif char == "[":
            close = text.find("]", i)
            if close < 0:
                raise PathError("A '[' is not closed.")
            inner = text[i + 1 : close].strip()
            if inner.isdecimal():
                parts.append(int(inner))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                parts.append(inner[1:-1])
            else:
                raise PathError("Inside [ ] put an index (0, 1, …) or a quoted key.")
            i = close + 1
        elif not parts and i == 0:
            match = re.match(r"[^.\[\]]+", text)
            key = match.group(0) if match else ""
            parts.append(int(key) if key.isdecimal() else key)
            i += len(key)
        else:
            raise PathError(f"Unexpected {char!r} at {i + 1}.")
    return parts


def _walk(value: object, parts: list) -> object:
    for part in parts:
        if isinstance(value, dict) and isinstance(part, str | int) and str(part) in value:
            value = value[str(part)]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return _MISSING
    return value


def _csv_cell(text: str, cell: dict) -> object:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return _MISSING
    header, data = rows[0], rows[1:]
    column = cell.get("column")
    if isinstance(column, str) and not column.isdecimal():
        if column not in header:
            return _MISSING
        index = header.index(column)
    else:
        index = int(column)
    row = int(cell.get("row", 1))
    if not 1 <= row <= len(data) or not 0 <= index < len(data[row - 1]):
        return _MISSING
    return data[row - 1][index]


def target_value(check: dict, read) -> object:
    """The value a check looks at, or ``_MISSING``. ``read(name)`` gives a file's text or None.

    Raises ``ValueError`` when the file is there but is not what the check reads (bad JSON)."""
    text = read(check["file"])
    if text is None:
        return _MISSING
    if "json" in check:
        try:
            document = json.loads(text)
        except ValueError as error:
            raise ValueError(f"{check['file']} is not JSON ({error.args[0]}).") from None
        return _walk(document, parse_json_path(check["json"]))
    if "csv" in check:
        return _csv_cell(text, check["csv"])
    return text


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _equal(actual: object, expected: object) -> bool:
    if isinstance(actual, str) and not isinstance(expected, str):
        number = _number(actual)
        if number is not None and _number(expected) is not None:
            return number == _number(expected)
        if isinstance(expected, bool | type(None)):
            return actual.strip().lower() == json.dumps(expected)
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.rstrip("\n") == expected.rstrip("\n")  # a file's last newline aside
    return actual == expected


def holds(op: str, actual: object, expected: object) -> bool:
    """Whether ``actual op expected``; ``actual`` is ``_MISSING`` when the target is absent."""
    if op == "exists":
        return (actual is not _MISSING) == bool(expected)
    if actual is _MISSING:
        return False
    if op == "eq":
        return _equal(actual, expected)
    if op == "neq":
        return not _equal(actual, expected)
    if op in ("gt", "gte", "lt", "lte"):
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
    if op == "in":
        return any(_equal(actual, item) for item in expected)
    if op == "contains":
        if isinstance(actual, str):
            return str(expected) in actual
        if isinstance(actual, list):
            return any(_equal(item, expected) for item in actual)
        if isinstance(actual, dict):
            return str(expected) in actual
        return False
    if op == "regex":
        text = actual if isinstance(actual, str) else json.dumps(actual)
        return re.search(expected, text[:MAX_READ]) is not None
    if op == "deep_equal":
        if isinstance(actual, str):
            try:
                actual = json.loads(actual)
            except ValueError:
                return False
        return actual == expected
    raise ValueError(f"Unknown operator {op!r}.")


def evaluate(checks: list[dict], *, read, mode: str = "all") -> tuple[float, list[dict]]:
    """The reward (0..1) and one line per check: ``{"index", "passed", "actual", "message"}``."""
    lines = []
    total = passed_weight = 0.0
    for index, check in enumerate(checks):
        weight = float(check.get("weight", 1))
        total += weight
        try:
            actual = target_value(check, read)
            passed = holds(check["op"], actual, check.get("value"))
            shown = "(missing)" if actual is _MISSING else actual
            message = ""
        except (ValueError, re.error, PathError) as error:
            passed, shown, message = False, "(unreadable)", str(error)
        if passed:
            passed_weight += weight
        if isinstance(shown, str) and len(shown) > 200:
            shown = shown[:200] + "…"
        lines.append({"index": index, "passed": passed, "actual": shown, "message": message})
    if not checks:
        return 1.0, lines
    if mode == "weighted":
        return (passed_weight / total if total else 0.0), lines
    return (1.0 if all(line["passed"] for line in lines) else 0.0), lines


def tree_reader(root: str):
    """``read(name)`` for the files under ``root``: text of a regular file inside the tree, or
    None. Symbolic links are never followed (a run could point one at the host's files), nor
    are names that climb out of the tree; a file is read up to ``MAX_READ`` bytes."""
    base = os.path.realpath(root)

    def read(name: str) -> str | None:
        parts = [part for part in name.split("/") if part not in ("", ".")]
        if ".." in parts:
            return None
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                flags = os.O_RDONLY | os.O_NOFOLLOW | (0 if last else os.O_DIRECTORY)
                try:
                    new = os.open(part, flags, dir_fd=fd)
                except OSError:
                    return None
                os.close(fd)
                fd = new
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            with os.fdopen(os.dup(fd), "rb") as handle:
                return handle.read(MAX_READ).decode("utf-8", errors="replace")
        finally:
            os.close(fd)

    return read


def main(argv: list[str]) -> int:
    """``python3 checks.py CHECKS_JSON APP_DIR``: print the reward, and each check to stderr."""
    spec = json.loads(open(argv[1], encoding="utf-8").read())  # noqa: SIM115
    reward, lines = evaluate(
        spec["checks"], read=tree_reader(argv[2]), mode=spec.get("mode", "all")
    )
    for line in lines:
        state = "ok  " if line["passed"] else "FAIL"
        print(f"{state} check {line['index'] + 1}: {line['actual']!r} {line['message']}",
              file=sys.stderr)  # fmt: skip
    print(f"{reward:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
