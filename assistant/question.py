"""Question: what the composer reads from a question (its terms, topic, concepts and the
aspects it asks), and how much of that topic a set of words names."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .clauses import asking_sentences
from .retrieve import Retrieval
from .text import QUESTION_WORDS, STOPWORDS, is_number, lemmas, stem, tokens, units


def _share(concepts: tuple[tuple[frozenset[str], float], ...], words: set[str]) -> float:
    """The share of ``concepts`` (by weight) that ``words`` name; all of none."""
    if not concepts:
        return 1.0
    named = sum(w for group, w in concepts if group & words)
    return named / (sum(w for _, w in concepts) or 1.0)


@dataclass(frozen=True)
class Question:
    """What the composer reads from a question."""

    terms: set[str]  # words to match (framing words left out)
    specific: set[str]  # the terms a sentence must share unless it answers otherwise
    own: set[str]  # a follow-up's own words (weigh more than the carried subject)
    topic: set[str]  # specific words the user typed naming what the question is about
    asked: frozenset[str]  # aspects it asks for ("management", "findings", ...)
    concepts: tuple[tuple[frozenset[str], float], ...] = ()  # the topic as concepts, weighed
    whole: dict[str, frozenset[str]] = field(default_factory=dict)  # word -> its term's words
    # aspect -> the concepts of the questions asked (sentences, or clauses that ask again) that
    # ask it, when they ask different aspects of different topics ("Does it matter when he
    # takes it with food? And what should we watch for while he's on it?"): each aspect is
    # matched with its own question's topic
    by_aspect: dict[str, tuple[tuple[frozenset[str], float], ...]] = field(default_factory=dict)


class ReadsQuestions:
    """Reads questions over one corpus's structure and aspects (``self.structure``,
    ``self.aspects``, set by the class it is mixed into)."""

    def question(
        self, text: str, found: Retrieval, own_terms, asked_terms=None, each_ask=()
    ) -> Question:
        """The question's terms, topic and aspects; ``own_terms``: a follow-up's own words;
        ``asked_terms``: the words of the sentences that ask, when others tell a story (the
        topic is what they name; "I keep dropping things ... What are the first signs?");
        ``each_ask``: each question asked, with its words (:meth:`Asking.each`)."""
        st = self.structure
        terms = {
            t
            for t in found.terms + found.expansions
            if t not in QUESTION_WORDS and t not in STOPWORDS and len(t) > 1
        } or set(found.terms)
        terms = st.as_concepts(terms)  # "amyotrophic lateral sclerosis" is "als"

        def specific(w: str) -> bool:
            return found.specific(w) if w in found.evidence else st.is_specific(w)

        own = st.as_concepts(set(own_terms)) if own_terms is not None else set(terms)
        if own_terms is None and asked_terms is not None:
            # The story around the asking sentences is context: its words weigh as carried.
            own &= st.as_concepts(set(asked_terms)) | set(QUESTION_WORDS)
        # The aspect is what the asking sentences ask, not what the story around them names.
        asked_text = asking_sentences(text) or text
        asked, asking = (
            self.aspects.asked(asked_text) if self.aspects else (frozenset(), frozenset())
        )
        # A cue the spelling reads as a corpus word ("adverse" as "adversely") is still a cue.
        asking |= {fixed for raw, fixed in found.corrected if stem(raw.lower()) in asking}
        cues = self.aspects.cues(asked) if self.aspects else frozenset()
        typed = st.as_concepts(set(found.terms))  # not the ranking hints ("treated" -> ...)
        # A figure the question gives ("smoked for 30 years", "FVC 48%") is a value, not what
        # it is about: the topic is named in words.
        # An adverb the spelling reads as a corpus word says how, not what ("absolutely" is no
        # "absolute" topic).
        how = {fixed for raw, fixed in found.corrected if set(lemmas(raw.lower())) == {"ADV"}}
        carried = self._carried_ask(text, found, asked)
        measured = units(text)  # "for 30 years": a value's unit, no topic
        own = own - measured or own  # "about a year ago": when, weighed as context
        topic = {
            w
            for w in terms & typed
            if specific(w)
            and w not in asking | cues | how | carried | measured
            and not is_number(w)
        }
        if asked_terms is not None:
            topic &= st.as_concepts(set(asked_terms))
        terms = {w for w in terms if w not in asking} or terms  # the aspect is matched as such
        # A term of several words counts only whole ("pseudobulbar affect", not "affect"),
        # except by its rarest word, which names it alone ("multidisciplinary" care).
        whole = {
            w: g
            for g in st.multiword
            if g <= terms
            for w in g
            if w != max(g, key=lambda x: (st.idf(x), x))
        }
        # One concept per term or group of kin words ("drool" and "sialorrhea"), weighed by
        # its rarest word; a word the corpus never uses ("troublesome") names nothing there.
        named = {w for w in topic if st.df.get(w) or st.kin.get(w, frozenset()) - {w}}
        said_as, inside = self._said_as(found)
        named -= inside
        concepts: dict[frozenset[str], float] = {}
        for w in sorted(named):
            group = whole.get(w) or said_as.get(w) or st.kin.get(w, frozenset({w}))
            idf = found.idf(w) if w in found.evidence else st.idf(w)
            concepts[group] = max(concepts.get(group, 0.0), idf)
        # When the question has specific words, a sentence must share one of them; a general
        # question ("What are the symptoms of ALS?") is matched on all its words.
        specific_terms = {w for w in terms if specific(w)} or set(terms)
        by_aspect = self._by_aspect(each_ask, asked, concepts)
        return Question(
            terms, specific_terms, own, topic, asked, tuple(concepts.items()), whole, by_aspect
        )

    def _by_aspect(
        self, each_ask, asked: frozenset[str], concepts: dict[frozenset[str], float]
    ) -> dict[str, tuple[tuple[frozenset[str], float], ...]]:
        """Each asked aspect's own topic, when the questions asked (:meth:`Asking.each`) ask
        different aspects of different concepts: the concepts its question names, with those
        of the clause it continues ("Is it time to start NIV, and which mode ...?"); for one
        that names none ("And what should we watch for while he's on it?"), those no question
        names (the story's, or what it points back to). Empty when one topic serves all."""
        if len(each_ask) < 2 or not self.aspects or len(concepts) < 2:
            return {}
        st = self.structure
        parts: list[tuple[frozenset[str], set[frozenset[str]]]] = []
        for text, words, joined in each_ask:
            seen = st.as_concepts(set(words))
            groups = {g for g in concepts if g & seen}
            if joined:  # (never the first)
                groups |= parts[-1][1]
            parts.append((self.aspects.asked(text)[0] & asked, groups))
        rest = set(concepts) - set().union(*(g for _, g in parts))
        own: dict[str, set[frozenset[str]]] = {}
        for aspects, groups in parts:
            for a in aspects:
                own.setdefault(a, set()).update(groups or rest or set(concepts))
        if len({frozenset(g) for g in own.values()}) < 2:
            return {}
        return {a: tuple((g, w) for g, w in concepts.items() if g in gs) for a, gs in own.items()}

    def _carried_ask(self, text: str, found: Retrieval, asked: frozenset[str]) -> set[str]:
        """The words a follow-up carries that asked the earlier turn's aspect ("lab
        monitoring" carried into "and when do I stop it?"): when the follow-up asks an aspect
        of its own, they are no topic; the earlier turn's subject is."""
        if not self.aspects or not asked or not found.query.startswith(text):
            return set()
        carried = found.query[len(text) :]
        if not carried.strip():
            return set()  # a question on its own carries nothing
        earlier, words = self.aspects.asked(carried)
        if not earlier or earlier <= asked:
            return set()
        return set(self.structure.as_concepts(set(tokens(" ".join(words))))) | set(words)

    def _said_as(self, found: Retrieval) -> tuple[dict[str, frozenset[str]], set[str]]:
        """Lay words the glossary reads as a term ("breathing mask": non-invasive ventilation)
        name the term's concept, not concepts of their own (a word in several such phrases,
        "breathing" in "short of breath" and "breathing machine", keeps its own); the terms
        of a one-word phrase inside a longer one ("breathing": respiratory) are no concept of
        their own unless the question says them or a longer phrase names them too."""
        st, groups = self.structure, {}
        longer = [(lay, st.as_concepts(set(term))) for lay, term in found.said_as if len(lay) > 1]
        seen = Counter(w for lay, _ in longer for w in set(lay))
        for lay, said in longer:
            for w in [*said, *(w for w in lay if seen[w] == 1)]:
                groups[w] = frozenset(said)
        taken = {w for lay, _ in longer for w in lay}
        named = {w for _, said in longer for w in said}
        typed = set(tokens(found.query))
        inside = {
            w
            for lay, term in found.said_as
            if len(lay) == 1 and lay[0] in taken
            for w in st.as_concepts(set(term))
            if w not in typed | named
        }
        return groups, inside

    @staticmethod
    def coverage(q: Question, words: set[str], aspects: frozenset[str] = frozenset()) -> float:
        """The share of the question's topic (its concepts, by weight) that ``words`` name;
        with ``aspects`` (asked ones a line says), the best share of their own topics."""
        own = [q.by_aspect[a] for a in sorted(aspects) if a in q.by_aspect]
        return max(_share(c, words) for c in own) if own else _share(q.concepts, words)
