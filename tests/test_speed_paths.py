"""The fast paths give the same results as the reference ones (behaviour; speed is benchmarked).

- questions are embedded by a NumPy forward pass of the packaged MiniLM: it must agree with
  sentence-transformers, the passage path;
- the keyword index is saved beside the index and memory-mapped: it must rank as rank_bm25's
  BM25Okapi, and be rebuilt when the passages change;
- answering imports neither the UI (gradio) nor torch, sentence-transformers or langchain.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from assistant.corpus import Corpus
from assistant.retrieve import KeywordIndex, _keyword_text
from assistant.text import STOPWORDS, tokens

QUERIES = [
    "What is the recommended riluzole dose?",
    "rilzole dose dose",  # a misspelling, and a repeated word (rank_bm25 counts it twice)
    "When should non-invasive ventilation be started?",
    "als als patients",  # a word in most passages (its idf is floored)
    "feeding tube PEG FVC",
    "zzzz qqqq",  # nothing the corpus knows
]
HEAVY = ("gradio", "torch", "sentence_transformers", "langchain", "langchain_core", "transformers")


@pytest.fixture(scope="module")
def passages():
    return Corpus.load().passages


def _rank_bm25(index: KeywordIndex, query: str, k: int):
    """What KeywordIndex.search returned before: rank_bm25 over the same tokens."""
    okapi = BM25Okapi([tokens(_keyword_text(p)) for p in index.passages])
    terms = [t for t in index.analyse(query).all if t not in STOPWORDS]
    if not terms:
        return []
    scores = okapi.get_scores(terms)
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [(i, float(scores[i])) for i in ranked[:k] if scores[i] > 0]


def test_the_saved_keyword_index_ranks_as_rank_bm25_and_is_memory_mapped(passages, tmp_path):
    built = KeywordIndex(passages, saved=tmp_path / "kw")
    loaded = KeywordIndex(passages, saved=tmp_path / "kw")
    assert isinstance(loaded.bm25.engine.scores["data"], np.memmap)  # read back, not rebuilt
    for q in QUERIES:
        want = _rank_bm25(built, q, 40)
        assert built.search(built.analyse(q).all, 40) == want, q
        assert loaded.search(loaded.analyse(q).all, 40) == want, q
    assert any(_rank_bm25(built, q, 40) for q in QUERIES)
    docs = [tokens(_keyword_text(p)) for p in built.passages]
    assert loaded.df == built.df == Counter(t for d in docs for t in set(d))


def test_the_keyword_index_is_rebuilt_when_the_passages_change(passages, tmp_path):
    KeywordIndex(passages, saved=tmp_path / "kw")
    fewer = passages[5:]
    changed = KeywordIndex(fewer, saved=tmp_path / "kw")
    assert not isinstance(changed.bm25.engine.scores["data"], np.memmap)
    assert len(changed.passages) == len([p for p in fewer if p.kind != "disclaimer"])
    q = QUERIES[0]
    assert changed.search(changed.analyse(q).all, 40) == _rank_bm25(changed, q, 40)
    again = KeywordIndex(fewer, saved=tmp_path / "kw")  # and the new one is what is saved
    assert isinstance(again.bm25.engine.scores["data"], np.memmap)


def test_an_unreadable_saved_keyword_index_is_rebuilt(passages, tmp_path, caplog):
    KeywordIndex(passages, saved=tmp_path / "kw")
    (tmp_path / "kw" / "params.index.json").write_text("{not json")
    with caplog.at_level(logging.WARNING):
        index = KeywordIndex(passages, saved=tmp_path / "kw")
    assert "unreadable keyword index" in caplog.text
    q = QUERIES[2]
    assert index.search(index.analyse(q).all, 10) == _rank_bm25(index, q, 10)


def test_answers_carry_milliseconds_per_stage():
    from assistant.config import Settings
    from assistant.pipeline import Assistant
    from assistant.rules import Rules

    bot = Assistant(Settings(retrieval="keyword"), Corpus.load(), Rules.load(), None)
    answered = bot.ask("What is the recommended riluzole dose?").to_dict()
    assert answered["status"] == "answered"
    stages = {"route", "retrieve", "compose", "guard", "repair", "assemble", "total"}
    assert set(answered["timings"]) == stages
    assert all(isinstance(v, float) and v >= 0 for v in answered["timings"].values())
    t = answered["timings"]
    assert t["total"] >= sum(v for k, v in t.items() if k != "total") - 0.1  # rounding
    refused = bot.ask("What is the capital of France?").to_dict()
    assert refused["status"] == "refused"
    assert {"route", "retrieve", "assemble", "total"} <= set(refused["timings"])


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(list(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_the_cli_and_the_pipeline_import_nothing_heavy():
    loaded = _modules_after("import assistant.cli, assistant.pipeline")
    assert not loaded & set(HEAVY)


@pytest.mark.integration
def test_asking_from_the_cli_imports_no_ui_no_torch_no_langchain(bot, index_dir):
    code = (
        "import contextlib, io\nfrom assistant.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    rc = main(['ask', 'What is the riluzole dose?', '--index-dir', {str(index_dir)!r}])\n"
        "assert rc == 0 and '50 mg' in out.getvalue(), out.getvalue()"
    )
    assert not _modules_after(code) & set(HEAVY)


@pytest.mark.integration
def test_numpy_query_embeddings_match_sentence_transformers_on_long_and_sampled_passages(
    passages,
):
    from assistant.embeddings import embed

    # The longest passages (where padding and truncation differ most) and every fifth of the
    # rest: the same checks at a third of the time of every passage.
    texts = [p.embed_text() for p in passages]
    longest = set(sorted(texts, key=len)[-16:])
    texts = [t for i, t in enumerate(texts) if t in longest or i % 5 == 0] + QUERIES
    reference = np.asarray(embed(texts))
    fast = np.asarray(embed.query(texts))
    assert fast.shape == reference.shape
    cosine = (reference * fast).sum(axis=1)  # both unit length
    assert cosine.min() >= 0.999, texts[int(cosine.argmin())]
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    one = np.asarray(embed.query([QUERIES[0]]))[0]  # alone (no padding) as in a batch
    assert float(one @ reference[len(texts) - len(QUERIES)]) >= 0.999


def test_the_index_reads_its_ids_a_page_at_a_time():
    from assistant.index import VectorIndex

    class Collection:  # a large collection's get() must be paged (SQLite's variable limit)
        ids = tuple(f"p{i}" for i in range(12))
        calls = 0

        def get(self, include, limit, offset):
            Collection.calls += 1
            ids = self.ids[offset : offset + limit]
            return {"ids": ids, "metadatas": [{"id": i} for i in ids]}

    index = VectorIndex.__new__(VectorIndex)
    index.collection = Collection()
    have = index._existing(page=5)
    assert tuple(have) == Collection.ids and have["p7"] == {"id": "p7"}
    assert Collection.calls == 3
