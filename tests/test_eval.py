"""The evaluation suite: cases as data, deterministic metrics, and the baseline gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.evaluate import (
    NumberGrounding,
    Result,
    VerbatimFacts,
    compare,
    evaluate,
    load_cases,
    load_routing,
)

REPO = Path(__file__).resolve().parent.parent


def test_cases_cover_every_section_of_every_document():
    from assistant.corpus import Corpus

    cases = load_cases()
    assert len(cases) >= 80
    assert sum(bool(c.conversation) for c in cases) >= 15
    tags = {t for c in cases for t in c.tags}
    assert {
        "out_of_scope",
        "emergency",
        "injection",
        "misspelling",
        "lowercase",
        "disagreement",
        "followup",
        "topic_switch",
    } <= tags
    expected = {(r.doc, (r.section or "").lower()) for c in cases for r in c.reference_contexts}
    for doc in Corpus.load().documents.values():
        sections = {p.section[-1] for p in doc.passages if p.section and p.kind != "disclaimer"}
        for s in sections:
            assert (doc.id, s.lower()) in expected, (doc.id, s)


def test_routing_set_is_labelled_and_balanced():
    items = load_routing()
    assert len(items) >= 60
    assert abs(sum(i.audience == "clinician" for i in items) * 2 - len(items)) <= 2


def _result(answer: str, facts: list[dict], case_facts: list[str], citations=()) -> Result:
    from assistant.evaluate import Case

    case = Case(id="x", user_input="q", facts=case_facts)
    d = {
        "answer": answer,
        "facts": facts,
        "citations": list(citations),
        "status": "answered",
        "disclaimer": "",
    }
    return Result(case, d, 1.0)


def test_verbatim_fact_metric_needs_the_exact_quoted_text():
    fact = "FVC remains >50% of predicted"
    good = _result(f"Place PEG “{fact}” [1]", [{"text": fact}], [fact])
    para = _result("Place PEG while FVC is above half of predicted [1]", [], [fact])
    assert VerbatimFacts()([good])["verbatim_fact_accuracy"] == 1.0
    assert VerbatimFacts()([para])["verbatim_fact_accuracy"] == 0.0
    assert para.failures


def test_number_grounding_metric_counts_numbers_missing_from_citations():
    cite = {"section": "S", "lead": None, "quote": "Riluzole 50 mg twice daily"}
    ok = _result("Riluzole 50 mg twice daily [1]", [], [], [cite])
    bad = _result("Riluzole 100 mg twice daily [1]", [], [], [cite])
    assert NumberGrounding()([ok])["number_grounding_violations"] == 0
    assert NumberGrounding()([bad])["number_grounding_violations"] == 1


def test_compare_names_the_metric_that_fell():
    problems = compare(
        {"verbatim_fact_accuracy": 0.8, "number_grounding_violations": 0},
        {"metrics": {"verbatim_fact_accuracy": 1.0}, "tolerance": {}},
    )
    assert problems and "verbatim_fact_accuracy" in problems[0]
    assert compare({"number_grounding_violations": 1}, {"metrics": {}})  # absolute target


@pytest.mark.integration
def test_suite_is_deterministic_and_compares_retrieval_modes(bot):
    first = evaluate(bot, modes=("keyword", "dense", "hybrid"))
    second = evaluate(bot, modes=("hybrid",))
    assert set(first["modes"]) == {"keyword", "dense", "hybrid"}
    a = {k: v for k, v in first["modes"]["hybrid"]["metrics"].items() if "latency" not in k}
    b = {k: v for k, v in second["modes"]["hybrid"]["metrics"].items() if "latency" not in k}
    assert a == b
    m = first["modes"]["hybrid"]["metrics"]
    assert m["number_grounding_violations"] == 0
    assert m["routing_accuracy"] >= 0.95
    assert m["patient_grade_median"] <= 8 and m["patient_grade_max"] <= 10
    assert m["recall_at_5"] >= first["modes"]["keyword"]["metrics"]["recall_at_5"] - 0.05


def _eval(tmp_path, index_dir, *extra: str) -> subprocess.CompletedProcess:
    """``assistant eval`` against the committed baseline, in a subprocess."""
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir)}
    args = ["eval", "--modes", "hybrid", "--baseline", str(REPO / "evals" / "baseline.json")]
    args += ["--report", str(tmp_path / "report.json"), *extra]
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.integration
def test_gate_fails_naming_a_removed_threshold_fact(tmp_path, rules_copy, index_dir, bot):
    facts_path = rules_copy / "facts.yaml"
    data = yaml.safe_load(facts_path.read_text())
    removed = next(f for f in data["facts"] if f["id"] == "riluzole_dose")
    data["facts"] = [f for f in data["facts"] if f["id"] != "riluzole_dose"]
    facts_path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    out = _eval(tmp_path, index_dir, "--rules-dir", str(rules_copy))
    assert out.returncode == 1, out.stdout[-2000:]
    assert "EVALUATION GATE FAILED" in out.stderr
    assert "verbatim_fact_accuracy" in out.stderr
    assert removed["text"] in out.stderr  # the broken fact is named
    assert "riluzole-dose" in out.stderr  # and the cases it broke
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["modes"]["hybrid"]["failures"]


@pytest.mark.integration
def test_gate_passes_on_the_committed_baseline(tmp_path, index_dir, bot):
    out = _eval(tmp_path, index_dir)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "evaluation gate passed" in out.stdout
