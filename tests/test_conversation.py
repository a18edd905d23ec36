"""Follow-up questions, conversation isolation and bounded history."""

from __future__ import annotations

import threading

import pytest

from assistant.conversation import FollowUpResolver
from assistant.rules import Rules

pytestmark = pytest.mark.integration


def _turns(*pairs):
    out = []
    for q, a in pairs:
        out += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return out


@pytest.fixture(scope="module")
def resolver() -> FollowUpResolver:
    return FollowUpResolver(Rules.load())


def test_dose_follow_up_after_the_approved_drug(bot):
    first = bot.ask("Which drug is FDA-approved to extend survival in ALS?")
    history = _turns(("Which drug is FDA-approved to extend survival in ALS?", first.answer))
    d = bot.ask("And what's its dose?", history=history).to_dict()
    assert "riluzole" in d["search_query"].lower()
    assert "50 mg twice daily" in d["answer"]


def test_too_late_follow_up_after_gastrostomy(bot):
    q1 = "Should my patient with ALS get a gastrostomy?"
    history = _turns((q1, bot.ask(q1).answer))
    d = bot.ask("When is it too late to place one?", history=history).to_dict()
    assert "gastrostomy" in d["search_query"].lower()
    assert "FVC falls below 30%" in d["answer"]
    assert d["audience"] == "clinician"  # the conversation's audience carries over


def test_what_about_keeps_the_subject(bot):
    q1 = "When should NIV be started in ALS?"
    history = _turns((q1, bot.ask(q1).answer))
    d = bot.ask("What about for patients with bulbar weakness?", history=history).to_dict()
    assert "non-invasive ventilation" in d["search_query"]
    assert "BPAP" in d["answer"]


def test_standalone_question_after_history_is_answered_exactly_as_without(bot):
    history = _turns(
        ("What is the riluzole dose?", "…"),
        ("When should NIV start?", "…"),
        ("What about PEG?", "…"),
        ("And side effects?", "…"),
    )
    for q in [
        "What are the first signs of ALS?",
        "How is ALS diagnosed?",
        "What is the prevalence of ALS?",
    ]:
        alone = bot.ask(q).to_dict()
        after = bot.ask(q, history=history).to_dict()
        assert after["search_query"] == q
        assert after["answer"] == alone["answer"] and after["citations"] == alone["citations"]


def test_greeting_is_not_rewritten_into_the_old_topic(resolver):
    history = _turns(("What is the riluzole dose?", "Riluzole 50 mg twice daily …"))
    assert resolver.resolve("hi", history).text == "hi"
    assert resolver.resolve("thanks!", history).text == "thanks!"


def test_topic_switch_is_not_polluted(resolver):
    history = _turns(("What is the riluzole dose?", "Riluzole 50 mg twice daily …"))
    q = "When should a gastrostomy be placed?"
    assert resolver.resolve(q, history).text == q


@pytest.mark.parametrize(
    "question,carried",
    [
        ("side effects?", "riluzole"),
        ("Is it used for drooling?", "botulinum toxin"),
        ("how is it monitored?", "riluzole"),
    ],
)
def test_bare_attributes_and_pronouns_carry_the_subject(resolver, question, carried):
    subject = "botulinum toxin" if carried == "botulinum toxin" else "riluzole"
    q1 = (
        "What is botulinum toxin used for?"
        if subject == "botulinum toxin"
        else "What is riluzole used for?"
    )
    out = resolver.resolve(question, _turns((q1, "…")))
    assert carried in out.carried and carried in out.text


def test_history_is_bounded(bot):
    conv = bot.conversation()
    for _ in range(10):
        conv.ask("What is ALS?")
    assert len(conv.history) == 2 * bot.settings.max_history_turns


def test_two_conversations_never_see_each_others_turns(bot):
    a, b = bot.conversation(), bot.conversation()
    results = {}

    def run(name, conv, q1):
        conv.ask(q1)
        results[name] = conv.ask("And what's its dose?" if name == "a" else "side effects?")

    t1 = threading.Thread(target=run, args=("a", a, "What is riluzole?"))
    t2 = threading.Thread(target=run, args=("b", b, "What is botulinum toxin used for?"))
    t1.start(), t2.start()
    t1.join(), t2.join()
    assert [m["content"] for m in a.history if m["role"] == "user"] == [
        "What is riluzole?",
        "And what's its dose?",
    ]
    assert "botulinum" not in results["a"].search_query
    assert "riluzole" not in results["b"].search_query


def test_suggestions_are_questions_the_corpus_answers(bot):
    d = bot.ask("What is the recommended riluzole dose?", audience="clinician").to_dict()
    assert 2 <= len(d["suggestions"]) <= 3
    for s in d["suggestions"]:
        assert s.endswith("?")
        assert bot.ask(s).status == "answered", s


def test_a_new_subject_replaces_the_old_one_of_its_kind(resolver):
    history = _turns(("At what FVC should NIV be started?", "…"))
    out = resolver.resolve("And for gastrostomy?", history)
    assert "FVC" in out.carried and "non-invasive ventilation" not in out.carried
    history = _turns(("What is the riluzole dose?", "…"))
    out = resolver.resolve("What about edaravone?", history)
    assert "riluzole" not in out.text and "dose" in out.carried


def test_a_declined_turn_gives_no_subject(bot, resolver):
    refused = bot.ask("Which drug treats migraine best?")
    assert refused.status == "refused"
    history = _turns(("Which drug treats migraine best?", refused.answer))
    assert resolver.resolve("What is its dose?", history).carried == ()
