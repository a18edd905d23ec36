"""Exemplars: labelled questions that show how each audience asks.

``rules/routing_examples.yaml`` holds questions labelled by who asks (a clinician, or a patient,
family member or member of the public), written from the corpus documents over the same topics
in both registers. When a question's own words do not decide its audience, the router asks
which way its nearest examples (by the embedding model, the same one as retrieval) lean:
"weak signal; nearest examples 4 of 5 clinician ('PEG cutoff FVC?', ...)". The vectors are
computed once and kept beside the index (checked against the model at every start).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .datafile import load_yaml

log = logging.getLogger(__name__)

FILE = "routing_examples.yaml"


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audience: Literal["clinician", "patient"]
    question: str = Field(min_length=1, max_length=2000)


class ExamplesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    examples: list[Example] = Field(description="questions labelled by who asks")


@dataclass(frozen=True)
class Vote:
    """How the nearest examples lean: their clinician share and the nearest questions."""

    audience: Literal["clinician", "patient"]
    share: float  # similarity-weighted share of the winning audience
    nearest: tuple[str, ...]
    similarity: float = 1.0  # the nearest example's cosine to the question

    def describe(self) -> str:
        shown = "; ".join(repr(q if len(q) <= 40 else q[:37] + "...") for q in self.nearest[:2])
        return f"nearest labelled questions {self.share:.0%} {self.audience} ({shown})"


class Exemplars:
    """The labelled questions and (on first use) their vectors."""

    def __init__(
        self,
        examples: list[Example],
        embed: Callable[[list[str]], list] | None,
        k: int = 5,
        cache: Path | None = None,
    ):
        self.examples = examples
        self.embed = embed
        self.k = k
        self.cache = cache
        self._matrix: np.ndarray | None = None
        self._clinician = np.array([e.audience == "clinician" for e in examples], bool)

    @classmethod
    def load(cls, rules_dir: Path, embed, k: int, cache: Path | None = None) -> Exemplars:
        """The folder's examples (none when it has no examples file)."""
        path = Path(rules_dir) / FILE
        if not path.exists():
            return cls([], embed, k)
        from .rules import RulesError

        return cls(load_yaml(path, ExamplesFile, RulesError).examples, embed, k, cache)

    def _digest(self) -> str:
        text = "\n".join(f"{e.audience}\t{e.question}" for e in self.examples)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def matrix(self) -> np.ndarray:
        """One unit row per example: read from the cache when it still matches the model."""
        if self._matrix is not None:
            return self._matrix
        texts = [e.question for e in self.examples]
        probe = np.asarray(self.embed(texts[:1]), np.float32)
        kept = self._read(probe)
        if kept is None:
            kept = np.asarray(self.embed(texts), np.float32)
            self._save(kept)
        self._matrix = kept
        return kept

    def _read(self, probe: np.ndarray) -> np.ndarray | None:
        if self.cache is None:
            return None
        try:
            meta = json.loads((self.cache / "examples.json").read_text("utf-8"))
            matrix = np.load(self.cache / "examples.npy")
        except (OSError, ValueError):
            return None
        expected = (len(self.examples), probe.shape[1])
        if not isinstance(meta, dict) or meta.get("digest") != self._digest():
            return None  # other examples, or a damaged record
        if matrix.shape != expected or float(matrix[0] @ probe[0]) < 0.999:
            return None  # another size, or another model made them
        return matrix

    def _save(self, matrix: np.ndarray) -> None:
        if self.cache is None:
            return
        tmp = self.cache / f".examples.npy.{os.getpid()}.tmp"
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as f:
                np.save(f, matrix)
            os.replace(tmp, self.cache / "examples.npy")
            meta = json.dumps({"digest": self._digest()}).encode("utf-8")
            (self.cache / "examples.json").write_bytes(meta)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            log.warning("routing example vectors not saved (%s)", exc)

    def vote(self, question: str) -> Vote | None:
        """Which audience the ``k`` examples nearest to ``question`` lean to, weighted by
        similarity; None without examples or a model."""
        if not self.examples or self.embed is None:
            return None
        matrix = self.matrix()
        q = np.asarray(self.embed([question])[0], np.float32)
        if q.shape[0] != matrix.shape[1]:
            return None
        sims = matrix @ q
        near = np.argsort(-sims, kind="stable")[: self.k]
        weights = np.clip(sims[near], 1e-6, None)
        share = float(weights[self._clinician[near]].sum() / weights.sum())
        audience = "clinician" if share > 0.5 else "patient"
        return Vote(
            audience,
            share if audience == "clinician" else 1 - share,
            tuple(
                self.examples[i].question
                for i in near
                if self._clinician[i] == (audience == "clinician")
            ),
            float(sims[near[0]]),
        )
