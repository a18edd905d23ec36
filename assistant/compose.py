"""Compose: turn retrieved passages into a draft answer. The default composer is extractive.

The extractive composer is deterministic: it picks whole sentences and bullets that answer the
question, drops near-duplicates across documents, and cites each one. A language-model composer
(:mod:`assistant.llm`) produces the same :class:`Draft`, and both pass the same guard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .conversation import SearchQuery
from .corpus import Passage, Sentence
from .facts import FactBook
from .retrieve import Retrieval
from .route import Route
from .rules import Fact, Rules
from .text import QUESTION_WORDS, content_tokens, jaccard, numbers, tokens

PATIENT_MAX_SENTENCE_GRADE = 14.0
_ANAPHORA = re.compile(r"^(These|This|Those|They|It|Therefore|Instead|Further|During this)\b")


def _repetitive(text: str) -> bool:
    """Source text that repeats itself ("X is indicated for ALS X is indicated for ALS ...")."""
    words = tokens(text)
    return len(words) >= 12 and len(set(words)) / len(words) < 0.5


@lru_cache(maxsize=8192)
def reading_grade_of(text: str) -> float:
    """Flesch-Kincaid grade of one sentence (textstat, offline with its bundled dictionary)."""
    import textstat

    return float(textstat.flesch_kincaid_grade(text))


GROUP_ORDER = ("guideline", "label", "research", "patient")
GROUP_TITLES = {
    "guideline": "From the guidelines",
    "label": "From the FDA drug label",
    "research": "From the research",
    "patient": "From patient information",
}


def evidence_group(p: Passage) -> str:
    """Which kind of evidence a passage is, from its section and its references' types."""
    path = " ".join(p.section).lower()
    if "drug label" in path:
        return "label"
    if "from the research" in path:
        return "research"
    if "from the guidelines" in path:
        return "guideline"
    types = {r.type for r in p.references}
    if len(p.references) < len(p.markers):
        types.add("unlisted")  # a marker the page's References list does not resolve
    if "Guideline" in types:
        return "guideline"
    if types == {"Research"}:
        return "research"
    if p.meta.audience == "patient":
        return "patient"
    return "guideline"


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of a draft: its text and the sources (indexes into ``Draft.sources``)."""

    text: str
    cites: tuple[int, ...] = ()
    lead: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Difference:
    """Facts from different sources that give different figures for one quantity."""

    quantity: str
    facts: tuple[tuple[Fact, int], ...]


@dataclass(frozen=True)
class Draft:
    """What a composer hands the guard."""

    sentences: tuple[DraftSentence, ...]
    sources: tuple[Passage, ...]
    composer: str = "extractive"
    differences: tuple[Difference, ...] = ()
    fallback_reason: str | None = None


@dataclass(frozen=True)
class ComposeInput:
    """Everything a composer may use."""

    question: str
    query: SearchQuery
    route: Route
    retrieval: Retrieval
    facts: tuple[Fact, ...]
    history: tuple[dict, ...] = ()


@dataclass
class _Candidate:
    passage: Passage
    sentence: Sentence
    score: float
    forced: bool = False
    words: set[str] = field(default_factory=set)
    relevance: float = 0.0
    hard: bool = False


class ExtractiveComposer:
    """Deterministic sentence selection from the retrieved passages."""

    name = "extractive"

    def __init__(self, rules: Rules, factbook: FactBook, keyword, plain=None):
        self.rules = rules
        self.factbook = factbook
        self.keyword = keyword
        self.idf = keyword.idf
        self.plain = plain or (lambda text: text)

    def compose(self, inp: ComposeInput) -> Draft:
        patient = inp.route.audience == "patient"
        limit = 5 if patient else 7
        query_terms = {
            t
            for t in inp.retrieval.terms + inp.retrieval.expansions
            if t not in QUESTION_WORDS and len(t) > 1
        } or set(inp.retrieval.terms)
        # In a follow-up the new question's own words matter more than the carried subject.
        # When the question has specific words, a sentence must share one of them; a general
        # question ("What are the symptoms of ALS?") is matched on all its words.
        specific = {t for t in query_terms if self.keyword.is_specific(t)} or set(query_terms)
        own = (
            set(self.keyword.analyse(inp.query.original).all)
            if inp.query.carried
            else set(query_terms)
        )

        def weight(t: str) -> float:
            return self.idf(t) * (1.0 if t in own else 0.4)

        candidates: list[_Candidate] = []
        for rank, hit in enumerate(inp.retrieval.hits):
            p = hit.passage
            context = set(tokens(" ".join(p.section) + " " + (p.lead or "")))
            for s in p.sentences:
                if s.text.endswith(":") or _repetitive(s.text):
                    continue  # a lead-in (shown above its bullets) or garbled source text
                words = set(tokens(s.text))
                overlap = sum(weight(t) for t in sorted(query_terms & words))
                overlap += 0.5 * sum(weight(t) for t in sorted(query_terms & (context - words)))
                if rank > 0 and not specific & (words | context):
                    continue  # shares only ubiquitous words ("ALS") with the question
                score = overlap + 2.0 / (rank + 1) + 2.0 * hit.similarity
                relevance = score
                hard = False
                if patient:
                    grade = reading_grade_of(self.plain(s.text))
                    hard = grade > PATIENT_MAX_SENTENCE_GRADE or len(s.text.split()) > 40
                    score /= 1.0 + 0.15 * max(0.0, grade - 8.0)
                    if p.meta.audience == "patient":
                        score *= 1.3
                candidates.append(
                    _Candidate(
                        p,
                        s,
                        score,
                        words=set(content_tokens(s.text)),
                        relevance=relevance,
                        hard=hard,
                    )
                )
        if patient and candidates:
            # Plain words never cost the answer its most relevant sentence; other sentences too
            # hard for a patient answer are left out (threshold facts still come, verbatim).
            anchor = max(candidates, key=lambda c: c.relevance)
            anchor.score = max(c.score for c in candidates) + 1e-6
            candidates = [c for c in candidates if c is anchor or not c.hard]
        for fact in inp.facts:
            loc = self.factbook.located.get(fact.id)
            if loc:
                candidates.append(
                    _Candidate(
                        loc.passage,
                        loc.sentence,
                        1e6,
                        forced=True,
                        words=set(content_tokens(loc.sentence.text)),
                    )
                )
        if inp.route.intent == "self_treatment":
            candidates = [c for c in candidates if c.forced]  # the labelled dose, nothing else
        chosen = self._with_antecedents(self._select(candidates, limit, 0.5 if patient else 0.35))
        if not chosen:
            return Draft((), ())
        sources: list[Passage] = []
        sentences = []
        for c in chosen:
            if c.passage not in sources:
                sources.append(c.passage)
            idx = sources.index(c.passage)
            sentences.append(
                DraftSentence(
                    c.sentence.text, (idx,), lead=c.passage.lead, group=evidence_group(c.passage)
                )
            )
        differences = self._differences(inp.facts, sources, sentences)
        return Draft(tuple(sentences), tuple(sources), differences=differences)

    def _select(self, candidates: list[_Candidate], limit: int, cut: float) -> list[_Candidate]:
        candidates.sort(key=lambda c: (-c.score, c.passage.doc_id, c.sentence.start))
        chosen: list[_Candidate] = []
        seen_spans = set()
        best = next((c.score for c in candidates if not c.forced), 0.0)
        for c in candidates:
            span = (c.passage.doc_id, c.sentence.start)
            if span in seen_spans:
                continue
            if not c.forced and (len(chosen) >= limit or c.score < cut * best):
                continue
            if not c.forced and any(jaccard(c.words, o.words) >= 0.6 for o in chosen):
                continue
            seen_spans.add(span)
            chosen.append(c)
        # Keep the source order within a document so lists read as the source wrote them.
        rank = {id(c): k for k, c in enumerate(chosen)}
        first_of_doc: dict[str, int] = {}
        for c in chosen:
            first_of_doc.setdefault(c.passage.doc_id, rank[id(c)])
        chosen.sort(key=lambda c: (first_of_doc[c.passage.doc_id], c.sentence.start))
        return chosen

    @staticmethod
    def _with_antecedents(chosen: list[_Candidate]) -> list[_Candidate]:
        """A sentence that points back ("These tests ...") comes with the sentence before it."""
        out: list[_Candidate] = []
        spans = {(c.passage.id, c.sentence.start) for c in chosen}
        for c in chosen:
            sents = c.passage.sentences
            k = sents.index(c.sentence)
            if k > 0 and _ANAPHORA.match(c.sentence.text):
                prev = sents[k - 1]
                if (c.passage.id, prev.start) not in spans and not prev.text.endswith(":"):
                    out.append(_Candidate(c.passage, prev, c.score, words=c.words))
                    spans.add((c.passage.id, prev.start))
            out.append(c)
        return out

    def _differences(self, facts, sources, sentences) -> tuple[Difference, ...]:
        by_quantity: dict[str, list[Fact]] = {}
        for f in facts:
            if f.quantity:
                by_quantity.setdefault(f.quantity, []).append(f)
        out = []
        for quantity, group in by_quantity.items():
            docs = {f.doc for f in group}
            figures = {frozenset(numbers(f.text)) for f in group}
            if len(docs) < 2 or len(figures) < 2:
                continue  # same figure worded differently is agreement, not a difference
            items = []
            for f in group:
                loc = self.factbook.located[f.id]
                items.append((f, sources.index(loc.passage)))
            out.append(Difference(quantity, tuple(items)))
        return tuple(out)
