"""Suggestions: follow-up questions from the documents' own structure, prepared once.

For every section of every document, the neighbouring sections (the next three, then the two
before) are candidate topics. At load, each candidate's question is checked once to retrieve
the section it is about (a suggestion must be answerable); per answer only the cited sections
and the user's own words are consulted, and nothing is searched again. Patients' questions put
clinical terms in plain words (the patient glossary), where the plain question still retrieves
its section.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .compose import names_evidence_kind
from .corpus import Corpus, Passage
from .text import tokens

log = logging.getLogger(__name__)

AUDIENCES = ("clinician", "patient")
# (question, doc id, heading) -> does asking it retrieve that section?
Answerable = Callable[[str, str, str], bool]
# Clinical terms to plain words (``Glossary.plain``).
Plain = Callable[[str], str]
# Part of the saved table's fingerprint: bump it when the wording of questions changes.
WORDING = "2"


def question_for(heading: str, audience: str, plain: Plain | None = None) -> str:
    """The heading as a question in the audience's words; ``plain`` rewords a patient's."""
    if heading.endswith("?"):
        return heading
    topic = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in heading.split())
    if audience == "patient":
        question = f"What should I know about {topic}?"
        return plain(question) if plain else question
    return f"What do the sources say about {topic}?"


@dataclass(frozen=True)
class Candidate:
    heading: str
    words: frozenset[str]
    question: str


class Suggestions:
    """Answerable follow-up questions next to each section, per audience."""

    def __init__(self, table: dict[str, list[list[str]]]):
        # key "doc\x1faudience\x1fsection path" -> [[heading, question], ...]
        self.table = {
            k: [Candidate(h, frozenset(tokens(h)), q) for h, q in v] for k, v in table.items()
        }
        self.raw = table

    @staticmethod
    def _key(doc_id: str, audience: str, section: tuple[str, ...]) -> str:
        return "\x1f".join((doc_id, audience, *section))

    @classmethod
    def build(
        cls, corpus: Corpus, answerable: Answerable, plain: Plain | None = None
    ) -> Suggestions:
        """Check every candidate question once. A patient's question is put in plain words by
        ``plain``; when that wording does not retrieve its section, the heading's own is used."""
        table: dict[str, list[list[str]]] = {}
        checked: dict[tuple[str, str, str], bool] = {}
        for doc in corpus.documents.values():
            sections = list(
                dict.fromkeys(doc.headings + [(t,) for t in doc.meta.untitled_sections])
            )
            heres = list(dict.fromkeys([p.section for p in doc.passages] + sections))
            for here in heres:
                k = sections.index(here) if here in sections else -1
                near = sections[k + 1 : k + 4] + sections[max(k - 2, 0) : max(k, 0)]
                for audience in AUDIENCES:
                    row = []
                    for nb in near:
                        heading = nb[-1]
                        if heading in here or heading == doc.meta.title:
                            continue
                        if names_evidence_kind(heading):
                            continue
                        wordings = dict.fromkeys(
                            [
                                question_for(heading, audience, plain),
                                question_for(heading, audience),
                            ]
                        )
                        for q in wordings:
                            key = (q, doc.id, heading)
                            if key not in checked:
                                checked[key] = answerable(*key)
                            if checked[key]:
                                row.append([heading, q])
                                break
                    table[cls._key(doc.id, audience, here)] = row
        return cls(table)

    def for_answer(self, cited: list[Passage], audience: str, question: str) -> list[str]:
        """Two or three questions next to the first two cited sections, not already asked."""
        asked = set(tokens(question))
        out: list[str] = []
        for p in cited[:2]:
            for c in self.table.get(self._key(p.doc_id, audience, p.section), []):
                if c.words <= asked or c.question in out:
                    continue
                out.append(c.question)
                if len(out) == 3:
                    return out
        return out

    # --- kept beside the index, so a start-up need not check again ----------------------------

    @staticmethod
    def fingerprint(*parts: str) -> str:
        return hashlib.sha256("\x1e".join((WORDING, *parts)).encode("utf-8")).hexdigest()

    @classmethod
    def cached(cls, path: Path | None, fingerprint: str, build: Callable[[], Suggestions]):
        """The table saved at ``path`` for this fingerprint, or a fresh one (then saved)."""
        if path is not None and path.is_file():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                if saved.get("fingerprint") == fingerprint:
                    return cls(saved["table"])
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("ignoring an unreadable suggestions file: %s", path)
        fresh = build()
        if path is not None:
            try:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"fingerprint": fingerprint, "table": fresh.raw}))
                tmp.replace(path)
            except OSError as exc:
                log.warning("could not save suggestions to %s: %s", path, exc)
        return fresh


def prepare_suggestions(
    corpus: Corpus,
    rules_folder: Path,
    search: Callable,
    plain: Callable[[str], str],
    path: Path | None,
    retrieval: str,
    indexed: bool,
) -> Suggestions:
    """The corpus's follow-up questions, each one a search can answer from its own section;
    kept at ``path`` (when given) under a fingerprint of the corpus, rules and settings."""

    @functools.cache  # many documents share a heading, so a question: search it once
    def hits_for(question: str):
        return search(question, 3).hits

    def answerable(question: str, doc_id: str, heading: str) -> bool:
        hits = hits_for(question)
        return any(h.passage.doc_id == doc_id and heading in h.passage.section for h in hits)

    rules_text = [
        f.name + f.read_text(encoding="utf-8") for f in sorted(rules_folder.glob("*.yaml"))
    ]
    fingerprint = Suggestions.fingerprint(
        *(f"{d.id}:{d.sha}:{d.meta.model_dump_json()}" for d in corpus.documents.values()),
        *rules_text,
        retrieval,
        str(indexed),
    )
    return Suggestions.cached(
        path, fingerprint, lambda: Suggestions.build(corpus, answerable, plain)
    )
