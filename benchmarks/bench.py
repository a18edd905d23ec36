"""Benchmark: cold start, warm latency beside a plain LangChain pipeline, and (``--scale``) a
synthetic corpus of many passages, embedded and through a Chroma server. Prints figures.

Goals on a 2-core machine (figures, not test assertions): ``assistant ask`` as a new process
(index built) median <= 3 s; warm p95 <= 2x the plain pipeline's; at 50,000 passages ingest
>= 80% of raw embedding throughput, start-up <= 10 s, warm p95 <= 100 ms.

    make bench                  # or: python benchmarks/bench.py
    make bench SCALE=50000      # adds the 50,000-passage runs (embedded, then a Chroma server)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import cold_start, pct, print_cold, print_stages, questions, timed, warm


def warm_plain(plain, qs: list[tuple[str, str]]) -> dict:
    for q, _ in qs[:5]:
        plain.ask(q)
    times = []
    for q, _ in qs:
        t = time.perf_counter()
        plain.ask(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": statistics.median(times), "p95_ms": pct(times, 0.95), "n": len(times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=115, help="warm question turns")
    parser.add_argument("--cold-runs", type=int, default=5, help="new processes to time")
    parser.add_argument("--scale", type=int, default=0, help="also run this many passages")
    parser.add_argument("--no-server", action="store_true", help="skip the Chroma server run")
    parser.add_argument("--scale-cold-runs", type=int, default=3)
    parser.add_argument("--raw-sample", type=int, default=2048)
    parser.add_argument(
        "--real", type=int, default=1000, help="scale passages embedded by the real model"
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="a checkout of an earlier revision: its cold start is measured too, in this run",
    )
    args = parser.parse_args()

    from assistant.corpus import CORPUS_DIR

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    figures: dict = {"cpus": os.cpu_count()}
    try:
        index_dir = tmp / "index"
        ing = timed(
            [sys.executable, "-m", "assistant.cli", "ingest", "--index-dir", str(index_dir)]
        )
        print(f"ingest (seed corpus, new process): {ing['wall']:.1f} s; {ing['out'].strip()}")
        cold = cold_start(index_dir, args.cold_runs)
        print_cold(cold, "cold start, `assistant ask` (new process to printed answer)")
        figures["cold"] = cold
        if args.compare_with:
            env = {"PYTHONPATH": os.pathsep.join([str(args.compare_with.resolve()), *sys.path])}
            before = cold_start(index_dir, args.cold_runs, env=env, cwd=args.compare_with)
            print_cold(before, f"the same, code of {args.compare_with}")
            figures["cold_compared"] = before

        from plain_langchain import PlainPipeline

        from assistant.pipeline import Assistant

        qs = questions(args.questions)
        bot = Assistant.load(index_dir=index_dir)
        ours = warm(bot, qs)
        plain = warm_plain(PlainPipeline(CORPUS_DIR, tmp / "plain"), qs)
        ratio = ours["p95_ms"] / plain["p95_ms"]
        print(f"\nwarm, {ours['n']} question turns of the evaluation suite, one process:")
        print(
            f"  this project          p50 {ours['p50_ms']:6.1f} ms   p95 {ours['p95_ms']:6.1f} ms"
        )
        print(
            f"  plain LangChain (k=4) p50 {plain['p50_ms']:6.1f} ms   p95 {plain['p95_ms']:6.1f} ms"
        )
        print(f"  ratio of p95: {ratio:.2f}x (goal <= 2x)")
        print_stages(ours)
        figures.update(warm=ours, plain=plain, ratio_p95=ratio)
        if args.scale:
            from scale import scale

            figures["scale"] = scale(args.scale, tmp / "scale", args, not args.no_server)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{os.cpu_count()} CPUs; load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
