"""The vector index: Chroma, embedded (a local folder) by default or a Chroma server by setting.

An embedded folder is not safe for two processes at once: two writers (or a writer and a query
that applies Chroma's pending log) can leave embeddings unreadable. So every use of an embedded
folder holds an inter-process lock, ``<index>/writer.lock``: a sync waits for it (saying so on
stderr) or, asked not to wait, fails with :class:`IndexBusyError`; a query waits a few seconds at
most. A server (``chroma_host``) serialises its own writes; this lock does not cover it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import chromadb
import filelock
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from .config import Settings
from .corpus import Corpus, Passage
from .embeddings import Embedder, LocalEmbeddingFunction, RecentQueries, embed

log = logging.getLogger(__name__)

LOCK_NAME = "writer.lock"
QUERY_WAIT_S = 10.0  # a query waits this long for another process's write, then gives up
READ_BATCH = 256


class IndexProblem(RuntimeError):
    """The index cannot be used right now; the message says why and what to do."""

    exit_status = 1


class IndexBusyError(IndexProblem):
    """Another process is writing the embedded index."""

    exit_status = 2


class IndexDamagedError(IndexProblem):
    """The embedded index holds passages whose embeddings cannot be read (or is unreadable)."""


class IndexUnavailableError(IndexProblem):
    """The Chroma server does not answer."""


class IndexDirError(ValueError):
    """The index folder setting is bad input: a file, or a folder that cannot be written."""


@dataclass(frozen=True)
class SyncReport:
    """What an ingest changed in the index."""

    added: int
    removed: int
    updated: int
    unchanged: int
    repaired: int = 0  # passages that were missing or unreadable and were embedded again
    rebuilt: bool = False  # the whole collection was rebuilt

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.updated or self.repaired or self.rebuilt)

    def __str__(self) -> str:
        text = (
            f"{self.added} added, {self.removed} removed, {self.updated} metadata updated, "
            f"{self.unchanged} unchanged"
        )
        if self.repaired:
            text += f", {self.repaired} repaired"
        if self.rebuilt:
            text += ", collection rebuilt"
        return text


def _metadata(p: Passage) -> dict:
    return {
        "doc_id": p.doc_id,
        "kind": p.kind,
        "section": p.section_label,
        "start": p.start,
        "end": p.end,
        "audience": p.meta.audience,
    }


def _prepare_dir(folder: Path) -> None:
    """Create the index folder; a file in its place or an unwritable parent is bad input."""
    if folder.exists() and not folder.is_dir():
        raise IndexDirError(
            f"{folder}: the index folder is a file; set --index-dir (or ASSISTANT_INDEX_DIR) "
            "to a folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexDirError(f"{folder}: cannot create the index folder ({exc.strerror})") from exc


def make_client(settings: Settings):
    """An HTTP client when ``chroma_host`` is set, else an embedded persistent folder."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    _prepare_dir(settings.index_dir)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def _readable(vector) -> bool:
    """A stored embedding: finite and of unit length, as the embedding function writes them."""
    if vector is None or len(vector) == 0:
        return False
    v = np.asarray(vector, dtype=np.float64)
    return bool(np.isfinite(v).all()) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-2


