"""What a question names that the corpus does not: names, other phrases, requested things.

Three readings of the question's own structure, each naming the gap it finds:

- a **name**: a capitalised word inside a sentence ("incidence in Japan", "the Cleveland Clinic")
  that the corpus never uses in any form. A name is never question framing, however ordinary
  the word is in English.
- a **different phrase**: a word of a term the corpus defines by an abbreviation, which the
  corpus only ever uses inside that term ("sclerosis" in "amyotrophic lateral sclerosis (ALS)"),
  put by the question after another word ("multiple sclerosis"): the question is about
  something else.
- a **requested task**: an imperative asking the assistant to make something other than an answer
  ("write a poem", "translate this"); the verbs are ``task_verbs`` in ``rules/language.yaml``.
- a **measured value**: "What CSF protein *level* is typical?" asks for a figure of the thing
  named before the value word; the corpus must state one in a sentence naming that thing.
- a **population**: the people a question is about ("in patients with severe renal impairment",
  "for someone on dialysis") described by a word the corpus never uses: the answer would have
  to be about them, however ordinary the word is in English.

The bound words are learnt from the corpus itself, with the share and the minimum count in
``rules/tuning.yaml`` (``scope``).
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache

from .text import (
    COMPARING_WORDS,
    NUMBER_WORDS,
    QUESTION_WORDS,
    STOPWORDS,
    VALUE_WORDS,
    lemmas,
    raw_tokens,
    stem,
)

WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_START = re.compile(r"(^|[.?!:;\n])[\s\"'“”‘’()\[\]*-]*$")
# the calendar's names (the standard library's, in the C locale's English, in full and short):
# a date in a story ("told in March", "since Tuesday") names no topic the corpus lacks
with calendar.different_locale("C"):
    _CALENDAR = frozenset(
        n.lower()
        for n in (
            *calendar.month_name,
            *calendar.month_abbr,
            *calendar.day_name,
            *calendar.day_abbr,
        )
        if n
    )
# a name given an age is a person's ("Emma is 19 and", "Greg (66, ALS since 2022)", "Frank,
# 72,"): the age ends its phrase, or says years ("Nuedexta (1 capsule twice daily)" is a dose)
_AGED = re.compile(
    r"\b([A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?)(?:\s*\(\s*|\s*,\s*|\s+(?:is|was|who is|aged)\s+)"
    r"(?:aged\s+)?(?:1?\d{1,2})(?=\s*(?:[),;.!?]|and\b|years?\b|yrs?\b|y/?o\b|$))"
)


def _sequence(text: str) -> list[str]:
    return [stem(t) for t in raw_tokens(text)]


class Collocations:
    """Words of a term the corpus defines by an abbreviation ("amyotrophic lateral sclerosis
    (ALS)") that the corpus uses only inside that term: such a word is part of a name."""

    def __init__(
        self, texts: Iterable[str], terms: Iterable[str], min_count: int, min_share: float
    ):
        term_seqs = [_sequence(t) for t in terms]
        words = {w for seq in term_seqs for w in seq[1:]}  # only these can be bound
        count: Counter[str] = Counter()
        self.left: dict[str, Counter[str]] = {w: Counter() for w in words}
        for text in texts:
            seq = _sequence(text)
            for i, w in enumerate(seq):
                if w in words:
                    count[w] += 1
                    if i:
                        self.left[w][seq[i - 1]] += 1
        self.bound: dict[str, str] = {}  # word -> the word always before it
        for seq in term_seqs:
            for before, word in itertools.pairwise(seq):
                n = count[word]
                if n >= min_count and self.left[word][before] / n >= min_share:
                    self.bound[word] = before

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collocations) and (self.left, self.bound) == (
            other.left,
            other.bound,
        )

    __hash__ = None  # mutable tables: compared, never hashed

    def foreign_phrase(self, question: str) -> str | None:
        """A phrase of the question that puts another content word before a bound word, in a
        pair the corpus never uses ("multiple sclerosis"); None if there is none."""
        seq = _sequence(question)
        raw = raw_tokens(question)
        for i in range(1, len(seq)):
            expected = self.bound.get(seq[i])
            other = seq[i - 1]
            if expected is None or other == expected or not _content(other):
                continue
            if not self.left[seq[i]][other]:  # the corpus never puts them together
                return f"{raw[i - 1]} {raw[i]}"
        return None


def _content(token: str) -> bool:
    return (
        token.isalpha()
        and token not in STOPWORDS
        and token not in QUESTION_WORDS
        and token not in NUMBER_WORDS
    )


def people_named(question: str, people: Iterable[str]) -> frozenset[str]:
    """Names the question gives people, read from apposition to a word for a person ("my
    sister Maria", "Dad (Frank)", "Linda, my wife", "my neurologist Dr Okafor") or from the
    age it is given ("Emma is 19", "Greg (66, ...)"): a person's name is who the story is
    about, not a topic the corpus lacks."""
    patterns = _apposition(frozenset(people))
    named = {g for rx in patterns for m in rx.finditer(question) for g in m.groups() if g}
    return frozenset(named | {m.group(1) for m in _AGED.finditer(question)})


