"""Metrics: each a pure function of the per-case records, returning (metrics, failures by case)."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from .cases import Case, ContextRef

Failures = dict[str, list[str]]
Scored = tuple[dict, Failures]

_MARKER = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Record:
    """One case's answer (``Answer.to_dict()``), its latency and the checks it failed."""

    case: Case
    answer: dict
    latency_ms: float
    failures: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def tags(self) -> list[str]:
        return self.case.tags

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "tags": list(self.tags),
            "answer": self.answer,
            "latency_ms": round(self.latency_ms, 1),
            "failures": list(self.failures),
        }


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
    from ..readability import grade

    lines = []
    for line in text.splitlines():
        line = re.sub(r"[*_>#]+|^\s*-\s*", "", line).strip().strip('“”"')
        if line:
            lines.append(line if line[-1] in ".?!" else line + ".")
    return grade(" ".join(lines)) if lines else 0.0


def _ratio(hit: int, total: int, empty: float = 1.0) -> float:
    return hit / total if total else empty


def status_accuracy(records: list[Record]) -> Scored:
    """Expected status reached; recall and precision of refusals and emergencies."""
    failures: Failures = {}
    for r in records:
        if r.answer["status"] != r.case.expected_status:
            failures[r.id] = [f"status {r.answer['status']} (expected {r.case.expected_status})"]
    metrics = {"status_accuracy": _ratio(len(records) - len(failures), len(records))}
    for status in ("refused", "emergency"):
        expected = [r for r in records if r.case.expected_status == status]
        got = [r for r in records if r.answer["status"] == status]
        hit = [r for r in expected if r.answer["status"] == status]
        # recall: expected ones that got it; precision: ones that got it that should have
        metrics[f"{status}_recall"] = _ratio(len(hit), len(expected))
        metrics[f"{status}_precision"] = _ratio(len(hit), len(got))
    return metrics, failures


def retrieval_rank(records: list[Record]) -> Scored:
    """recall@5 and MRR of the expected sections among the retrieved passages."""
    recalls, rranks = [], []
    for r in records:
        refs = r.case.reference_contexts
        if not refs or r.case.expected_status != "answered":
            continue
        got = r.answer.get("retrieved", [])
        found = [any(_section_matches(ref, it) for it in got[:5]) for ref in refs]
        recalls.append(sum(found) / len(refs))
        rank = next(
            (k + 1 for k, it in enumerate(got) if any(_section_matches(ref, it) for ref in refs)),
            None,
        )
        rranks.append(1.0 / rank if rank else 0.0)
    return {
        "recall_at_5": statistics.fmean(recalls) if recalls else 1.0,
        "mrr": statistics.fmean(rranks) if rranks else 1.0,
    }, {}


def verbatim_facts(records: list[Record]) -> Scored:
    """Expected threshold facts quoted verbatim (“...”) and listed in ``facts``: the case's
    fact, or a listed fact quoted whole that holds it ("FVC <50%" inside “FVC <50% predicted”)."""
    failures: Failures = {}
    total = hit = 0
    for r in records:
        quoted = [f["text"] for f in r.answer["facts"] if f"“{f['text']}”" in r.answer["answer"]]
        for fact in r.case.facts:
            total += 1
            held = re.compile(rf"(?<![\w.]){re.escape(fact)}(?![\w.])")  # "6 months" ≠ "36 months"
            if any(held.search(text) for text in quoted):
                hit += 1
            else:
                failures.setdefault(r.id, []).append(f"fact not quoted verbatim: {fact!r}")
    return {"verbatim_fact_accuracy": _ratio(hit, total)}, failures


def key_points(records: list[Record]) -> Scored:
    """Each key-point group has one acceptable phrasing in the answer or its disclaimer."""
    failures: Failures = {}
    total = hit = 0
    for r in records:
        body = (r.answer["answer"] + "\n" + r.answer["disclaimer"]).lower()
        for group in r.case.key_points:
            total += 1
            if any(p.lower() in body for p in group):
                hit += 1
            else:
                failures.setdefault(r.id, []).append(f"key point missing: one of {group}")
    return {"key_point_coverage": _ratio(hit, total)}, failures


def citation_precision(records: list[Record]) -> Scored:
    """Cited passages that belong to the expected source documents."""
    total = good = 0
    for r in records:
        docs = {c.doc for c in r.case.reference_contexts}
        if not docs or r.answer["status"] != "answered":
            continue
        for c in r.answer["citations"]:
            total += 1
            good += c["doc"] in docs
    return {"citation_precision": _ratio(good, total)}, {}


def number_grounding(records: list[Record]) -> Scored:
    """Numbers in an answer that none of its cited passages contains (must be 0)."""
    from ..text import numbers

    failures: Failures = {}
    violations = 0
    for r in records:
        if r.answer["status"] == "refused":
            continue
        pool = " ".join(
            f"{c['section']} {c.get('lead') or ''} {c['quote']}" for c in r.answer["citations"]
        )
        missing = numbers(answer_body(r.answer)) - numbers(pool)
        if missing:
            violations += len(missing)
            failures[r.id] = [f"ungrounded numbers {sorted(missing)}"]
    return {"number_grounding_violations": violations}, failures


