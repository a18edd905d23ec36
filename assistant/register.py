"""Register: how clinical a question reads, measured on the corpus's own audiences.

Every corpus document says whom it is written for (``audience`` in its sidecar). A word's *lean*
is the smoothed log-odds of its frequency in the clinician documents against the patient ones:
"onset" and "multidisciplinary" lean clinician, "trouble" and "help" lean patient, because that
is how the documents use them; no vocabulary is written by hand. A question's *clinical density*
is the sum of its clinician-leaning words' leans (plain words are no evidence against a
clinician, who uses them too). Its *form* adds what single words miss: a bare noun phrase ("PEG
timing", "Mechanisms of neurodegeneration": no verb, no person, no question word) and
abbreviations the documents never use ("PFTs"). Weights: ``tuning.routing``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .corpus import Passage
from .rules import FormWords, Rules
from .structure import defined_abbreviations
from .text import NUMBER_WORDS, QUESTION_WORDS, STOPWORDS, Speller, raw_tokens, stem
from .tuning import RoutingTuning

# "FVC", "T2", "TDP-43", "PFTs": two or more capitals, maybe digits, maybe a plural "s".
_ABBREVIATION = re.compile(r"(?<![\w-])[A-Z][A-Z0-9-]*[A-Z0-9]s?(?![\w-])")


@dataclass(frozen=True)
class Reading:
    """What the register says about one question, and the clinician weight it adds."""

    density: float  # sum of the clinician-leaning words' (capped) leans
    words: tuple[tuple[str, float], ...]  # (word, lean) of every content word with a lean
    noun_phrase: bool  # a bare noun phrase with at least one clinician-leaning word
    abbreviations: tuple[str, ...]  # abbreviations the corpus never uses
    score: float = 0.0  # clinician weight: the weighted features above the offset, capped

    def describe(self) -> str:
        """What counted, for the route's reason: "clinical density 2.3 (words: onset, ...)"."""
        leaning = sorted((w for w in self.words if w[1] > 0), key=lambda w: -w[1])
        parts = []
        if self.density > 0:
            words = ", ".join(dict.fromkeys(w for w, _ in leaning[:4]))
            parts.append(f"clinical density {self.density:.1f} (words: {words})")
        if self.noun_phrase:
            parts.append("noun-phrase form")
        if self.abbreviations:
            parts.append(f"abbreviations: {', '.join(self.abbreviations)}")
        return "; ".join(parts)


