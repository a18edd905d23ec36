"""Aspects (``rules/aspects.yaml``): what a question asks about its topic (management, dose,
findings, ...) and how a heading, lead-in or sentence that answers it is worded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from .datafile import load_yaml
from .text import tokens

if TYPE_CHECKING:
    from .structure import Structure

ASPECTS_FILE = Path(__file__).parent / "rules" / "aspects.yaml"


class Aspect(BaseModel):
    """One thing a question can ask about its topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asks: list[str] = Field(
        min_length=1,
        description="question wording that asks for it; '...' stands for a few words of one "
        "clause ('how ... take' is 'how am I supposed to take it')",
    )
    answers: list[str] = Field(min_length=1, description="heading or sentence words answering it")
    fallback: bool = Field(False, description="asked only when the question asks nothing else")
    unless: list[str] = Field(
        default_factory=list,
        description="wording that, beside its asking words, means the question asks something "
        "else: 'how long does it *take*' asks a duration, not survival",
    )
    telling: list[str] = Field(
        default_factory=list,
        description="wording in which its asking words tell when or about whom, not what is "
        "asked: 'live *after being diagnosed*' dates the question, it does not ask for the "
        "diagnosis; read past",
    )
    generic_asks: list[str] = Field(
        default_factory=list,
        description="wording that asks for it only when no other aspect is asked: 'anything "
        "I can do' asks for management, but 'anything I can do to keep from getting it' asks "
        "for prevention",
    )
    opening: bool = Field(False, description="a document's opening paragraph answers it")
    after_tried: bool = Field(
        False,
        description="it asks what comes after what was tried ('and if the pills don't "
        "work?'): the earlier items of a ranked list are context, so a bounded answer cuts "
        "them first",
    )


class AspectsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gap_words: int = Field(
        5,
        ge=1,
        le=8,
        description="at most how many words of one clause a '...' in an asking wording spans",
    )
    aspects: dict[str, Aspect]


# How many (wording, aspects) readings :meth:`Aspects.named` keeps; the corpus's sentences and
# headings under a question's few aspect sets fit many times over.
_NAMED_CACHE = 200_000
# How many question wordings :meth:`Aspects.asked` keeps read (a conversation's few at a time).
_ASKED_CACHE = 1_000

# "who's on it" asks as "who is on it" does (a wh-word's or pronoun's "'s" is "is").
_IS = re.compile(r"\b(who|what|where|when|how|which|it|that|there)['’]s\b", re.IGNORECASE)


# "What do they do *when* the muscles give out?", "What happens *when* he can't talk?", "How
# will we communicate *when* his speech goes?": a "when" after what is done or happens, or how
# one copes, joins a condition to the question; "Who decides when", "criteria for when" ask it.
_CONDITION_WHEN = re.compile(
    r"\b(?:what\b[^,;:.?!]*?\b(?:do|doing|done|happens?|happened)"
    r"|how\b[^,;:.?!]*?\b(?:cope|manage|deal|communicate|handle|live|talk))"
    r"(?:\s+\w+){0,3}?\s+(when)\b",
    re.IGNORECASE,
)


def _clause_when(text: str) -> str:
    """``text`` without each "when" that joins a condition (:data:`_CONDITION_WHEN`): it asks
    no time."""
    for m in reversed(list(_CONDITION_WHEN.finditer(text))):
        text = text[: m.start(1)] + " " + text[m.end(1) :]
    return text


def _phrase(text: str) -> str:
    text = _clause_when(text)
    words = tokens(_IS.sub(r"\1 is", text))
    return f" {' '.join(words)} "


_GAP = "..."
_CLAUSE_END = re.compile(r"[,;:.?!]")


