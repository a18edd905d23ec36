"""Selection: from scored candidates to the sentences of an answer, as the documents wrote them.

The best sentences are kept (a cut relative to the best, a limit, no near-duplicates). Then the
document's structure completes them: a list whose heading answers the question comes whole
(bounded), a section whose heading answers comes with its opening, a short paragraph whole, a
sentence that points back with its antecedent. A patient answer leads with a patient source
that answers and stays within its reading grade.
"""

from __future__ import annotations

import re

from .evidence import Candidate, Evidence, Question, reading_grade_of
from .lists import Lists
from .structure import Structure
from .text import content_tokens, jaccard, tokens
from .tuning import Tuning

_ANAPHORA = re.compile(r"^(These|This|Those|They|It|Therefore|Instead|Further|During this)\b")
# An addition to what the sentence before said ("Your doctor may also evaluate ...").
_ADDITION = re.compile(
    r"^(?:Also|Additionally|In addition)\b"
    r"|^(?:[\w'’-]+\s+){1,4}(?:(?:may|can|could|might|will|should|would)\s+)?also\b"
)


def _points_back_to(later: Candidate, earlier: Candidate, additions: bool = False) -> bool:
    """``later`` is the next sentence of ``earlier``'s passage and refers back ("It ..."), or,
    with ``additions``, adds to it ("... may also ...")."""
    sents = earlier.passage.sentences
    k = sents.index(earlier.sentence) if earlier.sentence in sents else -1
    text = later.sentence.text
    return (
        later.passage.id == earlier.passage.id
        and 0 <= k < len(sents) - 1
        and later.sentence == sents[k + 1]
        and bool(_ANAPHORA.match(text) or (additions and _ADDITION.match(text)))
    )


def _as_line(text: str) -> str:
    """A displayed line as a sentence, the way a reader's grade counts it."""
    return text if text[-1:] in ".?!" else text + "."


