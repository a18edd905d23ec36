"""Guard: the last stage before an answer leaves. It fails closed.

It decides whether the evidence covers the question at all, then checks every drafted sentence,
whatever composed it: citations must point at real sources, every number must occur in a cited
source, and a threshold fact the answer touches must appear verbatim (a paraphrase is replaced by
the exact text). An answer with nothing left is declined.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .compose import Difference, Draft, DraftSentence, evidence_group
from .corpus import Passage
from .facts import FactBook
from .retrieve import KeywordIndex, Retrieval
from .route import Route
from .rules import Fact, Rules
from .text import (
    QUESTION_WORDS,
    STOPWORDS,
    content_tokens,
    number_words,
    numbers,
    stem,
    tokens,
)

# Scope thresholds (see README "How scope is decided"), calibrated on the evaluation cases.
MIN_SIMILARITY = 0.20  # cosine similarity below which only a rare corpus term keeps a question
CONFIDENT_SIMILARITY = 0.55  # a question naming no specific corpus term needs this much
RARE_WORD_RANK = 20000  # tokenizer ids above this are rare English words ("parkinson")
# A reworded sentence (not a verbatim source sentence) must find at least this share of its
# content words in the passages it cites, or in the glossary wording of their terms.
MIN_WORD_SUPPORT = 0.5


@dataclass(frozen=True)
class ScopeDecision:
    answerable: bool
    reason: str
    names_outside: bool = False  # the question names something the corpus never mentions


@dataclass
class Verified:
    """A draft after the guard: kept sentences, the facts quoted, and what was repaired."""

    sentences: list[DraftSentence]
    sources: tuple[Passage, ...]
    facts: list[tuple[Fact, int]]
    differences: tuple[Difference, ...]
    notes: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    drafted: int = 0  # the composer's own sentences that survived (facts the guard added: 0)

    @property
    def empty(self) -> bool:
        return not self.sentences


def _source_text(p: Passage) -> str:
    """What a passage states: section, lead-in and sentences, without its reference markers
    (a marker "7" is not a figure the source gives)."""
    return " ".join(filter(None, [" ".join(p.section), p.lead or "", p.body]))


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

    def __init__(
        self,
        rules: Rules,
        factbook: FactBook,
        keyword: KeywordIndex,
        general_vocab: dict[str, int] | None = None,
        known_words: frozenset[str] = frozenset(),
        untrusted_docs: frozenset[str] = frozenset(),
    ):
        self.rules = rules
        self.factbook = factbook
        self.keyword = keyword
        self.general_vocab = general_vocab or {}
        self.known_words = known_words
        self._by_initial: dict[str, list[str]] | None = None
        self._known_sorted = sorted(known_words)  # a fixed order: the same answer every run
        self.untrusted_docs = untrusted_docs
        self._instructions = [
            re.compile(p, re.IGNORECASE | re.DOTALL) for p in rules.safety.injection_patterns
        ]
        self._plain = [
            (set(tokens(e.term)), {t for a in (e.plain, *e.aliases) for t in tokens(a)})
            for e in rules.glossary
        ]

    # --- sentence checks -----------------------------------------------------------------------

    def untrusted(self, p: Passage) -> bool:
        """A passage of a document that addresses the assistant ("ignore all previous ...")."""
        return p.doc_id in self.untrusted_docs or any(
            rx.search(_source_text(p)) for rx in self._instructions
        )

    def reworded_fact(self, text: str, cited: list[Passage]) -> Fact | None:
        """A registered fact of a cited passage whose figures ``text`` repeats, not verbatim."""
        have = numbers(text)
        for loc in self.factbook.located.values():
            if loc.passage in cited and loc.fact.text not in text and numbers(loc.fact.text) & have:
                return loc.fact
        return None

    def word_support(self, text: str, cited: list[Passage]) -> float:
        """Share of the content words of ``text`` found in the cited passages."""
        words = {t for t in content_tokens(text) if not t[0].isdigit()}
        if not words:
            return 1.0
        pool = set(tokens(" ".join(_source_text(p) for p in cited)))
        for term, plain in self._plain:
            if term and term <= pool:
                pool |= plain
        return len(words & pool) / len(words)

    # --- scope ---------------------------------------------------------------------------------

    def scope(self, retrieval: Retrieval, route: Route) -> ScopeDecision:
        """Is the question covered by the corpus? Decided from the evidence, not a topic list.

        1. A word the corpus never uses (in any form or spelling) that is not ordinary English,
           or is a rare English word, names something outside the corpus: decline.
        2. Without any specific corpus term in the question, only a close semantic match counts.
        """
        speller = self.keyword.speller
        covered, outside = [], []
        for t in dict.fromkeys(retrieval.terms):
            if (
                t not in STOPWORDS
                and t.isalpha()
                and (t in self.keyword.df or speller.known_form(t))
            ):
                covered.append(t)
        for word in dict.fromkeys(retrieval.unknown_terms):
            if not word.isalpha() or len(word) < 4 or stem(word) in self.known_words:
                continue
            rank = self._english_rank(word)
            if rank is not None and rank <= RARE_WORD_RANK:
                continue  # an ordinary English word the corpus happens not to use
            if self._near_known(word):
                continue  # a misspelling of the assistant's own vocabulary
            rank = self._misspelt_english_rank(word) if rank is None else rank
            if rank is None or rank > RARE_WORD_RANK:
                outside.append(word)
        if outside:
            return ScopeDecision(
                False, f"the guidelines never mention {', '.join(repr(t) for t in outside)}", True
            )
        specific = [t for t in covered if t not in QUESTION_WORDS and self.keyword.is_specific(t)]
        best = retrieval.best_similarity
        if not specific and best < CONFIDENT_SIMILARITY:
            return ScopeDecision(False, "no passage of the guidelines matches the question")
        if best < MIN_SIMILARITY and not any(self.keyword.idf(t) > 2.5 for t in specific):
            return ScopeDecision(False, "no passage of the guidelines matches the question")
        return ScopeDecision(True, "covered")

    @lru_cache(maxsize=4096)  # noqa: B019 - one Guard per assistant; the cache is bounded
    def _near_known(self, word: str) -> bool:
        """A misspelling of the assistant's own vocabulary ("cutof" ~ "cutoff")."""
        return len(word) >= 4 and bool(
            difflib.get_close_matches(word, self._known_sorted, n=1, cutoff=0.8)
        )

    @lru_cache(maxsize=4096)  # noqa: B019 - one Guard per assistant; the cache is bounded
    def _english_rank(self, word: str) -> int | None:
        """The tokenizer rank of ``word`` or of its base form ("summarize" ~ "summary")."""
        for cut in range(0, min(4, len(word) - 3)):
            base = word[: len(word) - cut]
            for suffix in ("", "e", "y"):
                rank = self.general_vocab.get(base + suffix)
                if rank is not None:
                    return rank
        return None

    @lru_cache(maxsize=4096)  # noqa: B019 - one Guard per assistant; the cache is bounded
    def _misspelt_english_rank(self, word: str) -> int | None:
        """A misspelt ordinary word ("inheritted") is still ordinary."""
        pool = [
            w for w in self._english_by_initial().get(word[0], []) if abs(len(w) - len(word)) <= 2
        ]
        close = difflib.get_close_matches(word, pool, n=1, cutoff=0.85)
        return self.general_vocab[close[0]] if close else None

    def _english_by_initial(self) -> dict[str, list[str]]:
        if self._by_initial is None:
            self._by_initial = {}
            for w, rank in self.general_vocab.items():
                if rank <= RARE_WORD_RANK and len(w) >= 4:
                    self._by_initial.setdefault(w[0], []).append(w)
        return self._by_initial

    # --- answer checks -------------------------------------------------------------------------

    def verify(self, draft: Draft, wanted_facts: list[Fact], audience: str) -> Verified:
        """Check and repair a draft. Never adds content that is not a verbatim source sentence."""
        sources = list(draft.sources)
        notes: list[str] = []
        violations: list[str] = []
        kept: list[DraftSentence] = []
        drafted = 0
        for s in draft.sentences:
            if not s.cites:
                violations.append(f"sentence without a citation dropped: {s.text!r}")
                continue
            if any(i < 0 or i >= len(sources) for i in s.cites):
                violations.append(f"citation to a passage that does not exist dropped: {s.text!r}")
                continue
            cited = [sources[i] for i in s.cites]
            if any(self.untrusted(p) for p in cited):
                violations.append(
                    "citation to a document that addresses the assistant, sentence dropped: "
                    f"{s.text!r}"
                )
                continue
            # Verbatim means a whole source sentence, not a fragment that drops "not".
            verbatim = any(s.text == x.text for p in cited for x in p.sentences)
            fact = None if verbatim else self.reworded_fact(s.text, cited)
            if fact is not None:
                loc = self.factbook.located[fact.id]
                violations.append(
                    f"threshold fact {fact.id!r} reworded, replaced by the source sentence: "
                    f"{s.text!r}"
                )
                if all(k.text != loc.sentence.text for k in kept):
                    kept.append(
                        DraftSentence(
                            loc.sentence.text,
                            (sources.index(loc.passage),),
                            lead=loc.passage.lead,
                            group=evidence_group(loc.passage),
                        )
                    )
                continue
            missing = ungrounded_numbers(s.text, cited)
            if missing:
                violations.append(
                    f"numbers {sorted(missing)} not in the cited passages, sentence dropped: "
                    f"{s.text!r}"
                )
                continue
            support = 1.0 if verbatim else self.word_support(s.text, cited)
            if support < MIN_WORD_SUPPORT:
                violations.append(
                    f"sentence not supported by the cited passages ({support:.0%} of its words "
                    f"found), dropped: {s.text!r}"
                )
                continue
            if s.lead and ungrounded_numbers(s.lead, cited):
                s = DraftSentence(s.text, s.cites, lead=None, group=s.group)
            kept.append(s)
            drafted += 1
        # Threshold facts: present verbatim, or added from the source.
        body = " ".join(s.text for s in kept)
        quoted: list[tuple[Fact, int]] = []
        for fact in wanted_facts:
            loc = self.factbook.located.get(fact.id)
            if loc is None or self.untrusted(loc.passage):
                continue
            if fact.text not in body:
                if loc.passage not in sources:
                    sources.append(loc.passage)
                idx = sources.index(loc.passage)
                kept.append(
                    DraftSentence(
                        loc.sentence.text,
                        (idx,),
                        lead=loc.passage.lead,
                        group=evidence_group(loc.passage),
                    )
                )
                body += " " + loc.sentence.text
                notes.append(f"threshold fact {fact.id!r} quoted verbatim from the source")
        # Every registered fact shown in the answer is quoted and listed.
        for s in kept:
            for i in s.cites:
                for fact in self.factbook.in_text(sources[i], s.text):
                    if all(f.id != fact.id for f, _ in quoted):
                        quoted.append((fact, i))
        differences = tuple(d for d in draft.differences if all(f.text in body for f, _ in d.facts))
        if draft.differences and len(differences) < len(draft.differences):
            notes.append("a disagreement between sources could not be shown in full")
        return Verified(kept, tuple(sources), quoted, differences, notes, violations, drafted)
