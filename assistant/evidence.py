"""Evidence: what a question asks, and how well each candidate sentence answers it.

A question names a topic and asks for an aspect of it (management, dose, findings, ...). A
sentence scores by the question's words it shares (also through its heading and lead-in, and
through abbreviations the corpus defines), by its meaning (its stored in-context vector against
the question's, relative to the question's median similarity) and by the document's structure:
a heading or lead-in naming the aspect asked for counts for it, one naming another aspect
("Initial Symptoms ...") against it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from . import readability
from .aspects import Aspects
from .clauses import asking_sentences
from .corpus import Passage, Sentence
from .retrieve import Retrieval
from .rules import Fact
from .sentences import Meaning
from .structure import Structure
from .text import QUESTION_WORDS, STOPWORDS, content_tokens, is_number, lemmas, stem, tokens, units
from .tuning import Tuning


def repetitive(text: str, min_words: int, unique_share: float) -> bool:
    """Source text that repeats itself ("X is indicated for ALS X is indicated for ALS ...")."""
    words = tokens(text)
    return len(words) >= min_words and len(set(words)) / len(words) < unique_share


def _share(concepts: tuple[tuple[frozenset[str], float], ...], words: set[str]) -> float:
    """The share of ``concepts`` (by weight) that ``words`` name; all of none."""
    if not concepts:
        return 1.0
    named = sum(w for group, w in concepts if group & words)
    return named / (sum(w for _, w in concepts) or 1.0)


@lru_cache(maxsize=8192)
def reading_grade_of(text: str) -> float:
    """Flesch-Kincaid grade of one sentence (textstat, offline with its bundled dictionary)."""
    return readability.grade(text)


@dataclass
class Candidate:
    """A sentence that may go into the answer, with its score."""

    passage: Passage
    sentence: Sentence
    score: float
    forced: bool = False  # a threshold fact the answer must quote
    words: set[str] = field(default_factory=set)
    relevance: float = 0.0  # the score before a patient answer's plain-words adjustments
    hard: bool = False  # too hard to read for a patient answer
    fits: bool = False  # it, or its heading, names the question's topic and aspect
    leads_to: Candidate | None = None  # the sentence this one is the antecedent of
    facts: tuple[Fact, ...] = ()  # the threshold facts a forced sentence quotes
    opening: bool = False  # added as part of a section's opening, as the author wrote it
    elsewhere: bool = False  # under a heading about another aspect than the one asked for

    @property
    def span(self) -> tuple[str, int]:
        return (self.passage.id, self.sentence.start)


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
    # aspect -> the concepts of the asking sentences that ask it, when several ask different
    # aspects of different topics ("Does it matter when he takes it with food? And what should
    # we watch for while he's on it?"): each aspect is matched with its own sentence's topic
    by_aspect: dict[str, tuple[tuple[frozenset[str], float], ...]] = field(default_factory=dict)


class Evidence:
    """Reads questions and scores candidate sentences over one corpus's structure."""

    def __init__(self, tuning: Tuning, structure: Structure, aspects: Aspects | None, plain):
        self.tuning = tuning
        self.structure = structure
        self.aspects = aspects
        self.plain = plain

    def question(
        self, text: str, found: Retrieval, own_terms, asked_terms=None, each_ask=()
    ) -> Question:
        """The question's terms, topic and aspects; ``own_terms``: a follow-up's own words;
        ``asked_terms``: the words of the sentences that ask, when others tell a story (the
        topic is what they name; "I keep dropping things ... What are the first signs?");
        ``each_ask``: each asking sentence with its words, when several ask."""
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
            if joined and parts:
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

    def reading(self, text: str) -> tuple[float, bool]:
        """A sentence's reading grade in its plain words, and whether it is too hard for a
        patient answer (``patient.max_sentence_grade``, ``max_sentence_words``)."""
        pt = self.tuning.patient
        grade = reading_grade_of(self.plain(text))
        return grade, grade > pt.max_sentence_grade or len(text.split()) > pt.max_sentence_words

    @staticmethod
    def coverage(q: Question, words: set[str], aspects: frozenset[str] = frozenset()) -> float:
        """The share of the question's topic (its concepts, by weight) that ``words`` name;
        with ``aspects`` (asked ones a line says), the best share of their own topics."""
        own = [q.by_aspect[a] for a in sorted(aspects) if a in q.by_aspect]
        return max(_share(c, words) for c in own) if own else _share(q.concepts, words)

    def _names_topic(self, q: Question, p: Passage) -> bool:
        """Does a sentence of ``p`` that says the aspect asked also name part of the question's
        topic ("Use BPAP ... in patients with *bulbar* impairment")?"""
        if not self.aspects:
            return False
        # (what the passage is about counts: "Riluzole 50 mg ..." above its list's "Discontinue
        # if ...")
        about = set(self.structure.subject_tokens(p))
        for s in p.sentences:
            said = self.structure.said(p, s)
            # (a question without concepts is about the section's own subject)
            named = self.aspects.named(said, q.asked)
            if named and self.coverage(q, set(said) | about, named) > 0:
                return True
        return False

    def fits(self, q: Question, header: list[str]) -> bool:
        """A heading or lead-in that names the aspect asked for and the question's topic (at
        least ``topic_share`` of its concepts, by weight)."""
        named = self.aspects.named(header) & q.asked if self.aspects and q.asked else None
        if not named:
            return False
        return self.coverage(q, set(header), named) >= self.tuning.compose.topic_share

    def heads(self, q: Question, header: list[str]) -> bool:
        """A section heading that answers: it :meth:`fits`, or, for a question that asks no
        aspect, it names every concept of the topic ("Anything disease-modifying to start?"
        and "Disease-Modifying Medication")."""
        if self.fits(q, header):
            return True
        return not q.asked and bool(q.concepts) and self.coverage(q, set(header)) >= 1.0

    def candidates(
        self,
        found: Retrieval,
        q: Question,
        meaning: Meaning | None,
        patient: bool,
        untrusted: frozenset[str] = frozenset(),
    ) -> list[Candidate]:
        """Every sentence of the candidate passages that bears on the question, scored."""
        ct, pt, st = self.tuning.compose, self.tuning.patient, self.structure

        def weight(w: str) -> float:
            idf = found.idf(w) if w in found.evidence else st.idf(w)
            return idf * (1.0 if w in q.own else ct.carried_weight)

        out: list[Candidate] = []
        for rank, p, similarity in self.passages(found, q, meaning, untrusted):
            header = st.header_tokens(p)
            context = set(header)
            about = set(st.subject_tokens(p))
            named_here: frozenset[str] = frozenset()
            fits = False
            if self.aspects and q.asked:
                named_here = self.aspects.named(header)
                headed = q.asked & named_here
                fits = bool(headed) and self.coverage(q, about, headed) >= ct.topic_share
                if p.id in st.openings:
                    named_here |= self.aspects.opening  # a document opens by saying what it is
                fits = fits or bool(q.asked & named_here and not q.topic)
            for s in p.sentences:
                if s.text.endswith(":") or repetitive(
                    s.text, ct.repetitive_min_words, ct.repetitive_unique_share
                ):
                    continue  # a lead-in (shown above its bullets) or garbled source text
                said = st.said(p, s)
                words = set(said)
                close = meaning(p.id, s.start) if meaning is not None else 0.0
                named_said = self.aspects.named(said) if self.aspects and q.asked else frozenset()
                if (
                    rank > 0
                    and not q.specific & (words | context)
                    and not q.asked & (named_here | named_said)
                    and (meaning is None or close < ct.meaning_floor)
                ):
                    continue  # shares only ubiquitous words ("ALS") with the question
                seen = words | context
                shared = {w for w in q.terms if w in seen and q.whole.get(w, frozenset()) <= seen}
                score = sum(weight(w) for w in sorted(shared & words))
                score += ct.context_weight * sum(weight(w) for w in sorted(shared - words))
                score += ct.rank_weight / (rank + 1) + ct.similarity_weight * similarity
                score += ct.meaning_weight * close
                share = (
                    self.coverage(q, words | about, (named_here | named_said) & q.asked)
                    if q.asked
                    else 0.0
                )
                elsewhere = False
                if q.asked:
                    fit = 0.0
                    if named_here & q.asked:
                        fit += 1.0
                    elif named_here and not named_said & q.asked:
                        fit -= 1.0  # the heading is about another aspect ("Symptoms")
                        elsewhere = True
                    if named_said & q.asked:
                        fit += ct.sentence_aspect_share
                    # The aspect counts for a sentence about the topic, as much as it is.
                    score += ct.aspect_weight * (fit * share if fit > 0 else fit)
                relevance, hard = score, False
                if patient:
                    grade, hard = self.reading(s.text)
                    score /= 1.0 + pt.grade_penalty * max(0.0, grade - pt.grade_target)
                    if p.meta.audience == "patient":
                        score *= pt.patient_source_boost
                # A sentence that names the aspect asked for and the topic answers as a heading
                # that names them does ("... every 3 months" under "Nutritional Management").
                says = bool(named_said & q.asked) and share >= ct.topic_share
                words = set(content_tokens(s.text))
                out.append(
                    Candidate(
                        p,
                        s,
                        score,
                        False,
                        words,
                        relevance,
                        hard,
                        fits or says,
                        elsewhere=elsewhere,
                    )
                )
        return out

    def passages(
        self, found: Retrieval, q: Question, meaning: Meaning | None, untrusted: frozenset[str]
    ) -> list[tuple[int, Passage, float]]:
        """``(rank, passage, similarity)`` of the retrieved passages, then (ranked after them)
        the other items of their lists (or the list detailing them), the rest of their sections
        whose heading names the aspect asked for, and the passages of the sentences closest in
        meaning that retrieval missed."""
        st, ct = self.structure, self.tuning.compose
        hits = found.hits
        seen = {h.passage.id for h in hits}
        out = [(rank, h.passage, h.similarity) for rank, h in enumerate(hits)]
        more: list[Passage] = []
        # Passages with a sentence naming the aspect asked ("Use BPAP ... for better ...").
        saying = self.aspects.saying_any(st, q.asked) if self.aspects and q.asked else frozenset()
        for hit in hits:
            block = st.list_of.get(hit.passage.id) or st.list_after.get(hit.passage.id)
            section = st.section_of.get(hit.passage.id)
            more += block.passages if block else ()
            if section and self.fits(q, tokens(" ".join(section.section))):
                more += section.passages  # a section whose heading answers, as written
            elif section:
                # The section the question's topic is in: its lines that say the aspect asked
                # of that topic ("Use BPAP ... in patients with bulbar impairment").
                more += [p for p in section.passages if p.id in saying and self._names_topic(q, p)]
        if q.concepts and not q.asked:
            # A question that asks no aspect, about what a section's heading names whole.
            for block, heading in st.section_headings():
                if block.doc_id not in untrusted and self.heads(q, heading):
                    more += block.passages
        if q.concepts and self.aspects and q.asked:
            # Passages naming the question's rarest concept under a heading that names the
            # aspect asked for, however the sentence words it ("crying or laughter").
            group = max(q.concepts, key=lambda t: t[1])[0]
            for pid in st.first_using(group, ct.concept_pool):
                p = st.passages[pid]
                if self.aspects.named(st.header_tokens(p)) & q.asked and p.doc_id not in untrusted:
                    more.append(p)
        elif self.aspects and q.asked and meaning is not None:
            # A question about the whole subject ("What is the outlook for ALS?"): the
            # sentences that name the aspect, closest in meaning first.
            asked = tuple(sorted(q.asked))
            saying = dict.fromkeys(pid for a in asked for pid in self.aspects.saying(st, a))
            passages = [st.passages[pid] for pid in saying]
            more += meaning.closest(("saying", id(st), asked), passages, ct.concept_pool)
        if meaning is not None:
            close = (
                st.passages.get(pid) for pid, _ in meaning.best(ct.meaning_pool, ct.meaning_floor)
            )
            more += [p for p in close if p is not None and p.doc_id not in untrusted]
        # ... and the bullets detailing a one-sentence paragraph found either way ("Riluzole
        # 50 mg twice daily ..." above "Monitor serum aminotransferases ...")
        found = [*(h.passage for h in hits), *more]
        more += [x for p in found if p.id in st.detailed for x in st.detailed[p.id].passages]
        for p in more:
            if p.id not in seen:
                seen.add(p.id)
                out.append((len(hits), p, 0.0))
        return out
