"""What a start derives from the corpus (with the rules), built once and kept in the prepared
state (:mod:`assistant.prepared`).

The corpus's structure and trust, and small tables the stages are then made from: where its
conflicting figures are, the register's word counts, each section's words, the corpus's words,
the keyword index's stamp and the guard's fixed phrases. Each table is exactly what the stage
computes itself when none is given, so an assistant made from a kept one answers as one made
from a fresh one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .conflicts import Site, conflict_sites
from .corpus import Corpus
from .naming import Collocations
from .register import Register
from .retrieve import keyword_stamp
from .rules import Rules
from .safety import InstructionDetector, Trust
from .scope import Scope, section_words
from .structure import Structure
from .text import raw_tokens


@dataclass(frozen=True)
class Tables:
    """Corpus-derived tables: plain data (no rules objects, no passages)."""

    conflict_sites: tuple[Site, ...]  # :func:`assistant.conflicts.conflict_sites`
    register: tuple[dict[str, Counter], list[str]]  # :meth:`Register.count`
    sections: dict[tuple[str, tuple[str, ...]], frozenset[str]]  # :func:`section_words`
    corpus_words: frozenset[str]  # every raw token the passages state
    keyword_stamp: str  # :func:`assistant.retrieve.keyword_stamp`
    collocations: Collocations  # :meth:`Scope.phrases`

    @classmethod
    def build(cls, corpus: Corpus, rules: Rules, terms: tuple[str, ...]) -> Tables:
        """``terms``: the terms the corpus defines by an abbreviation."""
        passages = corpus.passages
        share = rules.tuning.retrieval.ubiquitous_share
        return cls(
            conflict_sites(rules, corpus),
            Register.count(passages, share),
            section_words(passages),
            frozenset(raw_tokens(" ".join(p.stated for p in passages))),
            keyword_stamp(passages),
            Scope.phrases(passages, terms, rules),
        )


@dataclass(frozen=True)
class Derived:
    """Everything a start derives from the corpus before it makes the stages."""

    structure: Structure
    trust: Trust
    tables: Tables


def derive(corpus: Corpus, rules: Rules, kept: Derived | None = None) -> Derived:
    """``kept`` (read from the prepared state for this very corpus and rules), or all built."""
    if kept is not None:
        return kept
    trust = Trust(
        InstructionDetector(rules.safety.injection_patterns),
        ((d.id, d.text) for d in corpus.documents.values()),
    )
    topics = {t.name: t.aliases for t in rules.subjects.subjects if t.kind == "topic"}
    structure = Structure.build(
        corpus, rules.glossary, rules.tuning.retrieval.ubiquitous_share, topics
    )
    terms = tuple(structure.abbreviations.values())
    return Derived(structure, trust, Tables.build(corpus, rules, terms))
