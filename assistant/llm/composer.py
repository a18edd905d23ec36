"""The language-model composer: numbered sources in, a parsed :class:`Draft` out, on a deadline.

Everything a draft needs comes in the :class:`~assistant.compose.ComposeInput`: the retrieved
passages, the located threshold facts, the documents that address the assistant and the facts
that disagree. The composer holds no other stage's object.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage

from ..compose import ComposeInput, Difference, Draft, differences_in
from ..corpus import Passage
from ..safety import InstructionDetector
from ..tuning import LLMTuning
from .backends import backend_name, chat_model_from_settings
from .parsing import defang, draft_from_text, format_passages, message_text
from .prompts import Prompts, load_prompts

if TYPE_CHECKING:
    from ..config import Settings
    from ..rules import Rules

log = logging.getLogger(__name__)

MAX_RETRIEVED = LLMTuning().max_retrieved


def call_with_timeout(fn: Callable[[], Any], timeout: float | None) -> Any:
    """Run ``fn()`` in a daemon thread; raise :class:`TimeoutError` after ``timeout`` seconds.

    The abandoned call is left to finish (or hit its own HTTP timeout) in the background; a
    daemon thread never keeps the process alive. Exceptions, ``BaseException`` included, are
    re-raised in the caller.
    """
    if timeout is None:
        return fn()
    done = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc
        finally:
            done.set()

    ctx = contextvars.copy_context()
    threading.Thread(target=ctx.run, args=(work,), name="llm-call", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"the language model timed out (no answer within {timeout:g} s)")
    if "error" in box:
        raise box["error"]
    return box["value"]


_STREAM_SINK: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "assistant_llm_stream_sink", default=None
)


@dataclass(frozen=True)
class Prepared:
    """What one model call needs: the messages and the numbered sources they show."""

    messages: list[BaseMessage]
    sources: tuple[Passage, ...]
    differences: tuple[Difference, ...]
    withheld: tuple[str, ...] = ()


class LLMComposer:
    """Drafts an answer with a langchain chat model; the pipeline's guard checks every sentence.

    Args:
        chat_model: any langchain ``BaseChatModel`` (``ChatOllama``, ``ChatOpenAI``, a fake).
        prompts: validated prompt files (default: :func:`load_prompts`).
        timeout: seconds to wait for the model before raising :class:`TimeoutError`.
        name: the name reported as ``Answer.composer`` (default ``"llm:<backend>"``).
        detector: the shared injection detector; a passage it finds an instruction in is never
            shown to the model (documents that address the assistant are withheld anyway, from
            ``ComposeInput.untrusted``).
        max_retrieved: how many of the top retrieved passages the model sees (the passages
            holding the question's threshold facts are always added).
        rewrite_followups: the model also rewrites follow-up questions into standalone search
            queries (:attr:`rewriter`; guarded, see :func:`assistant.llm.rewrite_query`).

    Example:
        >>> from langchain_core.language_models.fake_chat_models import FakeListChatModel
        >>> c = LLMComposer(FakeListChatModel(responses=["..."]), timeout=5)
        >>> bot = Assistant.load(composer=c)
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        prompts: Prompts | None = None,
        *,
        timeout: float | None = 60.0,
        name: str | None = None,
        detector: InstructionDetector | None = None,
        max_retrieved: int = MAX_RETRIEVED,
        rewrite_followups: bool = False,
    ):
        self.chat_model = chat_model
        self.rewriter = chat_model if rewrite_followups else None
        self.prompts = prompts or load_prompts()
        self.timeout = timeout
        self.name = name or f"llm:{backend_name(chat_model)}"
        self.detector = detector
        self.max_retrieved = max_retrieved

    @classmethod
    def from_settings(
        cls, settings: Settings, rules: Rules | None = None, prompts: Prompts | None = None
    ) -> LLMComposer:
        """A composer for ``settings.composer`` (``"ollama"`` or ``"openai"``); no network call.

        With ``rules``, passages are also checked with ``safety.injection_patterns`` and the
        model sees ``tuning.llm.max_retrieved`` retrieved passages.

        Raises:
            ImportError: the backend's extra is not installed; the message names the extra.
            ValueError: ``openai`` without ``llm_base_url``, or an unknown composer.
        """
        model = chat_model_from_settings(settings)
        rewrite = settings.llm_rewrite
        if rules is None:
            return cls(model, prompts, timeout=settings.llm_timeout, rewrite_followups=rewrite)
        return cls(
            model,
            prompts,
            timeout=settings.llm_timeout,
            detector=InstructionDetector(rules.safety.injection_patterns),
            max_retrieved=(
                settings.local_max_retrieved
                if settings.composer == "local"
                else rules.tuning.llm.max_retrieved
            ),
            rewrite_followups=rewrite,
        )

    # --- prompt ------------------------------------------------------------------------------

    def trusted(self, p: Passage, untrusted: frozenset[str] = frozenset()) -> bool:
        """False for a passage of an ``untrusted`` document, or one that itself addresses the
        assistant ("ignore ...")."""
        if p.doc_id in untrusted:
            return False
        if self.detector is None:
            return True
        return self.detector.search(" ".join([*p.section, p.lead or "", p.text])) is None

    def sources_for(self, inp: ComposeInput) -> tuple[list[Passage], list[str]]:
        """Numbered sources: the top retrieved passages, then the passages holding the facts."""
        sources: list[Passage] = []
        withheld: list[str] = []

        def add(p: Passage, fact: bool = False) -> None:
            lead_in = p.text.endswith(":") and len(p.sentences) < 2 and not fact
            if p in sources or p.kind == "disclaimer" or lead_in:
                return  # a bare lead-in line ("... when:") is shown with its bullets instead
            if not self.trusted(p, inp.untrusted):
                withheld.append(p.id)
                return
            sources.append(p)

        for hit in inp.retrieval.hits[: self.max_retrieved]:
            add(hit.passage)
        for loc in inp.facts:
            add(loc.passage, fact=True)
        return sources, withheld

    def question_text(self, inp: ComposeInput) -> str:
        """The question for the model: instructions found in it removed, follow-ups resolved."""
        question = inp.route.cleaned or inp.question
        if inp.query.carried:
            question = f"{question} (earlier subject: {', '.join(inp.query.carried)})"
        return defang(question)

    def prepare(self, inp: ComposeInput) -> Prepared:
        sources, withheld = self.sources_for(inp)
        messages = self.prompts.messages(
            inp.route.audience,
            question=self.question_text(inp),
            passages=format_passages(sources),
            n_passages=len(sources),
            audience=inp.route.audience,
        )
        return Prepared(
            messages, tuple(sources), differences_in(inp.disagreements, sources), tuple(withheld)
        )

    # --- composing ---------------------------------------------------------------------------

    def compose(self, inp: ComposeInput) -> Draft:
        """Ask the model and parse its reply into a :class:`Draft` for the guard.

        Raises:
            TimeoutError: no reply within ``timeout`` seconds (the pipeline falls back).
            Exception: whatever the backend raises (the pipeline falls back).
        """
        prepared = self.prepare(inp)
        if prepared.withheld:
            log.warning(
                "passages addressing the assistant withheld from the model: %s",
                ", ".join(prepared.withheld),
            )
        if not prepared.sources:
            return Draft((), (), composer=self.name)
        sink = _STREAM_SINK.get()
        if sink is not None:
            stream = LLMStream(self, prepared)
            for chunk in stream:
                sink(chunk)
            return stream.draft()
        reply = call_with_timeout(lambda: self.chat_model.invoke(prepared.messages), self.timeout)
        return draft_from_text(
            message_text(reply), prepared.sources, self.name, prepared.differences
        )

    def stream(self, inp: ComposeInput) -> LLMStream:
        """Text chunks as the model writes them; ``.draft()`` afterwards gives the Draft.

        The chunks are the model's *unverified* draft: show them as "drafting…", then replace
        them with the guarded answer.
        """
        return LLMStream(self, self.prepare(inp))

    @contextlib.contextmanager
    def streaming(self, on_chunk: Callable[[str], None]):
        """Within this block (this thread/context), :meth:`compose` streams into ``on_chunk``.

        The pipeline still guards the final draft, so a UI can show progress with no change to
        ``Assistant.ask``::

            with composer.streaming(lambda t: ui.append(t)):
                answer = bot.ask(question)
        """
        token = _STREAM_SINK.set(on_chunk)
        try:
            yield self
        finally:
            _STREAM_SINK.reset(token)


