"""Evaluation suite: cases as data, one small class per metric, a runner returning metrics."""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

EVALS_DIR = Path(__file__).resolve().parent.parent / "evals"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContextRef(_Strict):
    """An expected source: a document id and a heading of the section (any level of its path)."""

    doc: str
    section: str | None = None


class Case(_Strict):
    """One known question and what its answer must (and must not) contain."""

    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    user_input: str
    conversation: list[str] = Field(default_factory=list)
    audience: Literal["auto", "clinician", "patient"] = "auto"
    expected_audience: Literal["clinician", "patient"] | None = None
    expected_status: Literal["answered", "refused", "emergency"] = "answered"
    facts: list[str] = Field(default_factory=list)
    key_points: list[list[str]] = Field(default_factory=list)
    reference: str | None = None
    reference_contexts: list[ContextRef] = Field(default_factory=list)
    must_not_contain: list[str] = Field(default_factory=list)
    search_terms: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class CasesFile(_Strict):
    cases: list[Case]


class RoutingItem(_Strict):
    question: str
    audience: Literal["clinician", "patient"]


class RoutingFile(_Strict):
    questions: list[RoutingItem]


def _validated(path: Path, model: type[BaseModel]):
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load_cases(folder: Path = EVALS_DIR) -> list[Case]:
    """All cases of every ``*cases*.yaml`` / ``conversations*.yaml`` file in the folder."""
    cases: list[Case] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith(("cases", "conversations")):
            cases.extend(_validated(path, CasesFile).cases)
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate case ids: {dupes}")
    return cases


def load_routing(folder: Path = EVALS_DIR) -> list[RoutingItem]:
    return _validated(folder / "routing.yaml", RoutingFile).questions


# --- metrics: one small class each, returning a metrics dict ----------------------------------


_MARKER = re.compile(r"\[\d+\]")


def _section_matches(ref: ContextRef, item: dict) -> bool:
    if item["doc"] != ref.doc:
        return False
    if ref.section is None:
        return True
    return any(ref.section.lower() == s.lower() for s in item["section_path"])


def answer_body(d: dict) -> str:
    """The answer text without citation markers (what a reader reads)."""
    return _MARKER.sub("", d["answer"])


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade of ``text``; each line counts as a sentence, as a reader sees it."""
    import textstat

    lines = []
    for line in text.splitlines():
        line = re.sub(r"[*_>#]+|^\s*-\s*", "", line).strip().strip('“”"')
        if line:
            lines.append(line if line[-1] in ".?!" else line + ".")
    return float(textstat.flesch_kincaid_grade(" ".join(lines))) if lines else 0.0


@dataclass
class Result:
    """One case's answer and the checks it passed or failed."""

    case: Case
    answer: dict
    latency_ms: float
    failures: list[str] = field(default_factory=list)


class StatusAccuracy:
    name = "status_accuracy"

    def __call__(self, results: list[Result]) -> dict:
        ok = [r for r in results if r.answer["status"] == r.case.expected_status]
        for r in results:
            if r.answer["status"] != r.case.expected_status:
                r.failures.append(
                    f"status {r.answer['status']} (expected {r.case.expected_status})"
                )
        metrics = {self.name: len(ok) / len(results) if results else 1.0}
        for status in ("refused", "emergency"):
            expected = [r for r in results if r.case.expected_status == status]
            got = [r for r in results if r.answer["status"] == status]
            hit = [r for r in expected if r.answer["status"] == status]
            # recall: expected ones that got it; precision: ones that got it that should have
            metrics[f"{status}_recall"] = len(hit) / len(expected) if expected else 1.0
            metrics[f"{status}_precision"] = len(hit) / len(got) if got else 1.0
        return metrics


class RetrievalRank:
    """recall@5 and MRR of the expected sections among the retrieved passages."""

    def __call__(self, results: list[Result]) -> dict:
        recalls, rranks = [], []
        for r in results:
            refs = r.case.reference_contexts
            if not refs or r.case.expected_status != "answered":
                continue
            got = r.answer.get("retrieved", [])
            top5 = got[:5]
            found = [any(_section_matches(ref, it) for it in top5) for ref in refs]
            recalls.append(sum(found) / len(refs))
            rank = next(
                (
                    k + 1
                    for k, it in enumerate(got)
                    if any(_section_matches(ref, it) for ref in refs)
                ),
                None,
            )
            rranks.append(1.0 / rank if rank else 0.0)
        return {
            "recall_at_5": statistics.fmean(recalls) if recalls else 1.0,
            "mrr": statistics.fmean(rranks) if rranks else 1.0,
        }