@lru_cache(maxsize=8)
def _apposition(people: frozenset[str]) -> tuple[re.Pattern[str], ...]:
    """The patterns of a name beside a word for a person, compiled once per word list."""
    nouns = "|".join(sorted(map(re.escape, people), key=len, reverse=True))
    if not nouns:
        return ()
    title = r"(?:(?:Dr|Mr|Mrs|Ms|Miss|Prof)\.?\s+)?"
    name = r"([A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?)"
    # ("my sister Maria", "my wife, Linda, ...", "Dad (Frank)"; not "my husband, Qalsody was")
    after = re.compile(
        rf"\b(?i:{nouns})(?:\s+{title}{name}\b|\s*,\s*{title}{name}\s*(?:[,.;:!?]|$)"
        rf"|\s*\(\s*{title}{name}\s*\))"
    )
    # ("Linda, my wife, has ALS", "Frank (my dad)"; not "Nuedexta, my doctor says")
    before = re.compile(
        rf"\b{name}\s*(?:,\s*(?i:my|our)\s+(?i:{nouns})\s*(?:[,.;:!?]|$)"
        rf"|\(\s*(?i:my|our)\s+(?i:{nouns})\s*\))"
    )
    return (after, before)


def unknown_names(
    question: str,
    unknown: Iterable[str],
    known: Callable[[str], bool],
    people: frozenset[str] = frozenset(),
) -> list[str]:
    """Capitalised words inside a sentence of ``question`` that the corpus never uses (not
    words in capitals: an abbreviation may be shorthand the tables lack), except the names of
    ``people`` (:func:`people_named`).

    ``unknown`` is the retrieval's list of words the corpus lacks; ``known`` says whether a
    word is the assistant's own vocabulary after all (another form, a misspelling)."""
    missing = {w.lower() for w in unknown} - {p.lower() for p in people}
    out: list[str] = []
    for m in WORD.finditer(question):
        word = m.group(0).rstrip("'’-")
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if len(word) < 2 or not (word[0].isupper() and word[1:].islower()):
            continue  # a name is capitalised; a word in capitals is an abbreviation ("MOA")
        if word.lower() not in missing or word.lower() in _CALENDAR:
            continue
        if _SENTENCE_START.search(question[: m.start()]) or known(word.lower()):
            continue
        if word not in out:
            out.append(word)
    return out


def requested_thing(
    question: str, task_verbs: frozenset[str], missing: Callable[[str], bool]
) -> str | None:
    """What an imperative that asks the assistant to make something ("write a short poem",
    "translate this") asks for, when the corpus never mentions it; None otherwise."""
    words = raw_tokens(question)
    while words and words[0] in ("please", "now", "just", "can", "could", "you"):
        words = words[1:]
    if not words or words[0] not in task_verbs:
        return None
    return next((w for w in words[1:] if _content(w) and missing(w)), words[0])


_BEFORE_VERB = frozenset(
    "can could may might must shall should will would do does did don't doesn't didn't to not "
    "never often always usually sometimes commonly frequently most rarely "
    "i you we they he she it that who".split()
)  # auxiliaries, adverbs of frequency, subject and relative pronouns


def framing_by_position(question: str, can_be_verb: Callable[[str], bool]) -> set[str]:
    """Words the question's grammar makes framing, whatever the corpus lacks: the category a
    wh-word asks for ("which *subgroup* of patients", "what *medication*") and a word used as
    a verb after an auxiliary, an adverb or a pronoun ("conditions that *masquerade* as ALS")."""
    words = raw_tokens(question)
    # A word in capitals is an abbreviation: it names something ("What ALSFRS-R decline ...").
    capitals = {t.lower() for t in re.findall(r"\b[A-Z][A-Z0-9]+\b", question)}
    out: set[str] = set()
    for i, w in enumerate(words[1:], start=1):
        before = words[i - 1]
        asked_category = before in ("which", "what") and w.isalpha() and w not in capitals
        if asked_category or (before in _BEFORE_VERB and can_be_verb(w)):
            out.add(w)
    return out


_POPULATION = re.compile(
    r"\b(?:patients?|pts|people|persons?|someone|anyone|individuals?|those|adults|men|women)"
    r"\s+(?:who\s+(?:are|is)\s+)?(?:with|on|having|undergoing|receiving)\s+([^,.;:?!()]+)",
    re.IGNORECASE,
)
_ARTICLES = frozenset({"a", "an", "the"})


def population_gap(
    question: str, known: Callable[[str], bool], names: Callable[[str, bool], bool]
) -> str | None:
    """The description of the people the question is about ("patients with severe renal
    impairment", up to its first function word, a leading article aside) when a word of it
    that ``names`` something (a condition, an organ, a treatment: not "mild" or "now"; told
    whether another word of it follows) is no word of the corpus (``known``); None otherwise."""
    for m in _POPULATION.finditer(question):
        words = []
        for w in raw_tokens(m.group(1)):
            if w in _ARTICLES and not words:
                continue  # "patients with a tracheostomy"
            if w in STOPWORDS or len(words) == 4:
                break
            words.append(w)
        content = [w for w in words if w not in QUESTION_WORDS and w.isalpha()]
        # A word before another of the description modifies it ("*bad* bulbar function").
        if any(not known(w) and names(w, i < len(content) - 1) for i, w in enumerate(content)):
            return m.group(0)[: m.start(1) - m.start()] + " ".join(words)
    return None