def _gapped(wording: str, gap: int) -> tuple[re.Pattern, frozenset[str]] | None:
    """An asking wording with a '...' gap as a pattern over keyword tokens, with its own words;
    None without a gap."""
    if _GAP not in wording:
        return None
    parts = [_phrase(p).strip() for p in wording.split(_GAP)]
    between = rf" (?:\S+ ){{0,{gap}}}"
    pattern = re.compile(" " + between.join(re.escape(p) for p in parts) + " ")
    return pattern, frozenset(w for p in parts for w in p.split())


def _spans(pattern: re.Pattern, question: str) -> set[str]:
    """The wording ``pattern`` finds within one clause of ``question``, as keyword tokens."""
    found = set()
    for clause in _CLAUSE_END.split(question):
        text = _phrase(clause)
        found |= {m.group(0) for m in pattern.finditer(text)}
    return found


@dataclass(frozen=True)
class Aspects:
    """Aspects with their wording normalised to the keyword tokens."""

    asks: dict[str, tuple[str, ...]]
    answers: dict[str, tuple[str, ...]]
    fallback: frozenset[str]
    opening: frozenset[str] = frozenset()
    after_tried: frozenset[str] = frozenset()
    generic: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unless: dict[str, tuple[str, ...]] = field(default_factory=dict)
    telling: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gapped: dict[str, tuple[tuple[re.Pattern, frozenset[str]], ...]] = field(default_factory=dict)
    _saying: dict = field(default_factory=dict, compare=False, repr=False)
    _saying_any: dict = field(default_factory=dict, compare=False, repr=False)
    _named: dict = field(default_factory=dict, compare=False, repr=False)
    _asked: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, folder: Path | None = None) -> Aspects:
        """``aspects.yaml`` of a rules folder (the packaged file when the folder has none)."""
        path = folder / "aspects.yaml" if folder and (folder / "aspects.yaml").exists() else None
        loaded = load_yaml(path or ASPECTS_FILE, AspectsFile)
        data, gap = loaded.aspects, loaded.gap_words
        return cls(
            {k: tuple(_phrase(a) for a in v.asks if _GAP not in a) for k, v in data.items()},
            {k: tuple(_phrase(a) for a in v.answers) for k, v in data.items()},
            frozenset(k for k, v in data.items() if v.fallback),
            frozenset(k for k, v in data.items() if v.opening),
            frozenset(k for k, v in data.items() if v.after_tried),
            {k: tuple(_phrase(a) for a in v.generic_asks) for k, v in data.items()},
            {k: tuple(_phrase(a) for a in v.unless) for k, v in data.items()},
            {k: tuple(_phrase(a) for a in v.telling) for k, v in data.items()},
            {k: tuple(filter(None, (_gapped(a, gap) for a in v.asks))) for k, v in data.items()},
        )

    def _asking(self, question: str, text: str) -> tuple[dict[str, tuple[str, ...]], dict]:
        """Each aspect's asking wording, a gapped one as the words it spans in ``question``
        (``text`` its keyword tokens), with the words of each span that ask (its anchors).

        A span around another aspect's asking wording asks that one ("how long does it take"
        asks a duration, not a dose)."""
        found = {
            k: [
                (w, own)
                for g, own in self.gapped.get(k, ())
                if all(f" {t} " in text for t in own)  # its own words are there at all
                for w in _spans(g, question)
            ]
            for k in self.asks
        }
        if not any(found.values()):
            return self.asks, {}
        plain = [p for ps in self.asks.values() for p in ps if p in text]
        anchors = {w: own for ws in found.values() for w, own in ws}
        spans = {k: {w for w, _ in ws} for k, ws in found.items()}
        keep = {
            k: tuple(
                sorted(w for w in ws if not any(p in w for p in plain if p not in self.asks[k]))
            )
            for k, ws in spans.items()
        }
        return {k: (*ps, *keep[k]) for k, ps in self.asks.items()}, anchors

    def asked(self, question: str) -> tuple[frozenset[str], frozenset[str]]:
        """The aspects ``question`` asks for, and the question's words that ask for them (read
        once per wording: the stages of one answer ask it of the same sentences)."""
        found = self._asked.get(question)
        if found is None:
            if len(self._asked) > _ASKED_CACHE:
                self._asked.clear()
            found = self._asked[question] = self._read(question)
        return found

    def _read(self, question: str) -> tuple[frozenset[str], frozenset[str]]:
        text = _phrase(question)
        asks, anchors = self._asking(question, text)
        said = {k: self._past(text, k) for k in asks}  # its telling wording read past
        matched = {k: [p for p in phrases if p in said[k]] for k, phrases in asks.items()}
        longer = [p for ps in matched.values() for p in ps]

        def own(k: str, p: str) -> bool:
            """``p`` asks for ``k`` somewhere it does not end another aspect's longer question
            frame ("help" in "does it help" asks how much it helps, not how to treat; "risk"
            in "risk of" still asks for the risk)."""
            inside = sum(
                said[k].count(q) for q in longer if q.endswith(p) and q != p and q not in matched[k]
            )
            return said[k].count(p) > inside

        found = {
            k
            for k, ps in matched.items()
            if any(own(k, p) for p in ps) and not any(p in text for p in self.unless.get(k, ()))
        }
        if not found - self.fallback:  # only generic wording ("what can I do?") asks then
            found |= {k for k, phrases in self.generic.items() if any(p in text for p in phrases)}
        if found - self.fallback:
            found -= self.fallback
        phrases = {k: (*asks[k], *self.generic.get(k, ())) for k in found}
        words = {
            t
            for k in found
            for p in phrases[k]
            if p in said[k]
            for t in p.split()
            if p not in anchors or t in anchors[p]
        }
        return frozenset(found), frozenset(words)

    def _past(self, text: str, aspect: str) -> str:
        """``text`` with the aspect's telling wording read past (each replaced by a gap)."""
        for p in self.telling.get(aspect, ()):
            text = text.replace(p, " | ")
        return text

    def saying(self, structure: Structure, aspect: str) -> list[str]:
        """The passages with a sentence that names ``aspect`` ("Most patients die within ..."
        names prognosis), in corpus order; read once per corpus."""
        key = (id(structure), aspect)
        if key not in self._saying:
            # Only passages using a first word of the aspect's wording can name it.
            firsts = [c.split()[:1] for c in self.answers[aspect]]
            maybe = (
                {pid for w in firsts for pid in structure.using(w[0])}
                if all(firsts)
                else set(structure.passages)
            )
            self._saying[key] = [
                p.id
                for pid, p in structure.passages.items()
                if pid in maybe
                and any(aspect in self.named(structure.said(p, s)) for s in p.sentences)
            ]
        return self._saying[key]

    def saying_any(self, structure: Structure, aspects: frozenset[str]) -> frozenset[str]:
        """The passages with a sentence that names one of ``aspects`` (:meth:`saying`)."""
        key = (id(structure), aspects)
        if key not in self._saying_any:
            self._saying_any[key] = frozenset(
                pid for a in aspects for pid in self.saying(structure, a)
            )
        return self._saying_any[key]

    def cues(self, aspects: frozenset[str]) -> frozenset[str]:
        """Every word that asks for or answers one of ``aspects`` (not words of a topic)."""
        phrases = [p for k in aspects for p in (*self.asks[k], *self.answers[k])]
        return frozenset(w for p in phrases for w in p.split())

    def named(self, words: list[str], among: frozenset[str] | None = None) -> frozenset[str]:
        """The aspects (of ``among``, when given) whose answering wording occurs in ``words``
        (tokens, in order)."""
        text = f" {' '.join(words)} "
        key = (text, among)
        found = self._named.get(key)
        if found is None:  # the corpus's sentences and headings, read once each
            if len(self._named) > _NAMED_CACHE:
                self._named.clear()
            keys = self.answers if among is None else among
            found = frozenset(k for k in keys if any(c in text for c in self.answers[k]))
            self._named[key] = found
        return found
