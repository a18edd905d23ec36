"""Aspect gaps: an aspect a question asks for (a dose, a cost, pregnancy) that no evidence
shows for its topic."""

from __future__ import annotations

import re

from .clauses import asking_sentences, each_ask, told_of_another
from .facts import Located
from .known import names_thing
from .retrieve import Retrieval
from .text import QUESTION_WORDS, STOPWORDS, stem, tokens


class AspectGaps:
    """The scope's reading of the aspects a question asks (``self.aspects``, ``self._aspects``,
    ``self._told_for``, ``self._relatives``, ``self._subject_names``, ``self.sections``, set by
    the class it is mixed into)."""

    def aspect_gap(
        self, retrieval: Retrieval, covered: list[str], facts: tuple[Located, ...] = ()
    ) -> tuple[str | None, bool]:
        """``(gap, partial)``: the aspect the question asks for (dosing, cost, pregnancy, ...)
        that no passage of the evidence (retrieved, or holding a wanted fact) shows in a
        section naming the question's topic, or None when every aspect asked is shown. The
        aspect is what the asking sentences ask ("I have two teenagers. Does it run in
        families?" asks nothing of children), or a story that tells it asks beside an aspect
        of its ``told_for`` ("I'm pregnant. Is it safe to keep taking riluzole?").
        ``partial``: only a later ask wants it (an aspect marked ``partial``), not a first that
        names a topic of its own ("What does the test look at? Will it hurt?"): the rest is
        answered. Pregnancy, children or a dose asked later still decline the whole."""
        question = asking_sentences(retrieval.query) or retrieval.query
        first = each_ask(question)[0]
        evidence = [h.passage for h in retrieval.hits] + [loc.passage for loc in facts]
        later: list[str] = []
        # the first ask names a topic of its own ("What does an EMG test look at?"), not only
        # a greeting or a bare name ("Can I ask something?", "Riluzole?")
        own = {t for t in tokens(first) if t in covered and retrieval.specific(t)}
        said = f" {' '.join(tokens(question))} "
        # the corpus's own subject by any of its names is no topic ("Lou Gehrig disease")
        subject_words = {t for n in self._subject_names if n in said for t in n.split()}
        asking, asking_words = (
            self.aspects.asked(question) if self.aspects else (frozenset(), frozenset())
        )
        for aspect, asked, shown, partial in self._aspects:
            cues, where = [rx for rx in asked if rx.search(question)], question
            if not cues and self._told_for[aspect] & asking:  # the story tells it ("I'm
                # pregnant. Is it safe to keep taking riluzole?")
                where = retrieval.query
                cues = [
                    rx
                    for rx in asked
                    if any(
                        not told_of_another(where, m.start(), self._relatives, self._subject_names)
                        for m in rx.finditer(where)
                    )
                ]
            if not cues:
                continue
            cue_words = {t for rx in cues for m in rx.finditer(where) for t in tokens(m[0])}
            cue_words |= subject_words | (asking_words if where != question else set())
            topic = {
                t
                for t in covered
                if t not in QUESTION_WORDS and t not in cue_words and retrieval.specific(t)
            }
            if any(
                any(rx.search(p.stated) for rx in shown)
                and (not topic or topic & self.sections.get((p.doc_id, p.section), frozenset()))
                for p in evidence
            ):
                continue
            if partial and own and first != question and not any(rx.search(first) for rx in cues):
                later.append(aspect)  # only a later ask wants it
                continue
            # as the question writes them ("AMX0035"), not the story's, and only what names a
            # thing or modifies one ("spinal muscular atrophy"; "riluzole 50 mg twice daily"
            # names riluzole and mg, not "twice, daily")
            words = re.findall(r"[^\W_]+", question)
            thing = [False] * (len(words) + 1)
            for k in range(len(words) - 1, -1, -1):
                w = words[k]
                thing[k] = names_thing(w) or (w.lower() not in STOPWORDS and thing[k + 1])
            named = ", ".join(
                dict.fromkeys(
                    w for k, w in enumerate(words) if thing[k] and stem(w.lower()) in topic
                )
            )
            return f"{aspect}" + (f" for {named}" if named else ""), False
        return (" or ".join(later) or None), bool(later)
