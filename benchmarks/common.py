"""What the benchmarks share: the questions, timing a command alone, cold start, warm latency."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
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


def print_stages(w: dict) -> None:
    print("  per stage, ms (p50 / p95):")
    for k, (p50, p95) in w["stages"].items():
        print(f"    {k:<10} {p50:7.2f} / {p95:7.2f}")
