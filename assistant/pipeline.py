"""The pipeline: question → route → retrieve → compose → guard → Answer; where stages meet."""

from __future__ import annotations

import logging
import queue
import re
import threading
from dataclasses import dataclass, field
from functools import cache, lru_cache

from .answer import Answer, Glossary, render
from .compose import ComposeInput, Draft, ExtractiveComposer
from .config import Settings
from .conversation import FollowUpResolver, SearchQuery
from .corpus import Corpus
from .facts import FactBook
from .guard import Guard, Verified
from .index import SyncReport, VectorIndex
from .inputs import MAX_QUESTION_CHARS, validate_history, validate_question  # noqa: F401
from .retrieve import HybridRetriever, KeywordIndex, Retrieval
from .route import Route, Router
from .rules import Rules
from .text import numbers, tokens

log = logging.getLogger(__name__)

PATIENT_MAX_FACTS = 3
_END = object()


@cache
def _general_vocabulary() -> dict[str, int]:
    """Whole words of the embedding model's tokenizer, with their ids (roughly, frequency ranks):
    a proxy for 'ordinary English'."""
    from .embeddings import model

    vocab = model().tokenizer.get_vocab()
    return {w: i for w, i in vocab.items() if w.isalpha() and len(w) > 1}


def _retrieved(found: Retrieval) -> list[dict]:
    return [
        {
            "doc": h.passage.doc_id,
            "section": h.passage.section_label,
            "section_path": list(h.passage.section),
            "passage": h.passage.id,
            "score": round(h.score, 5),
            "similarity": round(h.similarity, 3),
        }
        for h in found.hits
    ]


@dataclass
class Conversation:
    """One conversation's bounded history; two conversations never share turns."""

    assistant: Assistant
    audience: str = "auto"
    history: list[dict] = field(default_factory=list)

    def ask(self, question: str, audience: str | None = None) -> Answer:
        answer = self.assistant.ask(question, audience or self.audience, self.history)
        self.history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.answer},
        ]
        self.history = self.history[-2 * self.assistant.settings.max_history_turns :]
        return answer