class VectorIndex:
    """Passages in a Chroma collection; ids are content hashes of what is embedded."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, *, wait: bool = True):
        self.settings = settings
        self.embed = embedder or embed  # queries and passages go through the same model
        self.query_embed = RecentQueries(self.embed)  # questions: the model's query path
        self.server = bool(settings.chroma_host)
        self.where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            if self.server
            else str(settings.index_dir)
        )
        self.lock: filelock.BaseFileLock | None = None
        if not self.server:
            _prepare_dir(settings.index_dir)
            self.lock = filelock.FileLock(settings.index_dir / LOCK_NAME, preserve_lock_file=True)
        with self.writing(wait), self._chroma_errors():
            self.client = make_client(settings)
            self.collection = self._open()

    _size: int | None = None  # passages in the collection, known after a sync or first query

    def _open(self):
        ef = self.settings.hnsw_ef_search
        collection = self.client.get_or_create_collection(
            name=self.settings.collection,
            embedding_function=LocalEmbeddingFunction(self.embed),
            configuration={"hnsw": {"space": "cosine", "ef_search": ef}},
        )
        hnsw = (collection.configuration_json or {}).get("hnsw") or {}
        if hnsw.get("ef_search") != ef:  # a folder made before, or with another breadth
            collection.modify(configuration={"hnsw": {"ef_search": ef}})
        return collection

    # --- locking and errors --------------------------------------------------------------------

    @contextmanager
    def writing(self, wait: bool = True) -> Iterator[None]:
        """Hold the folder's writer lock: wait for another writer (saying so), or, with
        ``wait=False``, raise :class:`IndexBusyError`. A no-op for a Chroma server."""
        if self.lock is None:
            yield
            return
        try:
            self.lock.acquire(timeout=0)
        except filelock.Timeout:
            if not wait:
                raise IndexBusyError(
                    f"another writer is updating the index at {self.where}; "
                    "try again when it has finished (or leave out --no-wait to wait for it)"
                ) from None
            print(f"waiting for another writer of {self.where} ...", file=sys.stderr, flush=True)
            self.lock.acquire()
        try:
            yield
        finally:
            self.lock.release()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A query waits briefly for another process's write (Chroma may apply its log)."""
        if self.lock is None:
            yield
            return
        try:
            self.lock.acquire(timeout=QUERY_WAIT_S)
        except filelock.Timeout:
            raise IndexBusyError(
                f"the index at {self.where} is being updated by another process "
                "(assistant ingest); try again when it has finished"
            ) from None
        try:
            yield
        finally:
            self.lock.release()

    def _damaged(self, detail: str) -> IndexDamagedError:
        return IndexDamagedError(
            f"the index at {self.where} is damaged ({detail}); repair it with "
            f"`assistant ingest --verify`, or delete the folder {self.where} and run "
            "`assistant ingest`"
        )

    @contextmanager
    def _chroma_errors(self) -> Iterator[None]:
        """Chroma's internal errors as one clear :class:`IndexProblem` that names the fix."""
        try:
            yield
        except IndexProblem:
            raise
        except ChromaError as exc:
            detail = " ".join(str(exc).split())  # one line, whatever Chroma says
            if self.server:
                raise IndexUnavailableError(f"{self.where} failed: {detail}") from exc
            raise self._damaged(f"Chroma: {detail}") from exc
        except Exception as exc:
            if self.server and _is_connection_error(exc):
                raise IndexUnavailableError(
                    f"{self.where} does not answer ({type(exc).__name__}); check that it is "
                    "running, then ask again"
                ) from exc
            raise

    # --- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        with self._reading(), self._chroma_errors():
            return self.collection.count()

    def unreadable(self, ids: list[str]) -> set[str]:
        """The ids among ``ids`` that are missing or whose embedding cannot be read."""
        return self.read_vectors(ids)[1]

    def read_vectors(self, ids: list[str], batch: int = READ_BATCH) -> tuple[dict, set[str]]:
        """``({id: embedding}, {ids missing or unreadable})``, read ``batch`` ids at a time."""
        good: dict = {}
        bad: set[str] = set()
        for k in range(0, len(ids), batch):
            self._read_batch(ids[k : k + batch], good, bad)
        return good, bad

    def _read_batch(self, ids: list[str], good: dict, bad: set[str]) -> None:
        if not ids:
            return
        try:
            res = self.collection.get(ids=ids, include=["embeddings"])
        except ChromaError:
            if len(ids) == 1:
                bad.update(ids)
                return
            half = len(ids) // 2  # find the culprits by halves
            self._read_batch(ids[:half], good, bad)
            self._read_batch(ids[half:], good, bad)
            return
        vectors = res["embeddings"] if res["embeddings"] is not None else [None] * len(res["ids"])
        found = {i: v for i, v in zip(res["ids"], vectors, strict=True) if _readable(v)}
        good.update(found)
        bad.update(i for i in ids if i not in found)

    def query(self, embedding: list[float], k: int) -> list[tuple[str, float]]:
        """Nearest passages (not disclaimers) as ``(id, cosine similarity)``, best first.

        A metadata filter makes Chroma scan every passage (0.3 s at 44,000), so the nearest
        ``2k`` are fetched unfiltered and disclaimers dropped; the filter serves only when too
        few remain."""
        with self._reading(), self._chroma_errors():
            if self._size is None:
                self._size = self.collection.count()
            n = min(k, max(self._size, 1))
            res = self.collection.query(
                query_embeddings=[embedding],
                n_results=min(2 * n, self._size or 1),
                include=["metadatas", "distances"],
            )
            ids, dists, metas = res["ids"][0], res["distances"][0], res["metadatas"][0]
            hits = [
                (i, 1.0 - d)
                for i, d, m in zip(ids, dists, metas, strict=True)
                if (m or {}).get("kind") != "disclaimer"
            ]
            if len(hits) >= n or len(ids) >= self._size:
                return hits[:n]
            res = self.collection.query(
                query_embeddings=[embedding],
                n_results=n,
                where={"kind": {"$ne": "disclaimer"}},
                include=["distances"],
            )
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    # --- writing -------------------------------------------------------------------------------

    def sync(
        self,
        corpus: Corpus,
        batch: int = 256,
        *,
        wait: bool = True,
        verify: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> SyncReport:
        """Make the index hold exactly the corpus's passages, embedding only new ones.

        Afterwards every passage must be present with a readable embedding; if one is not, this
        raises :class:`IndexDamagedError`, unless ``verify`` is set: then it embeds the missing
        or unreadable passages again, or, if that does not help, rebuilds the collection.

        Args:
            wait: wait for another writer of the folder (else raise :class:`IndexBusyError`).
            verify: also read every stored embedding first, and repair what is not readable.
            progress: ``progress(done, total)`` is told how many new passages are embedded:
                once before the first batch, then after each.
        """
        wanted = [p.id for p in corpus.passages]
        with self.writing(wait), self._chroma_errors():
            try:
                report = self._sync(corpus, batch, verify, progress)
                bad = self.unreadable(wanted)
            except ChromaError as exc:
                if not verify:
                    raise
                log.warning("repairing passage by passage failed (%s)", exc)
                report, bad = SyncReport(0, 0, 0, 0), set(wanted)
            if bad and verify:
                report = self._rebuild(corpus, batch, report)
                bad = self.unreadable(wanted)
            if bad:
                detail = f"{len(bad)} of {len(wanted)} passages are missing or unreadable"
                if verify:
                    raise IndexDamagedError(
                        f"the index at {self.where} could not be repaired ({detail}); delete "
                        f"the folder {self.where} and run `assistant ingest`"
                    )
                raise self._damaged(detail)
        self._size = len(wanted)
        log.info("index sync: %s", report)
        return report

    def _sync(self, corpus: Corpus, batch: int, verify: bool, progress=None) -> SyncReport:
        wanted = {p.id: p for p in corpus.passages}
        have = self._existing()
        broken = self.unreadable(list(have)) if verify else set()
        stale = [i for i in have if i not in wanted or i in broken]
        new = [p for i, p in wanted.items() if i not in have or i in broken]
        moved = [
            p
            for i, p in wanted.items()
            if i in have and i not in broken and have[i] != _metadata(p)
        ]
        for k in range(0, len(stale), batch):
            self.collection.delete(ids=stale[k : k + batch])
        self._add(new, batch, progress=progress)
        for k in range(0, len(moved), batch):
            chunk = moved[k : k + batch]
            self.collection.update(
                ids=[p.id for p in chunk], metadatas=[_metadata(p) for p in chunk]
            )
        repaired = len([i for i in broken if i in wanted])
        return SyncReport(
            len(new) - repaired,
            len(stale) - repaired,
            len(moved),
            len(wanted) - len(new) - len(moved),
            repaired,
        )

    def _existing(self, page: int = 5000) -> dict[str, dict]:
        """Every stored id with its metadata, read a page at a time (one ``get`` of a large
        collection exceeds SQLite's limit on query variables)."""
        have: dict[str, dict] = {}
        while True:
            got = self.collection.get(include=["metadatas"], limit=page, offset=len(have))
            have.update(zip(got["ids"], got["metadatas"] or [], strict=False))
            if len(got["ids"]) < page:
                return have

    def _add(
        self, passages: list[Passage], batch: int, vectors: dict | None = None, progress=None
    ) -> None:
        """Add passages, embedding those without a vector in ``vectors``; ``progress(done,
        total)`` follows the embedding."""
        vectors = vectors or {}
        kept = [p for p in passages if p.id in vectors]
        for k in range(0, len(kept), batch):
            chunk = kept[k : k + batch]
            self.collection.add(
                ids=[p.id for p in chunk],
                embeddings=[vectors[p.id] for p in chunk],
                documents=[p.embed_text() for p in chunk],
                metadatas=[_metadata(p) for p in chunk],
            )
        fresh = [p for p in passages if p.id not in vectors]
        if progress is not None:
            progress(0, len(fresh))
        for k in range(0, len(fresh), batch):
            chunk = fresh[k : k + batch]
            self.collection.add(
                ids=[p.id for p in chunk],
                documents=[p.embed_text() for p in chunk],
                metadatas=[_metadata(p) for p in chunk],
            )
            if progress is not None:
                progress(k + len(chunk), len(fresh))

    def _rebuild(self, corpus: Corpus, batch: int, report: SyncReport) -> SyncReport:
        """Drop the collection and add every passage again, keeping the embeddings that can
        still be read (only the others are embedded again)."""
        log.warning("rebuilding the collection %s in %s", self.settings.collection, self.where)
        vectors, bad = self.read_vectors([p.id for p in corpus.passages])
        self.client.delete_collection(self.settings.collection)
        self.collection = self._open()
        self._add(corpus.passages, batch, vectors)
        kept = len(corpus.passages) - len(bad)
        return SyncReport(report.added, report.removed, report.updated, kept, len(bad), True)


def _is_connection_error(exc: BaseException) -> bool:
    """A refused, reset or timed-out connection to the server (httpx or the OS)."""
    import httpx

    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError)
