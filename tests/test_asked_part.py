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


def test_the_aspect_asked_comes_from_the_asking_sentences_even_when_they_point_back(fake_bot):
    from assistant.evidence import Evidence
    from assistant.text import asking_sentences

    story = (
        "My sister was diagnosed with ALS last month. How long do people usually live with this?"
    )
    assert asked_part(story) is None  # "this" points back into the story
    assert asking_sentences(story) == "How long do people usually live with this?"
    assert asking_sentences("What is riluzole? How is it taken?") is None
    c = fake_bot.extractive
    assert "diagnosis" in c.aspects.asked(story)[0]  # the story's word, were it read as asked
    evidence = Evidence(c.tuning, c.structure, c.aspects, c.plain)
    q = evidence.question(story, fake_bot.retriever.search(story, 5), None)
    assert "prognosis" in q.asked and "diagnosis" not in q.asked
