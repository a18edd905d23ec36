"""Writers of the embedded index: two ingests at once, a killed ingest, a damaged folder."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import threading
import time
from contextlib import closing

import filelock
import pytest
import reliability_helpers as h

from assistant import cli
from assistant.config import Settings
from assistant.corpus import Corpus
from assistant.embeddings import embed
from assistant.index import LOCK_NAME, VectorIndex

pytestmark = pytest.mark.integration

COPIES = 11  # 11 x 196 = 2,156 passages


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    folder = h.synthetic_corpus(tmp_path_factory.mktemp("big") / "corpus", COPIES)
    corpus = Corpus.load(folder)
    assert len(corpus.passages) >= 2000
    return folder, corpus


@pytest.fixture(scope="module")
def two_ingests(big_corpus, tmp_path_factory):
    """Two ``assistant ingest`` processes started together on one new index folder."""
    folder, _ = big_corpus
    index = tmp_path_factory.mktemp("concurrent") / "index"
    args = ("ingest", "--corpus-dir", str(folder), "--index-dir", str(index))
    procs = [h.cli(*args) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        results.append((p.returncode, out.decode(), err.decode()))
    return index, results


def _assert_complete(index_dir, corpus: Corpus) -> None:
    """Every passage present, with a readable embedding, and nothing else."""
    index = VectorIndex(Settings(index_dir=index_dir))
    ids = [p.id for p in corpus.passages]
    vectors, bad = index.read_vectors(ids)
    assert not bad, f"{len(bad)} passages missing or unreadable"
    assert len(vectors) == len(ids) == index.count()


def test_two_ingests_at_once_leave_every_embedding_readable(two_ingests, big_corpus):
    index, results = two_ingests
    _, corpus = big_corpus
    n = len(corpus.passages)
    assert [rc for rc, _, _ in results] == [0, 0], results
    added = sorted(int(out.split(": ")[1].split(" added")[0]) for _, out, _ in results)
    assert added == [0, n], [out for _, out, _ in results]  # one embedded, the other waited
    waited = [err for _, _, err in results if f"waiting for another writer of {index}" in err]
    assert len(waited) == 1, [err[-300:] for _, _, err in results]
    assert all("Traceback" not in err for _, _, err in results)
    _assert_complete(index, corpus)


def test_a_second_writer_asked_not_to_wait_exits_2(two_ingests, big_corpus, capfd):
    index, _ = two_ingests
    folder, _ = big_corpus
    held = filelock.FileLock(index / LOCK_NAME)
    done = threading.Event()
    ready = threading.Event()

    def other_writer():
        with held:
            ready.set()
            done.wait()

    thread = threading.Thread(target=other_writer, daemon=True)
    thread.start()
    ready.wait()
    try:
        args = ["ingest", "--no-wait", "--corpus-dir", str(folder), "--index-dir", str(index)]
        status = cli.main(args)
    finally:
        done.set()
        thread.join()
    err = capfd.readouterr().err
    assert status == 2
    assert f"another writer is updating the index at {index}" in err
    assert "Traceback" not in err and "waiting" not in err


def _child(*args: str) -> tuple[int, str, str]:
    """``assistant <args>`` in a child process. Chroma's native reader can crash a process on
    some damage (a segfault no Python code can catch), so every step that reads the damaged
    folder runs in its own process: such a crash cannot take the test run down."""
    proc = h.cli(*args)
    out, err = proc.communicate(timeout=600)
    if proc.returncode < 0:
        pytest.xfail(f"Chroma's native reader crashed on this damage (signal {-proc.returncode})")
    return proc.returncode, out.decode(), err.decode()


def test_a_damaged_index_is_one_clear_line_and_verify_repairs_it(two_ingests, big_corpus, tmp_path):
    index, _ = two_ingests
    folder, corpus = big_corpus
    damaged = tmp_path / "damaged"
    shutil.copytree(index, damaged)
    (hnsw,) = damaged.glob("*/data_level0.bin")  # the persisted vectors of the HNSW segment
    with hnsw.open("r+b") as f:
        f.truncate(hnsw.stat().st_size * 9 // 10)  # the last vectors are lost
    where = ("--index-dir", str(damaged), "--corpus-dir", str(folder))

    status, _, err = _child("ask", "riluzole dose", *where)  # load() finds the damage
    assert status == 1, err[-2000:]
    assert err.count("\n") == 1 and "damaged" in err and "Traceback" not in err, err[-2000:]
    assert "passages are missing or unreadable" in err and "assistant ingest --verify" in err

    status, out, err = _child("ingest", "--verify", *where)
    assert status == 0, err[-2000:]
    assert "repaired" in out and "every embedding readable" in out, out
    _assert_complete(damaged, corpus)
    hits = VectorIndex(Settings(index_dir=damaged)).query(embed(["riluzole dose"])[0], 5)
    assert len(hits) == 5 and hits[0][1] > 0.3


def _stored(index) -> int:
    """Passages the embedded folder holds so far (its SQLite file, read-only)."""
    try:
        uri = f"file:{index / 'chroma.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=1)) as db:
            return db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    except sqlite3.Error:  # not created yet, or busy
        return 0


def test_an_ingest_killed_midway_is_completed_by_the_next(tmp_path):
    folder = h.synthetic_corpus(tmp_path / "corpus", 2)  # 392 passages: two batches
    corpus = Corpus.load(folder)
    index = tmp_path / "index"
    args = ("ingest", "--corpus-dir", str(folder), "--index-dir", str(index))
    proc = h.cli(*args)
    deadline = time.monotonic() + 600
    while not (stored := _stored(index)):  # kill it once the first batch is in
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert 0 < stored < len(corpus.passages)

    rerun = h.cli(*args)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()[-2000:]
    assert "waiting" not in err.decode()  # the killed writer's lock went with it
    assert " 0 added" not in out.decode()  # it did finish the killed one's work
    _assert_complete(index, corpus)
