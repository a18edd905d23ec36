"""Repair: after the guard, restore threshold facts verbatim; the checked answer's final form.

The guard only checks and reports. This stage puts back, as whole source sentences, a threshold
fact the guard found reworded (where the reworded sentence stood) and any fact the answer must
quote but lacks; then it lists every registered fact shown and the disagreements shown in full.
It adds nothing but verbatim sentences of the fact registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .compose import Difference, DraftSentence, evidence_group
from .corpus import Passage
from .facts import FactBook, Located
from .guard import Checked
from .rules import Fact


@dataclass
class Verified:
    """A checked, repaired draft: its sentences, the facts quoted, and what was repaired."""

    sentences: list[DraftSentence]
    sources: tuple[Passage, ...]
    facts: list[tuple[Fact, int]]
    differences: tuple[Difference, ...]
    notes: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    drafted: int = 0  # the composer's own sentences that survived (restored facts: 0)

    @property
    def empty(self) -> bool:
        return not self.sentences


def _fact_sentence(loc: Located, index: int) -> DraftSentence:
    return DraftSentence(
        loc.sentence.text, (index,), lead=loc.passage.lead, group=evidence_group(loc.passage)
    )


def repair(
    checked: Checked,
    wanted: tuple[Located, ...] | list[Located],
    differences: tuple[Difference, ...],
    factbook: FactBook,
) -> Verified:
    """The final answer content for a checked draft.

    Args:
        checked: the guard's verdict.
        wanted: the (trusted) facts the answer must quote verbatim.
        differences: the disagreements the draft meant to show.
        factbook: the fact registry, to list every registered fact shown.
    """
    sources = list(checked.sources)
    notes: list[str] = []
    sentences: list[DraftSentence] = []
    pending = list(checked.reworded)

    def restore(upto: int) -> None:
        while pending and pending[0][0] <= upto:
            _, loc = pending.pop(0)
            if all(k.text != loc.sentence.text for k in sentences):
                sentences.append(_fact_sentence(loc, sources.index(loc.passage)))

    for k, s in enumerate(checked.sentences):
        restore(k)
        sentences.append(s)
    restore(len(checked.sentences))
    body = " ".join(s.text for s in sentences)
    for loc in wanted:
        if loc.fact.text in body:
            continue
        if loc.passage not in sources:
            sources.append(loc.passage)
        sentences.append(_fact_sentence(loc, sources.index(loc.passage)))
        body += " " + loc.sentence.text
        notes.append(f"threshold fact {loc.fact.id!r} quoted verbatim from the source")
    # Every registered fact shown in the answer is quoted and listed.
    quoted: list[tuple[Fact, int]] = []
    for s in sentences:
        for i in s.cites:
            for fact in factbook.in_text(sources[i], s.text):
                if all(f.id != fact.id for f, _ in quoted):
                    quoted.append((fact, i))
    shown = tuple(d for d in differences if all(f.text in body for f, _ in d.facts))
    if differences and len(shown) < len(differences):
        notes.append("a disagreement between sources could not be shown in full")
    return Verified(
        sentences, tuple(sources), quoted, shown, notes, list(checked.violations), checked.drafted
    )
