"""Sentence vectors: every sentence embedded in its context, stored beside the passage index.

They are computed at ingest, only for context texts not stored yet (ids are content hashes), in a
second Chroma collection, and loaded once as one matrix. At query time nothing more is embedded:
the question's vector is the one retrieval computed, and a sentence's meaning score is its cosine
similarity to the question minus the question's median similarity over all sentences.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .embeddings import LocalEmbeddingFunction
from .index import VectorIndex
from .structure import Structure

log = logging.getLogger(__name__)

PAGE = 5000  # ids read in one get


def _collection(index: VectorIndex):
    return index.client.get_or_create_collection(
        name=f"{index.settings.collection}-sentences",
        embedding_function=LocalEmbeddingFunction(index.embed),
        configuration={"hnsw": {"space": "cosine"}},
    )


def sync_sentences(index: VectorIndex, structure: Structure, batch: int = 256) -> int:
    """Store a vector for every sentence context of ``structure``; drop stale ones. Returns how
    many were embedded."""
    col = _collection(index)
    keys = structure.keys()
    texts = {key: structure.contexts[k] for k, key in keys.items()}
    have: set[str] = set()
    while len(got := col.get(include=[], limit=PAGE, offset=len(have))["ids"]):
        have.update(got)
    new = sorted(k for k in texts if k not in have)
    stale = sorted(have - texts.keys())
    for k in range(0, len(stale), batch):
        col.delete(ids=stale[k : k + batch])
    for k in range(0, len(new), batch):
        ids = new[k : k + batch]
        docs = [texts[i] for i in ids]
        col.add(ids=ids, documents=docs, embeddings=np.asarray(index.embed(docs), np.float32))
    if new or stale:
        log.info("sentence vectors: %d added, %d removed", len(new), len(stale))
    return len(new)


@dataclass(frozen=True)
class SentenceVectors:
    """Stored sentence vectors, one matrix row per sentence context."""

    rows: dict[tuple[str, int], int]  # (passage id, sentence start) -> row
    matrix: np.ndarray  # rows x dimensions, unit length
    _keys: list = field(default_factory=list, compare=False, repr=False)  # row -> (pid, start)
    _groups: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def empty(cls) -> SentenceVectors:
        return cls({}, np.zeros((0, 0), np.float32))

    @classmethod
    def load(cls, index: VectorIndex | None, structure: Structure) -> SentenceVectors:
        """The stored vectors of ``structure``'s sentences; sentences never stored have none."""
        if index is None or not structure.contexts:
            return cls.empty()
        keys = structure.keys()
        wanted = sorted(set(keys.values()))
        col, ids, found = _collection(index), [], []
        for k in range(0, len(wanted), PAGE):  # a page at a time: SQLite limits a query's ids
            got = col.get(ids=wanted[k : k + PAGE], include=["embeddings"])
            if got.get("embeddings") is not None:
                ids += got["ids"]
                found += list(got["embeddings"])
        if not ids:
            return cls.empty()
        at = {key: k for k, key in enumerate(ids)}
        rows = {s: at[key] for s, key in keys.items() if key in at}
        return cls(rows, np.asarray(found, np.float32))

    def __len__(self) -> int:
        return len(self.rows)

    def relative(self, query_vector) -> Meaning | None:
        """Each sentence's similarity to the question, minus the question's median similarity."""
        if query_vector is None or not self.rows:
            return None
        q = np.asarray(query_vector, np.float32)
        if q.shape[0] != self.matrix.shape[1]:
            return None  # vectors of another model: ingest again to refresh them
        sims = self.matrix @ q
        return Meaning(self.rows, sims - float(np.median(sims)), self)

    def keys(self) -> list:
        """``(passage id, start)`` of each row (None for a row no sentence has); read once."""
        if not self._keys:
            at: list = [None] * len(self.matrix)
            for key, row in self.rows.items():
                at[row] = key
            self._keys.extend(at)
        return self._keys

    def grouped(self, key, passages) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``passages``' sentences in one array (-1: a sentence with no vector) and
        where each passage's start, cached under ``key`` (the passages must not change)."""
        if key not in self._groups:
            rows, starts = [], []
            for p in passages:
                starts.append(len(rows))
                rows += [self.rows.get((p.id, s.start), -1) for s in p.sentences]
            self._groups[key] = (np.asarray(rows, np.int64), np.asarray(starts, np.int64))
        return self._groups[key]


@dataclass(frozen=True)
class Meaning:
    """Relative similarities of one question to the stored sentences."""

    rows: dict[tuple[str, int], int]
    values: np.ndarray
    vectors: SentenceVectors | None = None  # what they were computed from (its row index)

    def __call__(self, passage_id: str, start: int) -> float:
        row = self.rows.get((passage_id, start))
        return 0.0 if row is None else float(self.values[row])

    def best(self, n: int, floor: float) -> list[tuple[str, int]]:
        """The ``n`` sentences most similar to the question, at least ``floor`` above its
        median, as ``(passage id, start)``."""
        if n <= 0 or not len(self.values):
            return []
        if self.vectors is not None:
            at = self.vectors.keys()
        else:
            at = [None] * len(self.values)
            for key, row in self.rows.items():
                at[row] = key
        top = np.flatnonzero(self.values >= floor)
        if len(top) > n:  # the n best (and any tied with the last), without sorting them all
            nth = np.partition(self.values[top], len(top) - n)[len(top) - n]
            top = top[self.values[top] >= nth]
        order = top[np.argsort(-self.values[top], kind="stable")][:n]
        return [at[int(r)] for r in order if at[int(r)] is not None]

    def closest(self, key, passages: list, n: int) -> list:
        """The ``n`` of ``passages`` whose best sentence is closest in meaning (a sentence with no
        vector counts 0), in that order, ties in the given order; ``key`` names the list."""
        if n <= 0 or not passages:
            return []
        if self.vectors is None:
            best = [max(self(p.id, s.start) for s in p.sentences) for p in passages]
            return [passages[k] for k in sorted(range(len(best)), key=lambda k: -best[k])[:n]]
        rows, starts = self.vectors.grouped(key, passages)
        values = np.where(rows >= 0, self.values[np.maximum(rows, 0)], np.float32(0.0))
        best = np.maximum.reduceat(values, starts)
        return [passages[int(k)] for k in np.argsort(-best, kind="stable")[:n]]
