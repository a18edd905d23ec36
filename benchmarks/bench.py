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
import contextlib
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
for _var, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_var, _value)

ASK = "What is the recommended riluzole dose?"
STAGES = ("route", "retrieve", "compose", "guard", "repair", "assemble", "total")


def questions(n: int) -> list[tuple[str, str]]:
    """The evaluation suite's question turns (question, audience), in file order, distinct."""
    import yaml

    out: dict[str, str] = {}
    for name in ("cases.yaml", "conversations.yaml"):
        for case in yaml.safe_load((REPO / "evals" / name).read_text("utf-8"))["cases"]:
            for q in [*case.get("conversation", []), case["user_input"]]:
                if isinstance(q, str) and q.strip():
                    out.setdefault(q, case.get("audience", "auto"))
    return list(out.items())[:n]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


# A small launcher measures the command: a child forked from this (large) process would report
# this process's memory as its own peak, so the command is spawned from a fresh, small one.
LAUNCHER = """
import os, sys, time
t = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t
sys.stderr.write(f"\\n@@ {wall} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run a process alone: its wall and CPU seconds, peak memory (MB) and output."""
    proc = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *cmd],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    err, _, stats = proc.stderr.rstrip().rpartition("\n@@ ")
    wall, cpu, peak_kb = stats.split()
    return {
        "wall": float(wall),
        "cpu": float(cpu),
        "peak_mb": int(peak_kb) / 1024,
        "out": proc.stdout,
        "err": err,
    }


# --- cold start --------------------------------------------------------------------------------


def ask_cmd(index_dir: Path, corpus_dir: Path | None = None, *flags: str) -> list[str]:
    cmd = [sys.executable, *flags, "-m", "assistant.cli", "ask", ASK, "--index-dir", str(index_dir)]
    return cmd + (["--corpus-dir", str(corpus_dir)] if corpus_dir else [])


def import_breakdown(stderr: str, top: int = 10) -> tuple[float, list[tuple[str, float]]]:
    """``-X importtime`` output as seconds per package: the self time of its modules, summed."""
    per: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if own.strip().isdigit():
            per[name.strip().split(".")[0]] += int(own) / 1e6
    return sum(per.values()), sorted(per.items(), key=lambda kv: -kv[1])[:top]


def cold_start(
    index_dir: Path, runs: int, corpus_dir: Path | None = None, env=None, cwd=None
) -> dict:
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        r = timed(ask_cmd(index_dir, corpus_dir), env, cwd)
        assert "[1]" in r["out"], r["out"][:500]  # a cited answer was printed
        walls.append(r["wall"])
        cpus.append(r["cpu"])
        peaks.append(r["peak_mb"])
    imports = timed(ask_cmd(index_dir, corpus_dir, "-X", "importtime"), env, cwd)
    total, top = import_breakdown(imports["err"])
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "cpu_s": statistics.median(cpus),
        "peak_mb": max(peaks),
        "runs": runs,
        "import_s": total,
        "imports": top,
    }


def print_cold(c: dict, label: str) -> None:
    print(
        f"{label}: median {c['median_s']:.2f} s over {c['runs']} runs (fastest {c['min_s']:.2f} s; "
        f"CPU {c['cpu_s']:.2f} s; peak {c['peak_mb']:.0f} MB)"
    )
    print(f"  import time {c['import_s']:.2f} s, by top-level package:")
    for name, s in c["imports"]:
        print(f"    {name:<28} {s * 1000:8.0f} ms")


# --- warm --------------------------------------------------------------------------------------


def warm(bot, qs: list[tuple[str, str]]) -> dict:
    for q, a in qs[:5]:
        bot.ask(q, a)  # warm-up
    times, stages = [], defaultdict(list)
    for q, a in qs:
        t = time.perf_counter()
        answer = bot.ask(q, a)
        times.append((time.perf_counter() - t) * 1000)
        for k, v in answer.timings.items():
            stages[k].append(v)
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": pct(times, 0.95),
        "n": len(times),
        "stages": {
            k: (statistics.median(stages[k]), pct(stages[k], 0.95)) for k in STAGES if stages[k]
        },
    }


