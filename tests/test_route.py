"""Audience routing and the two answer modes."""

from __future__ import annotations

import pytest

from assistant.answer import Glossary
from assistant.evaluation import load_routing, reading_grade
from assistant.route import Router
from assistant.rules import GlossaryEntry, Rules, RulesError

PROFESSIONAL = (
    "This information is intended for healthcare professionals. Any medical decision-making"
)
PATIENT = (
    "The above information is an educational aid only. It is not intended as medical advice "
    "for individual conditions or treatments. Talk to your doctor, nurse or pharmacist before "
    "following any medical regimen to see if it is safe and effective for you."
)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(Rules.load())


def test_explicit_audience_is_honoured_whatever_the_words(router):
    q = "What is the FVC cut-off for PEG in a patient with bulbar ALS?"
    assert router.route(q, "patient").audience == "patient"
    assert (
        router.route("My husband is scared, what happens next?", "clinician").audience
        == "clinician"
    )


@pytest.mark.parametrize(
    "question,audience,word",
    [
        ("What is the FVC cut-off for PEG placement?", "clinician", "FVC"),
        ("Riluzole dosing in a patient with raised ULN aminotransferases?", "clinician", "dosing"),
        ("When to initiate NIV with BPAP?", "clinician", "NIV"),
        ("My husband has trouble swallowing, what can we do?", "patient", "my husband"),
        ("Am I going to need a feeding tube? I'm scared.", "patient", "am i"),
    ],
)
def test_auto_routing_and_the_words_that_decided(router, question, audience, word):
    r = router.route(question, "auto")
    assert r.audience == audience
    assert any(w == word for _, w in r.signals)
    assert r.to_dict()["confidence"] > 0


def test_weak_signal_defaults_to_patient_and_says_so(router):
    r = router.route("How is ALS diagnosed?", "auto")
    assert r.audience == "patient" and "weak signal" in r.reason


def test_routing_accuracy_on_the_labelled_set(router):
    items = load_routing()
    clinician = sum(i.audience == "clinician" for i in items)
    assert len(items) >= 60 and clinician == len(items) - clinician
    right = sum(router.route(i.question, "auto").audience == i.audience for i in items)
    assert right / len(items) >= 0.95


def test_routing_vocabulary_is_validated_data(tmp_path, rules_copy):
    path = rules_copy / "routing.yaml"
    path.write_text(path.read_text() + "\nsurprise: true\n")
    with pytest.raises(RulesError, match=r"routing\.yaml.*surprise"):
        Rules.load(rules_copy)


@pytest.mark.integration
def test_route_is_reported_in_to_dict(bot):
    d = bot.ask("What is the FVC threshold for NIV?").to_dict()
    assert d["route"]["audience"] == "clinician" and d["route"]["requested"] == "auto"
    assert d["route"]["signals"] and d["route"]["reason"]


@pytest.mark.integration
def test_same_question_two_modes_same_evidence_visibly_different(bot):
    q = "What are the symptoms of ALS?"
    c = bot.ask(q, audience="clinician").to_dict()
    p = bot.ask(q, audience="patient").to_dict()
    assert c["answer"] != p["answer"]
    assert c["disclaimer"].startswith(PROFESSIONAL) and p["disclaimer"] == PATIENT
    assert "**From the" in c["answer"] and "**From the" not in p["answer"]
    assert bot.rules.safety.care_team_line in p["answer"]
    assert {x["doc"] for x in c["citations"]} & {x["doc"] for x in p["citations"]}


@pytest.mark.integration
def test_clinician_answers_are_grouped_strongest_source_first_with_references(bot):
    d = bot.ask("What is the recommended riluzole dose?", audience="clinician").to_dict()
    headings = [line for line in d["answer"].splitlines() if line.startswith("**From")]
    assert headings[0] == "**From the guidelines**"
    assert "**From the FDA drug label**" in headings
    assert any(c["references"] for c in d["citations"])


@pytest.mark.integration
def test_patient_answers_prefer_patient_sources_and_stay_short(bot):
    d = bot.ask("What are the first signs of ALS?", audience="patient").to_dict()
    assert d["citations"][0]["doc_audience"] == "patient"
    points = [x for x in d["answer"].splitlines() if x.lstrip().startswith("- ")]
    assert len(points) <= 7
    assert reading_grade(d["answer"]) <= 10


@pytest.mark.integration
def test_threshold_facts_stay_verbatim_in_patient_mode(bot):
    c = bot.ask("What is the riluzole dose?", audience="clinician").to_dict()
    p = bot.ask("What is the riluzole dose?", audience="patient").to_dict()
    dose = "50 mg twice daily (taken at least 1 hour before or 2 hours after meals)"
    assert dose in c["answer"] and dose in p["answer"]


def test_glossary_plain_words_with_the_term_in_brackets():
    g = Glossary(Rules.load().glossary)
    assert g.plain("Dysphagia is common.") == "Trouble swallowing (Dysphagia) is common."
    out = g.plain("Patients develop fasciculations, dysarthria and sialorrhea")
    assert "muscle twitching (fasciculations)" in out
    assert "slurred speech (dysarthria)" in out and "drooling (sialorrhea)" in out


def test_glossary_leaves_terms_the_source_already_explains():
    g = Glossary(Rules.load().glossary)
    text = "Sialorrhea (excessive drooling) due to impaired swallowing"
    assert g.plain(text).startswith("Sialorrhea (excessive drooling)")


def test_glossary_without_keep_term_replaces():
    g = Glossary(
        (GlossaryEntry(term="hyperreflexia", plain="overly strong reflexes", keep_term=False),)
    )
    assert (
        g.plain("Muscle atrophy and hyperreflexia") == "Muscle atrophy and overly strong reflexes"
    )
