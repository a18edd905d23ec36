"""Rendering: what the user typed stays text; answers keep their Markdown but fetch nothing.

A CommonMark renderer (markdown-it, with raw HTML on) stands in for the browser's here; the
browser test checks Gradio's own renderer.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from ui.render import (
    PREVIEW_CHARS,
    plain_text,
    render_audience,
    render_message,
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
