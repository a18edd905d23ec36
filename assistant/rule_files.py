"""The rule files' schemas: one pydantic model per file under ``assistant/rules/``, each with
``extra="forbid"``, so a typo in a maintainer's edit is a clear error naming the file and the
field (:class:`assistant.rules.Rules` loads them).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .datafile import regexes

Audience = Literal["clinician", "patient"]


class RulesError(ValueError):
    """A rules file is missing, malformed, or disagrees with the corpus."""


def _without_numbers(text: str | None, what: str) -> str | None:
    """Text the application adds must carry no number, in digits or words: numbers in an
    answer come from cited sources only."""
    from .text import number_words, numbers

    if text is not None and (numbers(text) or number_words(text)):
        raise ValueError(f"{what} must not contain numbers (numbers come from sources): {text!r}")
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- threshold facts -------------------------------------------------------------------------


class Fact(_Strict):
    """A threshold fact quoted verbatim: the exact source span, its document and topic phrases."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    doc: str
    text: str = Field(min_length=3)
    kind: Literal[
        "dose",
        "threshold",
        "interval",
        "survival",
        "timing",
        "epidemiology",
        "percentage",
        "other",
    ]
    topics: list[str] = Field(min_length=1)
    quantity: str | None = None
    plain: str | None = None

    @field_validator("plain")
    @classmethod
    def _plain_has_no_numbers(cls, v: str | None) -> str | None:
        return _without_numbers(v, "a plain lead-in")


class Quantity(_Strict):
    """What a registered quantity is about, so any document's figure for it can be checked: a
    sentence naming every ``subject`` word and stating a number in ``unit`` (see
    :mod:`assistant.conflicts`)."""

    about: str = Field(min_length=3, description="what the figure is, for messages and lead-ins")
    subject: list[str] = Field(min_length=1, description="words every such sentence names")
    unit: str = Field(min_length=1, description="the unit its facts write after their number")

    @field_validator("about")
    @classmethod
    def _about_has_no_numbers(cls, v: str) -> str:
        return _without_numbers(v, "a quantity's description")


class FactsFile(_Strict):
    facts: list[Fact]
    quantities: dict[str, Quantity] = Field(default_factory=dict)


# --- disclaimers -----------------------------------------------------------------------------


class Disclaimer(_Strict):
    id: str
    audience: Audience
    doc: str
    text: str = Field(min_length=20)


class DisclaimersFile(_Strict):
    disclaimers: list[Disclaimer]


# --- routing ---------------------------------------------------------------------------------


class Signal(_Strict):
    """A word or phrase (matched case-insensitively on word boundaries) and its weight."""

    pattern: str = Field(min_length=1)
    weight: float = 1.0
    role: bool = Field(
        False,
        description="the phrase says who the asker is (a family member, their own doctor; a "
        "clinician's patient): one side's role decides the audience over vocabulary, and up to "
        "two words may stand inside it ('my ALS patients', 'my late husband')",
    )
    bare: bool = Field(
        False,
        description="a bare first person ('should I', 'do I', 'me'): says someone asks, not "
        "who; when a question's patient words are only these, its nearest labelled examples "
        "may decide",
    )


class FormWords(_Strict):
    """Closed-class words (space-separated) that tell a sentence from a bare noun phrase."""

    verbs: str = Field(min_length=1, description="auxiliaries and modals: is, does, should")
    persons: str = Field(min_length=1, description="personal pronouns: I, my, you, she")
    openers: str = Field(min_length=1, description="question words: what, how, which")


class RoutingFile(_Strict):
    patient: list[Signal]
    clinician: list[Signal]
    form: FormWords
    professions: str = Field(
        "",
        description="space-separated care professions (a hyphen joins a two-word one): an "
        "asker who says they are one ('I'm the dietitian on our ALS clinic', 'As a "
        "neurologist, ...') is a clinician by role",
    )
    body_parts: str = Field(
        "",
        description="space-separated parts of the body (a hyphen joins a two-word one): a test "
        "done 'of my brain' is done on the asker",
    )
    has_disease: list[str] = Field(
        default_factory=list,
        description="regular expressions in which the asker says they have the disease ('I was "
        "diagnosed with ...'): a patient by role, unless quoted ('a patient says: I have ALS')",
    )
    in_care: list[str] = Field(
        default_factory=list,
        description="regular expressions in which the asker speaks of someone in their care ('a "
        "fella in clinic', 'a lady in my practice', 'setting up an ALS clinic'): a clinician by "
        "role",
    )
    min_margin: float = 1.0
    weak_default: Audience = "patient"

    _compiles = field_validator("has_disease", "in_care")(
        classmethod(lambda cls, v, info: regexes(v, f"{info.field_name} pattern"))
    )


# --- glossary --------------------------------------------------------------------------------


class GlossaryEntry(_Strict):
    """A clinical term and its plain wording; ``keep_term`` keeps the term in brackets."""

    term: str
    plain: str
    keep_term: bool = True
    aliases: list[str] = Field(default_factory=list)
    search: bool = Field(
        True,
        description="The plain words (and aliases) also widen a question's search toward the "
        "term; false for an everyday word put for a formal one ('help' for 'assistance'), "
        "which says nothing of what is asked.",
    )
    kind_of: str | None = Field(
        None,
        description="The broader corpus term this one is a kind of: a sentence naming it names "
        "that too ('BPAP ... in patients with bulbar impairment' speaks of non-invasive "
        "ventilation), not the other way round.",
    )

    @field_validator("plain")
    @classmethod
    def _plain_has_no_numbers(cls, v: str) -> str:
        return _without_numbers(v, "plain wording")


