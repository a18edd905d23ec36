"""Page format: a document's References list, and the page furniture around the content.

The formats are data (``rules/page_format.yaml``): which lines are page chrome, which type lines
open a reference entry, how a disclaimer begins. A maintainer adding pages of another layout
extends that file, or a document's sidecar (``exclude_lines``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from .datafile import load_yaml

FORMAT_FILE = Path(__file__).parent / "rules" / "page_format.yaml"


class PageFormat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chrome_lines: list[str] = Field(description="regexes for whole lines of page furniture")
    reference_types: list[str] = Field(description="type lines that open a reference entry")
    disclaimer_openings: list[str] = Field(description="how a disclaimer paragraph begins")


FORMAT = load_yaml(FORMAT_FILE, PageFormat)
_CHROME = re.compile(r"^(?:" + "|".join(FORMAT.chrome_lines) + r")$")
_DISCLAIMER_OPENING = re.compile(
    r"^(?:" + "|".join(re.escape(o) for o in FORMAT.disclaimer_openings) + r")"
)
_NUMBERED_REF = re.compile(r"^\s*(\d{1,3})\.\s+(.+?)\s*(?:-\s*)?$")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class Reference:
    """One entry of a document's own References list."""

    n: int
    type: str
    title: str
    source: str
    year: int | None

    def label(self) -> str:
        year = f", {self.year}" if self.year and str(self.year) not in self.source else ""
        return f"{self.source}{year}" if self.source else self.title


class _Line(Protocol):
    text: str


def parse_typed_refs(lines: list[_Line]) -> list[Reference]:
    """Entries laid out as three lines: a type line, the title, the source with its year."""
    refs, i = [], 0
    while i < len(lines):
        if lines[i].text in FORMAT.reference_types and i + 2 < len(lines):
            source = lines[i + 2].text
            year = _YEAR.search(source)
            refs.append(
                Reference(
                    n=len(refs) + 1,
                    type=lines[i].text,
                    title=lines[i + 1].text,
                    source=source,
                    year=int(year.group()) if year else None,
                )
            )
            i += 3
        else:
            i += 1
    return refs


def parse_numbered_ref(n: int, body: str) -> Reference:
    """A numbered entry: ``Author. Title. Journal Year``."""
    year = _YEAR.search(body)
    parts = [p.strip() for p in re.split(r"\.\s+", body) if p.strip()]
    title = parts[1] if len(parts) > 2 else body
    source = parts[2] if len(parts) > 2 else ""
    return Reference(
        n=n, type="Research", title=title, source=source, year=int(year.group()) if year else None
    )
