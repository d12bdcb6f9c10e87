"""Transcription metrics: normalisation, WER/CER/MER, and the medoid transcript.

Choices:

* **Normalisation** follows the project's rules, applied to both sides and never to stored text.
  Unicode NFKC always; ``lowercase`` casefolds; ``strip_punctuation`` deletes an apostrophe between
  letters ("don't" → "dont") and turns any other punctuation into a space ("well-known" → "well
  known"); ``collapse_whitespace`` turns runs of whitespace into one space (words are always split
  on whitespace, so this rule only changes CER).
* **WER = (S + D + I) / N** over words, **CER** the same over characters, N = the reference length.
  Both can pass 1, so the kind's score is ``max(0, 1 − WER)``. An empty reference has WER 0 against
  an empty answer and 1 against anything else (jiwer 4 would return the insertion count, jiwer 3
  raised). MER = (S + D + I) / (S + D + I + H) is reported too.
* Edit distances come from **rapidfuzz** (C++, no dependencies, the engine jiwer itself uses),
  called directly: it takes word lists as well as strings. jiwer is a test-only oracle, which keeps
  its ``click`` CLI and its version-to-version edge cases off the request path. The edit counts
  are shared with other kinds' text: :func:`kinds.metrics.edit_counts`.
* **Consensus = the medoid**: the answer with the least weighted total word edit distance to the
  others (character distance breaks ties, then the order given), so the consensus is always a real
  human transcript. Confidence = weighted mean similarity of the others to it, similarity being
  the mean of 1 − WER both ways. ROVER word voting is left for later: it is order-dependent in
  crowd-kit and slow.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from kinds.metrics import EditCounts, check_weights, edit_counts, mean_pairwise
from kinds.metrics import word_accuracy as words_kept

RULES = ("lowercase", "strip_punctuation", "collapse_whitespace")


def normalise(text: str, rules: Sequence[str] = RULES) -> str:
    text = unicodedata.normalize("NFKC", text)
    if "lowercase" in rules:
        text = text.casefold()
    if "strip_punctuation" in rules:
        chars = []
        for i, char in enumerate(text):
            if not unicodedata.category(char).startswith("P"):
                chars.append(char)
            elif (
                char in "'’"
                and 0 < i < len(text) - 1
                and text[i - 1].isalnum()
                and text[i + 1].isalnum()
            ):
                continue
            else:
                chars.append(" ")
        text = "".join(chars)
    if "collapse_whitespace" in rules:
        text = " ".join(text.split())
    return text.strip()


@dataclass(frozen=True)
class TranscriptComparison:
    words: EditCounts
    characters: EditCounts

    @property
    def wer(self) -> float:
        return self.words.error_rate

    @property
    def cer(self) -> float:
        return self.characters.error_rate

    @property
    def mer(self) -> float:
        return self.words.match_error_rate

    @property
    def word_accuracy(self) -> float:
        return max(0.0, 1.0 - self.wer)

    @property
    def character_accuracy(self) -> float:
        return max(0.0, 1.0 - self.cer)


def compare(answer: str, gold: str, *, rules: Sequence[str] = RULES) -> TranscriptComparison:
    hypothesis, reference = normalise(answer, rules), normalise(gold, rules)
    return TranscriptComparison(
        words=edit_counts(reference.split(), hypothesis.split()),
        characters=edit_counts(reference, hypothesis),
    )


def word_accuracy(answer: str, gold: str, *, rules: Sequence[str] = RULES) -> float:
    """``max(0, 1 − WER)`` after normalisation: the kind's score."""
    return words_kept(normalise(answer, rules), normalise(gold, rules))


def agreement(texts: Sequence[str], *, rules: Sequence[str] = RULES) -> float:
    """Mean of 1 − WER over ordered pairs (each answer taken once as the reference)."""
    words = [normalise(text, rules).split() for text in texts]
    return mean_pairwise(words, lambda a, b: max(0.0, 1.0 - edit_counts(b, a).error_rate))


@dataclass(frozen=True)
class Medoid:
    index: int
    confidence: float


def medoid(
    texts: Sequence[str], *, rules: Sequence[str] = RULES, weights: Sequence[float] | None = None
) -> Medoid:
    w = check_weights(weights, len(texts))
    normalised = [normalise(text, rules) for text in texts]
    words = [text.split() for text in normalised]
    k = len(texts)
    word_distance = np.zeros((k, k))
    char_distance = np.zeros((k, k))
    similarity = np.ones((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            word_distance[i, j] = word_distance[j, i] = Levenshtein.distance(words[i], words[j])
            char_distance[i, j] = char_distance[j, i] = Levenshtein.distance(
                normalised[i], normalised[j]
            )
            both_ways = [
                max(0.0, 1.0 - edit_counts(words[i], words[j]).error_rate),
                max(0.0, 1.0 - edit_counts(words[j], words[i]).error_rate),
            ]
            similarity[i, j] = similarity[j, i] = sum(both_ways) / 2
    totals = [(word_distance[i] @ w, char_distance[i] @ w, i) for i in range(k)]
    best = min(totals)[2]
    if k == 1:
        return Medoid(index=0, confidence=1.0)
    others = [j for j in range(k) if j != best]
    confidence = float(similarity[best, others] @ w[others] / w[others].sum())
    return Medoid(index=best, confidence=confidence)
