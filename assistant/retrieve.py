"""Hybrid retrieval: dense (Chroma) plus keyword (BM25), fused by reciprocal rank."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import text as _text
from .bm25 import OkapiIndex, fingerprint
from .corpus import Corpus, Passage
from .text import QUESTION_WORDS, STOPWORDS, Speller, lemmas, raw_tokens, stem, tokens
from .tuning import RetrievalTuning

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .index import VectorIndex
    from .langchain_retriever import LangChainRetriever


@dataclass(frozen=True)
class QueryTerms:
    """A query's words as the keyword index reads them."""

    own: tuple[str, ...]
    expansions: tuple[str, ...]
    unknown: tuple[str, ...]
    corrected: tuple[tuple[str, str], ...]
    said_as: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # lay words -> term

    @property
    def all(self) -> list[str]:
        return [*self.own, *self.expansions]


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with the evidence for it."""

    passage: Passage
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float = 0.0


@dataclass(frozen=True)
class TermEvidence:
    """What the corpus says about one query word: later stages judge scope and weight by it."""

    passages: int  # how many passages use the word
    idf: float
    specific: bool  # in few passages ("als" is in most of them)
    known: bool  # the corpus uses it, in this or another form


@dataclass(frozen=True)
class Retrieval:
    """The result of one search: hits best first, and what the query's words found."""

    query: str
    mode: str
    hits: tuple[Hit, ...]
    best_similarity: float
    terms: tuple[str, ...]  # the question's own words (spelling corrected)
    unknown_terms: tuple[str, ...]
    corrected: tuple[tuple[str, str], ...] = ()
    expansions: tuple[str, ...] = ()  # corpus wording added for lay words and attributes
    said_as: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # lay words -> term
    evidence: dict[str, TermEvidence] = field(default_factory=dict)  # terms and expansions
    query_vector: tuple[float, ...] | None = None  # the query as the dense index embedded it

    def specific(self, term: str) -> bool:
        e = self.evidence.get(term)
        return e.specific if e else True

    def idf(self, term: str) -> float:
        return self.evidence[term].idf


def _verb(word: str) -> bool:
    """A word that can be a verb and not an adverb or adjective ("have"; not "up", "much")."""
    forms = lemmas(word)
    return "VERB" in forms and not {"ADV", "ADJ"} & set(forms)


def _keyword_text(p: Passage) -> str:
    return " ".join(filter(None, [" ".join(p.section), p.lead or "", p.body]))


def keyword_stamp(passages: list[Passage]) -> str:
    """What the saved BM25 weights of ``passages`` (disclaimers left out) were made from: their
    keyword texts, and the tokenizer's own code."""
    texts = [_keyword_text(p) for p in passages if p.kind != "disclaimer"]
    return fingerprint(texts, Path(_text.__file__).read_text(encoding="utf-8"))


_WHOLE = "="  # marks a phrase matched with its stopwords


def _spelt_right(text: str, corrected) -> str:
    """``text`` with each misspelt word replaced by its correction, as the model reads it."""
    for wrong, right in corrected:
        text = re.sub(rf"\b{re.escape(wrong)}\b", right, text, flags=re.I)
    return text


