"""Asked for: what a question asks about besides its topic, read from its wording alone.

An activity it asks permission for ("Is it safe for him to keep *driving*?"), an agent it asks
might help ("Can *CBD oil* slow it down?"), an effect it asks of something ("Does riluzole
cause *hair loss*?"). Scope declines the question when the corpus never names what these are.
"""

from __future__ import annotations

import re

from .naming import WORD
from .text import PERMISSION_WORDS, lemmas

_ACTIVITY = re.compile(
    r"\b(?P<frame>[a-z]+)\s+(?:for (?:(?:my|our|his|her|their|a|the)\s+)?[a-z]+\s+)?to\s+"
    r"(?:keep |still |continue |go on )?(?P<verb>[a-z]+)"
    r"|\b(?:can|could|may) (?:i|he|she|we|they|you) (?:still|keep|continue to|continue) "
    r"(?P<still>[a-z]+)",
    re.IGNORECASE,
)


def asked_activity(question: str) -> str | None:
    """The activity a question asks permission for: "Is it safe for me (for my husband) to keep
    *driving*?", "Can I still *fly*?"; None when it asks for none."""
    for m in _ACTIVITY.finditer(question):
        if m["still"]:
            return m["still"].lower()
        if m["frame"].lower() in PERMISSION_WORDS:
            return m["verb"].lower()
    return None


_AGENT = re.compile(
    r"\b(?:can|could|does|do|did|will|would|should|might|may|is|are)\s+"
    r"(?P<np>(?:[\w'’-]+\s+){1,5}?)(?:really\s+|actually\s+|possibly\s+)?"
    r"(?:help|slow|stop|cure|treat|work|improve|reverse|benefit|prevent|halt|fix|effective|"
    r"useful|worth)\w*\b",
    re.IGNORECASE,
)
# Words that never name what is asked about (pronouns, determiners, auxiliaries). Not STOPWORDS:
# it holds verbs ("say") that would leave their subject ("the sources") as the head.
_NOT_AGENT = frozenset(
    "it this that these those they them he she i we you me him her us one anything something "
    "nothing everything there what which who a an the any some my his our your their or and "
    "of for with in on to be been being also ever can could will would should may might must do "
    "does did is are was were".split()
)


_CUT = frozenset("to at with for from in on of about by".split())  # a phrase ends at these
_AND = frozenset("or and".split())


def asked_agent(question: str) -> list[str]:
    """The nouns naming what a question asks the effect of: "Can *medical marijuana* or *CBD
    oil* slow down ALS?", "Does *acupuncture* help?" (as written, in order). Each alternative is
    judged by its head, its last word before a preposition ("the nurse at the pharmacy": nurse);
    a word before "to" is a verb ("riluzole take to work"). An adjective never heads; a word no
    dictionary knows only when written as a name ("CBD"). None when it names nothing."""
    out: list[str] = []
    for m in _AGENT.finditer(question):
        _heads(m["np"], out)
    return out


_EFFECT = re.compile(
    r"\b(?:does|do|can|could|will|would|might|may|did)\s+(?:als|mnd|it|this|that|"
    r"(?:the|this) (?:disease|illness|condition)|motor neuron disease|lou gehrig[’']?s?"
    r"(?: disease)?)\s+(?:ever\s+|also\s+|sometimes\s+|really\s+)?(?:cause|lead to|"
    r"give (?:you|people|him|her|them|patients)|bring on|result in|trigger)\s+"
    r"(?P<np>[^.?!;:,()]{1,80})",
    re.IGNORECASE,
)


def asked_effect(question: str) -> list[str]:
    """What a question asks whether the disease causes: "Does ALS cause *seizures*?", "Can it
    lead to *hair loss*?": each alternative's nouns (as :func:`asked_agent` reads them), as
    written."""
    out: list[str] = []
    for m in _EFFECT.finditer(question):
        for alternative in re.split(r"\b(?:or|and)\b", m["np"], flags=re.IGNORECASE):
            nouns: list[str] = []
            _heads(alternative, nouns, nouns_too=True)
            if nouns and " ".join(nouns) not in out:
                out.append(" ".join(nouns))
    return out


def _heads(np: str, out: list[str], nouns_too: bool = False) -> None:
    """The head noun of each alternative of a noun phrase (and a name of a kind before it; with
    ``nouns_too``, any noun before it: "*hair* loss"), appended to ``out`` as written."""
    phrase: list[str] = []
    for word in WORD.findall(np):
        low = word.lower()
        if low in _CUT:
            if low == "to" and phrase:
                phrase.pop()  # "take to work", "need to": a verb
            break
        phrase.append(word)
    alternatives: list[list[str]] = [[]]
    for word in phrase:
        if word.lower() in _AND:
            alternatives.append([])
        elif word.lower() not in _NOT_AGENT:
            alternatives[-1].append(word)
    for words in alternatives:
        if not words:
            continue
        if len(words) > 1 and _code(words[-1]):
            words = words[:-1]  # "vitamin E", "coenzyme Q10": the noun the code names
        head = words[-1]
        forms = lemmas(head.lower())
        # a word no dictionary knows is a name when written as one ("CBD", "Tofersen"); in
        # lower case it may be clinical shorthand the tables lack
        named = not forms and (head[:1].isupper() or any(c.isdigit() for c in head))
        noun = named or ("NOUN" in forms and not {"ADV", "ADP"} & set(forms))
        if not noun:
            continue
        # A name before the head says which kind ("*creatine* supplements", "*CBD* oil"): it
        # is asked about too. An English word ("medical", "morning") only describes.
        kinds = [
            w
            for w in words[:-1]
            if _names_a_kind(w) or (nouns_too and set(lemmas(w.lower())) == {"NOUN"})
        ]
        for word in (*kinds, head):
            if word not in out:
                out.append(word)


def _names_a_kind(word: str) -> bool:
    """A modifier that names a kind of thing: a word no dictionary knows (a substance's name,
    "creatine", "CBD"). An English word ("morning dose", "hospital team") only describes."""
    return word.isalpha() and len(word) > 2 and not lemmas(word.lower())


def _code(word: str) -> bool:
    """A letter or short code after a noun ("E", "Q10", "B12")."""
    return (len(word) == 1 and word.isupper()) or (
        len(word) <= 4 and word[:1].isalpha() and any(c.isdigit() for c in word)
    )
