"""Guard: the last stage before an answer leaves. It fails closed.

It decides whether the evidence covers the question at all, then checks every drafted sentence,
whatever composed it: citations must point at real sources, every number must occur in a cited
source, and a threshold fact the answer touches must appear verbatim (a paraphrase is replaced by
the exact text). An answer with nothing left is declined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .compose import Difference, Draft, DraftSentence, evidence_group
from .corpus import Passage
from .facts import FactBook
from .retrieve import Retrieval
from .route import Route
from .rules import Fact, Rules
from .text import QUESTION_WORDS, STOPWORDS, number_words, numbers, tokens

# Scope thresholds (cosine similarity of the best passage; see README "How scope is decided").
MIN_SIMILARITY = 0.28
CONFIDENT_SIMILARITY = 0.52
SUPPORT_SIMILARITY = 0.22


@dataclass(frozen=True)
class ScopeDecision:
    answerable: bool
    reason: str


@dataclass
class Verified:
    """A draft after the guard: kept sentences, the facts quoted, and what was repaired."""

    sentences: list[DraftSentence]
    sources: tuple[Passage, ...]
    facts: list[tuple[Fact, int]]
    differences: tuple[Difference, ...]
    notes: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(not s.frame for s in self.sentences)


def _source_text(p: Passage) -> str:
    return " ".join(filter(None, [" ".join(p.section), p.lead or "", p.text]))


def ungrounded_numbers(text: str, sources: list[Passage]) -> set[str]:
    """Numbers (digits or number words) in ``text`` that none of ``sources`` contains."""
    pool = " ".join(_source_text(p) for p in sources)
    have = numbers(pool)
    have_words = number_words(pool)
    missing = {n for n in numbers(text) if n not in have}
    missing |= {w for w in number_words(text) if w not in have_words}
    return missing


class Guard:
    """Scope, grounding, verbatim facts and citations."""

    def __init__(self, rules: Rules, factbook: FactBook, general_vocab: frozenset[str] = frozenset(),
                 known_words: frozenset[str] = frozenset()):
        self.rules = rules
        self.factbook = factbook
        self.general_vocab = general_vocab
        self.known_words = known_words

    # --- scope ---------------------------------------------------------------------------------

    def scope(self, retrieval: Retrieval, route: Route) -> ScopeDecision:
        """Is the question covered by the corpus? Decided from the evidence, not a topic list."""
        topic = [t for t in retrieval.terms if t not in QUESTION_WORDS and t not in STOPWORDS]
        if not topic and not retrieval.hits:
            return ScopeDecision(False, "the question names nothing the guidelines cover")
        foreign = [
            t for t in retrieval.unknown_terms
            if t not in self.known_words and t.isalpha() and t not in self.general_vocab
        ]
        if foreign:
            return ScopeDecision(
                False, f"the guidelines never mention {', '.join(repr(t) for t in foreign)}"
            )
        best = retrieval.best_similarity
        if best < MIN_SIMILARITY:
            return ScopeDecision(False, "no passage of the guidelines matches the question")
        unknown_general = [t for t in retrieval.unknown_terms if t not in self.known_words]
        if unknown_general and best < CONFIDENT_SIMILARITY:
            return ScopeDecision(
                False,
                f"the guidelines do not cover {', '.join(repr(t) for t in unknown_general)}",
            )
        if topic and best < CONFIDENT_SIMILARITY:
            supported = any(
                h.similarity >= SUPPORT_SIMILARITY and set(topic) & set(tokens(_source_text(h.passage)))
                for h in retrieval.hits
            )
            if not supported:
                return ScopeDecision(False, "no passage both matches and names the question's terms")
        return ScopeDecision(True, "covered")

    # --- answer checks -------------------------------------------------------------------------

    def verify(self, draft: Draft, wanted_facts: list[Fact], audience: str) -> Verified:
        """Check and repair a draft. Never adds content that is not a verbatim source sentence."""
        sources = list(draft.sources)
        notes: list[str] = []
        violations: list[str] = []
        kept: list[DraftSentence] = []
        for s in draft.sentences:
            if s.frame:
                if re.search(r"\d", s.text):
                    violations.append(f"framing text with a number dropped: {s.text!r}")
                    continue
                kept.append(s)
                continue
            if not s.cites:
                violations.append(f"sentence without a citation dropped: {s.text!r}")
                continue
            if any(i < 0 or i >= len(sources) for i in s.cites):
                violations.append(f"citation to a passage that does not exist dropped: {s.text!r}")
                continue
            cited = [sources[i] for i in s.cites]
            missing = ungrounded_numbers(s.text, cited)
            if missing:
                violations.append(
                    f"numbers {sorted(missing)} not in the cited passages, sentence dropped: "
                    f"{s.text!r}"
                )
                continue
            if s.lead and ungrounded_numbers(s.lead, cited):
                s = DraftSentence(s.text, s.cites, lead=None, group=s.group)
            kept.append(s)
        # Threshold facts: present verbatim, or added from the source.
        body = " ".join(s.text for s in kept if not s.frame)
        quoted: list[tuple[Fact, int]] = []
        for fact in wanted_facts:
            loc = self.factbook.located.get(fact.id)
            if loc is None:
                continue
            if fact.text not in body:
                if loc.passage not in sources:
                    sources.append(loc.passage)
                idx = sources.index(loc.passage)
                kept.append(
                    DraftSentence(loc.sentence.text, (idx,), lead=loc.passage.lead,
                                  group=evidence_group(loc.passage))
                )
                body += " " + loc.sentence.text
                notes.append(f"threshold fact {fact.id!r} quoted verbatim from the source")
        # Every registered fact shown in the answer is quoted and listed.
        for s in kept:
            if s.frame:
                continue
            for i in s.cites:
                for fact in self.factbook.in_text(sources[i], s.text):
                    if all(f.id != fact.id for f, _ in quoted):
                        quoted.append((fact, i))
        differences = tuple(
            d for d in draft.differences
            if all(f.text in body for f, _ in d.facts)
        )
        if draft.differences and len(differences) < len(draft.differences):
            notes.append("a disagreement between sources could not be shown in full")
        return Verified(kept, tuple(sources), quoted, differences, notes, violations)
