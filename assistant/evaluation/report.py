"""Reporting: the mode table, summary lines, the per-kind table and the JSON report."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from .cases import TUNING, kind


def markdown(report: dict) -> str:
    """The tuning set's metrics per retrieval mode, its failing cases and routing errors."""
    modes = list(report["modes"])
    names = list(report["modes"][modes[-1]]["metrics"])
    lines = ["| metric | " + " | ".join(modes) + " |", "|---|" + "---|" * len(modes)]
    for n in names:
        row = []
        for m in modes:
            v = report["modes"][m]["metrics"].get(n)
            row.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        lines.append(f"| {n} | " + " | ".join(row) + " |")
    main = report["modes"].get("hybrid") or report["modes"][modes[-1]]
    if main["failures"]:
        lines += [
            "",
            f"Failing cases ({modes[-1] if 'hybrid' not in modes else 'hybrid'}):",
            "",
            "| case | reasons |",
            "|---|---|",
        ]
        for cid, reasons in sorted(main["failures"].items()):
            lines.append(f"| {cid} | {'; '.join(reasons).replace('|', '/')} |")
    if report["routing_errors"]:
        lines += ["", "Routing errors:"] + [f"- {e}" for e in report["routing_errors"]]
    return "\n".join(lines)


def summary_line(metrics: dict, name: str | None = None) -> str:
    """One line of the headline metrics; ``name`` labels an extra set."""
    routing = metrics.get("routing_accuracy")
    return (
        f"eval{' ' + name if name else ''}: {metrics['passed']}/{metrics['cases']} cases passed; "
        f"recall@5 {metrics['recall_at_5']:.2f}, MRR {metrics['mrr']:.2f}, "
        f"verbatim facts {metrics['verbatim_fact_accuracy']:.2f}, "
        f"key points {metrics['key_point_coverage']:.2f}, "
        f"citation precision {metrics['citation_precision']:.2f}, "
        f"number-grounding violations {metrics['number_grounding_violations']}, "
        f"status {metrics['status_accuracy']:.2f} (refusals {metrics['refused_recall']:.2f}, "
        f"emergencies {metrics['emergency_recall']:.2f}), "
        + (f"routing {routing:.2f}, " if routing is not None else "")
        + f"conversations {metrics['conversation_pass_rate']:.2f}, patient grade median "
        f"{metrics['patient_grade_median']:.1f} / max {metrics['patient_grade_max']:.1f}, "
        f"latency p50 {metrics['latency_p50_ms']:.0f} ms / p95 {metrics['latency_p95_ms']:.0f} ms"
    )


def drafts_line(metrics: dict) -> str:
    """What became of the drafts, and the guarantees a model must not weaken, on one line."""
    real = metrics.get("citations_real_rate")
    return (
        f"drafts: {metrics['drafts']}; accepted {metrics['drafts_accepted_share']:.2f}, "
        f"repaired {metrics['drafts_repaired_share']:.2f}, "
        f"replaced {metrics['drafts_replaced_share']:.2f} "
        f"({metrics['drafts_model_failed']} with no draft to check); sentences kept "
        f"{metrics['draft_sentences_accepted']}, dropped {metrics['draft_sentences_dropped']}, "
        f"facts restored {metrics['draft_facts_restored']}; number-grounding violations "
        f"{metrics['number_grounding_violations']}, verbatim facts "
        f"{metrics['verbatim_fact_accuracy']:.2f}, disclaimers {metrics['disclaimer_rate']:.2f}"
        + (f", citations real {real:.2f}" if real is not None else "")
    )


def _rate(metrics: dict) -> str:
    return f"{metrics['passed']}/{metrics['cases']} ({100 * metrics['case_pass_rate']:.1f}%)"


def side_by_side(tuning: dict, name: str, metrics: dict) -> str:
    """``pass rate: tuning a/b (x%) | <set> c/d (y%) | gap z points``."""
    gap = 100 * (tuning["case_pass_rate"] - metrics["case_pass_rate"])
    return f"pass rate: {TUNING} {_rate(tuning)} | {name} {_rate(metrics)} | gap {gap:.1f} points"


def kind_table(name: str, samples: list[dict]) -> str:
    """Pass rate per kind of case (its ``kind-`` tag, else its first tag)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in samples:
        c = counts[kind(s["tags"])]
        c[0] += not s["failures"]
        c[1] += 1
    lines = [f"| {name}: kind | passed | rate |", "|---|---|---|"]
    for k, (ok, n) in sorted(counts.items()):
        lines.append(f"| {k} | {ok}/{n} | {100 * ok / n:.1f}% |")
    return "\n".join(lines)


def write_report(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False))
