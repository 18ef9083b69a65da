"""What the tests of a built-in widget share between its rules (tests/widgets) and its life in
Chromium (tests/browser): the quiz's default right answers and a question of one's own."""

from __future__ import annotations

# The default questions' right options.
RIGHT = [0, 1, 1]


def one_question(**changes):
    """A quiz question with its options, right answer and explanation; ``changes`` on top."""
    return {
        "question": "Which is a tree?",
        "options": ["Oak", "Granite"],
        "answer": 0,
        "explanation": "An oak is a tree; granite is a rock.",
        **changes,
    }
