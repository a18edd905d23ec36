"""The vector index: Chroma, embedded (a local folder) by default or a Chroma server by setting."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import chromadb
from chromadb.config import Settings as ChromaSettings

from .config import Settings
from .corpus import Corpus, Passage
from .embeddings import Embedder, LocalEmbeddingFunction, embed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncReport:
    """What an ingest changed in the index."""

    added: int
    removed: int
    updated: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.updated)

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.removed} removed, {self.updated} metadata updated, "
            f"{self.unchanged} unchanged"
        )


def _metadata(p: Passage) -> dict:
    return {
        "doc_id": p.doc_id,
        "kind": p.kind,
        "section": p.section_label,
        "start": p.start,
        "end": p.end,
        "audience": p.meta.audience,
    }


def make_client(settings: Settings):
    """An HTTP client when ``chroma_host`` is set, else an embedded persistent folder."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


class VectorIndex:
    """Passages in a Chroma collection; ids are content hashes of what is embedded."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.embed = embedder or embed  # queries and passages go through the same model
        self.client = make_client(settings)
        self.collection = self.client.get_or_create_collection(
            name=settings.collection,
            embedding_function=LocalEmbeddingFunction(self.embed),
            configuration={"hnsw": {"space": "cosine"}},
        )

    _size: int | None = None  # passages in the collection, known after a sync or first query

    def count(self) -> int:
        return self.collection.count()

    def sync(self, corpus: Corpus, batch: int = 256) -> SyncReport:
        """Make the index hold exactly the corpus's passages, embedding only new ones."""
        wanted = {p.id: p for p in corpus.passages}
        have = self._existing()
        stale = [i for i in have if i not in wanted]
        new = [p for i, p in wanted.items() if i not in have]
        moved = [p for i, p in wanted.items() if i in have and have[i] != _metadata(p)]
        for k in range(0, len(stale), batch):
            self.collection.delete(ids=stale[k : k + batch])
        for k in range(0, len(new), batch):
            chunk = new[k : k + batch]
            self.collection.add(
                ids=[p.id for p in chunk],
                documents=[p.embed_text() for p in chunk],
                metadatas=[_metadata(p) for p in chunk],
            )
        for k in range(0, len(moved), batch):
            chunk = moved[k : k + batch]
            self.collection.update(
                ids=[p.id for p in chunk], metadatas=[_metadata(p) for p in chunk]
            )
        report = SyncReport(len(new), len(stale), len(moved), len(wanted) - len(new) - len(moved))
        self._size = len(wanted)
        log.info("index sync: %s", report)
        return report

    def _existing(self, page: int = 5000) -> dict[str, dict]:
        """Every stored id with its metadata, read a page at a time (one ``get`` of a large
        collection exceeds SQLite's limit on query variables)."""
        have: dict[str, dict] = {}
        while True:
            got = self.collection.get(include=["metadatas"], limit=page, offset=len(have))
            have.update(zip(got["ids"], got["metadatas"] or [], strict=False))
            if len(got["ids"]) < page:
                return have

    def query(self, embedding: list[float], k: int) -> list[tuple[str, float]]:
        """Nearest passages (not disclaimers) as ``(id, cosine similarity)``, best first.

        A metadata filter makes Chroma scan every passage (0.3 s at 44,000), so the nearest
        ``2k`` are fetched unfiltered and disclaimers dropped; the filter serves only when too
        few remain."""
        if self._size is None:
            self._size = self.collection.count()
        n = min(k, max(self._size, 1))
        res = self.collection.query(
            query_embeddings=[embedding],
            n_results=min(2 * n, self._size or 1),
            include=["metadatas", "distances"],
        )
        hits = [
            (i, 1.0 - d)
            for i, d, m in zip(res["ids"][0], res["distances"][0], res["metadatas"][0], strict=True)
            if (m or {}).get("kind") != "disclaimer"
        ]
        if len(hits) >= n or len(res["ids"][0]) >= self._size:
            return hits[:n]
        res = self.collection.query(
            query_embeddings=[embedding],
            n_results=n,
            where={"kind": {"$ne": "disclaimer"}},
            include=["distances"],
        )
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
