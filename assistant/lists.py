"""Lists: how the document's lists complete an answer, as their authors wrote them.

A lead-in comes with its first items, a bullet whole, a short list under a lead-in whole (for a
clinician), a list that answers with its best items, an item of a ranked list with the other
ranks, an item saying an aspect asked with the items that say it too; a list made shorter for a
patient is cut from its end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from .evidence import Candidate, Evidence, Question
from .structure import Structure
from .text import content_tokens, tokens
from .tuning import Tuning

_CONDITIONS = re.compile(r"\b(when|if|once|whenever)\s*:\s*$", re.IGNORECASE)


def _states_conditions(block) -> bool:
    """A list whose lead-in states conditions ("Initiate NIV when:"): its items are criteria."""
    return block is not None and bool(_CONDITIONS.search(block.lead or ""))


# A list whose first item opens with a rank ("First-line: ...", "1. ...", "Step 1") is ordered:
# a later item presupposes the earlier ones. ("First, assess ..." is no rank.)
_RANKED = re.compile(r"^\s*(?:first[- ]line|1st\b|1[.)](?=\s)|step\s+1\b)", re.IGNORECASE)


def _ranked(block) -> bool:
    """A list whose first item opens with a rank: its items are ordered."""
    first = block.passages[0].sentences
    return bool(first) and bool(_RANKED.match(first[0].text))


class Lists:
    """List completion over one corpus's structure (a base of :class:`Selector`)."""

    tuning: Tuning
    evidence: Evidence
    structure: Structure

    @staticmethod
    def whole_items(chosen: list[Candidate], pool: list[Candidate]) -> list[Candidate]:
        """A bullet comes whole: "Nutritional care—Swallowing will eventually be lost." with
        "Nutrition will need to be delivered through a feeding tube."."""
        have = {c.span for c in chosen}
        extra = []
        for c in chosen:
            if c.forced or c.passage.kind != "bullet":
                continue
            for x in pool:
                if x.passage.id == c.passage.id and x.span not in have:
                    have.add(x.span)
                    x.score = max(x.score, c.score)
                    extra.append(x)
        return chosen + extra

    def with_led_items(self, chosen: list[Candidate], pool: list[Candidate]) -> list[Candidate]:
        """A lead-in shown ("Bulbar-onset ALS (one-third of cases):", a quoted fact) comes
        with its list's first ``list_items`` items: a lead-in alone says nothing."""
        st, ct = self.structure, self.tuning.compose
        have = {c.span for c in chosen}
        known = {c.span: c for c in pool}
        best = max((c.score for c in chosen if not c.forced), default=0.0)
        extra: list[Candidate] = []
        for c in chosen:
            block = st.list_after.get(c.passage.id)
            sents = c.passage.sentences
            if block is None or not sents or c.sentence != sents[-1]:
                continue  # not the lead-in sentence of a list
            if not c.sentence.text.rstrip().endswith(":"):
                continue
            for x in self._unseen(block.passages[: ct.list_items], known, have):
                x.score = max(x.score, (c.score if not c.forced else best) * ct.clinician_cut)
                extra.append(x)
        return chosen + extra

    def with_other_ranks(
        self, chosen: list[Candidate], candidates: list[Candidate]
    ) -> list[Candidate]:
        """An item of a ranked list ("Second-line: botulinum toxin ...") comes with the items
        ranked before it ("First-line: ..."), kept or cut with it, and the ranks after the last
        one shown (what to do when it fails: "Alternative: radiotherapy ..."), scored a hair
        below the lowest shown."""
        st = self.structure
        have = {c.span for c in chosen}
        known = {c.span: c for c in candidates}
        extra: list[Candidate] = []
        for c in list(chosen):
            block = st.list_of.get(c.passage.id)
            if c.forced or block is None or not block.lead:
                continue
            order = [p.id for p in block.passages]
            if not _ranked(block) or order[0] == c.passage.id:
                continue
            at = order.index(c.passage.id)
            for x in self._unseen(block.passages[:at], known, have):
                # a hair above the item that needs it: a bounded answer cuts that item first
                x.score = max(x.score, math.nextafter(c.score, math.inf))
                extra.append(x)
        # The ranks after the last shown say what to do when it fails ("and if the pills don't
        # work?"): they come too, scored a hair below the lowest shown.
        shown: dict[int, list[Candidate]] = {}
        for c in chosen:
            block = st.list_of.get(c.passage.id)
            if not c.forced and block is not None and block.lead:
                shown.setdefault(id(block), []).append(c)
        for items in shown.values():
            block = st.list_of[items[0].passage.id]
            if not _ranked(block):
                continue
            order = [p.id for p in block.passages]
            last = max(order.index(c.passage.id) for c in items)
            low = math.nextafter(min(c.score for c in items), -math.inf)
            for x in self._unseen(block.passages[last + 1 :], known, have):
                x.score = max(x.score, low)
                extra.append(x)
        return chosen + extra

    @staticmethod
    def _unseen(passages, known: dict, have: set) -> Iterator[Candidate]:
        """Each sentence of ``passages`` not in ``have`` (then added to it): its candidate in
        ``known`` (span -> candidate), or a new one."""
        for p in passages:
            for sent in p.sentences:
                span = (p.id, sent.start)
                if span not in have:
                    have.add(span)
                    yield known.get(span) or Candidate(
                        p, sent, 0.0, words=set(content_tokens(sent.text))
                    )

    def with_rest_of_lists(
        self,
        chosen: list[Candidate],
        pool: list[Candidate],
        q: Question | None = None,
        patient: bool = False,
    ) -> list[Candidate]:
        """A short list (at most ``list_items`` items) two of whose items are shown comes whole,
        or one when its lead-in states conditions: criteria with one left out ("Initiate NIV
        when:") would misstate the source."""
        st, ct = self.structure, self.tuning.compose
        shown: dict[int, list[Candidate]] = {}
        for c in chosen:
            block = st.list_of.get(c.passage.id)
            # (an item quoted as a fact is shown too: "FVC <50% predicted" of "Initiate NIV
            # when:"; whether it counts is below)
            if block is not None:
                shown.setdefault(id(block), []).append(c)
        have = {c.span for c in chosen}
        known = {c.span: c for c in pool}
        extra: list[Candidate] = []
        drop: set[int] = set()
        for items in shown.values():
            block = st.list_of[items[0].passage.id]
            # Two items shown ask for the rest; one does when the lead-in states conditions
            # ("Initiate NIV when:") and names the question's topic: each suffices, and one
            # alone hides the others.
            stated = _states_conditions(block)
            # a list whose heading or lead-in answers the question ("Risk factors for ALS
            # typically include:" for "Who is at risk?") is the answer as the author wrote it;
            # with no topic read as concepts, it names a word the question names ("Medications
            # may include:" names nothing of "I feel anxious ... What helps?")
            header = tokens(block.header)
            heads = (
                q is not None
                and self.evidence.fits(q, header)
                and bool(q.concepts or q.specific & set(header))
            )
            # A patient's answer takes a list whole only where its heading answers and names
            # the topic ("Medications may include:" under "Treatment" is no answer to "I feel
            # anxious, what helps?": its one item that answers is)
            if (
                patient
                and not stated
                and not heads
                and not (q is not None and q.concepts and self._answers(q, block, chosen))
            ):
                continue
            conditions = stated and (
                q is None or self.evidence.coverage(q, set(tokens(block.header))) > 0
            )
            # An item quoted as a fact counts when it is a criterion (shown under "Initiate NIV
            # when:", two of three would misstate it), or when it says what is asked
            # ("Discontinue if ..." for "when should it be stopped?") of the list's topic, named
            # by its heading, lead-in or the paragraph the list details ("Riluzole 50 mg ...").
            intro = st.intro_of.get(block.passages[0].id) or ""
            about = set(tokens(f"{block.header} {intro}"))
            asked = {
                id(c)
                for c in items
                if c.forced
                and q is not None
                and self._says(c, q.asked)
                and self.evidence.coverage(q, about) > 0
            }
            n = len({c.passage.id for c in items if stated or not c.forced or id(c) in asked})
            if stated and not conditions and n == 1 < len(block.passages):
                # One criterion of a list the question is not about would misstate the source
                # ("Initiate NIV when:" with one of its three): it goes, unless a fact.
                drop |= {id(c) for c in items if not c.forced}
                continue
            # Bullets no lead-in gathers ("From the Guidelines" points) are no list.
            # (or, under the paragraph it details, one whose facts say what is asked)
            if (
                not (block.lead or (intro and asked))
                or n < (1 if conditions or heads else 2)
                or len(block.passages) > ct.list_items
            ):
                continue
            if n < 2 and not conditions:
                # one item of a list whose lead-in answers: the rest come after what is shown,
                # scored a hair below the lowest, so a bounded answer cuts them first
                low = min((c.score for c in chosen if not c.forced), default=0.0)
                for x in self._unseen(block.passages, known, have):
                    x.score = max(x.score, math.nextafter(low, -math.inf))
                    extra.append(x)
                continue
            # one answer, kept or cut as a unit (criteria beside a fact: see criteria_units)
            # (items there because facts of them were quoted rank as those lines do unquoted)
            spans = {c.span for c in items}
            unquoted = [c.score for c in items if not c.forced] or [
                x.score for x in pool if not x.forced and x.span in spans
            ]
            score = max(unquoted, default=0.0)
            for c in items:
                if not c.forced:
                    c.score = score
            for x in self._unseen(block.passages, known, have):
                x.score = max(x.score, score)
                extra.append(x)
        return [c for c in chosen if id(c) not in drop] + extra

    def with_items_saying_it(
        self, chosen: list[Candidate], pool: list[Candidate], q: Question, patient: bool = False
    ) -> list[Candidate]:
        """An item shown that says, in its own words, an aspect asked ("Discontinue if liver
        dysfunction develops ..." for "when do I stop it?") comes with the items of its list
        that say it too ("Discontinue if interstitial lung disease develops"), each whole: each
        is an answer, and one alone hides the others. Only a list a lead-in or paragraph
        gathers, never criteria ("Initiate NIV when:", shown whole or not at all); for a
        patient, only items the patient filters let into ``pool``."""
        aspects, st = self.evidence.aspects, self.structure
        if not aspects or not q.asked:
            return chosen

        def says(p, sentence) -> frozenset[str]:
            # (not what its heading or lead-in says of every item: "Medications may include:")
            own = aspects.named(st.said(p, sentence), q.asked)
            return own - aspects.named(st.header_tokens(p), q.asked)

        best = max((c.score for c in chosen if not c.forced), default=0.0)
        have = {c.span for c in chosen}
        known = {c.span: c for c in pool}
        extra: list[Candidate] = []
        for c in list(chosen):
            block = st.list_of.get(c.passage.id)
            if block is None or _states_conditions(block):
                continue
            if not (block.lead or st.intro_of.get(block.passages[0].id)):
                continue  # bullets no lead-in gathers are no list
            said = says(c.passage, c.sentence)
            if not said:
                continue
            base = best if c.forced else c.score  # (a quoted fact's score says nothing)
            for p in block.passages:
                if p.id == c.passage.id or not any(says(p, x) & said for x in p.sentences):
                    continue
                if patient and any((p.id, x.start) not in known for x in p.sentences):
                    continue
                for x in self._unseen([p], known, have):
                    x.score = max(x.score, base * self.tuning.compose.clinician_cut)
                    extra.append(x)
        return chosen + extra

    def _answers(self, q: Question, block, chosen: list[Candidate]) -> bool:
        """A list's heading and lead-in answer the question: they :meth:`Evidence.heads` it, or,
        for a question asking no aspect, name its topic ("Supportive care may be needed as ALS
        progresses, including:" for "what supportive care will he need as it gets worse?")
        when no other line chosen names what they leave out ("Is support for caregivers part
        of his care?" is answered where "caregivers" are named)."""
        words = tokens(block.header)  # in order: an aspect may be named by a phrase
        header = set(words)
        if self.evidence.heads(q, words):
            return True
        if q.asked or self.evidence.coverage(q, header) < self.tuning.compose.topic_share:
            return False
        left = [group for group, _ in q.concepts if not group & header]
        items = {p.id for p in block.passages}
        others = [c for c in chosen if c.passage.id not in items]
        return not any(group & c.words for c in others for group in left)

    def criteria_units(self, chosen: list[Candidate]) -> dict[int, list[Candidate]]:
        """Each chosen item of a list whose lead-in states conditions ("Initiate NIV when:"),
        by ``id``, with the chosen items of its list: criteria shown one short misstate it."""
        by_block: dict[int, list[Candidate]] = {}
        for c in chosen:
            block = self.structure.list_of.get(c.passage.id)
            if _states_conditions(block):
                by_block.setdefault(id(block), []).append(c)
        return {id(c): items for items in by_block.values() for c in items}

    def with_list(
        self, chosen: list[Candidate], pool: list[Candidate], q: Question, patient: bool = False
    ) -> list[Candidate]:
        """A list that answers comes whole (its best ``list_items`` items, in the author's
        order) when its best answering item scores at least ``list_cut`` of the best sentence:
        an item answers when it, or its heading, names the question's topic and aspect. For a
        patient, a list whose lead-in names nothing of the topic ("Medications may include:"
        for drooling) gives only its items that answer."""
        ct, st = self.tuning.compose, self.structure
        best = max((c.score for c in chosen if not c.forced), default=0.0)
        fitting = [c for c in pool if c.passage.id in st.list_of and c.fits]
        if not fitting:
            return chosen
        top = max(fitting, key=lambda c: c.score)
        if top.score < ct.list_cut * best:
            return chosen
        block = st.list_of[top.passage.id]
        members = {p.id for p in block.passages}
        if patient and q.concepts and not self.evidence.coverage(q, set(tokens(block.header))):
            members = {c.passage.id for c in fitting if c.passage.id in members}
        best_of: dict[str, float] = {}
        for c in pool:
            if c.passage.id in members:
                best_of[c.passage.id] = max(best_of.get(c.passage.id, c.score), c.score)
        shown = set(sorted(best_of, key=lambda pid: -best_of[pid])[: ct.list_items])
        have = {c.span for c in chosen}
        extra = [c for c in pool if c.passage.id in shown and c.span not in have]  # whole items
        for c in extra:
            c.score = max(c.score, top.score)  # read as one answer with the list's best item
        return chosen + extra

    def _later_item_shown(self, c: Candidate, keep: list[Candidate], earlier: bool = False) -> bool:
        """Whether an item after ``c``'s (before it, with ``earlier``), in the list ``c`` is
        an item of, is shown."""
        block = self.structure.list_of.get(c.passage.id)
        if block is None:
            return False
        order = {p.id: i for i, p in enumerate(block.passages)}
        at = order[c.passage.id]
        if earlier:
            return any(-1 < order.get(k.passage.id, -1) < at for k in keep)
        return any(order.get(k.passage.id, -1) > at for k in keep)
