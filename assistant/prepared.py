"""Prepared state: what a start would otherwise derive again from an unchanged corpus.

Beside an embedded index, ``prepared/`` keeps:

- ``corpus.pickle`` with ``corpus.json``: the parsed corpus and what a start derives from it
  (:class:`assistant.derived.Derived`: its document structure, which documents are trusted, and
  the stages' corpus tables), and the manifest they were made from (every corpus and rules
  file's name, size and SHA-256, and the package's code), with the pickle's own SHA-256;
- ``synced.json`` (with ``sentences.npy`` and ``sentences.pickle``): written after a sync left
  the index holding exactly the corpus's passages and sentence vectors: the manifest then,
  Chroma's state then (:func:`chroma_state`), and the sentence vectors as one matrix.

A start whose manifest matches reads the pickle instead of parsing; if Chroma's state is also as
recorded, it skips the sync's full read of the stored ids and vectors. Anything that does not
match, or cannot be read, is built again (``ingest --verify`` always reads everything): a cache
can be missing, never wrong. The folder is trusted like the index itself (a pickle runs code
when read); its checksum only catches damage.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import pickle
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 3  # 2: the derived tables beside the structure and trust; 3: with the fixed phrases
PACKAGE = Path(__file__).resolve().parent
OWN = {"prepared", "keyword", "suggestions.json", "writer.lock"}  # not Chroma's files


@dataclass
class Prepared:
    """The corpus and what is derived from it (:class:`assistant.derived.Derived`);
    ``vectors`` only when the index is in sync."""

    corpus: object
    derived: object
    vectors: object | None = None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(corpus_dir: Path, rules_dir: Path) -> str:
    """A digest of everything the prepared objects are made from."""
    parts = [f"format {FORMAT}", sys.version, str(Path(corpus_dir).resolve())]
    for label, folder, pattern in (
        ("corpus", corpus_dir, "*"),
        ("rules", rules_dir, "**/*"),
        ("code", PACKAGE, "*.py"),
    ):
        for path in sorted(Path(folder).glob(pattern)):
            if path.is_file() and not path.name.startswith("."):
                data = path.read_bytes()
                parts.append(f"{label} {path.relative_to(folder)} {len(data)} {_sha(data)}")
    return _sha("\n".join(parts).encode("utf-8"))


def chroma_state(index_dir: Path) -> list | None:
    """What changes whenever Chroma writes the folder: its write log's last sequence number per
    segment and collection ids (from SQLite, read-only; the file itself is touched on every
    open), and the name, size and modification time of its other files. None if unreadable."""
    index_dir = Path(index_dir)
    db = index_dir / "chroma.sqlite3"
    try:
        with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as con:
            out: list = [
                list(con.execute("SELECT max(seq_id), count(*) FROM embeddings_queue").fetchone()),
                sorted(map(list, con.execute("SELECT segment_id, seq_id FROM max_seq_id"))),
                sorted(map(list, con.execute("SELECT id, name FROM collections"))),
            ]
    except (sqlite3.Error, OSError, ValueError):
        return None
    for path in sorted(index_dir.rglob("*")):
        rel = path.relative_to(index_dir)
        if rel.parts[0] in OWN or path == db or not path.is_file():
            continue
        st = path.stat()
        out.append([str(rel), st.st_size, st.st_mtime_ns])
    return out


class PreparedStore:
    """The ``prepared/`` folder beside an embedded index."""

    def __init__(self, index_dir: Path, corpus_dir: Path, rules_dir: Path):
        self.index_dir = Path(index_dir)
        self.folder = self.index_dir / "prepared"
        self.digest = manifest(corpus_dir, rules_dir)

    # --- reading -------------------------------------------------------------------------------

    def _checked(self, record: str, key: str) -> dict | None:
        """The record ``record`` if it names this manifest, else None."""
        try:
            meta = json.loads((self.folder / record).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get(key) != self.digest:
            return None
        return meta

    def _unpickle(self, name: str, meta: dict):
        data = (self.folder / name).read_bytes()
        if _sha(data) != meta.get(name):
            raise ValueError(f"{name}: checksum differs")
        enabled = gc.isenabled()
        gc.disable()  # no collection passes while the many new objects are made: twice as fast
        try:
            return pickle.loads(data)
        finally:
            if enabled:
                gc.enable()

    def read(self) -> Prepared | None:
        """The prepared objects for the current corpus, or None (then the caller builds)."""
        meta = self._checked("corpus.json", "manifest")
        if meta is None:
            return None
        try:
            corpus, derived = self._unpickle("corpus.pickle", meta)
        except Exception as exc:  # damaged or from another version: build again
            log.warning("prepared corpus not used (%s); building it again", exc)
            return None
        for w in corpus.warnings:
            log.warning("%s", w)
        return Prepared(corpus, derived)

    def in_sync(self) -> bool:
        """The index holds this corpus exactly, as recorded after the last sync."""
        meta = self._checked("synced.json", "manifest")
        if meta is None or meta.get("chroma") is None:
            return False
        return meta["chroma"] == chroma_state(self.index_dir)

    def vectors(self):
        """The sentence vectors recorded with the sync, or None."""
        meta = self._checked("synced.json", "manifest")
        if meta is None:
            return None
        try:
            rows = self._unpickle("sentences.pickle", meta)
            matrix = np.load(self.folder / "sentences.npy", mmap_mode="r")
            if matrix.shape[0] != meta.get("rows") or len(rows.rows) != meta.get("keys"):
                raise ValueError("sentence vectors do not match their record")
        except Exception as exc:
            log.warning("recorded sentence vectors not used (%s)", exc)
            return None
        return type(rows)(rows.rows, matrix)

    # --- writing -------------------------------------------------------------------------------

    def _write(self, name: str, data: bytes) -> None:
        tmp = self.folder / f".{name}.{os.getpid()}.tmp"  # two starts at once write apart
        tmp.write_bytes(data)
        os.replace(tmp, self.folder / name)

    def save(self, prepared: Prepared) -> None:
        """Keep the corpus-derived objects for the next start (a failure is only logged)."""
        with contextlib.suppress(OSError):
            (self.folder / "corpus.json").unlink()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = pickle.dumps((prepared.corpus, prepared.derived), pickle.HIGHEST_PROTOCOL)
            self._write("corpus.pickle", data)
            meta = {"manifest": self.digest, "corpus.pickle": _sha(data)}
            self._write("corpus.json", json.dumps(meta).encode("utf-8"))
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            log.warning("prepared corpus not saved (%s)", exc)

    def record_sync(self, vectors) -> None:
        """After a sync (under the writer lock): the index now holds this corpus; its sentence
        vectors are ``vectors``."""
        with contextlib.suppress(OSError):
            (self.folder / "synced.json").unlink()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            rows = pickle.dumps(type(vectors)(vectors.rows, None), pickle.HIGHEST_PROTOCOL)
            self._write("sentences.pickle", rows)
            tmp = self.folder / f".sentences.npy.{os.getpid()}.tmp"
            with tmp.open("wb") as f:
                np.save(f, np.asarray(vectors.matrix, np.float32))
            os.replace(tmp, self.folder / "sentences.npy")
            meta = {
                "manifest": self.digest,
                "sentences.pickle": _sha(rows),
                "rows": int(vectors.matrix.shape[0]),
                "keys": len(vectors.rows),
                "chroma": chroma_state(self.index_dir),
            }
            self._write("synced.json", json.dumps(meta).encode("utf-8"))
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            log.warning("sync record not saved (%s)", exc)