class VerbatimFacts:
    """Expected threshold facts quoted verbatim (“...”) and listed in ``facts``."""

    name = "verbatim_fact_accuracy"

    def __call__(self, results: list[Result]) -> dict:
        total = hit = 0
        for r in results:
            listed = {f["text"] for f in r.answer["facts"]}
            for fact in r.case.facts:
                total += 1
                if f"“{fact}”" in r.answer["answer"] and fact in listed:
                    hit += 1
                else:
                    r.failures.append(f"fact not quoted verbatim: {fact!r}")
        return {self.name: hit / total if total else 1.0}


class KeyPoints:
    name = "key_point_coverage"

    def __call__(self, results: list[Result]) -> dict:
        total = hit = 0
        for r in results:
            body = (r.answer["answer"] + "\n" + r.answer["disclaimer"]).lower()
            for group in r.case.key_points:
                total += 1
                if any(p.lower() in body for p in group):
                    hit += 1
                else:
                    r.failures.append(f"key point missing: one of {group}")
        return {self.name: hit / total if total else 1.0}


class CitationPrecision:
    """Cited passages that belong to the expected source documents."""

    name = "citation_precision"

    def __call__(self, results: list[Result]) -> dict:
        total = good = 0
        for r in results:
            docs = {c.doc for c in r.case.reference_contexts}
            if not docs or r.answer["status"] != "answered":
                continue
            for c in r.answer["citations"]:
                total += 1
                good += c["doc"] in docs
        return {self.name: good / total if total else 1.0}


class NumberGrounding:
    """Numbers in an answer that none of its cited passages contains (must be 0)."""

    name = "number_grounding_violations"

    def __call__(self, results: list[Result]) -> dict:
        from .text import numbers

        violations = 0
        for r in results:
            if r.answer["status"] == "refused":
                continue
            pool = " ".join(
                f"{c['section']} {c.get('lead') or ''} {c['quote']}" for c in r.answer["citations"]
            )
            missing = numbers(answer_body(r.answer)) - numbers(pool)
            if missing:
                violations += len(missing)
                r.failures.append(f"ungrounded numbers {sorted(missing)}")
        return {self.name: violations}


class MustNotContain:
    name = "forbidden_text_rate"

    def __call__(self, results: list[Result]) -> dict:
        bad = 0
        for r in results:
            text = (r.answer["answer"] + " " + r.answer["disclaimer"]).lower()
            hits = [s for s in r.case.must_not_contain if s.lower() in text]
            if hits:
                bad += 1
                r.failures.append(f"forbidden text present: {hits}")
        return {self.name: bad / len(results) if results else 0.0}


class Disclaimers:
    """Every answered or emergency response carries its audience's disclaimer."""

    name = "disclaimer_rate"

    def __init__(self, expected: dict[str, str]):
        self.expected = expected

    def __call__(self, results: list[Result]) -> dict:
        rel = [r for r in results if r.answer["status"] != "refused"]
        ok = 0
        for r in rel:
            if r.answer["disclaimer"] == self.expected.get(r.answer["audience"]):
                ok += 1
            else:
                r.failures.append("disclaimer missing or not verbatim")
        return {self.name: ok / len(rel) if rel else 1.0}


class Audience:
    name = "case_audience_accuracy"

    def __call__(self, results: list[Result]) -> dict:
        rel = [r for r in results if r.case.expected_audience]
        ok = 0
        for r in rel:
            if r.answer["audience"] == r.case.expected_audience:
                ok += 1
            else:
                r.failures.append(
                    f"audience {r.answer['audience']} (expected {r.case.expected_audience})"
                )
        return {self.name: ok / len(rel) if rel else 1.0}


