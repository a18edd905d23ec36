"""Audience routing by register: word leans counted from a tiny hand-built corpus (no model)."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.corpus import DocMeta, parse_document
from assistant.register import Register
from assistant.route import Router
from assistant.rules import Rules, RulesError

# Each telling word sits in one passage (a word of every passage, like "ALS", never leans).
CLINICIAN_DOC = """Pathology

Glial inclusions and axonal degeneration: glial inclusions mark axonal degeneration in ALS.

Electrophysiology shows denervation in ALS.

Cortical hyperexcitability precedes onset in ALS.
"""
PATIENT_DOC = """Living with ALS

ALS makes your muscles weak, and you may have trouble swallowing; trouble eating, too.

Your family can help you at home with ALS.

Ask your nurse about a wheelchair for ALS.
"""


def _passages():
    docs = [
        ("clin", CLINICIAN_DOC, "clinician", "guideline_summary"),
        ("pat", PATIENT_DOC, "patient", "patient_factsheet"),
    ]
    return [
        p
        for doc_id, text, audience, doc_type in docs
        for p in parse_document(
            doc_id,
            text,
            DocMeta(
                title=f"{doc_id} document", publisher="Test", audience=audience, doc_type=doc_type
            ),
        ).passages
    ]


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load()


@pytest.fixture(scope="module")
def register(rules) -> Register:
    return Register.build(_passages(), rules)


@pytest.fixture(scope="module")
def router(rules, register) -> Router:
    return Router(rules, register)


def test_words_lean_to_the_audience_whose_documents_use_them(register):
    assert register.lean("glial") > 0 and register.lean("axonal") > 0
    assert register.lean("trouble") < 0 and register.lean("family") < 0
    assert register.lean("als") is None  # in every passage: says nothing about the reader
    assert register.lean("zebra") is None  # no evidence either way
    # A long word the corpus lacks borrows a known form's lean; a short one borrows nothing.
    assert register.lean("degenerations") == register.lean("degeneration")


def test_a_noun_phrase_of_clinician_words_routes_clinician_and_says_why(router):
    r = router.route("Glial inclusions and axonal degeneration?", "auto")
    assert r.audience == "clinician" and r.by_register
    reason = r.to_dict()["reason"]
    assert "clinical density" in reason and "glial" in reason and "noun-phrase form" in reason


def test_the_same_words_from_a_family_member_route_patient(router):
    r = router.route("My mum has glial inclusions and axonal degeneration?", "auto")
    assert r.audience == "patient" and not r.weak
    assert any(w == "my mum" for a, w in r.signals if a == "patient")


def test_an_explicit_audience_wins_over_the_register(router):
    r = router.route("Glial inclusions and axonal degeneration?", "patient")
    assert r.audience == "patient" and r.reason == "chosen explicitly"


def test_plain_words_give_no_clinician_register(router, register):
    assert register.read("Trouble swallowing and weak muscles?").score == 0
    r = router.route("What can help with trouble swallowing?", "auto")
    assert r.audience == "patient"


def test_one_clinician_word_in_a_plain_sentence_is_a_weak_signal(router):
    r = router.route("What does denervation mean?", "auto")
    assert r.weak and r.audience == "patient" and "weak signal" in r.reason


def test_without_a_register_the_router_uses_the_vocabulary_alone(rules):
    r = Router(rules).route("Glial inclusions and axonal degeneration?", "auto")
    assert r.weak and r.audience == "patient"


def test_a_follow_up_without_signal_keeps_the_conversations_audience(router):
    follow = router.route("And how long does that take?", "auto")
    assert follow.weak
    kept = router.follow_conversation(follow, ["Glial inclusions and axonal degeneration?"])
    assert kept.audience == "clinician" and "follow-up" in kept.reason


def test_a_follow_up_decided_by_register_alone_keeps_a_patient_conversation(router):
    follow = router.route("Glial inclusions and axonal degeneration?", "auto")
    kept = router.follow_conversation(follow, ["My mum is scared, what is ALS?"])
    assert kept.audience == "patient"


def test_abbreviations_the_corpus_never_uses_count_known_ones_do_not(register):
    assert register.read("EMG and PFTs in ALS").abbreviations == ("EMG", "PFTs")
    assert register.read("ALS").abbreviations == ()
    assert register.read("WHAT IS ALS").abbreviations == ()  # shouting is not shorthand


def test_register_weights_come_from_the_tuning(rules):
    flat = rules.tuning.model_copy(
        update={"routing": rules.tuning.routing.model_copy(update={"density_weight": 0.0})}
    )
    register = Register.build(_passages(), dataclasses.replace(rules, tuning=flat))
    assert register.read("Glial inclusions and axonal degeneration?").score == 0


def test_routing_tuning_is_validated(rules_copy):
    path = rules_copy / "tuning.yaml"
    path.write_text(path.read_text().replace("smoothing: 0.5", "smoothing: -1"))
    with pytest.raises(RulesError, match=r"tuning\.yaml.*smoothing"):
        Rules.load(rules_copy)


def test_form_words_are_validated_data(rules_copy):
    path = rules_copy / "routing.yaml"
    path.write_text(path.read_text().replace("openers:", "opener:"))
    with pytest.raises(RulesError, match=r"routing\.yaml.*opener"):
        Rules.load(rules_copy)


def test_the_corpus_register_keeps_the_labelled_routing_set(rules):
    from assistant.corpus import Corpus
    from assistant.evaluation import load_routing

    register = Register.build(Corpus.load().passages, rules)
    items = load_routing()
    for routing, least in (
        (rules.routing, 0.95),
        (rules.routing.model_copy(update={"clinician": []}), 0.85),
    ):
        router = Router(dataclasses.replace(rules, routing=routing), register)
        right = sum(router.route(i.question, "auto").audience == i.audience for i in items)
        assert right / len(items) >= least  # the second: the register alone, no clinician list


def test_a_weak_question_written_above_the_clinician_grade_routes_clinician(router):
    hard = "Which look-alike conditions are most often behind the long lag before diagnosis?"
    r = router.route(hard, "auto")
    assert r.audience == "clinician" and "reading grade" in r.reason
    easy = router.route("Is it curable?", "auto")
    assert easy.audience == "patient" and easy.weak
    # The same hard sentence from someone who says who they are stays with the patient side.
    assert router.route(f"My mum asks: {hard}", "auto").audience == "patient"


def test_a_name_the_corpus_defines_reads_as_its_abbreviation(rules):
    text = "Riluzole in amyotrophic lateral sclerosis (ALS) is used. Trouble eating with ALS."
    passages = parse_document(
        "doc",
        text,
        DocMeta(
            title="doc title", publisher="Test", audience="clinician", doc_type="guideline_summary"
        ),
    ).passages
    register = Register.build(passages, rules)
    assert register.grade("What are the symptoms of amyotrophic lateral sclerosis?") == (
        register.grade("What are the symptoms of ALS?")
    )
