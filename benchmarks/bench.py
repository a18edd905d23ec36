"""Benchmark: cold start, warm latency p50/p95, ingest time and peak memory. Prints figures.

Targets on a 2-core machine: warm p95 under 150 ms, cold start under 8 s. These are benchmark
figures, not test assertions.

    make bench            # or: python benchmarks/bench.py [--questions 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What is the recommended riluzole dose?",
    "When should non-invasive ventilation be started?",
    "What is the FVC cut-off for PEG placement?",
    "How common is ALS?",
    "What are the first signs of ALS?",
    "How is ALS diagnosed?",
    "What are the side effects of riluzole?",
    "How is sialorrhea managed?",
    "When should palliative care start?",
    "What is the median survival for bulbar onset ALS?",
    "My husband has trouble swallowing, what can we do?",
    "Will I need a feeding tube?",
    "Is ALS inherited?",
    "What causes ALS?",
    "How often should nutrition be assessed?",
    "What does edaravone do?",
    "What is the prevalence of ALS?",
    "Is there a cure for ALS?",
    "How much does riluzole extend survival?",
    "What tests are used to diagnose ALS?",
    "When is it too late for a gastrostomy?",
    "What is BPAP used for in ALS?",
    "What helps with muscle cramps?",
    "Can ALS affect thinking?",
    "What is the capital of France?",
    "My mom is choking right now",
    "rilzole dose",
    "How should liver enzymes be monitored on riluzole?",
    "What is pseudobulbar affect?",
    "What are the risk factors for ALS?",
]


def cold_start(index_dir: Path) -> float:
    """Seconds from a new process starting to its first answer (index already built)."""
    code = (
        "import time; t=time.perf_counter();"
        "from assistant import Assistant;"
        "bot=Assistant.load();"
        "bot.ask('What is the recommended riluzole dose?');"
        "print(time.perf_counter()-t)"
    )
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir)}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    total = time.perf_counter() - started
    return total if out.stdout.strip() else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=60, help="warm questions to time")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()

    from assistant import Assistant
    from assistant.config import Settings
    from assistant.corpus import Corpus
    from assistant.embeddings import model
    from assistant.index import VectorIndex

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        model()  # load once so ingest time is the corpus's, not the model's
        started = time.perf_counter()
        corpus = Corpus.load()
        report = VectorIndex(Settings(index_dir=tmp / "index")).sync(corpus)
        ingest_s = time.perf_counter() - started
        n_passages = report.added

        cold_s = cold_start(tmp / "index")

        bot = Assistant.load(index_dir=tmp / "index")
        for q in QUESTIONS[:5]:
            bot.ask(q)  # warm-up
        times = []
        for i in range(args.questions):
            q = QUESTIONS[i % len(QUESTIONS)]
            audience = ("auto", "clinician", "patient")[i % 3]
            t = time.perf_counter()
            bot.ask(q, audience=audience)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures = {
            "cold_start_s": round(cold_s, 2),
            "warm_p50_ms": round(p50, 1),
            "warm_p95_ms": round(p95, 1),
            "warm_questions": len(times),
            "ingest_s": round(ingest_s, 2),
            "ingest_passages": n_passages,
            "peak_rss_mb": round(peak_mb),
            "cpus": os.cpu_count(),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"cold start (process start to first answer): {figures['cold_start_s']:.2f} s "
        f"(target < 8 s)"
    )
    print(
        f"warm latency over {figures['warm_questions']} questions: "
        f"p50 {figures['warm_p50_ms']:.1f} ms, p95 {figures['warm_p95_ms']:.1f} ms "
        f"(target p95 < 150 ms)"
    )
    print(f"ingest: {figures['ingest_passages']} passages in {figures['ingest_s']:.2f} s")
    print(f"peak memory (RSS): {figures['peak_rss_mb']} MB on {figures['cpus']} CPUs")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
