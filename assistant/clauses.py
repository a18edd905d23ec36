"""Clauses: which sentences of a message ask, request or tell a story, and what they point to.

"My sister was diagnosed last month. How long do people live with this?" tells, then asks; the
asking sentence points back into the story. Pure text: no corpus is read here.
"""

from __future__ import annotations

import re

from .text import LABELLED_REQUEST, REQUEST_VERBS, lemmas, raw_tokens, tokens

_CLOSER = "[\"'”’)\\]}]"  # a quote or bracket that closes a sentence ('... answer."} Then')
_SENTENCE_END = re.compile(
    rf"(?<=[.!?])\s+|(?:(?<=[.!?]{_CLOSER})|(?<=[.!?]{_CLOSER}{_CLOSER}))\s+(?=[^a-z\s])"
)  # after a closing quote, only where a new sentence begins ("... 'B12.' at the end" goes on)
_ASKING = re.compile(
    r"^(what|what's|how|why|when|which|who|where|is|are|am|can|could|should|will|would|do|does|"
    r"did|has|have|any|please)\b",
    re.IGNORECASE,
)


# (a place the story names: "what are they looking for in there?"; not "is there ..."; and a
# time it names: "is there any harm in waiting until then?")
_THINGS = (
    r"it|its|this|that|these|those|in there|from there|down there|out of there"
    r"|(?:until|till|by|before|since) then"
)
_PERSONS = r"he|him|his|she|her"
_POINTS_TO_THING = re.compile(rf"\b({_THINGS})\b", re.IGNORECASE)
POINTS_TO_PERSON = re.compile(rf"\b({_PERSONS})\b", re.IGNORECASE)
_POINTS_BACK = re.compile(rf"\b({_THINGS}|{_PERSONS})\b", re.IGNORECASE)
# "it" before an adjective and a "that" clause ("Is it true that ...", "is it normal that ...")
# points to nothing: the clause is what is asked. ("Is it effective for bulbar onset?" points
# back to the drug the story names.)
_EXPLETIVE = re.compile(
    r"\bit(?:'s|’s)?(?:\s+(?:is|was|be|really|still|ever|also|not|actually))*\s+([a-z]+)"
    r"\s+(that)\b",
    re.IGNORECASE,
)
# "it" that tells the time points to nothing either ("Is it time to start NIV?", "is it too
# late for a gastrostomy?").
_TIME_IT = re.compile(
    r"\bit(?:'s|’s)?(?:\s+(?:is|was|be|really|still|already|now|not|actually))*"
    r"\s+(time|too late|too early|too soon)(?!-)(?=\s+(?:to|for)\s+\w)",
    re.IGNORECASE,
)


# "that" after a noun opens a relative clause, and one that names what it is about points to
# nothing ("is there anything that helps with the drooling?", "something that gets passed down
# in families?"); one that names nothing leans on the story ("Is there anything that helps?"),
# and after a verb or a preposition "that" points back ("does that mean ...", "what about
# that?"). A word that can be a verb too ("drug") is left as it was read.
_AFTER_WORD = re.compile(
    r"\b([a-z]+)\s+that(?=\s[^.?!,;]*?\b(?:with|for|in|on|of|to|from|the|a|an)\s+[a-z]{3,})",
    re.IGNORECASE,
)
_WH = frozenset({"what", "which", "who", "whom", "whose", "whatever", "how", "why", "when"})
# After a noun that names something ("the medicine that can help him live longer?"), a
# relative "that" points to nothing whatever its clause says; after an indefinite pronoun
# ("anything", "someone") only when its clause names what it is about (above).
_AFTER_NOUN = re.compile(r"\b([a-z]+)\s+that\b", re.IGNORECASE)
_INDEFINITE = ("thing", "one", "body")


def _relative_that(text: str) -> str:
    def noun(word: str) -> bool:
        return set(lemmas(word.lower())) == {"NOUN"} and word.lower() not in _WH

    def drop(m: re.Match) -> str:
        return m[1] if noun(m[1]) else m[0]

    def drop_named(m: re.Match) -> str:
        named = noun(m[1]) and not m[1].lower().endswith(_INDEFINITE)
        return m[1] if named else m[0]

    return _AFTER_WORD.sub(drop, _AFTER_NOUN.sub(drop_named, text))


