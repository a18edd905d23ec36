"""The evaluation suite: cases as data, pure metrics, the runner, the gate and the reports."""

from .cases import (
    EVALS_DIR,
    Case,
    CasesFile,
    ContextRef,
    RoutingItem,
    extra_sets,
    kind,
    load_cases,
    load_routing,
)
from .cli import main
from .gate import EXTRA_GATED, compare, compare_extra
from .metrics import Record, answer_body, reading_grade
from .report import drafts_line, kind_table, markdown, side_by_side, summary_line
from .runner import evaluate, evaluate_set, run_cases, score

__all__ = [
    "EVALS_DIR",
    "EXTRA_GATED",
    "Case",
    "CasesFile",
    "ContextRef",
    "Record",
    "RoutingItem",
    "answer_body",
    "compare",
    "compare_extra",
    "drafts_line",
    "evaluate",
    "evaluate_set",
    "extra_sets",
    "kind",
    "kind_table",
    "load_cases",
    "load_routing",
    "main",
    "markdown",
    "reading_grade",
    "run_cases",
    "score",
    "side_by_side",
    "summary_line",
]