_DONE = object()


class LLMStream:
    """Iterator over a model's text chunks with an overall deadline; then :meth:`draft`."""

    def __init__(self, composer: LLMComposer, prepared: Prepared):
        self.composer = composer
        self.prepared = prepared
        self.sources = prepared.sources
        self.parts: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._started = False
        self._finished = False

    def _run(self) -> None:
        try:
            for chunk in self.composer.chat_model.stream(self.prepared.messages):
                if self._stop.is_set():
                    break
                self._queue.put(message_text(chunk))
        except BaseException as exc:  # re-raised in the consumer
            self._queue.put(exc)
        finally:
            self._queue.put(_DONE)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._finished:
            raise StopIteration
        if not self._started:
            self._started = True
            self._deadline = (
                time.monotonic() + self.composer.timeout
                if self.composer.timeout is not None
                else None
            )
            ctx = contextvars.copy_context()
            threading.Thread(
                target=ctx.run, args=(self._run,), name="llm-stream", daemon=True
            ).start()
        while True:
            wait = None if self._deadline is None else self._deadline - time.monotonic()
            try:
                if wait is not None and wait <= 0:
                    raise queue.Empty
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                self._stop.set()
                self._finished = True
                raise TimeoutError(
                    f"the language model timed out (no full answer within "
                    f"{self.composer.timeout:g} s)"
                ) from None
            if item is _DONE:
                self._finished = True
                raise StopIteration
            if isinstance(item, BaseException):
                self._finished = True
                raise item
            if item:
                self.parts.append(item)
                return item

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def draft(self) -> Draft:
        """The Draft from the whole reply (consumes the rest of the stream first)."""
        for _ in self:
            pass
        return draft_from_text(
            self.text, self.sources, self.composer.name, self.prepared.differences
        )
