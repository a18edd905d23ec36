"""Known words: whether a word of a question is a form, spelling or compound of a word the
assistant knows (the corpus, the glossary, ordinary English), and which corpus sentences name a
question's words together, for :class:`~assistant.scope.Scope`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from .text import STOPWORDS, in_dictionary, lemmas, raw_token_spans, stem, tokens
from .tuning import ScopeTuning
from .vocabulary import Vocabulary

if TYPE_CHECKING:
    from .corpus import Passage
    from .retrieve import Retrieval


def framing(word: str) -> bool:
    """An English verb, adjective or adverb ("reassessed", "frequently", "worried"): it frames
    the question and names nothing the sources could lack (lemminflect's lexicon)."""
    found = lemmas(word)
    return bool(found) and not ({"NOUN", "PROPN"} & set(found))


def can_be_verb(word: str) -> bool:
    """An English word that can be a verb (lemminflect's lexicon)."""
    return "VERB" in lemmas(word)


def names_thing(word: str) -> bool:
    """A name the lexicon lacks ("riluzole", "AMX0035"), or a word it knows as a noun and
    never as an adjective or adverb ("sachets", not "daily" or "safe")."""
    pos = lemmas(word.lower())
    return not pos or ("NOUN" in pos and not {"ADJ", "ADV"} & set(pos))


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


_JOINED = re.compile(r"[\s/-]+")  # between the words of one phrase ("T2/FLAIR")


class CorpusSentences:
    """The corpus sentences that name a question's words together (a base of
    :class:`~assistant.scope.Scope`)."""

    tuning: ScopeTuning
    _passages: list[Passage]
    _plain: list[tuple[frozenset[str], frozenset[str]]]
    _by_word: dict[str, list[tuple[str, frozenset[str]]]] | None

    def _says_otherwise(self, word: str, retrieval: Retrieval) -> bool:
        """True when ``word`` ends a phrase of the question (words joined only by spaces, "/"
        or "-"; no stopword, figure or word the corpus lacks; not a series of names) whose
        nearest ``said_otherwise_words`` or more specific corpus words one corpus sentence
        (with its list's lead-in) names together: the question says in other words a thing
        the corpus names ("corticospinal tract T2/FLAIR hyperintensity": "abnormal T2/FLAIR
        signal in corticospinal tracts"), not something it never mentions. One such
        occurrence of a repeated word suffices."""
        fixed = dict(retrieval.corrected)
        query = retrieval.query
        spans = raw_token_spans(query)
        need = self.tuning.said_otherwise_words

        def name(t: str) -> bool:
            return not lemmas(t) and not in_dictionary(t)

        for at, (token, start, _) in enumerate(spans):
            if token != word.lower():
                continue
            words: set[str] = set()
            after = start  # where the word after the one looked at begins
            for k in range(at - 1, -1, -1):
                t, s, e = spans[k]
                gap = query[e:after]
                if not _JOINED.fullmatch(gap):
                    break  # a comma, a full stop: another phrase ("riluzole, masitinib")
                after = s
                if t in STOPWORDS or not t[:1].isalpha():
                    break
                if k == at - 1 and name(t):
                    # a name before it in a series of names ("riluzole/masitinib", "riluzole
                    # edaravone masitinib"), not a modifier ("tract T2 hyperintensity")
                    before = spans[k - 1][0] if k else ""
                    if "/" in gap or (before and name(before)):
                        break
                keys = (fixed.get(t) or stem(t)).split()  # "noninvasive": "non invasive"
                found = [retrieval.evidence.get(key) for key in keys]
                if any(f is None or not f.known for f in found):
                    break  # a word the corpus lacks is no corpus phrase
                words |= {key for key, f in zip(keys, found, strict=True) if f.specific}
                if len(words) >= need:
                    # the nearest words first: a sentence naming them all, or none further
                    first = min(words)  # any of its words narrows the sentences to look at
                    if any(words <= said for _, said in self._sentences_with().get(first, ())):
                        return True
                    break
        return False

    def _sentences_naming(self, word: str) -> Iterator[str]:
        """The corpus sentences that name ``word`` (a stem): with it, or with a term the
        glossary explains with it ("enzyme": "aminotransferases", plainly "liver enzymes")."""
        terms = [{word}] + [term for term, plain in self._plain if word in plain]
        for term in terms:
            first = min(term)  # any word of the term narrows the sentences to look at
            for text, said in self._sentences_with().get(first, ()):
                if term <= said:
                    yield text

    def _sentences_with(self) -> dict[str, list[tuple[str, frozenset[str]]]]:
        """Each corpus word's sentences, with their words: built on first use, once. A list
        item says what its lead-in says ("Initiate NIV when:" / "FVC <50% predicted")."""
        if self._by_word is None:
            self._by_word = {}
            for p in self._passages:
                lead = frozenset(tokens(p.lead)) if p.kind == "bullet" and p.lead else frozenset()
                for sent in p.sentences:
                    said = frozenset(tokens(sent.text)) | lead
                    for w in said:
                        self._by_word.setdefault(w, []).append((sent.text, said))
        return self._by_word
