"""The keyword index's BM25 weights, built once at ingest and memory-mapped at every start.

The scoring is rank_bm25's ``BM25Okapi`` (k1 1.5, b 0.75, negative idf floored at a quarter of
the mean idf), the reference: its weights are computed by rank_bm25 itself, one per (passage,
word), in the same float64 arithmetic, and held as a bm25s sparse matrix, which bm25s saves and
memory-maps. A query's scores are the same sums in the same order, so the ranking is
rank_bm25's exactly; a query costs a few sparse columns instead of a pass over every passage.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = "okapi-1"  # bump when the stored weights change meaning


def _bm25s():
    import bm25s  # imports scipy.sparse: only when an index is built or loaded

    return bm25s


class OkapiIndex:
    """Passages x words BM25Okapi weights; rows are passages in the order given."""

    def __init__(self, engine, fingerprint: str):
        self.engine = engine  # a bm25s.BM25 holding the weights (float64)
        self.fingerprint = fingerprint
        self.vocab: dict[str, int] = engine.vocab_dict
        indptr = np.asarray(engine.scores["indptr"])
        # Passages using each word, straight from the matrix's column lengths.
        self.df = dict(
            zip(self.vocab, np.diff(indptr)[list(self.vocab.values())].tolist(), strict=True)
        )

    @classmethod
    def build(cls, docs: Sequence[list[str]], fingerprint: str) -> OkapiIndex:
        """The weights of rank_bm25's ``BM25Okapi(docs)``."""
        from rank_bm25 import BM25Okapi

        okapi = BM25Okapi(docs)
        vocab = {t: i for i, t in enumerate(sorted(okapi.idf))}
        rows, cols, tfs = [], [], []
        for r, freqs in enumerate(okapi.doc_freqs):
            rows += [r] * len(freqs)
            cols += [vocab[t] for t in freqs]
            tfs += freqs.values()
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        tf = np.asarray(tfs, dtype=np.int64)
        doc_len = np.asarray(okapi.doc_len)[rows_a]
        idf = np.asarray([okapi.idf[t] for t in vocab], dtype=np.float64)[cols_a]
        k1, b = okapi.k1, okapi.b
        # rank_bm25's expression, term by term, so every weight is bit-for-bit its own.
        weight = idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len / okapi.avgdl)))
        order = np.lexsort((rows_a, cols_a))
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols_a, minlength=len(vocab)), out=indptr[1:])
        engine = _bm25s().BM25(k1=k1, b=b, method="robertson", dtype="float64", int_dtype="int64")
        engine.scores = {
            "data": weight[order],
            "indices": rows_a[order],
            "indptr": indptr,
            "num_docs": len(docs),
        }
        engine.vocab_dict = vocab
        engine.unique_token_ids_set = set(vocab.values())
        engine.nonoccurrence_array = None
        return cls(engine, fingerprint)

    def save(self, folder: Path) -> None:
        """Write the matrix (bm25s's files) and the fingerprint last, so a torn save is stale."""
        folder.mkdir(parents=True, exist_ok=True)
        stamp = folder / "fingerprint.json"
        stamp.unlink(missing_ok=True)
        self.engine.save(str(folder), show_progress=False)
        stamp.write_text(json.dumps({"format": FORMAT, "fingerprint": self.fingerprint}))

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> OkapiIndex | None:
        """The saved index if it was built from the same passages, memory-mapped; else None."""
        try:
            saved = json.loads((folder / "fingerprint.json").read_text(encoding="utf-8"))
            if saved != {"format": FORMAT, "fingerprint": fingerprint}:
                return None
            engine = _bm25s().BM25.load(str(folder), mmap=True, show_progress=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring an unreadable keyword index in %s: %s", folder, exc)
            return None
        return cls(engine, fingerprint)

    def scores(self, terms: list[str]):
        """BM25Okapi scores of every passage for ``terms`` (repeats count, unknown words add 0),
        or None when no term is in the vocabulary."""
        ids = [self.vocab[t] for t in terms if t in self.vocab]
        if not ids:
            return None
        return self.engine.get_scores_from_ids(ids)

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best passages with a positive score, best first, ties by position."""
        scores = self.scores(terms)
        if scores is None:
            return []
        hit = np.flatnonzero(scores > 0)
        order = hit[np.lexsort((hit, -scores[hit]))][:k]
        return [(int(i), float(scores[i])) for i in order]


def fingerprint(texts: Sequence[str], *parts: str) -> str:
    """A hash of the indexed texts in order, with anything else their tokens depend on."""
    h = hashlib.sha256(FORMAT.encode())
    for part in (*parts, *texts):
        h.update(b"\x1e" + part.encode("utf-8"))
    return h.hexdigest()
