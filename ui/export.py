"""Taking answers away: one answer, or a whole conversation, as Markdown.

Pure functions of ``Answer.to_dict()``; the chat page's copy and download buttons and the CLI's
``chat --markdown`` use them. What the user typed is shown as typed and what an answer says
stays inert (no links, images or HTML), as on the page.
"""

from __future__ import annotations

from collections.abc import Iterable

from .render import plain_text, safe_markdown

TITLE = "ALS guideline assistant: conversation"
NOTE = (
    "Answers come only from the guideline documents the assistant holds; each statement is linked "
    "to the passage it quotes, listed under the answer."
)
_AUDIENCE = {"clinician": "clinicians", "patient": "patients and caregivers"}


def _line(value) -> str:
    """Corpus text on one Markdown line, shown as written."""
    return plain_text(" ".join(str(value or "").split()))


def source_markdown(c: dict) -> str:
    """One citation: number, title, section, date, audience, the quote and its references."""
    meta = [f"Section: {_line(c.get('section') or '—')}"]
    if c.get("publisher"):
        meta.append(_line(c["publisher"]))
    meta.append(f"last updated {_line(c.get('last_updated') or 'unknown')}")
    if c.get("doc_audience"):
        meta.append(f"written for {_AUDIENCE.get(c['doc_audience'], _line(c['doc_audience']))}")
    lines = [f"- \\[{c.get('n')}\\] **{_line(c.get('title'))}** — {' · '.join(meta)}"]
    if c.get("lead"):
        lines.append(f"Under: {_line(c['lead'])}")
    refs = []
    for r in c.get("references") or []:
        label = _line(r.get("label") or r.get("source") or "")
        title = _line(r.get("title") or "")
        num = f"\\[{r.get('n')}\\] " if r.get("n") is not None else ""
        refs.append(f"{num}{title} — {label}" if title else f"{num}{label}")
    if refs:
        lines.append(f"References: {'; '.join(refs)}")
    # Hard line breaks inside the list item, then the quote as its own block.
    return " \\\n  ".join(lines) + f"\n  > “{_line(c.get('quote'))}”"


def _body(d: dict) -> list[str]:
    """The answer, why it was declined, and its sources."""
    out = [safe_markdown(d.get("answer") or "").strip() or "_(no answer)_"]
    if d.get("status") == "refused" and d.get("reason"):
        out.append(f"_Why it could not answer: {plain_text(d['reason'])}._")
    citations = d.get("citations") or []
    if citations:
        out.append("**Sources**\n\n" + "\n".join(source_markdown(c) for c in citations))
    else:
        out.append("_No sources: this reply does not quote the guidelines._")
    return out


def _heading(d: dict) -> str:
    question = " ".join(str(d.get("question") or "").split())
    return plain_text(question) or "(no question)"


def _audience(d: dict) -> str:
    who = d.get("audience") or (d.get("route") or {}).get("audience")
    return f"_Reply written for {_AUDIENCE.get(who, plain_text(who))}._" if who else ""


def answer_markdown(d: dict) -> str:
    """One question and answer with its sources and disclaimer (the page's copy button)."""
    parts = [f"### Question: {_heading(d)}", _audience(d), *_body(d)]
    if d.get("disclaimer"):
        parts.append(_disclaimer(d["disclaimer"]))
    return "\n\n".join(p for p in parts if p) + "\n"


def _disclaimer(text: str) -> str:
    lines = [plain_text(line.strip()) for line in str(text).strip().splitlines() if line.strip()]
    return "> **Disclaimer.** " + "\n>\n> ".join(lines)


def conversation_markdown(turns: Iterable[dict], *, title: str = TITLE) -> str:
    """The whole conversation: each question, its answer and sources, then the disclaimers.

    ``turns`` are ``Answer.to_dict()`` results in the order they were asked. Each different
    disclaimer is given once, at the end, saying which answers it covers.
    """
    turns = [t for t in turns if isinstance(t, dict)]
    parts = [f"# {title}", NOTE]
    if not turns:
        parts.append("_No questions were asked._")
    disclaimers: dict[str, list[int]] = {}
    for k, d in enumerate(turns, 1):
        parts.append(f"## {k}. {_heading(d)}")
        parts.append(_audience(d))
        parts += _body(d)
        if d.get("disclaimer"):
            disclaimers.setdefault(str(d["disclaimer"]).strip(), []).append(k)
    if disclaimers:
        parts.append("## Disclaimer")
        for text, numbers in disclaimers.items():
            which = "all answers" if len(numbers) == len(turns) else _answers(numbers)
            parts.append(f"_For {which}:_\n\n{_disclaimer(text)}")
    return "\n\n".join(p for p in parts if p) + "\n"


def _answers(numbers: list[int]) -> str:
    listed = ", ".join(str(n) for n in numbers)
    return f"answer {listed}" if len(numbers) == 1 else f"answers {listed}"


KEPT = ("question", "audience", "status", "answer", "reason", "citations", "disclaimer")


def slim(d: dict) -> dict:
    """What the export needs of an answer (the page keeps this much per turn)."""
    return {k: d.get(k) for k in KEPT}
