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
from .facts import Disagreement, Located
from .retrieve import Retrieval
from .route import Route
from .rules import Fact
from .text import QUESTION_WORDS, content_tokens, jaccard, tokens
from .tuning import Tuning

_ANAPHORA = re.compile(r"^(These|This|Those|They|It|Therefore|Instead|Further|During this)\b")


def _repetitive(text: str, min_words: int, unique_share: float) -> bool:
    """Source text that repeats itself ("X is indicated for ALS X is indicated for ALS ...")."""
    words = tokens(text)
    return len(words) >= min_words and len(set(words)) / len(words) < unique_share


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


# Headings that name a kind of evidence ("From the FDA Drug Label"), as the pages label them.
SECTION_GROUPS = {"drug label": "label", "from the research": "research"}
SECTION_GROUPS["from the guidelines"] = "guideline"


def names_evidence_kind(heading: str) -> bool:
    """A heading that says what kind of evidence follows, not what it is about."""
    return any(phrase in heading.lower() for phrase in SECTION_GROUPS)


def evidence_group(p: Passage) -> str:
    """Which kind of evidence a passage is, from its section and its references' types."""
    path = " ".join(p.section).lower()
    for phrase, group in SECTION_GROUPS.items():
        if phrase in path:
            return group
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
    """Everything a composer may use; no composer needs another stage's object."""

    question: str
    query: SearchQuery
    route: Route
    retrieval: Retrieval
    facts: tuple[Located, ...]  # threshold facts the answer must quote, located in the corpus
    history: tuple[dict, ...] = ()
    untrusted: frozenset[str] = frozenset()  # documents that address the assistant
    own_terms: frozenset[str] | None = None  # a follow-up's own words (None: all are its own)
    disagreements: tuple[Disagreement, ...] = ()  # facts above that disagree, by quantity


def differences_in(
    disagreements: tuple[Disagreement, ...], sources: list[Passage] | tuple[Passage, ...]
) -> tuple[Difference, ...]:
    """Each disagreement whose facts are all among ``sources``, as source indexes."""
    out = []
    for d in disagreements:
        if all(loc.passage in sources for loc in d.facts):
            items = tuple((loc.fact, sources.index(loc.passage)) for loc in d.facts)
            out.append(Difference(d.quantity, items))
    return tuple(out)


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

    def __init__(self, tuning: Tuning | None = None, plain=None):
        self.tuning = tuning or Tuning()
        self.plain = plain or (lambda text: text)

    def compose(self, inp: ComposeInput) -> Draft:
        ct, pt = self.tuning.compose, self.tuning.patient
        patient = inp.route.audience == "patient"
        limit = ct.patient_sentences if patient else ct.clinician_sentences
        found = inp.retrieval
        query_terms = {
            t
            for t in inp.retrieval.terms + inp.retrieval.expansions
            if t not in QUESTION_WORDS and len(t) > 1
        } or set(inp.retrieval.terms)
        # In a follow-up the new question's own words matter more than the carried subject.
        # When the question has specific words, a sentence must share one of them; a general
        # question ("What are the symptoms of ALS?") is matched on all its words.
        specific = {w for w in query_terms if found.specific(w)} or set(query_terms)
        own = inp.own_terms if inp.own_terms is not None else set(query_terms)

        def weight(w: str) -> float:
            return found.idf(w) * (1.0 if w in own else ct.carried_weight)

        candidates: list[_Candidate] = []
        for rank, hit in enumerate(inp.retrieval.hits):
            p = hit.passage
            context = set(tokens(" ".join(p.section) + " " + (p.lead or "")))
            for s in p.sentences:
                if s.text.endswith(":") or _repetitive(
                    s.text, ct.repetitive_min_words, ct.repetitive_unique_share
                ):
                    continue  # a lead-in (shown above its bullets) or garbled source text
                words = set(tokens(s.text))
                overlap = sum(weight(w) for w in sorted(query_terms & words))
                overlap += ct.context_weight * sum(
                    weight(w) for w in sorted(query_terms & (context - words))
                )
                if rank > 0 and not specific & (words | context):
                    continue  # shares only ubiquitous words ("ALS") with the question
                score = (
                    overlap + ct.rank_weight / (rank + 1) + ct.similarity_weight * hit.similarity
                )
                relevance = score
                hard = False
                if patient:
                    grade = reading_grade_of(self.plain(s.text))
                    hard = (
                        grade > pt.max_sentence_grade or len(s.text.split()) > pt.max_sentence_words
                    )
                    score /= 1.0 + pt.grade_penalty * max(0.0, grade - pt.grade_target)
                    if p.meta.audience == "patient":
                        score *= pt.patient_source_boost
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
        for loc in inp.facts:
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
        cut = ct.patient_cut if patient else ct.clinician_cut
        chosen = self._with_antecedents(self._select(candidates, limit, cut))
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
        differences = differences_in(inp.disagreements, sources)
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
            if not c.forced and any(
                jaccard(c.words, o.words) >= self.tuning.compose.duplicate_jaccard for o in chosen
            ):
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
