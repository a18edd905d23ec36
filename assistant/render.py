"""Render: a verified draft as Markdown; clinician groups, the patient glossary and framing."""

from __future__ import annotations

import re
from dataclasses import replace

from . import readability
from .compose import GROUP_ORDER, GROUP_TITLES, DraftSentence
from .repair import Verified
from .rules import Fact, GlossaryEntry, Rules, compile_phrase
from .series import as_list

_NAME_GOES_ON = re.compile(r"\s(?:[A-Z]|\d+)(?![\w-])")  # "toxin A", "type 2"


class Glossary:
    """Plain words for clinical terms, for patient answers. Never touches quoted facts.

    A term marked ``keep_term`` stays as written with its plain words beside it ("botulinum
    toxin A (Botox-type medicine)"); other entries are plain words that replace the term.
    """

    def __init__(self, entries: tuple[GlossaryEntry, ...]):
        ordered = sorted(entries, key=lambda e: -len(e.term))
        self.entries = [
            (compile_phrase(e.term), e, e.term.lower().split()[0].split("*")[0]) for e in ordered
        ]
        self._memo: dict[tuple[str, frozenset[str]], str] = {}

    def asked(self, question: str) -> frozenset[str]:
        """The terms ``question`` itself uses: the asker knows them, so they are kept."""
        lowered = question.lower()
        return frozenset(
            e.term for rx, e, first in self.entries if first in lowered and rx.search(question)
        )

    def plain(self, text: str, kept: frozenset[str] = frozenset()) -> str:
        """``text`` with each glossary term explained once (remembered: answers repeat); a term
        in ``kept`` keeps its words, with the plain words beside it."""
        key = (text, kept)
        known = self._memo.get(key)
        if known is None:
            known = self._memo[key] = self._plain(text, kept)
            if len(self._memo) > 16384:
                self._memo.clear()
        return known

    def _plain(self, text: str, kept: frozenset[str]) -> str:
        taken: list[tuple[int, int]] = []
        edits: list[tuple[int, int, str]] = []
        # Leftmost, then longest: "lower motor neuron disease" reads as "lower motor neuron"
        # and "disease", never as "lower" and "motor neuron disease".
        lowered = text.lower()
        found = [
            (m, e)
            for rx, e, first in self.entries
            if first in lowered  # a cheap test before the regex
            for m in rx.finditer(text)
        ]
        done: set[str] = set()  # a term is explained once
        for m, e in sorted(found, key=lambda t: (t[0].start(), -len(t[0].group(0)))):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if e.term in done:
                taken.append((m.start(), m.end()))
                continue
            done.add(e.term)
            after = text[m.end() : m.end() + 2]
            explained = (
                (text[m.start() - 1 : m.start()] == "(" and after[:1] == ")")  # "(EMG)"
                or after.startswith((" (", "—", " –"))  # the source explains the term
                or e.plain.lower() in text.lower()
            )
            if explained:
                taken.append((m.start(), m.end()))  # and no shorter term inside it either
                continue
            taken.append((m.start(), m.end()))
            if e.keep_term or e.term in kept:
                # The term keeps its words (and a name's letter: "botulinum toxin A"); the
                # plain words stand beside it, so the sentence still reads as written.
                goes_on = _NAME_GOES_ON.match(text, m.end())
                end = goes_on.end() if goes_on else m.end()
                edits.append((m.start(), end, f"{text[m.start() : end]} ({e.plain})"))
                continue
            word = e.plain
            if m.start() == 0 or text[max(0, m.start() - 2) : m.start()].strip() in (".", ""):
                word = word[0].upper() + word[1:]
            start = m.start()
            article = _ARTICLE.search(text, 0, start)
            wanted = "an" if word[:1].lower() in "aeio" else "a"  # "a usually", not "an"
            own = word.split(" ", 1)[0].lower() in ("a", "an", "the")  # "a lot" has its own
            if article and article.group(1).lower() != wanted and not own:
                # "an inability" -> "a lack of ability": the article agrees
                a = wanted.capitalize() if article.group(1)[0].isupper() else wanted
                word, start = f"{a} {word}", article.start()
            edits.append((start, m.end(), word))
        for a, b, new in sorted(edits, reverse=True):
            text = text[:a] + new + text[b:]
        return text


_ARTICLE = re.compile(r"\b(an?|An?) $")


