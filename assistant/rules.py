"""Rules as data: threshold facts, disclaimers, routing vocabulary, glossary, safety patterns.

Every file under ``assistant/rules/`` is validated by its pydantic model (``rule_files``, with
``extra="forbid"``), so a typo in a maintainer's edit is a clear error naming the file and the
field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel

from .datafile import load_yaml
from .rule_files import (  # noqa: F401  (re-exported: importers use assistant.rules)
    Aspect,
    AspectsFile,
    Audience,
    Disclaimer,
    DisclaimersFile,
    Fact,
    FactsFile,
    FormWords,
    GlossaryEntry,
    GlossaryFile,
    Quantity,
    RoutingFile,
    RulesError,
    SafetyFile,
    ShorthandFile,
    Signal,
    Subject,
    SubjectsFile,
)
from .tuning import Tuning

RULES_DIR = Path(__file__).parent / "rules"


def _check_quantities(facts: list[Fact], quantities: dict[str, Quantity], where: Path) -> None:
    """Each described quantity is one the facts use; its subject words are in every one of its
    facts' topics and its unit follows a number in at least one of its facts."""
    from .text import figures, tokens

    for key, q in quantities.items():
        own = [f for f in facts if f.quantity == key]
        if not own:
            raise RulesError(f"{where}: quantity {key!r} is described but no fact has it")
        words = set(tokens(" ".join(q.subject)))
        for f in own:
            missing = words - {t for topic in f.topics for t in tokens(topic)}
            if missing:
                raise RulesError(
                    f"{where}: quantity {key!r}: subject words {sorted(missing)} are not in the "
                    f"topics of fact {f.id!r}"
                )
        if not any(figures(f.text, q.unit) for f in own):
            raise RulesError(
                f"{where}: quantity {key!r}: no fact of it states a number in {q.unit!r}"
            )


def _load_yaml(path: Path, model: type[BaseModel]):
    return load_yaml(path, model, RulesError)


def compile_phrase(phrase: str) -> re.Pattern[str]:
    """A case-insensitive, word-bounded regex for a vocabulary phrase (``*`` is a wildcard)."""
    parts = [re.escape(p) for p in phrase.strip().split()]
    body = r"\s+".join(parts).replace(r"\*", r"\w*")
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    """All rule files of one rules folder, validated."""

    facts: tuple[Fact, ...]
    disclaimers: tuple[Disclaimer, ...]
    routing: RoutingFile
    glossary: tuple[GlossaryEntry, ...]
    safety: SafetyFile
    subjects: SubjectsFile
    folder: Path
    tuning: Tuning = field(default_factory=Tuning)
    shorthand: dict[str, str] = field(default_factory=dict)
    aspects: tuple[Aspect, ...] = ()
    quantities: dict[str, Quantity] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | str | None = None) -> Rules:
        folder = Path(folder) if folder else RULES_DIR
        facts_file = _load_yaml(folder / "facts.yaml", FactsFile)
        facts = facts_file.facts
        _check_quantities(facts, facts_file.quantities, folder / "facts.yaml")
        ids = [f.id for f in facts]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise RulesError(f"{folder / 'facts.yaml'}: duplicate fact ids {dupes}")
        disclaimers = _load_yaml(folder / "disclaimers.yaml", DisclaimersFile).disclaimers
        for audience in ("clinician", "patient"):
            if sum(d.audience == audience for d in disclaimers) != 1:
                raise RulesError(
                    f"{folder / 'disclaimers.yaml'}: exactly one {audience} disclaimer is required"
                )
        return cls(
            facts=tuple(facts),
            disclaimers=tuple(disclaimers),
            routing=_load_yaml(folder / "routing.yaml", RoutingFile),
            glossary=tuple(_load_yaml(folder / "glossary.yaml", GlossaryFile).glossary),
            safety=_load_yaml(folder / "safety.yaml", SafetyFile),
            subjects=_load_yaml(folder / "subjects.yaml", SubjectsFile),
            folder=folder,
            tuning=_load_yaml(folder / "tuning.yaml", Tuning),
            shorthand=_load_yaml(folder / "shorthand.yaml", ShorthandFile).shorthand,
            aspects=tuple(_load_yaml(folder / "scope_aspects.yaml", AspectsFile).aspects),
            quantities=dict(facts_file.quantities),
        )

    def disclaimer_for(self, audience: str) -> Disclaimer | None:
        return next((d for d in self.disclaimers if d.audience == audience), None)

    @cached_property
    def fact_by_id(self) -> dict[str, Fact]:
        return {f.id: f for f in self.facts}

    def check_against(self, texts: dict[str, str]) -> None:
        """Fail loudly when a registered fact or disclaimer is not verbatim in its document.

        Args:
            texts: document id -> the document's full original text.
        """
        problems = []
        for item in (*self.facts, *self.disclaimers):
            kind = "fact" if isinstance(item, Fact) else "disclaimer"
            if item.doc not in texts:
                problems.append(f"{kind} {item.id!r} names document {item.doc!r}, not in corpus")
                continue
            count = texts[item.doc].count(item.text)
            if count == 0:
                problems.append(
                    f"{kind} {item.id!r} is no longer verbatim in document {item.doc!r}: "
                    f"{item.text!r}"
                )
            elif count > 1 and kind == "fact":
                problems.append(
                    f"fact {item.id!r} occurs {count} times in {item.doc!r}; make its text unique"
                )
        if problems:
            raise RulesError("rules disagree with the corpus:\n  " + "\n  ".join(problems))
