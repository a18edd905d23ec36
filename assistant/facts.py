"""Threshold facts: the registry joined to the corpus, and which facts an answer must quote.

This module owns the fact policy: which registered facts a query touches, which more facts of
the same quantity come along (so a disagreement is always shown whole), how few a patient gets,
and which of the chosen facts disagree with each other. A figure a document gives that the
registry does not (:mod:`assistant.conflicts`) joins as a derived fact of its quantity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clauses import asked_part
from .conflicts import Conflict, Site, find_conflicts
from .corpus import Corpus, Passage, Sentence
from .rules import Fact, Rules, RulesError
from .text import numbers, tokens


@dataclass(frozen=True)
class Located:
    """A fact with the passage and sentence that hold its exact text."""

    fact: Fact
    passage: Passage
    sentence: Sentence


@dataclass(frozen=True)
class Disagreement:
    """Facts of one quantity from different documents that give different figures."""

    quantity: str
    facts: tuple[Located, ...]


def drugs_named(rules: Rules, text: str, among: list[str] | None = None) -> list[str]:
    """The drugs (subjects of kind drug, by any of their names) ``text`` names, of ``among``
    when given."""
    said = f" {' '.join(tokens(text))} "
    return [
        sub.name
        for sub in rules.subjects.subjects
        if sub.kind == "drug"
        and (among is None or sub.name in among)
        and any(f" {' '.join(tokens(n))} " in said for n in (sub.name, *sub.aliases))
    ]


class FactBook:
    """The fact registry joined to the corpus."""

    def __init__(
        self,
        rules: Rules,
        corpus: Corpus,
        patient_max_facts: int = 3,
        sites: tuple[Site, ...] | None = None,
    ):
        """``sites``: where the corpus's conflicting figures are (:func:`conflict_sites`),
        when already known; found when None."""
        self.rules = rules
        self.patient_max_facts = patient_max_facts
        self._audience = {d.id: d.meta.audience for d in corpus.documents.values()}
        self.located: dict[str, Located] = {}
        self.conflicts: tuple[Conflict, ...] = find_conflicts(rules, corpus, sites)
        self.facts: tuple[Fact, ...] = rules.facts + tuple(c.fact for c in self.conflicts)
        self._by_id = {f.id: f for f in self.facts}
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
        for c in self.conflicts:
            self.located[c.fact.id] = Located(c.fact, c.passage, c.sentence)
        self._topics = [
            (fact.id, [frozenset(tokens(t)) for t in fact.topics]) for fact in self.facts
        ]

    def relevant(self, query: str, limit: int = 4, asked: str | None = None) -> list[Fact]:
        """Facts one of whose topic phrases is wholly present in the query, most specific first;
        a phrase of three words or more within one sentence of it ("trouble swallowing. ...
        tests are getting worse" is no "swallowing get worse"; words after the last sentence,
        a follow-up's carried subject or spelling fixes, belong to every sentence). Beside a
        story, a phrase must have a word in what is ``asked``: the story may complete a phrase
        ("starting him on riluzole. What monitoring?") but a finding it tells ("limb-onset, FVC
        48%. Is it time for NIV?") asks for nothing, when what is asked touches a fact at all
        ("... he wants to wait. Is waiting a problem?" asks of the story's feeding tube)."""
        words = set(tokens(query))
        asking = set(tokens(asked)) if asked else None
        sentences: list[set[str]] = []

        def present(t: frozenset[str]) -> bool:
            if not t <= words:
                return False
            if len(t) < 3:
                return True
            if not sentences:  # read only when a long phrase is in the query at all
                parts = [p for p in re.split(r"(?<=[.?!;])\s+", query.strip()) if p.strip()]
                tail = parts[-1][-1:] not in ".?!;" and len(parts) > 1
                carried = set(tokens(parts.pop())) if tail else set()
                sentences.extend([set(tokens(p)) | carried for p in parts] or [carried])
            return any(t <= said for said in sentences)

        scored, touched = [], []  # every fact present; those what is asked touches
        for order, (fid, topics) in enumerate(self._topics):
            if fid not in self.located:
                continue
            found = [t for t in topics if t and present(t)]
            if found:
                scored.append((-max(map(len, found)), order, fid))
            near = [t for t in found if asking is not None and t & asking]
            if near:
                touched.append((-max(map(len, near)), order, fid))
        scored = touched or scored
        return [self._by_id[fid] for _, _, fid in sorted(scored)[:limit]]

    def in_text(self, passage: Passage, text: str) -> list[Fact]:
        """Registered facts of this passage whose exact text occurs in ``text``."""
        return [
            loc.fact
            for loc in self.located.values()
            if loc.passage.id == passage.id and loc.fact.text in text
        ]

    def of_kind(self, kind: str) -> list[Fact]:
        return [f for f in self.facts if f.kind == kind and f.id in self.located]

    # --- which facts an answer quotes ------------------------------------------------------------

    def wanted(
        self, query: str, audience: str, self_treatment: bool = False, asked: str | None = None
    ) -> list[Located]:
        """The facts an answer to ``query`` must quote verbatim, located in the corpus; beside a
        story, facts that what is ``asked`` touches (:meth:`relevant`).

        Every other fact of a quantity the query touches comes too, so sources that disagree
        are shown side by side; a self-treatment question gets the labelled doses.
        """
        facts = self.relevant(query, asked=asked)
        quantities = {f.quantity for f in facts if f.quantity}
        for f in self.facts:
            if f.quantity in quantities and f not in facts and f.id in self.located:
                facts.append(f)
        if self_treatment:
            facts += [f for f in self._labelled_doses(query) if f not in facts]
        if audience == "patient":
            facts = self._few_for_patients(self._one_per_agreeing_quantity(facts))
        return [self.located[f.id] for f in facts]

    def for_question(
        self,
        original: str,
        text: str,
        fixes: list[str],
        audience: str,
        self_treatment: bool = False,
        by_asking: bool = False,
    ) -> list[Located]:
        """The facts an answer to a question must quote (:meth:`wanted`), matched on the search
        ``text`` with the spelling ``fixes`` ("rilzole dose"); on the asking sentences of the
        ``original`` alone (``by_asking``) when they ask an aspect themselves (the story's
        "thirty years" wants no survival figure)."""
        text = asked_part(original) if by_asking else text
        fact_query = " ".join([text, *fixes])
        # beside a story, what is asked must touch a fact (one that points to the story's
        # person still asks: "... Does she meet criteria for NIV?")
        asked = asked_part(original, person_ok=True)
        return self.wanted(
            fact_query,
            audience,
            self_treatment=self_treatment,
            asked=" ".join([asked, *fixes]) if asked else None,
        )

    def _labelled_doses(self, query: str) -> list[Fact]:
        """The dose facts of the drug ``query`` names ("How should I take edaravone?" has
        none: riluzole's dose is no answer to it); every dose fact when it names no drug
        ("Can I double my pills?")."""
        doses = self.of_kind("dose")
        named = drugs_named(self.rules, query)
        if not named:
            return doses
        return [f for f in doses if drugs_named(self.rules, " ".join([f.text, *f.topics]), named)]

    def _patient_first(self, f: Fact) -> bool:
        return self._audience[f.doc] != "patient"

    def _few_for_patients(self, facts: list[Fact]) -> list[Fact]:
        """At most a few figures for a patient, patient sources first; a figure another source
        disputes keeps its counterpart, so a disagreement is still shown side by side."""
        ranked = sorted(facts, key=self._patient_first)
        kept = ranked[: self.patient_max_facts]
        kept += [
            f
            for f in ranked[self.patient_max_facts :]
            if f.quantity and any(k.quantity == f.quantity for k in kept)
        ]
        return kept

    def _one_per_agreeing_quantity(self, facts: list[Fact]) -> list[Fact]:
        """For patients, sources that agree on a figure are quoted once (a patient source first);
        sources that disagree are all kept, side by side."""
        out: list[Fact] = []
        for f in sorted(facts, key=self._patient_first):
            same = [
                g
                for g in out
                if f.quantity and g.quantity == f.quantity and numbers(g.text) == numbers(f.text)
            ]
            if not same:
                out.append(f)
        return [f for f in facts if f in out]


def disagreements(facts: tuple[Located, ...] | list[Located]) -> tuple[Disagreement, ...]:
    """Groups of the given facts that state one quantity with different figures, from at least
    two documents (the same figure worded differently is agreement, not a difference)."""
    by_quantity: dict[str, list[Located]] = {}
    for loc in facts:
        if loc.fact.quantity:
            by_quantity.setdefault(loc.fact.quantity, []).append(loc)
    out = []
    for quantity, group in by_quantity.items():
        if (
            len({loc.fact.doc for loc in group}) < 2
            or len({frozenset(numbers(loc.fact.text)) for loc in group}) < 2
        ):
            continue
        out.append(Disagreement(quantity, tuple(group)))
    return tuple(out)
