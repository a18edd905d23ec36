"""Offline, citation-first conversational assistant over clinical guideline documents.

Example:
    >>> from assistant import Assistant
    >>> bot = Assistant.load()
    >>> answer = bot.ask("What is the recommended riluzole dose?")
    >>> answer.to_dict()["citations"][0]["quote"]
"""

from .answer import Answer
from .config import Settings
from .pipeline import Assistant, Conversation

__all__ = ["Answer", "Assistant", "Conversation", "Settings"]
__version__ = "0.1.0"
