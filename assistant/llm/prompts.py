"""The prompt files: one YAML file per audience, jinja2 templates rendered strictly."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..datafile import load_yaml

PROMPTS_DIR = Path(__file__).parent.parent / "prompts"
AUDIENCES = ("clinician", "patient")
# Placeholders a prompt template may use; ``question`` and ``passages`` are required in ``user``.
PLACEHOLDERS = frozenset({"question", "passages", "n_passages", "audience"})
REQUIRED_IN_USER = frozenset({"question", "passages"})


class PromptError(ValueError):
    """A prompt file is missing or malformed, or a template could not be rendered strictly."""


_JINJA = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)


@functools.lru_cache(maxsize=32)
def _template(source: str) -> jinja2.Template:
    return _JINJA.from_string(source)


class PromptFile(BaseModel):
    """One audience's prompt file: ``version``, ``system`` and ``user`` jinja2 templates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    system: str = Field(min_length=20)
    user: str = Field(min_length=10)

    @field_validator("system", "user")
    @classmethod
    def _known_placeholders(cls, v: str) -> str:
        try:
            used = jinja2.meta.find_undeclared_variables(_JINJA.parse(v))
        except jinja2.TemplateSyntaxError as exc:
            raise ValueError(f"template syntax error: {exc}") from exc
        unknown = sorted(used - PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholders {unknown}; allowed: {sorted(PLACEHOLDERS)}")
        return v

    @field_validator("user")
    @classmethod
    def _required_placeholders(cls, v: str) -> str:
        used = jinja2.meta.find_undeclared_variables(_JINJA.parse(v))
        missing = sorted(REQUIRED_IN_USER - used)
        if missing:
            raise ValueError(f"the user template must use {missing}")
        return v


@dataclass(frozen=True)
class Prompts:
    """The validated prompt files, one per audience."""

    files: dict[str, PromptFile]

    def render(self, audience: str, /, **values: Any) -> tuple[str, str]:
        """``(system, user)`` for ``audience``; every placeholder used must be given.

        Raises:
            PromptError: unknown audience, or a placeholder the template uses was not given.
        """
        if audience not in self.files:
            raise PromptError(f"no prompt for audience {audience!r}")
        pf = self.files[audience]
        try:
            return (
                _template(pf.system).render(**values).strip(),
                _template(pf.user).render(**values).strip(),
            )
        except jinja2.UndefinedError as exc:
            raise PromptError(f"prompt for {audience!r}: {exc.message}") from exc

    def messages(self, audience: str, /, **values: Any) -> list[BaseMessage]:
        system, user = self.render(audience, **values)
        return [SystemMessage(content=system), HumanMessage(content=user)]


def load_prompts(folder: Path | str | None = None) -> Prompts:
    """Read and validate ``clinician.yaml`` and ``patient.yaml`` (package data by default).

    Raises:
        PromptError: a file is missing, not YAML, or fails validation; the message names it.
    """
    folder = Path(folder) if folder else PROMPTS_DIR
    return Prompts({a: load_yaml(folder / f"{a}.yaml", PromptFile, PromptError) for a in AUDIENCES})
