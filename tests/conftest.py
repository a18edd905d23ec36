"""Shared fixtures. All state goes to tmp; integration fixtures use the real model and Chroma."""

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
