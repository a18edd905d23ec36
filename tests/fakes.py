"""Test doubles: chat models and an embedder. Never a real model, never a network call."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import Field, PrivateAttr

from assistant.evaluation.probes import ComputedReplyModel
from assistant.llm import parse_prompt_passages
from assistant.text import content_tokens

Reply = str | Callable[[str], str] | BaseException


class ScriptedChatModel(ComputedReplyModel):
    """A chat model that plays a fixed script and FAILS the test when called once too often.

    Each call consumes one script item: a string (the reply), a callable given the prompt's last
    user message (returns the reply), or an exception (raised). Calling past the end calls
    ``pytest.fail``; that raises a ``BaseException``, so the pipeline's ``except Exception``
    fallback cannot hide it (the pattern of NeMo-Guardrails' ``FakeLLM``).
    """

    script: list[Any] = Field(default_factory=list)
    sleep: float = 0.0
    calls: list[list[str]] = Field(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted-fake"

    @property
    def prompts(self) -> list[str]:
        """The last user message of every call so far."""
        return [c[-1] for c in self.calls]

    def reply_for(self, messages: list[BaseMessage]) -> str:
        texts = [str(m.content) for m in messages]
        user = next((str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        with self._lock:
            k = len(self.calls)
            self.calls.append(texts)
        if k >= len(self.script):
            pytest.fail(
                f"the model was called {k + 1} times but scripted for {len(self.script)}",
                pytrace=False,
            )
        if self.sleep:
            time.sleep(self.sleep)
        item = self.script[k]
        if isinstance(item, BaseException):
            raise item
        if callable(item):
            try:
                return item(user)
            except Exception as exc:  # surface test bugs instead of a silent fallback
                pytest.fail(f"scripted reply {k} failed: {exc!r}", pytrace=False)
        return item


def passage_number(prompt: str, needle: str) -> int:
    """The ``[n]`` of the first prompt passage containing ``needle``."""
    for n, text in sorted(parse_prompt_passages(prompt).items()):
        if needle in text:
            return n
    raise LookupError(f"no passage in the prompt contains {needle!r}")


class FakeEmbedder:
    """A deterministic hashing bag-of-words embedder: texts -> unit vectors, no model.

    Each word adds one to a bucket chosen by a stable hash, so texts sharing words are similar
    (cosine) and the same text always gives the same vector.
    """

    def __init__(self, dim: int = 256):
        self.dim = dim

    def _bucket(self, word: str) -> int:
        return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")

    def __call__(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            v = [0.0] * self.dim
            for word in content_tokens(text):
                v[self._bucket(word) % self.dim] += 1.0
            norm = math.sqrt(sum(x * x for x in v))
            out.append([x / norm for x in v] if norm else [1.0] + [0.0] * (self.dim - 1))
        return out
