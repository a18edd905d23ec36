"""What the command line and the suggestions show people: ingest progress, ``chat --markdown``,
and patient suggestions in plain words. The fake embedder stands in for the model."""

from __future__ import annotations

import io
import re
import sys

import pytest

from assistant import cli
from assistant.corpus import Corpus


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_off_a_terminal_is_plain_lines_with_rate_and_time_left():
    clock, out = Clock(), Stream(tty=False)
    progress = cli.IngestProgress(out, clock=clock)
    progress.parsed(5, 400)
    progress(0, 400)
    clock.now = 10.0
    progress(100, 400)
    clock.now = 40.0
    progress(400, 400)
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines == [
        "parsed 5 documents: 400 passages",
        "building the index: embedding 400 new passages (once; later starts reuse it)",
        "embedded 100/400 passages (25%, 10.0 passages/s, 30 s left)",
        "embedded 400/400 passages (100%, 10.0 passages/s, 0 s left)",
    ]
    assert "\r" not in out.getvalue()


def test_progress_on_a_terminal_is_a_live_bar():
    out = Stream(tty=True)
    progress = cli.IngestProgress(out)
    progress(0, 300)
    progress(256, 300)
    progress(300, 300)
    progress.close()
    text = out.getvalue()
    assert "\r" in text  # redrawn in place
    assert "300/300" in text and "passages/s" in text


def test_an_index_already_up_to_date_says_so():
    out = Stream(tty=False)
    cli.IngestProgress(out)(0, 0)
    assert out.getvalue() == "index up to date: no new passages to embed\n"


def test_sync_reports_progress_after_each_batch(tmp_path, fake_embedder):
    from assistant.config import Settings
    from assistant.index import VectorIndex

    corpus = Corpus.load()
    n = len(corpus.passages)
    index = VectorIndex(Settings(index_dir=tmp_path / "ix"), fake_embedder)
    seen: list[tuple[int, int]] = []
    index.sync(corpus, batch=64, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, n), *((min(k + 64, n), n) for k in range(0, n, 64))]
    seen.clear()
    index.sync(corpus, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 0)]


def test_ingest_prints_progress_then_the_summary(tmp_path, fake_embedder, monkeypatch, capsys):
    import assistant.index

    monkeypatch.setattr(assistant.index, "embed", fake_embedder)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # as ingest sets it
    assert cli.main(["ingest", "--index-dir", str(tmp_path / "ix")]) == 0
    out, err = capsys.readouterr()
    n = len(Corpus.load().passages)
    assert re.search(rf"parsed \d+ documents: {n} passages", err)
    assert f"embedding {n} new passages" in err
    assert "loaded the embedding model" in err
    assert f"embedded {n}/{n} passages (100%" in err
    assert f"{n} added" in out
    assert cli.main(["ingest", "--index-dir", str(tmp_path / "ix")]) == 0
    assert "index up to date" in capsys.readouterr().err


def test_chat_markdown_prints_the_conversation_at_the_end(fake_bot, monkeypatch, capsys):
    questions = ["What is the recommended riluzole dose?", "", "Can I take it with food?"]
    stdin = io.TextIOWrapper(io.BytesIO("\n".join(questions).encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(cli, "_load", lambda args: fake_bot)
    assert cli.main(["chat", "--markdown", "--audience", "clinician"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^## (.+)$", out, re.MULTILINE) == [
        f"1. {questions[0]}",
        f"2. {questions[2]}",
        "Disclaimer",
    ]
    assert "**Sources**" in out
    with pytest.raises(SystemExit):
        cli.main(["chat", "--markdown", "--json"])


# --- suggestions in the audience's words ----------------------------------------------------------


@pytest.fixture(scope="module")
def glossary():
    from assistant.render import Glossary
    from assistant.rules import Rules

    return Glossary(Rules.load().glossary)


def test_patient_questions_put_clinical_terms_in_plain_words(glossary):
    from assistant.suggest import question_for

    heading = "Dysphagia Progression Stages"
    patient = question_for(heading, "patient", glossary.plain)
    assert patient == "What should I know about dysphagia (trouble swallowing) progression stages?"
    assert question_for(heading, "clinician", glossary.plain) == (
        "What do the sources say about dysphagia progression stages?"
    )


def test_a_plain_question_that_misses_its_section_keeps_the_headings_words(glossary):
    from assistant.suggest import Suggestions

    corpus = Corpus.load()
    asked: list[str] = []

    def answerable(question, doc_id, heading):
        asked.append(question)
        return "trouble swallowing" not in question

    table = Suggestions.build(corpus, answerable, glossary.plain)
    patient = {c.question for k, row in table.table.items() if "\x1fpatient\x1f" in k for c in row}
    assert "What should I know about dysphagia progression stages?" in patient
    assert not any("trouble swallowing" in q for q in patient)
    assert "What should I know about dysphagia (trouble swallowing) progression stages?" in asked
    plain = Suggestions.build(corpus, lambda *_: True, glossary.plain)
    worded = {c.question for k, row in plain.table.items() if "\x1fpatient\x1f" in k for c in row}
    assert "What should I know about breathing management?" in worded
    assert "What should I know about respiratory management?" not in worded


def test_prepared_patient_suggestions_are_plain_wherever_plain_words_retrieve(fake_bot):
    """A patient suggestion keeps a clinical term only when its plain wording was not
    answerable; every prepared one retrieves its section."""
    glossary, table = fake_bot.glossary, fake_bot.suggestions
    rows = [(k, c) for k, row in table.table.items() if "\x1fpatient\x1f" in k for c in row]
    assert rows

    def retrieves(question, doc_id, heading):
        hits = fake_bot.retriever.search(question, 3).hits
        return any(h.passage.doc_id == doc_id and heading in h.passage.section for h in hits)

    checked = {}
    for key, c in rows:
        doc_id = key.split("\x1f")[0]
        plain = glossary.plain(c.question)
        if (plain, doc_id) not in checked:
            checked[plain, doc_id] = plain == c.question or not retrieves(plain, doc_id, c.heading)
        assert checked[plain, doc_id], c.question
    assert any("trouble swallowing" in c.question for _, c in rows)
