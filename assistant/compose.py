"""Compose: turn retrieved passages into a draft answer. The default composer is extractive.

The extractive composer is deterministic: it picks whole sentences and bullets that answer the
question, drops near-duplicates across documents, and cites each one. A language-model composer
(:mod:`assistant.llm`) produces the same :class:`Draft`, and both pass the same guard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .conversation import SearchQuery
from .corpus import Passage, Sentence
from .facts import Disagreement, Located
from .retrieve import Retrieval
from .route import Route
from .rules import Fact
from .sentences import Meaning, SentenceVectors
from .structure import Aspects, Structure
from .text import QUESTION_WORDS, STOPWORDS, content_tokens, jaccard, tokens
from .tuning import Tuning

_ANAPHORA = re.compile(r"^(These|This|Those|They|It|Therefore|Instead|Further|During this)\b")


def _repetitive(text: str, min_words: int, unique_share: float) -> bool:
    """Source text that repeats itself ("X is indicated for ALS X is indicated for ALS ...")."""
    words = tokens(text)
    return len(words) >= min_words and len(set(words)) / len(words) < unique_share


def _points_back_to(later: _Candidate, earlier: _Candidate) -> bool:
    """``later`` is the next sentence of ``earlier``'s passage and refers back ("It ...")."""
    sents = earlier.passage.sentences
    k = sents.index(earlier.sentence) if earlier.sentence in sents else -1
    return (
        later.passage.id == earlier.passage.id
        and 0 <= k < len(sents) - 1
        and later.sentence == sents[k + 1]
        and bool(_ANAPHORA.match(later.sentence.text))
    )


def _as_line(text: str) -> str:
    """A displayed line as a sentence, the way a reader's grade counts it."""
    return text if text[-1:] in ".?!" else text + "."


@lru_cache(maxsize=8192)
def reading_grade_of(text: str) -> float:
    """Flesch-Kincaid grade of one sentence (textstat, offline with its bundled dictionary)."""
    import textstat

    return float(textstat.flesch_kincaid_grade(text))


GROUP_ORDER = ("guideline", "label", "research", "patient")
GROUP_TITLES = {
    "guideline": "From the guidelines",
    "label": "From the FDA drug label",
    "research": "From the research",
    "patient": "From patient information",
}


# Headings that name a kind of evidence ("From the FDA Drug Label"), as the pages label them.
SECTION_GROUPS = {"drug label": "label", "from the research": "research"}
SECTION_GROUPS["from the guidelines"] = "guideline"


def names_evidence_kind(heading: str) -> bool:
    """A heading that says what kind of evidence follows, not what it is about."""
    return any(phrase in heading.lower() for phrase in SECTION_GROUPS)


def evidence_group(p: Passage) -> str:
    """Which kind of evidence a passage is, from its section and its references' types."""
    path = " ".join(p.section).lower()
    for phrase, group in SECTION_GROUPS.items():
        if phrase in path:
            return group
    types = {r.type for r in p.references}
    if len(p.references) < len(p.markers):
        types.add("unlisted")  # a marker the page's References list does not resolve
    if "Guideline" in types:
        return "guideline"
    if types == {"Research"}:
        return "research"
    if p.meta.audience == "patient":
        return "patient"
    return "guideline"


@dataclass(frozen=True)
class DraftSentence:
    """One sentence of a draft: its text and the sources (indexes into ``Draft.sources``)."""

    text: str
    cites: tuple[int, ...] = ()
    lead: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Difference:
    """Facts from different sources that give different figures for one quantity."""

    quantity: str
    facts: tuple[tuple[Fact, int], ...]


@dataclass(frozen=True)
class Draft:
    """What a composer hands the guard."""

    sentences: tuple[DraftSentence, ...]
    sources: tuple[Passage, ...]
    composer: str = "extractive"
    differences: tuple[Difference, ...] = ()
    fallback_reason: str | None = None


@dataclass(frozen=True)
class ComposeInput:
    """Everything a composer may use; no composer needs another stage's object."""

    question: str
    query: SearchQuery
    route: Route
    retrieval: Retrieval
    facts: tuple[Located, ...]  # threshold facts the answer must quote, located in the corpus
    history: tuple[dict, ...] = ()
    untrusted: frozenset[str] = frozenset()  # documents that address the assistant
    own_terms: frozenset[str] | None = None  # a follow-up's own words (None: all are its own)
    disagreements: tuple[Disagreement, ...] = ()  # facts above that disagree, by quantity


