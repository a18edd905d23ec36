"""A document that disagrees is never shown as agreement; an index outage reads as one message.

A document that gives another figure for a quantity the fact registry describes (riluzole
100 mg against the registered 50 mg) is reported at ingest and at load, naming both documents,
and answers show both figures as a difference, each cited, for clinicians and patients.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil

import pytest
import reliability_helpers as h
import yaml
from reliability_helpers import RILUZOLE

from assistant import cli
from assistant.config import Settings
from assistant.corpus import Corpus
from assistant.facts import FactBook
from assistant.index import IndexUnavailableError
from assistant.pipeline import Assistant
from assistant.rules import Rules, RulesError

HIGH = "Riluzole 100 mg three times daily is the recommended dose for ALS."
SAME = "Riluzole 50 mg twice daily is the recommended dose for ALS."
NEW_DOC = "riluzole_dosing_note"
SIDECAR = {
    "title": "Riluzole dosing note",
    "publisher": "Example clinic",
    "audience": "clinician",
    "doc_type": "guideline",
}


def _corpus_with(folder, sentence: str):
    """The seed corpus plus one document holding ``sentence``, with a valid sidecar."""
    shutil.copytree(h.CORPUS, folder)
    (folder / f"{NEW_DOC}.txt").write_text(sentence + "\n", encoding="utf-8")
    (folder / f"{NEW_DOC}.meta.yaml").write_text(yaml.safe_dump(SIDECAR), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def rules():
    return Rules.load()


@pytest.fixture(scope="module")
def registered(rules):
    """The documents the registry's riluzole dose facts come from."""
    return sorted({f.doc for f in rules.facts if f.quantity == "riluzole_dose"})


@pytest.fixture(scope="module")
def high_corpus(tmp_path_factory):
    return _corpus_with(tmp_path_factory.mktemp("high") / "corpus", HIGH)


# --- finding the figure ---------------------------------------------------------------------


def test_the_seed_corpus_reports_no_conflicting_figure(rules):
    assert FactBook(rules, Corpus.load()).conflicts == ()


def test_a_document_that_repeats_50_mg_reports_nothing(rules, tmp_path):
    corpus = Corpus.load(_corpus_with(tmp_path / "corpus", SAME))
    assert FactBook(rules, corpus).conflicts == ()


def test_a_different_dose_is_found_naming_both_documents(rules, registered, high_corpus):
    (conflict,) = FactBook(rules, Corpus.load(high_corpus)).conflicts
    assert conflict.fact.doc == NEW_DOC and conflict.fact.text == HIGH
    assert conflict.fact.quantity == "riluzole_dose"
    message = conflict.message()
    assert "\n" not in message and "100 mg" in message and "50 mg" in message
    assert NEW_DOC in message and all(doc in message for doc in registered)


def test_a_bad_quantity_description_is_a_clear_error(tmp_path):
    folder = shutil.copytree(Rules.load().folder, tmp_path / "rules")
    path = folder / "facts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    good = data["quantities"]["riluzole_dose"]
    for bad, expected in [
        ({"nonexistent_quantity": good}, "no fact has it"),
        ({"riluzole_dose": {**good, "subject": ["edaravone"]}}, "edaravone"),
        ({"riluzole_dose": {**good, "unit": "ml"}}, "'ml'"),
        ({"riluzole_dose": {**good, "extra": 1}}, "extra"),
    ]:
        path.write_text(yaml.safe_dump({**data, "quantities": bad}), encoding="utf-8")
        with pytest.raises((RulesError, ValueError)) as err:
            Rules.load(folder)
        assert expected in str(err.value)


# --- answers show a difference --------------------------------------------------------------


