"""The evaluation suite: cases as data, pure metrics on per-case records, and the gates."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest
import yaml

from assistant.evaluation import (
    EVALS_DIR,
    Case,
    Record,
    compare,
    compare_extra,
    drafts_line,
    evaluate,
    extra_sets,
    kind_table,
    load_cases,
    load_routing,
    score,
    side_by_side,
    summary_line,
)
from assistant.evaluation import cli as eval_cli
from assistant.evaluation import metrics as m

REPO = Path(__file__).resolve().parent.parent
DISCLAIMERS = {"clinician": "For professionals.", "patient": "Talk to your doctor."}


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


def _record(answer: str = "", cid: str = "x", latency: float = 1.0, **fields) -> Record:
    """A hand-built per-case record: case fields as keywords, answer fields in ``got``."""
    got = fields.pop("got", {})
    case = Case(id=cid, user_input="q", **fields)
    d = {
        "answer": answer,
        "facts": [],
        "citations": [],
        "status": "answered",
        "audience": "clinician",
        "disclaimer": DISCLAIMERS["clinician"],
        "search_query": "q",
        **got,
    }
    return Record(case, d, latency)


def test_verbatim_fact_metric_needs_the_fact_quoted_verbatim():
    fact = "FVC remains >50% of predicted"
    good = _record(f"Place PEG “{fact}” [1]", facts=[fact], got={"facts": [{"text": fact}]})
    para = _record("Place PEG while FVC is above half of predicted [1]", facts=[fact])
    assert m.verbatim_facts([good]) == ({"verbatim_fact_accuracy": 1.0}, {})
    values, failures = m.verbatim_facts([para])
    assert values["verbatim_fact_accuracy"] == 0.0
    assert failures == {"x": [f"fact not quoted verbatim: {fact!r}"]}
    # a case's fact inside a registered fact quoted whole is quoted verbatim; one merely
    # present in unquoted text, or quoted but not listed, is not
    part = "FVC remains >50%"
    inside = _record(f"Place PEG “{fact}” [1]", facts=[part], got={"facts": [{"text": fact}]})
    bare = _record(f"Place PEG when {fact} [1]", facts=[part], got={"facts": [{"text": fact}]})
    unlisted = _record(f"Place PEG “{fact}” [1]", facts=[part])
    assert m.verbatim_facts([inside])[0]["verbatim_fact_accuracy"] == 1.0
    assert m.verbatim_facts([bare, unlisted])[0]["verbatim_fact_accuracy"] == 0.0
    whole = "Most patients die within 36 months"
    six = _record(f"“{whole}” [1]", facts=["6 months"], got={"facts": [{"text": whole}]})
    assert m.verbatim_facts([six])[0]["verbatim_fact_accuracy"] == 0.0  # a word, not a part


def test_number_grounding_metric_counts_numbers_missing_from_citations():
    cite = {"section": "S", "lead": None, "quote": "Riluzole 50 mg twice daily"}
    ok = _record("Riluzole 50 mg twice daily [1]", got={"citations": [cite]})
    bad = _record("Riluzole 100 mg twice daily [1]", got={"citations": [cite]})
    refused = _record("Take 100 mg", got={"status": "refused"})
    assert m.number_grounding([ok, refused]) == ({"number_grounding_violations": 0}, {})
    values, failures = m.number_grounding([bad])
    assert values["number_grounding_violations"] == 1
    assert "100" in failures["x"][0]


def test_citations_are_real_spans_and_every_marker_names_one():
    doc = "Riluzole 50 mg twice daily. Other text."
    real = {"n": 1, "doc": "d", "start": 0, "end": 27, "quote": doc[:27]}
    forged = {**real, "n": 2, "quote": "Riluzole 100 mg twice daily."}
    ok = _record("Riluzole [1]", cid="ok", got={"citations": [real]})
    fake = _record("Riluzole [1] [2]", cid="fake", got={"citations": [real, forged]})
    dangling = _record("Riluzole [1] [3]", cid="dangling", got={"citations": [real]})
    metrics, failures = m.citations_real([ok, fake, dangling], {"d": doc})
    assert metrics["citations_real_rate"] == 3 / 5  # forged quote and marker [3] fail
    assert set(failures) == {"fake", "dangling"}
    assert "[2]" in failures["fake"][0] and "[3]" in failures["dangling"][0]


def test_draft_outcomes_tell_accepted_repaired_replaced_and_model_failures():
    drafts = [
        {"accepted": 2, "dropped": 0, "restored_facts": 0, "replaced": False},
        {"accepted": 1, "dropped": 1, "restored_facts": 1, "replaced": False},
        {"accepted": 0, "dropped": 3, "restored_facts": 0, "replaced": True},
        {"accepted": 0, "dropped": 0, "restored_facts": 0, "replaced": True},
    ]
    records = [_record(cid=str(k), got={"draft": d}) for k, d in enumerate(drafts)]
    metrics, _ = m.draft_outcomes([*records, _record(got={"draft": None})])
    assert metrics["drafts"] == 4
    assert metrics["drafts_accepted_share"] == metrics["drafts_repaired_share"] == 0.25
    assert metrics["drafts_replaced_share"] == 0.5 and metrics["drafts_model_failed"] == 1
    assert (metrics["draft_sentences_dropped"], metrics["draft_facts_restored"]) == (4, 1)
    line = drafts_line({**metrics, **_scored_guarantees()})
    assert "accepted 0.25, repaired 0.25, replaced 0.50 (1 with no draft to check)" in line
    assert "disclaimers 1.00" in line and "citations real" not in line


def _scored_guarantees() -> dict:
    metrics, _ = score([_record("yes")], DISCLAIMERS)
    return {
        k: metrics[k]
        for k in ("number_grounding_violations", "verbatim_fact_accuracy", "disclaimer_rate")
    }


def test_a_metric_returns_failures_without_mutating_its_records():
    records = [
        _record("no key point here", cid="a", key_points=[["riluzole"]]),
        _record("riluzole twice daily", cid="b", key_points=[["riluzole"]]),
    ]
    before = copy.deepcopy(records)
    values, failures = m.key_points(records)
    assert values == {"key_point_coverage": 0.5}
    assert failures == {"a": ["key point missing: one of ['riluzole']"]}
    assert records == before
    assert all(r.failures == () for r in records)


def test_status_metric_reports_recall_and_precision_of_refusals():
    records = [
        _record(cid="a", expected_status="refused", got={"status": "refused"}),
        _record(cid="b", expected_status="refused", got={"status": "answered"}),
        _record(cid="c", got={"status": "refused"}),
        _record(cid="d"),
    ]
    values, failures = m.status_accuracy(records)
    assert values["status_accuracy"] == 0.5
    assert values["refused_recall"] == 0.5 and values["refused_precision"] == 0.5
    assert values["emergency_recall"] == 1.0  # none expected
    assert set(failures) == {"b", "c"}


def test_disclaimer_and_audience_metrics_name_the_case():
    wrong = _record(cid="w", expected_audience="patient", got={"disclaimer": "Other."})
    right = _record(cid="r", expected_audience="clinician")
    refused = _record(cid="n", got={"status": "refused", "disclaimer": ""})
    values, failures = m.disclaimers([wrong, right, refused], DISCLAIMERS)
    assert values == {"disclaimer_rate": 0.5} and list(failures) == ["w"]
    values, failures = m.audience([wrong, right, refused])
    assert values == {"case_audience_accuracy": 0.5}
    assert failures == {"w": ["audience clinician (expected patient)"]}


def test_score_merges_failures_and_counts_conversations_that_fail_any_check():
    fine = _record(
        "yes",
        cid="fine",
        conversation=["earlier"],
        search_terms=["riluzole"],
        got={"search_query": "riluzole dose"},
    )
    follow = _record("no", cid="follow", conversation=["earlier"], key_points=[["x"]])
    both = _record("no", cid="both", key_points=[["x"]], search_terms=["peg"])
    records = [fine, follow, both]
    metrics, failures = score(records, DISCLAIMERS)
    assert list(failures) == ["follow", "both"]  # the case order
    assert failures["both"] == [
        "key point missing: one of ['x']",
        "search query 'q' lacks ['peg']",
    ]
    assert metrics["conversation_pass_rate"] == 0.5  # "follow" fails a key point
    assert (metrics["cases"], metrics["passed"]) == (3, 1)
    assert all(r.failures == () for r in records)


def test_compare_names_the_metric_that_fell():
    problems = compare(
        {"verbatim_fact_accuracy": 0.8, "number_grounding_violations": 0},
        {"metrics": {"verbatim_fact_accuracy": 1.0}, "tolerance": {}},
    )
    assert problems and "verbatim_fact_accuracy" in problems[0]
    assert compare({"number_grounding_violations": 1}, {"metrics": {}})  # absolute target


def test_extra_set_gate_compares_only_its_metrics():
    reached = {"case_pass_rate": 0.5, "key_point_coverage": 0.1, "routing_accuracy": 0.5}
    base = {"metrics": {"case_pass_rate": 0.5, "key_point_coverage": 0.9}}
    assert compare_extra(reached, base) == []
    assert compare_extra({**reached, "number_grounding_violations": 1}, base)


def test_blind_set_loads_and_its_gate_fails_above_what_it_reached():
    assert "blind" in extra_sets()
    cases = load_cases(EVALS_DIR / "blind")
    assert len(cases) == 140
    assert all(c.tags and c.tags[0].startswith("kind-") for c in cases)
    baseline = json.loads((EVALS_DIR / "blind" / "baseline.json").read_text())
    reached = dict(baseline["metrics"])
    assert compare_extra(reached, baseline) == []
    higher = {**baseline, "metrics": {**reached, "case_pass_rate": reached["case_pass_rate"] + 0.1}}
    problems = compare_extra(reached, higher)
    assert len(problems) == 1 and "case_pass_rate fell" in problems[0]


def _report(tuning: dict, blind: dict) -> dict:
    return {
        "modes": {"hybrid": {"metrics": tuning, "failures": {}}},
        "sets": {"blind": {"metrics": blind, "failures": {"c": ["x"]}}},
    }


def test_cli_gate_fails_on_an_extra_set_and_reports_a_missing_one(tmp_path, capsys):
    tuning = {"case_pass_rate": 1.0, "number_grounding_violations": 0}
    (tmp_path / "base.json").write_text(json.dumps({"metrics": tuning}))
    args = Namespace(baseline=str(tmp_path / "base.json"), report=None)
    blind = {"case_pass_rate": 0.4, "number_grounding_violations": 0}
    folders = {"blind": tmp_path / "blind"}
    assert eval_cli._gate(args, _report(tuning, blind), "hybrid", folders) == 1  # every set gated
    assert "blind: no baseline" in capsys.readouterr().err
    folders["blind"].mkdir()
    (folders["blind"] / "baseline.json").write_text(
        json.dumps({"metrics": {"case_pass_rate": 0.5}})
    )
    assert eval_cli._gate(args, _report(tuning, blind), "hybrid", folders) == 1
    err = capsys.readouterr().err
    assert "EVALUATION GATE FAILED" in err and "blind: case_pass_rate fell to 0.400" in err


def test_reports_compare_sets_and_count_kinds():
    tuning = {"passed": 163, "cases": 163, "case_pass_rate": 1.0}
    blind = {"passed": 71, "cases": 140, "case_pass_rate": 71 / 140}
    line = side_by_side(tuning, "blind", blind)
    assert line == "pass rate: tuning 163/163 (100.0%) | blind 71/140 (50.7%) | gap 49.3 points"
    samples = [
        {"tags": ["kind-patient", "x"], "failures": []},
        {"tags": ["kind-patient"], "failures": ["bad"]},
        {"tags": ["clinician"], "failures": []},
    ]
    table = kind_table("blind", samples)
    assert "| patient | 1/2 | 50.0% |" in table and "| clinician | 1/1 | 100.0% |" in table


def test_summary_line_leaves_out_routing_for_a_set_without_it():
    metrics, _ = score([_record("yes")], DISCLAIMERS)
    assert "routing" not in summary_line(metrics, "blind")
    assert summary_line(metrics, "blind").startswith("eval blind: 1/1 cases passed;")
    assert "routing 1.00" in summary_line({**metrics, "routing_accuracy": 1.0})


@pytest.mark.integration
def _every_third_case(folder: Path) -> Path:
    """A tuning folder holding every third case of each case file, and the routing questions."""
    for name in ("cases.yaml", "conversations.yaml", "routing.yaml"):
        data = yaml.safe_load((EVALS_DIR / name).read_text(encoding="utf-8"))
        if "cases" in data:
            data["cases"] = data["cases"][::3]
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.integration
def test_suite_is_deterministic_and_compares_retrieval_modes(bot, tmp_path):
    # (every third case: the whole set runs through the gate in make test)
    folder = _every_third_case(tmp_path)
    first = evaluate(bot, modes=("keyword", "dense", "hybrid"), folder=folder)
    second = evaluate(bot, modes=("hybrid",), folder=folder)
    assert set(first["modes"]) == {"keyword", "dense", "hybrid"}
    a = {k: v for k, v in first["modes"]["hybrid"]["metrics"].items() if "latency" not in k}
    b = {k: v for k, v in second["modes"]["hybrid"]["metrics"].items() if "latency" not in k}
    assert a == b
    m = first["modes"]["hybrid"]["metrics"]
    assert m["number_grounding_violations"] == 0
    assert m["routing_accuracy"] >= 0.95
    assert m["patient_grade_median"] <= 8 and m["patient_grade_max"] <= 10
    assert m["recall_at_5"] >= first["modes"]["keyword"]["metrics"]["recall_at_5"] - 0.05
    samples = first["modes"]["hybrid"]["samples"]
    assert len(samples) == m["cases"]
    assert {"id", "tags", "answer", "latency_ms", "failures"} <= set(samples[0])


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
    out = _eval(tmp_path, index_dir, "--rules-dir", str(rules_copy), "--tuning-only")
    assert out.returncode == 1, out.stdout[-2000:]
    assert "EVALUATION GATE FAILED" in out.stderr
    assert "verbatim_fact_accuracy" in out.stderr
    assert removed["text"] in out.stderr  # the broken fact is named
    assert "riluzole-dose" in out.stderr  # and the cases it broke
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["modes"]["hybrid"]["failures"]
