"""Text in and out of a model: the numbered passages of a prompt, and a reply parsed to a Draft."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..compose import Difference, Draft, DraftSentence, evidence_group
from ..corpus import Passage

# --- the prompt's passages ---------------------------------------------------------------------

_DELIMS = re.compile(r"</?\s*(passages|question)\s*>", re.IGNORECASE)


def defang(text: str) -> str:
    """Text inserted into the prompt cannot close the ``<passages>``/``<question>`` blocks."""
    return _DELIMS.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def format_passages(sources: Sequence[Passage]) -> str:
    """``[n] (document title — section) text``, one passage per line, numbered from 1.

    A bullet's lead-in ("Initiate NIV when:") is shown as the last part of its section, so the
    passage text is exactly the passage's own words (what its citation will quote).
    """
    lines = []
    for n, p in enumerate(sources, 1):
        path = [*p.section, p.lead.rstrip(": ")] if p.lead else list(p.section)
        section = " › ".join(path) if path else "General"
        text = " ".join(p.body.split())
        lines.append(defang(f"[{n}] ({p.meta.title} — {section}) {text}"))
    return "\n".join(lines)


_PROMPT_LINE = re.compile(r"^\[(\d+)\] \(")


def parse_prompt_passages(prompt: str) -> dict[int, str]:
    """The numbered passages of a rendered prompt: ``{n: text}`` (header removed).

    Used by doubles that answer from the prompt, like the evaluation's paraphrasing probe.
    """
    out: dict[int, str] = {}
    for line in prompt.splitlines():
        m = _PROMPT_LINE.match(line)
        if not m:
            continue
        depth, k = 0, m.end() - 1
        for k in range(m.end() - 1, len(line)):  # the header may itself contain "(ALS)"
            depth += {"(": 1, ")": -1}.get(line[k], 0)
            if depth == 0:
                break
        out[int(m.group(1))] = line[k + 1 :].strip()
    return out


def message_text(message: Any) -> str:
    """The text of a model reply (string content or a list of content blocks)."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            b if isinstance(b, str) else str(b.get("text", "")) if isinstance(b, dict) else ""
            for b in content
        )
    return str(content or "")


# --- parsing a reply ---------------------------------------------------------------------------

_MARK = re.compile(
    r"\[\s*(?:(?:passages?|sources?|refs?)\.?\s*)?(\d{1,3}(?:\s*(?:[,;]|[-–])\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_LEADING_MARKS = re.compile(r"^(?:\s*" + _MARK.pattern + r")+", re.IGNORECASE)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\[A-Z0-9“\"(])")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|Dr|vs|Mr|Mrs|Ms|St|approx|etc|al)\.$")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+")
_LABEL = re.compile(r"^\s*(?:answer|response)\s*:\s*", re.IGNORECASE)


def _marks(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group.strip()):
        if re.search(r"[-–]", part):
            a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            out.extend(range(a, b + 1) if 0 <= b - a <= 10 else (a, b))
        elif part:
            out.append(int(part))
    return out


def _is_heading(line: str) -> bool:
    bare = line.strip()
    if bare.startswith("#"):
        return True
    if _MARK.search(bare):
        return False
    return bool(re.fullmatch(r"(\*\*|__)[^*_]+(\*\*|__):?", bare)) or bare.endswith(":")


def _pieces(reply: str) -> list[str]:
    """Sentences of a reply; citation markers that follow a full stop stay with their sentence."""
    out: list[str] = []
    for raw in reply.splitlines():
        line = raw.strip()
        if not line or _is_heading(line):
            continue
        line = _LABEL.sub("", _BULLET.sub("", line))
        line = line.replace("**", "").replace("__", "").replace("`", "")
        parts: list[str] = []
        last = 0
        for m in _SENT_SPLIT.finditer(line):
            if _ABBREV.search(line[: m.start()]):
                continue
            parts.append(line[last : m.start()])
            last = m.end()
        parts.append(line[last:])
        for part in parts:
            lead = _LEADING_MARKS.match(part)
            if lead and out:
                out[-1] = f"{out[-1]} {lead.group(0).strip()}"
                part = part[lead.end() :]
            if part.strip():
                out.append(part.strip())
    return out


def draft_from_text(
    text: str,
    sources: Sequence[Passage],
    composer: str = "llm",
    differences: tuple[Difference, ...] = (),
) -> Draft:
    """Parse a model reply into a :class:`Draft` over ``sources`` (numbered from 1 in the prompt).

    ``[n]`` markers become 0-based ``cites`` and are removed from the text. A sentence without a
    marker gets ``cites=()`` and a marker outside ``1..len(sources)`` keeps its invalid index, so
    the guard drops both with a reason. An empty reply gives a draft with no sentences.
    """
    sentences = []
    for piece in _pieces(text or ""):
        cites = tuple(dict.fromkeys(n - 1 for m in _MARK.finditer(piece) for n in _marks(m[1])))
        body = _MARK.sub(" ", piece)
        body = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", body)).strip()
        body = re.sub(r"([.,;:!?])\1+", r"\1", body)
        if not body or not re.search(r"\w", body):
            continue
        valid = [i for i in cites if 0 <= i < len(sources)]
        group = evidence_group(sources[valid[0]]) if valid else None
        sentences.append(DraftSentence(body, cites, group=group))
    return Draft(tuple(sentences), tuple(sources), composer=composer, differences=differences)
