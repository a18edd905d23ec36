"""The vector index: content-hash ids, incremental sync, embedded folder and Chroma server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.corpus import Corpus
from assistant.embeddings import LocalEmbeddingFunction
from assistant.index import VectorIndex

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