# A clause joined to an asking clause before it ("What is required to make a diagnosis of ALS,
# and how long does *it* take?"): its subject "it" is that clause's subject, not the story's,
# when that clause names one.
# ("..., and when would I take her off *it*?", "..., and what should I watch for on *this
# drug*?" still point into the story.)
_JOINED = re.compile(r",\s*(?:and|or|but)\s+|;\s*", re.IGNORECASE)
# a clause that names a thing: a noun after a determiner ("a diagnosis of ALS") or an
# abbreviation ("NIV"); "What should we watch for" names none ("..., and when should it be
# stopped?" asks of the story's drug)
_NAMES_THING = re.compile(
    r"\b(?:a|an|the|this|these|those|his|her|my|your|their|our)\s+[a-z]{3,}|\b[A-Z]{2,}\b"
)
_SUBJECT_IT = re.compile(
    r"\b(?:does|do|did|is|was|will|would|can|could|should|has)\s+it\b", re.IGNORECASE
)


def _points(pattern: re.Pattern[str], sentence: str) -> bool:
    """Whether ``sentence`` points back with ``pattern``, an expletive "it" aside, and the
    subject "it" of a clause joined to one before it."""

    def clause(m: re.Match) -> str:
        return m[1] if "ADJ" in lemmas(m[1].lower()) else m[0]

    first, *joined = _JOINED.split(sentence)
    if _NAMES_THING.search(first):  # ... when the clause before names a thing it can be
        joined = [_SUBJECT_IT.sub(" ", c) for c in joined]
    parts = [first, *joined]
    return any(
        pattern.search(_relative_that(_TIME_IT.sub(r"\1", _EXPLETIVE.sub(clause, c))))
        for c in parts
    )


def asks(text: str) -> bool:
    """``text`` asks something: a "?" or a question's first word ("ok great" does not)."""
    return "?" in text or bool(_ASKING.match(text.strip()))


# a question told inside a sentence, as what a worry or question is: "my real worry is *when
# he should* get the tube", "the question is *whether* to start now" (not "the clinic is where
# we go", "he is what they call a slow progressor")
_EMBEDDED = re.compile(
    r"\b(?:worry|worries|question|questions|concern|concerns|problem|issue|query|wondering)"
    r"\s+(?:\w+\s+)?(?:is|was|are)\s+(?:what|when|how|why|which|where|who|whether)\b",
    re.IGNORECASE,
)


def requests(text: str) -> bool:
    """``text`` asks something or requests information ("tell me whether ...", "list the
    tests", "Content: the motor neurone signs", "my worry is when he should get the tube");
    "SYSTEM OVERRIDE: enabled." does not."""
    return (
        asks(text)
        or bool(_EMBEDDED.search(text))
        or any(w in REQUEST_VERBS for w in raw_tokens(text))
        or bool(LABELLED_REQUEST.search(text))
    )


def requesting_sentences(text: str) -> str | None:
    """The sentences of ``text`` that ask or request information, when others do not
    ("Translate this French and do what it says. After that, tell me what causes ALS."); None
    when all or none do."""
    return _some([p.strip() for p in _CLAUSE_END.split(text) if p.strip(" «»\"'")], requests)


_CLAUSE_END = re.compile(r"(?<=[.!?:;«»])\s+|\n+")  # sentences, and what a colon introduces


def _some(parts: list[str], keep) -> str | None:
    """The ``parts`` that ``keep`` holds for, joined; None when it holds for all or none."""
    kept = [p for p in parts if keep(p)]
    return " ".join(kept) if kept and len(kept) < len(parts) else None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def _asking(sentence: str) -> bool:
    return sentence.endswith("?") or bool(_ASKING.match(sentence))


def each_ask(text: str) -> list[str]:
    """Each sentence of ``text`` that asks, in order ("What does the test look at?", "Will it
    hurt?"); the whole text when none does."""
    return [s for s in _sentences(text) if _asking(s)] or [text]


def each_asked(text: str) -> list[tuple[str, bool]]:
    """Each question ``text`` asks: its asking sentences (:func:`each_ask`), a sentence split
    where a joined clause asks again ("Is it time to start NIV, and which mode should I use?";
    not "Does it affect memory, or thinking?"), each with whether it continues the clause
    before it in its sentence (and so speaks of what that one named)."""
    out = []
    for sentence in each_ask(text):
        start = 0
        asking = bool(_ASKING.match(sentence))
        for m in _JOINED.finditer(sentence):
            # a clause with a question word asks again; one with an auxiliary only after a
            # sentence that asks from its start ("My dad has ALS, and is on riluzole, what
            # should we monitor?" tells, then asks once)
            clause = sentence[m.end() :]
            first = clause.split(maxsplit=1)[0].lower() if clause.strip() else ""
            if first in _WH or (asking and _ASKING.match(clause)):
                out.append((sentence[start : m.start()], start > 0))
                start = m.end()
        out.append((sentence[start:], start > 0))
    return out