class Selector(Lists):
    """Chooses and completes the sentences of one answer."""

    def __init__(self, tuning: Tuning, evidence: Evidence, frame: tuple[str, ...] = ()):
        self.tuning = tuning
        self.evidence = evidence
        self.structure: Structure = evidence.structure
        self.frame = frame  # the fixed lines around a patient answer (its reading grade counts)

    def choose(
        self,
        candidates: list[Candidate],
        pool: list[Candidate],
        q: Question,
        patient: bool,
    ) -> list[Candidate]:
        """The answer's sentences in the order shown. ``pool``: what completions may add."""
        ct = self.tuning.compose
        limit = ct.patient_sentences if patient else ct.clinician_sentences
        cut = ct.patient_cut if patient else ct.clinician_cut
        per_doc = ct.patient_per_document if patient else ct.clinician_per_document
        chosen = self.select(candidates, limit, cut, per_doc)
        chosen = self.with_each_aspect(chosen, candidates, q, cut)
        if patient and self._patient_source_answers(chosen, pool):
            pool = [c for c in pool if c.passage.meta.audience == "patient"]  # their own words
        chosen = self.whole_items(chosen, pool)
        opened = self.with_section(chosen, pool, q, patient)  # a section that answers, else a list
        chosen = opened if len(opened) > len(chosen) else self.with_list(chosen, pool, q, patient)
        chosen = self.with_led_items(chosen, pool)
        chosen = self.with_other_ranks(chosen, candidates)
        chosen = self.with_rest_of_lists(chosen, pool, q, patient)
        chosen = self.with_items_saying_it(chosen, pool, q, patient)
        most = ct.patient_most if patient else ct.clinician_most
        if len(chosen) > most:  # bounded: the lowest-scoring optional sentences go first,
            # then those that answer the aspect asked, a section's opening (read as the author
            # wrote it) last
            # (criteria under a lead-in that states conditions go or stay together, as the
            # best of them does: one quoted as a fact keeps the rest)
            ranked = sorted(
                chosen, key=lambda c: (not c.forced, not c.opening, not c.fits, -c.score)
            )
            units = self.criteria_units(chosen)
            keep: set[int] = set()
            for c in ranked:
                unit = {id(x) for x in units.get(id(c), [c])} - keep
                if c.forced or len(keep) + len(unit) <= most:
                    keep |= unit
            chosen = [c for c in chosen if id(c) in keep]
        # (a patient answer, bounded by its reading grade, takes no sentence that only adds)
        chosen = self.with_antecedents(self.ordered(chosen, patient))
        chosen = self.with_continuations(chosen, additions=not patient)
        if not patient:
            return chosen
        aspects = self.evidence.aspects
        tried = bool(aspects and q.asked & aspects.after_tried)
        return self.readable(chosen, self._sole_answers(chosen, q.asked), tried)

    def _patient_source_answers(self, chosen: list[Candidate], pool: list[Candidate]) -> bool:
        """A patient source answers: one of its sentences is chosen, and it fits the question
        (its heading names the topic and aspect asked), or no other source's does within
        ``fit_cut`` of the best (a clinician list under "Nutritional Management", "For
        patients with dysphagia:" answers "what helps her swallow?" where the factsheet's
        "Swallowing will eventually be lost" does not)."""
        own = [c for c in chosen if c.passage.meta.audience == "patient" and not c.forced]
        if not own or any(c.fits for c in own):
            return bool(own)
        best = max((c.score for c in chosen if not c.forced), default=0.0)
        cut = self.tuning.compose.fit_cut * best
        return not any(
            c.fits and c.score >= cut
            for c in pool
            if c.passage.meta.audience != "patient" and not c.forced
        )

    def select(
        self, candidates: list[Candidate], limit: int, cut: float, per_doc: int = 0
    ) -> list[Candidate]:
        """The best candidates: forced facts, then up to ``limit`` scoring at least ``cut`` of
        the best (``fit_cut`` under a heading that answers), no near-duplicates; one document
        gives at most ``per_doc`` of them while another has some to give."""
        ct = self.tuning.compose
        candidates.sort(key=lambda c: (-c.score, c.passage.doc_id, c.sentence.start))
        chosen: list[Candidate] = []
        seen_spans = set()
        best = next((c.score for c in candidates if not c.forced), 0.0)
        for capped in (bool(per_doc), False):
            for c in candidates:
                span = (c.passage.doc_id, c.sentence.start)
                if span in seen_spans:
                    continue
                share = min(cut, ct.fit_cut) if c.fits else cut
                if not c.forced and (len(chosen) >= limit or c.score < share * best):
                    continue
                if not c.forced and any(
                    jaccard(c.words, o.words) >= ct.duplicate_jaccard for o in chosen
                ):
                    continue
                mine = sum(o.passage.doc_id == c.passage.doc_id and not o.forced for o in chosen)
                if capped and not c.forced and mine >= per_doc:
                    continue
                seen_spans.add(span)
                chosen.append(c)
        return chosen

    def with_each_aspect(
        self, chosen: list[Candidate], candidates: list[Candidate], q: Question, cut: float
    ) -> list[Candidate]:
        """A question that asks several aspects ("How do I take it, and what side effects should
        I look out for?") gets, for each one no chosen sentence says, the best candidate about
        its topic that says it (by its words or its heading) and scores within ``cut`` of the
        best: the limit on sentences does not keep out the only answer to a part asked."""
        if not self.evidence.aspects or len(q.asked) < 2:
            return chosen
        top = next((c.score for c in candidates if not c.forced), 0.0)  # sorted by select
        fitting = [c for c in candidates if c.fits and c.score >= cut * top]
        out = list(chosen)
        said = set().union(*(self._says(c, q.asked) for c in out))
        for aspect in sorted(q.asked - said):
            best = max(
                (c for c in fitting if c not in out and aspect in self._says(c, q.asked)),
                key=lambda c: c.score,
                default=None,
            )
            if best is not None:
                out.append(best)
                said |= self._says(best, q.asked)
        return out

    def _says(self, c: Candidate, asked: frozenset[str]) -> frozenset[str]:
        """The aspects of ``asked`` a candidate says, by its words or its heading."""
        aspects, st = self.evidence.aspects, self.structure
        if not aspects or not asked:
            return frozenset()
        header = st.header_tokens(c.passage)
        return aspects.named(st.said(c.passage, c.sentence), asked) | aspects.named(header, asked)

    def _sole_answers(self, chosen: list[Candidate], asked: frozenset[str]) -> set[int]:
        """The chosen sentences each alone in saying an aspect asked (of several asked)."""
        if len(asked) < 2:
            return set()
        said = {id(c): self._says(c, asked) for c in chosen if c.fits}
        return {
            next(k for k, v in said.items() if a in v)
            for a in asked
            if sum(a in v for v in said.values()) == 1
        }

    def with_section(
        self, chosen: list[Candidate], pool: list[Candidate], q: Question, patient: bool = False
    ) -> list[Candidate]:
        """The best sentences come with the opening of their section (its first
        ``section_sentences``, for the best two documents, whether retrieval found them or
        not) when its heading answers (:meth:`Evidence.heads`: it names the aspect asked for,
        or a question asking none its whole topic); else the best one with the rest of its
        paragraph when that is short (``paragraph_sentences``): as the author wrote them."""
        ct, st = self.tuning.compose, self.structure
        ranked = sorted((c for c in chosen if not c.forced), key=lambda c: (-c.score, -c.relevance))
        if not ranked:
            return chosen
        rest: list[Candidate] = []
        docs: list[str] = []
        usable = {c.passage.doc_id for c in pool}
        for c in ranked:
            section = st.section_of.get(c.passage.id)
            if c.passage.doc_id in docs or c.passage.doc_id not in usable or section is None:
                continue
            if not self.evidence.heads(q, tokens(" ".join(section.section))):
                continue
            docs.append(c.passage.doc_id)
            rest += self._opening(section.passages, pool, patient)[: ct.section_sentences]
            if len(docs) == 2:
                break
        best = ranked[0]
        short = len(best.passage.sentences) <= ct.paragraph_sentences
        if not docs and best.passage.kind == "paragraph" and short:
            rest = [x for x in pool if x.passage.id == best.passage.id]
        have = {c.span for c in chosen}
        extra = []
        for c in rest:
            if c.span not in have:
                have.add(c.span)
                c.score = max(c.score, best.score * ct.clinician_cut)
                c.opening = bool(docs)
                extra.append(c)
        return chosen + extra

    def _opening(self, passages, pool: list[Candidate], patient: bool) -> list[Candidate]:
        """The sentences of ``passages`` in the author's order: their candidates, or new ones
        for paragraph sentences retrieval did not bring (not a lead-in, shown above its items;
        not a list's items, which the list's own rules bring; for a patient, not one too hard
        to read)."""
        known = {c.span: c for c in pool}
        out = []
        for p in passages:
            for sent in p.sentences:
                if (p.id, sent.start) in known:
                    out.append(known[(p.id, sent.start)])
                    continue
                text = sent.text
                hard = patient and self.evidence.reading(text)[1]
                if p.kind == "paragraph" and not text.endswith(":") and not hard:
                    out.append(Candidate(p, sent, 0.0, words=set(content_tokens(text))))
        return out

    def ordered(self, chosen: list[Candidate], patient: bool) -> list[Candidate]:
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

    def _same_section(self, a: Candidate, b: Candidate) -> bool:
        section = self.structure.section_of.get
        return a.passage is b.passage or (
            section(a.passage.id) is not None and section(a.passage.id) is section(b.passage.id)
        )

    @staticmethod
    def with_antecedents(chosen: list[Candidate]) -> list[Candidate]:
        """A sentence that points back ("These tests ...") comes with the sentence before it."""
        out: list[Candidate] = []
        spans = {c.span for c in chosen}
        for c in chosen:
            sents = c.passage.sentences
            k = sents.index(c.sentence)
            if k > 0 and _ANAPHORA.match(c.sentence.text):
                prev = sents[k - 1]
                if (c.passage.id, prev.start) not in spans and not prev.text.endswith(":"):
                    out.append(Candidate(c.passage, prev, c.score, words=c.words, leads_to=c))
                    spans.add((c.passage.id, prev.start))
            out.append(c)
        return out

    @staticmethod
    def with_continuations(chosen: list[Candidate], additions: bool = False) -> list[Candidate]:
        """A sentence comes with the next one of its paragraph when that one goes on about it
        ("Military veterans have twice the risk ..." and "It is not clear why."), or, with
        ``additions``, adds to it ("Commonly ordered blood tests include ..." and "Your doctor
        may also evaluate ... (ESR) and C-reactive protein (CRP).")."""
        out: list[Candidate] = []
        spans = {c.span for c in chosen}
        for c in chosen:
            out.append(c)
            sents = c.passage.sentences
            k = sents.index(c.sentence) if c.sentence in sents else -1
            if not 0 <= k < len(sents) - 1 or sents[k + 1].text.endswith(":"):
                continue
            nxt = Candidate(c.passage, sents[k + 1], c.score)
            if nxt.span not in spans and _points_back_to(nxt, c, additions):
                nxt.words = set(content_tokens(nxt.sentence.text))
                spans.add(nxt.span)
                out.append(nxt)
        return out

    def readable(
        self, chosen: list[Candidate], sole: set[int] = frozenset(), tried: bool = False
    ) -> list[Candidate]:
        """A patient answer within its reading grade: while its lines (with the patient
        framing) read above ``answer_grade``, the optional sentence that costs the most grade
        for its score goes, with its antecedent (facts, the best sentence, the rest of its
        section's opening paragraph and the ``sole`` answers to a part asked stay). A list is
        cut from its end, or from its start when the question asks what comes after what was
        ``tried`` ("and if the pills don't work?": "First-line" is what they tried)."""
        pt, plain = self.tuning.patient, self.evidence.plain
        keep = list(chosen)
        best = max((c for c in keep if not c.forced), key=lambda c: c.score, default=None)

        def shown(c: Candidate) -> list[str]:
            """The lines a sentence shows as: a fact filling most of it under its plain
            lead-in (as the answer frames it), else the sentence."""
            text = c.sentence.text
            covered = sum(len(f.text) for f in c.facts)
            if c.facts and all(f.plain for f in c.facts) and covered >= pt.framed_share * len(text):
                return [t for f in c.facts for t in (f.plain or "", f.text)]
            return [text]

        def grade(cs: list[Candidate]) -> float:
            leads = dict.fromkeys(self.structure.lead(c.passage) or "" for c in cs)
            lines = [*self.frame, *leads, *(t for c in cs for t in shown(c))]
            return reading_grade_of(" ".join(_as_line(plain(t)) for t in lines if t))

        now = grade(keep)
        units = self.criteria_units(keep)
        while now > pt.answer_grade:
            trials = []  # (grades gained per point of score lost, grade without, unit)
            for c in keep:
                if c.forced or c is best or c.leads_to is not None or id(c) in sole:
                    continue
                if c.opening and best is not None and self._same_section(c, best):
                    continue  # the best sentence keeps the rest of its section's opening
                if self._later_item_shown(c, keep, earlier=tried):
                    continue  # a list is cut from its end ("Second-line" needs "First-line"),
                    # or from its start past what was tried
                criteria = units.get(id(c), [])
                if any(x.forced for x in criteria):
                    continue  # criteria beside a quoted threshold stay whole
                unit = {id(c)} | {id(a) for a in keep if a.leads_to is c}
                unit |= {id(d) for d in keep if _points_back_to(d, c)}
                unit |= {id(x) for x in criteria} & {id(k) for k in keep}  # go together
                without = grade([k for k in keep if id(k) not in unit])
                if without < now:
                    trials.append(((now - without) / max(c.score, 1e-6), without, unit))
            if not trials:
                break  # no sentence left out would make the answer easier to read
            _, now, unit = max(trials, key=lambda t: t[0])
            keep = [k for k in keep if id(k) not in unit]
        return keep
