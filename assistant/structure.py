"""Structure: what a document's layout says about each passage, read once from the corpus.

- Blocks: a list as the author wrote it (a lead-in line and the bullets under it, or the paragraph
  that continues a lead-in with no bullets of its own) and a section (its passages in order).
- Abbreviations the corpus defines ("Videofluoroscopy (VFS)"), so that a sentence saying "VFS"
  counts as saying "videofluoroscopy".
- Each sentence in its context (title, section path, lead-in), with defined abbreviations and
  glossary terms spelled out: the text the embedding model sees for it.

Aspects (what a question asks about its topic) live in :mod:`assistant.aspects`.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import groupby, islice

from .corpus import Corpus, Passage, Sentence
from .rules import GlossaryEntry, compile_phrase
from .text import STOPWORDS, content_tokens, said_tokens, snowball, tokens

_DEFINED = re.compile(r"\(([A-Z][A-Za-z0-9/-]{1,9})\)")  # "... (VFS)"
_OTHER_NAME = re.compile(r"\(([A-Z][A-Za-z0-9/-]{1,9})\) or ((?:[A-Z][\w'’-]* ){1,3}[a-z]+)")
_WORD = re.compile(r"[A-Za-z][\w'-]*")
_CLAUSE = re.compile(r"[\n,;:.•()—–]")
_SYNONYM_WORDS = 4  # a defined synonym is at most this many words
_FORM_LETTERS = 5  # words this long or longer share a concept with their other forms
_NOT_SYNONYM = {"in", "e.g.", "e.g.,", "such", "including", "see", "or", "and", "with"}


def defined_abbreviations(text: str) -> dict[str, str]:
    """Abbreviations a text defines, ``"VFS" -> "Videofluoroscopy"``: the long form is found by
    matching the letters of the short form backwards (Schwartz & Hearst, 2003)."""
    out: dict[str, str] = {}
    for m in _DEFINED.finditer(text):
        short = m.group(1)
        letters = [c.lower() for c in short if c.isalnum()]
        before = text[max(0, m.start() - 120) : m.start()]
        words = _WORD.findall(before.rsplit("\n", 1)[-1])
        words = words[-min(len(letters) + 5, 2 * len(letters)) :]
        long = _long_form(letters, words)
        if long and long.lower() != short.lower():
            out.setdefault(short, long)
    return out


def other_names(text: str) -> list[tuple[str, str]]:
    """Names a text gives beside a defined abbreviation: "Amyotrophic lateral sclerosis (ALS)
    or Lou Gehrig disease" -> ``("ALS", "Lou Gehrig disease")``."""
    return [(m.group(1), m.group(2)) for m in _OTHER_NAME.finditer(text)]


def _long_form(letters: list[str], words: list[str]) -> str | None:
    """The shortest tail of ``words`` whose characters contain ``letters`` in order, the first
    letter starting a word."""
    for k in range(1, len(words) + 1):
        tail = words[-k:]
        if tail[0][0].lower() != letters[0]:
            continue
        chars = " ".join(tail).lower()
        pos = 0
        for ch in letters:
            pos = chars.find(ch, pos) + 1
            if not pos:
                break
        else:
            return " ".join(tail)
    return None


@dataclass(frozen=True)
class Block:
    """A unit the author wrote as a whole: a list under its lead-in, or a section."""

    kind: str  # "list" | "section"
    doc_id: str
    section: tuple[str, ...]
    lead: str | None
    passages: tuple[Passage, ...]

    @property
    def header(self) -> str:
        return " ".join([*self.section, self.lead or ""])


