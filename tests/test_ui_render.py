"""Rendering: what the user typed stays text; answers keep their Markdown but fetch nothing.

A CommonMark renderer (markdown-it, with raw HTML on) stands in for the browser's here; the
browser test checks Gradio's own renderer.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from ui.context import section_context
from ui.render import (
    PREVIEW_CHARS,
    plain_text,
    render_audience,
    render_context,
    render_message,
    render_sources,
    render_status,
    render_user_message,
    safe_markdown,
)

markdown_it = pytest.importorskip("markdown_it")

URL = "http://127.0.0.1:9/a.png"
TYPED = [
    f"![x]({URL})",
    f'<img src="{URL}">',
    f"<img src={URL} onerror=alert(1)>",
    f"[click]({URL}) and [ref][1]\n\n[1]: {URL}",
    f"<{URL}>",
    "**bold** _it_ `code` ~~gone~~ a|b",
    "# heading\n- item\n+ item\n1. first\n2) second\n> quoted\n---\n===",
    "```\nfenced\n```",
    "&lt;b&gt; &amp; \\*not escaped\\* \\",
    "What is the recommended riluzole dose? (50 mg, 2x/day; 100%)",
]


class _Parts(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [value or "" for _, value in attrs]

    def handle_data(self, data):
        self.text += data


def render(markdown: str) -> _Parts:
    md = markdown_it.MarkdownIt("commonmark", {"html": True, "breaks": True})
    return _Parts(md.enable(["table", "strikethrough"]).render(markdown))


@pytest.mark.parametrize("typed", TYPED)
def test_typed_text_renders_as_exactly_that_text(typed):
    parts = render(plain_text(typed))
    assert set(parts.tags) <= {"p", "br"}, parts.tags
    assert parts.text.replace("\n", "") == typed.replace("\n", "")


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (f"see {URL} now", "http\\://"),
        ("see www.example.org now", "www\\."),
        ("mail a@b.org", "a\\@b.org"),
        ("see HTTPS://x.org", "HTTPS\\://"),
    ],
)
def test_bare_links_are_broken_for_gfm_autolinking(typed, kept):
    assert kept in plain_text(typed)
    assert kept in safe_markdown(typed)


def test_a_plain_question_is_left_as_it_is():
    question = "How is sialorrhea (drooling) treated in ALS? Is FVC < 50% & 2 > 1 bad?"
    assert plain_text(question) == question
    assert render_user_message(f"  {question}\n") == question


def test_a_long_question_is_cut_then_escaped():
    shown = render_user_message("*" * (PREVIEW_CHARS + 20))
    assert shown.startswith("\\*" * PREVIEW_CHARS + "…")
    assert f"({PREVIEW_CHARS + 20} characters)" in shown


ANSWER = (
    "**From the guidelines**\n"
    "- Start NIV when:\n"
    "  > “FVC <80% of normal with symptoms” [1]\n"
    "- Riluzole 50 mg twice daily [2], [3]"
)


def test_an_answer_keeps_its_markdown_and_markers():
    parts = render(safe_markdown(ANSWER))
    assert {"strong", "ul", "li", "blockquote"} <= set(parts.tags)
    assert {"a", "img"}.isdisjoint(parts.tags)
    for text in ("FVC <80% of normal", "[1]", "[2], [3]"):
        assert text in parts.text


@pytest.mark.parametrize("typed", [*TYPED, f"[1]({URL})", f"[1]\n\n[1]: {URL}", f"![1]({URL})"])
def test_an_answer_that_echoes_the_question_fetches_and_links_nothing(typed):
    d = {"answer": f"You asked: {typed}", "status": "refused", "reason": typed}
    parts = render(render_message(d))
    # Formatting may survive (an echoed "# x" is a heading); fetching, links and fences may not.
    assert {"a", "img", "script", "code", "pre"}.isdisjoint(parts.tags), parts.tags
    assert not any(URL in value for value in parts.attrs)


def test_the_refusal_reason_is_plain_text():
    d = {"answer": "I can't answer that.", "status": "refused", "reason": f"it names ![x]({URL})"}
    message = render_message(d)
    assert message.endswith(
        f"<small>Why I can't answer this one: {plain_text(d['reason'])}.</small>"
    )
    assert "img" not in render(message).tags


def test_the_audience_line_escapes_the_routing_reason():
    d = {"audience": "patient", "route": {"requested": "auto", "reason": f"words: ![x]({URL})"}}
    parts = render(render_audience(d))
    assert "img" not in parts.tags
    assert parts.text.strip() == f"Answering for: patient (auto: words: ![x]({URL}))"


# --- verify in context: the quoted passage inside its section ------------------------------------

SECTION = "First line of the section:\nWeakness <b>of</b> the hands, then the arms.\nCramps."
BLOCKS = [
    {"kind": "paragraph", "text": "First line of the section:", "start": 100, "end": 126},
    {"kind": "bullet", "text": "Weakness <b>of</b> the hands, then the arms.", "start": 129},
    {"kind": "bullet", "text": "Cramps.", "start": 176, "end": 183},
]
BLOCKS[1]["end"] = BLOCKS[1]["start"] + len(BLOCKS[1]["text"])
CITED = {
    "n": 2,
    "doc": "d",
    "title": "ALS & you",
    "publisher": "Example Society",
    "last_updated": "2025-04-28",
    "doc_audience": "patient",
    "section": "Signs › Early signs",
    "quote": BLOCKS[1]["text"],
    "start": BLOCKS[1]["start"],
    "end": BLOCKS[1]["end"],
    "references": [{"n": 4, "title": "A cohort study", "label": "Neurology, 2020"}],
}
CONTEXT = {"doc": "d", "section": ["Signs", "Early signs"], "blocks": BLOCKS}


class _Marked(HTMLParser):
    """The text inside <mark>, the text shown only to screen readers, and all the text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.marked = self.sr_only = self.text = ""
        self.tags: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        self.text += data
        if any(tag == "mark" for tag, _ in self.stack):
            self.marked += data
        if any("sr-only" in cls for _, cls in self.stack):
            self.sr_only += data


