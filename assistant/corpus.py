"""The corpus: documents, their metadata sidecars, and their parse into cited passages.

A document is a ``.txt`` or ``.md`` file in the corpus folder with a ``<stem>.meta.yaml`` sidecar.
Parsing keeps exact character offsets: for every passage ``original[start:end] == text``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .datafile import LOADER
from .references import (
    _CHROME,
    _DISCLAIMER_OPENING,
    _NUMBERED_REF,
    Reference,
    parse_numbered_ref,
    parse_typed_refs,
)

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
DOC_SUFFIXES = (".txt", ".md")
MAX_DOC_BYTES = 5_000_000

_BULLET = re.compile(r"^\s*•\s*")
# "... text 1, 2" or "... text 2." at the end of a line or sentence.
_MARKER = re.compile(r"(?<=[\w).%\]])\s+(\d{1,2}(?:,\s*\d{1,2})*)\.?\s*$")
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(“\"])")
_ABBREV_END = re.compile(r"\b(?:e\.g|i\.e|Dr|vs|Mr|Mrs|Ms|St|approx|etc|al)\.$")


class CorpusError(ValueError):
    """A corpus file or its metadata is missing or malformed; the message names file and field."""


class DocMeta(BaseModel):
    """Metadata sidecar of one document (``<stem>.meta.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=3)
    publisher: str = Field(min_length=2)
    audience: Literal["clinician", "patient"]
    doc_type: Literal[
        "guideline_summary", "patient_article", "patient_factsheet", "drug_label", "guideline"
    ]
    last_updated: dt.date | None = None
    exclude_lines: list[str] = Field(default_factory=list)
    untitled_sections: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage: exact text and offsets, with any trailing reference markers."""

    text: str
    start: int
    end: int
    markers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A chunk: a paragraph, bullet or disclaimer, with its exact span and citation data."""

    id: str
    doc_id: str
    kind: Literal["paragraph", "bullet", "disclaimer"]
    section: tuple[str, ...]
    text: str
    start: int
    end: int
    lead: str | None
    sentences: tuple[Sentence, ...]
    references: tuple[Reference, ...]
    meta: DocMeta

    @property
    def section_label(self) -> str:
        return " › ".join(self.section) if self.section else self.meta.title

    @property
    def markers(self) -> tuple[int, ...]:
        return tuple(sorted({m for s in self.sentences for m in s.markers}))

    @property
    def body(self) -> str:
        """The passage text without trailing reference markers."""
        return " ".join(s.text for s in self.sentences)

    @property
    def stated(self) -> str:
        """What the passage states: section, lead-in and sentences, without reference markers
        (a marker "7" is not a figure the source gives)."""
        return " ".join(filter(None, [" ".join(self.section), self.lead or "", self.body]))

    def embed_text(self) -> str:
        """What the dense index sees: title, section and lead-in give a bullet its context."""
        parts = [self.meta.title, self.section_label]
        if self.lead:
            parts.append(self.lead)
        parts.append(self.body)
        return "\n".join(parts)


@dataclass
class Document:
    """One parsed corpus document."""

    id: str
    path: Path
    text: str
    meta: DocMeta
    references: list[Reference] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    headings: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Line:
    text: str  # stripped
    start: int  # offset of the stripped text in the original
    end: int
    blank_before: int  # number of blank lines before this one


def _lines(text: str) -> list[_Line]:
    out, blanks, pos = [], 0, 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if not stripped:
            blanks += 1
        else:
            lead = len(body) - len(body.lstrip())
            out.append(_Line(stripped, pos + lead, pos + lead + len(stripped), blanks))
            blanks = 0
        pos += len(raw)
    return out


def _is_heading(line: str) -> bool:
    if _BULLET.match(line) or len(line) > 90 or len(line.split()) > 12:
        return False
    if re.search(r"[.:;,!]\s+\d{1,2}(?:,\s*\d{1,2})*\.?$", line):
        return False  # a sentence followed by its reference markers
    return not re.search(r"[.:;,]$", line)


