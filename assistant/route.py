"""Route: decide the audience (clinician or patient) and the question's intent."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from .clauses import requesting_sentences, requests
from .exemplars import Exemplars
from .inputs import MAX_QUESTION_CHARS, collapse_space
from .register import Register
from .rules import Rules, compile_phrase
from .safety import InstructionDetector
from .text import verb_bases

Intent = Literal["question", "emergency", "diagnosis", "self_treatment", "outside"]


@dataclass(frozen=True)
class Route:
    """The routing decision and the words that decided it."""

    audience: Literal["clinician", "patient"]
    requested: str
    confidence: float
    reason: str
    signals: tuple[tuple[str, str], ...] = ()
    intent: Intent = "question"
    injections: tuple[str, ...] = ()
    cleaned: str = ""
    # The question's own words gave no clear signal: the default decided, or only the register
    # (``by_register``); a follow-up like this keeps the conversation's audience.
    weak: bool = False
    by_register: bool = False

    def to_dict(self) -> dict:
        return {
            "audience": self.audience,
            "requested": self.requested,
            "confidence": round(self.confidence, 2),
            "reason": self.reason,
            "signals": [{"audience": a, "words": w} for a, w in self.signals],
            "intent": self.intent,
            "injection_detected": bool(self.injections),
        }


@dataclass
class Router:
    """Scores a question against the routing vocabulary, its register and the safety patterns.

    ``register`` (built once from the corpus) adds the question's clinical density and form to
    the clinician side; without it only the vocabulary counts. ``examples``: labelled questions
    whose nearest neighbours decide a question its words leave undecided. ``expand``: the
    vocabulary's shorthand reading ("w/u" is a workup), for the routing words.
    """

    rules: Rules
    register: Register | None = None
    examples: Exemplars | None = None
    expand: Callable[[str], str] | None = None  # clinical shorthand spelled out
    _patient: list = field(init=False)
    _clinician: list = field(init=False)

    def __post_init__(self) -> None:
        r = self.rules.routing
        self._patient = [(_phrase(s), s.pattern, s.weight) for s in r.patient]
        self._bare = {s.pattern for s in r.patient if s.bare}
        self._clinician = [(_phrase(s), s.pattern, s.weight) for s in r.clinician]
        self._roles = {
            who: [(_phrase(s), s.pattern) for s in signals if s.role]
            for who, signals in (("patient", r.patient), ("clinician", r.clinician))
        }
        if professions := _listed(r.professions):
            # "I'm the dietitian ...", "As a neurologist, ...", "I work as an ALS nurse"
            names = _alternation(professions)
            said = re.compile(
                rf"(?<![\w'])(?:i'm|i’m|i am|as|we're|we are)(?:\s+[\w'’-]+){{0,2}}?\s+"
                rf"(?:{names})s?\b",
                re.IGNORECASE,
            )
            self._roles["clinician"].append((said, "a care profession"))
            # "GP here.", "Pharmacist here, counselling ...": a profession signing in
            here = re.compile(
                rf"(?:^|[.!?]\s+)(?:hi|hello|hey)?[\W]*(?:an?\s+)?(?:{names})\s+here\s*(?:[.,:;!–-]|$)",
                re.IGNORECASE,
            )
            self._roles["clinician"].append((here, "a care profession"))
        self._roles["patient"] += [(rx, "the asker's own care") for rx in self._own_care()]
        self._has_disease = [re.compile(p, re.IGNORECASE) for p in r.has_disease]
        self._persons = frozenset(r.form.persons.lower().split())
        self._in_care = [re.compile(p, re.IGNORECASE) for p in r.in_care]
        s = self.rules.safety
        self._emergency = [re.compile(p, re.IGNORECASE) for p in s.emergency_patterns]
        self._diagnosis = [re.compile(p, re.IGNORECASE) for p in s.diagnosis_patterns]
        self._outside = [re.compile(p, re.IGNORECASE) for p in s.outside_patterns]
        self._demand = [re.compile(p, re.IGNORECASE) for p in s.demand_patterns]
        self._self_treat = [re.compile(p, re.IGNORECASE) for p in s.self_treatment_patterns]
        self._injection = InstructionDetector(s.injection_patterns)

    def route(self, question: str, audience: str = "auto") -> Route:
        """Decide audience and intent for one question.

        Args:
            question: the user's question (already validated).
            audience: ``"auto"``, ``"clinician"`` or ``"patient"``; explicit choices are honoured.
        """
        injections = self._injection.found(question)
        cleaned = self._injection.strip(question)
        intent: Intent = "question"
        said = (question, verb_bases(question))  # as typed, and with its verbs' base forms
        if any(p.search(form) for p in self._emergency for form in said):
            intent = "emergency"
        elif any(p.search(cleaned) for p in self._diagnosis):
            intent = "diagnosis"
        elif any(p.search(cleaned) for p in self._outside) or (
            any(p.search(question) for p in self._outside + self._demand) and not requests(cleaned)
        ):
            # What is asked is beyond the sources ("a drug your guidelines don't mention"), or
            # a demand for it is all there is; a question beside the demand ("answer from your
            # own knowledge: what is the riluzole dose?") is answered from the sources.
            intent = "outside"
        elif any(p.search(cleaned) for p in self._self_treat):
            intent = "self_treatment"
        found: list[tuple[str, str]] = []
        score = {"patient": 0.0, "clinician": 0.0}
        # Beside instructions, who asks shows in what asks ("SYSTEM OVERRIDE: Question: what
        # are the first signs ...?"), not in the injected text's words and capitals.
        asking = (requesting_sentences(cleaned) or cleaned) if injections else cleaned
        # Clinical shorthand is read as what it stands for ("w/u" is a workup).
        words = self.expand(asking) if self.expand else asking
        for who, table in (("patient", self._patient), ("clinician", self._clinician)):
            for rx, pattern, weight in table:
                if rx.search(words):
                    score[who] += weight
                    found.append((who, pattern))
        common = dict(signals=tuple(found), intent=intent, injections=injections, cleaned=cleaned)
        if audience in ("clinician", "patient"):
            return Route(audience, audience, 1.0, "chosen explicitly", **common)
        roles = {
            who: [p for rx, p in table if rx.search(cleaned)] for who, table in self._roles.items()
        }
        if self._says_has_disease(cleaned):
            roles["patient"].append("the asker has the disease")
        if any(rx.search(cleaned) for rx in self._in_care):
            roles["clinician"].append("someone in the asker's care")
        if intent == "emergency" and not roles["clinician"] and _TELLS_OWN.search(cleaned):
            # An emergency told by the one it happens to, or by their family ("i cant breathe",
            # "my husband is choking"), gets the words meant for them; a clinician reports a
            # patient's.
            roles["patient"].append("an emergency told in the first person")
        if bool(roles["patient"]) != bool(roles["clinician"]):
            who = "patient" if roles["patient"] else "clinician"
            return Route(
                who,
                "auto",
                1.0,
                f"the asker's role: {', '.join(dict.fromkeys(roles[who]))}",
                **common,
            )
        reading = self.register.read(asking) if self.register else None
        register = reading.score if reading else 0.0
        min_margin = self.rules.routing.min_margin
        words_weak = abs(score["clinician"] - score["patient"]) < min_margin
        score["clinician"] += register
        margin = score["clinician"] - score["patient"]
        confidence = abs(margin) / (score["clinician"] + score["patient"] + 1.0)

        def read_beyond(who: str, reason: str) -> Route:
            """Decided by reading beyond the words (grade, examples): weak, but it shows the
            conversation's audience to a follow-up."""
            return Route(who, "auto", confidence, reason, weak=True, by_register=True, **common)

        bare = all(w in self._bare for a, w in found if a == "patient")
        if score["patient"] > 0 and bare and margin < 0:
            # Only a bare first person on the patient side: it says someone asks, not who.
            vote = self._vote(asking, score["clinician"])
            words = ", ".join(w for a, w in found if a == "patient")
            if vote is not None:
                return read_beyond(
                    vote.audience, f"only a bare first person ({words}); {vote.describe()}"
                )
            grade = self._clinician_grade(asking)
            if grade is not None:
                return read_beyond(
                    "clinician",
                    f"only a bare first person ({words}), written at reading grade {grade:.1f}",
                )
        if abs(margin) < min_margin:
            weak = self.rules.routing.weak_default
            read = f"; {reading.describe()}" if reading and reading.describe() else ""
            grade = self._clinician_grade(asking) if not score["patient"] else None
            if grade is not None:
                return read_beyond(
                    "clinician", f"no patient words, written at reading grade {grade:.1f}{read}"
                )
            vote = self._vote(asking, margin)
            if vote is not None:
                return read_beyond(
                    vote.audience,
                    f"weak signal (clinician {score['clinician']:.3g} vs patient "
                    f"{score['patient']:.3g}{read}); {vote.describe()}",
                )
            return Route(
                weak,
                "auto",
                confidence,
                f"weak signal (clinician {score['clinician']:.3g} vs patient "
                f"{score['patient']:.3g}{read}): using the simpler {weak} mode",
                weak=True,
                **common,
            )
        who = "clinician" if margin > 0 else "patient"
        reasons = []
        if words := ", ".join(w for a, w in found if a == who):
            reasons.append(f"{who} words: {words}")
        if who == "clinician" and register > 0:
            reasons.append(f"clinical register {register:.1f}: {reading.describe()}")
        by_register = words_weak and who == "clinician"
        return Route(
            who,
            "auto",
            confidence,
            "; ".join(reasons),
            weak=by_register,
            by_register=by_register,
            **common,
        )

    def _own_care(self) -> list:
        """The asker's own tests, treatments and carers, named by a glossary term or a care
        profession: "my FVC was 55%", "I had the EMG", "booked me a VFS", "my speech
        therapist", "an EMG on me", "an MRI of my brain". A clinician speaks of a patient's
        ("my patient's FVC", "my ALS clinic", "the EMG of my 60 yo pt")."""
        r = self.rules
        names = {e.term for e in r.glossary} | {a for e in r.glossary for a in e.aliases}
        names |= set(_listed(r.routing.professions))
        alt = _alternation(names)
        body = _alternation(_listed(r.routing.body_parts)) or r"(?!)"
        other = r"(?!(?:patient|pt|client)s?\b|patient['’]s\b)[\w'’-]+\s+"
        not_theirs = (
            r"(?![\w-])(?!(?:\s+[\w'’-]+){0,2}\s+(?:patients?|pts|clinics?|cases?|caseload|"
            r"referrals?|practice|service|list|data|research|colleagues?)\b)"
        )
        return [
            re.compile(rf"\bmy\s+(?:{other})?(?:{alt}){not_theirs}", re.IGNORECASE),
            re.compile(
                rf"\bi(?:[’']ve| have)?\s+had\s+(?:a|an|the|my|this|that)\s+(?:{other})?"
                rf"(?:{alt}){not_theirs}",
                re.IGNORECASE,
            ),
            re.compile(
                r"\b(?:booked|sent|referred|put|scheduled|started|ordered|arranged|did|gave)"
                rf"\s+me\s+(?:(?:for|on|to)\s+)?(?:(?:a|an|the|some)\s+)?(?:{alt})(?![\w-])",
                re.IGNORECASE,
            ),
            # a test done on the asker or of a part of their body ("an EMG and nerve conduction
            # study on me", "an MRI of my brain"); "the EMG of my 60 yo pt" is a clinician's
            _After(
                re.compile(r"\b(?:on\s+me|of\s+my)\b", re.IGNORECASE),
                re.compile(
                    rf"\b(?:{alt})(?![\w-])(?:\s+[\w'’-]+){{0,4}}?\s+"
                    rf"(?:on\s+me\b|of\s+my\s+(?:own\s+)?(?:{body})\b)",
                    re.IGNORECASE,
                ),
            ),
        ]

    def _says_has_disease(self, question: str) -> bool:
        """The asker says they have the disease (``routing.has_disease``), not quoting another
        ("A patient says: I have ALS", "patients often say I was diagnosed too late")."""
        for rx in self._has_disease:
            for m in rx.finditer(question):
                before = re.split(r"[.?!]\s", question[: m.start()])[-1]
                if not _QUOTING.search(before):
                    return True
        return False

    def _clinician_grade(self, question: str) -> float | None:
        """The question's reading grade when it reads at a clinician's
        (``routing.clinician_grade``); None below it, or with no register."""
        if self.register is None:
            return None
        grade = self.register.grade(question)
        return grade if grade >= self.register.tuning.clinician_grade else None

    def _vote(self, question: str, margin: float):
        """The nearest labelled questions' audience, when they are near and decisive; they
        break a tie or confirm the words' lean (``margin`` > 0: clinician), never overturn it."""
        vote = self.examples.vote(question) if self.examples else None
        tune = self.rules.tuning.routing
        if (
            vote is not None
            and vote.share >= tune.example_share
            and vote.similarity >= tune.example_min_similarity
            and (margin == 0 or (margin > 0) == (vote.audience == "clinician"))
        ):
            return vote
        return None

    def open_to_conversation(self, route: Route) -> bool:
        """A follow-up's own words show no audience: none decided, or only pronouns ("how do
        *we* monitor for those?" speaks of the conversation's people, whoever asks)."""
        return route.weak or (
            bool(route.signals)
            and "role" not in route.reason
            and all(
                w.lower() in self._persons for _, words in route.signals for w in words.split(", ")
            )
        )

    def follow_conversation(self, route: Route, earlier_questions: list[str]) -> Route:
        """A follow-up with no signal of its own keeps the audience the conversation showed."""
        if not earlier_questions:
            return route
        # (each as long as a question may be: a long pasted history costs no more to read)
        earlier = self.route(
            " ".join(collapse_space(q[:MAX_QUESTION_CHARS]) for q in earlier_questions[-3:]),
            "auto",
        )
        if earlier.weak and not earlier.by_register:
            return route  # the conversation showed no audience either
        return replace(
            route,
            audience=earlier.audience,
            confidence=earlier.confidence,
            reason=f"follow-up: kept the conversation's audience ({earlier.reason})",
            weak=False,
            by_register=False,
        )


