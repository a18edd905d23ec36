"""End to end through the public API and the CLI.

The API and the CLI run in-process on the fake embedder; one CLI test runs the real thing in a
subprocess (integration). Expected citations are read from the corpus objects, not copied from
today's documents; the figures of particular answers are evaluation cases.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant import cli

CONTRACT = {"question", "audience", "status", "answer", "citations", "facts", "disclaimer"}
REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What is the recommended riluzole dose?",
    "When should non-invasive ventilation be started?",
    "How is dysphagia managed in ALS?",
    "When should a gastrostomy be placed?",
]


# --- answers --------------------------------------------------------------------------------


def test_a_quoted_facts_citation_is_the_passage_that_holds_it(fake_bot):
    d = fake_bot.ask("What is the recommended riluzole dose?", audience="clinician").to_dict()
    assert d["status"] == "answered" and d["facts"]
    for fact in d["facts"]:
        loc = fake_bot.factbook.located[fact["id"]]
        cite = next(c for c in d["citations"] if c["n"] == fact["n"])
        assert cite["doc"] == loc.passage.doc_id and cite["quote"] == loc.passage.text
        assert cite["section"] == loc.passage.section_label
        assert [r["source"] for r in cite["references"]] == [
            r.source for r in loc.passage.references
        ]
        line = next(x for x in d["answer"].splitlines() if f"“{fact['text']}" in x)
        assert f"[{fact['n']}]" in line


@pytest.mark.parametrize("question", QUESTIONS)
def test_citation_quotes_are_exact_source_spans(fake_bot, question):
    d = fake_bot.ask(question).to_dict()
    assert d["citations"]
    for c in d["citations"]:
        text = fake_bot.corpus.documents[c["doc"]].text
        assert text[c["start"] : c["end"]] == c["quote"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_contract(fake_bot, question):
    d = fake_bot.ask(question).to_dict()
    assert set(d) >= CONTRACT
    assert d["audience"] in ("clinician", "patient")
    assert d["status"] in ("answered", "refused", "emergency")
    for c in d["citations"]:
        assert {"n", "doc", "title", "section", "quote", "references"} <= set(c)
    assert [c["n"] for c in d["citations"]] == list(range(1, len(d["citations"]) + 1))
    assert isinstance(d["facts"], list) and isinstance(d["disclaimer"], str)
    json.dumps(d)  # serialisable


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_every_answer_sentence_carries_a_citation_that_exists(fake_bot, audience):
    d = fake_bot.ask("How is dysphagia managed in ALS?", audience=audience).to_dict()
    cited = {c["n"] for c in d["citations"]}
    lines = [x.strip() for x in d["answer"].splitlines() if x.strip()]
    points = [k for k, x in enumerate(lines) if x.startswith(("- ", "> "))]
    assert points
    for k in points:
        line = lines[k]
        if line.endswith(":"):
            continue  # a lead-in shown above its bullets
        marks = {int(n) for n in re.findall(r"\[(\d+)\]", line)}
        if not marks and k + 1 < len(lines) and lines[k + 1].startswith("> "):
            continue  # a patient fact's plain framing; the quote below carries the citation
        assert marks and marks <= cited, line


def test_answers_are_deterministic_across_assistants(fake_bot, fake_embedder):
    from assistant import Assistant

    again = Assistant.load(index_dir=fake_bot.settings.index_dir, embedder=fake_embedder)
    for q in QUESTIONS:
        a = fake_bot.ask(q, audience="clinician").to_dict()
        b = fake_bot.ask(q, audience="clinician").to_dict()
        c = again.ask(q, audience="clinician").to_dict()
        assert a["answer"] == b["answer"] == c["answer"]
        assert a["citations"] == b["citations"] == c["citations"]


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
        12,
    ],
)
def test_bad_input_is_a_value_error_with_a_message(fake_bot, bad):
    with pytest.raises(ValueError) as err:
        fake_bot.ask(bad)
    assert str(err.value)


@pytest.mark.parametrize(
    "history",
    ["not a list", [{"role": "system", "content": "x"}], [{"role": "user", "content": 3}]],
)
def test_malformed_history_is_a_value_error(fake_bot, history):
    with pytest.raises(ValueError):
        fake_bot.ask("What is ALS?", history=history)


def test_bad_audience_is_a_value_error(fake_bot):
    with pytest.raises(ValueError):
        fake_bot.ask("What is ALS?", audience="robot")


def test_hybrid_retriever_is_a_langchain_retriever(fake_bot):
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    retriever = fake_bot.retriever.as_langchain(k=6)
    assert isinstance(retriever, BaseRetriever)
    q = "What is the riluzole dose?"
    docs = retriever.invoke(q)
    assert len(docs) == 6 and all(isinstance(d, Document) for d in docs)
    assert [d.id for d in docs] == [h.passage.id for h in fake_bot.retriever.search(q, 6).hits]
    for doc in docs:
        assert {"doc_id", "section", "start", "end", "references"} <= set(doc.metadata)
        text = fake_bot.corpus.documents[doc.metadata["doc_id"]].text
        assert text[doc.metadata["start"] : doc.metadata["end"]] == doc.page_content


# --- the CLI, in-process on the fake embedder ------------------------------------------------


@pytest.fixture
def fake_cli(monkeypatch, fake_bot, fake_embedder, capsys):
    """``run(args, stdin=b"")`` -> (exit code, stdout, stderr) over fake_bot's index."""
    import assistant.index

    monkeypatch.setattr(assistant.index, "embed", fake_embedder)

    def run(args, stdin: bytes = b""):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = cli.main([*args, "--index-dir", str(fake_bot.settings.index_dir)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_ask_json_and_text(fake_cli, fake_bot):
    code, out, _ = fake_cli(["ask", "What is the recommended riluzole dose?", "--json"])
    d = json.loads(out)
    assert code == 0 and d["status"] == "answered"
    assert d == fake_bot.ask("What is the recommended riluzole dose?").to_dict() | {
        "retrieved": d["retrieved"],
        "timings": d["timings"],  # milliseconds differ run to run
    }
    code, out, _ = fake_cli(["ask", "What is the riluzole dose?", "--audience", "patient"])
    assert code == 0 and "Sources:" in out
    assert fake_bot.rules.disclaimer_for("patient").text in out


def test_cli_bad_input_exits_2_without_traceback(fake_cli):
    code, _, err = fake_cli(["ask", "   "])
    assert code == 2 and "Traceback" not in err and "empty" in err


def test_cli_chat_keeps_history_across_lines(fake_cli):
    code, out, err = fake_cli(["chat", "--json"], b"What is riluzole?\nAnd what's its dose?\n")
    assert code == 0, err
    first, second = (json.loads(x) for x in out.splitlines())
    assert first["search_query"] == "What is riluzole?"
    assert "riluzole" in second["search_query"].lower()
    assert second["search_query"] != "And what's its dose?"


def test_cli_chat_reports_bad_lines_and_continues(fake_cli):
    code, out, err = fake_cli(["chat", "--json"], b"\xff\xfe\nWhat is riluzole?\n")
    lines = [json.loads(x) for x in out.splitlines()]
    assert "error" in lines[0] and lines[1]["status"] in ("answered", "refused")
    assert code == 2 and "Traceback" not in err


def test_cli_ingest_is_idempotent(fake_cli):
    code, out, err = fake_cli(["ingest"])
    assert code == 0, err
    assert "0 added, 0 removed" in out


def test_cli_ingest_reports_a_malformed_corpus_file(fake_cli, corpus_copy):
    meta = next(corpus_copy.glob("*.meta.yaml"))
    meta.write_text("title: [unclosed\n")
    code, _, err = fake_cli(["ingest", "--corpus-dir", str(corpus_copy)])
    assert code == 2 and meta.name in err and "Traceback" not in err


@pytest.mark.integration
def test_cli_ask_runs_end_to_end_on_the_real_model(tmp_path, index_dir, bot):
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "What is the riluzole dose?", "--json"],
        capture_output=True,
        env=env,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr.decode()
    d = json.loads(out.stdout)
    assert d["status"] == "answered" and d["facts"] and d["citations"]


# --- the unit run never loads the embedding model ---------------------------------------------

PROBE = textwrap.dedent(
    """
    import json, sys
    from embedders import FakeEmbedder
    import assistant.embeddings as embeddings
    from assistant import Assistant

    bot = Assistant.load(index_dir=sys.argv[1], embedder=FakeEmbedder())
    conv = bot.conversation()
    statuses = [conv.ask(q).status for q in (
        "What is the riluzole dose?", "And its side effects?", "My husband is choking right now",
        "What is the capital of France?",
    )]
    print(json.dumps({
        "statuses": statuses,
        "sentence_transformers": "sentence_transformers" in sys.modules,
        "loaded": embeddings.model.cache_info().currsize,
    }))
    """
)


def test_the_fake_assistant_answers_without_loading_the_embedding_model(tmp_path, fake_bot):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
        "ASSISTANT_INDEX_DIR": str(tmp_path / "unused"),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(fake_bot.settings.index_dir)],
        capture_output=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr.decode()
    got = json.loads(out.stdout.decode().splitlines()[-1])
    assert got["statuses"][0] == "answered" and got["statuses"][2] == "emergency"
    assert got["sentence_transformers"] is False and got["loaded"] == 0


SNEAKY = """
import pytest

import assistant.embeddings as embeddings


def _call_the_model(monkeypatch):
    monkeypatch.setattr(embeddings.model, "real", lambda: None)  # counted, never loaded
    embeddings.model()


def test_unmarked(monkeypatch):
    _call_the_model(monkeypatch)


@pytest.mark.integration
def test_marked(monkeypatch):
    _call_the_model(monkeypatch)


def test_plain():
    pass
"""


def test_a_unit_test_that_calls_the_model_fails_and_so_does_a_unit_only_run(tmp_path):
    tests = Path(__file__).parent
    for name in ("conftest.py", "embedders.py"):
        (tmp_path / name).write_text((tests / name).read_text(encoding="utf-8"))
    (tmp_path / "test_sneaky.py").write_text(SNEAKY)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    integration: real model\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "not integration"]
    out = subprocess.run(args, capture_output=True, env=env, cwd=tmp_path, timeout=120)
    report = out.stdout.decode()
    assert out.returncode == 1, report
    assert "test_unmarked used the embedding model" in report
    assert "the embedding model was loaded in a unit-only run" in report
    assert "1 failed, 1 passed, 1 deselected" in report
