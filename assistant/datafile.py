"""YAML data files validated by pydantic: one loader, one error format, for every data file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: the same data, faster


def load_yaml(path: Path, model: type[M], error: type[Exception] = ValueError) -> M:
    """``path`` parsed and validated as ``model``; any problem raises ``error`` naming the file
    and each bad field."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
    except FileNotFoundError as exc:
        raise error(f"{path}: file is missing") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{path}: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    """A pydantic error as ``field.path: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )


def regexes(patterns: list[str], what: str, prefix: str = "") -> list[str]:
    """``patterns`` unchanged when each compiles (with ``prefix``: only the entries written with
    it, "re:..."); else a ValueError naming the bad one, for a validator to report."""
    for p in patterns:
        if prefix and not p.startswith(prefix):
            continue
        try:
            re.compile(p[len(prefix) :])
        except re.error as exc:
            raise ValueError(f"{what} {p!r} is not a valid regular expression: {exc}") from exc
    return patterns
