"""The scale benchmark: a synthetic corpus ingested, started and queried, embedded and through a
Chroma server. Each measurement runs in its own process (``python benchmarks/scale.py ingest|warm
...`` are those processes), so peak memory is that step's alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import cold_start, print_cold, print_stages, questions, timed, warm


class StandIn:
    """Unit vectors from a hash of each text (deterministic, microseconds a text): the bulk of
    a large synthetic corpus, which the real model would take hours to embed on a few cores;
    questions still go through the real model."""

    def __init__(self, dim: int = 384):
        self.dim = dim

    def __call__(self, texts):
        import hashlib

        import numpy as np

        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest())
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return out

    @staticmethod
    def query(text):
        from assistant.embeddings import embed

        return embed.query(text)


def worker_ingest(args) -> int:
    """In a child process: ingest as ``assistant ingest`` and the first start do, each part
    timed. The first ``--real`` passages are embedded by the real model (the ingest throughput
    beside raw embedding); the rest, and the sentence contexts, by :class:`StandIn` (what is
    timed there is Chroma's store and the preparation)."""
    from assistant.config import Settings
    from assistant.corpus import Corpus
    from assistant.embeddings import embed, model
    from assistant.index import VectorIndex
    from assistant.pipeline import Assistant

    settings = Settings.from_env(corpus_dir=args.corpus_dir, index_dir=args.index_dir)
    figures: dict = {}
    t = time.perf_counter()
    corpus = Corpus.load(settings.corpus_dir)
    figures["load_s"] = time.perf_counter() - t
    stand_in = StandIn()
    if args.real:
        model()  # the model's own load is not the corpus's ingest
        sample = random.Random(0).sample(
            [p.embed_text() for p in corpus.passages], min(args.raw_sample, len(corpus.passages))
        )
        t = time.perf_counter()
        embed(sample)
        figures["raw_per_s"] = len(sample) / (time.perf_counter() - t)
        docs, n = {}, 0
        for doc_id, doc in corpus.documents.items():
            if n >= args.real:
                break
            docs[doc_id], n = doc, n + len(doc.passages)
        first = Corpus(corpus.folder, docs)
        t = time.perf_counter()
        VectorIndex(settings, embed).sync(first)
        figures["real_s"], figures["real_n"] = time.perf_counter() - t, n
        figures["real_per_s"] = n / figures["real_s"]
    t = time.perf_counter()
    report = VectorIndex(settings, stand_in).sync(corpus)
    figures["store_s"], figures["added"] = time.perf_counter() - t, report.added
    figures["store_per_s"] = report.added / figures["store_s"]
    t = time.perf_counter()
    # the keyword index, suggestions, sentence vectors and prepared state, as the first start
    Assistant.load(settings, embedder=stand_in)
    figures["prepare_s"] = time.perf_counter() - t
    figures["passages"] = len(corpus.passages)
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
    cmd = [sys.executable, __file__, kind, "--corpus-dir", str(corpus_dir)]
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
    """Build ``n`` passages in ``tmp`` and measure them (see the module docstring)."""
    import synth

    corpus_dir, index_dir = tmp / "corpus", tmp / "index"
    t = time.perf_counter()
    docs, passages = synth.build(corpus_dir, n)
    print(f"\n== {passages} passages ({docs} synthetic documents, {time.perf_counter() - t:.0f} s)")
    ing = worker("ingest", corpus_dir, index_dir, real=args.real, raw_sample=args.raw_sample)
    print(
        f"raw embedding: {ing['raw_per_s']:.1f} passages/s (sentence-transformers, on "
        f"{args.raw_sample} sampled passages)\n"
        f"ingest, real model: {ing['real_n']} passages in {ing['real_s']:.0f} s = "
        f"{ing['real_per_s']:.1f}/s, {ing['real_per_s'] / ing['raw_per_s']:.0%} of raw\n"
        f"store at scale (stand-in vectors): {ing['added']} more passages in "
        f"{ing['store_s']:.0f} s = {ing['store_per_s']:.0f}/s; first start (sentence vectors, "
        f"keyword index, suggestions, prepared state) {ing['prepare_s']:.0f} s; read "
        f"{ing['load_s']:.1f} s; peak {ing['child_peak_mb']:.0f} MB"
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
            srv = worker("ingest", corpus_dir, tmp / "unused", env, real=0)
            print(
                f"\n== the same {passages} passages through a Chroma server (chroma run, "
                f"127.0.0.1)\nstore (stand-in vectors, so this is the server's own cost): "
                f"{srv['store_s']:.0f} s = {srv['store_per_s']:.0f} passages/s; first start "
                f"{srv['prepare_s']:.0f} s"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=["ingest", "warm"])
    parser.add_argument("--corpus-dir", required=True)
    parser.add_argument("--index-dir", required=True)
    parser.add_argument("--real", type=int, default=0)
    parser.add_argument("--questions", type=int, default=115)
    parser.add_argument("--raw-sample", type=int, default=2048)
    args = parser.parse_args()
    return worker_ingest(args) if args.step == "ingest" else worker_warm(args)


if __name__ == "__main__":
    sys.exit(main())
