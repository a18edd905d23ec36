"""The guard catches drafts that keep a source's words and change its meaning.

Each draft cites a real corpus passage (found by a phrase it contains) and goes through
``Guard.verify``, as a model's draft does; a few go through the whole pipeline with a scripted
fake model. No language model and no embedding model is loaded (``fake_bot``).
"""

from __future__ import annotations

import shutil

import pytest
from fakes import ScriptedChatModel, passage_number

from assistant.corpus import Corpus
from assistant.evaluation.probes import paraphrase
from assistant.llm import LLMComposer, draft_from_text, load_prompts
from assistant.meaning import MeaningCheck, load_meaning
from assistant.pipeline import Assistant
from assistant.rules import Rules, RulesError

CORPUS = Corpus.load()
RULES = Rules.load()
MEANING = "changes the meaning"

SAFE = "reasonably safe and effective"
SMALL = "small beneficial effect"
DRUGS = "The drugs may slightly improve functioning"
SURVIVAL = "Riluzole is the only drug proven to extend survival"
HYPERSENSITIVITY = "severe hypersensitivity reactions to Riluzole"
HEPATOTOXICITY = "Riluzole may cause hepatotoxicity"
EQUIPMENT = "All equipment and service requests"
PEG = "Place PEG before respiratory function"
LATE = "Late referral to palliative services"
MOBILITY = "Provide special mobility equipment much earlier"
COGNITIVE = "Assess for cognitive impairment and executive dysfunction"
AMINOTRANSFERASES = "Monitor serum aminotransferases before"
SWALLOW = "require swallow screening before initiating oral intake"
MEN = "slightly more common in men"
SPORADIC = "are sporadic without identifiable genetic cause"
SPASTICITY = "Patients typically develop muscle weakness and spasticity"
LOWER = "Lower motor neurons are nerve cells"
PALLIATIVE = "Palliative care should be implemented at the start of diagnosis"
REPRODUCTIVE = "The reproductive system is not affected"


def passage(needle: str):
    """The corpus passage containing ``needle``."""
    for p in CORPUS.passages:
        if needle in p.text:
            return p
    raise LookupError(needle)


def verify(bot, text: str, *needles: str):
    """``text`` (with its ``[n]`` markers) as a draft over the passages holding ``needles``."""
    draft = draft_from_text(text, [passage(n) for n in needles], "llm:fake")
    return bot.guard.verify(draft)


def assert_dropped(checked, why: str = MEANING) -> None:
    assert checked.sentences == [], checked.violations
    assert any(why in v for v in checked.violations), checked.violations


def assert_kept(checked) -> None:
    assert checked.violations == [] and checked.drafted == len(checked.sentences) > 0


# --- the drafts that used to pass ------------------------------------------------------------


def test_an_order_to_stop_riluzole_is_dropped(fake_bot):
    # The passage says the drugs do *not* stop the disease; nothing says to stop a drug.
    text = "Patients should stop riluzole once they feel well. [1]"
    assert_dropped(verify(fake_bot, text, DRUGS))


def test_an_added_negation_is_dropped(fake_bot):
    text = (
        "Riluzole has not been found to be safe or effective in prolonging median survival "
        "in patients with ALS [1]"
    )
    checked = verify(fake_bot, text, SAFE)
    assert_dropped(checked)
    assert any("negation added" in v for v in checked.violations)


def test_small_for_large_with_the_negation_moved_to_the_other_clause_is_dropped(fake_bot):
    text = (
        "Riluzole has been found to have a large beneficial effect on muscle strength, but not "
        "on bulbar and limb function [1]"
    )
    assert_dropped(verify(fake_bot, text, SMALL))
    # The negation moved alone (no size word changed) is caught as well.
    moved = (
        "Riluzole has been found to have a small beneficial effect on muscle strength, but not "
        "on bulbar and limb function [1]"
    )
    checked = verify(fake_bot, moved, SMALL)
    assert_dropped(checked)
    assert any("negation" in v for v in checked.violations)


def test_unsafe_and_avoided_at_the_word_support_threshold_is_dropped(fake_bot):
    text = "Riluzole is unsafe and avoided in ALS [1]"
    cited = [passage(SAFE)]
    # Exactly at the threshold: the word-support check alone lets it through.
    assert fake_bot.guard.word_support(text.removesuffix(" [1]"), cited) == pytest.approx(
        fake_bot.guard.tuning.min_word_support
    )
    checked = verify(fake_bot, text, SAFE)
    assert_dropped(checked)
    assert not any("not supported" in v for v in checked.violations)
    assert any("'unsafe' for 'safe'" in v for v in checked.violations)


# --- polarity and modality -------------------------------------------------------------------


def test_should_not_turned_into_should_is_dropped(fake_bot):
    text = (
        "Patients with a history of severe hypersensitivity reactions to riluzole should use "
        "this medication [1]"
    )
    assert_dropped(verify(fake_bot, text, HYPERSENSITIVITY))


