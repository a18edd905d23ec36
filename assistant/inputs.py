"""Bounds on everything a user sends: the question and the conversation history.

Every surface (the Python API, the CLI, the HTTP endpoints) goes through these checks, so bad
input is a ``ValueError`` with a message for the user, and oversized input is refused before any
work is done on it.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field

Message = dict  # {"role": "user" | "assistant", "content": str}


class InputLimits(BaseModel):
    """How much input one request may carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_question_chars: int = Field(
        default=2000, ge=1, description="characters of one question, after normalisation"
    )
    max_history_messages: int = Field(
        default=100,
        ge=0,
        description="messages in the history one request may send (only the last "
        "Settings.max_history_turns exchanges are read)",
    )
    max_history_chars: int = Field(
        default=200_000, ge=0, description="characters of all history messages together"
    )

    @property
    def max_line_bytes(self) -> int:
        """Bytes of one CLI input line (UTF-8 takes at most 4 bytes a character)."""
        return 4 * self.max_question_chars + 2


LIMITS = InputLimits()
MAX_QUESTION_CHARS = LIMITS.max_question_chars

# C0 controls but tab and newlines, DEL, C1 controls (e.g. the terminal's CSI, U+009B), and the
# bidirectional embeddings, overrides and isolates that can make text read differently on screen.
_REJECTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Invisible characters that split a word without showing: zero-width space, joiners, word
# joiner, byte-order mark, soft hyphen, direction marks. They are removed.
_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u2060\ufeff]")


# A run of blank space says nothing a question needs, and a long one would make the patterns
# that look for an instruction at a line's start try every position in it.
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_SPACES = re.compile(r"[ \t]{2,}")


def collapse_space(text: str) -> str:
    """``text`` with each run of blank lines as one empty line, and of spaces as one."""
    return _SPACES.sub(" ", _BLANK_LINES.sub("\n\n", text))


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits, ligatures, no-break spaces become ordinary ones),
    without the invisible characters, blank runs collapsed (:func:`collapse_space`)."""
    return collapse_space(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)))


def validate_question(question, limits: InputLimits = LIMITS) -> str:
    """Return the question normalised and stripped, or raise ``ValueError`` for the user."""
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError("The question is not valid UTF-8 text.") from exc
    if not isinstance(question, str):
        raise ValueError("The question must be text.")
    if len(question) > 2 * limits.max_question_chars:  # refused before any work on it
        raise _too_long(len(question), limits)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in question):
        raise ValueError("The question is not valid UTF-8 text.")
    if _REJECTED.search(question):
        raise ValueError("The question contains control characters; please type plain text.")
    question = normalise(question).strip()
    if not question:
        raise ValueError("The question is empty; please type a question.")
    if len(question) > limits.max_question_chars:
        raise _too_long(len(question), limits)
    return question


def _too_long(n: int, limits: InputLimits) -> ValueError:
    return ValueError(
        f"The question is too long ({n} characters; the limit is "
        f"{limits.max_question_chars}). Please ask a shorter question."
    )


def validate_history(history, max_turns: int, limits: InputLimits = LIMITS) -> list[Message]:
    """Check the history's shape and size; keep only the last ``max_turns`` exchanges.

    Raises:
        ValueError: not a list of ``{"role", "content"}`` messages, or over the limits.
    """
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise ValueError("history must be a list of {'role', 'content'} messages")
    advice = f"send only the recent turns (the assistant reads the last {max_turns} exchanges)"
    if len(history) > limits.max_history_messages:
        raise ValueError(
            f"history is too long ({len(history)} messages; the limit is "
            f"{limits.max_history_messages}): {advice}"
        )
    clean = []
    total = 0
    for k, m in enumerate(history):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise ValueError(f"history[{k}] must have role 'user' or 'assistant'")
        if not isinstance(m.get("content"), str):
            raise ValueError(f"history[{k}].content must be a string")
        total += len(m["content"])
        if total > limits.max_history_chars:
            raise ValueError(
                f"history is too long (over {limits.max_history_chars} characters): {advice}"
            )
        clean.append({"role": m["role"], "content": m["content"]})
    return clean[-2 * max_turns :] if max_turns else []
