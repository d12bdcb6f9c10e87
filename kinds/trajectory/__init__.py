"""The ``trajectory`` task kind: agent runs judged step by step, corrected and turned into
training data. See ``kind.py`` for the shapes and ``docs/trajectories.md`` for the manual."""