class Register:
    """Word leans counted once from the corpus passages; reads a question's register."""

    def __init__(
        self,
        counts: dict[str, Counter],
        form: FormWords,
        tuning: RoutingTuning | None = None,
        ubiquitous: Iterable[str] = (),
        english: Iterable[str] = (),
        framing: Iterable[str] = (),
        defined: dict[str, str] | None = None,
    ):
        """Args:
        counts: audience ("clinician", "patient") -> stemmed word counts of its documents.
        form: the closed-class words of a sentence (``routing.yaml``).
        tuning: smoothing and weights; the defaults when None.
        ubiquitous: words of nearly every passage (the disease's name); they never lean.
        english: ordinary English words, never respelled into a corpus word.
        framing: words that say what is asked ("side effects"), besides the question words.
        defined: abbreviation -> the long form the corpus defines it by ("ALS" ->
            "Amyotrophic lateral sclerosis"): a name, not a sign of how hard a question reads.
        """
        self.tuning = t = tuning or RoutingTuning()
        clinician, patient = counts.get("clinician", Counter()), counts.get("patient", Counter())
        self.known = frozenset(clinician) | frozenset(patient)
        vocabulary = self.known - set(ubiquitous)
        size = len(vocabulary) or 1
        n_c = sum(clinician.values()) + t.smoothing * size
        n_p = sum(patient.values()) + t.smoothing * size
        self.lean_of = {
            w: math.log((clinician[w] + t.smoothing) / n_c)
            - math.log((patient[w] + t.smoothing) / n_p)
            for w in vocabulary
        }
        self.verbs = frozenset(form.verbs.lower().split())
        self.persons = frozenset(form.persons.lower().split())
        self.openers = frozenset(form.openers.lower().split())
        self.framing = QUESTION_WORDS | NUMBER_WORDS.keys() | frozenset(framing)
        self.speller = Speller(self.known, frozenset(english))
        longs = sorted((defined or {}).items(), key=lambda kv: -len(kv[1]))
        self._long_forms = [
            (re.compile(rf"(?<![\w-]){re.escape(long)}(?![\w-])", re.IGNORECASE), short)
            for short, long in longs
        ]

    @staticmethod
    def count(passages: Iterable[Passage], share: float) -> tuple[dict[str, Counter], list[str]]:
        """Each audience's word counts (passage text, and each section heading once), and the
        ubiquitous words: those of more than ``share`` of the passages."""
        counts: dict[str, Counter] = {"clinician": Counter(), "patient": Counter()}
        df: Counter = Counter()
        headings: set[tuple[str, str]] = set()
        n = 0
        for p in passages:
            if p.kind == "disclaimer":
                continue
            words = _words(p.text)
            counts[p.meta.audience].update(words)
            df.update(set(words))
            n += 1
            for heading in p.section:
                if (p.doc_id, heading) not in headings:
                    headings.add((p.doc_id, heading))
                    counts[p.meta.audience].update(_words(heading))
        return counts, [w for w, k in df.items() if k / max(n, 1) > share]

    @classmethod
    def build(
        cls,
        passages: Iterable[Passage],
        rules: Rules,
        english: Iterable[str] = (),
        defined: dict[str, str] | None = None,
        counted: tuple[dict[str, Counter], list[str]] | None = None,
    ) -> Register:
        """The register of ``passages`` (:meth:`count`, or ``counted`` when already counted).
        ``defined``: the corpus's abbreviations (``Structure.abbreviations``); read from the
        passages when not given."""
        passages = list(passages)
        if counted is None:
            counted = cls.count(passages, rules.tuning.retrieval.ubiquitous_share)
        counts, ubiquitous = counted
        # The attributes a question asks about ("side effects", "dose") are framing too.
        framing = {w for a in rules.subjects.attributes for w in _words(a)}
        if defined is None:
            defined = {}
            for text in dict.fromkeys(p.text for p in passages if "(" in p.text):
                for short, long in defined_abbreviations(text).items():
                    defined.setdefault(short, long)
        return cls(
            counts, rules.routing.form, rules.tuning.routing, ubiquitous, english, framing, defined
        )

    def grade(self, question: str) -> float:
        """The question's Flesch-Kincaid grade (textstat), a defined name counted as its
        abbreviation ("Amyotrophic lateral sclerosis" reads as "ALS")."""
        from .readability import grade

        for rx, short in self._long_forms:
            question = rx.sub(short, question)
        return grade(question)

    def lean(self, word: str) -> float | None:
        """The stemmed word's lean (> 0: clinician), through a known form of a long word
        ("sialorhea" -> "sialorrhea", "neurodegeneration" -> "neurodegenerative"); None
        when the corpus has no evidence."""
        if word in self.known:
            return self.lean_of.get(word)  # None for a ubiquitous word
        if len(word) < self.tuning.backoff_length:
            return None
        form = self.speller.known_form(word)
        return self.lean_of.get(form) if form else None

    def read(self, question: str) -> Reading:
        t = self.tuning
        words: list[tuple[str, float]] = []
        for w in _words(question):
            if w in self.framing or not any(c.isalpha() for c in w):
                continue  # framing and figures say what is asked, not who asks
            lean = self.lean(w)
            if lean is not None:
                words.append((w, max(-t.word_cap, min(t.word_cap, lean))))
        density = sum(v for _, v in words if v > 0)
        raw = raw_tokens(question)
        sentence = any(w in self.verbs or w in self.persons or w in self.openers for w in raw)
        noun_phrase = density > 0 and not sentence
        abbreviations: tuple[str, ...] = ()
        if any(c.islower() for c in question):  # an all-capitals question is not shorthand
            abbreviations = tuple(
                dict.fromkeys(
                    a
                    for a in _ABBREVIATION.findall(question)
                    if not any(w in self.known or w in STOPWORDS for w in _words(a, False))
                    and a.lower().rstrip("s") not in self.speller.english
                )
            )
        raw_score = t.density_weight * density * (
            1 + t.noun_phrase_boost * noun_phrase
        ) + t.abbreviation_weight * len(abbreviations)
        score = min(t.max_register, max(0.0, raw_score - t.register_offset))
        return Reading(density, tuple(words), noun_phrase, abbreviations, score)


def _words(text: str, drop_stopwords: bool = True) -> list[str]:
    """Stemmed words, stopwords dropped before stemming ("does" is not "doe")."""
    return [
        stem(t) for t in raw_tokens(text) if len(t) > 1 and not (drop_stopwords and t in STOPWORDS)
    ]
