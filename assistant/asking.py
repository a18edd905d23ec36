"""Asking: what the sentences that ask name, when a story surrounds them.

"My sister was diagnosed last month. How long do people live with this?" tells a story, then
asks. The aspect asked and the topic the answer is chosen for come from the asking sentences
when they can stand alone; otherwise the whole question is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .aspects import Aspects
from .clauses import POINTS_TO_PERSON, asking_sentences, each_asked, told_and_asked, topic_part
from .text import QUESTION_WORDS, content_tokens


class Asking:
    """Reads the asking part of a question over one corpus's words and aspects."""

    def __init__(
        self,
        aspects: Aspects | None,
        df: Mapping[str, int],
        terms_of: Callable[[str], frozenset[str]],
        pointed: Callable[[str, list[str]], tuple[str, ...]] | None = None,
    ):
        self.aspects = aspects
        self.df = df
        self.terms_of = terms_of  # text -> its words as the keyword index reads them
        # (story, asking sentences) -> the story's subjects they point back to
        self.pointed = pointed

    def asks_aspect(self, text: str | None) -> bool:
        return bool(text and self.aspects and self.aspects.asked(text)[0])

    def terms(self, question: str) -> frozenset[str] | None:
        """The words of the sentences that ask, when others only tell a story: when they ask
        for an aspect themselves ("What are the first signs?") or name what they ask about
        ("Will I lose my ability to think clearly?"). One that speaks of the story's person
        and asks an aspect must name it too ("What can we do so she can keep talking?"; not
        "What can help him?", which needs the story's topic)."""
        asked = self.part(question)
        return None if asked is None else self.terms_of(asked)

    def each(self, question: str) -> tuple[tuple[str, frozenset[str], bool], ...]:
        """Each question asked (:func:`each_asked`), with its words and whether it continues
        the clause before it, when several are; () otherwise."""
        asks = each_asked(question)  # (each_ask already keeps the asking sentences)
        if len(asks) < 2:
            return ()
        return tuple((s, self.terms_of(s), joined) for s, joined in asks)

    def resolved(self, question: str) -> str | None:
        """The asking sentences with the story's subject they point back to ("my mum has to
        start riluzole ... do I give it with breakfast?" asks about riluzole, not about mum);
        None when they point to none."""
        both = told_and_asked(question) if self.pointed else None
        if both is None:
            return None
        told, asked = both
        named = self.pointed(told, asked)
        return " ".join([*asked, *named]) if named else None

    def part(self, question: str) -> str | None:
        """The sentences that ask, when they stand alone beside a story (see :meth:`terms`),
        with the story's subject they point back to; None otherwise."""
        resolved = self.resolved(question)
        asked = resolved or topic_part(question)
        if not asked:
            return None
        # an ask left beside one that points into the story ("Is that from the tablets? what
        # should we do?") must name its own topic too: else the story's is what it asks of
        beside = not resolved and asked != asking_sentences(question)
        typed = content_tokens(asked)  # as typed, not the words it is read with
        if beside and not any(self.df.get(t) for t in typed if t not in QUESTION_WORDS):
            return None
        if not self.asks_aspect(asked) or POINTS_TO_PERSON.search(asked):
            asking = self.aspects.asked(asked)[1] if self.aspects else frozenset()
            if not any(
                self.df.get(t) for t in typed if t not in asking and t not in QUESTION_WORDS
            ):
                return None
        return asked
