"""The pipeline: question → route → retrieve → compose → guard → Answer; where stages meet."""

from __future__ import annotations

import contextlib
import logging

from .answer import Answer, Assembler, DraftStats, Turn
from .asking import Asking
from .aspects import Aspects
from .clauses import asked_part, requests
from .compose import (
    ComposeInput,
    Draft,
    ExtractiveComposer,
    compose_or_fall_back,
    extractive_fallback,
)
from .config import Settings
from .conversation import FollowUpResolver, SearchQuery
from .corpus import Corpus
from .derived import derive
from .exemplars import Exemplars
from .facts import FactBook, disagreements
from .guard import Guard
from .index import SyncReport, VectorIndex
from .inputs import MAX_QUESTION_CHARS, validate_history, validate_question  # noqa: F401
from .prepared import Prepared, PreparedStore
from .register import Register
from .render import Glossary
from .repair import repair
from .retrieve import HybridRetriever, KeywordIndex, Retrieval
from .route import Route, Router
from .rules import Rules
from .safety import unquoted
from .scope import Scope
from .sentences import SentenceVectors, sync_sentences
from .session import Conversation, Stopwatch, stream
from .suggest import Suggestions, prepare_suggestions
from .vocabulary import Vocabulary, english_words

log = logging.getLogger(__name__)


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
        prepared: Prepared | None = None,
    ):
        """``prepared``: what an earlier start derived from this corpus (and, if in sync, its
        sentence vectors); what is missing is built."""
        self.settings = settings
        self.corpus = corpus
        self.rules = rules
        self.index = index
        tuning = rules.tuning
        self.derived = derive(corpus, rules, prepared.derived if prepared else None)
        self.trust, self.structure = self.derived.trust, self.derived.structure
        tables = self.derived.tables
        self.factbook = FactBook(rules, corpus, tuning.patient.max_facts, tables.conflict_sites)
        for conflict in self.factbook.conflicts:
            log.warning("conflicting figure: %s", conflict.message())
        self.glossary = Glossary(rules.glossary)
        english = english_words() if index is not None else {}
        self.vocabulary = v = Vocabulary.build(rules, english, corpus_words=tables.corpus_words)
        keyword = KeywordIndex(
            corpus.passages,
            v.synonyms,
            frozenset(v.english),
            v.hints,
            tuning.retrieval.ubiquitous_share,
            saved=self._beside_index("keyword"),
            stamp=tables.keyword_stamp,
        )
        self.retriever = HybridRetriever(
            corpus, index, keyword, settings.retrieval, tuning.retrieval
        )
        self.followups = FollowUpResolver(rules, corpus, v.expand)
        if self.trust.untrusted_docs:
            log.warning(
                "documents that address the assistant are never quoted: %s",
                ", ".join(sorted(self.trust.untrusted_docs)),
            )
        defined = self.structure.abbreviations
        examples = Exemplars.load(
            rules.folder,
            index.query_embed if index is not None else None,
            tuning.routing.example_k,
            self._beside_index("prepared"),
        )
        register = Register.build(corpus.passages, rules, v.english, defined, tables.register)
        self.router = Router(rules, register, examples, v.expand)
        terms = tuple(defined.values())
        aspects = Aspects.load(rules.folder)
        scoping = Scope(
            rules, v, corpus.passages, terms, tables.sections, tables.collocations, aspects
        )
        self.guard = Guard(rules, self.factbook, self.trust, scoping)
        self.assembler = Assembler(rules, self.glossary)
        vectors = prepared.vectors if prepared and prepared.vectors is not None else None
        self.extractive = ExtractiveComposer(
            tuning,
            self.glossary.plain,
            self.structure,
            vectors if vectors is not None else SentenceVectors.load(index, self.structure),
            aspects,
            (rules.safety.patient_lead, rules.safety.care_team_line),
        )
        self.composer = composer or self.extractive
        self.asking = Asking(
            self.extractive.aspects,
            self.structure.df,
            self.retriever.terms_of,
            self.followups.pointed_in_story,
        )
        self.suggestions = self._suggestions()

    def _beside_index(self, name: str):
        """Where prepared structure is kept: beside an embedded index (a server has no folder)."""
        if self.index is None or self.settings.chroma_host:
            return None
        return self.settings.index_dir / name

    def _suggestions(self) -> Suggestions:
        """Follow-up questions prepared once (kept beside an embedded index)."""
        return prepare_suggestions(
            self.corpus,
            self.rules.folder,
            self.retriever.search,
            self.glossary.plain,
            self._beside_index("suggestions.json"),
            self.settings.retrieval,
            self.index is not None,
        )

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        ingest: bool = True,
        composer=None,
        embedder=None,
        **overrides,
    ) -> Assistant:
        """Load corpus, rules and index, ready to answer.

        Args:
            settings: a :class:`Settings`; by default read from ``ASSISTANT_*`` variables.
            ingest: bring the index in line with the corpus first (embeds only new passages).
            composer: a composer object; by default chosen by ``settings.composer``.
            embedder: texts -> unit vectors; by default the packaged MiniLM model (tests pass a
                deterministic fake).
            **overrides: fields of :class:`Settings`, e.g. ``index_dir=...``.

        Example:
            >>> bot = Assistant.load(index_dir="/tmp/index")
        """
        if settings is None:
            settings = Settings.from_env(**overrides)
        elif overrides:
            settings = Settings.model_validate({**settings.model_dump(), **overrides})
        store = None
        if not settings.chroma_host:
            store = PreparedStore(settings.index_dir, settings.corpus_dir, settings.rules_dir)
        prepared = store.read() if store else None
        corpus = prepared.corpus if prepared else Corpus.load(settings.corpus_dir)
        rules = Rules.load(settings.rules_dir)
        rules.check_against(corpus.texts())
        index = VectorIndex(settings, embedder)
        in_sync = prepared is not None and store.in_sync()
        if in_sync:
            prepared.vectors = store.vectors()
        if composer is None and settings.composer != "extractive":
            from .llm import LLMComposer

            composer = LLMComposer.from_settings(settings, rules)
        sync = ingest and not in_sync
        # A sync, the sentence vectors and the record that they match are one write.
        with index.writing() if sync else contextlib.nullcontext():
            if sync:
                index.sync(corpus)
            bot = cls(settings, corpus, rules, index, composer, prepared)
            if store and prepared is None:
                store.save(Prepared(corpus, bot.derived))
            if sync:
                bot.sync_sentences()
                if store:
                    store.record_sync(bot.extractive.vectors)
        return bot

    def sync_sentences(self) -> int:
        """Embed the sentences (in context) the index lacks, and use them; returns how many."""
        if self.index is None:
            return 0
        added = sync_sentences(self.index, self.structure)
        if added:
            self.extractive.vectors = SentenceVectors.load(self.index, self.structure)
        return added

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
        self.sync_sentences()
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
        clock = Stopwatch()
        question = validate_question(question)
        if audience not in ("auto", "clinician", "patient"):
            raise ValueError("audience must be 'auto', 'clinician' or 'patient'")
        turns = validate_history(history, self.settings.max_history_turns)
        route = self.router.route(question, audience)
        said = route.cleaned or unquoted(question)  # the question, without what it wants said
        asked = self.vocabulary.expand(said)
        query = self.followups.resolve(asked, turns)
        found = None
        dense = (retrieval or self.settings.retrieval) != "keyword" and self.index is not None
        if (
            turns
            and dense
            and not query.sections
            and all(c in self.followups.general for c in query.carried)
            and not (self.followups.subjects_in(asked))
        ):
            # A question naming no subject that the corpus matches nothing closely on its own
            # asks about the conversation's ("what kind, and is there a limit?"), and about
            # more than the disease alone ("so should my kids be worried too?" after "Is ALS
            # hereditary?").
            found = self.retriever.search(query.text, self.settings.top_k, retrieval)
            if found.best_similarity < self.rules.tuning.scope.confident_similarity:
                vague = self.followups.resolve(asked, turns, vague=True)
                if vague.carried or vague.sections:
                    query, found = vague, None
        query = self._model_rewrite(said, turns, query)
        if query.carried and route.requested == "auto" and self.router.open_to_conversation(route):
            # A follow-up with no audience signal of its own keeps the conversation's audience.
            route = self.router.follow_conversation(
                route, [m["content"] for m in turns if m["role"] == "user"]
            )
        clock.lap("route")
        if found is None or query.sections or found.query != query.text:
            found = self.retriever.search(
                query.text, self.settings.top_k, retrieval, query.sections
            )
        clock.lap("retrieve")
        answer = self._answer(question, route, query, found, turns, clock)
        clock.lap("assemble")
        answer.timings = clock.result()
        return answer

    def _model_rewrite(self, asked: str, turns: list[dict], query: SearchQuery) -> SearchQuery:
        """A follow-up rewritten by the composer's model, when it offers one."""
        model = getattr(self.composer, "rewriter", None)
        if model is None or not turns:
            return query
        return self.followups.rewritten(
            asked, turns, query, model, self.vocabulary.expand, self.settings.llm_timeout
        )

    def ask_stream(self, question: str, audience: str = "auto", history: list[dict] | None = None):
        """Like :meth:`ask`, as events: ``("draft", text)`` while a model writes, then
        ``("final", Answer)`` (see :func:`assistant.session.stream`)."""
        return stream(self, question, audience, history)

    def _answer(
        self,
        question: str,
        route: Route,
        query: SearchQuery,
        found: Retrieval,
        turns: list[dict],
        clock: Stopwatch,
    ) -> Answer:
        """Decide scope, compose, guard, repair and assemble: the stages in order."""
        safety = self.rules.safety
        part = self.asking.part(query.original)
        asked = None if part is None else self.asking.terms_of(part)  # what Asking.terms reads
        # What is asked, beside a story (a follow-up's carried subject is context it keeps).
        share = 0.0 if query.carried else self.rules.tuning.compose.asking_meaning(route.audience)
        found = self.retriever.asking(found, part, share)
        turn = Turn(question, route, query, found)
        top: list[str] = []
        status = "answered"
        if route.intent == "emergency":
            status = "emergency"
            top.append(f"**{safety.emergency_message[route.audience]}**")
        facts = self._facts(
            query, found, route, self.asking.asks_aspect(asked_part(query.original))
        )
        refusal, unaddressed = self.guard.judge(found, route, facts)
        clock.lap("guard")
        if refusal and status != "emergency":
            return self.assembler.refusal(turn, *refusal)
        if route.intent == "self_treatment":
            top.append(safety.self_treatment_message)
        if status == "emergency":
            unaddressed = None  # the emergency advice comes first and alone above the answer
        if unaddressed:
            top.append(safety.unaddressed_line.format(gap=unaddressed))
        # An emergency that asks nothing ("I want to hurt myself. I can't cope.") gets the
        # emergency advice alone: no guideline lines picked from its incidental words.
        silent = status == "emergency" and not requests(route.cleaned or question)
        facts = () if refusal or silent else facts
        inp = ComposeInput(
            question,
            query,
            route,
            found,
            facts,
            tuple(turns),
            self.trust.untrusted_docs,
            self.retriever.terms_of(query.original) if query.carried else None,
            disagreements(facts),
            asked,
            self.asking.each(query.original),
        )
        draft = (
            Draft((), ())
            if refusal or silent
            else compose_or_fall_back(self.composer, self.extractive, inp)
        )
        verified = self._check(draft, facts, clock)
        n = len(draft.sentences)
        kept = verified.drafted
        stats = DraftStats(kept, n - kept, len(verified.sentences) - kept)
        if draft.fallback_reason:  # the model failed: nothing of it was used
            stats = DraftStats(replaced=True)
        elif draft.composer != "extractive" and not verified.drafted:
            rejected = verified.violations  # what the model got wrong stays visible
            stats = DraftStats(dropped=n, replaced=True)
            draft = extractive_fallback(
                self.extractive, inp, "the model's draft did not pass the guard"
            )
            verified = self._check(draft, facts, clock)
            verified.violations[:0] = rejected
        if verified.empty and status != "emergency":
            return self.assembler.refusal(
                turn, safety.refusal_message, "no passage of the guidelines answers this"
            )
        answer = self.assembler.answer(
            turn,
            status,
            verified,
            top,
            draft.composer,
            draft.fallback_reason,
            lambda cited: self.suggestions.for_answer(cited, route.audience, question),
        )
        answer.draft = stats
        answer.unaddressed = unaddressed
        return answer

    def _check(self, draft: Draft, facts: tuple, clock: Stopwatch):
        """Guard, then repair, the draft (the time until now was composing)."""
        clock.lap("compose")
        checked = self.guard.verify(draft)
        clock.lap("guard")
        verified = repair(checked, facts, draft.differences, self.factbook)
        clock.lap("repair")
        return verified

    def _facts(
        self, query: SearchQuery, found: Retrieval, route: Route, by_asking: bool = False
    ) -> tuple:
        """The trusted threshold facts the answer must quote (:meth:`FactBook.for_question`)."""
        wanted = self.factbook.for_question(
            query.original,
            query.text,
            [fixed for _, fixed in found.corrected],
            route.audience,
            self_treatment=route.intent == "self_treatment",
            by_asking=by_asking,
        )
        return tuple(loc for loc in wanted if not self.guard.untrusted(loc.passage))
