"""The vector index: content-hash ids, incremental sync, embedded folder and Chroma server."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import filelock
import numpy as np
import pytest
from chromadb.errors import InternalError

from assistant.config import Settings
from assistant.corpus import Corpus
from assistant.embeddings import LocalEmbeddingFunction
from assistant.index import (
    LOCK_NAME,
    IndexBusyError,
    IndexDamagedError,
    IndexDirError,
    VectorIndex,
)

pytestmark = pytest.mark.integration
D002 = "002_5e97e3a1ccf57869"


@pytest.fixture
def embedded_texts(monkeypatch) -> list[str]:
    """Record every text the embedding function embeds (the real model still runs)."""
    seen: list[str] = []
    original = LocalEmbeddingFunction.__call__

    def spy(self, input):
        seen.extend(input)
        return original(self, input)

    monkeypatch.setattr(LocalEmbeddingFunction, "__call__", spy)
    return seen


def test_ingest_twice_changes_nothing(tmp_path, corpus_copy, embedded_texts):
    settings = Settings(index_dir=tmp_path / "ix", corpus_dir=corpus_copy)
    corpus = Corpus.load(corpus_copy)
    first = VectorIndex(settings).sync(corpus)
    assert first.added == len(corpus.passages) and not first.removed
    embedded_texts.clear()
    second = VectorIndex(settings).sync(Corpus.load(corpus_copy))
    assert not second.changed and second.unchanged == len(corpus.passages)
    assert embedded_texts == []


def test_editing_one_document_reembeds_only_its_changed_passages(
    tmp_path, corpus_copy, embedded_texts
):
    settings = Settings(index_dir=tmp_path / "ix", corpus_dir=corpus_copy)
    VectorIndex(settings).sync(Corpus.load(corpus_copy))
    path = corpus_copy / f"{D002}.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("Only 5-10% of patients", "Only 5-10 % of patients"), encoding="utf-8"
    )
    embedded_texts.clear()
    report = VectorIndex(settings).sync(Corpus.load(corpus_copy))
    assert (report.added, report.removed) == (1, 1)
    assert len(embedded_texts) == 1 and "5-10 % of patients" in embedded_texts[0]


def test_inserting_text_moves_offsets_without_reembedding(tmp_path, corpus_copy, embedded_texts):
    settings = Settings(index_dir=tmp_path / "ix", corpus_dir=corpus_copy)
    index = VectorIndex(settings)
    index.sync(Corpus.load(corpus_copy))
    path = corpus_copy / f"{D002}.txt"
    path.write_text("\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    embedded_texts.clear()
    report = index.sync(Corpus.load(corpus_copy))
    assert report.added == 0 and report.updated > 0 and embedded_texts == []


def test_removed_document_leaves_the_index(tmp_path, corpus_copy):
    settings = Settings(index_dir=tmp_path / "ix", corpus_dir=corpus_copy)
    index = VectorIndex(settings)
    index.sync(Corpus.load(corpus_copy))
    before = index.count()
    n002 = len(Corpus.load(corpus_copy).documents[D002].passages)
    (corpus_copy / f"{D002}.txt").unlink()
    (corpus_copy / f"{D002}.meta.yaml").unlink()
    report = index.sync(Corpus.load(corpus_copy))
    assert report.removed == n002 and index.count() == before - n002
    metas = index.collection.get(include=["metadatas"])["metadatas"]
    assert all(m["doc_id"] != D002 for m in metas)


def test_reopened_collection_uses_our_embedding_function(tmp_path, corpus_copy):
    settings = Settings(index_dir=tmp_path / "ix", corpus_dir=corpus_copy)
    VectorIndex(settings).sync(Corpus.load(corpus_copy))
    reopened = VectorIndex(settings)
    res = reopened.collection.query(query_texts=["riluzole dose"], n_results=1)
    assert res["ids"][0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        chroma = Path(shutil.which("chroma") or "chroma")
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chroma run exited early")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_retrieval_through_a_chroma_server_selected_by_configuration(
    chroma_server, monkeypatch, tmp_path
):
    from assistant import Assistant

    monkeypatch.setenv("ASSISTANT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("ASSISTANT_CHROMA_PORT", str(chroma_server))
    bot = Assistant.load()
    assert type(bot.index.client).__name__ != "PersistentClient"
    assert not (tmp_path / "index").exists()  # nothing written to the embedded folder
    answer = bot.ask("What is the recommended riluzole dose?").to_dict()
    assert answer["status"] == "answered"
    assert "50 mg twice daily" in answer["answer"]
    dense = bot.retriever.search("when to start non-invasive ventilation", mode="dense")
    assert dense.hits and dense.best_similarity > 0.3


# --- the writer lock and damage, with a hash embedding (a real Chroma folder, no model) --------


class HashEmbedding(LocalEmbeddingFunction):
    """Unit vectors from a text's hash: fast and deterministic."""

    def __call__(self, input):
        out = []
        for text in input:
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
            v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return out


