"""Sentence vectors: every sentence embedded in its context, stored beside the passage index.

They are computed at ingest, only for context texts not stored yet (ids are content hashes), in a
second Chroma collection, and loaded once as one matrix. At query time nothing more is embedded:
the question's vector is the one retrieval computed, and a sentence's meaning score is its cosine
similarity to the question minus the question's median similarity over all sentences.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
        return Meaning(self.rows, sims - float(np.median(sims)))


@dataclass(frozen=True)
class Meaning:
    """Relative similarities of one question to the stored sentences."""

    rows: dict[tuple[str, int], int]
    values: np.ndarray

    def __call__(self, passage_id: str, start: int) -> float:
        row = self.rows.get((passage_id, start))
        return 0.0 if row is None else float(self.values[row])

    def best(self, n: int, floor: float) -> list[tuple[str, int]]:
        """The ``n`` sentences most similar to the question, at least ``floor`` above its
        median, as ``(passage id, start)``."""
        if n <= 0 or not len(self.values):
            return []
        at = {row: key for key, row in self.rows.items()}
        order = np.argsort(-self.values, kind="stable")[:n]
        return [at[int(r)] for r in order if self.values[r] >= floor and int(r) in at]