@pytest.fixture(scope="module")
def high_bot(rules, high_corpus):
    """The corpus with the 100 mg document, keyword retrieval only (no index, no model)."""
    return Assistant(Settings(retrieval="keyword"), Corpus.load(high_corpus), rules, None)


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_answers_show_100_and_50_mg_as_a_difference_each_cited(high_bot, registered, audience):
    d = high_bot.ask(RILUZOLE, audience=audience).to_dict()
    assert d["status"] == "answered"
    (diff,) = [x for x in d["differences"] if x["quantity"] == "riluzole_dose"]
    cited = {c["n"]: c for c in d["citations"]}
    items = {i["text"]: i for i in diff["items"]}
    assert HIGH in items and any("50 mg" in t for t in items), items
    for item in diff["items"]:
        c = cited[item["n"]]
        assert c["doc"] == item["doc"] and item["text"] in c["quote"]
    assert items[HIGH]["doc"] == NEW_DOC and {i["doc"] for i in diff["items"]} & set(registered)
    # Under the "sources differ" line, each figure on its own line with its own marker.
    differ = high_bot.rules.safety.sources_differ_line
    shown = d["answer"].split(differ, 1)[1]
    for item in diff["items"]:
        assert f"“{item['text']}” [{item['n']}]" in shown
    assert HIGH in {f["text"] for f in d["facts"]}


def test_building_the_assistant_logs_the_conflict(rules, high_corpus, caplog):
    with caplog.at_level(logging.WARNING, logger="assistant"):
        Assistant(Settings(retrieval="keyword"), Corpus.load(high_corpus), rules, None)
    assert any(NEW_DOC in r.getMessage() and "100 mg" in r.getMessage() for r in caplog.records)


@pytest.mark.integration
def test_ingest_prints_the_conflict_naming_both_documents(
    high_corpus, registered, tmp_path, capsys, monkeypatch
):
    from embedders import FakeEmbedder

    monkeypatch.setattr("assistant.index.embed", FakeEmbedder())  # a real Chroma folder
    args = ["ingest", "--corpus-dir", str(high_corpus), "--index-dir", str(tmp_path / "index")]
    assert cli.main(args) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "conflicting figure" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning: "), lines
    assert NEW_DOC in lines[0] and all(doc in lines[0] for doc in registered)


@pytest.mark.integration
def test_ingest_of_the_seed_corpus_reports_no_conflict(tmp_path, capsys, monkeypatch):
    from embedders import FakeEmbedder

    monkeypatch.setattr("assistant.index.embed", FakeEmbedder())
    assert cli.main(["ingest", "--index-dir", str(tmp_path / "index")]) == 0
    assert "conflicting figure" not in capsys.readouterr().err


# --- the page during an index outage --------------------------------------------------------


class _Flaky:
    """An assistant whose retrieval fails (a Chroma server outage) until ``up`` is set."""

    up = False

    def ask(self, question, audience="auto", history=None):
        if not self.up:
            raise IndexUnavailableError("Chroma server at 127.0.0.1:1 does not answer")
        return _Answer(question)


@dataclasses.dataclass
class _Answer:
    question: str

    def to_dict(self) -> dict:
        return {"question": self.question, "status": "answered", "answer": "It is answered [1]."}


def _page():
    from ui.handlers import Page

    names = [f.name for f in dataclasses.fields(Page)]
    return Page(
        **{
            n: [object() for _ in range(3)] if n == "suggestion_buttons" else object()
            for n in names
        }
    )


def test_the_page_says_the_index_is_unreachable_then_recovers():
    from ui.handlers import Handlers
    from ui.render import INDEX_UNAVAILABLE

    bot = _Flaky()
    handlers = Handlers(bot, _page())
    assert handlers.api_ask(RILUZOLE, "clinician") == {"error": INDEX_UNAVAILABLE}
    *_, failed = handlers.respond(RILUZOLE, "clinician", [], [])
    chat = failed[handlers.page.chatbot]
    assert INDEX_UNAVAILABLE in chat[-1]["content"] and "127.0.0.1" not in chat[-1]["content"]
    assert failed[handlers.page.question_box] == RILUZOLE  # the question stays in the box
    bot.up = True
    assert handlers.api_ask(RILUZOLE, "clinician")["status"] == "answered"