def test_the_context_view_highlights_exactly_the_quote_in_its_section():
    view = _Marked(render_context(CITED, CONTEXT))
    assert view.marked == CITED["quote"]
    assert view.text.count(CITED["quote"]) == 1
    for part in ("First line of the section:", "Cramps.", "Signs › Early signs"):
        assert part in view.text
    for part in ("ALS & you", "Example Society", "Last updated 2025-04-28"):
        assert part in view.text
    assert "Written for patients and caregivers" in view.text
    assert "[4] A cohort study — Neurology, 2020" in view.text
    assert "Back to the answer" in view.text
    assert "Quoted passage" in view.sr_only
    assert view.tags.count("li") == 2 and "b" not in view.tags  # document text is escaped


@pytest.mark.parametrize(
    ("start", "end", "marked"),
    [(129 + 9, 129 + 18, "<b>of</b>"), (120, 140, "ction:Weakness <b"), (300, 310, "")],
)
def test_only_the_characters_between_the_offsets_are_marked(start, end, marked):
    view = _Marked(render_context({**CITED, "start": start, "end": end}, CONTEXT))
    assert view.marked == marked


def test_the_sources_panel_is_a_labelled_region_with_each_citation_in_context():
    d = {"citations": [CITED, {**CITED, "n": 3}]}
    panel = render_sources(d, {2: CONTEXT})
    assert panel.startswith('<section class="sources" aria-labelledby="sources-heading">')
    assert '<h2 id="sources-heading">Sources</h2>' in panel
    assert 'aria-labelledby="source-2-title"' in panel
    assert panel.count('<details class="in-context"') == 1  # [3] has no context to show
    assert "Show [2] where it stands in the document" in panel
    assert render_sources(d).count("<details") == 0


def test_section_context_reads_the_document_at_the_citations_offsets():
    from assistant.answer import Citation
    from assistant.corpus import Corpus

    corpus = Corpus.load()
    doc = corpus.documents["001_c17d7968e434409d"]
    passage = next(p for p in doc.passages if p.kind == "bullet" and p.section)
    c = Citation(1, passage).to_dict()
    ctx = section_context(corpus, c)
    assert ctx["section"] == list(passage.section)
    same = [p for p in doc.passages if p.section == passage.section and p.kind != "disclaimer"]
    assert [b["start"] for b in ctx["blocks"]] == [p.start for p in same]
    assert all(doc.text[b["start"] : b["end"]] == b["text"] for b in ctx["blocks"])
    assert _Marked(render_context(c, ctx)).marked == c["quote"]
    # Offsets that do not hold the quote, or an unknown document, show no context.
    assert section_context(corpus, {**c, "start": c["start"] + 1}) is None
    assert section_context(corpus, {**c, "doc": "nope"}) is None
    assert section_context(None, c) is None


@pytest.mark.parametrize(
    ("d", "said"),
    [
        ({"status": "answered", "audience": "clinician", "citations": [{}, {}]}, "2 sources"),
        ({"status": "answered", "audience": "patient", "citations": [{}]}, "1 source."),
        ({"status": "refused", "audience": "patient"}, "could not answer"),
        ({"status": "emergency", "audience": "patient"}, "Emergency"),
    ],
)
def test_the_live_region_says_what_arrived(d, said):
    assert said in render_status(d)