def asking_sentences(text: str) -> str | None:
    """The sentences of ``text`` that ask, when others only tell a story (even when they point
    back into it: "How long do people live with this?"); None when all or none ask."""
    return _some(_sentences(text), _asking)


def told_and_asked(text: str) -> tuple[str, list[str]] | None:
    """The sentences of ``text`` that tell a story (joined) and those that ask, when both are
    there; None otherwise."""
    parts = _sentences(text)
    asked = [s for s in parts if _asking(s)]
    if not asked or len(asked) == len(parts):
        return None
    return " ".join(s for s in parts if not _asking(s)), asked


def points_to_thing(sentence: str) -> bool:
    """``sentence`` points back to a thing ("do I give it with breakfast?"), not to a person
    and not with an expletive "it" ("is it true that ...")."""
    return _points(_POINTS_TO_THING, sentence)


def topic_part(text: str) -> str | None:
    """The asking sentences of ``text`` that do not point back to a thing of the story ("What
    can we do so she can keep talking?", not "Why did this happen?"), when others tell it; a
    person ("she") is who the story is about, not what is asked. None when there are none."""
    if asking_sentences(text) is None:
        return None
    own = [s for s in _sentences(text) if _asking(s) and not _points(_POINTS_TO_THING, s)]
    return " ".join(own) or None


def asked_part(text: str, person_ok: bool = False) -> str | None:
    """The sentences of ``text`` that ask (a "?" or a question's first word), when others only
    tell ("I keep dropping things ... What are the first signs?"); None when every sentence
    asks, none does, or one points back into the story ("What does that mean?"). With
    ``person_ok``, one that points to a person ("Does she meet criteria?") still asks on its
    own: the story says whom it is about (for scope, its words are context). Only the first
    asking sentence can point into the story; a later one points back to the question before
    it ("When should palliative care start? Is it only for the very end?")."""
    asking = asking_sentences(text)
    if asking is None:
        return None
    first = next(s for s in _sentences(text) if _asking(s))
    if _points(_POINTS_TO_THING if person_ok else _POINTS_BACK, first):
        return None
    return asking


_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i’m|i've|i’ve|me|my|myself)\b", re.IGNORECASE)
_THIRD_PERSON = re.compile(rf"\b(?:{_PERSONS}|hers|they|them|their)\b", re.IGNORECASE)


def told_of_another(
    text: str, at: int, relatives: frozenset[str], disease: tuple[str, ...] = ()
) -> bool:
    """Whether what ``text`` tells at ``at`` is told of a relative the asking sentences are not
    about: "My daughter, who is pregnant, says ... What side effects should *I* watch for?"
    (not "My wife is pregnant. Can *she* keep taking it?", nor "I'm pregnant. ...", nor an ask
    that names no one, nor a sentence that names the ``disease``: "My sister is pregnant and
    has ALS" tells of the patient)."""
    start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, at)), default=0)
    end = next((m.start() for m in _SENTENCE_END.finditer(text, at)), len(text))
    sentence = f" {' '.join(tokens(text[start:end]))} "
    if any(f" {d.strip()} " in sentence for d in disease):
        return False
    before = re.findall(r"[a-z]+", text[start:at].lower())
    who = next((w for w in reversed(before) if w in relatives or _FIRST_PERSON.fullmatch(w)), None)
    if who is None or who not in relatives:
        return False  # told of the asker, or of no one named
    ask = asking_sentences(text) or ""
    return (
        bool(_FIRST_PERSON.search(ask))
        and not _THIRD_PERSON.search(ask)
        and who not in re.findall(r"[a-z]+", ask.lower())
    )


# (a noun: "this kind", "that test"; not "that can", "those who")
_DEMONSTRATIVE_NOUN = re.compile(r"\b(?:this|that|these|those)\s+([a-z]{3,})\b", re.IGNORECASE)


def referred_part(text: str) -> str | None:
    """The asking sentences of ``text`` with the story's sentences a demonstrative of theirs
    names back by its noun ("... they told us it is the speech-first *kind* of ALS. ... How
    long do people live with *this kind*?"); None when none names back that way (a bare "it"
    or "this" could be anything the story tells)."""
    parts = _sentences(text)
    asking = [s for s in parts if _asking(s)]
    if not asking or len(asking) == len(parts):
        return None
    nouns = {
        m[1].lower()
        for s in asking
        for m in _DEMONSTRATIVE_NOUN.finditer(s)
        if "NOUN" in (pos := lemmas(m[1].lower())) and "AUX" not in pos and m[1].lower() != "who"
    }
    told = [
        s
        for s in parts
        if not _asking(s) and nouns & {w.lower() for w in re.findall(r"[A-Za-z]+", s)}
    ]
    return " ".join([*told, *asking]) if told else None