@pytest.fixture
def hashed(monkeypatch, tmp_path, corpus_copy):
    """Settings and corpus for an index that embeds by hash."""
    monkeypatch.setattr("assistant.index.LocalEmbeddingFunction", HashEmbedding)
    return Settings(index_dir=tmp_path / "ix", corpus_dir=corpus_copy), Corpus.load(corpus_copy)


class Damaged:
    """A collection as two writers leave it: the embeddings of ``bad`` ids cannot be read, and
    (``stuck``) every delete fails as Chroma's compaction does."""

    def __init__(self, real, bad: set[str], stuck: bool):
        self.real, self.bad, self.stuck = real, set(bad), stuck

    def get(self, ids=None, include=None, **kwargs):
        if ids and "embeddings" in (include or []) and self.bad & set(ids):
            raise InternalError("Error executing plan: Internal error: Error getting embedding")
        return self.real.get(ids=ids, include=include, **kwargs)

    def delete(self, ids=None, **kwargs):
        if self.stuck:
            raise InternalError("Error in compaction: Failed to apply logs to the hnsw segment")
        self.bad -= set(ids or [])
        return self.real.delete(ids=ids, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


@contextmanager
def other_writer(folder: Path, hold_s: float):
    """Another writer (a thread here) holds the folder's lock; it lets go after ``hold_s``
    seconds, or when the block ends."""
    held, done = threading.Event(), threading.Event()

    def hold():
        with filelock.FileLock(folder / LOCK_NAME):
            held.set()
            done.wait(hold_s or None)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    held.wait()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _all_readable(index: VectorIndex, corpus: Corpus) -> bool:
    ids = [p.id for p in corpus.passages]
    vectors, bad = index.read_vectors(ids)
    return not bad and len(vectors) == len(ids) == index.count()


def test_unreadable_embeddings_fail_the_sync_with_the_fix(hashed):
    settings, corpus = hashed
    index = VectorIndex(settings)
    index.sync(corpus)
    bad = {p.id for p in corpus.passages[::40]}
    index.collection = Damaged(index.collection, bad, stuck=False)
    with pytest.raises(IndexDamagedError) as err:
        index.sync(corpus)  # metadata alone would say "0 added ... unchanged"
    message = str(err.value)
    assert "\n" not in message and "assistant ingest --verify" in message
    assert f"{len(bad)} of {len(corpus.passages)} passages" in message
    assert index.unreadable([p.id for p in corpus.passages]) == bad


def test_verify_embeds_only_the_unreadable_passages_again(hashed):
    settings, corpus = hashed
    index = VectorIndex(settings)
    index.sync(corpus)
    bad = {p.id for p in corpus.passages[::40]}
    index.collection = Damaged(index.collection, bad, stuck=False)
    report = index.sync(corpus, verify=True)
    assert (report.repaired, report.rebuilt, report.added, report.removed) == (len(bad), 0, 0, 0)
    assert report.unchanged == len(corpus.passages) - len(bad)
    assert _all_readable(index, corpus)


def test_verify_rebuilds_a_collection_that_cannot_be_written(hashed):
    settings, corpus = hashed
    index = VectorIndex(settings)
    index.sync(corpus)
    before = index.collection.get(ids=[corpus.passages[0].id], include=["embeddings"])
    bad = {p.id for p in corpus.passages[::40]}
    index.collection = Damaged(index.collection, bad, stuck=True)
    report = index.sync(corpus, verify=True)
    assert report.rebuilt and report.repaired == len(bad)
    assert _all_readable(index, corpus)
    after = index.collection.get(ids=[corpus.passages[0].id], include=["embeddings"])
    assert np.allclose(before["embeddings"][0], after["embeddings"][0])  # kept, not re-made


def test_a_second_writer_asked_not_to_wait_is_refused(hashed):
    settings, corpus = hashed
    index = VectorIndex(settings)
    with (
        other_writer(settings.index_dir, 0),
        pytest.raises(IndexBusyError, match="another writer is updating") as err,
    ):
        index.sync(corpus, wait=False)
    assert err.value.exit_status == 2
    assert index.count() == 0  # nothing was written


def test_a_second_writer_waits_and_says_so(hashed, capfd):
    settings, corpus = hashed
    index = VectorIndex(settings)
    with other_writer(settings.index_dir, 0.5):
        report = index.sync(corpus)
    assert report.added == len(corpus.passages)
    assert f"waiting for another writer of {settings.index_dir} ..." in capfd.readouterr().err


def test_a_query_during_another_write_is_a_clear_error(hashed, monkeypatch):
    settings, corpus = hashed
    index = VectorIndex(settings)
    index.sync(corpus)
    monkeypatch.setattr("assistant.index.QUERY_WAIT_S", 0.2)
    vector = HashEmbedding()(["riluzole dose"])[0].tolist()
    with (
        other_writer(settings.index_dir, 0),
        pytest.raises(IndexBusyError, match="being updated by another process"),
    ):
        index.query(vector, 3)
    assert len(index.query(vector, 3)) == 3


def test_an_index_folder_that_is_a_file_is_bad_input(tmp_path):
    path = tmp_path / "ix"
    path.write_text("not a folder")
    with pytest.raises(IndexDirError, match="the index folder is a file"):
        VectorIndex(Settings(index_dir=path))
    assert isinstance(IndexDirError("x"), ValueError)  # the CLI's exit 2


def test_a_folder_chroma_cannot_open_is_one_clear_line(tmp_path):
    folder = tmp_path / "ix"
    folder.mkdir()
    (folder / "chroma.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x01" * 4096)
    with pytest.raises(IndexDamagedError) as err:
        VectorIndex(Settings(index_dir=folder))
    message = str(err.value)
    assert "\n" not in message and "damaged" in message and str(folder) in message
    assert "delete the folder" in message


def test_the_search_is_as_broad_as_configured_also_for_an_older_folder(tmp_path, corpus_copy):
    """A narrow HNSW search missed a question's best passage in about one process in ten:
    a folder is opened with ``hnsw_ef_search``, and one made before is brought to it."""
    narrow = Settings(index_dir=tmp_path / "ix", corpus_dir=corpus_copy, hnsw_ef_search=40)
    index = VectorIndex(narrow)
    index.sync(Corpus.load(corpus_copy))
    assert index.collection.configuration_json["hnsw"]["ef_search"] == 40
    wide = VectorIndex(narrow.model_copy(update={"hnsw_ef_search": 600}))
    assert wide.collection.configuration_json["hnsw"]["ef_search"] == 600
    vector = wide.query_embed(["When should NIV be started?"])[0]
    everything = wide.query(list(vector), 10_000)
    assert wide.query(list(vector), 5) == everything[:5]  # exhaustive: the same best five
