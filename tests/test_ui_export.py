"""Taking answers away: one answer or the whole conversation as Markdown (ui.export).

Answers come from ``fake_bot`` (the real corpus and rules, the fake embedder); a CommonMark
renderer stands in for whatever the Markdown is opened in.
"""

from __future__ import annotations

import re

import pytest

from ui.export import answer_markdown, conversation_markdown, slim

markdown_it = pytest.importorskip("markdown_it")

URL = "http://127.0.0.1:9/a.png"
QUESTIONS = [
    ("What is the recommended riluzole dose?", "clinician"),
    ("How is sialorrhea (drooling) treated in ALS?", "patient"),
    ("What is the capital of France?", "patient"),
]


def html(markdown: str) -> str:
    return markdown_it.MarkdownIt("commonmark", {"html": True}).render(markdown)


@pytest.fixture(scope="module")
def turns(fake_bot):
    return [fake_bot.ask(q, audience=a).to_dict() for q, a in QUESTIONS]


def test_a_three_turn_conversation_lists_each_answer_with_its_sources(turns):
    assert [t["status"] for t in turns] == ["answered", "answered", "refused"]
    md = conversation_markdown(turns)
    headings = re.findall(r"^## (.+)$", md, re.MULTILINE)
    assert headings == [f"{k}. {q}" for k, (q, _) in enumerate(QUESTIONS, 1)] + ["Disclaimer"]
    sections = re.split(r"^## ", md, flags=re.MULTILINE)[1:]
    for d, section in zip(turns, sections, strict=False):
        for c in d["citations"]:
            assert f"\\[{c['n']}\\] **" in section
            assert c["section"].split(" › ")[-1] in section
            if c["last_updated"]:  # the factsheet's sidecar gives no date
                assert str(c["last_updated"]) in section
        assert d["answer"].splitlines()[0].strip("*- ") in section
    assert turns[0]["citations"] and turns[1]["citations"]
    assert "No sources: this reply does not quote the guidelines." in sections[2]
    assert "Why it could not answer" in sections[2]


def test_each_disclaimer_is_given_once_saying_which_answers_it_covers(turns):
    md = conversation_markdown(turns)
    clinician, patient = turns[0]["disclaimer"], turns[1]["disclaimer"]
    assert clinician != patient
    tail = md.split("## Disclaimer", 1)[1]
    assert "_For answer 1:_" in tail and "_For answers 2, 3:_" in tail
    for text in (clinician, patient):
        first = text.split(".")[0]
        assert md.count(first) == 1, first
    only_patients = conversation_markdown(turns[1:])
    assert "_For all answers:_" in only_patients


def test_the_quotes_in_the_export_are_the_sources_word_for_word(turns):
    rendered = html(conversation_markdown(turns))
    text = re.sub(r"<[^>]+>", "", rendered).replace("&quot;", '"').replace("&amp;", "&")
    for d in turns:
        for c in d["citations"]:
            assert " ".join(c["quote"].split()) in text


def test_one_answer_carries_its_question_sources_and_disclaimer(turns):
    d = turns[0]
    md = answer_markdown(d)
    assert md.startswith(f"### Question: {d['question']}")
    assert "**Sources**" in md
    assert all(f"\\[{c['n']}\\]" in md for c in d["citations"])
    assert md.rstrip().endswith(d["disclaimer"].strip().splitlines()[-1].strip())
    assert answer_markdown(slim(d)) == md  # the page keeps only what the export needs


def test_what_the_user_typed_links_and_fetches_nothing():
    typed = f"![x]({URL}) <img src={URL}> [a]({URL}) www.example.invalid"
    d = {
        "question": typed,
        "audience": "patient",
        "status": "refused",
        "answer": f"You asked: {typed}",
        "reason": typed,
        "citations": [],
        "disclaimer": "Talk to your care team.",
    }
    for md in (conversation_markdown([d]), answer_markdown(d)):
        rendered = html(md)
        assert "<img" not in rendered and "<a " not in rendered, rendered
        assert URL not in re.findall(r'(?:src|href)="([^"]*)"', rendered)


def test_an_empty_conversation_says_so():
    md = conversation_markdown([])
    assert md.startswith("# ")
    assert "No questions were asked" in md
    assert "## Disclaimer" not in md