def citations_real(records: list[Record], documents: dict[str, str]) -> Scored:
    """Citations that are real: each listed citation quotes its document exactly
    (``text[start:end]``) and every ``[n]`` marker of the answer names a listed citation."""
    failures: Failures = {}
    total = real = 0
    for r in records:
        if r.answer["status"] == "refused":
            continue
        listed = {c["n"] for c in r.answer["citations"]}
        bad = sorted({int(m[1:-1]) for m in _MARKER.findall(r.answer["answer"])} - listed)
        if bad:
            failures[r.id] = [f"citation markers {bad} name no listed citation"]
        total += len(bad)
        for c in r.answer["citations"]:
            total += 1
            text = documents.get(c["doc"])
            if text is not None and text[c["start"] : c["end"]] == c["quote"]:
                real += 1
            else:
                failures.setdefault(r.id, []).append(f"citation [{c['n']}] is not a real span")
    return {"citations_real_rate": _ratio(real, total)}, failures


def forbidden_text(records: list[Record]) -> Scored:
    """Share of answers containing a string their case forbids."""
    failures: Failures = {}
    for r in records:
        text = (r.answer["answer"] + " " + r.answer["disclaimer"]).lower()
        hits = [s for s in r.case.must_not_contain if s.lower() in text]
        if hits:
            failures[r.id] = [f"forbidden text present: {hits}"]
    return {"forbidden_text_rate": _ratio(len(failures), len(records), 0.0)}, failures


def disclaimers(records: list[Record], expected: dict[str, str]) -> Scored:
    """Every answered or emergency response carries its audience's disclaimer verbatim."""
    rel = [r for r in records if r.answer["status"] != "refused"]
    failures: Failures = {
        r.id: ["disclaimer missing or not verbatim"]
        for r in rel
        if r.answer["disclaimer"] != expected.get(r.answer["audience"])
    }
    return {"disclaimer_rate": _ratio(len(rel) - len(failures), len(rel))}, failures


def audience(records: list[Record]) -> Scored:
    """Cases with an expected audience were answered for it."""
    rel = [r for r in records if r.case.expected_audience]
    failures: Failures = {
        r.id: [f"audience {r.answer['audience']} (expected {r.case.expected_audience})"]
        for r in rel
        if r.answer["audience"] != r.case.expected_audience
    }
    return {"case_audience_accuracy": _ratio(len(rel) - len(failures), len(rel))}, failures


def follow_ups(records: list[Record]) -> Scored:
    """The search query carries the words its case expects (multi-turn carry-over)."""
    failures: Failures = {}
    for r in records:
        q = r.answer.get("search_query", "").lower()
        missing = [t for t in r.case.search_terms if t.lower() not in q]
        if missing:
            failures[r.id] = [f"search query {q!r} lacks {missing}"]
    return {}, failures


def conversation_pass_rate(records: list[Record], failures: Failures) -> dict:
    """Multi-turn cases that pass every check (given the merged failures of all checks)."""
    rel = [r for r in records if r.case.conversation]
    ok = sum(1 for r in rel if not failures.get(r.id))
    return {"conversation_pass_rate": _ratio(ok, len(rel))}


def readability(records: list[Record]) -> Scored:
    """Flesch-Kincaid grade of patient answers: median and maximum."""
    grades = [
        reading_grade(answer_body(r.answer))
        for r in records
        if r.answer["audience"] == "patient" and r.answer["status"] == "answered"
    ]
    return {
        "patient_grade_median": round(statistics.median(grades), 2) if grades else 0.0,
        "patient_grade_max": round(max(grades), 2) if grades else 0.0,
        "patient_answers": len(grades),
    }, {}


def draft_outcomes(records: list[Record]) -> Scored:
    """What became of the composer's drafts (``Answer.to_dict()["draft"]``), over the answers
    that had one: the share accepted as written, repaired (sentences dropped or facts restored)
    or replaced by the extractive answer (of those, how many because the model failed, timed out
    or wrote nothing, not because the guard rejected it), and the sentences kept, dropped and
    restored."""
    drafts = [r.answer["draft"] for r in records if r.answer.get("draft")]
    replaced = [d for d in drafts if d["replaced"]]
    repaired = [d for d in drafts if not d["replaced"] and (d["dropped"] or d["restored_facts"])]
    accepted = len(drafts) - len(replaced) - len(repaired)
    return {
        "drafts": len(drafts),
        "drafts_accepted_share": _ratio(accepted, len(drafts), 0.0),
        "drafts_repaired_share": _ratio(len(repaired), len(drafts), 0.0),
        "drafts_replaced_share": _ratio(len(replaced), len(drafts), 0.0),
        # replaced with no sentence to check: the model failed, timed out or wrote nothing
        "drafts_model_failed": sum(1 for d in replaced if not d["dropped"]),
        "draft_sentences_accepted": sum(d["accepted"] for d in drafts),
        "draft_sentences_dropped": sum(d["dropped"] for d in drafts),
        "draft_facts_restored": sum(d["restored_facts"] for d in drafts),
    }, {}


def latency(records: list[Record]) -> Scored:
    """p50 and p95 answer latency (reported, never gated)."""
    ms = sorted(r.latency_ms for r in records)
    if not ms:
        return {"latency_p50_ms": 0.0, "latency_p95_ms": 0.0}, {}
    return {
        "latency_p50_ms": round(ms[len(ms) // 2], 1),
        "latency_p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
    }, {}


def pass_counts(records: list[Record], failures: Failures) -> dict:
    """Cases, cases without a failure, and their share."""
    passed = sum(1 for r in records if not failures.get(r.id))
    return {"cases": len(records), "passed": passed, "case_pass_rate": _ratio(passed, len(records))}