class Assistant:
    """The guideline assistant.

    Example:
        >>> bot = Assistant.load()
        >>> bot.ask("What is the recommended riluzole dose?").to_dict()["status"]
        'answered'
    """

    def __init__(
        self,
        settings: Settings,
        corpus: Corpus,
        rules: Rules,
        index: VectorIndex | None,
        composer=None,
    ):
        self.settings = settings
        self.corpus = corpus
        self.rules = rules
        self.index = index
        self.factbook = FactBook(rules, corpus)
        self.glossary = Glossary(rules.glossary)
        synonyms: dict[str, list[str]] = {}
        for e in rules.glossary:
            for alias in (e.plain, *e.aliases):
                key = " ".join(tokens(alias))
                if key and key != " ".join(tokens(e.term)):
                    synonyms.setdefault(key, []).extend(tokens(e.term))
        english = _general_vocabulary() if index is not None else {}
        hints = {
            " ".join(tokens(phrase)): [t for w in words for t in tokens(w)]
            for phrase, words in rules.subjects.expansions.items()
        }
        self.keyword = KeywordIndex(corpus.passages, synonyms, frozenset(english), hints)
        self.retriever = HybridRetriever(corpus, index, self.keyword, settings.retrieval)
        self.router = Router(rules)
        self.followups = FollowUpResolver(rules)
        known = {
            t for s in (*rules.routing.patient, *rules.routing.clinician) for t in tokens(s.pattern)
        }
        known |= {t for e in rules.glossary for a in (e.plain, *e.aliases) for t in tokens(a)}
        known |= {
            t for s in rules.subjects.subjects for a in (s.name, *s.aliases) for t in tokens(a)
        }
        known |= {t for a in rules.subjects.attributes for t in tokens(a)}
        instructions = [
            re.compile(p, re.IGNORECASE | re.DOTALL) for p in rules.safety.injection_patterns
        ]
        untrusted = frozenset(
            d.id for d in corpus.documents.values() if any(rx.search(d.text) for rx in instructions)
        )
        if untrusted:
            log.warning(
                "documents that address the assistant are never quoted: %s",
                ", ".join(sorted(untrusted)),
            )
        self.guard = Guard(rules, self.factbook, self.keyword, english, frozenset(known), untrusted)
        self.extractive = ExtractiveComposer(
            rules, self.factbook, self.keyword, self.glossary.plain
        )
        self.composer = composer or self.extractive
        if composer is not None and hasattr(composer, "bind"):
            composer.bind(self)  # also after ingest(), which builds a fresh Assistant

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def load(
        cls, settings: Settings | None = None, *, ingest: bool = True, composer=None, **overrides
    ) -> Assistant:
        """Load corpus, rules and index, ready to answer.

        Args:
            settings: a :class:`Settings`; by default read from ``ASSISTANT_*`` variables.
            ingest: bring the index in line with the corpus first (embeds only new passages).
            composer: a composer object; by default chosen by ``settings.composer``.
            **overrides: fields of :class:`Settings`, e.g. ``index_dir=...``.

        Example:
            >>> bot = Assistant.load(index_dir="/tmp/index")
        """
        if settings is None:
            settings = Settings.from_env(**overrides)
        elif overrides:
            settings = Settings.model_validate({**settings.model_dump(), **overrides})
        corpus = Corpus.load(settings.corpus_dir)
        rules = Rules.load(settings.rules_dir)
        rules.check_against(corpus.texts())
        index = VectorIndex(settings)
        if ingest:
            index.sync(corpus)
        if composer is None and settings.composer != "extractive":
            from .llm import LLMComposer

            composer = LLMComposer.from_settings(settings, rules)
        return cls(settings, corpus, rules, index, composer)

    def ingest(self) -> SyncReport:
        """Re-read the corpus and bring the index in line with it."""
        corpus = Corpus.load(self.settings.corpus_dir)
        self.rules.check_against(corpus.texts())
        report = self.index.sync(corpus) if self.index else SyncReport(0, 0, 0, 0)
        fresh = Assistant(
            self.settings,
            corpus,
            self.rules,
            self.index,
            None if self.composer is self.extractive else self.composer,
        )
        self.__dict__.update(fresh.__dict__)
        return report

    def conversation(self, audience: str = "auto") -> Conversation:
        return Conversation(self, audience)

    # --- answering -----------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        audience: str = "auto",
        history: list[dict] | None = None,
        retrieval: str | None = None,
    ) -> Answer:
        """Answer one question.

        Args:
            question: the user's question (at most 2,000 characters).
            audience: ``"auto"`` (decide from the question), ``"clinician"`` or ``"patient"``.
            history: earlier turns, ``[{"role": "user"|"assistant", "content": str}, ...]``.
            retrieval: override the retrieval mode (``"hybrid"``, ``"dense"``, ``"keyword"``).

        Raises:
            ValueError: empty, overlong, binary or control-character input; malformed history.

        Example:
            >>> Assistant.load().ask("What is the riluzole dose?", audience="clinician")
        """
        question = validate_question(question)
        if audience not in ("auto", "clinician", "patient"):
            raise ValueError("audience must be 'auto', 'clinician' or 'patient'")
        turns = validate_history(history, self.settings.max_history_turns)
        route = self.router.route(question, audience)
        query = self.followups.resolve(route.cleaned or question, turns)
        if query.carried and route.requested == "auto" and route.weak:
            # A follow-up with no audience signal of its own keeps the conversation's audience.
            route = self.router.follow_conversation(
                route, [m["content"] for m in turns if m["role"] == "user"]
            )
        found = self.retriever.search(query.text, self.settings.top_k, retrieval)
        return self._answer(question, route, query, found, turns)

    def ask_stream(self, question: str, audience: str = "auto", history: list[dict] | None = None):
        """Like :meth:`ask`, as events: ``("draft", text)`` while a model writes, then
        ``("final", Answer)``. Drafts are unchecked model text, for a "drafting…" preview only;
        the final answer is the guarded one. Without a streaming composer: just the final event.

        Raises:
            ValueError: as :meth:`ask`, before the first event.
        """
        validate_question(question)
        validate_history(history, self.settings.max_history_turns)
        streaming = getattr(self.composer, "streaming", None)
        if streaming is None:
            yield "final", self.ask(question, audience, history)
            return
        chunks: queue.Queue = queue.Queue()
        result: dict = {}

        def work() -> None:
            try:
                with streaming(chunks.put):
                    result["answer"] = self.ask(question, audience, history)
            except BaseException as exc:  # handed to the caller below
                result["error"] = exc
            finally:
                chunks.put(_END)

        threading.Thread(target=work, daemon=True, name="ask-stream").start()
        text = ""
        while (chunk := chunks.get()) is not _END:
            text += chunk
            yield "draft", text
        if "error" in result:
            raise result["error"]
        yield "final", result["answer"]

    def _answer(
        self, question: str, route: Route, query: SearchQuery, found: Retrieval, turns: list[dict]
    ) -> Answer:
        safety = self.rules.safety
        top: list[str] = []
        status = "answered"
        if route.intent == "emergency":
            status = "emergency"
            top.append(f"**{safety.emergency_message[route.audience]}**")
        scope = self.guard.scope(found, route)
        refusal = None
        if route.intent == "diagnosis":
            refusal = (safety.diagnosis_message, "a request for a personal diagnosis")
        elif route.intent == "outside":
            refusal = (safety.refusal_message, "a request for content outside the guidelines")
        elif not scope.answerable and (route.intent != "self_treatment" or scope.names_outside):
            # A patient asking to change "their pills" gets the labelled dose, unless the
            # medicine they name is one the corpus never mentions.
            refusal = (safety.refusal_message, scope.reason)
        if refusal and status != "emergency":
            return self._refusal(question, route, query, *refusal, found)
        if route.intent == "self_treatment":
            top.append(safety.self_treatment_message)
        # Facts are matched on the query with its spelling corrected ("rilzole dose").
        fact_query = " ".join([query.text, *(fixed for _, fixed in found.corrected)])
        facts = self._wanted_facts(fact_query, route) if not refusal else []
        inp = ComposeInput(question, query, route, found, tuple(facts), tuple(turns))
        draft = Draft((), ()) if refusal else self._compose(inp)
        verified = self.guard.verify(draft, facts, route.audience)
        if draft.composer != "extractive" and not verified.drafted:
            rejected = verified.violations  # what the model got wrong stays visible
            draft = self._extractive_fallback(inp, "the model's draft did not pass the guard")
            verified = self.guard.verify(draft, facts, route.audience)
            verified.violations[:0] = rejected
        if verified.empty and status != "emergency":
            return self._refusal(
                question,
                route,
                query,
                safety.refusal_message,
                "no passage of the guidelines answers this",
                found,
            )
        text, citations = render(verified, route.audience, self.rules, self.glossary, top)
        disclaimer = self.rules.disclaimer_for(route.audience)
        numbering = {id(c.passage): c.n for c in citations}
        return Answer(
            question=question,
            audience=route.audience,
            status=status,
            answer=text,
            citations=citations,
            facts=[
                {
                    "id": f.id,
                    "text": f.text,
                    "doc": f.doc,
                    "kind": f.kind,
                    "n": numbering.get(id(verified.sources[i])),
                }
                for f, i in verified.facts
            ],
            disclaimer=disclaimer.text if disclaimer else "",
            route=route.to_dict(),
            search_query=query.text,
            suggestions=self.suggest(citations, route.audience, question),
            composer=draft.composer,
            fallback_reason=draft.fallback_reason,
            differences=[
                {
                    "quantity": d.quantity,
                    "items": [
                        {
                            "fact": f.id,
                            "text": f.text,
                            "doc": f.doc,
                            "n": numbering.get(id(verified.sources[i])),
                        }
                        for f, i in d.facts
                    ],
                }
                for d in verified.differences
            ],
            guard=self._guard_report(verified, route, query, found),
            retrieved=_retrieved(found),
        )

    def _compose(self, inp: ComposeInput) -> Draft:
        try:
            return self.composer.compose(inp)
        except Exception as exc:  # a model backend failing must not take the answer down
            if self.composer is self.extractive:
                raise
            log.warning("composer failed, using the extractive answer: %s", exc)
            reason = (
                str(exc)
                if isinstance(exc, TimeoutError) and str(exc)
                else f"the language model was unavailable ({type(exc).__name__})"
            )
            return self._extractive_fallback(inp, reason)

    def _extractive_fallback(self, inp: ComposeInput, reason: str) -> Draft:
        """The extractive draft, labelled with why the configured composer was not used."""
        draft = self.extractive.compose(inp)
        return Draft(draft.sentences, draft.sources, "extractive", draft.differences, reason)

    def _wanted_facts(self, query: str, route: Route) -> list:
        facts = self.factbook.relevant(query)
        quantities = {f.quantity for f in facts if f.quantity}
        for f in self.rules.facts:
            if f.quantity in quantities and f not in facts and f.id in self.factbook.located:
                facts.append(f)
        if route.intent == "self_treatment":
            facts += [f for f in self.factbook.of_kind("dose") if f not in facts]
        if route.audience == "patient":
            facts = self._few_for_patients(self._one_per_agreeing_quantity(facts))
        return facts

    def _few_for_patients(self, facts: list, limit: int = PATIENT_MAX_FACTS) -> list:
        """At most a few figures for a patient, patient sources first; a figure another source
        disputes keeps its counterpart, so a disagreement is still shown side by side."""
        ranked = sorted(
            facts, key=lambda f: self.corpus.documents[f.doc].meta.audience != "patient"
        )
        kept = ranked[:limit]
        kept += [
            f for f in ranked[limit:] if f.quantity and any(k.quantity == f.quantity for k in kept)
        ]
        return kept

    def _one_per_agreeing_quantity(self, facts: list) -> list:
        """For patients, sources that agree on a figure are quoted once (a patient source first);
        sources that disagree are all kept, side by side."""
        out: list = []
        for f in sorted(
            facts, key=lambda f: self.corpus.documents[f.doc].meta.audience != "patient"
        ):
            same = [
                g
                for g in out
                if f.quantity and g.quantity == f.quantity and numbers(g.text) == numbers(f.text)
            ]
            if not same:
                out.append(f)
        return [f for f in facts if f in out]

    def _guard_report(
        self, v: Verified, route: Route, query: SearchQuery, found: Retrieval
    ) -> dict:
        return {
            "notes": v.notes
            + (["instructions inside the question were ignored"] if route.injections else []),
            "violations": v.violations,
            "follow_up": query.reason,
            "spelling": [f"{a} → {b}" for a, b in found.corrected],
            "best_similarity": round(found.best_similarity, 3),
        }

    def _refusal(
        self,
        question: str,
        route: Route,
        query: SearchQuery,
        message: str,
        reason: str,
        found: Retrieval | None = None,
    ) -> Answer:
        examples = "\n".join(f"- {e}" for e in self.rules.safety.refusal_examples)
        disclaimer = self.rules.disclaimer_for(route.audience)
        return Answer(
            question=question,
            audience=route.audience,
            status="refused",
            answer=f"{message}\n\nYou can ask, for example:\n{examples}",
            disclaimer=disclaimer.text if disclaimer else "",
            route=route.to_dict(),
            search_query=query.text,
            suggestions=list(self.rules.safety.refusal_examples[:3]),
            reason=reason,
            retrieved=_retrieved(found) if found else [],
            guard={
                "notes": ["instructions inside the question were ignored"]
                if route.injections
                else [],
                "violations": [],
                "follow_up": query.reason,
                "spelling": [],
                "best_similarity": None,
            },
        )

    def suggest(self, citations, audience: str, question: str) -> list[str]:
        """Two or three questions the corpus answers, from sections next to the evidence used."""
        if not citations:
            return []
        asked = set(tokens(question))
        out: list[str] = []
        for c in citations[:2]:
            doc = self.corpus.documents[c.passage.doc_id]
            sections = list(
                dict.fromkeys(doc.headings + [(t,) for t in doc.meta.untitled_sections])
            )
            here = c.passage.section
            k = sections.index(here) if here in sections else -1
            for nb in sections[k + 1 : k + 4] + sections[max(k - 2, 0) : max(k, 0)]:
                heading = nb[-1]
                if (
                    heading in here
                    or heading == doc.meta.title
                    or re.match(r"(From the|References|Professional Medical Disclaimer)", heading)
                ):
                    continue
                q = self._question_for(heading, audience)
                if set(tokens(heading)) <= asked or q in out:
                    continue
                if self._finds_section(q, doc.id, heading):
                    out.append(q)
                if len(out) == 3:
                    return out
        return out

    @lru_cache(maxsize=1024)  # noqa: B019 - per assistant, bounded; answers are deterministic
    def _finds_section(self, question: str, doc_id: str, heading: str) -> bool:
        """Does asking ``question`` retrieve the section it is about? (A suggestion must be
        answerable.)"""
        hits = self.retriever.search(question, 3).hits
        return any(h.passage.doc_id == doc_id and heading in h.passage.section for h in hits)

    @staticmethod
    def _question_for(heading: str, audience: str) -> str:
        if heading.endswith("?"):
            return heading
        topic = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in heading.split())
        if audience == "patient":
            return f"What should I know about {topic}?"
        return f"What do the sources say about {topic}?"
