"""Text utilities shared by the stages: tokens, a light stemmer, numbers, spelling correction."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable

_TOKEN = re.compile(r"[^\W_]+(?:[.,][0-9]+)*")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could did do does doing don't down
    during each few for from further had has have having he her here hers herself him himself his
    how i i'm if in into is it its itself just let me more most my myself no nor not of off on once
    only or other our ours out over own same she should so some such than that the their theirs
    them then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself s t ll d m re ve
    tell please know want get got give say said also like need really anything something thing
    things much many well okay ok hi hello thanks thank yes way kind sort us am pm anything
    anyone everything everyone something someone nothing nobody whats what's""".split()
)
# Words that ask about a thing without naming it: never a reason to accept or decline a question.
QUESTION_WORDS = frozenset(
    """dose dosage dosing recommended recommendation recommend guideline guidelines
    treatment treat treated treating option options therapy use used take taking start
    started starting stop best first used work works mean means help happen happens normal
    patient patients people person someone doctor doctors nurse clinician typical typically usual
    usually common commonly long often time soon early late later""".split()
)
NUMBER_WORDS = {
    "zero": "0",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "thousand": "1000",
    "hundreds": "100s",
    "thousands": "1000s",
    "million": "1000000",
    "millions": "1000000s",
    "thirds": "2/3",
    "quarters": "3/4",
    "half": "50%",
    "twice": "2x",
    "double": "2x",
    "triple": "3x",
    "quarter": "25%",
    "third": "1/3",
    "dozen": "12",
}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[½¼¾⅓⅔⅛]")


def stem(token: str) -> str:
    """A light, predictable stemmer: plurals and "-ing" only."""
    if len(token) > 6 and token.endswith("ing"):
        base = token[:-3]
        if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
            base = base[:-1]  # tripping -> trip
        return base
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def raw_tokens(text: str) -> list[str]:
    """Lowercase word tokens, as written."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


def tokens(text: str) -> list[str]:
    """Lowercase word tokens, stemmed."""
    return [stem(t) for t in raw_tokens(text)]


def content_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOPWORDS and len(t) > 1]


def numbers(text: str) -> set[str]:
    """Every number written with digits, normalised ("100,000" -> "100000")."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def number_words(text: str) -> set[str]:
    """Numbers written as words ("fifty", "half", "twice")."""
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


class Speller:
    """Corrects query words to the corpus vocabulary ("rilzole" -> "riluzole")."""

    def __init__(self, vocabulary: Iterable[str], english: frozenset[str] = frozenset()):
        self.vocabulary = frozenset(vocabulary)
        self.english = english
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(self.vocabulary):  # sorted: ties resolve the same in every process
            if len(word) >= 4 and word.isalpha():
                self._by_initial.setdefault(word[0], []).append(word)

    def known_form(self, token: str) -> str | None:
        """A corpus word of the same stem ("discontinued" ~ "discontinue", "drool" ~ "drooling")."""
        corrected = self.correct(token)
        if corrected:
            return corrected
        if len(token) < 5:
            return None
        for word in self._by_initial.get(token[0], []):
            common = len(os.path.commonprefix([token, word]))  # noqa: RUF071 - characters intended
            if common >= 5 and common >= 0.75 * max(len(token), len(word)):
                return word
        return None

    def correct(self, token: str) -> str | None:
        """The token itself if known, its closest vocabulary word, or None."""
        if token in self.vocabulary or token.isdigit():
            return token
        if len(token) < 4 or not token.isalpha() or token in self.english:
            return None  # short, numeric, or a real word the corpus happens not to use
        pool = self._by_initial.get(token[0], [])
        match = difflib.get_close_matches(token, pool, n=1, cutoff=0.8)
        return match[0] if match else None