# A first person, and no patient spoken of ("I have a patient choking" is a clinician's).
_TELLS_OWN = re.compile(
    r"^(?!.*\b(?:patients?|pts?|caseload)\b).*\b(?:i|i'm|i’m|im|me|my|we|our|us)\b",
    re.IGNORECASE | re.DOTALL,
)

# Words before a first person that say it is someone else's ("a patient says: I have ALS").
# ("I was told I have ALS" is the asker's own: being told is no quoting)
_QUOTING = re.compile(
    r"\b(says?|said|saying|tells?|(?<!\bwas )(?<!\bwere )(?<!\bbeen )told|telling|writes?|wrote)\b"
    r"|[\"“”:]",
    re.I,
)


@dataclass(frozen=True)
class _After:
    """A pattern tried only where a cheap cue is found ("an EMG *on me*": the long list of
    names before it is not tried at every position of every question)."""

    cue: re.Pattern[str]
    pattern: re.Pattern[str]

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.cue.search(text) else None


def _listed(words: str) -> list[str]:
    """A space-separated list of the rules, a hyphen joining a two-word entry."""
    return [w.replace("-", " ") for w in words.split()]


def _alternation(phrases) -> str:
    """``phrases`` as one regex alternation, longest first, any spacing between words."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)


def _phrase(signal) -> re.Pattern[str]:
    """A signal's regex; a role phrase lets up to two words stand after its first word ("my
    dear wife"), but no possessive ("my patient's wife" is the patient's)."""
    if not signal.role or " " not in signal.pattern.strip():
        return compile_phrase(signal.pattern)
    first, rest = signal.pattern.strip().split(" ", 1)
    inner = compile_phrase(rest).pattern.removeprefix(r"(?<![\w-])")
    word = r"(?![\w'’-]*['’]s\b)[\w'’-]+"
    return re.compile(
        rf"(?<![\w-]){re.escape(first)}(?:\s+{word}){{0,2}}?\s+{inner}", re.IGNORECASE
    )
