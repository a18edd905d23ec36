"""The Answer: what the pipeline returns, its typed parts, and how answers and refusals are
assembled. ``Answer.to_dict()`` is the public contract (CLI, UI, evaluation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from .conversation import SearchQuery
from .corpus import Passage
from .render import Glossary, render
from .repair import Verified
from .retrieve import Retrieval
from .route import Route
from .rules import Rules

Status = Literal["answered", "refused", "emergency"]
INJECTION_NOTE = "instructions inside the question were ignored"


@dataclass(frozen=True)
class Citation:
    """A cited passage: ``quote`` is the exact source text (``original[start:end]``)."""

    n: int
    passage: Passage

    def to_dict(self) -> dict:
        p = self.passage
        listed = {r.n for r in p.references}
        return {
            "n": self.n,
            "doc": p.doc_id,
            "title": p.meta.title,
            "publisher": p.meta.publisher,
            "last_updated": p.meta.last_updated.isoformat() if p.meta.last_updated else None,
            "doc_audience": p.meta.audience,
            "section": p.section_label,
            "quote": p.text,
            "lead": p.lead,
            "start": p.start,
            "end": p.end,
            "references": [
                {
                    "n": r.n,
                    "type": r.type,
                    "title": r.title,
                    "source": r.source,
                    "year": r.year,
                    "label": r.label(),
                }
                for r in p.references
            ],
            "unlisted_markers": [m for m in p.markers if m not in listed],
        }


@dataclass(frozen=True)
class QuotedFact:
    """A threshold fact the answer quotes verbatim; ``n`` is its citation number."""

    id: str
    text: str
    doc: str
    kind: str
    n: int | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DifferenceItem:
    fact: str
    text: str
    doc: str
    n: int | None


@dataclass(frozen=True)
class ShownDifference:
    """Sources that give different figures for one quantity, each with its citation."""

    quantity: str
    items: tuple[DifferenceItem, ...]

    def to_dict(self) -> dict:
        return {"quantity": self.quantity, "items": [asdict(i) for i in self.items]}


@dataclass(frozen=True)
class GuardReport:
    """What the guard noted, dropped and read (spelling, follow-up, best similarity)."""

    notes: tuple[str, ...] = ()
    violations: tuple[str, ...] = ()
    follow_up: str = "standalone question"
    spelling: tuple[str, ...] = ()
    best_similarity: float | None = None

    def to_dict(self) -> dict:
        return {
            "notes": list(self.notes),
            "violations": list(self.violations),
            "follow_up": self.follow_up,
            "spelling": list(self.spelling),
            "best_similarity": self.best_similarity,
        }


@dataclass(frozen=True)
class DraftStats:
    """What became of the composer's draft: sentences kept as written, sentences the guard
    dropped, threshold facts restored verbatim, and whether the extractive answer replaced it."""

    accepted: int = 0
    dropped: int = 0
    restored_facts: int = 0
    replaced: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RetrievedPassage:
    doc: str
    section: str
    section_path: tuple[str, ...]
    passage: str
    score: float
    similarity: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d["section_path"] = list(self.section_path)
        return d


def retrieved(found: Retrieval | None) -> list[RetrievedPassage]:
    return [
        RetrievedPassage(
            h.passage.doc_id,
            h.passage.section_label,
            tuple(h.passage.section),
            h.passage.id,
            round(h.score, 5),
            round(h.similarity, 3),
        )
        for h in (found.hits if found else ())
    ]


@dataclass
class Answer:
    """One answer. ``to_dict()`` is the public contract used by the CLI, the UI and the evals."""

    question: str
    audience: str
    status: Status
    answer: str
    citations: list[Citation] = field(default_factory=list)
    facts: list[QuotedFact] = field(default_factory=list)
    disclaimer: str = ""
    route: dict = field(default_factory=dict)
    search_query: str = ""
    suggestions: list[str] = field(default_factory=list)
    composer: str = "extractive"
    fallback_reason: str | None = None
    reason: str | None = None
    differences: list[ShownDifference] = field(default_factory=list)
    guard: GuardReport = field(default_factory=GuardReport)
    retrieved: list[RetrievedPassage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage, and "total"
    draft: DraftStats | None = None  # None for a refusal: nothing was drafted
    # what a later ask of the question wants that the sources never show ("whether it hurts")
    unaddressed: str | None = None

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "audience": self.audience,
            "status": self.status,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "facts": [f.to_dict() for f in self.facts],
            "disclaimer": self.disclaimer,
            "route": self.route,
            "search_query": self.search_query,
            "suggestions": self.suggestions,
            "composer": self.composer,
            "fallback_reason": self.fallback_reason,
            "reason": self.reason,
            "differences": [d.to_dict() for d in self.differences],
            "guard": self.guard.to_dict(),
            "retrieved": [r.to_dict() for r in self.retrieved],
            "timings": dict(self.timings),
            "draft": self.draft.to_dict() if self.draft else None,
            "unaddressed": self.unaddressed,
        }

    def to_text(self) -> str:
        """Plain-text rendering for a terminal: answer, sources, disclaimer."""
        out = [self.answer]
        if self.citations:
            out.append("\nSources:")
            for c in self.citations:
                d = c.to_dict()
                refs = "; ".join(r["label"] for r in d["references"])
                out.append(
                    f"  [{c.n}] {d['title']} — {d['section']}" + (f" ({refs})" if refs else "")
                )
        if self.disclaimer:
            out.append("\n" + self.disclaimer)
        return "\n".join(out)


@dataclass(frozen=True)
class Turn:
    """What every answer to one question shares, answered or refused."""

    question: str
    route: Route
    query: SearchQuery
    found: Retrieval | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        return (INJECTION_NOTE,) if self.route.injections else ()


class Assembler:
    """Builds :class:`Answer` objects from a verified draft or a refusal."""

    def __init__(self, rules: Rules, glossary: Glossary):
        self.rules = rules
        self.glossary = glossary

    def _disclaimer(self, audience: str) -> str:
        d = self.rules.disclaimer_for(audience)
        return d.text if d else ""

    def answer(
        self,
        turn: Turn,
        status: Status,
        verified: Verified,
        top_lines: list[str],
        composer: str,
        fallback_reason: str | None,
        suggest,
    ) -> Answer:
        """An answer from verified content; ``suggest(cited passages)`` gives follow-ups."""
        route, found = turn.route, turn.found
        text, numbered = render(
            verified, route.audience, self.rules, self.glossary, top_lines, turn.question
        )
        citations = [Citation(n, verified.sources[i]) for i, n in numbered]
        number = dict(numbered)
        return Answer(
            question=turn.question,
            audience=route.audience,
            status=status,
            answer=text,
            citations=citations,
            facts=[
                QuotedFact(f.id, f.text, f.doc, f.kind, number.get(i)) for f, i in verified.facts
            ],
            disclaimer=self._disclaimer(route.audience),
            route=route.to_dict(),
            search_query=turn.query.text,
            suggestions=suggest([c.passage for c in citations]),
            composer=composer,
            fallback_reason=fallback_reason,
            differences=[
                ShownDifference(
                    d.quantity,
                    tuple(DifferenceItem(f.id, f.text, f.doc, number.get(i)) for f, i in d.facts),
                )
                for d in verified.differences
            ],
            guard=GuardReport(
                tuple(verified.notes) + turn.notes,
                tuple(verified.violations),
                turn.query.reason,
                tuple(f"{a} → {b}" for a, b in found.corrected),
                round(found.best_similarity, 3),
            ),
            retrieved=retrieved(found),
        )

    def refusal(self, turn: Turn, message: str, reason: str) -> Answer:
        """A declined question: why, and what the corpus can answer instead."""
        examples = self.rules.safety.refusal_examples
        listed = "\n".join(f"- {e}" for e in examples)
        return Answer(
            question=turn.question,
            audience=turn.route.audience,
            status="refused",
            answer=f"{message}\n\nYou can ask, for example:\n{listed}",
            disclaimer=self._disclaimer(turn.route.audience),
            route=turn.route.to_dict(),
            search_query=turn.query.text,
            suggestions=list(examples[:3]),
            reason=reason,
            retrieved=retrieved(turn.found),
            guard=GuardReport(notes=turn.notes, follow_up=turn.query.reason),
        )
