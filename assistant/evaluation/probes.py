"""Evaluation probes: deterministic chat models that stress the guard. Never a real model.

``assistant eval --composer fake-paraphrase`` composes every answer with
:class:`ParaphrasingFakeModel`, which rewords figures the way a fluent model does, so the
evaluation shows that no ungrounded number reaches a final answer and every threshold fact is
still quoted verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from ..llm import message_text, parse_prompt_passages

# (pattern, replacement) applied in order. Numbers written with digits mostly stay; symbols,
# "twice" and some digits become words, the way a fluent model rewords a source.
PARAPHRASES: tuple[tuple[str, str], ...] = (
    (r">\s?50\s?%", "over half"),
    (r">\s?(\d+(?:\.\d+)?)\s?%", r"more than \1 percent"),
    (r"<\s?(\d+(?:\.\d+)?)\s?%", r"under \1 percent"),
    (r"\btwice daily\b", "two times a day"),
    (r"\btwice\b", "two times"),
    (r"\bevery 3 months\b", "every three months"),
    (r"\b6 months\b", "six months"),
    (r"\bat least\b", "no less than"),
    (r"\bapproximately\b", "about"),
    (r"\bshould be\b", "ought to be"),
    (r"\bPatients\b", "People"),
    (r"\bpatients\b", "people"),
    (r"\bRecommended\b", "Advised"),
    (r"\brecommended\b", "advised"),
)


def paraphrase(text: str) -> str:
    """``text`` reworded by :data:`PARAPHRASES`."""
    for pattern, repl in PARAPHRASES:
        text = re.sub(pattern, repl, text)
    return text


class ComputedReplyModel(BaseChatModel):
    """A chat model whose reply is computed by :meth:`reply_for`, returned whole or streamed
    word by word. The base of the probes and of the tests' doubles; never a network call."""

    def reply_for(self, messages: Sequence[BaseMessage]) -> str:
        raise NotImplementedError

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(content=self.reply_for(messages)))]
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for piece in re.findall(r"\S+\s*", self.reply_for(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


class ParaphrasingFakeModel(ComputedReplyModel):
    """EVALUATION PROBE, not a language model.

    Reads the numbered passages out of the prompt and returns each sentence reworded by
    :data:`PARAPHRASES` (">50%" -> "over half", "twice daily" -> "two times a day", ...) with its
    ``[n]`` kept. Used by ``assistant eval --composer fake-paraphrase``.
    """

    backend_name: ClassVar[str] = "fake-paraphrase"
    max_passages: int = 6

    @property
    def _llm_type(self) -> str:
        return "fake-paraphrase"

    def reply_for(self, messages: Sequence[BaseMessage]) -> str:
        user = next(
            (message_text(m) for m in reversed(messages) if isinstance(m, HumanMessage)), ""
        )
        lines = []
        for n, text in sorted(parse_prompt_passages(user).items())[: self.max_passages]:
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text):
                sentence = sentence.strip().rstrip(".:")
                if sentence:
                    lines.append(f"- {paraphrase(sentence)} [{n}].")
        return "\n".join(lines)
