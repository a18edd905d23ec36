"""A session with the assistant: a bounded conversation, stage timings, streamed drafts."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .inputs import validate_history, validate_question

if TYPE_CHECKING:
    from .answer import Answer
    from .pipeline import Assistant

_END = object()


class Stopwatch:
    """Milliseconds per pipeline stage, for ``Answer.timings``; a stage may be timed twice."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.ms: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - self.last) * 1000
        self.last = now

    def result(self) -> dict[str, float]:
        total = (time.perf_counter() - self.started) * 1000
        return {k: round(v, 2) for k, v in {**self.ms, "total": total}.items()}


@dataclass
class Conversation:
    """One conversation's bounded history; two conversations never share turns."""

    assistant: Assistant
    audience: str = "auto"
    history: list[dict] = field(default_factory=list)

    def ask(self, question: str, audience: str | None = None) -> Answer:
        answer = self.assistant.ask(question, audience or self.audience, self.history)
        self.history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.answer},
        ]
        self.history = self.history[-2 * self.assistant.settings.max_history_turns :]
        return answer


def stream(bot, question: str, audience: str = "auto", history: list[dict] | None = None):
    """Like :meth:`ask`, as events: ``("draft", text)`` while a model writes, then
    ``("final", Answer)``. Drafts are unchecked model text, for a "drafting…" preview only;
    the final answer is the guarded one. Without a streaming composer: just the final event.

    Raises:
        ValueError: as :meth:`ask`, before the first event.
    """
    validate_question(question)
    validate_history(history, bot.settings.max_history_turns)
    streaming = getattr(bot.composer, "streaming", None)
    if streaming is None:
        yield "final", bot.ask(question, audience, history)
        return
    chunks: queue.Queue = queue.Queue()
    result: dict = {}

    def work() -> None:
        try:
            with streaming(chunks.put):
                result["answer"] = bot.ask(question, audience, history)
        except BaseException as exc:  # handed to the caller below
            result["error"] = exc
        finally:
            chunks.put(_END)

    threading.Thread(target=work, daemon=True, name="ask-stream").start()
    text = ""
    while (chunk := chunks.get()) is not _END:
        text += chunk
        yield "draft", text
    if "error" in result:
        raise result["error"]
    yield "final", result["answer"]
