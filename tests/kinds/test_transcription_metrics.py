"""Transcript scoring, agreement and the medoid: hand-computed cases, jiwer as the oracle."""

import random

import jiwer
import pytest

from kinds.transcription import metrics as text
from kinds.transcription.kind import TranscriptionKind

KIND = TranscriptionKind()
SCHEMA = {"media": "audio", "normalisation": list(text.RULES), "segments": False}
RAW = {**SCHEMA, "normalisation": []}


def said(words, **extra):
    return {"text": words, **extra}


def test_normalisation_applies_the_projects_rules():
    assert text.normalise("  Don't  STOP—now! ", text.RULES) == "dont stop now"
    assert text.normalise("Well-known, ‘quoted’ words.", text.RULES) == "well known quoted words"
    assert text.normalise("Don't  STOP", []) == "Don't  STOP"
    assert text.normalise("Ａ  b", ["collapse_whitespace"]) == "A b"  # NFKC always


def test_one_dropped_word_of_six_scores_five_sixths():
    gold, answer = said("The cat sat on the mat."), said("the cat sat on mat")
    assert KIND.score(answer, gold, schema=SCHEMA, quality={}) == pytest.approx(5 / 6)
    comparison = KIND.compare(answer, gold, schema=SCHEMA, quality={})
    assert comparison.words.deletions == 1
    assert comparison.wer == pytest.approx(1 / 6)
    assert comparison.cer == pytest.approx(4 / 22)  # "the " deleted from 22 characters


def test_normalisation_rules_change_the_score():
    gold, answer = said("Hello, World"), said("hello world")
    assert KIND.score(answer, gold, schema=SCHEMA, quality={}) == 1.0
    assert KIND.score(answer, gold, schema=RAW, quality={}) == 0.0


def test_wer_above_one_clamps_the_score_to_zero():
    comparison = text.compare("b c d", "a")
    assert comparison.wer == 3.0
    assert comparison.word_accuracy == 0.0
    assert KIND.score(said("b c d"), said("a"), schema=SCHEMA, quality={}) == 0.0


def test_empty_reference_rules():
    assert KIND.score(said(""), said(""), schema=SCHEMA, quality={}) == 1.0
    assert KIND.score(said("words"), said(""), schema=SCHEMA, quality={}) == 0.0
    assert KIND.score(said(""), said("two words"), schema=SCHEMA, quality={}) == 0.0
    assert text.compare("...", "").cer == 0.0  # punctuation only normalises to nothing


def test_wer_cer_and_mer_match_jiwer():
    rng = random.Random(2)
    vocabulary = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "it"]
    for _ in range(200):
        reference = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 12)))
        hypothesis = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 12)))
        ours = text.compare(hypothesis, reference, rules=[])
        words = jiwer.process_words(reference, hypothesis) if hypothesis else None
        assert ours.wer == pytest.approx(jiwer.wer(reference, hypothesis) if hypothesis else 1.0)
        assert ours.cer == pytest.approx(jiwer.cer(reference, hypothesis) if hypothesis else 1.0)
        if words is not None:
            assert ours.words.errors == (words.substitutions + words.deletions + words.insertions)
            assert ours.mer == pytest.approx(words.mer)


def test_agreement_is_symmetric_and_one_for_identical_answers():
    answers = [said("the quick brown fox"), said("the quick brown"), said("a slow red fox")]
    forward = KIND.agreement(answers, schema=SCHEMA, quality={})
    assert forward == pytest.approx(KIND.agreement(answers[::-1], schema=SCHEMA, quality={}))
    assert 0 < forward < 1
    assert KIND.agreement([said("same words")] * 3, schema=SCHEMA, quality={}) == 1.0
    assert KIND.agreement([said("alone")], schema=SCHEMA, quality={}) == 1.0
    # the two directions of one pair: 1 − 1/4 and 1 − 0/3 (a deletion against an insertion)
    pair = KIND.agreement(answers[:2], schema=SCHEMA, quality={})
    assert pair == pytest.approx((0.75 + (1 - 1 / 3)) / 2)


def test_consensus_is_the_medoid_with_its_mean_similarity():
    answers = [
        said("a quick brown fox jumps over"),
        said("The quick brown fox jumps.", segments=[{"start": 0, "end": 1, "text": "x"}]),
        said("the quick brown fox jumped"),
    ]
    consensus = KIND.consolidate(answers, schema=SCHEMA, quality={})
    assert consensus.result == answers[1]  # the stored text, not the normalised one
    # similarity with "…jumped": 0.8 both ways; with "a … over": (0.6 + 4/6) / 2
    assert consensus.confidence == pytest.approx((0.8 + (0.6 + 4 / 6) / 2) / 2)


def test_weights_pick_the_trusted_transcript_between_two():
    answers = [said("one two three"), said("one too three")]
    assert KIND.consolidate(answers, schema=SCHEMA, quality={}).result == answers[0]
    trusted = KIND.consolidate(answers, schema=SCHEMA, quality={}, weights=[1, 3])
    assert trusted.result == answers[1]
    assert trusted.confidence == pytest.approx(2 / 3)