def differences_in(
    disagreements: tuple[Disagreement, ...], sources: list[Passage] | tuple[Passage, ...]
) -> tuple[Difference, ...]:
    """Each disagreement whose facts are all among ``sources``, as source indexes."""
    out = []
    for d in disagreements:
        if all(loc.passage in sources for loc in d.facts):
            items = tuple((loc.fact, sources.index(loc.passage)) for loc in d.facts)
            out.append(Difference(d.quantity, items))
    return tuple(out)


@dataclass
class _Candidate:
    passage: Passage
    sentence: Sentence
    score: float
    forced: bool = False
    words: set[str] = field(default_factory=set)
    relevance: float = 0.0
    hard: bool = False
    fits: bool = False  # under a heading that names the question's topic and aspect
    leads_to: _Candidate | None = None  # the sentence this one is the antecedent of
    facts: tuple[Fact, ...] = ()  # the threshold facts a forced sentence quotes


@dataclass(frozen=True)
class _Question:
    """What the composer reads from the question: its terms, topic and asked aspects."""

    terms: set[str]
    specific: set[str]
    own: set[str]
    topic: set[str]  # specific words naming what the question is about
    asked: frozenset[str]  # aspects it asks for ("management", "findings", ...)


class ExtractiveComposer:
    """Deterministic sentence selection from the retrieved passages.

    A sentence scores by the question's words it shares (in its context too), by its meaning
    (its stored in-context vector against the question's) and by the document's structure: a
    heading or lead-in that names the aspect asked for ("Sialorrhea management:") counts for
    it, one that names another aspect ("Initial Symptoms ...") against it. A list whose
    heading names the question's topic and aspect is given as the author wrote it (bounded).
    """

    name = "extractive"

    def __init__(
        self,
        tuning: Tuning | None = None,
        plain=None,
        structure: Structure | None = None,
        vectors: SentenceVectors | None = None,
        aspects: Aspects | None = None,
        frame: tuple[str, ...] = (),
    ):
        self.tuning = tuning or Tuning()
        self.plain = plain or (lambda text: text)
        self.structure = structure or Structure()
        self.vectors = vectors or SentenceVectors.empty()
        self.aspects = aspects
        self.frame = frame  # the fixed lines around a patient answer (its reading grade counts)

    def _question(self, inp: ComposeInput) -> _Question:
        found, st = inp.retrieval, self.structure
        terms = {
            t
            for t in found.terms + found.expansions
            if t not in QUESTION_WORDS and t not in STOPWORDS and len(t) > 1
        } or set(found.terms)
        terms = st.as_concepts(terms)  # "amyotrophic lateral sclerosis" is "als"

        def specific(w: str) -> bool:
            return found.specific(w) if w in found.evidence else st.is_specific(w)

        # In a follow-up the new question's own words matter more than the carried subject.
        # When the question has specific words, a sentence must share one of them; a general
        # question ("What are the symptoms of ALS?") is matched on all its words.
        own = st.as_concepts(set(inp.own_terms)) if inp.own_terms is not None else set(terms)
        asked, asking = self.aspects.asked(inp.question) if self.aspects else (frozenset(), set())
        typed = st.as_concepts(set(found.terms))  # not the ranking hints ("treated" -> ...)
        topic = {w for w in terms & typed if specific(w) and w not in asking}
        terms = {w for w in terms if w not in asking} or terms  # the aspect is matched as such
        return _Question(terms, {w for w in terms if specific(w)} or set(terms), own, topic, asked)

    def _fits(self, q: _Question, header: list[str]) -> bool:
        """A heading or lead-in that names the question's topic and the aspect it asks for."""
        if not self.aspects or not q.asked:
            return False
        topic = q.topic & set(header)
        aspect = self.aspects.named(header) & q.asked
        return bool(aspect and (topic or not q.topic))

    def compose(self, inp: ComposeInput) -> Draft:
        ct = self.tuning.compose
        patient = inp.route.audience == "patient"
        limit = ct.patient_sentences if patient else ct.clinician_sentences
        found = inp.retrieval
        q = self._question(inp)
        st = self.structure
        meaning = self.vectors.relative(found.query_vector)
        candidates = self._candidates(inp, q, meaning, patient)
        if patient and candidates:
            # Plain words never cost the answer its most relevant sentence; other sentences too
            # hard for a patient answer are left out (threshold facts still come, verbatim).
            anchor = max(candidates, key=lambda c: c.relevance)
            lay = [c for c in candidates if c.passage.meta.audience == "patient"]
            plain = max(lay, key=lambda c: c.relevance, default=None)
            if plain and plain.relevance >= self.tuning.patient.lead_share * anchor.relevance:
                anchor = plain  # a patient source answers: it leads, in its own words
            anchor.score = max(c.score for c in candidates) + 1e-6
            candidates = [c for c in candidates if c is anchor or not c.hard]
        pool = list(candidates)
        for loc in inp.facts:
            here = tuple(f.fact for f in inp.facts if f.sentence == loc.sentence)
            candidates.append(
                _Candidate(
                    loc.passage,
                    loc.sentence,
                    1e6,
                    forced=True,
                    words=set(content_tokens(loc.sentence.text)),
                    facts=here,
                )
            )
        if inp.route.intent == "self_treatment":
            candidates, pool = [c for c in candidates if c.forced], []
        cut = ct.patient_cut if patient else ct.clinician_cut
        chosen = self._select(candidates, limit, cut)
        if patient and any(c.passage.meta.audience == "patient" for c in chosen):
            pool = [c for c in pool if c.passage.meta.audience == "patient"]  # their own words
        chosen = self._with_paragraph(self._with_list(chosen, pool, q, limit), pool, q)
        chosen = self._with_antecedents(self._ordered(chosen, patient))
        if patient:
            chosen = self._readable(chosen)
        if not chosen:
            return Draft((), ())
        sources: list[Passage] = []
        sentences = []
        for c in chosen:
            if c.passage not in sources:
                sources.append(c.passage)
            idx = sources.index(c.passage)
            sentences.append(
                DraftSentence(
                    c.sentence.text,
                    (idx,),
                    lead=st.lead(c.passage),
                    group=evidence_group(c.passage),
                )
            )
        differences = differences_in(inp.disagreements, sources)
        return Draft(tuple(sentences), tuple(sources), differences=differences)

    def _candidates(
        self, inp: ComposeInput, q: _Question, meaning: Meaning | None, patient: bool
    ) -> list[_Candidate]:
        """Every sentence of the candidate passages that bears on the question, scored."""
        ct, pt, st, found = self.tuning.compose, self.tuning.patient, self.structure, inp.retrieval

        def weight(w: str) -> float:
            idf = found.idf(w) if w in found.evidence else st.idf(w)
            return idf * (1.0 if w in q.own else ct.carried_weight)

        out: list[_Candidate] = []
        for rank, p, similarity in self._passages(inp, q, meaning):
            header = st.header_tokens(p)
            context = set(header)
            named_here = frozenset()
            if self.aspects and q.asked:
                named_here = self.aspects.named(header)
                if p.id in st.openings:
                    named_here |= self.aspects.opening  # a document opens by saying what it is
            fits = self._fits(q, header) or bool(q.asked & named_here and not q.topic)
            for s in p.sentences:
                if s.text.endswith(":") or _repetitive(
                    s.text, ct.repetitive_min_words, ct.repetitive_unique_share
                ):
                    continue  # a lead-in (shown above its bullets) or garbled source text
                said = st.with_abbreviations(tokens(s.text))
                words = set(said)
                close = meaning(p.id, s.start) if meaning is not None else 0.0
                named_said = self.aspects.named(said) if self.aspects and q.asked else frozenset()
                on_aspect = bool(q.asked & (named_here | named_said))
                if (
                    rank > 0
                    and not q.specific & (words | context)
                    and not on_aspect
                    and (meaning is None or close < ct.meaning_floor)
                ):
                    continue  # shares only ubiquitous words ("ALS") with the question
                score = sum(weight(w) for w in sorted(q.terms & words))
                score += ct.context_weight * sum(
                    weight(w) for w in sorted(q.terms & (context - words))
                )
                score += ct.rank_weight / (rank + 1) + ct.similarity_weight * similarity
                score += ct.meaning_weight * close
                if q.asked:
                    fit = 0.0
                    on_topic = not q.topic or q.topic & (words | context)
                    if named_here & q.asked:
                        fit += 1.0
                    elif named_here:
                        fit -= 1.0  # the heading is about another aspect ("Symptoms")
                    if named_said & q.asked:
                        fit += ct.sentence_aspect_share
                    # The aspect counts for a sentence about the topic, not about another one.
                    score += ct.aspect_weight * (fit if on_topic else min(fit, 0.0))
                relevance, hard = score, False
                if patient:
                    grade = reading_grade_of(self.plain(s.text))
                    hard = (
                        grade > pt.max_sentence_grade or len(s.text.split()) > pt.max_sentence_words
                    )
                    score /= 1.0 + pt.grade_penalty * max(0.0, grade - pt.grade_target)
                    if p.meta.audience == "patient":
                        score *= pt.patient_source_boost
                words = set(content_tokens(s.text))
                out.append(_Candidate(p, s, score, False, words, relevance, hard, fits))
        return out

    def _passages(self, inp: ComposeInput, q: _Question, meaning: Meaning | None):
        """``(rank, passage, similarity)`` of the retrieved passages, then (ranked after them)
        the other items of their lists, the rest of their sections whose heading names the
        aspect asked for, and the passages of the sentences closest in meaning that retrieval
        missed."""
        hits = inp.retrieval.hits
        seen = {h.passage.id for h in hits}
        out = [(rank, h.passage, h.similarity) for rank, h in enumerate(hits)]
        st = self.structure
        for hit in hits:
            pid = hit.passage.id
            block = st.list_of.get(pid) or st.list_after.get(pid)
            section = st.section_of.get(pid)
            more = list(block.passages) if block else []
            if section and self._fits(q, tokens(" ".join(section.section))):
                more += section.passages  # a section whose heading answers, as written
            for p in more:
                if p.id not in seen:
                    seen.add(p.id)
                    out.append((len(hits), p, 0.0))
        if meaning is not None:
            ct = self.tuning.compose
            for pid, _ in meaning.best(ct.meaning_pool, ct.meaning_floor):
                p = self.structure.passages.get(pid)
                if p is not None and p.id not in seen and p.doc_id not in inp.untrusted:
                    seen.add(p.id)
                    out.append((len(hits), p, 0.0))
        return out

    def _with_list(
        self, chosen: list[_Candidate], pool: list[_Candidate], q: _Question, limit: int
    ) -> list[_Candidate]:
        """A list whose heading names the question's topic and aspect comes whole (its best
        ``list_items`` items, in the author's order) when its best item scores at least
        ``list_cut`` of the best sentence."""
        ct, st = self.tuning.compose, self.structure
        best = max((c.score for c in chosen if not c.forced), default=0.0)
        fitting = [
            c
            for c in pool
            if c.passage.id in st.list_of and self._fits(q, st.header_tokens(c.passage))
        ]
        if not fitting:
            return chosen
        top = max(fitting, key=lambda c: c.score)
        if top.score < ct.list_cut * best:
            return chosen
        members = {p.id for p in st.list_of[top.passage.id].passages}
        best_of: dict[str, float] = {}
        for c in pool:
            if c.passage.id in members:
                best_of[c.passage.id] = max(best_of.get(c.passage.id, c.score), c.score)
        shown = set(sorted(best_of, key=lambda pid: -best_of[pid])[: ct.list_items])
        items = [c for c in pool if c.passage.id in shown]  # whole items, as written
        have = {(c.passage.id, c.sentence.start) for c in chosen}
        extra = [c for c in items if (c.passage.id, c.sentence.start) not in have]
        for c in extra:
            c.score = max(c.score, top.score)  # read as one answer with the list's best item
        return chosen + extra

    def _with_paragraph(
        self, chosen: list[_Candidate], pool: list[_Candidate], q: _Question
    ) -> list[_Candidate]:
        """The best sentences come with the opening of their section (its first
        ``section_sentences``, for the best two documents) when its heading names the aspect
        asked for; else the best one with the rest of its paragraph when that is short
        (``paragraph_sentences``): as the author wrote them."""
        ct, st = self.tuning.compose, self.structure
        ranked = sorted((c for c in chosen if not c.forced), key=lambda c: (-c.score, -c.relevance))
        if not ranked:
            return chosen
        rest: list[_Candidate] = []
        docs: list[str] = []
        usable = {c.passage.doc_id for c in pool}
        for c in ranked:
            section = st.section_of.get(c.passage.id)
            if c.passage.doc_id in docs or c.passage.doc_id not in usable or section is None:
                continue
            if not self._fits(q, tokens(" ".join(section.section))):
                continue
            docs.append(c.passage.doc_id)
            order = {p.id: k for k, p in enumerate(section.passages)}
            mine = sorted(
                (x for x in pool if x.passage.id in order),
                key=lambda x: (order[x.passage.id], x.sentence.start),
            )
            rest += mine[: ct.section_sentences]
            if len(docs) == 2:
                break
        best = ranked[0]
        short = len(best.passage.sentences) <= ct.paragraph_sentences
        if not docs and best.passage.kind == "paragraph" and short:
            rest = [x for x in pool if x.passage.id == best.passage.id]
        have = {(c.passage.id, c.sentence.start) for c in chosen}
        extra = []
        for c in rest:
            if (c.passage.id, c.sentence.start) not in have:
                have.add((c.passage.id, c.sentence.start))
                c.score = max(c.score, best.score * ct.clinician_cut)
                extra.append(c)
        return chosen + extra

    def _readable(self, chosen: list[_Candidate]) -> list[_Candidate]:
        """A patient answer within its reading grade: while its lines (with the patient
        framing) read above ``answer_grade``, the optional sentence that costs the most grade
        for its score goes, with its antecedent (facts and the best sentence stay)."""
        target, framed = self.tuning.patient.answer_grade, self.tuning.patient.framed_share
        keep = list(chosen)
        best = max((c for c in keep if not c.forced), key=lambda c: c.score, default=None)

        def shown(c: _Candidate) -> list[str]:
            """The lines a sentence shows as: a fact filling most of it, under its plain
            lead-in (as the answer frames it), else the sentence."""
            text = c.sentence.text
            covered = sum(len(f.text) for f in c.facts)
            if c.facts and all(f.plain for f in c.facts) and covered >= framed * len(text):
                return [t for f in c.facts for t in (f.plain or "", f.text)]
            return [text]

        def grade(cs: list[_Candidate]) -> float:
            leads = dict.fromkeys(self.structure.lead(c.passage) or "" for c in cs)
            lines = [*self.frame, *leads, *(t for c in cs for t in shown(c))]
            return reading_grade_of(" ".join(_as_line(self.plain(t)) for t in lines if t))

        now = grade(keep)
        while now > target:
            trials = []  # (grades gained per point of score lost, grade without, unit)
            for c in keep:
                if c.forced or c is best or c.leads_to is not None:
                    continue
                unit = {id(c)} | {id(a) for a in keep if a.leads_to is c}
                unit |= {id(d) for d in keep if _points_back_to(d, c)}
                without = grade([k for k in keep if id(k) not in unit])
                if without < now:
                    trials.append(((now - without) / max(c.score, 1e-6), without, unit))
            if not trials:
                break  # no sentence left out would make the answer easier to read
            _, now, unit = max(trials, key=lambda t: t[0])
            keep = [k for k in keep if id(k) not in unit]
        return keep

    def _ordered(self, chosen: list[_Candidate], patient: bool) -> list[_Candidate]:
        """Documents in the order of their best sentence (for patients, a patient source that
        answers comes first); within a document the source order, so lists read as written."""
        best: dict[str, float] = {}
        for c in chosen:
            score = 1e12 if c.forced else c.score
            best[c.passage.doc_id] = max(best.get(c.passage.doc_id, -1e18), score)
        top = max((s for s in best.values() if s < 1e12), default=0.0)
        share = self.tuning.patient.lead_share
        lay = {
            c.passage.doc_id
            for c in chosen
            if c.passage.meta.audience == "patient" and (c.forced or c.score >= share * top)
        }

        def doc_key(doc: str) -> tuple:
            return (not (patient and doc in lay), -best[doc], doc)

        return sorted(chosen, key=lambda c: (doc_key(c.passage.doc_id), c.sentence.start))

    def _select(self, candidates: list[_Candidate], limit: int, cut: float) -> list[_Candidate]:
        candidates.sort(key=lambda c: (-c.score, c.passage.doc_id, c.sentence.start))
        chosen: list[_Candidate] = []
        seen_spans = set()
        best = next((c.score for c in candidates if not c.forced), 0.0)
        for c in candidates:
            span = (c.passage.doc_id, c.sentence.start)
            if span in seen_spans:
                continue
            share = min(cut, self.tuning.compose.fit_cut) if c.fits else cut
            if not c.forced and (len(chosen) >= limit or c.score < share * best):
                continue
            if not c.forced and any(
                jaccard(c.words, o.words) >= self.tuning.compose.duplicate_jaccard for o in chosen
            ):
                continue
            seen_spans.add(span)
            chosen.append(c)
        return chosen

    @staticmethod
    def _with_antecedents(chosen: list[_Candidate]) -> list[_Candidate]:
        """A sentence that points back ("These tests ...") comes with the sentence before it."""
        out: list[_Candidate] = []
        spans = {(c.passage.id, c.sentence.start) for c in chosen}
        for c in chosen:
            sents = c.passage.sentences
            k = sents.index(c.sentence)
            if k > 0 and _ANAPHORA.match(c.sentence.text):
                prev = sents[k - 1]
                if (c.passage.id, prev.start) not in spans and not prev.text.endswith(":"):
                    out.append(_Candidate(c.passage, prev, c.score, words=c.words, leads_to=c))
                    spans.add((c.passage.id, prev.start))
            out.append(c)
        return out
