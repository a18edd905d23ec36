"""Evidence: what a question asks, and how well each candidate sentence answers it.

A question names a topic and asks for an aspect of it (management, dose, findings, ...). A
sentence scores by the question's words it shares (also through its heading and lead-in, and
through abbreviations the corpus defines), by its meaning (its stored in-context vector against
the question's, relative to the question's median similarity) and by the document's structure:
a heading or lead-in naming the aspect asked for counts for it, one naming another aspect
("Initial Symptoms ...") against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from . import readability
from .aspects import Aspects
from .corpus import Passage, Sentence
from .question import Question, ReadsQuestions
from .retrieve import Retrieval
from .rules import Fact
from .sentences import Meaning
from .structure import Structure
from .text import content_tokens, tokens
from .tuning import Tuning

__all__ = ["Candidate", "Evidence", "Question", "reading_grade_of", "repetitive"]


def repetitive(text: str, min_words: int, unique_share: float) -> bool:
    """Source text that repeats itself ("X is indicated for ALS X is indicated for ALS ...")."""
    words = tokens(text)
    return len(words) >= min_words and len(set(words)) / len(words) < unique_share


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


class Evidence(ReadsQuestions):
    """Reads questions (:class:`ReadsQuestions`) and scores candidate sentences over one
    corpus's structure."""

    def __init__(self, tuning: Tuning, structure: Structure, aspects: Aspects | None, plain):
        self.tuning = tuning
        self.structure = structure
        self.aspects = aspects
        self.plain = plain

    def reading(self, text: str) -> tuple[float, bool]:
        """A sentence's reading grade in its plain words, and whether it is too hard for a
        patient answer (``patient.max_sentence_grade``, ``max_sentence_words``)."""
        pt = self.tuning.patient
        grade = reading_grade_of(self.plain(text))
        return grade, grade > pt.max_sentence_grade or len(text.split()) > pt.max_sentence_words

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
                said_asked = named_said & q.asked
                # (of the aspect's own topic when its question has one: Question.by_aspect)
                says = (
                    bool(said_asked)
                    and self.coverage(q, words | about, said_asked) >= ct.topic_share
                )
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
