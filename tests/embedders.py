"""A deterministic stand-in for the embedding model (after simonw/llm's ``EmbedDemo``).

Words and their character trigrams are hashed (BLAKE2b, so the same text gives the same vector
in every process, unlike ``hash()``) into a fixed number of signed buckets; the vector is scaled
to unit length. Texts that share words or spellings get a higher cosine than texts that do not,
which is all the pipeline's mechanics need; what a real model knows about meaning is left to
the integration tests.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading

_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder:
    """``texts -> unit vectors``; counts how many texts it embedded (``calls``)."""

    def __init__(self, dim: int = 256, trigram_weight: float = 0.5):
        self.dim = dim
        self.trigram_weight = trigram_weight
        self.calls = 0
        self._lock = threading.Lock()

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        n = int.from_bytes(digest, "big")
        return n % self.dim, (1.0 if (n >> 32) & 1 else -1.0)

    def vector(self, text: str) -> list[float]:
        v = [0.0] * self.dim
        for word in _WORD.findall(text.lower()):
            i, sign = self._bucket("w:" + word)
            v[i] += sign
            padded = f"#{word}#"
            for k in range(len(padded) - 2):
                i, sign = self._bucket("t:" + padded[k : k + 3])
                v[i] += sign * self.trigram_weight
        norm = math.sqrt(sum(x * x for x in v))
        if norm == 0.0:  # no words at all: a fixed unit vector, never a zero one
            return [1.0] + [0.0] * (self.dim - 1)
        return [x / norm for x in v]

    def __call__(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            self.calls += len(texts)
        return [self.vector(t) for t in texts]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))