def _quote_facts(text: str, facts: list[Fact]) -> list[tuple[str, bool]]:
    """Split ``text`` into (segment, is_fact) with registered fact spans marked."""
    spans = []
    for f in facts:
        k = text.find(f.text)
        if k >= 0 and not any(a < k + len(f.text) and k < b for a, b in spans):
            spans.append((k, k + len(f.text)))
    out, pos = [], 0
    for a, b in sorted(spans):
        if a > pos:
            out.append((text[pos:a], False))
        out.append((text[a:b], True))
        pos = b
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def render_sentence(
    s: DraftSentence,
    facts: list[Fact],
    glossary: Glossary | None,
    numbering: dict[int, int],
    framed_share: float = 0.3,
    kept: frozenset[str] = frozenset(),
    list_above: float | None = None,
) -> str:
    """One displayed sentence with its citation marks. For a patient (``glossary``): facts
    framed, terms explained, and a series read above ``list_above`` shown as a list."""
    marks = "".join(f"[{numbering[i]}]" for i in dict.fromkeys(s.cites))
    if glossary is not None:
        # For patients a threshold fact is framed by its plain lead-in, then quoted verbatim.
        inside = [f for f in facts if f.text in s.text]
        framed = [f for f in inside if f.plain]
        covered = sum(len(f.text) for f in inside)
        # Framed alone only when the facts are most of the sentence; else the whole sentence.
        if framed and len(framed) == len(inside) and covered >= framed_share * len(s.text):
            # The plain lead-in, then the verbatim quote set apart on its own line.
            return "\n- ".join(f"{f.plain}\n  > “{f.text}” {marks}" for f in framed)
    parts = []
    for seg, is_fact in _quote_facts(s.text, facts):
        if is_fact:
            parts.append(f"“{seg}”")
        else:
            parts.append(glossary.plain(seg, kept) if glossary else seg)
    text = "".join(parts)
    quoted = "“" in text  # a fact quoted verbatim is never cut into lines
    if (
        glossary is not None
        and list_above is not None
        and not quoted
        and (readability.grade(text) > list_above)
    ):
        listed = as_list(text)
        if listed:  # the lead-in carries the marks; each item on a line of its own
            head, *items = listed
            return f"{head} {marks}".rstrip() + "".join(f"\n  - {i}" for i in items)
    return f"{text} {marks}".rstrip()


def _with_their_items(content: list[DraftSentence]) -> list[DraftSentence]:
    """A lead-in sentence ("Limb-onset ALS (two-thirds of cases):") goes in the group its
    items show in, right above them, not alone in another group."""
    led: dict[str, list[str | None]] = {}
    for s in content:
        if s.lead:
            led.setdefault(s.lead.rstrip(), []).append(s.group)
    out = []
    for s in content:
        groups = led.get(s.text.rstrip()) if s.text.rstrip().endswith(":") else None
        if groups and s.group not in groups:
            s = replace(s, group=groups[0])
        out.append(s)
    return out


def render(
    verified: Verified,
    audience: str,
    rules: Rules,
    glossary: Glossary,
    top_lines: list[str],
    question: str = "",
) -> tuple[str, list[tuple[int, int]]]:
    """Markdown for a verified draft, and ``(source index, citation number)`` pairs, numbered by
    first appearance. A clinical term the question itself uses keeps its words for patients."""
    patient = audience == "patient"
    numbering: dict[int, int] = {}
    content = list(verified.sentences)
    if not patient:
        content = _with_their_items(content)
        order = {g: k for k, g in enumerate(GROUP_ORDER)}
        content.sort(key=lambda s: order.get(s.group or "", 9))
    for s in content:
        for i in s.cites:
            numbering.setdefault(i, len(numbering) + 1)
    for d in verified.differences:
        for _, i in d.facts:
            numbering.setdefault(i, len(numbering) + 1)
    facts = [f for f, _ in verified.facts]
    gloss = glossary if patient else None
    kept = glossary.asked(question) if patient and question else frozenset()
    lines: list[str] = list(top_lines)
    if patient and content:
        lines.append(rules.safety.patient_lead)
    group = None
    lead = None
    shown_sentences: list[str] = []
    for s in content:
        if not patient and s.group != group:
            group = s.group
            lines.append(f"\n**{GROUP_TITLES.get(group or '', 'From the sources')}**")
            lead, shown_sentences = None, []
        text = render_sentence(
            s,
            facts,
            gloss,
            numbering,
            rules.tuning.patient.framed_share,
            kept,
            rules.tuning.patient.list_grade,
        )
        if s.lead and s.lead != lead:
            shown = s.lead
            for earlier in shown_sentences:  # a lead-in may begin with a sentence just shown
                if shown.startswith(earlier):
                    shown = shown[len(earlier) :].lstrip()
            if shown.strip(" :"):  # else the lead-in is the line just shown
                lines.append(f"- {gloss.plain(shown, kept) if gloss else shown}")
        shown_sentences.append(s.text)
        indent = "  " if s.lead else ""
        lines.append(f"{indent}- " + text.replace("\n", "\n" + indent))
        lead = s.lead
    if verified.differences:
        lines.append(f"\n**{rules.safety.sources_differ_line}**")
        for d in verified.differences:
            for f, i in d.facts:
                p = verified.sources[i]
                where = "" if patient else f"{p.meta.title} — {p.section_label}: "
                lines.append(f"- {where}“{f.text}” [{numbering[i]}]")
    if patient and content:
        lines.append("\n" + rules.safety.care_team_line)
    text = "\n".join(lines).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text, sorted(numbering.items(), key=lambda kv: kv[1])