def warm_plain(plain, qs: list[tuple[str, str]]) -> dict:
    for q, _ in qs[:5]:
        plain.ask(q)
    times = []
    for q, _ in qs:
        t = time.perf_counter()
        plain.ask(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": statistics.median(times), "p95_ms": pct(times, 0.95), "n": len(times)}


def print_stages(w: dict) -> None:
    print("  per stage, ms (p50 / p95):")
    for k, (p50, p95) in w["stages"].items():
        print(f"    {k:<10} {p50:7.2f} / {p95:7.2f}")


# --- scale -------------------------------------------------------------------------------------


def worker_ingest(args) -> int:
    """In a child process: ingest as ``assistant ingest`` does, each part timed; the passage
    vectors may be recorded (for the server run) or replayed (so it measures the server)."""
    import numpy as np

    from assistant.config import Settings
    from assistant.corpus import Corpus
    from assistant.embeddings import embed, model
    from assistant.index import VectorIndex
    from assistant.pipeline import Assistant
    from assistant.rules import Rules

    settings = Settings.from_env(corpus_dir=args.corpus_dir, index_dir=args.index_dir)
    figures: dict = {}
    t = time.perf_counter()
    corpus = Corpus.load(settings.corpus_dir)
    rules = Rules.load(settings.rules_dir)
    rules.check_against(corpus.texts())
    figures["load_s"] = time.perf_counter() - t
    embedder = embed
    if args.replay:
        texts = json.loads(Path(args.replay, "texts.json").read_text("utf-8"))
        vectors = np.load(Path(args.replay, "vectors.npy"))
        known = {s: i for i, s in enumerate(texts)}

        class Replay:
            query = staticmethod(embed.query)

            def __call__(self, batch):
                return [vectors[known[s]] if s in known else embed([s])[0] for s in batch]

        embedder = Replay()
    else:
        model()  # the model's own load is not the corpus's ingest
        sample = random.Random(0).sample(
            [p.embed_text() for p in corpus.passages], min(args.raw_sample, len(corpus.passages))
        )
        t = time.perf_counter()
        embed(sample)
        figures["raw_per_s"] = len(sample) / (time.perf_counter() - t)
    recorded_texts, recorded = [], []
    if args.record:

        class Recording:
            query = staticmethod(embed.query)

            def __call__(self, batch):
                vectors = embed(batch)
                recorded_texts.extend(batch)
                recorded.append(np.asarray(vectors, dtype=np.float32))  # 1.5 kB a passage
                return vectors

        embedder = Recording()
    t = time.perf_counter()
    index = VectorIndex(settings, embedder)
    report = index.sync(corpus)
    figures["sync_s"] = time.perf_counter() - t
    t = time.perf_counter()
    Assistant(settings, corpus, rules, index)  # keyword index and suggestions, as ingest does
    figures["prepare_s"] = time.perf_counter() - t
    figures["passages"] = len(corpus.passages)
    figures["added"] = report.added
    if args.record:
        Path(args.record).mkdir(parents=True, exist_ok=True)
        Path(args.record, "texts.json").write_text(json.dumps(recorded_texts), "utf-8")
        np.save(Path(args.record, "vectors.npy"), np.concatenate(recorded))
    print(json.dumps(figures))
    return 0


def worker_warm(args) -> int:
    """In a child process: load, then time the suite's questions at this corpus size."""
    from assistant.pipeline import Assistant

    t = time.perf_counter()
    bot = Assistant.load(corpus_dir=args.corpus_dir, index_dir=args.index_dir)
    load_s = time.perf_counter() - t
    w = warm(bot, questions(args.questions))
    w["load_s"] = load_s
    w["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(w))
    return 0


def worker(kind: str, corpus_dir: Path, index_dir: Path, env=None, **extra) -> dict:
    cmd = [sys.executable, __file__, f"--{kind}-worker", "--corpus-dir", str(corpus_dir)]
    cmd += ["--index-dir", str(index_dir)]
    for k, v in extra.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    r = timed(cmd, env)
    figures = json.loads(r["out"].strip().splitlines()[-1])
    return {**figures, "wall_s": r["wall"], "child_peak_mb": r["peak_mb"]}


@contextlib.contextmanager
def chroma_server(data: Path):
    """``chroma run`` on a free loopback port; yields (port, pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    cmd = [str(chroma if chroma.exists() else "chroma"), "run", "--path", str(data)]
    proc = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("chroma run exited early") from None
                time.sleep(0.3)
        else:
            raise RuntimeError("chroma run did not start within 120 s")
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def peak_of(pid: int) -> float:
    """A running process's peak resident memory in MB (Linux)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def scale(n: int, tmp: Path, args, server: bool) -> dict:
    import synth

    corpus_dir, index_dir = tmp / "corpus", tmp / "index"
    t = time.perf_counter()
    docs, passages = synth.build(corpus_dir, n)
    print(f"\n== {passages} passages ({docs} synthetic documents, {time.perf_counter() - t:.0f} s)")
    ing = worker("ingest", corpus_dir, index_dir, record=tmp / "vectors")
    ingest_s = ing["load_s"] + ing["sync_s"] + ing["prepare_s"]
    ing["per_s"] = ing["passages"] / ingest_s
    ing["index_per_s"] = ing["passages"] / (ing["load_s"] + ing["sync_s"])
    print(
        f"raw embedding: {ing['raw_per_s']:.1f} passages/s (sentence-transformers, batch 32, "
        f"on {args.raw_sample} sampled passages)"
    )
    print(
        f"ingest: {ing['passages']} passages in {ingest_s:.0f} s = {ing['per_s']:.1f}/s, "
        f"{ing['per_s'] / ing['raw_per_s']:.0%} of raw (read {ing['load_s']:.1f} s, embed+store "
        f"{ing['sync_s']:.0f} s, keyword index+suggestions {ing['prepare_s']:.1f} s; "
        f"peak {ing['child_peak_mb']:.0f} MB)"
    )
    cold = cold_start(index_dir, args.scale_cold_runs, corpus_dir)
    print_cold(cold, f"start-up at {passages} (`assistant ask`, new process)")
    w = worker("warm", corpus_dir, index_dir, questions=args.questions)
    print(
        f"warm at {passages}: p50 {w['p50_ms']:.1f} ms, p95 {w['p95_ms']:.1f} ms over {w['n']} "
        f"questions (load {w['load_s']:.1f} s; peak {w['peak_mb']:.0f} MB)"
    )
    print_stages(w)
    out = {"passages": passages, "documents": docs, "ingest": ing, "cold": cold, "warm": w}
    if server:
        with chroma_server(tmp / "server-data") as (port, pid):
            env = {"ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(port)}
            srv = worker("ingest", corpus_dir, tmp / "unused", env, replay=tmp / "vectors")
            add_s = srv["sync_s"]
            print(
                f"\n== the same {passages} passages through a Chroma server (chroma run, "
                f"127.0.0.1)\nstore (vectors replayed, so this is the server's own cost): "
                f"{add_s:.0f} s = {passages / add_s:.0f} passages/s; keyword index+suggestions "
                f"{srv['prepare_s']:.1f} s"
            )
            cold_srv = cold_start(tmp / "unused", args.scale_cold_runs, corpus_dir, env)
            print_cold(cold_srv, "start-up against the server")
            ws = worker("warm", corpus_dir, tmp / "unused", env, questions=args.questions)
            print(
                f"warm through the server: p50 {ws['p50_ms']:.1f} ms, p95 {ws['p95_ms']:.1f} ms "
                f"(load {ws['load_s']:.1f} s; client peak {ws['peak_mb']:.0f} MB, server peak "
                f"{peak_of(pid):.0f} MB)"
            )
            print_stages(ws)
            out["server"] = {"ingest": srv, "cold": cold_srv, "warm": ws, "peak_mb": peak_of(pid)}
    return out


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=115, help="warm question turns")
    parser.add_argument("--cold-runs", type=int, default=5, help="new processes to time")
    parser.add_argument("--scale", type=int, default=0, help="also run this many passages")
    parser.add_argument("--no-server", action="store_true", help="skip the Chroma server run")
    parser.add_argument("--scale-cold-runs", type=int, default=3)
    parser.add_argument("--raw-sample", type=int, default=2048)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="a checkout of an earlier revision: its cold start is measured too, in this run",
    )
    for kind in ("ingest", "warm"):
        parser.add_argument(f"--{kind}-worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("corpus-dir", "index-dir", "record", "replay"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_worker:
        return worker_ingest(args)
    if args.warm_worker:
        return worker_warm(args)

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
            figures["scale"] = scale(args.scale, tmp / "scale", args, not args.no_server)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{os.cpu_count()} CPUs; load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
