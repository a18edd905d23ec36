"""The regression gate: metrics against a baseline (with tolerance) and absolute targets."""

from __future__ import annotations

import json
from pathlib import Path

# Metrics where lower is better; all others: higher is better. Latency is reported, not gated.
LOWER_IS_BETTER = {
    "number_grounding_violations",
    "forbidden_text_rate",
    "patient_grade_median",
    "patient_grade_max",
}
NOT_GATED = {"latency_p50_ms", "latency_p95_ms", "patient_answers", "cases", "passed"}
# What became of a composer's drafts: reported beside the metrics, never gated.
NOT_GATED |= {
    "drafts",
    "drafts_accepted_share",
    "drafts_repaired_share",
    "drafts_replaced_share",
    "drafts_model_failed",
    "draft_sentences_accepted",
    "draft_sentences_dropped",
    "draft_facts_restored",
}
TARGETS = {
    "number_grounding_violations": ("<=", 0),
    "citations_real_rate": (">=", 1.0),
    "routing_accuracy": (">=", 0.95),
    "patient_grade_median": ("<=", 8.0),
    "patient_grade_max": ("<=", 10.0),
}
DEFAULT_TOLERANCE = 0.02
TOLERANCE = {"default": DEFAULT_TOLERANCE, "patient_grade": 0.5}

# An extra (held-out) set is gated on these alone: whether answers stay safe, not how it scores.
EXTRA_GATED = (
    "case_pass_rate",
    "number_grounding_violations",
    "verbatim_fact_accuracy",
    "disclaimer_rate",
    "status_accuracy",
)
EXTRA_TARGETS = {"number_grounding_violations": ("<=", 0)}


def compare(
    metrics: dict, baseline: dict, gated: tuple[str, ...] | None = None, targets: dict = TARGETS
) -> list[str]:
    """Metrics that fell below the baseline beyond its tolerance, and missed absolute targets.

    ``gated`` limits the baseline comparison to those metrics (default: all but ``NOT_GATED``).
    """
    tol = baseline.get("tolerance", {})
    problems = []
    for name, base in baseline.get("metrics", {}).items():
        if name in NOT_GATED or name not in metrics or (gated is not None and name not in gated):
            continue
        group = "patient_grade" if name.startswith("patient_grade") else "default"
        t = tol.get(name, tol.get(group, 0.5 if group == "patient_grade" else DEFAULT_TOLERANCE))
        value = metrics[name]
        if name in LOWER_IS_BETTER and value > base + t:
            problems.append(f"{name} rose to {value:.3f} (baseline {base:.3f}, tolerance {t})")
        elif name not in LOWER_IS_BETTER and value < base - t:
            problems.append(f"{name} fell to {value:.3f} (baseline {base:.3f}, tolerance {t})")
    for name, (op, target) in targets.items():
        value = metrics.get(name)
        if value is None:
            continue
        if (op == "<=" and value > target) or (op == ">=" and value < target):
            problems.append(f"{name} is {value} (target {op} {target})")
    return problems


def compare_extra(metrics: dict, baseline: dict) -> list[str]:
    """The gate of an extra set: its few gated metrics and the number-grounding target."""
    return compare(metrics, baseline, gated=EXTRA_GATED, targets=EXTRA_TARGETS)


def baseline_of(metrics: dict, gated: tuple[str, ...] | None = None) -> dict:
    """The baseline file's content for these metrics."""
    names = [k for k in metrics if k not in NOT_GATED and (gated is None or k in gated)]
    return {"tolerance": dict(TOLERANCE), "metrics": {k: metrics[k] for k in names}}


def write_baseline(path: Path, metrics: dict, gated: tuple[str, ...] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline_of(metrics, gated), indent=1) + "\n")


def read_baseline(path: Path) -> dict | None:
    """The baseline at ``path``; None when there is none; ValueError when it is not one."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable baseline: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("metrics", {}), dict):
        raise ValueError(f"{path}: a baseline is an object with a 'metrics' object")
    return data
