"""Follow-ups: carry the subject of recent turns into the search query when a question needs it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clauses import asks, points_to_thing
from .corpus import Corpus
from .inputs import validate_history  # noqa: F401 (re-exported)
from .rules import Rules, compile_phrase
from .text import QUESTION_WORDS, STOPWORDS, tokens

Message = dict  # {"role": "user" | "assistant", "content": str}
_DETERMINERS = "the|that|this|these|those|his|her|their|its"  # words that point to one told of
# a drug a follow-up names as one told of ("the first drug", "that medicine"); "first",
# "earlier", "previous" or "other" name the earliest told of
_TOLD = "the|that|this|these|those"
_WHICH = "first|earlier|previous|other|second|last|same"
_EARLIEST = ("first", "earlier", "previous", "other")
# a choice among what the last turn named ("which one is more common?")
_CHOICE = re.compile(r"\bwhich\s+(?:one|ones|of\s+(?:them|these|those|the\s+two))\b", re.I)
# being on or off a drug ("how long should he stay on it?", "take her off it")
_ON_IT = re.compile(r"\b(?:on|off)\s+(?:it|them)\b(?!\s*(?:-|so|too|now|anyway)\b)", re.I)


Section = tuple[str, tuple[str, ...]]  # (doc id, section path)


@dataclass(frozen=True)
class SearchQuery:
    """The query actually used for retrieval, and why."""

    text: str
    original: str
    carried: tuple[str, ...] = ()
    reason: str = "standalone question"
    sections: tuple[Section, ...] = ()  # what the conversation cited, for a follow-up


class CitedSections:
    """Which sections an earlier answer quoted (its sentences are verbatim source text), and
    their neighbours in the document: where a follow-up is looked for first."""

    def __init__(self, corpus: Corpus | None):
        self.openings: list[tuple[str, Section]] = []
        self.order: dict[str, list[tuple[str, ...]]] = {}
        for doc in corpus.documents.values() if corpus else ():
            seen: list[tuple[str, ...]] = []
            for p in doc.passages:
                if p.kind == "disclaimer":
                    continue
                if p.section not in seen:
                    seen.append(p.section)
                for sent in p.sentences:
                    words = sent.text.split()
                    if len(words) >= 4:
                        self.openings.append((" ".join(words[:6]), (doc.id, p.section)))
            self.order[doc.id] = seen

    def of(self, answer: str) -> tuple[Section, ...]:
        """The sections quoted in ``answer``, in order, then their neighbours."""
        cited = list(dict.fromkeys(sec for opening, sec in self.openings if opening in answer))
        near = []
        for doc_id, path in cited:
            order = self.order[doc_id]
            k = order.index(path)
            near += [(doc_id, q) for q in order[max(k - 1, 0) : k + 2] if q != path]
        return tuple(dict.fromkeys(cited + [n for n in near if n not in cited]))


class FollowUpResolver:
    """Rewrites a follow-up into a standalone search query without a language model."""

    def __init__(self, rules: Rules, corpus: Corpus | None = None, expand=None):
        """``expand``: clinical shorthand spelled out ("sialorrhoea" is "sialorrhea"), so a
        subject is found however a turn spells it."""
        self.cited = CitedSections(corpus)
        self.expand = expand or (lambda text: text)
        s = rules.subjects
        self.subjects = [
            (sub.name, [compile_phrase(a) for a in (sub.name, *sub.aliases)]) for sub in s.subjects
        ]
        self.general = {sub.name for sub in s.subjects if sub.kind == "topic"}
        # What a pronoun can stand for: a drug, procedure or test (a symptom is what it treats).
        self.referents = {
            sub.name for sub in s.subjects if sub.kind in ("drug", "procedure", "test")
        }
        self.kind = {sub.name: sub.kind for sub in s.subjects}
        self.categories = [
            (kind, compile_phrase(w)) for kind, ws in s.categories.items() for w in ws
        ]
        # ... named as the one the story told of ("the medicine", "this drug", "those tests")
        self.pointing_categories = [
            (
                kind,
                re.compile(rf"\b(?:{_DETERMINERS})\s+(?:{'|'.join(map(re.escape, ws))})\b", re.I),
            )
            for kind, ws in s.categories.items()
            if ws
        ]
        drugs = "|".join(map(re.escape, s.categories.get("drug", ()))) or "(?!)"
        self.told_drug = re.compile(rf"\b(?:{_TOLD})\s+(?:({_WHICH})\s+)?(?:{drugs})\b", re.I)
        self.leaning = [re.compile(p, re.IGNORECASE) for p in s.leaning_patterns]
        self.attributes = {t for a in s.attributes for t in tokens(a)}
        self.attribute_patterns = [(a, compile_phrase(a)) for a in s.attributes]
        self.refusal = rules.safety.refusal_message  # a declined turn names no subject
        idioms = "|".join(map(re.escape, s.pointing_idioms)) or "(?!)"
        self.pointing = [
            (
                kind,
                re.compile(
                    rf"\b(?:{'|'.join(map(re.escape, verbs))})\s+(?:it|them)\b"
                    rf"(?!\s+(?:{idioms})\b)",
                    re.I,
                ),
            )
            for kind, verbs in s.pointing_verbs.items()
            if verbs
        ]

    def subjects_in(self, text: str) -> list[str]:
        """Subjects named in ``text``, in order of first mention."""
        return [name for name, _ in self.mentions(text)]

    def mentions(self, text: str) -> list[tuple[str, str]]:
        """``(subject, the words text first names it with)`` for each subject named in
        ``text`` ("spinal tap" for lumbar puncture), in order of first mention."""
        text = self.expand(text)
        found = []
        for name, patterns in self.subjects:
            hits = [(m.start(), -len(m[0]), m[0]) for p in patterns if (m := p.search(text))]
            if hits:
                pos, _, said = min(hits)
                found.append((pos, name, said))
        return [(name, said) for _, name, said in sorted(found)]

    def _is_bare_attribute(self, question: str) -> bool:
        """Only an attribute or question words ("how often?", "why?"): it names nothing."""
        every = tokens(question)
        words = [t for t in every if t not in STOPWORDS]
        if not words:  # "why?", "and then?": a question naming nothing ("thanks!" is none)
            return "?" in question or bool({"why", "how", "when", "where", "which"} & set(every))
        return all(t in self.attributes or t in QUESTION_WORDS for t in words)

    def _reading(self, question: str) -> tuple[list[str], bool, bool, bool]:
        """(own subjects, ellipsis, bare attribute, leans on the history at all)."""
        own = self.subjects_in(question)
        ellipsis = any(p.search(question) for p in self.leaning[:1])
        pronoun = any(p.search(question) for p in self.leaning[1:])
        bare = self._is_bare_attribute(question)
        own_referent = any(n in self.referents for n in own)
        return own, ellipsis, bare, ellipsis or bare or (pronoun and not own_referent)

    def leans_on_history(self, question: str) -> bool:
        """Does the question need earlier turns (pronoun, ellipsis, bare attribute)?"""
        return self._reading(question)[3]

    def resolve(self, question: str, history: list[Message], vague: bool = False) -> SearchQuery:
        """The search query for ``question`` given the conversation so far. ``vague``: the
        question names no subject and the corpus matches nothing closely on its own ("what
        kind, and is there a limit?"): it asks about the conversation's subject."""
        if not history:
            return SearchQuery(question, question)
        own, ellipsis, bare, leans = self._reading(question)
        # It must ask something and name something ("hi", "thanks!", "ok great" do not).
        vague = vague and not own and asks(question) and bool(_content_words(question))
        bare, leans = bare or vague, leans or vague
        if ellipsis and any(n in self.referents for n in own):
            # "And for gastrostomy?" after an FVC question about NIV: the new subject replaces
            # the old one of its kind (NIV); the rest of the question (FVC, the attribute) stays.
            kinds = {self.kind[n] for n in own if n in self.kind}
            carried = tuple(
                n
                for n in self._recent_subjects(history)
                if n not in own and n not in self.general and self.kind.get(n) not in kinds
            ) + self._recent_attributes(history)
            if not carried:
                return SearchQuery(question, question, reason="new subject, nothing to carry")
            text = f"{question} {' '.join(carried)}"
            reason = f"new subject: carried {', '.join(carried)}"
            return SearchQuery(text, question, carried, reason)
        if not leans:
            return SearchQuery(question, question)
        choice = bool(_CHOICE.search(question))  # the alternatives are the last turn's words
        # (and one pointing with a demonstrative to a thing of that turn: "what tests can check
        # *that*?" after a worry about choking that names only the disease; "it" is often the
        # disease: "does the medicine cure it?")
        words_too = bare or choice or not _content_words(question) or bool(_THAT.search(question))
        carried = self._recent_subjects(history, words_too=words_too)
        carried = self._pointed(question, history) or carried
        carried = tuple(s for s in carried if s not in own)
        if not carried:
            sections = self._recent_sections(history)
            return SearchQuery(
                question,
                question,
                reason="follow-up, but no earlier subject"
                + (": looked first in the sections already cited" if sections else ""),
                sections=sections,
            )
        why = (
            "ellipsis"
            if ellipsis
            else "no subject of its own"
            if vague
            else "bare attribute"
            if bare
            else "pronoun"
        )
        words = self._asked_words(history) if bare else ()
        text = f"{question} {' '.join(carried)}" + "".join(
            f" {w}" for w in words if w.lower() not in " ".join(carried).lower()
        )
        return SearchQuery(
            text, question, carried, f"follow-up ({why}): carried {', '.join(carried)}"
        )

    def _pointed(self, question: str, history: list[Message]) -> tuple[str, ...]:
        """The subjects of the one kind the question's verb allows, as the latest user turn
        naming any of that kind named them ("take it": a drug; "take them together": both
        drugs), or the drug it names as one told of ("that medicine"; "the *first* drug":
        the earliest turn's); () when the verb allows any ("take it easy" is no drug)."""
        kinds = {kind for kind, rx in self.pointing if rx.search(question)}
        told = self.told_drug.search(question)
        if told:
            kinds.add("drug")
        if not kinds:
            return ()  # no turn need be read
        turns = list(reversed(history))
        if told and (told[1] or "").lower() in _EARLIEST:
            turns.reverse()
        for m in turns:
            if m["role"] == "user":
                named = [n for n in self.subjects_in(m["content"]) if self.kind.get(n) in kinds]
                if named:
                    return tuple(named[:2])
        return ()

    def pointed_in_story(self, told: str, asked: list[str]) -> tuple[str, ...]:
        """The drug, procedure or test of a story that its asking sentences point back to: with
        a verb only that kind takes ("has to start riluzole ... do I *give it* with breakfast?",
        "when would I take her *off it*?") or by its kind ("*the medicine*" when the story names
        a drug); at most two, in the story's words. () when an asking sentence names one of its
        own, asks about a kind as a class ("what tests"), or a pronoun may point to anything
        else the story tells ("... now he has a fever. Is it dangerous?"; "Is *that* something
        to worry about with *this drug*?")."""
        text = " ".join(asked)
        if any(n in self.referents for n in self.subjects_in(text)):
            return ()
        named = [(n, w) for n, w in self.mentions(told) if n in self.referents]
        kinds = {kind for kind, rx in self.categories if rx.search(text)}
        pointed = {kind for kind, rx in self.pointing_categories if rx.search(text)}
        if kinds - pointed:
            return ()
        verbs = {kind for kind, rx in self.pointing if rx.search(text)}
        verbs |= {"drug"} if _ON_IT.search(text) else set()
        rest = list(asked)
        for _, rx in (*self.pointing_categories, *self.pointing):
            rest = [rx.sub(" ", a) for a in rest]
        rest = [_ON_IT.sub(" ", a) for a in rest]
        if pointed and any(points_to_thing(a) for a in rest):
            return ()
        return tuple(w for n, w in named if self.kind.get(n) in pointed | verbs)[:2]

    def _asked_words(self, history: list[Message]) -> tuple[str, ...]:
        """The content words of the latest user turn: what the conversation is about, in the
        user's words (a subject's name alone may be broader: "nutrition" -> weight loss)."""
        last = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
        return _content_words(last)

    def _recent_sections(self, history: list[Message]) -> tuple[Section, ...]:
        """The sections the latest answer quoted (a declined turn quotes none)."""
        for m in reversed(history):
            if m["role"] == "assistant" and not m["content"].startswith(self.refusal):
                return self.cited.of(m["content"])
        return ()

    def _recent_attributes(self, history: list[Message]) -> tuple[str, ...]:
        """Attributes ("dose", "side effects") the latest user turn asked about."""
        last = next((m["content"] for m in reversed(history) if m["role"] == "user"), "")
        return tuple(a for a, rx in self.attribute_patterns if rx.search(last))

    def _recent_subjects(self, history: list[Message], words_too: bool = True) -> tuple[str, ...]:
        """The subject of the latest turn that has one: what the user named, else the main
        subject of the answer they got; the disease itself only when nothing narrower is named.
        ``words_too``: a follow-up that asks nothing of its own ("why?") takes that turn's own
        words when only the disease is named; one that asks something ("and how do they find
        out?") takes the disease alone, not what the earlier turn asked about it."""
        turns = history  # already bounded by the pipeline (Settings.max_history_turns)
        for k in range(len(turns) - 1, -1, -1):
            m = turns[k]
            if m["role"] != "user":
                continue
            named = self.subjects_in(m["content"])
            found = [n for n in named if n not in self.general]
            asked = {kind for kind, rx in self.categories if rx.search(m["content"])}
            answered = (
                k + 1 < len(turns)
                and turns[k + 1]["role"] == "assistant"
                and not turns[k + 1]["content"].startswith(self.refusal)
            )
            if not found and asked and answered:
                answer = [
                    n
                    for n in self.subjects_in(turns[k + 1]["content"])
                    if self.kind.get(n) in asked
                ]
                found = answer[:1]
            if not found and named and answered and words_too:
                # Only the disease itself is named: the turn's own words say what it was about
                # ("Is enteral or parenteral nutrition preferred in ALS?" -> "why?").
                return _content_words(m["content"])
            found = found or named
            if found:
                return tuple(found[:2])
        return ()

    def rewritten(
        self, asked: str, turns: list[dict], query: SearchQuery, model, expand, timeout: float
    ) -> SearchQuery:
        """A follow-up rewritten by a language model, guarded by
        :func:`assistant.llm.rewrite_query`; a rewrite that names no earlier subject, or none at
        all, leaves the rule-based ``query``. ``expand``: the vocabulary's shorthand reading."""
        if not self.leans_on_history(asked):
            return query
        from .llm import rewrite_query

        text = rewrite_query(asked, turns, model, resolver=self, timeout=timeout)
        own = self.subjects_in(asked)
        carried = tuple(n for n in self.subjects_in(text) if n not in own)
        if text == asked or not carried:
            return query
        return SearchQuery(expand(text), query.original, carried, f"rewritten by the model: {text}")


# a demonstrative standing for a thing: at a clause's end or before a verb ("check that?",
# "is that normal?", "does this mean ..."), not before a noun ("that medicine")
_THAT = re.compile(
    r"\b(?:that|this|these|those)\b(?=\s*(?:[?.!,;]|$)|\s+(?:is|was|does|did|means?|can|could"
    r"|will|would|should|happens?|helps?)\b)",
    re.IGNORECASE,
)


def _content_words(text: str, most: int = 6) -> tuple[str, ...]:
    """The first few words of ``text`` that are neither stopwords nor question framing."""
    own = [
        w
        for w in re.findall(r"[\w-]+", text)
        if w.lower() not in STOPWORDS and w.lower() not in QUESTION_WORDS
    ]
    return tuple(dict.fromkeys(own))[:most]
