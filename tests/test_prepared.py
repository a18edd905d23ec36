"""Prepared state beside the index: used only while its corpus, rules, code and index are the
ones it was made from; anything changed, damaged or unreadable is built again."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from assistant.corpus import Corpus
from assistant.prepared import Prepared, PreparedStore
from assistant.rules import RULES_DIR
from assistant.sentences import SentenceVectors


def _store(index, corpus_dir, rules_dir=RULES_DIR) -> PreparedStore:
    return PreparedStore(index, corpus_dir, rules_dir)


@pytest.fixture
def saved(tmp_path, corpus_copy):
    index = tmp_path / "index"
    corpus = Corpus.load(corpus_copy)
    _store(index, corpus_copy).save(Prepared(corpus, {"derived": 1}))
    return index, corpus


def test_an_unchanged_corpus_reads_back_what_was_saved(saved, corpus_copy):
    index, corpus = saved
    got = _store(index, corpus_copy).read()
    assert got is not None
    assert [p.id for p in got.corpus.passages] == [p.id for p in corpus.passages]
    assert [p.text for p in got.corpus.passages] == [p.text for p in corpus.passages]
    assert got.derived == {"derived": 1}


def test_a_changed_corpus_file_or_rules_file_is_not_read(saved, corpus_copy, rules_copy):
    index, _ = saved
    assert _store(index, corpus_copy, rules_copy).read() is not None  # same content, another copy
    (rules_copy / "glossary.yaml").write_text(
        (rules_copy / "glossary.yaml").read_text("utf-8") + "\n", "utf-8"
    )
    assert _store(index, corpus_copy, rules_copy).read() is None
    doc = sorted(corpus_copy.glob("*.txt"))[0]
    doc.write_text(doc.read_text("utf-8").replace("a", "b", 1), "utf-8")
    assert _store(index, corpus_copy).read() is None
    doc.unlink()
    doc.with_name(doc.stem + ".meta.yaml").unlink()  # a document removed
    assert _store(index, corpus_copy).read() is None


@pytest.mark.parametrize("damage", ["pickle", "record", "missing"])
def test_a_damaged_cache_is_not_read(saved, corpus_copy, damage, caplog):
    index, _ = saved
    folder = index / "prepared"
    if damage == "pickle":
        data = bytearray((folder / "corpus.pickle").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / "corpus.pickle").write_bytes(bytes(data))
    elif damage == "record":
        (folder / "corpus.json").write_text("{not json", "utf-8")
    else:
        (folder / "corpus.pickle").unlink()
    assert _store(index, corpus_copy).read() is None


def _fake_chroma(index, seq: int) -> None:
    """The SQLite tables the store reads Chroma's state from, and one segment file."""
    index.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(index / "chroma.sqlite3") as con:
        con.execute("CREATE TABLE IF NOT EXISTS embeddings_queue (seq_id INTEGER)")
        con.execute("CREATE TABLE IF NOT EXISTS max_seq_id (segment_id TEXT, seq_id INTEGER)")
        con.execute("CREATE TABLE IF NOT EXISTS collections (id TEXT, name TEXT)")
        con.execute("INSERT INTO embeddings_queue VALUES (?)", (seq,))
    (index / "segment").mkdir(exist_ok=True)
    (index / "segment" / "data.bin").write_bytes(b"x" * seq)


def test_the_sync_record_holds_only_while_the_index_is_unchanged(saved, corpus_copy):
    index, _ = saved
    _fake_chroma(index, 1)
    store = _store(index, corpus_copy)
    assert not store.in_sync()  # never recorded
    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    store.record_sync(SentenceVectors({("p", 0): 0, ("p", 5): 2}, matrix))
    assert store.in_sync()
    got = store.vectors()
    assert got.rows == {("p", 0): 0, ("p", 5): 2}
    assert np.array_equal(got.matrix, matrix)
    _fake_chroma(index, 2)  # another write to the index
    assert not store.in_sync()


def test_a_sync_record_of_another_corpus_or_damaged_vectors_is_not_used(saved, corpus_copy):
    index, _ = saved
    _fake_chroma(index, 1)
    store = _store(index, corpus_copy)
    store.record_sync(SentenceVectors({("p", 0): 0}, np.ones((1, 2), np.float32)))
    (index / "prepared" / "sentences.pickle").write_bytes(b"garbage")
    assert store.vectors() is None
    doc = sorted(corpus_copy.glob("*.txt"))[0]
    doc.write_text(doc.read_text("utf-8") + "\nAnother line.\n", "utf-8")
    assert not _store(index, corpus_copy).in_sync()


