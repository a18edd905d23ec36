"""Rendering for the chat page: pure functions of ``Answer.to_dict()`` to HTML or Markdown.

Nothing here imports Gradio. HTML goes to ``gr.HTML`` (the sources panel, the banner); Markdown
goes to the chat and ``gr.Markdown``.
"""

from __future__ import annotations

import html
import re
from typing import Any

PREVIEW_CHARS = 280

SEARCHING = "Searching the guidelines…"
DRAFTING = "Drafting… (not yet checked)"
GENERIC_ERROR = (
    "Sorry, something went wrong while answering. Please try again, or rephrase the question."
)
# Any index error while answering (a Chroma server outage...): the page keeps working after it.
INDEX_UNAVAILABLE = "The guideline index is not reachable right now; try again in a moment."
EMERGENCY_FALLBACK = "If this is an emergency, call your local emergency number now."
SOURCES_OPEN = '<section class="sources" aria-labelledby="sources-heading">'
SOURCES_HEADING = '<h2 id="sources-heading">Sources</h2>'
SOURCES_PLACEHOLDER = (
    f"{SOURCES_OPEN}{SOURCES_HEADING}"
    '<p class="muted">The passages each answer is based on appear here, quoted word for word.'
    "</p></section>"
)


# Markdown that makes the browser fetch, link or format: escaped in text the user supplied.
_MARKUP = re.compile(r"([\\`*_\[\]~|])")
_LINE_START = re.compile(r"^([ \t]*)([#+=>-])", re.MULTILINE)  # headings, lists, quotes
_ORDERED = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)  # "1. " starts a list
_BARE_LINK = re.compile(r"(?i)(?:https?|ftp)(?=://)|www(?=\.)")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # an HTML tag, comment or <scheme:...> autolink
_ENTITY = re.compile(r"&(?=#?\w+;)")  # "&lt;" typed should show as typed
# In an answer: a "[" that is not a citation marker like [3] (one followed by "(", "[" or ":"
# would start a link, an image or a reference definition).
_NOT_A_MARKER = re.compile(r"\[(?!\d+\](?![(\[:]))")


def _no_bare_links(text: str) -> str:
    """Break GFM's bare autolinks (http://, www., e-mail) without changing what is shown."""
    text = _BARE_LINK.sub(lambda m: m.group(0) + "\\", text)
    return text.replace("@", "\\@")