class FollowUps:
    """Multi-turn cases: the search query carries (or does not carry) the right words."""

    name = "conversation_pass_rate"

    def __call__(self, results: list[Result]) -> dict:
        rel = [r for r in results if r.case.conversation]
        for r in results:
            q = r.answer.get("search_query", "").lower()
            missing = [t for t in r.case.search_terms if t.lower() not in q]
            if missing:
                r.failures.append(f"search query {q!r} lacks {missing}")
        ok = sum(1 for r in rel if not r.failures)
        return {self.name: ok / len(rel) if rel else 1.0}


class Readability:
    """Flesch-Kincaid grade of patient answers: median and maximum."""

    def __call__(self, results: list[Result]) -> dict:
        grades = [
            reading_grade(answer_body(r.answer))
            for r in results
            if r.answer["audience"] == "patient" and r.answer["status"] == "answered"
        ]
        return {
            "patient_grade_median": round(statistics.median(grades), 2) if grades else 0.0,
            "patient_grade_max": round(max(grades), 2) if grades else 0.0,
            "patient_answers": len(grades),
        }


class Latency:
    def __call__(self, results: list[Result]) -> dict:
        ms = sorted(r.latency_ms for r in results)
        if not ms:
            return {"latency_p50_ms": 0.0, "latency_p95_ms": 0.0}
        return {
            "latency_p50_ms": round(ms[len(ms) // 2], 1),
            "latency_p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
        }


def routing_accuracy(bot, items: list[RoutingItem]) -> tuple[float, list[str]]:
    wrong = []
    for it in items:
        got = bot.router.route(it.question, "auto").audience
        if got != it.audience:
            wrong.append(f"{it.question!r}: routed {got}, labelled {it.audience}")
    return (1 - len(wrong) / len(items) if items else 1.0), wrong


# --- the runner ------------------------------------------------------------------------------

# Metrics where lower is better; all others: higher is better. Latency is reported, not gated.
LOWER_IS_BETTER = {
    "number_grounding_violations",
    "forbidden_text_rate",
    "patient_grade_median",
    "patient_grade_max",
}
NOT_GATED = {"latency_p50_ms", "latency_p95_ms", "patient_answers", "cases", "passed"}
TARGETS = {
    "number_grounding_violations": ("<=", 0),
    "routing_accuracy": (">=", 0.95),
    "patient_grade_median": ("<=", 8.0),
    "patient_grade_max": ("<=", 10.0),
}
DEFAULT_TOLERANCE = 0.02


def run_cases(bot, cases: list[Case], mode: str) -> list[Result]:
    results = []
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
        results.append(Result(case, answer.to_dict(), elapsed))
    return results


def score(bot, results: list[Result]) -> dict:
    expected = {d.audience: d.text for d in bot.rules.disclaimers}
    metrics: dict = {}
    for metric in (
        StatusAccuracy(),
        RetrievalRank(),
        VerbatimFacts(),
        KeyPoints(),
        CitationPrecision(),
        NumberGrounding(),
        MustNotContain(),
        Disclaimers(expected),
        Audience(),
        FollowUps(),
        Readability(),
        Latency(),
    ):
        metrics.update(metric(results))
    metrics["cases"] = len(results)
    metrics["passed"] = sum(1 for r in results if not r.failures)
    metrics["case_pass_rate"] = metrics["passed"] / len(results) if results else 1.0
    return metrics


def evaluate(bot, modes=("keyword", "dense", "hybrid"), folder: Path = EVALS_DIR) -> dict:
    """Run every case through each retrieval mode; return the report (metrics per mode)."""
    cases = load_cases(folder)
    routing, wrong_routes = routing_accuracy(bot, load_routing(folder))
    report: dict = {"modes": {}, "routing_errors": wrong_routes}
    for mode in modes:
        results = run_cases(bot, cases, mode)
        metrics = score(bot, results)
        metrics["routing_accuracy"] = routing
        report["modes"][mode] = {
            "metrics": metrics,
            "failures": {r.case.id: r.failures for r in results if r.failures},
            "answers": {
                r.case.id: {
                    "status": r.answer["status"],
                    "audience": r.answer["audience"],
                    "answer": r.answer["answer"],
                    "search_query": r.answer["search_query"],
                }
                for r in results
            },
        }
    return report


def compare(metrics: dict, baseline: dict) -> list[str]:
    """Metrics that fell below the baseline beyond its tolerance, and missed absolute targets."""
    tol = baseline.get("tolerance", {})
    problems = []
    for name, base in baseline.get("metrics", {}).items():
        if name in NOT_GATED or name not in metrics:
            continue
        group = "patient_grade" if name.startswith("patient_grade") else "default"
        t = tol.get(name, tol.get(group, 0.5 if group == "patient_grade" else DEFAULT_TOLERANCE))
        value = metrics[name]
        if name in LOWER_IS_BETTER and value > base + t:
            problems.append(f"{name} rose to {value:.3f} (baseline {base:.3f}, tolerance {t})")
        elif name not in LOWER_IS_BETTER and value < base - t:
            problems.append(f"{name} fell to {value:.3f} (baseline {base:.3f}, tolerance {t})")
    for name, (op, target) in TARGETS.items():
        value = metrics.get(name)
        if value is None:
            continue
        if (op == "<=" and value > target) or (op == ">=" and value < target):
            problems.append(f"{name} is {value} (target {op} {target})")
    return problems


def markdown(report: dict) -> str:
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


def summary_line(metrics: dict) -> str:
    return (
        f"eval: {metrics['passed']}/{metrics['cases']} cases passed; "
        f"recall@5 {metrics['recall_at_5']:.2f}, MRR {metrics['mrr']:.2f}, "
        f"verbatim facts {metrics['verbatim_fact_accuracy']:.2f}, "
        f"key points {metrics['key_point_coverage']:.2f}, "
        f"citation precision {metrics['citation_precision']:.2f}, "
        f"number-grounding violations {metrics['number_grounding_violations']}, "
        f"status {metrics['status_accuracy']:.2f} (refusals {metrics['refused_recall']:.2f}, "
        f"emergencies {metrics['emergency_recall']:.2f}), "
        f"routing {metrics['routing_accuracy']:.2f}, "
        f"conversations {metrics['conversation_pass_rate']:.2f}, patient grade median "
        f"{metrics['patient_grade_median']:.1f} / max {metrics['patient_grade_max']:.1f}, "
        f"latency p50 {metrics['latency_p50_ms']:.0f} ms / p95 {metrics['latency_p95_ms']:.0f} ms"
    )


def main(args) -> int:
    """``assistant eval``: print the table, write the JSON report, apply the baseline gate."""
    from .pipeline import Assistant

    overrides = {
        k: v
        for k, v in {
            "index_dir": args.index_dir,
            "corpus_dir": args.corpus_dir,
            "rules_dir": getattr(args, "rules_dir", None),
        }.items()
        if v
    }
    composer = None
    if getattr(args, "composer", None) == "fake-paraphrase":
        from .evaluation.probes import ParaphrasingFakeModel
        from .llm import LLMComposer, load_prompts

        composer = LLMComposer(ParaphrasingFakeModel(), load_prompts(), name="llm:fake-paraphrase")
    bot = Assistant.load(composer=composer, **overrides)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    report = evaluate(bot, modes)
    print(markdown(report))
    main_mode = "hybrid" if "hybrid" in modes else modes[-1]
    metrics = report["modes"][main_mode]["metrics"]
    print("\n" + summary_line(metrics))
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(report, indent=1, ensure_ascii=False))
    if args.baseline and args.update_baseline:
        gated = {k: v for k, v in metrics.items() if k not in NOT_GATED}
        Path(args.baseline).write_text(
            json.dumps(
                {
                    "tolerance": {"default": DEFAULT_TOLERANCE, "patient_grade": 0.5},
                    "metrics": gated,
                },
                indent=1,
            )
            + "\n"
        )
        print(f"baseline written to {args.baseline}")
        return 0
    if args.baseline:
        baseline = json.loads(Path(args.baseline).read_text())
        problems = compare(metrics, baseline)
        if problems:
            failing = report["modes"][main_mode]["failures"]
            print("\nEVALUATION GATE FAILED:", file=sys.stderr)
            for p in problems:
                print(f"  - {p}", file=sys.stderr)
            for cid, reasons in sorted(failing.items()):
                print(f"  - case {cid}: {'; '.join(reasons)}", file=sys.stderr)
            return 1
        print("evaluation gate passed")
    return 0
