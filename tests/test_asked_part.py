"""Which sentences of a question ask, when others tell the asker's story (unit, no model)."""

from __future__ import annotations

import pytest

from assistant.text import asked_part


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        (
            "I keep dropping things and I tripped twice. What are the first signs usually like?",
            "What are the first signs usually like?",
        ),
        ("My dad was diagnosed. Is there any treatment", "Is there any treatment"),
        ("What is riluzole? How is it taken?", None),  # every sentence asks
        ("Tell me about riluzole.", None),  # none does
        ("The doctor wrote 'fasciculations'. What does that mean?", None),  # points back
    ],
)
def test_the_asking_sentences_are_told_from_the_story(text, asked):
    assert asked_part(text) == asked