class GlossaryFile(_Strict):
    glossary: list[GlossaryEntry]

    @model_validator(mode="after")
    def _kind_of_names_an_entry(self) -> GlossaryFile:
        """A ``kind_of`` names another entry's term (a typo would relate nothing, silently)."""
        terms = {e.term.lower() for e in self.glossary}
        for e in self.glossary:
            if e.kind_of and e.kind_of.lower() not in terms - {e.term.lower()}:
                raise ValueError(f"{e.term!r}: kind_of {e.kind_of!r} is no other glossary term")
        return self


# --- safety: emergencies, scope, injections, self-treatment -----------------------------------


class SafetyFile(_Strict):
    emergency_patterns: list[str]
    emergency_message: dict[Audience, str]
    outside_patterns: list[str] = Field(
        default_factory=list,
        description="asking for what the sources lack ('a drug your guidelines don't mention')",
    )
    demand_patterns: list[str] = Field(
        default_factory=list,
        description="demands to answer otherwise than from the sources (role-play, general "
        "knowledge): declined when nothing else is asked; a question beside one is answered "
        "from the sources",
    )
    diagnosis_patterns: list[str]
    diagnosis_message: str
    self_treatment_patterns: list[str]
    self_treatment_message: str
    injection_patterns: list[str]
    prompt_leak_phrases: list[str] = Field(default_factory=list)  # the prompt's own words
    refusal_message: str
    refusal_examples: list[str] = Field(min_length=2)
    care_team_line: str
    patient_lead: str
    sources_differ_line: str
    unaddressed_line: str = Field(
        description="said above an answer whose later ask the sources never address; "
        "{gap} is the aspect ('whether it hurts')"
    )

    @field_validator(
        "emergency_patterns",
        "outside_patterns",
        "demand_patterns",
        "diagnosis_patterns",
        "self_treatment_patterns",
        "injection_patterns",
    )
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        return regexes(v, "pattern")

    @field_validator("unaddressed_line")
    @classmethod
    def _gap_only(cls, v: str) -> str:
        try:
            v.format(gap="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"unaddressed_line may use only {{gap}}: {exc!r}") from exc
        return v

    @field_validator(
        "emergency_message",
        "diagnosis_message",
        "self_treatment_message",
        "refusal_message",
        "refusal_examples",
        "care_team_line",
        "patient_lead",
        "sources_differ_line",
        "unaddressed_line",
    )
    @classmethod
    def _no_numbers(cls, v):
        texts = v.values() if isinstance(v, dict) else v if isinstance(v, list) else [v]
        for t in texts:
            _without_numbers(t, "a fixed message")
        return v


# --- follow-up subjects ----------------------------------------------------------------------


class Subject(_Strict):
    """A thing a follow-up can refer back to: a drug, procedure, test or symptom."""

    name: str
    kind: Literal["drug", "procedure", "test", "symptom", "topic"]
    aliases: list[str] = Field(default_factory=list)


class SubjectsFile(_Strict):
    subjects: list[Subject]
    leaning_patterns: list[str]
    attributes: list[str]
    categories: dict[Literal["drug", "procedure", "test", "symptom"], list[str]] = Field(
        default_factory=dict
    )
    expansions: dict[str, list[str]] = Field(default_factory=dict)
    pointing_verbs: dict[Literal["drug", "procedure", "test"], list[str]] = Field(
        default_factory=dict,
        description="verbs whose pronoun object can only be a subject of one kind ('can he "
        "*take it* with dinner?' points to a drug, however many turns back it was named)",
    )
    pointing_idioms: list[str] = Field(
        default_factory=list,
        description="words after the pronoun that make the verb an idiom, pointing to no "
        "subject ('take it *easy*', 'take it *off*')",
    )

    _compiles = field_validator("leaning_patterns")(
        classmethod(lambda cls, v: regexes(v, "leaning pattern"))
    )


# --- clinical shorthand and question aspects --------------------------------------------------


class ShorthandFile(_Strict):
    shorthand: dict[str, str]

    @field_validator("shorthand")
    @classmethod
    def _no_numbers(cls, v: dict[str, str]) -> dict[str, str]:
        for text in v.values():
            _without_numbers(text, "a shorthand expansion")
        return {k.lower(): e for k, e in v.items()}


class Aspect(_Strict):
    """Something a question asks about its topic, and the evidence that shows it."""

    name: str = Field(min_length=2)
    description: str
    asked: list[str] = Field(min_length=1)
    shown: list[str] = Field(min_length=1)
    partial: bool = Field(
        False,
        description="asked only by a later ask of a question whose first names a topic of its "
        "own, the rest is answered under `unaddressed_line` (never for a safety aspect: "
        "pregnancy, children, dosing)",
    )
    told_for: list[str] = Field(
        default_factory=list,
        description="aspects (aspects.yaml) whose asking makes a story that tells it ask it "
        "too: 'I'm pregnant. Is it safe to keep taking riluzole?' asks of pregnancy",
    )

    @field_validator("asked", "shown")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        return regexes(v, "phrase", prefix="re:")


class AspectsFile(_Strict):
    aspects: list[Aspect]
