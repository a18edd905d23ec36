"""Optional language-model composers (Ollama or any OpenAI-compatible server) via langchain.

A model only *drafts*: it gets the question and numbered passages, and its reply is parsed into
the same :class:`~assistant.compose.Draft` the extractive composer produces. The guard then checks
every sentence (citations, numbers, verbatim threshold facts) exactly as for the extractive
composer, and the disclaimer is attached by code, never written by the model. A model that fails
or times out, or whose draft leaves nothing after the guard, is replaced by the extractive answer
with a visible ``fallback_reason`` (see :meth:`assistant.pipeline.Assistant._answer`).

Nothing here contacts a server at import or construction time; the backends are optional extras
(:mod:`assistant.llm.backends`).

- :mod:`~assistant.llm.prompts`: the prompt files, validated and rendered strictly
- :mod:`~assistant.llm.parsing`: the numbered passages of a prompt; a reply parsed to a Draft
- :mod:`~assistant.llm.composer`: :class:`LLMComposer`, streaming, calls with a deadline
- :mod:`~assistant.llm.backends`: chat models built from settings
- :mod:`~assistant.llm.rewrite`: follow-up questions rewritten into standalone queries
"""

from .backends import backend_name, chat_model_from_settings
from .composer import MAX_RETRIEVED, LLMComposer, LLMStream, Prepared, call_with_timeout
from .parsing import (
    defang,
    draft_from_text,
    format_passages,
    message_text,
    parse_prompt_passages,
)
from .prompts import PROMPTS_DIR, PromptError, PromptFile, Prompts, load_prompts
from .rewrite import accept_rewrite, is_standalone, rewrite_query

__all__ = [
    "MAX_RETRIEVED",
    "PROMPTS_DIR",
    "LLMComposer",
    "LLMStream",
    "Prepared",
    "PromptError",
    "PromptFile",
    "Prompts",
    "accept_rewrite",
    "backend_name",
    "call_with_timeout",
    "chat_model_from_settings",
    "defang",
    "draft_from_text",
    "format_passages",
    "is_standalone",
    "load_prompts",
    "message_text",
    "parse_prompt_passages",
    "rewrite_query",
]