def plain_text(value: Any) -> str:
    """Markdown that shows ``value`` exactly as typed: no images, links, HTML or formatting."""
    text = _MARKUP.sub(r"\\\1", "" if value is None else str(value))
    text = _TAG_START.sub("&lt;", _ENTITY.sub("&amp;", text))
    text = _ORDERED.sub(r"\1\\\2", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    return _no_bare_links(text)


def safe_markdown(value: Any) -> str:
    """The assistant's Markdown, kept (bold, lists, quotes, [n] markers) but inert.

    An answer may echo the question, so nothing in it may fetch or link: raw HTML, images,
    links, reference definitions, code fences and bare URLs are shown as text.
    """
    text = _TAG_START.sub("&lt;", ("" if value is None else str(value)).replace("\\", "\\\\"))
    text = _NOT_A_MARKER.sub(r"\\[", text).replace("`", "\\`").replace("~", "\\~")
    return _no_bare_links(text)


def esc(value: Any) -> str:
    """HTML-escape text for the sources panel (braces and $ too: gr.HTML runs a template)."""
    text = html.escape("" if value is None else str(value), quote=True)
    return text.replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;")


def _audience_words(audience: str | None) -> str:
    return {"clinician": "clinicians", "patient": "patients and caregivers"}.get(
        audience or "", audience or "unknown"
    )


def render_sources(d: dict, contexts: dict | None = None) -> str:
    """The sources panel: verbatim threshold facts, differences, then every citation, each
    with its place in the document when ``contexts`` (citation number -> section) has it."""
    citations = d.get("citations") or []
    contexts = contexts or {}
    out = [SOURCES_OPEN, SOURCES_HEADING]
    out += _facts(d.get("facts") or [])
    out += _differences(d.get("differences") or [], {c.get("n"): c.get("title") for c in citations})
    if not citations:
        out.append('<p class="muted">No sources: this reply does not quote the guidelines.</p>')
    for c in citations:
        out += _citation(c, contexts.get(c.get("n")))
    details = _details(d)
    if details:
        out.append(f'<div class="details"><h3>How this answer was found</h3>{details}</div>')
    out.append("</section>")
    return "".join(out)


def _facts(facts: list[dict]) -> list[str]:
    if not facts:
        return []
    out = ['<div class="facts"><h3>Verbatim threshold facts</h3><ul>']
    for f in facts:
        n = f.get("n")
        mark = f" [{esc(n)}]" if n is not None else ""
        out.append(f'<li class="fact">“{esc(f.get("text"))}”{mark}</li>')
    out.append("</ul></div>")
    return out


def _differences(differences: list[dict], titles: dict) -> list[str]:
    if not differences:
        return []
    out = ['<div class="differ"><h3>Where the sources differ</h3>']
    for diff in differences:
        out.append(f"<p><strong>{esc(diff.get('quantity'))}</strong></p><ul>")
        for item in diff.get("items") or []:
            n = item.get("n")
            where = f" — {esc(titles.get(n, item.get('doc')))} [{esc(n)}]" if n else ""
            out.append(f"<li>“{esc(item.get('text'))}”{where}</li>")
        out.append("</ul>")
    out.append("</div>")
    return out


def _doc_meta(c: dict) -> list[str]:
    meta = []
    if c.get("publisher"):
        meta.append(esc(c["publisher"]))
    meta.append(f"Last updated {esc(c.get('last_updated') or 'unknown')}")
    if c.get("doc_audience"):
        meta.append(f"Written for {esc(_audience_words(c['doc_audience']))}")
    return meta


def _references(c: dict) -> list[str]:
    labels = []
    for r in c.get("references") or []:
        label = esc(r.get("label") or r.get("source") or "")
        title = esc(r.get("title") or "")
        num = f"[{esc(r.get('n'))}] " if r.get("n") is not None else ""
        labels.append(f"{num}{title} — {label}" if title else f"{num}{label}")
    return [f'<div class="source-refs">References: {"; ".join(labels)}</div>'] if labels else []


def _citation(c: dict, context: dict | None = None) -> list[str]:
    n = esc(c.get("n"))
    meta = [f"Section: {esc(c.get('section') or '—')}", *_doc_meta(c)]
    out = [
        f'<div class="source" id="source-{n}" role="group" aria-labelledby="source-{n}-title">',
        f'<h3 class="source-head" id="source-{n}-title">[{n}] {esc(c.get("title"))}</h3>',
        f'<div class="source-meta">{" · ".join(meta)}</div>',
    ]
    if c.get("lead"):
        out.append(f'<div class="source-meta">Under: {esc(c["lead"])}</div>')
    out.append(f'<blockquote class="quote">{esc(c.get("quote"))}</blockquote>')
    out += _references(c)
    unlisted = c.get("unlisted_markers") or []
    if unlisted:
        marks = ", ".join(esc(m) for m in unlisted)
        out.append(
            f'<div class="source-refs">Reference markers in the source without a listed '
            f"reference: {marks}</div>"
        )
    if context:
        out.append(render_context(c, context))
    out.append("</div>")
    return out


def _highlighted(block: dict, start: int, end: int) -> str:
    """A block's text, the part inside ``[start, end)`` (document offsets) in ``<mark>``."""
    text, at = block["text"], block["start"]
    a, b = max(start - at, 0), min(end - at, len(text))
    if a >= b:
        return esc(text)
    return (
        f'{esc(text[:a])}<span class="sr-only">Quoted passage: </span><mark>{esc(text[a:b])}'
        f'</mark><span class="sr-only"> (end of the quoted passage)</span>{esc(text[b:])}'
    )


def render_context(c: dict, context: dict) -> str:
    """A citation where it stands: its document's title, date, audience and section, the
    section's passages with the quote highlighted, its references, and a way back.

    ``context`` is :func:`ui.context.section_context`'s ``{"section", "blocks"}``; each block's
    ``start``/``end`` are offsets in the document, like the citation's own.
    """
    n = esc(c.get("n"))
    start, end = c.get("start") or 0, c.get("end") or 0
    path = " › ".join(esc(h) for h in context.get("section") or []) or esc(c.get("title"))
    body: list[str] = []
    items: list[str] = []
    for block in context.get("blocks") or []:
        text = _highlighted(block, start, end)
        if block.get("kind") == "bullet":
            items.append(f"<li>{text}</li>")
            continue
        if items:
            body.append(f"<ul>{''.join(items)}</ul>")
            items = []
        body.append(f"<p>{text}</p>")
    if items:
        body.append(f"<ul>{''.join(items)}</ul>")
    return "".join(
        [
            f'<details class="in-context" id="context-{n}">',
            f"<summary>Show [{n}] where it stands in the document</summary>",
            f'<div class="context" role="region" aria-label="[{n}] in its document">',
            f'<p class="context-doc"><strong>{esc(c.get("title"))}</strong></p>',
            f'<div class="source-meta">{" · ".join(_doc_meta(c))}</div>',
            f'<p class="context-path">Section: {path}</p>',
            f'<div class="context-text">{"".join(body)}</div>',
            *_references(c),
            '<button type="button" class="back-to-answer">Back to the answer</button>',
            "</div></details>",
        ]
    )


def _details(d: dict) -> str:
    items = []
    query = d.get("search_query")
    if query and query != d.get("question"):
        items.append(f"Searched for: “{esc(query)}”")
    guard = d.get("guard") or {}
    for fix in guard.get("spelling") or []:
        items.append(f"Spelling: {esc(fix)}")
    for note in guard.get("notes") or []:
        items.append(esc(note))
    if d.get("fallback_reason"):
        items.append(f"Note: {esc(d['fallback_reason'])}")
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def render_message(d: dict) -> str:
    """The assistant's chat bubble (Markdown): the answer, and why when it refused."""
    text = safe_markdown(d.get("answer") or "")
    if d.get("status") == "refused" and d.get("reason"):
        text += f"\n\n<small>Why I can't answer this one: {plain_text(d['reason'])}.</small>"
    return text


def render_user_message(text: str) -> str:
    """The user's chat bubble: the question shown as typed (cut when long), never rendered."""
    return plain_text(preview(text))


def render_draft(text: str) -> str:
    """An unchecked draft from a language model, as inert as a final answer."""
    return safe_markdown(text) or "…"


def render_audience(d: dict) -> str:
    """The line under the chat: which audience the answer was written for, and why."""
    route = d.get("route") or {}
    used = d.get("audience") or route.get("audience") or "unknown"
    if route.get("requested") == "auto":
        why = f"auto: {route['reason']}" if route.get("reason") else "chosen automatically"
    else:
        why = "as you chose"
    line = f"Answering for: {plain_text(used)} ({plain_text(why)})"
    if route.get("injection_detected"):
        line += " · instructions inside the question were ignored"
    return line


def render_banner(d: dict) -> str:
    """The red emergency banner (HTML): the answer's first line, or a fallback."""
    first = (d.get("answer") or "").strip().splitlines()
    line = first[0].strip().strip("*").strip() if first else ""
    return (
        '<div class="emergency" role="alert"><span class="emergency-title">⚠ Emergency</span>'
        f"{esc(line or EMERGENCY_FALLBACK)}</div>"
    )


def preview(text: str) -> str:
    """The question as the chat shows it: stripped, and cut after ``PREVIEW_CHARS``."""
    text = text.strip()
    if len(text) > PREVIEW_CHARS:
        return f"{text[:PREVIEW_CHARS]}… ({len(text)} characters)"
    return text


def render_status(d: dict) -> str:
    """What the screen reader's live region says when a reply has arrived."""
    status = d.get("status")
    if status == "emergency":
        return "Emergency: please read the red banner and the reply now."
    if status == "refused":
        return "The assistant could not answer this question; the reply says why."
    n = len(d.get("citations") or [])
    sources = f"{n} source{'s' if n != 1 else ''}" if n else "no sources"
    return f"Answer ready, for {_audience_words(d.get('audience'))}, with {sources}."