@pytest.mark.integration
def test_a_second_start_skips_the_sync_and_answers_the_same(
    tmp_path, corpus_copy, fake_embedder, monkeypatch
):
    from assistant import Assistant
    from assistant.index import VectorIndex

    def load():
        return Assistant.load(
            corpus_dir=corpus_copy, index_dir=tmp_path / "ix", embedder=fake_embedder
        )

    def answer(bot):
        got = bot.ask("What is the recommended riluzole dose?").to_dict()
        return {k: v for k, v in got.items() if k != "timings"}

    first = answer(load())
    calls = []
    real_sync = VectorIndex.sync
    monkeypatch.setattr(
        VectorIndex, "sync", lambda self, *a, **k: calls.append(1) or real_sync(self, *a, **k)
    )
    assert answer(load()) == first
    assert calls == []  # nothing changed: no sync
    (tmp_path / "ix" / "prepared" / "corpus.pickle").write_bytes(b"damaged")
    assert answer(load()) == first  # rebuilt, same answer
    calls.clear()
    doc = sorted(corpus_copy.glob("*.txt"))[0]
    doc.write_text(doc.read_text("utf-8") + "\n\nZebrafish tolerate riluzole poorly.\n", "utf-8")
    bot = load()
    assert calls == [1]  # the corpus changed: synced
    assert any("Zebrafish" in p.text for p in bot.corpus.passages)
    assert bot.index.count() == len(bot.corpus.passages)


def test_a_start_from_the_prepared_state_derives_what_a_fresh_build_does(
    tmp_path, corpus_copy, fake_embedder
):
    """The kept tables (conflicts, register counts, section words, corpus words) make the same
    stages as a start that builds everything, and as each stage builds itself without them."""
    from assistant import Assistant
    from assistant.facts import FactBook
    from assistant.guard import Guard
    from assistant.register import Register
    from assistant.rules import Rules
    from assistant.scope import Scope
    from assistant.vocabulary import Vocabulary, english_words

    for name in ("dose-note", "dose_note"):  # two figures whose derived fact ids slug alike
        (corpus_copy / f"{name}.txt").write_text(
            "Riluzole 100 mg three times daily is the recommended dose for ALS.\n", "utf-8"
        )
        (corpus_copy / f"{name}.meta.yaml").write_text(
            "title: Dose note\npublisher: Example clinic\naudience: clinician\n"
            "doc_type: guideline\n",
            "utf-8",
        )

    def load():
        return Assistant.load(
            corpus_dir=corpus_copy, index_dir=tmp_path / "ix", embedder=fake_embedder
        )

    fresh = load()
    assert _store(tmp_path / "ix", corpus_copy).read() is not None
    kept = load()
    assert kept.derived is not fresh.derived  # read back, not rebuilt
    assert kept.derived.tables == fresh.derived.tables

    def conflicts(book):
        return [(c.fact, c.passage.id, c.sentence.text, c.registered) for c in book.conflicts]

    rules = Rules.load()
    corpus = kept.corpus
    own = FactBook(rules, corpus, rules.tuning.patient.max_facts)  # finds them itself
    assert len(conflicts(own)) == 2
    assert conflicts(kept.factbook) == conflicts(fresh.factbook) == conflicts(own)
    assert kept.factbook.located.keys() == own.located.keys()

    v = Vocabulary.build(rules, english_words(), " ".join(p.stated for p in corpus.passages))
    assert kept.vocabulary == fresh.vocabulary == v

    defined = kept.structure.abbreviations
    register = Register.build(corpus.passages, rules, v.english, defined)
    for bot in (kept, fresh):
        assert bot.router.register.lean_of == register.lean_of
        assert bot.router.register.known == register.known

    trust, terms = kept.trust, tuple(defined.values())
    guard = Guard(rules, own, trust, Scope(rules, v, corpus.passages, terms))
    for bot in (kept, fresh):
        assert bot.guard.sections == guard.sections
        assert bot.guard.scoping._known_sorted == guard.scoping._known_sorted
        assert bot.guard.collocations == guard.collocations  # kept, and learnt from text alike
        assert (
            bot.guard.scoping._collocations is not None
        )  # given at start, not learnt on first use
    assert kept.retriever.keyword.bm25.fingerprint == fresh.retriever.keyword.bm25.fingerprint