@dataclass
class Structure:
    """Blocks, carried lead-ins, abbreviations and sentence contexts of one corpus."""

    abbreviations: dict[str, str] = field(default_factory=dict)
    lead_of: dict[str, str] = field(default_factory=dict)  # passage id -> its (carried) lead-in
    list_of: dict[str, Block] = field(default_factory=dict)
    list_after: dict[str, Block] = field(default_factory=dict)  # lead-in paragraph -> its list
    section_of: dict[str, Block] = field(default_factory=dict)
    intro_of: dict[str, str] = field(default_factory=dict)  # unled bullet -> sentence it details
    detailed: dict[str, Block] = field(default_factory=dict)  # that sentence's passage -> list
    contexts: dict[tuple[str, int], str] = field(default_factory=dict)  # (pid, start) -> text
    passages: dict[str, Passage] = field(default_factory=dict)
    openings: set[str] = field(default_factory=set)  # each document's first paragraph
    concepts: list[tuple[frozenset[str], str]] = field(default_factory=list)  # long -> short
    df: Counter = field(default_factory=Counter)  # passages using each word
    n_passages: int = 1
    ubiquitous_share: float = 0.2
    kin: dict[str, frozenset[str]] = field(default_factory=dict)  # "drool" -> {.., "sialorrhea"}
    multiword: list[frozenset[str]] = field(default_factory=list)  # terms of several words
    _expansions: dict[str, frozenset[str]] = field(default_factory=dict)
    _aliases: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    _alias_index: dict[str, list[tuple[str, frozenset[str]]]] = field(default_factory=dict)
    # a narrower glossary term's words and the broader term it says (BPAP: non-invasive ventilation)
    _broader: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)
    _headers: dict[str, list[str]] = field(default_factory=dict)
    _said: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    _using: dict[str, set[str]] = field(default_factory=dict)  # word -> passages naming it
    _using_sorted: dict[str, list[str]] = field(default_factory=dict)  # the same, sorted
    _headings: list[tuple[Block, list[str]]] = field(
        default_factory=list, compare=False, repr=False
    )  # built on first use

    @classmethod
    def build(
        cls,
        corpus: Corpus,
        glossary: tuple[GlossaryEntry, ...] = (),
        ubiquitous_share: float = 0.2,
        other_names_of: dict[str, list[str]] | None = None,
    ) -> Structure:
        """Read the structure of every document; nothing is embedded here. ``other_names_of``:
        more names of an abbreviation's concept (``subjects.yaml``: "motor neuron disease" for
        "ALS"), read as it in a question."""
        s = cls()
        for doc in corpus.documents.values():
            for short, long in defined_abbreviations(doc.text).items():
                s.abbreviations.setdefault(short, long)
        passages = [p for p in corpus.passages if p.kind != "disclaimer"]
        s.df = Counter(t for p in passages for t in set(tokens(p.stated)))
        s.n_passages, s.ubiquitous_share = max(len(passages), 1), ubiquitous_share
        for short, long in s.abbreviations.items():
            key, words = short.lower(), frozenset(content_tokens(long))
            s.concepts.append((words, key))
            if s.is_specific(key):  # "ALS" names no topic
                s._expansions[key] = words  # "vfs" -> {"videofluoroscopy"}
        for doc in corpus.documents.values():
            for short, name in other_names(doc.text):
                if short in s.abbreviations:  # "Lou Gehrig disease" is "ALS"
                    s.concepts.append((frozenset(content_tokens(name)), short.lower()))
        for short, names in (other_names_of or {}).items():
            for name in names:
                words = frozenset(content_tokens(name))
                if short in s.abbreviations and len(words) > 1:
                    s.concepts.append((words, short.lower()))
        for doc in corpus.documents.values():
            body = [p for p in doc.passages if p.kind != "disclaimer"]
            s._read_blocks(body)
            s.openings.update(p.id for p in body[:1] if p.kind == "paragraph")
        s._read_glossary(glossary, [d.text for d in corpus.documents.values()])
        notes = sorted(glossary, key=lambda e: -len(e.term))
        glossed = [(compile_phrase(e.term), e.plain, _first_word(e.term)) for e in notes]
        for p in passages:
            s.passages[p.id] = p
            s._headers[p.id] = s.with_concepts(tokens(" ".join([*p.section, s.lead(p) or ""])))
            for sent in p.sentences:
                s.contexts[(p.id, sent.start)] = s._context(p, sent, glossed)
                s._said[(p.id, sent.start)] = said = s.with_concepts(said_tokens(sent.text))
                for w in said:
                    s._using.setdefault(w, set()).add(p.id)
        return s

    def _read_definitions(self, text: str, glossary: tuple[GlossaryEntry, ...]) -> None:
        """Synonyms a document defines for a glossary term, as a short phrase beside it in
        parentheses: "Pathological crying or laughter (pseudobulbar affect)", "Sialorrhea
        (excessive drooling)"."""
        lowered = text.lower()
        for e in glossary:
            if e.term.lower() not in lowered:
                continue
            term = frozenset(content_tokens(e.term))
            name = compile_phrase(e.term).pattern
            said = []
            for m in re.finditer(rf"\(\s*{name}\s*\)", text, re.IGNORECASE):
                clause = _CLAUSE.split(text[max(0, m.start() - 80) : m.start()])[-1]
                if len(clause.split()) <= _SYNONYM_WORDS:  # the phrase is the whole clause
                    said.append(content_tokens(clause))
            for m in re.finditer(rf"{name}\s*\(([a-z][^()\d]{{2,40}})\)", text, re.IGNORECASE):
                words = m.group(1).split()
                if len(words) <= _SYNONYM_WORDS and words[0].lower() not in _NOT_SYNONYM:
                    said.append(content_tokens(m.group(1)))
            for words in said:
                if words and not set(words) <= term:
                    self._aliases.append((f" {' '.join(words)} ", term))

    def _read_glossary(self, glossary: tuple[GlossaryEntry, ...], texts: list[str]) -> None:
        """Lay wording the glossary lists for a term ("drooling", "crying or laughter") says
        the term; single words that name one term are kin ("drool" ~ "sialorrhea")."""
        for e in glossary:
            term = frozenset(content_tokens(e.term))
            if len(term) > 1:
                self.multiword.append(term)
            if e.kind_of:  # the narrower term says the broader one
                broader = frozenset(content_tokens(e.kind_of))
                self._broader.append((term, broader))
            for alias in (*e.aliases, *([e.plain] if e.keep_term else [])):
                words = tuple(content_tokens(alias))
                if words and not set(words) <= term:
                    self._aliases.append((f" {' '.join(words)} ", term))
                if len(words) == 1 and len(term) == 1:
                    group = self.kin.get(words[0], frozenset({words[0]})) | term
                    for w in group:
                        self.kin[w] = group
        for text in texts:
            self._read_definitions(text, glossary)
        for phrase, term in self._aliases:  # by first word: a sentence checks only its own
            self._alias_index.setdefault(phrase.split()[0], []).append((phrase, term))
        self._read_word_forms()
        for short, long in self._expansions.items():
            if len(long) == 1:
                group = self.kin.get(short, frozenset({short})) | long
                for w in group:
                    self.kin[w] = group

    def _read_word_forms(self) -> None:
        """Corpus words of one Snowball stem, the shorter the start of the longer, are kin:
        "nutrition" and "nutritional" (not "severe" and "several")."""
        by_stem: dict[str, list[str]] = {}
        for w in sorted(self.df, key=len):
            if len(w) >= _FORM_LETTERS and w.isalpha():
                by_stem.setdefault(snowball(w), []).append(w)
        for forms in by_stem.values():
            root = forms[0]
            group = frozenset(w for w in forms if w.startswith(root))
            if len(group) < 2:
                continue
            for w in sorted(group):
                group |= self.kin.get(w, frozenset())
            for w in group:
                self.kin[w] = group

    def _read_blocks(self, passages: list[Passage]) -> None:
        by_section: dict[tuple[str, ...], list[Passage]] = {}
        lists: dict[tuple, list[Passage]] = {}
        lead_para: Passage | None = None
        intro: Passage | None = None  # a one-sentence paragraph that bullets with no lead detail
        intros: dict[str, str] = {}  # unled bullet -> its intro's passage id
        for k, p in enumerate(passages):
            by_section.setdefault(p.section, []).append(p)
            if p.kind == "bullet":
                key = (p.section, p.lead, lead_para.id if p.lead and lead_para else None)
                lists.setdefault(key, []).append(p)
                if not p.lead and intro is not None and intro.section == p.section:
                    self.intro_of[p.id] = intro.text
                    intros[p.id] = intro.id
                continue
            one = p.kind == "paragraph" and len(p.sentences) == 1 and not p.text.endswith(":")
            intro = p if one else None
            prev = passages[k - 1] if k else None
            lead_in = p.text.endswith(":")
            if prev is not None and prev is lead_para and not lead_in and prev.section == p.section:
                # "Treatment options include:" followed by a paragraph, not bullets.
                self.lead_of[p.id] = prev.text
                lists.setdefault((p.section, prev.text, prev.id), []).append(p)
            lead_para = p if lead_in else None
        for (section, lead, lead_id), items in lists.items():
            block = Block("list", items[0].doc_id, section, lead, tuple(items))
            for p in items:
                self.list_of[p.id] = block
            if lead_id:
                self.list_after[lead_id] = block
            elif items[0].id in intros:
                self.detailed[intros[items[0].id]] = block
        for section, items in by_section.items():
            block = Block("section", items[0].doc_id, section, None, tuple(items))
            for p in items:
                self.section_of[p.id] = block

    def section_headings(self) -> list[tuple[Block, list[str]]]:
        """Each section with its heading path's words, in corpus order (read once)."""
        if not self._headings:
            blocks = {id(b): b for b in self.section_of.values()}.values()
            self._headings = [(b, tokens(" ".join(b.section))) for b in blocks]
        return self._headings

    def idf(self, token: str) -> float:
        """The keyword index's idf of a word (for words the question did not type)."""
        return math.log(1 + self.n_passages / (1 + self.df.get(token, 0)))

    def is_specific(self, token: str) -> bool:
        """A word in few passages ("als" is in most of them)."""
        return self.df.get(token, 0) / self.n_passages < self.ubiquitous_share

    def as_concepts(self, words: set[str]) -> set[str]:
        """``words`` with a defined abbreviation's spelled-out form read as the abbreviation:
        "amyotrophic lateral sclerosis" is one concept, as common as "ALS"."""
        out = set(words)
        for long, short in self.concepts:
            if long and long <= out:
                out = (out - long) | {short}
        return out

    def using(self, word: str) -> set[str]:
        """The passages whose sentences name ``word`` (in any form the structure knows)."""
        return self._using.get(word, set())

    def first_using(self, words, n: int) -> list[str]:
        """The first ``n`` passage ids (sorted) whose sentences name any of ``words``: merged
        from each word's sorted list (sorted once), not sorted again per question."""
        lists = []
        for w in sorted(words):
            if w not in self._using_sorted:
                self._using_sorted[w] = sorted(self._using.get(w, ()))
            lists.append(self._using_sorted[w])
        return list(islice((pid for pid, _ in groupby(heapq.merge(*lists))), max(n, 0)))

    def lead(self, p: Passage) -> str | None:
        """The passage's lead-in: its own, or the one a continuing paragraph carries."""
        return p.lead or self.lead_of.get(p.id)

    def header_tokens(self, p: Passage) -> list[str]:
        """Words of the passage's section path and lead-in, with the concepts they name."""
        if p.id in self._headers:
            return self._headers[p.id]
        return self.with_concepts(tokens(" ".join([*p.section, self.lead(p) or ""])))

    def subject_tokens(self, p: Passage) -> list[str]:
        """What the passage is about: its header, and for a bullet with no lead-in the
        one-sentence paragraph its list details ("Riluzole 50 mg twice daily ..." above
        "Monitor serum aminotransferases ...")."""
        intro = self.intro_of.get(p.id)
        header = self.header_tokens(p)
        return [*header, *self.with_concepts(tokens(intro))] if intro else header

    def said(self, p: Passage, s: Sentence) -> list[str]:
        """Words of a sentence, with the concepts it names (read once, at start-up)."""
        known = self._said.get((p.id, s.start))
        return known if known is not None else self.with_concepts(said_tokens(s.text))

    def with_concepts(self, words: list[str]) -> list[str]:
        """``words``, then the words of what they name: a defined abbreviation's spelled-out
        form (and back), a glossary term said in lay words ("crying or laughter")."""
        have, extra = set(words), []
        for short, long in self._expansions.items():
            if short in have:
                extra += sorted(long - have)
            elif long <= have:
                extra.append(short)
        content = [w for w in words if w not in STOPWORDS and len(w) > 1]
        text = f" {' '.join(content)} "
        for w in dict.fromkeys(content):
            for phrase, term in self._alias_index.get(w, ()):
                if phrase in text:
                    extra += sorted(term - have - set(extra))
        for narrower, term in self._broader:  # a narrower term says the broader one, and its
            if narrower <= have | set(extra):  # short form (also as "BPAP", "BiPAP")
                said = have | set(extra)
                extra += sorted(term - said)
                extra += [
                    s for s, long in self._expansions.items() if long == term and s not in said
                ]
        return [*words, *extra]

    def _context(self, p: Passage, sent: Sentence, glossed) -> str:
        """What the embedding model sees for one sentence: title, section, lead-in, sentence,
        with defined abbreviations and glossary terms spelled out beside them."""
        lead = self.lead(p)
        head = "\n".join([p.meta.title, p.section_label])
        parts = [head, *([self._spelled(lead, head, glossed)] if lead else [])]
        parts.append(self._spelled(sent.text, head, glossed))
        return "\n".join(parts)

    def _spelled(self, text: str, context: str, glossed) -> str:
        seen = (context + " " + text).lower()
        for short, long in self.abbreviations.items():
            if short in text and long.lower() not in seen:
                text = re.sub(rf"(?<![\w(]){re.escape(short)}(?![\w)])", f"{long} ({short})", text)
        notes, taken = [], []
        lowered = text.lower()
        for rx, plain, first in glossed:
            if first not in lowered:
                continue  # cheap test before the regex
            for m in rx.finditer(text):
                if plain.lower() in lowered or any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                taken.append((m.start(), m.end()))
                notes.append(plain)
        return text + (f" ({'; '.join(dict.fromkeys(notes))})" if notes else "")

    def keys(self) -> dict[tuple[str, int], str]:
        """Content hash of each sentence's context text: the key of its stored vector."""
        return {k: context_key(text) for k, text in self.contexts.items()}


def _first_word(term: str) -> str:
    """The literal start of a glossary term, lowercase (a cheap test before its regex)."""
    return term.lower().split()[0].split("*")[0] if term.strip() else ""


def context_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]
