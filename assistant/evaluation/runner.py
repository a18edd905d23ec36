"""The runner: cases through the assistant, one record per case, the metrics merged."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from . import metrics as m
from .cases import EVALS_DIR, Case, RoutingItem, load_cases, load_routing
from .metrics import Failures, Record

EXTRA_SET_MODE = "hybrid"


def run_cases(bot, cases: list[Case], mode: str) -> list[Record]:
    """Ask every case (after its earlier turns); record its answer and latency."""
    records = []
    for case in cases:
        history: list[dict] = []
        for turn in case.conversation:
            prior = bot.ask(turn, case.audience, history, retrieval=mode)
            history += [
                {"role": "user", "content": turn},
                {"role": "assistant", "content": prior.answer},
            ]
        started = time.perf_counter()
        answer = bot.ask(case.user_input, case.audience, history, retrieval=mode)
        elapsed = (time.perf_counter() - started) * 1000
        records.append(Record(case, answer.to_dict(), elapsed))
    return records


def routing_accuracy(bot, items: list[RoutingItem]) -> tuple[float, list[str]]:
    wrong = []
    for it in items:
        got = bot.router.route(it.question, "auto").audience
        if got != it.audience:
            wrong.append(f"{it.question!r}: routed {got}, labelled {it.audience}")
    return (1 - len(wrong) / len(items) if items else 1.0), wrong


def _merge(into: Failures, found: Failures) -> None:
    for cid, reasons in found.items():
        into.setdefault(cid, []).extend(reasons)


def score(
    records: list[Record],
    expected_disclaimers: dict[str, str],
    documents: dict[str, str] | None = None,
) -> tuple[dict, Failures]:
    """All metrics of the records and each failing case's reasons, in the case order.

    ``documents`` (id to text) lets citations be checked as real spans (``citations_real``).
    """
    checks = (
        m.status_accuracy,
        m.retrieval_rank,
        m.verbatim_facts,
        m.key_points,
        m.citation_precision,
        m.number_grounding,
        m.forbidden_text,
        partial(m.disclaimers, expected=expected_disclaimers),
        *([partial(m.citations_real, documents=documents)] if documents is not None else []),
        m.audience,
        m.follow_ups,
    )
    metrics: dict = {}
    merged: Failures = {}
    for check in checks:
        values, found = check(records)
        metrics.update(values)
        _merge(merged, found)
    metrics.update(m.conversation_pass_rate(records, merged))
    for measure in (m.readability, m.draft_outcomes, m.latency):
        metrics.update(measure(records)[0])
    metrics.update(m.pass_counts(records, merged))
    failures = {r.id: merged[r.id] for r in records if merged.get(r.id)}
    return metrics, failures


def with_failures(records: list[Record], failures: Failures) -> list[Record]:
    return [replace(r, failures=tuple(failures.get(r.id, ()))) for r in records]


def disclaimer_texts(bot) -> dict[str, str]:
    return {d.audience: d.text for d in bot.rules.disclaimers}


def document_texts(bot) -> dict[str, str]:
    return {doc_id: doc.text for doc_id, doc in bot.corpus.documents.items()}


def run_set(bot, cases: list[Case], mode: str) -> dict:
    """One set in one mode: its metrics, failing cases and per-sample records."""
    records = run_cases(bot, cases, mode)
    metrics, failures = score(records, disclaimer_texts(bot), document_texts(bot))
    return {
        "metrics": metrics,
        "failures": failures,
        "samples": [r.to_dict() for r in with_failures(records, failures)],
    }


def evaluate(bot, modes=("keyword", "dense", "hybrid"), folder: Path = EVALS_DIR) -> dict:
    """The tuning set through each retrieval mode: the report (metrics per mode)."""
    cases = load_cases(folder)
    routing, wrong_routes = routing_accuracy(bot, load_routing(folder))
    report: dict = {"modes": {}, "routing_errors": wrong_routes}
    for mode in modes:
        result = run_set(bot, cases, mode)
        result["metrics"]["routing_accuracy"] = routing
        report["modes"][mode] = result
    return report


def evaluate_set(bot, folder: Path, mode: str = EXTRA_SET_MODE) -> dict:
    """An extra (named) set in one mode; routing is scored when it has a ``routing.yaml``."""
    result = {"mode": mode, **run_set(bot, load_cases(folder), mode)}
    if (folder / "routing.yaml").exists():
        routing, wrong = routing_accuracy(bot, load_routing(folder))
        result["metrics"]["routing_accuracy"] = routing
        result["routing_errors"] = wrong
    return result
