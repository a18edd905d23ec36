"""Scope: does the corpus cover the question at all? Decided from the evidence, not a topic list.

Every content word of the question is found in the corpus (in any form or spelling, through the
glossary, the clinical shorthand or a defined abbreviation), or frames the question, or is a gap.
A gap that is the thing asked about declines the question and the reason names it: a name or
word the corpus never uses, another disease's phrase, a requested task, a population, a measured
value with no figure, an aspect (dose, cost, pregnancy, ...) no passage shows for the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .asked_for import asked_activity, asked_agent, asked_effect
from .aspects import Aspects
from .clauses import (
    asked_part,
    referred_part,
    requesting_sentences,
)
from .corpus import Passage
from .facts import Located
from .gaps import AspectGaps
from .known import CorpusSentences, KnownWords, can_be_verb, framing
from .naming import (
    Collocations,
    about_other_condition,
    code_name,
    framing_by_position,
    names_something,
    other_conditions,
    people_named,
    population_gap,
    requested_thing,
    unknown_names,
    value_gap,
)
from .retrieve import Retrieval
from .route import Route
from .rules import Rules, compile_phrase
from .text import (
    ADJECTIVE_SUFFIXES,
    AFTER_A_NAME,
    PERMISSION_WORDS,
    QUESTION_WORDS,
    STOPWORDS,
    TASK_VERBS,
    contraction,
    descriptive,
    history_words,
    lemmas,
    raw_tokens,
    stem,
    tokens,
    verb_forms,
)
from .vocabulary import Vocabulary

# A disease named after a person, as the corpus writes it ("Lou Gehrig disease", "Kennedy's
# disease"): the capitalised words before "disease".
_EPONYM = re.compile(r"\b((?:[A-Z][a-z]+\s)*[A-Z][a-z]+)(?:'s|’s)?\s+disease\b")


@dataclass(frozen=True)
class ScopeDecision:
    answerable: bool
    reason: str
    names_outside: bool = False  # the question names something the corpus never mentions
    # What one of several asks wants that the sources never show ("Will it hurt him?" beside
    # "What does the test look at?"): the rest is answered, and the answer says so.
    unaddressed: str | None = None


def section_words(passages) -> dict[tuple[str, tuple[str, ...]], frozenset[str]]:
    """The words of each section, by (document id, section path): an aspect shown in one
    passage is about the topic its section names ("The recommended dosage is ..." under the
    riluzole label)."""
    words: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for p in passages:
        words.setdefault((p.doc_id, p.section), set()).update(tokens(p.stated))
    return {k: frozenset(v) for k, v in words.items()}


class Scope(KnownWords, CorpusSentences, AspectGaps):
    """Judges whether one corpus covers a question, naming the gap when it does not."""

    def __init__(
        self,
        rules: Rules,
        vocabulary: Vocabulary,
        passages: list[Passage] | None = None,
        terms: tuple[str, ...] = (),
        sections: dict[tuple[str, tuple[str, ...]], frozenset[str]] | None = None,
        collocations: Collocations | None = None,
        aspects: Aspects | None = None,
    ):
        """``sections``: :func:`section_words` of ``passages``; ``collocations``: the corpus's
        fixed phrases (:meth:`Scope.phrases`); each when already known. ``aspects``: what
        questions ask about a topic (its asking words are no topic of their own)."""
        self.rules = rules
        self.aspects = aspects
        self.tuning = rules.tuning.scope
        self.vocabulary = vocabulary
        self.general_vocab = vocabulary.english
        self.known_words = vocabulary.known
        self._by_initial: dict[str, list[str]] | None = None
        self._known_sorted = sorted(vocabulary.known)  # a fixed order: the same answer every run
        self.sections = section_words(passages or ()) if sections is None else sections
        # The corpus's own subject by any of its names ("Lou Gehrig disease") is no topic.
        own = [
            name
            for sub in rules.subjects.subjects
            if sub.kind == "topic"
            for name in (sub.name, *sub.aliases)
        ]
        self._subject_names = tuple(f" {' '.join(tokens(name))} " for name in own)
        # Words for a person, a name may stand beside ("my sister Maria", "Dr Okafor, my GP"):
        # a relation the family names ("my sister", "our doctor", "dad"; not "my family"),
        # whose story a thing may be ("my daughter, who is pregnant"), or a profession.
        self._relatives = frozenset(
            m[1]
            for sig in rules.routing.patient
            if sig.role and (m := re.fullmatch(r"(?:(?:my|our) )?([a-z]+)", sig.pattern))
        ) - {"family"}
        self._people = self._relatives | frozenset(
            p.replace("-", " ") for p in rules.routing.professions.split()
        )
        # (each one's person noun: "physician" of "palliative care physician", whose
        # "palliative" is a topic; whom an activity is asked for is none)
        self._persons = frozenset(tokens(p)[-1] for p in self._people if tokens(p))
        # (and its shorthand: "MND")
        said = {n.lower() for n in own}
        # (and the disease of the story: "is it a stroke or *his disease*?")
        told = [f"{w} disease" for w in ("this", "his", "her", "my", "the", "their", "your")]
        self._own_names = (
            *own,
            *(k for k, v in rules.shorthand.items() if v.lower() in said),
            *told,
        )
        self._others: tuple[str, ...] | None = None
        self._lay_words = frozenset(
            stem(a.lower())
            for e in rules.glossary
            for a in (*e.aliases, e.plain)
            if len(a.split()) == 1
        )
        self._passages = passages or ()
        self._by_word: dict[str, list[tuple[str, frozenset[str]]]] | None = None
        self._eponyms: tuple[tuple[str, re.Pattern[str]], ...] | None = None
        self._collocations = collocations
        self.terms = terms  # the terms the corpus defines by an abbreviation
        self._plain = [
            (set(tokens(e.term)), {t for a in (e.plain, *e.aliases) for t in tokens(a)})
            for e in rules.glossary
        ]

        def phrase(p: str) -> re.Pattern[str]:
            return re.compile(p[3:], re.I) if p.startswith("re:") else compile_phrase(p)

        self._aspects = [
            (a.name, [phrase(p) for p in a.asked], [phrase(p) for p in a.shown], a.partial)
            for a in rules.aspects
        ]
        self._told_for = {a.name: frozenset(a.told_for) for a in rules.aspects}
        unknown = {n for a in self._told_for.values() for n in a} - set(
            self.aspects.asks if self.aspects else ()
        )
        if self.aspects and unknown:
            raise ValueError(f"scope aspects name unknown aspects in told_for: {sorted(unknown)}")

    def decide(
        self, retrieval: Retrieval, route: Route, facts: tuple[Located, ...] = ()
    ) -> ScopeDecision:
        """Is the question covered by the corpus? Decided from the evidence, not a topic list.

        1. A word the corpus never uses (in any form or spelling) that is not ordinary English,
           or is a rare English word, names something outside the corpus: decline.
        2. Without any specific corpus term in the question, only a close semantic match counts.
        """
        tune = self.tuning
        covered, outside = [], []
        for t in dict.fromkeys(retrieval.terms):
            if t not in STOPWORDS and (t.isalpha() or code_name(t)) and retrieval.evidence[t].known:
                covered.append(t)
        by_position = framing_by_position(retrieval.query, can_be_verb)
        # The corpus topic the question names by itself: specific words, not framing.
        topic = [
            t
            for t in covered
            if t not in QUESTION_WORDS and retrieval.specific(t) and not framing(t)
        ]
        people = people_named(retrieval.query, self._people)
        named = {p.lower() for p in people}
        unused: list[str] = []
        for word in dict.fromkeys(retrieval.unknown_terms):
            if not (word.isalpha() or code_name(word)) or len(word) < 4:
                continue  # a number, or a figure with its unit ("50mg"); a code name counts
            if word.lower() in named:
                continue  # a name the story gives a person ("my sister Maria")
            if stem(word) in self.known_words:
                continue
            if self.vocabulary.in_corpus(word):
                continue  # another form of a corpus word
            if self.vocabulary.derived(word, tune.derived_min_prefix, tune.derived_min_share):
                continue  # derived from a corpus word ("prognostic", "electrodiagnostic")
            unused.append(word)  # no form of a corpus word, however ordinary in English
            if word in by_position or framing(word):
                continue  # the category a wh-word asks for; a verb, adjective, adverb
            if descriptive(word) or contraction(word):
                continue  # an adjective describes what is asked ("refractory"); "isnt"
            if topic and (lemmas(word) or word.lower().endswith(ADJECTIVE_SUFFIXES)):
                continue  # an English word, or an adjective by its form ("spirometric"),
                # beside a corpus topic qualifies it ("dietitian", "musculoskeletal pain")
            rank = self._english_rank(word)
            if rank is not None and rank <= tune.rare_word_rank:
                continue  # an ordinary English word the corpus happens not to use
            if self._near_known(word):
                continue  # a misspelling of the assistant's own vocabulary
            if self._says_otherwise(word, retrieval):
                continue  # the head of a phrase a corpus sentence words otherwise
            if rank is None or rank > tune.rare_word_rank:
                rank = self._misspelt_english_rank(word) or rank  # "ignroe" is "ignore"
            if rank is None or rank > tune.rare_word_rank:
                outside.append(word)
        outside += [
            n
            for n in unknown_names(
                retrieval.query, retrieval.unknown_terms, self._known_form, people
            )
            if n.lower() not in outside
        ]
        asked = asked_part(retrieval.query, person_ok=True)
        if route.injections:  # beside instructions, what asks or requests is the question
            asked = requesting_sentences(retrieval.query) or asked
        # what the story around the question names is context, not what is asked, except
        # what the question names back ("this kind": the story's "speech-first kind of ALS")
        context = asked or referred_part(retrieval.query)
        if context:
            said = {t.lower() for t in raw_tokens(context)}
            outside = [w for w in outside if w.lower() in said]
        tried = history_words(asked or retrieval.query)  # "refractory to glycopyrrolate"
        outside = [w for w in outside if w.lower() not in tried]
        question = asked if route.injections and asked else retrieval.query
        thing = requested_thing(question, TASK_VERBS, self._missing)
        if thing and not outside:
            return ScopeDecision(
                False, f"this asks for a task ({thing!r}), not for what the guidelines say", True
            )
        phrase = None if outside else self.collocations.foreign_phrase(retrieval.query)
        if phrase:
            outside.append(phrase)
        if outside:
            return ScopeDecision(
                False, f"the guidelines never mention {', '.join(repr(t) for t in outside)}", True
            )
        other = about_other_condition(
            asked or retrieval.query,  # a condition the story names is context
            self._other_conditions(),
            self._own_names,
            retrieval.query,
        )
        asking = self.aspects.asked(retrieval.query)[1] if self.aspects and other else set()
        if other and not set(topic) - set(tokens(other)) - asking:  # nothing else asked of
            # the corpus than the aspect ("How is Kennedy's disease *treated*?")
            return ScopeDecision(
                False, f"the sources mention {other} only as another condition to rule out", True
            )
        person = self._person_named(asked or retrieval.query)
        if person:
            return ScopeDecision(
                False, f"the sources name {person} only in the name of a disease", True
            )
        people = population_gap(
            asked or retrieval.query,  # the people the story names are context too
            self._known_form,
            lambda w, modifier: names_something(
                w, self._english_rank, self.tuning.rare_word_rank, modifier
            ),
        )
        if people:
            return ScopeDecision(False, f"the sources do not address {people}", True)
        measured = value_gap(
            asked or retrieval.query,
            self._sentences_naming,
            lambda w: stem(w) in self.known_words or self.vocabulary.in_corpus(w),  # as spelt
        )
        if measured:
            return ScopeDecision(False, f"the sources give no value for {measured}", True)
        activity = asked_activity(asked or retrieval.query)
        asked_about = [t for t in topic if t not in PERMISSION_WORDS and t not in self._persons]
        if activity and not asked_about and not any(map(self._known_form, verb_forms(activity))):
            # "Is it safe for me to keep driving with ALS?": the activity is what is asked.
            return ScopeDecision(False, f"the sources do not address {activity}", True)
        # a dictionary word is no misspelling of a corpus word ("acupuncture" ~ "puncture")
        unknown = {
            w.lower() for w in unused if lemmas(w.lower()) or not self._near_known(w.lower())
        }
        agents = [w for w in asked_agent(asked or retrieval.query) if w.lower() in unknown]
        if agents:  # "Can CBD oil slow ALS?": what it asks the effect of, the sources never name
            return ScopeDecision(False, f"the sources do not address {', '.join(agents)}", True)
        asked_effects = asked_effect(asked or retrieval.query)
        effects = [e for e in asked_effects if any(w.lower() in unknown for w in e.split())]
        if effects:  # beside a gap, an alternative the corpus itself never names is one too
            effects = [
                e for e in asked_effects if e in effects or all(map(self._unnamed, e.split()))
            ]
        if effects and len(effects) == len(asked_effects):
            # "Does ALS cause seizures?": what it asks whether ALS causes, the sources never name
            return ScopeDecision(False, f"the sources do not address {', '.join(effects)}", True)
        unnamed = ", ".join(effects) or None  # "blindness or numbness?": numbness is answered
        gap, partial = self.aspect_gap(retrieval, covered, facts)
        if gap and not partial:
            return ScopeDecision(False, f"the sources do not address {gap}", True)
        specific = [t for t in covered if t not in QUESTION_WORDS and retrieval.specific(t)]
        best = retrieval.best_similarity
        if not specific and best < tune.confident_similarity:
            return ScopeDecision(False, "no passage of the guidelines matches the question")
        if best < tune.min_similarity and not any(
            retrieval.idf(t) > tune.rare_term_idf for t in specific
        ):
            return ScopeDecision(False, "no passage of the guidelines matches the question")
        return ScopeDecision(
            True, "covered", unaddressed=" or ".join(g for g in (gap, unnamed) if g) or None
        )

    @property
    def collocations(self) -> Collocations:
        """The corpus's fixed phrases, learnt on first use."""
        if self._collocations is None:
            self._collocations = self.phrases(self._passages, self.terms, self.rules)
        return self._collocations

    @staticmethod
    def phrases(passages, terms: tuple[str, ...], rules: Rules) -> Collocations:
        """The fixed phrases of ``passages``' text, for the terms the corpus defines."""
        tune = rules.tuning.scope
        return Collocations(
            (p.stated for p in passages), terms, tune.phrase_min_count, tune.phrase_min_share
        )

    def _person_named(self, question: str) -> str | None:
        """A person a disease is named after, named alone ("Who was Lou Gehrig?", "Lou Gehrig's
        batting average", "Lou Gehrig's most famous speech"; not "Lou Gehrig's disease", "Is it
        Lou Gehrig's?" or "Lou Gehrig's they called it" (``language.after_a_name``)): the corpus
        says nothing of the person."""
        if self._eponyms is None:
            found = (m[1] for p in self._passages for m in _EPONYM.finditer(p.text))
            names = dict.fromkeys(n for n in found if not set(n.lower().split()) & STOPWORDS)
            function = "|".join(map(re.escape, AFTER_A_NAME))
            self._eponyms = tuple(
                (
                    n,
                    re.compile(
                        rf"\b{re.escape(n)}\b(?!(?:'s|’s|s\b)?\s*disease"
                        rf"|(?:'s|’s)\s*(?:[?.!,;:\"”)\]—–-]|$|(?:{function})\b))",
                        re.I,
                    ),
                )
                for n in names
            )
        return next((name for name, alone in self._eponyms if alone.search(question)), None)

    def _other_conditions(self) -> tuple[str, ...]:
        """The conditions the corpus names only as others to rule out: read once."""
        if self._others is None:
            self._others = other_conditions(p.text for p in self._passages)
        return self._others
