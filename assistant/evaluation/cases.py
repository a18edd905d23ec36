"""Evaluation cases as data: the pydantic schema, the loaders and the named extra sets."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

EVALS_DIR = Path(__file__).resolve().parent.parent.parent / "evals"
TUNING = "tuning"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContextRef(_Strict):
    """An expected source: a document id and a heading of the section (any level of its path)."""

    doc: str
    section: str | None = None


class Case(_Strict):
    """One known question and what its answer must (and must not) contain."""

    id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    user_input: str
    conversation: list[str] = Field(default_factory=list)
    audience: Literal["auto", "clinician", "patient"] = "auto"
    expected_audience: Literal["clinician", "patient"] | None = None
    expected_status: Literal["answered", "refused", "emergency"] = "answered"
    facts: list[str] = Field(default_factory=list)
    key_points: list[list[str]] = Field(default_factory=list)
    reference: str | None = None
    reference_contexts: list[ContextRef] = Field(default_factory=list)
    must_not_contain: list[str] = Field(default_factory=list)
    search_terms: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class CasesFile(_Strict):
    cases: list[Case]


class RoutingItem(_Strict):
    question: str
    audience: Literal["clinician", "patient"]


class RoutingFile(_Strict):
    questions: list[RoutingItem]


def _validated(path: Path, model: type[BaseModel]):
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load_cases(folder: Path = EVALS_DIR) -> list[Case]:
    """All cases of every ``*cases*.yaml`` / ``conversations*.yaml`` file in the folder."""
    cases: list[Case] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith(("cases", "conversations")):
            cases.extend(_validated(path, CasesFile).cases)
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate case ids: {dupes}")
    return cases


def load_routing(folder: Path = EVALS_DIR) -> list[RoutingItem]:
    return _validated(folder / "routing.yaml", RoutingFile).questions


def extra_sets(folder: Path = EVALS_DIR) -> dict[str, Path]:
    """The named evaluation sets beside the tuning set: each sub-folder with a ``cases*.yaml``."""
    return {
        sub.name: sub
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and any(sub.glob("cases*.yaml"))
    }


def kind(tags: list[str]) -> str:
    """The kind a case reports under: its ``kind-`` tag, else its first tag."""
    tag = next((t for t in tags if t.startswith("kind-")), None)
    return (tag or (tags[0] if tags else "untagged")).removeprefix("kind-")