def test_a_hedged_risk_stated_as_certain_is_dropped(fake_bot):
    text = "Riluzole causes hepatotoxicity, neutropenia, and interstitial lung disease [1]"
    checked = verify(fake_bot, text, HEPATOTOXICITY)
    assert_dropped(checked)
    assert any("modality" in v for v in checked.violations)


def test_may_turned_into_must_is_dropped(fake_bot):
    text = "Riluzole must cause hepatotoxicity, neutropenia, and interstitial lung disease [1]"
    assert_dropped(verify(fake_bot, text, HEPATOTOXICITY))


def test_should_turned_into_may_is_dropped(fake_bot):
    text = (
        "All equipment and service requests for ALS may be considered urgent and handled "
        "expeditiously [1]"
    )
    checked = verify(fake_bot, text, EQUIPMENT)
    assert_dropped(checked)
    assert any("obligation" in v for v in checked.violations)


def test_a_statement_turned_into_an_order_is_dropped(fake_bot):
    text = "Patients should take riluzole, the only drug proven to extend survival [1]"
    assert_dropped(verify(fake_bot, text, SURVIVAL))


# --- direction and comparison ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle", "direction"),
    [
        ("Riluzole is the only drug proven to shorten survival [1]", SURVIVAL, "change"),
        ("Place PEG after respiratory function significantly deteriorates [1]", PEG, "order"),
        (
            "Early referral to palliative services negatively impacts quality of life [1]",
            LATE,
            "timing",
        ),
        (
            "Provide special mobility equipment much later than for other muscle diseases [1]",
            MOBILITY,
            "timing",
        ),
        (
            "Cognitive impairment and executive dysfunction decrease the risk of falls [1]",
            COGNITIVE,
            "change",
        ),
        ("Monitor serum aminotransferases after treatment [1]", AMINOTRANSFERASES, "order"),
        (
            "All patients with suspected bulbar dysfunction require swallow screening after "
            "initiating oral intake [1]",
            SWALLOW,
            "order",
        ),
        ("The disease is slightly less common in men [1]", MEN, "amount"),
        ("Upper motor neurons are nerve cells that start in the spinal cord [1]", LOWER, "neuron"),
        (
            "Palliative care should be stopped at diagnosis to help patients deal with "
            "undesirable symptoms [1]",
            PALLIATIVE,
            "course",
        ),
    ],
)
def test_a_reversed_direction_is_dropped(fake_bot, text, needle, direction):
    checked = verify(fake_bot, text, needle)
    assert_dropped(checked)
    assert any(f"{direction} reversed" in v for v in checked.violations), checked.violations


# --- the wrong drug or population -----------------------------------------------------------


def test_a_drug_the_cited_passage_does_not_name_is_dropped(fake_bot):
    checked = verify(fake_bot, "Edaravone is the only drug proven to extend survival [1]", SURVIVAL)
    assert_dropped(checked)
    assert any("'edaravone'" in v for v in checked.violations)


def test_a_statement_about_riluzole_given_to_edaravone_is_dropped(fake_bot):
    # Both drugs are named by the cited passages, but the aligned clause speaks of riluzole.
    text = (
        "Edaravone has been found to be reasonably safe and effective in prolonging median "
        "survival in patients with ALS [1][2]"
    )
    checked = verify(fake_bot, text, SAFE, DRUGS)
    assert_dropped(checked)
    assert any("says of edaravone" in v for v in checked.violations)


def test_a_population_the_cited_passage_does_not_name_is_dropped(fake_bot):
    text = "Children typically develop muscle weakness and spasticity [1]"
    assert_dropped(verify(fake_bot, text, SPASTICITY))


def test_a_statement_about_men_given_to_women_is_dropped(fake_bot):
    checked = verify(fake_bot, "The disease is slightly more common in women [1]", MEN)
    assert_dropped(checked)
    assert any("says of women" in v for v in checked.violations)


def test_sporadic_cases_given_to_familial_ones_is_dropped(fake_bot):
    text = "Most cases are familial without identifiable genetic cause [1]"
    assert_dropped(verify(fake_bot, text, SPORADIC))


# --- faithful rewordings still pass -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            "Riluzole has been shown to be reasonably safe and effective in prolonging median "
            "survival in people with ALS [1]",
            [SAFE],
        ),
        (
            "Riluzole has a small beneficial effect on bulbar and limb function, but not on "
            "muscle strength [1]",
            [SMALL],
        ),
        (
            "Late referral to palliative services harms quality of life and should be avoided by "
            "starting palliative care at diagnosis [1]",
            [LATE],
        ),
        (
            "Patients with a history of severe hypersensitivity reactions to riluzole should not "
            "take this medication [1]",
            [HYPERSENSITIVITY],
        ),
        ("PEG should be placed before respiratory function significantly deteriorates [1]", [PEG]),
        (
            "Riluzole may lead to hepatotoxicity, neutropenia, and interstitial lung disease [1]",
            [HEPATOTOXICITY],
        ),
        (
            "Riluzole is the only drug proven to prolong survival, though the benefit is modest [1]",  # noqa: E501
            [SURVIVAL],
        ),
        ("The reproductive system is unaffected [1]", [REPRODUCTIVE]),
        (
            "The drugs may slightly improve functioning, but they do not stop the disease [1]",
            [DRUGS],
        ),
        ("The disease is slightly more common in men than in women [1]", [MEN]),
        (
            "Riluzole and edaravone have been approved for ALS, and riluzole is the only drug "
            "proven to extend survival [1][2]",
            [DRUGS, SURVIVAL],
        ),
    ],
)
def test_a_faithful_rewording_passes(fake_bot, text, needles):
    assert_kept(verify(fake_bot, text, *needles))