class KeywordIndex:
    """BM25 over passage text with its section and lead-in; knows the corpus vocabulary."""

    def __init__(
        self,
        passages: list[Passage],
        synonyms: dict[str, list[str]] | None = None,
        english: frozenset[str] = frozenset(),
        hints: dict[str, list[str]] | None = None,
        ubiquitous_share: float = 0.2,
        saved: Path | None = None,
        stamp: str | None = None,
    ):
        """Args:
        passages: the corpus passages (disclaimers are left out).
        synonyms: lay phrase -> clinical term words; a translation, so it counts as the
            question's own words (also for scope).
        english: ordinary English words, never "corrected" to a corpus word.
        hints: attribute -> how the corpus words it ("side effects" -> "may cause"); used for
            ranking only, never as evidence that the corpus covers the question.
        saved: a folder where the BM25 weights are kept: loaded (memory-mapped) when built from
            the same passages, else built and saved there.
        stamp: :func:`keyword_stamp` of ``passages``, when already known.
        """
        self.passages = [p for p in passages if p.kind != "disclaimer"]
        self.bm25 = self._okapi(self.passages, saved, stamp) if self.passages else None
        self.df = self.bm25.df if self.bm25 else {}
        self.n_docs = max(len(self.passages), 1)
        self.ubiquitous_share = ubiquitous_share
        self.speller = Speller(self.df, english)
        # Keys are matched against the query's tokens with stopwords removed (normalised alike),
        # or, marked, as written (see _normalised).
        self.synonyms = self._normalised(synonyms or {})
        self.hints = self._normalised(hints or {})

    @staticmethod
    def _okapi(passages: list[Passage], saved: Path | None, stamp: str | None) -> OkapiIndex:
        stamp = stamp or keyword_stamp(passages)
        if saved is not None and (index := OkapiIndex.load(saved, stamp)) is not None:
            return index
        index = OkapiIndex.build([tokens(_keyword_text(p)) for p in passages], stamp)
        if saved is not None:
            try:
                index.save(saved)
            except OSError as exc:
                log.warning("could not save the keyword index to %s: %s", saved, exc)
        return index

    def _normalised(self, table: dict[str, list[str]]) -> dict[str, list[str]]:
        """Keys without their stopwords ("trouble with swallowing" ~ "trouble swallowing",
        "too much spit" ~ "spit"); a phrase left with only words that name nothing that way
        ("how many people get als" -> "people als", which "does exercise help people with als"
        holds), or that loses a verb before words the documents never use ("have kids" -> "kid"),
        keeps them, and is matched as written."""
        out: dict[str, list[str]] = {}
        for phrase, expansion in table.items():
            words = phrase.split()
            kept = [t for t in words if t not in STOPWORDS]
            key = " ".join(kept)
            generic = all(t in QUESTION_WORDS or not self.is_specific(t) for t in kept)
            # A verb dropped before words the documents never use carried the meaning: "have
            # kids" is not "kids" ("too much spit" is "spit"; "can't swallow" keeps "swallow").
            verb = any(_verb(t) for t in words if t in STOPWORDS)
            unused = verb and not any(t in self.df for t in kept)
            if key and len(kept) < len(words) and (generic or unused):
                key = f"{_WHOLE}{phrase}"
            if key:
                out.setdefault(key, []).extend(expansion)
        return out

    @staticmethod
    def _matched(table: dict[str, list[str]], joined: str, whole: str) -> list[str]:
        """The table's phrases that ``joined`` (without stopwords) or ``whole`` (as written)
        holds."""
        return [
            key
            for key in table
            if (
                f" {key.removeprefix(_WHOLE)} " in whole
                if key.startswith(_WHOLE)
                else f" {key} " in joined
            )
        ]

    @classmethod
    def _found(cls, table: dict[str, list[str]], joined: str, whole: str) -> list[str]:
        """The expansions of the table's phrases that the query holds (:meth:`_matched`)."""
        return [t for key in cls._matched(table, joined, whole) for t in table[key]]

    def is_specific(self, token: str) -> bool:
        """A word in few passages; one in most of them ("als") says nothing about the topic."""
        return self.df.get(token, 0) / self.n_docs < self.ubiquitous_share

    def idf(self, token: str) -> float:
        return math.log(1 + self.n_docs / (1 + self.df.get(token, 0)))

    def evidence(self, token: str) -> TermEvidence:
        known = token in self.df or self.speller.known_form(token) is not None
        return TermEvidence(self.df.get(token, 0), self.idf(token), self.is_specific(token), known)

    def analyse(self, query: str) -> QueryTerms:
        """The query's words after spelling correction, the corpus wording they expand to, the
        words the corpus does not know (as written) and the corrections made."""
        own, unknown, corrected = [], [], []
        for raw in raw_tokens(query):
            if raw in STOPWORDS:
                continue
            tok = stem(raw)
            fixed = self.speller.correct(tok) or self.speller.known_form(tok)
            parts = None if fixed else self._closed_compound(tok)
            if parts:  # "noninvasive": the corpus writes "non-invasive"
                corrected.append((raw, " ".join(parts)))
                own += parts
                continue
            if fixed is None:
                unknown.append(raw)  # as written: scope judges the word, not its stem
                own.append(tok)
                continue
            if fixed != tok:
                corrected.append((raw, fixed))
            own.append(fixed)
        joined = f" {' '.join(own)} "
        whole = f" {' '.join(tokens(query))} "
        said_as = tuple(
            (tuple(key.removeprefix(_WHOLE).split()), tuple(self.synonyms[key]))
            for key in self._matched(self.synonyms, joined, whole)
        )
        own += [t for _, term in said_as for t in term]
        added = self._found(self.hints, joined, whole)
        return QueryTerms(tuple(own), tuple(added), tuple(unknown), tuple(corrected), said_as)

    def _closed_compound(self, token: str) -> list[str] | None:
        """Two corpus words written as one ("noninvasive" ~ "non-invasive"), or None."""
        if not token.isalpha() or len(token) < 7 or token in self.speller.english:
            return None
        if lemmas(token):
            return None  # an English word of its own ("sometimes", "outlook")
        for i in range(3, len(token) - 3):
            head, tail = token[:i], stem(token[i:])
            if head in self.df and tail in self.df and len(tail) >= 4:
                return [head, tail]
        return None

    def search(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        if not self.bm25:
            return []
        return self.bm25.top([t for t in query_tokens if t not in STOPWORDS], k)


class HybridRetriever:
    """Dense + keyword retrieval over one corpus and its vector index."""

    def __init__(
        self,
        corpus: Corpus,
        index: VectorIndex | None,
        keyword: KeywordIndex,
        mode: str = "hybrid",
        tuning: RetrievalTuning | None = None,
    ):
        self.tuning = tuning or RetrievalTuning()
        self.index = index
        self.keyword = keyword
        self.mode = mode
        self.by_id = {p.id: p for p in corpus.passages}
        self.by_section: dict[tuple[str, tuple[str, ...]], list[Passage]] = {}
        for p in corpus.passages:
            if p.kind != "disclaimer":
                self.by_section.setdefault((p.doc_id, p.section), []).append(p)

    def search(
        self,
        query: str,
        k: int = 8,
        mode: str | None = None,
        sections: tuple[tuple[str, tuple[str, ...]], ...] = (),
    ) -> Retrieval:
        """Retrieve the ``k`` best passages for ``query``.

        Args:
            query: the (possibly rewritten) search query.
            k: number of hits to return.
            mode: ``"hybrid"`` (default), ``"dense"`` or ``"keyword"``.
            sections: ``(doc id, section path)`` a conversation already cited, nearest first:
                a follow-up's third ranked list, fused like the other two (each section's
                passages share its rank).
        """
        mode = mode or self.mode
        words = self.keyword.analyse(query)
        pool = max(k * self.tuning.pool_factor, self.tuning.min_pool)
        rrf_k = self.tuning.rrf_k
        dense: list[tuple[str, float]] = []
        similarity: dict[str, float] = {}
        query_vector = None
        if self.index is not None:
            # The model sees the user's sentence, with only the misspelt words fixed.
            query_vector = tuple(self.index.query_embed([_spelt_right(query, words.corrected)])[0])
            dense = [
                (i, s) for i, s in self.index.query(list(query_vector), pool) if i in self.by_id
            ]
            similarity = dict(dense)
        kw = [(self.keyword.passages[i].id, s) for i, s in self.keyword.search(words.all, pool)]
        fused: dict[str, float] = {}
        dense_rank = {pid: r for r, (pid, _) in enumerate(dense)}
        kw_rank = {pid: r for r, (pid, _) in enumerate(kw)}
        if mode in ("hybrid", "dense"):
            for pid, r in dense_rank.items():
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (rrf_k + r + 1)
        if mode in ("hybrid", "keyword"):
            for pid, r in kw_rank.items():
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (rrf_k + r + 1)
        for r, key in enumerate(sections):
            for p in self.by_section.get(key, ()):
                fused[p.id] = fused.get(p.id, 0.0) + 1.0 / (rrf_k + r + 1)
        ranked = sorted(fused, key=lambda pid: (-fused[pid], pid))[:k]
        hits = tuple(
            Hit(
                self.by_id[pid],
                fused[pid],
                dense_rank.get(pid),
                kw_rank.get(pid),
                similarity.get(pid, 0.0),
            )
            for pid in ranked
        )
        return Retrieval(
            query=query,
            mode=mode,
            hits=hits,
            best_similarity=max(similarity.values(), default=0.0),
            terms=words.own,
            expansions=words.expansions,
            said_as=words.said_as,
            unknown_terms=tuple(dict.fromkeys(words.unknown)),
            corrected=words.corrected,
            evidence={t: self.keyword.evidence(t) for t in (*words.own, *words.expansions)},
            query_vector=query_vector,
        )

    def asking(self, found: Retrieval, asked: str | None, share: float) -> Retrieval:
        """``found`` with its question vector moved ``share`` of the way to the vector of
        ``asked`` (the sentences that ask, beside a story): what sentences' meaning is
        measured against. Unchanged without them, a share, or a dense index."""
        if not asked or share <= 0 or self.index is None or found.query_vector is None:
            return found
        whole = np.asarray(found.query_vector, np.float32)
        own = np.asarray(
            self.index.query_embed([_spelt_right(asked, found.corrected)])[0], np.float32
        )
        blend = (1.0 - share) * whole + share * own
        norm = float(np.linalg.norm(blend)) or 1.0
        return replace(found, query_vector=tuple((blend / norm).tolist()))

    def terms_of(self, text: str) -> frozenset[str]:
        """The words of ``text`` as the keyword index reads them (spelling corrected, expanded)."""
        return frozenset(self.keyword.analyse(text).all)

    def as_langchain(self, k: int = 8) -> LangChainRetriever:
        """This retriever as a langchain ``BaseRetriever`` (imports langchain on first use)."""
        from .langchain_retriever import LangChainRetriever

        return LangChainRetriever(hybrid=self, k=k)


def __getattr__(name: str):
    """``LangChainRetriever`` and ``to_langchain`` live in their own module, loaded on demand."""
    if name in ("LangChainRetriever", "to_langchain"):
        from . import langchain_retriever

        return getattr(langchain_retriever, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
