"""Word diffs for people: a transcript against the proposal, a rewrite against the original turn.

Words are compared as whole tokens (split on whitespace), the way a reviewer reads a change.
"""

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class WordDiff:
    parts: list[tuple[str, str]]  # (op, text): op is "same", "del" or "ins"


def word_diff(base: str, other: str) -> WordDiff:
    a, b = base.split(), other.split()
    parts: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("same", " ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            parts.append(("del", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            parts.append(("ins", " ".join(b[j1:j2])))
    return WordDiff(parts)
