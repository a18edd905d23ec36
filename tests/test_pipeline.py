"""End to end through the public API and the CLI (real model, real Chroma folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

DOSE = "50 mg twice daily (taken at least 1 hour before or 2 hours after meals)"
CONTRACT = {"question", "audience", "status", "answer", "citations", "facts", "disclaimer"}


def test_riluzole_dose_is_quoted_exactly_and_cited(bot):
    d = bot.ask("What is the recommended riluzole dose?").to_dict()
    assert d["status"] == "answered"
    assert f"“{DOSE}”" in d["answer"] or DOSE in d["answer"]
    sentence_line = next(line for line in d["answer"].splitlines() if DOSE in line)
    n = int(sentence_line.rsplit("[", 1)[1].rstrip("]"))
    cite = next(c for c in d["citations"] if c["n"] == n)
    assert cite["doc"] == "000_2a7555900f987ae7"
    assert DOSE in cite["quote"]
    assert cite["section"] == "Treatment Options › Disease-Modifying Medication"
    assert {r["source"] for r in cite["references"]} == {"Orphanet journal of rare diseases, 2009"}
    assert any(DOSE in f["text"] for f in d["facts"])


def test_citation_quotes_are_exact_source_spans(bot):
    d = bot.ask("When should non-invasive ventilation be started?").to_dict()
    texts = {doc.id: doc.text for doc in bot.corpus.documents.values()}
    assert d["citations"]
    for c in d["citations"]:
        assert texts[c["doc"]][c["start"] : c["end"]] == c["quote"]


def test_answer_contract(bot):
    d = bot.ask("What are the first signs of ALS?").to_dict()
    assert set(d) >= CONTRACT
    assert d["audience"] in ("clinician", "patient")
    assert d["status"] in ("answered", "refused", "emergency")
    for c in d["citations"]:
        assert {"n", "doc", "title", "section", "quote", "references"} <= set(c)
    assert isinstance(d["facts"], list) and isinstance(d["disclaimer"], str)
    json.dumps(d)  # serialisable


def test_every_answer_sentence_carries_a_citation(bot):
    d = bot.ask("How is dysphagia managed in ALS?", audience="clinician").to_dict()
    for line in d["answer"].splitlines():
        line = line.strip()
        if line.startswith("- ") and not line.endswith(":"):
            assert line.rstrip().endswith("]"), line


def test_answers_are_deterministic(bot):
    a = bot.ask("How common is ALS?", audience="clinician").to_dict()
    b = bot.ask("How common is ALS?", audience="clinician").to_dict()
    assert a["answer"] == b["answer"] and a["citations"] == b["citations"]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   \n\t ",
        "x" * 2001,
        "what is\x00 als",
        "dose\x1b[31m",
        b"\xff\xfe\x00bad",
        "\udcff broken",
    ],
)
def test_bad_input_is_a_value_error_with_a_message(bot, bad):
    with pytest.raises(ValueError) as err:
        bot.ask(bad)
    assert str(err.value)


@pytest.mark.parametrize(
    "history",
    ["not a list", [{"role": "system", "content": "x"}], [{"role": "user", "content": 3}]],
)
def test_malformed_history_is_a_value_error(bot, history):
    with pytest.raises(ValueError):
        bot.ask("What is ALS?", history=history)


def test_bad_audience_is_a_value_error(bot):
    with pytest.raises(ValueError):
        bot.ask("What is ALS?", audience="robot")


def _cli(args, index_dir, stdin=None):
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir)}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=180,
    )


def test_cli_ask_json_and_text(index_dir, bot):
    out = _cli(["ask", "What is the recommended riluzole dose?", "--json"], index_dir)
    assert out.returncode == 0, out.stderr.decode()
    d = json.loads(out.stdout)
    assert d["status"] == "answered" and DOSE in d["answer"]
    text = _cli(["ask", "What is the riluzole dose?", "--audience", "patient"], index_dir)
    assert text.returncode == 0 and b"Sources:" in text.stdout
    assert b"The above information is an educational aid only." in text.stdout


def test_cli_bad_input_exits_2_without_traceback(index_dir, bot):
    out = _cli(["ask", "   "], index_dir)
    assert out.returncode == 2
    assert b"Traceback" not in out.stderr and b"empty" in out.stderr


def test_cli_chat_keeps_history_across_lines(index_dir, bot):
    lines = "Which drug is FDA-approved to extend survival in ALS?\nAnd what's its dose?\n"
    out = _cli(["chat", "--json"], index_dir, stdin=lines.encode())
    assert out.returncode == 0, out.stderr.decode()
    _first, second = (json.loads(x) for x in out.stdout.decode().splitlines())
    assert "riluzole" in second["search_query"].lower()
    assert "50 mg" in second["answer"]


def test_cli_chat_reports_bad_lines_and_continues(index_dir, bot):
    out = _cli(["chat", "--json"], index_dir, stdin=b"\xff\xfe\nWhat is ALS?\n")
    lines = [json.loads(x) for x in out.stdout.decode().splitlines()]
    assert "error" in lines[0] and lines[1]["status"] == "answered"
    assert out.returncode == 2 and b"Traceback" not in out.stderr


def test_cli_ingest_is_idempotent(index_dir, bot):
    out = _cli(["ingest"], index_dir)
    assert out.returncode == 0, out.stderr.decode()
    assert b"0 added, 0 removed" in out.stdout


def test_cli_ingest_reports_a_malformed_corpus_file(tmp_path, corpus_copy):
    (corpus_copy / "000_2a7555900f987ae7.meta.yaml").write_text("title: [unclosed\n")
    out = _cli(["ingest", "--corpus-dir", str(corpus_copy)], tmp_path / "ix")
    assert out.returncode == 2 and b"000_2a7555900f987ae7.meta.yaml" in out.stderr
    assert b"Traceback" not in out.stderr


def test_hybrid_retriever_is_a_langchain_retriever(bot):
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    retriever = bot.retriever.as_langchain(k=6)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("What is the riluzole dose?")
    assert len(docs) == 6 and all(isinstance(d, Document) for d in docs)
    assert any("50 mg twice daily" in d.page_content for d in docs)
    first = docs[0]
    assert {"doc_id", "section", "start", "end", "references"} <= set(first.metadata)
    text = bot.corpus.documents[first.metadata["doc_id"]].text
    assert text[first.metadata["start"] : first.metadata["end"]] == first.page_content
