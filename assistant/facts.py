"""Threshold facts: which registered facts a query touches, and where each sits in the corpus."""

from __future__ import annotations

from dataclasses import dataclass

from .corpus import Corpus, Passage, Sentence
from .rules import Fact, Rules, RulesError
from .text import tokens


@dataclass(frozen=True)
class Located:
    """A fact with the passage and sentence that hold its exact text."""

    fact: Fact
    passage: Passage
    sentence: Sentence


class FactBook:
    """The fact registry joined to the corpus."""

    def __init__(self, rules: Rules, corpus: Corpus):
        self.rules = rules
        self.located: dict[str, Located] = {}
        for fact in rules.facts:
            doc = corpus.documents.get(fact.doc)
            if doc is None:
                continue
            start = doc.text.find(fact.text)
            end = start + len(fact.text)
            found = next(
                (
                    (p, s)
                    for p in doc.passages
                    for s in p.sentences
                    if start >= 0 and s.start <= start and end <= s.end
                ),
                None,
            )
            if found is None:
                raise RulesError(
                    f"fact {fact.id!r} does not lie within one sentence of {fact.doc!r}: a fact "
                    "is quoted inside its sentence, so its text must not span two"
                )
            self.located[fact.id] = Located(fact, *found)
        self._topics = [
            (fact.id, [frozenset(tokens(t)) for t in fact.topics]) for fact in rules.facts
        ]

    def relevant(self, query: str, limit: int = 4) -> list[Fact]:
        """Facts one of whose topic phrases is wholly present in the query, most specific first."""
        words = set(tokens(query))
        scored = []
        for order, (fid, topics) in enumerate(self._topics):
            best = max((len(t) for t in topics if t and t <= words), default=0)
            if best and fid in self.located:
                scored.append((-best, order, fid))
        return [self.rules.fact_by_id[fid] for _, _, fid in sorted(scored)[:limit]]

    def in_text(self, passage: Passage, text: str) -> list[Fact]:
        """Registered facts of this passage whose exact text occurs in ``text``."""
        return [
            loc.fact
            for loc in self.located.values()
            if loc.passage.id == passage.id and loc.fact.text in text
        ]

    def of_kind(self, kind: str) -> list[Fact]:
        return [f for f in self.rules.facts if f.kind == kind and f.id in self.located]
