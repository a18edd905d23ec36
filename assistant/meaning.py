"""Meaning checks: a reworded sentence may not change what the passage it cites says.

Word support and grounded numbers let through a sentence that keeps the source's words and
turns its meaning around ("has not been found to be safe", "a large effect", "should stop
riluzole"). This check aligns each clause of a drafted sentence with the most similar clause of
its cited passages (by shared content words) and compares what the words *do*: negation,
modality, direction or comparison, and the drugs and populations named. The marker vocabularies
are data (``rules/meaning.yaml``). Sentences copied verbatim from a source are never checked:
the guard calls this only for reworded ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .corpus import Passage
from .datafile import load_yaml, regexes
from .rules import Rules, RulesError, compile_phrase
from .text import STOPWORDS, content_tokens, lemmas

Modal = Literal["none", "possibility", "obligation"]
MODALS: tuple[Modal, ...] = ("none", "possibility", "obligation")
_DETERMINERS = frozenset("the a an all any each every your their his her this these those".split())
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*", re.IGNORECASE)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _lower(words: list[str]) -> list[str]:
    out = [" ".join(w.lower().split()) for w in words]
    if any(not w for w in out):
        raise ValueError("empty marker")
    return out


class Direction(_Strict):
    """Two opposite sides of one direction or comparison (small / large)."""

    name: str = Field(min_length=2)
    a: list[str] = Field(min_length=1)
    b: list[str] = Field(min_length=1)

    _norm = field_validator("a", "b")(classmethod(lambda cls, v: _lower(v)))

    @model_validator(mode="after")
    def _disjoint(self) -> Direction:
        both = sorted(set(self.a) & set(self.b))
        if both:
            raise ValueError(f"direction {self.name!r}: {both} on both sides")
        return self


class ModalityRules(_Strict):
    obligation: list[str] = Field(min_length=1)
    possibility: list[str] = Field(min_length=1)
    imperative: Modal = "obligation"
    allowed: dict[Modal, list[Modal]]

    _norm = field_validator("obligation", "possibility")(classmethod(lambda cls, v: _lower(v)))

    @model_validator(mode="after")
    def _complete(self) -> ModalityRules:
        both = sorted(set(self.obligation) & set(self.possibility))
        if both:
            raise ValueError(f"modality markers {both} are both obligation and possibility")
        for kind in MODALS:
            if kind not in self.allowed.get(kind, []):
                raise ValueError(f"allowed.{kind} must exist and include {kind!r} itself")
        return self


class Entity(_Strict):
    """A drug or a population, by its names."""

    name: str = Field(min_length=2)
    kind: Literal["drug", "population"]
    names: list[str] = Field(min_length=1)
    generic: bool = False

    _norm = field_validator("names")(classmethod(lambda cls, v: _lower(v)))


class MeaningFile(_Strict):
    """``rules/meaning.yaml``: how clauses split and the markers compared between them."""

    clause_breaks: list[str] = Field(min_length=1)
    min_shared_words: int = Field(1, ge=1, le=10)
    symbols: dict[str, str] = Field(default_factory=dict)
    neutral_phrases: dict[str, str] = Field(default_factory=dict)
    negations: list[str] = Field(min_length=1)
    negating_prefixes: list[str] = Field(default_factory=list)
    modality: ModalityRules
    directions: list[Direction] = Field(min_length=1)
    entities: list[Entity] = Field(default_factory=list)

    _norm = field_validator("negations", "negating_prefixes")(classmethod(lambda cls, v: _lower(v)))

    @field_validator("clause_breaks")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        return regexes(v, "clause break")

    @model_validator(mode="after")
    def _unique(self) -> MeaningFile:
        for what, names in (
            ("direction", [d.name for d in self.directions]),
            ("entity", [e.name for e in self.entities]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {what} names {dupes}")
        return self


def load_meaning(folder: Path) -> MeaningFile:
    """``folder/meaning.yaml`` validated; a problem raises :class:`RulesError` naming the file."""
    return load_yaml(Path(folder) / "meaning.yaml", MeaningFile, RulesError)


# --- words -------------------------------------------------------------------------------------


def _lemmas(word: str) -> dict[str, tuple[str, ...]]:
    return lemmas(word) if word.isalpha() else {}


@lru_cache(maxsize=16384)
def forms(word: str) -> frozenset[str]:
    """A word and its dictionary forms ("higher" -> {higher, high})."""
    return frozenset({word, *(f for fs in _lemmas(word).values() for f in fs)})


def _adjective(word: str) -> bool:
    return bool({"ADJ", "ADV"} & set(_lemmas(word)))


def _imperative(words: list[str]) -> bool:
    """Does a sentence start like an order ("Place PEG ...", "Preferably use ...")? ``words``
    keep their case: a word in capitals is an abbreviation ("PEG"), not an English word."""

    def lemmas(w: str) -> dict[str, tuple[str, ...]]:
        return {} if len(w) > 1 and w.isupper() else _lemmas(w.lower())

    k = 0
    while k < len(words) and set(lemmas(words[k])) == {"ADV"}:
        k += 1
    if k >= len(words):
        return False
    first = lemmas(words[k])
    if words[k].lower() not in first.get("VERB", ()):
        return False
    if "NOUN" not in first:
        return True
    # "Offer NIV", "Use percutaneous ...": an order; "People typically ...", "Weight loss ...":
    # a statement.
    if k + 1 >= len(words):
        return False
    after = words[k + 1]
    if (len(after) > 1 and after.isupper()) or after.lower() in _DETERMINERS:
        return True
    return after.lower() not in STOPWORDS and set(lemmas(after)) <= {"ADJ"}


@dataclass(frozen=True)
class Clause:
    """What one clause says, as far as the checks read it."""

    text: str
    content: frozenset[str]
    words: frozenset[str]
    negated: bool
    modal: Modal
    poles: tuple[tuple[str, str, str], ...]  # (direction, side, marker)
    entities: tuple[tuple[str, str], ...]  # (kind, name)

    def named(self, kind: str) -> set[str]:
        return {n for k, n in self.entities if k == kind}


class MeaningCheck:
    """Compares a reworded sentence with the passages it cites; :meth:`check` says what changed."""

    def __init__(self, spec: MeaningFile, extra_entities: list[Entity] | tuple[Entity, ...] = ()):
        self.spec = spec
        self.breaks = re.compile("|".join(f"(?:{p})" for p in spec.clause_breaks), re.IGNORECASE)
        self.symbols = sorted(spec.symbols.items(), key=lambda kv: -len(kv[0]))
        self.neutral = [(compile_phrase(k), f" {v} ") for k, v in spec.neutral_phrases.items()]
        # Every marker as (group, side, marker): ("neg", "", "not"), ("modal", "possibility",
        # "may"), ("size", "a", "small"). Phrases are read first, longest first.
        keys = [("neg", "", m) for m in spec.negations]
        keys += [
            ("modal", k, m)
            for k in ("obligation", "possibility")
            for m in getattr(spec.modality, k)
        ]
        keys += [
            (d.name, side, m) for d in spec.directions for side in "ab" for m in getattr(d, side)
        ]
        phrases = sorted((k for k in keys if " " in k[2]), key=lambda k: -len(k[2]))
        self.phrases = [(k, compile_phrase(k[2])) for k in phrases]
        self.singles: dict[str, list[tuple[str, str, str]]] = {}
        for k in keys:
            if " " not in k[2]:
                self.singles.setdefault(k[2], []).append(k)
        self.negations = frozenset(spec.negations)
        self.prefixes = sorted(spec.negating_prefixes, key=len, reverse=True)
        entities = list(spec.entities) + [
            e for e in extra_entities if all(e.name != x.name for x in spec.entities)
        ]
        self.entities = [(e.kind, e.name, [compile_phrase(n) for n in e.names]) for e in entities]
        self.generic = frozenset(e.name for e in entities if e.generic)

    @classmethod
    def from_rules(cls, rules: Rules) -> MeaningCheck:
        """The check for a rules folder: its ``meaning.yaml`` and the drugs of its subjects."""
        drugs = [
            Entity(name=s.name, kind="drug", names=[s.name, *s.aliases])
            for s in rules.subjects.subjects
            if s.kind == "drug"
        ]
        return cls(load_meaning(rules.folder), drugs)

    # --- reading -------------------------------------------------------------------------------

    def _normal(self, text: str) -> str:
        text = text.lower().replace("’", "'")
        for sym, word in self.symbols:
            text = text.replace(sym, word)
        for rx, meaning in self.neutral:
            text = rx.sub(meaning, text)
        return text

    def named(self, text: str) -> set[tuple[str, str]]:
        """The ``(kind, name)`` of every drug and population ``text`` names."""
        return {(k, n) for k, n, rxs in self.entities if any(rx.search(text) for rx in rxs)}

    def clauses(self, sentence: str) -> list[Clause]:
        return list(self._clauses(sentence))

    @lru_cache(maxsize=8192)  # noqa: B019 - one check per guard; the cache is bounded
    def _clauses(self, sentence: str) -> tuple[Clause, ...]:
        normal = self._normal(sentence)
        parts = [p for p in self.breaks.split(normal) if p and p.strip()]
        return tuple(
            self._clause(part, k == 0, sentence if k == 0 else "") for k, part in enumerate(parts)
        )

    def _clause(self, text: str, first: bool, original: str = "") -> Clause:
        hits: list[tuple[str, str, str]] = []
        rest = text
        for key, rx in self.phrases:
            if rx.search(rest):
                hits.append(key)
                rest = rx.sub(" ", rest)
        words = _WORD.findall(rest)
        for w in words:
            for f in forms(w):
                hits.extend(self.singles.get(f, ()))
        negated = any(k[0] == "neg" for k in hits) or any(w.endswith("n't") for w in words)
        kinds = {k[1] for k in hits if k[0] == "modal"}
        modal: Modal = (
            "obligation"
            if "obligation" in kinds
            else "possibility"
            if "possibility" in kinds
            else self.spec.modality.imperative
            if first and _imperative(_WORD.findall(original))
            else "none"
        )
        poles = tuple(sorted({k for k in hits if k[0] not in ("neg", "modal")}))
        return Clause(
            text.strip(),
            frozenset(content_tokens(text)),
            frozenset(_WORD.findall(text)),
            negated,
            modal,
            poles,
            tuple(sorted(self.named(text))),
        )

    # --- comparing -----------------------------------------------------------------------------

    def _swaps(self, a: Clause, b: Clause) -> list[str]:
        """Words of ``a`` that are a negated form of a word of ``b`` ("unsafe" / "safe")."""
        out = []
        for w in a.words - b.words:
            if w in self.negations:
                continue
            for p in self.prefixes:
                base = w[len(p) :].lstrip("-")
                if w.startswith(p) and len(base) >= 4 and base in b.words:
                    if p.endswith("-") or _adjective(w):
                        out.append(f"{w!r} for {base!r}")
                    break
        return out

    def _polarity(self, d: Clause, s: Clause) -> str | None:
        """A negation added or removed; "not safe" and "unsafe" are both negated."""
        mine, theirs = self._swaps(d, s), self._swaps(s, d)
        if (d.negated or bool(mine)) == (s.negated or bool(theirs)):
            return None
        if mine or theirs:
            return f"negation changed ({(mine or theirs)[0]})"
        return "a negation " + ("added" if d.negated else "removed")

    def _modality(self, d: Clause, s: Clause) -> str | None:
        if d.modal in self.spec.modality.allowed[s.modal]:
            return None
        return f"modality changed (the source states {s.modal}, the sentence {d.modal})"

    @staticmethod
    def _direction(d: Clause, s: Clause) -> str | None:
        for name in sorted({p[0] for p in d.poles}):
            ds = {p[1]: p[2] for p in d.poles if p[0] == name}
            ss = {p[1]: p[2] for p in s.poles if p[0] == name}
            if len(ds) == 1 and len(ss) == 1 and ds.keys() != ss.keys():
                (was,), (now,) = ss.values(), ds.values()
                return f"{name} reversed ({was!r} -> {now!r})"
        return None

    def align(self, clause: Clause, candidates: list[Clause]) -> list[Clause]:
        """The source clauses most like ``clause``, best first (empty when none shares enough
        content words): the best one, and any other sharing nearly as many."""
        scored = []
        for k, c in enumerate(candidates):
            shared = len(clause.content & c.content)
            if shared >= self.spec.min_shared_words:
                union = len(clause.content | c.content) or 1
                scored.append((shared, shared / union, -k, c))
        if not scored:
            return []
        scored.sort(key=lambda t: t[:3], reverse=True)
        best = scored[0][0]
        floor = max(self.spec.min_shared_words, math.ceil(best / 2))
        return [t[3] for t in scored if t[0] >= floor]

    def check(self, sentence: str, cited: list[Passage]) -> str | None:
        """Why ``sentence`` changes the meaning of the ``cited`` passages; None when it does not."""
        pool = self.named(" ".join(p.stated for p in cited))
        for kind, name in sorted(self.named(sentence) - pool):
            if name not in self.generic:
                return f"names the {kind} {name!r}, which the cited passages do not"
        source: list[Clause] = []
        for p in cited:
            for text in ([p.lead] if p.lead else []) + [s.text for s in p.sentences]:
                source.extend(self._clauses(text))
        for clause in self._clauses(sentence):
            if not clause.content:
                continue
            aligned = self.align(clause, source)
            if not aligned:
                continue
            best = aligned[0]
            reasons = [
                r
                for r in (
                    self._polarity(clause, best),
                    self._modality(clause, best),
                    self._direction(clause, best),
                    self._attribution(clause, aligned),
                )
                if r
            ]
            if reasons:
                return f"{'; '.join(reasons)}, against {best.text!r}"
        return None

    @staticmethod
    def _attribution(clause: Clause, aligned: list[Clause]) -> str | None:
        for kind in ("drug", "population"):
            mine = clause.named(kind)
            theirs = set().union(*(c.named(kind) for c in aligned))
            extra = sorted(mine - theirs)
            if extra and theirs:
                return (
                    f"says of {', '.join(extra)} what the source says of "
                    f"{', '.join(sorted(theirs))}"
                )
        return None
