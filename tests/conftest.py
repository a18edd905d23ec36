"""Shared fixtures. All state goes to tmp.

Unit tests use ``fake_bot`` (the real corpus and rules, a real Chroma folder in tmp, and the
deterministic :class:`embedders.FakeEmbedder` instead of the model). Tests that need the real
embedding model use ``bot`` and carry ``@pytest.mark.integration``; a test without that mark
that calls the model fails (see ``pytest_runtest_setup`` / ``pytest_runtest_call`` below).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


# --- the embedding model is a resource only integration tests may use --------------------------


class ModelCalls:
    """Counts calls of ``assistant.embeddings.model`` (the real model's loader)."""

    def __init__(self) -> None:
        self.count = 0
        self.by: list[str] = []  # node ids of the tests that called it


MODEL_CALLS = ModelCalls()
_current: list[str] = []


def pytest_configure(config):
    import assistant.embeddings as embeddings

    real = embeddings.model

    def counted():
        MODEL_CALLS.count += 1
        if _current and _current[-1] not in MODEL_CALLS.by:
            MODEL_CALLS.by.append(_current[-1])
        return counted.real()

    counted.cache_info = real.cache_info  # type: ignore[attr-defined]
    counted.real = real  # type: ignore[attr-defined]  # a test of this hook stubs it
    embeddings.model = counted  # embed() looks the loader up at call time


def _unit(item) -> bool:
    return item.get_closest_marker("integration") is None


def _no_model_for_unit_tests(item, phase: str):
    before = MODEL_CALLS.count
    _current.append(item.nodeid)
    try:
        yield
    finally:
        _current.pop()
    if _unit(item) and MODEL_CALLS.count > before:
        pytest.fail(
            f"{item.nodeid} used the embedding model during {phase} without "
            "@pytest.mark.integration; use the fake_bot fixture or mark the test",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _no_model_for_unit_tests(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _no_model_for_unit_tests(item, "the test"))


def pytest_sessionfinish(session, exitstatus):
    """A unit-only run (``-m "not integration"``) fails if anything loaded the model."""
    markexpr = session.config.option.markexpr or ""
    if "not integration" in markexpr and MODEL_CALLS.count:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "FAILED: the embedding model was loaded in a unit-only run by "
                + (", ".join(MODEL_CALLS.by) or "a fixture outside any test"),
                red=True,
            )


# --- state ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path, monkeypatch):
    """No test writes the repository's index or reads a developer's settings."""
    for var in list(os.environ):
        if var.startswith("ASSISTANT_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("shared-index")


@pytest.fixture(scope="session")
def bot(index_dir):
    """One real assistant (real embedding model, real Chroma folder) for the session."""
    from assistant import Assistant

    return Assistant.load(index_dir=index_dir)


@pytest.fixture(scope="session")
def fake_embedder():
    from embedders import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture(scope="session")
def fake_bot(tmp_path_factory, fake_embedder):
    """The real corpus and rules over a real Chroma folder in tmp, with the fake embedder."""
    from assistant import Assistant

    return Assistant.load(index_dir=tmp_path_factory.mktemp("fake-index"), embedder=fake_embedder)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private copy of the corpus a test may edit."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    """A private copy of the rules folder a test may edit."""
    from assistant.rules import RULES_DIR

    dest = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dest)
    return dest


@pytest.fixture(scope="session")
def ui_server(bot):
    """The chat UI over the session's assistant, served on a free loopback port."""
    import ui_conftest_helpers

    server = ui_conftest_helpers.start(bot)
    yield server
    server.app.close()
