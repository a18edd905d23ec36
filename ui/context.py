"""Where a citation stands: the section of its document around the quoted passage.

``section_context(corpus, citation)`` reads the document text at the citation's exact offsets
(``start``/``end`` of ``Answer.to_dict()["citations"]``) and gathers the passages of the same
section; :func:`ui.render.render_context` draws it with the quote highlighted.
"""

from __future__ import annotations

from typing import Any


def section_context(corpus: Any, citation: dict) -> dict | None:
    """``{"doc", "section": [headings], "blocks": [{"kind", "text", "start", "end"}]}`` for the
    section holding ``citation``; None when the offsets do not match the document."""
    documents = getattr(corpus, "documents", None) or {}
    doc = documents.get(citation.get("doc"))
    start, end = citation.get("start"), citation.get("end")
    if doc is None or not isinstance(start, int) or not isinstance(end, int):
        return None
    if not 0 <= start < end <= len(doc.text) or doc.text[start:end] != citation.get("quote"):
        return None
    cited = next((p for p in doc.passages if p.start <= start and end <= p.end), None)
    if cited is None:
        return None
    blocks = [
        {"kind": p.kind, "text": doc.text[p.start : p.end], "start": p.start, "end": p.end}
        for p in doc.passages
        if p.section == cited.section and (p.kind != "disclaimer" or p is cited)
    ]
    return {"doc": doc.id, "section": list(cited.section), "blocks": blocks}


def contexts_for(assistant: Any, d: dict) -> dict[int, dict]:
    """Each citation's section context, by citation number (empty without a corpus)."""
    corpus = getattr(assistant, "corpus", None)
    if corpus is None:
        return {}
    out = {}
    for c in d.get("citations") or []:
        ctx = section_context(corpus, c)
        if ctx is not None:
            out[c.get("n")] = ctx
    return out
