"""Figures any document gives for a registered quantity that disagree with the fact registry.

``rules/facts.yaml`` describes some quantities by what they are about: ``subject`` words and
the ``unit`` their facts write after the number. A sentence of any document that names every
subject word and states a number in that unit, none of which a registered fact of the quantity
gives, is a conflicting figure ("Riluzole 100 mg ..." against "50 mg twice daily"). It is
reported (ingest, load) and becomes a derived fact of the quantity, so an answer quotes it
verbatim beside the registered figures, as a difference, never as agreement.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from .corpus import Corpus, Passage, Sentence
from .rules import Fact, Quantity, Rules
from .text import figures, tokens


@dataclass(frozen=True)
class Conflict:
    """A sentence whose figure for a registered quantity no registered fact gives."""

    fact: Fact  # the derived fact: the sentence, verbatim, as a fact of the quantity
    passage: Passage
    sentence: Sentence
    quantity: Quantity
    registered: tuple[Fact, ...]  # the quantity's registered facts, which give other figures

    def message(self) -> str:
        """One line naming both documents, the figures and the sentence."""
        unit = self.quantity.unit
        given = ", ".join(_sorted(figures(self.sentence.text, unit)))
        known = _sorted({n for f in self.registered for n in figures(f.text, unit)})
        where = ", ".join(f"{f.doc} ({f.id})" for f in self.registered)
        return (
            f"document {self.fact.doc} gives {given} {unit} for {self.quantity.about}, where the "
            f"fact registry has {', '.join(known)} {unit} from {where}: “{self.sentence.text}”; "
            "answers show both as a difference (register the figure in facts.yaml, or correct "
            "the document)"
        )


def _sorted(values: set[str]) -> list[str]:
    return sorted(values, key=lambda v: (float(v.replace(",", "")), v))


def _derived(key: str, q: Quantity, own: list[Fact], doc_id: str, k: int, text: str) -> Fact:
    """The sentence as a fact of the quantity: its kind and topics, a lead-in from ``about``."""
    topics = list(dict.fromkeys(t for f in own for t in f.topics))
    slug = re.sub(r"[^a-z0-9]+", "_", doc_id.lower()).strip("_")
    return Fact(
        id=f"{key}__{slug}_{k}",
        doc=doc_id,
        text=text,
        kind=own[0].kind,
        topics=topics,
        quantity=key,
        plain=f"Another source gives a different figure for {q.about}:",
    )


# Where a conflicting figure is: (quantity, document id, the sentence's position in the document).
Site = tuple[str, str, int]


def conflict_sites(rules: Rules, corpus: Corpus) -> tuple[Site, ...]:
    """Where ``corpus`` gives a conflicting figure for a quantity ``rules`` describes: the scan
    of every sentence, kept in the prepared state (:mod:`assistant.derived`)."""
    sentences = [
        (doc.id, k, s, set(tokens(s.text)))
        for doc in corpus.documents.values()
        for k, s in enumerate(s for p in doc.passages for s in p.sentences)
    ]
    out: list[Site] = []
    for key, q in rules.quantities.items():
        own = [f for f in rules.facts if f.quantity == key and f.doc in corpus.documents]
        known = {n for f in own for n in figures(f.text, q.unit)}
        subject = set(tokens(" ".join(q.subject)))
        if not known:
            continue
        seen: set[tuple[str, str]] = set()
        for doc_id, k, s, words in sentences:
            if not subject <= words or any(f.doc == doc_id and f.text in s.text for f in own):
                continue
            given = figures(s.text, q.unit)
            if not given or given & known or (doc_id, s.text) in seen:
                continue
            seen.add((doc_id, s.text))
            out.append((key, doc_id, k))
    return tuple(out)


def find_conflicts(
    rules: Rules, corpus: Corpus, sites: tuple[Site, ...] | None = None
) -> tuple[Conflict, ...]:
    """Every conflicting figure in ``corpus`` for the quantities ``rules`` describes, at
    ``sites`` (:func:`conflict_sites`; found when None)."""
    out: list[Conflict] = []
    for key, doc_id, k in conflict_sites(rules, corpus) if sites is None else sites:
        q = rules.quantities[key]
        own = [f for f in rules.facts if f.quantity == key and f.doc in corpus.documents]
        doc = corpus.documents[doc_id]
        p, s = next(itertools.islice(((p, s) for p in doc.passages for s in p.sentences), k, None))
        fact = _derived(key, q, own, doc_id, k, s.text)
        if any(c.fact.id == fact.id for c in out):  # two ids that slug alike ("a-b", "a_b")
            fact = fact.model_copy(update={"id": f"{fact.id}_{len(out)}"})
        stated = tuple(f for f in own if figures(f.text, q.unit))
        out.append(Conflict(fact, p, s, q, stated))
    return tuple(out)