def split_sentences(text: str, start: int, max_marker: int | None = None) -> list[Sentence]:
    """Split a passage into sentences with exact offsets.

    With ``max_marker`` (documents that cite a References list), trailing reference markers
    such as ``... survival. 7, 3`` are peeled off into ``Sentence.markers``.
    """
    pieces, last = [], 0
    for m in _SENT_END.finditer(text):
        if _ABBREV_END.search(text[: m.start()]):
            continue
        pieces.append((last, m.start()))
        last = m.end()
    pieces.append((last, len(text)))
    out = []
    for a, b in pieces:
        chunk = text[a:b].rstrip()
        markers: tuple[int, ...] = ()
        m = _MARKER.search(chunk) if max_marker else None
        if m:
            found = tuple(int(x) for x in re.findall(r"\d+", m.group(1)))
            if all(1 <= n <= max_marker for n in found):
                markers, chunk = found, chunk[: m.start()].rstrip()
        if chunk:
            out.append(Sentence(chunk, start + a, start + a + len(chunk), markers))
    return out


def load_meta(path: Path) -> DocMeta:
    """Read and validate a sidecar; errors name the file and the field."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)
    except FileNotFoundError as exc:
        raise CorpusError(f"{path}: metadata sidecar is missing") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CorpusError(f"{path}: metadata must be a mapping of fields")
    try:
        return DocMeta.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in e['loc']) or '(root)'}': {e['msg']}"
            for e in exc.errors()
        )
        raise CorpusError(f"{path}: {problems}") from exc


def read_text(path: Path) -> str:
    """Read a corpus document as UTF-8; binary or oversized files are a clear error."""
    data = path.read_bytes()
    if len(data) > MAX_DOC_BYTES:
        raise CorpusError(f"{path}: larger than {MAX_DOC_BYTES} bytes")
    if b"\x00" in data:
        raise CorpusError(f"{path}: binary file (NUL bytes), not a text document")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc


def parse_document(doc_id: str, text: str, meta: DocMeta, path: Path | None = None) -> Document:
    """Parse one document's structure into passages with offsets, sections and references."""
    doc = Document(id=doc_id, path=path or Path(doc_id), text=text, meta=meta)
    lines = _lines(text)
    excluded = set(meta.exclude_lines)

    # References: a "References" heading (Dr.Oracle style) or a numbered list ("  1. ...").
    ref_start = next((i for i, ln in enumerate(lines) if ln.text == "References"), None)
    disc_heading = next(
        (i for i, ln in enumerate(lines) if ln.text == "Professional Medical Disclaimer"), None
    )
    has_marker_scheme = ref_start is not None
    if ref_start is not None:
        stop = disc_heading if disc_heading and disc_heading > ref_start else len(lines)
        doc.references = parse_typed_refs(lines[ref_start + 1 : stop])
    # Without a References section, an indented numbered list ("  1. Author. Title.") is one.
    numbered = (
        []
        if ref_start is not None
        else [
            (i, m)
            for i, ln in enumerate(lines)
            if text[ln.start - 2 : ln.start] == "  " and (m := _NUMBERED_REF.match(ln.text))
        ]
    )
    if numbered:
        doc.references = [parse_numbered_ref(int(m.group(1)), m.group(2)) for _, m in numbered]
    numbered_idx = {i for i, _ in numbered}
    refs_by_n = {r.n: r for r in doc.references}
    # Pages cite markers beyond their listed references (000 cites 7 of 6): peel up to 20.
    max_marker = 20

    stack: list[str] = []
    parent_from_pair = False
    untitled = iter(meta.untitled_sections)
    lead: str | None = None
    in_refs = in_disclaimer = False
    for i, ln in enumerate(lines):
        t = ln.text
        if i == 0 and _is_heading(t):
            continue  # the page title line
        if _CHROME.match(t) or t in excluded or i in numbered_idx:
            continue
        if i == ref_start:
            in_refs = True
            continue
        if i == disc_heading:
            in_refs, in_disclaimer, stack = False, True, [t]
            continue
        if in_refs:
            continue
        is_heading = not in_disclaimer and _is_heading(t)
        if ln.blank_before >= 2 and not is_heading:
            # A heading was lost in the source: use the maintainer's name for the section if given.
            name = next(untitled, None)
            stack, parent_from_pair, lead = ([name] if name else []), False, None
        if is_heading:
            nxt = next((x for x in lines[i + 1 :] if not _CHROME.match(x.text)), None)
            if nxt is not None and _is_heading(nxt.text):
                stack, parent_from_pair = [t], True
            elif parent_from_pair and stack:
                stack = [stack[0], t]
            else:
                stack = [t]
            doc.headings.append(tuple(stack))
            lead = None
            continue
        kind: Literal["paragraph", "bullet", "disclaimer"] = "paragraph"
        body_start, body = ln.start, t
        if in_disclaimer or _DISCLAIMER_OPENING.match(t):
            kind, in_disclaimer = "disclaimer", False
            stack = stack if stack and "Disclaimer" in stack[0] else []
        elif bullet := _BULLET.match(t):
            kind = "bullet"
            body_start, body = ln.start + bullet.end(), t[bullet.end() :]
        sentences = split_sentences(body, body_start, max_marker if has_marker_scheme else None)
        markers = sorted({m for s in sentences for m in s.markers})
        refs = tuple(refs_by_n[m] for m in markers if m in refs_by_n)
        # Content hash of everything the index embeds: unchanged passages keep their ids.
        bullet_lead = lead if kind == "bullet" else None
        key = "\x1f".join([doc_id, meta.title, *stack, bullet_lead or "", body])
        pid = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
        doc.passages.append(
            Passage(
                id=pid,
                doc_id=doc_id,
                kind=kind,
                section=tuple(stack),
                text=body,
                start=body_start,
                end=body_start + len(body),
                lead=bullet_lead,
                sentences=tuple(sentences),
                references=refs,
                meta=meta,
            )
        )
        if kind == "paragraph":
            lead = t if t.endswith(":") else None
    _dedupe_ids(doc)
    return doc


