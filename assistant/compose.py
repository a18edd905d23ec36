"""Compose: turn retrieved passages into a draft answer. The default composer is extractive.

The extractive composer is deterministic: it picks whole sentences and bullets that answer the
question, drops near-duplicates across documents, and cites each one. A language-model composer
(:mod:`assistant.llm`) produces the same :class:`Draft`, and both pass the same guard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .aspects import Aspects
from .conversation import SearchQuery
from .corpus import Passage
from .evidence import Candidate, Evidence
from .facts import Disagreement, Located
from .retrieve import Retrieval
from .route import Route
from .rules import Fact
from .selection import Selector
from .sentences import SentenceVectors
from .structure import Structure
from .text import content_tokens
from .tuning import Tuning

log = logging.getLogger(__name__)

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
    asked_terms: frozenset[str] | None = None  # words of the sentences that ask (None: all ask)
    each_ask: tuple[tuple[str, frozenset[str], bool], ...] = ()  # see Asking.each


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


class ExtractiveComposer:
    """Deterministic sentence selection from the retrieved passages, by the evidence's words,
    meaning and structure (:mod:`assistant.evidence`), completed as the documents wrote it
    (:mod:`assistant.selection`)."""

    name = "extractive"

    def __init__(
        self,
        tuning: Tuning | None = None,
        plain=None,
        structure: Structure | None = None,
        vectors: SentenceVectors | None = None,
        aspects: Aspects | None = None,
        frame: tuple[str, ...] = (),
    ):
        """Args:
        tuning: weights and thresholds.
        plain: clinical text -> its patient wording (the glossary), for reading grades.
        structure: the corpus's blocks, lead-ins and abbreviations.
        vectors: the stored sentence vectors (none: words and structure only).
        aspects: what questions ask about a topic, and how answers are worded.
        frame: the fixed lines around a patient answer (its reading grade counts them).
        """
        self.tuning = tuning or Tuning()
        self.plain = plain or (lambda text: text)
        self.structure = structure or Structure()
        self.vectors = vectors or SentenceVectors.empty()
        self.aspects = aspects
        self.frame = frame

    def _group(self, p: Passage) -> str:
        """The evidence group a sentence is shown under: the items under a lead-in stay
        together under the group of the list's first item, whatever each item cites."""
        block = self.structure.list_of.get(p.id)
        return evidence_group(block.passages[0] if block and block.lead else p)

    def compose(self, inp: ComposeInput) -> Draft:
        patient = inp.route.audience == "patient"
        found = inp.retrieval
        evidence = Evidence(self.tuning, self.structure, self.aspects, self.plain)
        # The question as read, shorthand spelled out ("mgmt?" asks for management).
        q = evidence.question(
            inp.query.original, found, inp.own_terms, inp.asked_terms, inp.each_ask
        )
        meaning = self.vectors.relative(found.query_vector)
        candidates = evidence.candidates(found, q, meaning, patient, inp.untrusted)
        if patient and any(c.fits for c in candidates):
            # A patient answer keeps to the aspect asked: a line under a heading about another
            # aspect ("As the disease progresses it can lead to:" for "what can help?") goes.
            candidates = [c for c in candidates if not c.elsewhere]
        if patient and candidates:
            # Plain words never cost the answer its most relevant sentence (a patient source's,
            # when one answers nearly as well); other sentences too hard for a patient answer
            # are left out (threshold facts still come, verbatim).
            anchor = max(candidates, key=lambda c: c.relevance)
            lay = [c for c in candidates if c.passage.meta.audience == "patient"]
            plain = max(lay, key=lambda c: c.relevance, default=None)
            if plain and plain.relevance >= self.tuning.patient.lead_share * anchor.relevance:
                anchor = plain
            anchor.score = max(c.score for c in candidates) + 1e-6
            candidates = [c for c in candidates if c is anchor or not c.hard]
        pool = list(candidates)
        for loc in inp.facts:
            here = tuple(f.fact for f in inp.facts if f.sentence == loc.sentence)
            words = set(content_tokens(loc.sentence.text))
            candidates.append(Candidate(loc.passage, loc.sentence, 1e6, True, words, facts=here))
        if inp.route.intent == "self_treatment":
            candidates, pool = [c for c in candidates if c.forced], []  # the labelled dose
        chosen = Selector(self.tuning, evidence, self.frame).choose(candidates, pool, q, patient)
        if not chosen:
            return Draft((), ())
        sources: list[Passage] = []
        sentences = []
        for c in chosen:
            if c.passage not in sources:
                sources.append(c.passage)
            sentences.append(
                DraftSentence(
                    c.sentence.text,
                    (sources.index(c.passage),),
                    lead=self.structure.lead(c.passage),
                    group=self._group(c.passage),
                )
            )
        differences = differences_in(inp.disagreements, sources)
        return Draft(tuple(sentences), tuple(sources), differences=differences)


def compose_or_fall_back(composer, extractive: ExtractiveComposer, inp: ComposeInput) -> Draft:
    """``composer``'s draft; the extractive one, labelled with why, when a model backend
    fails (it must not take the answer down)."""
    try:
        return composer.compose(inp)
    except Exception as exc:
        if composer is extractive:
            raise
        log.warning("composer failed, using the extractive answer: %s", exc)
        reason = (
            str(exc)
            if isinstance(exc, TimeoutError) and str(exc)
            else f"the language model was unavailable ({type(exc).__name__})"
        )
        return extractive_fallback(extractive, inp, reason)


def extractive_fallback(extractive: ExtractiveComposer, inp: ComposeInput, reason: str) -> Draft:
    """The extractive draft, labelled with why the configured composer was not used."""
    draft = extractive.compose(inp)
    return Draft(draft.sentences, draft.sources, "extractive", draft.differences, reason)
