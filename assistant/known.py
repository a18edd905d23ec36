"""Known words: whether a word of a question is a form, spelling or compound of a word the
assistant knows (the corpus, the glossary, ordinary English), for :class:`~assistant.scope.Scope`.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

from .text import stem
from .tuning import ScopeTuning
from .vocabulary import Vocabulary


class KnownWords:
    """Word lookups over one assistant's vocabulary (a base of :class:`Scope`)."""

    tuning: ScopeTuning
    vocabulary: Vocabulary
    known_words: frozenset[str]
    general_vocab: dict[str, int]
    _known_sorted: list[str]
    _lay_words: frozenset[str]
    _by_initial: dict[str, list[str]] | None

    def _known_form(self, word: str) -> bool:
        """Another form or a misspelling of a corpus word (not a name the corpus lacks)."""
        return (
            stem(word) in self.known_words
            or self.vocabulary.in_corpus(word)
            or (self._near_known(word))
        )

    def _unnamed(self, word: str) -> bool:
        """A word that names nothing the corpus says: no form of a corpus word, and no lay word
        the glossary gives alone for one ("numbness"; "fit" only in "keep fit" names nothing).
        Stricter than the assistant's vocabulary: used only beside a gap ("seizures or fits")."""
        w = word.lower()
        tune = self.tuning
        return not (
            self.vocabulary.in_corpus(w)
            or self.vocabulary.derived(w, tune.derived_min_prefix, tune.derived_min_share)
            or stem(w) in self._lay_words
        )

    def _missing(self, word: str) -> bool:
        """A word the corpus never uses, in any form or spelling."""
        return len(word) >= 3 and not self._known_form(word)

    @lru_cache(maxsize=4096)  # noqa: B019 - one Guard per assistant; the cache is bounded
    def _near_known(self, word: str) -> bool:
        """A misspelling of the assistant's own vocabulary ("cutof" ~ "cutoff")."""
        return len(word) >= 4 and bool(
            difflib.get_close_matches(word, self._known_sorted, n=1, cutoff=0.8)
        )

    @lru_cache(maxsize=4096)  # noqa: B019 - one Guard per assistant; the cache is bounded
    def _english_rank(self, word: str) -> int | None:
        """The tokenizer rank of ``word`` or of its base form ("summarize" ~ "summary")."""
        for cut in range(0, max(1, min(4, len(word) - 3))):  # a short word as it is ("bad")
            base = word[: len(word) - cut]
            for suffix in ("", "e", "y"):
                rank = self.general_vocab.get(base + suffix)
                if rank is not None:
                    return rank
        return self._compound_rank(word)

    def _compound_rank(self, word: str) -> int | None:
        """A closed compound of two ordinary words ("mealtimes" = "meal" + "times") ranks as
        its rarer part; None when ``word`` splits into no two known words."""
        least = self.tuning.compound_min_part
        ranks = [
            max(self.general_vocab[word[:i]], self.general_vocab[word[i:]])
            for i in range(least, len(word) - least + 1)
            if word[:i] in self.general_vocab and word[i:] in self.general_vocab
        ]
        return min(ranks, default=None)

    @lru_cache(maxsize=4096)  # noqa: B019 - one Guard per assistant; the cache is bounded
    def _misspelt_english_rank(self, word: str) -> int | None:
        """A misspelt ordinary word ("inheritted"; "ignroe", two letters swapped) is still
        ordinary."""
        for i in range(len(word) - 1):  # a typing slip: two neighbouring letters swapped
            swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            if swapped != word and swapped in self.general_vocab:
                return self.general_vocab[swapped]
        pool = [
            w for w in self._english_by_initial().get(word[0], []) if abs(len(w) - len(word)) <= 2
        ]
        close = difflib.get_close_matches(word, pool, n=1, cutoff=0.85)
        return self.general_vocab[close[0]] if close else None

    def _english_by_initial(self) -> dict[str, list[str]]:
        if self._by_initial is None:
            self._by_initial = {}
            for w, rank in self.general_vocab.items():
                if rank <= self.tuning.rare_word_rank and len(w) >= 4:
                    self._by_initial.setdefault(w[0], []).append(w)
        return self._by_initial