def _dedupe_ids(doc: Document) -> None:
    seen: dict[str, int] = {}
    for k, p in enumerate(doc.passages):
        n = seen.get(p.id, 0)
        seen[p.id] = n + 1
        if n:
            doc.passages[k] = Passage(**{**p.__dict__, "id": f"{p.id}-{n}"})


@dataclass
class Corpus:
    """All documents of a corpus folder, parsed."""

    folder: Path
    documents: dict[str, Document]
    warnings: list[str] = field(default_factory=list)  # files skipped, each named

    @classmethod
    def load(cls, folder: Path | str | None = None) -> Corpus:
        """Load and parse every document with its sidecar.

        An empty document, or a file that is neither a document nor a sidecar (a ``.pdf``), is
        skipped with a warning that names it (logged, and kept in ``warnings``).

        Args:
            folder: the corpus folder (default: the repository's ``corpus/``).

        Raises:
            CorpusError: a document or sidecar is missing, unreadable or malformed.
        """
        folder = Path(folder) if folder else CORPUS_DIR
        if not folder.is_dir():
            raise CorpusError(f"{folder}: corpus folder does not exist")
        warnings: list[str] = []
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        paths = [p for p in files if p.suffix in DOC_SUFFIXES]
        for p in files:
            if p.suffix not in DOC_SUFFIXES and not p.name.endswith(".meta.yaml"):
                kind = f"'{p.suffix}'" if p.suffix else "without an extension"
                warnings.append(
                    f"{p}: not read: a file {kind} is not a corpus document "
                    "(documents are .txt or .md with a .meta.yaml sidecar)"
                )
        if not paths:
            raise CorpusError(f"{folder}: no .txt or .md documents")
        docs: dict[str, Document] = {}
        empty: set[str] = set()
        for path in paths:
            text = read_text(path)
            if not text.strip():
                warnings.append(f"{path}: empty document, skipped")
                empty.add(path.stem)
                continue
            meta = load_meta(path.with_name(path.stem + ".meta.yaml"))
            docs[path.stem] = parse_document(path.stem, text, meta, path)
        if not docs:
            raise CorpusError(f"{folder}: every document is empty")
        stems = docs.keys() | empty
        orphans = [
            p.name
            for p in folder.glob("*.meta.yaml")
            if p.name.removesuffix(".meta.yaml") not in stems
        ]
        if orphans:
            raise CorpusError(f"{folder}: metadata without a document: {', '.join(orphans)}")
        for w in warnings:
            log.warning("%s", w)
        return cls(folder=folder, documents=docs, warnings=warnings)

    @property
    def passages(self) -> list[Passage]:
        return [p for d in self.documents.values() for p in d.passages]

    def texts(self) -> dict[str, str]:
        return {d.id: d.text for d in self.documents.values()}
