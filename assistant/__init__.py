"""Offline, citation-first conversational assistant over clinical guideline documents.

Example:
    >>> from assistant import Assistant
    >>> bot = Assistant.load()
    >>> answer = bot.ask("What is the recommended riluzole dose?")
    >>> answer.to_dict()["citations"][0]["quote"]
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .answer import Answer
    from .config import Settings
    from .pipeline import Assistant, Conversation

__all__ = ["Answer", "Assistant", "Conversation", "Settings"]
__version__ = "0.1.0"
_WHERE = {"Answer": ".answer", "Settings": ".config", "Assistant": ".pipeline"}
_WHERE["Conversation"] = ".pipeline"


def __getattr__(name: str):
    """Import on first use: ``import assistant`` alone (as the CLI does) loads nothing heavy."""
    if name in _WHERE:
        return getattr(import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