def test_every_corpus_sentence_and_its_probe_paraphrase_keep_their_meaning():
    """No false alarm on the corpus itself: each sentence, and the evaluation probe's rewording
    of it ("should be" -> "ought to be", ">50%" -> "over half", ...), against its passage."""
    check = MeaningCheck.from_rules(RULES)
    checked = flagged = 0
    for p in CORPUS.passages:
        for s in p.sentences:
            for text in dict.fromkeys([s.text, paraphrase(s.text)]):
                checked += 1
                reason = check.check(text, [p])
                flagged += reason is not None
                assert reason is None, f"{text!r}: {reason}"
    assert checked > 200 and flagged == 0


def test_verbatim_sentences_are_never_meaning_checked(fake_bot, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(fake_bot.guard.meaning, "check", lambda t, c: calls.append(t) or "x")
    p = passage(SAFE)
    checked = fake_bot.guard.verify(draft_from_text(f"{p.sentences[0].text} [1]", [p]))
    assert_kept(checked)
    assert calls == []


# --- through the pipeline --------------------------------------------------------------------


def with_model(bot, model) -> Assistant:
    composer = LLMComposer(model, load_prompts(), timeout=5.0, name="llm:fake")
    return Assistant(bot.settings, bot.corpus, bot.rules, bot.index, composer=composer)


def test_a_draft_left_empty_by_meaning_checks_falls_back_to_the_extractive_answer(fake_bot):
    question = "Is riluzole safe and effective?"

    def reply(prompt: str) -> str:
        k = passage_number(prompt, SAFE)
        return (
            "- Riluzole has not been found to be safe or effective in prolonging median survival "
            f"in patients with ALS [{k}].\n- Riluzole is unsafe and avoided in ALS [{k}]."
        )

    d = with_model(fake_bot, ScriptedChatModel(script=[reply])).ask(question, "clinician")
    d = d.to_dict()
    assert d["status"] == "answered"
    assert d["composer"] == "extractive" and "did not pass the guard" in d["fallback_reason"]
    assert "has not been found" not in d["answer"] and "unsafe" not in d["answer"]
    assert sum(MEANING in v for v in d["guard"]["violations"]) == 2
    assert d["draft"] == {"accepted": 0, "dropped": 2, "restored_facts": 0, "replaced": True}


def test_a_changed_sentence_is_dropped_and_the_faithful_one_kept(fake_bot):
    question = "Is riluzole safe and effective?"

    def reply(prompt: str) -> str:
        k = passage_number(prompt, SAFE)
        return (
            "- Riluzole has been shown to be reasonably safe and effective in prolonging median "
            f"survival in people with ALS [{k}].\n"
            f"- Edaravone is the only drug proven to extend survival [{k}]."
        )

    d = with_model(fake_bot, ScriptedChatModel(script=[reply])).ask(question, "clinician")
    d = d.to_dict()
    assert d["composer"] == "llm:fake" and d["fallback_reason"] is None
    assert "shown to be reasonably safe" in d["answer"]
    assert "Edaravone is the only" not in d["answer"]
    assert d["draft"]["accepted"] == 1 and d["draft"]["dropped"] == 1
    assert d["draft"]["replaced"] is False


def test_extractive_answers_report_their_draft_as_accepted(fake_bot):
    d = fake_bot.ask("What are the side effects of riluzole?", "clinician").to_dict()
    assert d["status"] == "answered" and d["composer"] == "extractive"
    assert d["draft"]["accepted"] > 0 and d["draft"]["dropped"] == 0
    assert d["draft"]["replaced"] is False
    refused = fake_bot.ask("What is the capital of France?", "clinician").to_dict()
    assert refused["status"] == "refused" and refused["draft"] is None


# --- the rules file ----------------------------------------------------------------------------


def test_the_meaning_rules_are_validated(rules_copy):
    assert load_meaning(rules_copy).directions
    path = rules_copy / "meaning.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("min_shared_words: 1", "min_shared_word: 1"), encoding="utf-8")
    with pytest.raises(RulesError, match=r"meaning\.yaml"):
        load_meaning(rules_copy)
    path.write_text(text.replace("    a: [small,", "    a: [large, small,"), encoding="utf-8")
    with pytest.raises(RulesError, match="both sides"):
        load_meaning(rules_copy)
    shutil.copy(path, rules_copy / "kept.yaml")
    path.unlink()
    with pytest.raises(RulesError, match="missing"):
        load_meaning(rules_copy)
