"""The ``rubric_eval`` task kind: expert rubrics per prompt, and responses graded against them."""