def code_name(word: str) -> bool:
    """Letters and digits, beginning with a letter: a product or gene ("AMX0035", "SOD1",
    "C9orf72"), not a figure with its unit ("50mg")."""
    return (
        word.isalnum()
        and word[0].isalpha()
        and sum(c.isalpha() for c in word) >= 3  # not dosing shorthand ("q12h")
        and any(c.isdigit() for c in word)
    )


def names_something(
    word: str, english_rank: Callable[[str], int | None], rare: int, modifier: bool = False
) -> bool:
    """A noun, or an adjective rare in English ("renal", not "mild": ``english_rank`` above
    ``rare``): it names a condition, an organ or a treatment; a verb or an adverb ("soaking",
    "now") does not. A ``modifier`` (before another word of its phrase) that can be an
    adjective is judged as one ("bad" in "bad bulbar function")."""
    forms = lemmas(word)
    if not forms or (("NOUN" in forms or "PROPN" in forms) and not (modifier and "ADJ" in forms)):
        return True
    if "ADJ" in forms:
        rank = english_rank(word)
        return rank is None or rank > rare
    return False


# A figure: a number standing alone, not part of a name ("T2", "SOD1", "C9orf72").
_FIGURE = re.compile(r"(?<![\w.-])[<>≤≥~]?\d+(?:[.,]\d+)?(?![\w])")


def value_gap(
    question: str, sentences: Callable[[str], Iterable[str]], known: Callable[[str], bool]
) -> str | None:
    """The measured thing whose value the question asks for ("CSF protein" in "What CSF
    protein level is typical?": up to three words before a ``value_words`` word) when no
    sentence naming a word of it (``sentences``: the corpus sentences holding a stem) states
    a figure; None when one does, or when the corpus knows no word of it."""
    words = raw_tokens(question)
    for i, w in enumerate(words):
        if w not in VALUE_WORDS:
            continue
        thing: list[str] = []
        for before in reversed(words[max(0, i - 3) : i]):
            if before in STOPWORDS or before in QUESTION_WORDS or not before[0].isalpha():
                break
            thing.insert(0, before)
        named = [stem(t) for t in thing if known(t)]
        if named and not any(_FIGURE.search(s) for t in named for s in sentences(t)):
            written = re.search(r"\W+".join(map(re.escape, thing)), question, re.IGNORECASE)
            return written.group(0) if written else " ".join(thing)  # as the question writes it
    return None


# "ALS-mimicking conditions such as A, B, and C", "other disorders such as tumors or stroke":
# the examples a sentence gives of conditions other than its subject.
_OTHER_CONDITIONS = re.compile(
    r"\b(?:other|\w+-mimicking|mimicking|mimic)\s+(?:medical\s+)?"
    r"(?:conditions?|disorders?|diseases?)\s+(?:such as|like|including)\s+([^.;:()\n]+)",
    re.IGNORECASE,
)


def other_conditions(texts: Iterable[str]) -> tuple[str, ...]:
    """The conditions the corpus names only as examples of other conditions (to rule out, to
    tell apart): "cervical spondylotic myelopathy", "Kennedy's disease", "stroke"."""
    out: dict[str, None] = {}
    for text in texts:
        for m in _OTHER_CONDITIONS.finditer(text):
            items = re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", m.group(1))
            for item in items:
                words = re.sub(r"[\d\s]+$", "", item).strip()
                if words and len(words.split()) <= 4:
                    out[words.lower()] = None
    return tuple(out)


def about_other_condition(
    question: str, conditions: Iterable[str], own_names: Iterable[str], whole: str | None = None
) -> str | None:
    """The other condition (:func:`other_conditions`) a question asks about without naming the
    corpus's own subject or relating the two (``language.comparing_words``): "How is Kennedy's
    disease treated?"; not "Is it Kennedy's disease or ALS?" or "whats the difference?". The
    sources say nothing of it but that it is another condition. ``question``: what asks;
    ``whole``: the message it is part of (naming the subject anywhere keeps it)."""
    said = f" {' '.join(raw_tokens(question))} "
    message = f" {' '.join(raw_tokens(whole or question))} "
    if any(f" {' '.join(raw_tokens(n))} " in message for n in own_names):
        return None
    if set(message.split()) & COMPARING_WORDS:
        return None  # how it bears on the corpus's own subject: tell apart, rule out
    for name in conditions:
        words = raw_tokens(name)
        forms = {" ".join(words), " ".join(w.removesuffix("s") for w in words)}
        if any(f" {f} " in said for f in forms):
            return name
    return None
