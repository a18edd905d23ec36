"""Follow-up questions, conversation isolation, bounded history and prepared suggestions.

The follow-ups of particular corpus answers ("And what's its dose?" after the FDA-approved
drug) are evaluation cases (``evals/conversations.yaml``); here the resolver and the pipeline's
handling of history run on histories written in the test and on ``fake_bot``.
"""

from __future__ import annotations

import threading

import pytest

from assistant.conversation import FollowUpResolver, validate_history
from assistant.rules import Rules


def _turns(*pairs):
    out = []
    for q, a in pairs:
        out += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return out


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load()


@pytest.fixture(scope="module")
def resolver(rules) -> FollowUpResolver:
    return FollowUpResolver(rules)


# --- the resolver -----------------------------------------------------------------------------


def test_no_history_means_a_standalone_question(resolver):
    out = resolver.resolve("And what's its dose?", [])
    assert out.text == out.original == "And what's its dose?" and out.carried == ()


def test_greeting_is_not_rewritten_into_the_old_topic(resolver):
    history = _turns(("What is the riluzole dose?", "Riluzole 50 mg twice daily …"))
    assert resolver.resolve("hi", history).text == "hi"
    assert resolver.resolve("thanks!", history).text == "thanks!"


def test_hospice_is_its_own_subject_not_palliative_care(resolver):
    """Hospice (for the last months of life) is carried as itself: the sources say when it is
    the right step, and palliative care is something else that starts at diagnosis."""
    history = _turns(("My father keeps getting weaker. A friend said to look into hospice.", "…"))
    out = resolver.resolve("when is that the right step?", history)
    assert out.carried and "hospice" in out.text.lower() and "palliative" not in out.text.lower()


@pytest.mark.parametrize(
    ("follow_up", "words"),
    [
        ("what tests can check that?", True),  # "that": the turn's worry, choking
        ("is that normal?", True),
        ("does the medicine cure it?", False),  # "it": the disease the turn names
        ("what tests can check that medicine?", False),  # "that" before a noun is no pointer
    ],
)
def test_a_demonstrative_carries_the_words_of_a_turn_that_names_only_the_disease(
    resolver, follow_up, words
):
    history = _turns(("I'm so worried about my husband choking since his ALS got worse.", "…"))
    out = resolver.resolve(follow_up, history)
    assert ("choking" in out.carried) is words, out


def test_a_vague_question_asks_about_the_conversations_subject(resolver):
    history = _turns(("How should sialorrhea be managed?", "First-line: anticholinergic …"))
    q = "which technique is preferred?"
    assert resolver.resolve(q, history).carried == ()  # no pronoun, no attribute of its own
    vague = resolver.resolve(q, history, vague=True)
    assert vague.carried and "sialorrhea" in vague.text.lower()
    assert "no subject of its own" in vague.reason
    # greetings and thanks ask nothing, and a question naming a subject keeps it
    for said in ("thanks!", "ok great", "When should a gastrostomy be placed?"):
        assert resolver.resolve(said, history, vague=True).carried == ()


@pytest.mark.integration
def test_only_a_question_the_corpus_cannot_match_alone_is_read_as_a_follow_up(bot):
    history = _turns(("How should sialorrhea be managed?", "First-line: anticholinergic …"))
    vague = bot.ask("which technique is preferred?", history=history).to_dict()
    assert "sialorrhea" in vague["search_query"].lower()
    standalone = bot.ask("What causes ALS?", history=history).to_dict()
    assert standalone["search_query"] == "What causes ALS?"
    # a follow-up that carries only the disease asks what the earlier turn asked of it
    history = _turns(("Is ALS hereditary? My grandfather had it.", "Having a family member …"))
    kids = bot.ask("so should my kids be worried too?", history=history).to_dict()
    assert kids["status"] == "answered" and "hereditary" in kids["search_query"]
    assert "familial" in kids["answer"] or "family member" in kids["answer"]


def test_a_pronoun_a_verb_allows_only_a_drug_points_to_the_drug_named_turns_back(resolver):
    history = _turns(
        ("My dad was started on riluzole for his ALS.", "Riluzole 50 mg …"),
        ("He finds it harder to swallow and eats slowly.", "For patients with dysphagia …"),
    )
    took = resolver.resolve("so can he take it with his dinner?", history)
    assert took.carried == ("riluzole",)
    # an idiom points to no drug, and "them" to every drug the turn named
    history = _turns(
        ("He takes riluzole and edaravone.", "Riluzole 50 mg …"),
        ("He just had the PEG placed.", "Place PEG before …"),
    )
    easy = resolver.resolve("Should he take it easy for a few days?", history).carried
    assert easy and "riluzole" not in easy
    both = resolver.resolve("can he take them together?", history[:2]).carried
    assert both == ("riluzole", "edaravone")


def test_a_kind_named_as_one_told_of_points_to_that_kind_turns_back(resolver):
    """ "the first drug" after a drug, then a tube: the drug, from the earliest turn naming
    one; "that medicine" from the latest."""
    history = _turns(
        ("what dose of riluzole is usual for ALS?", "Riluzole 50 mg …"),
        ("and edaravone, who is it for?", "Edaravone …"),
        ("when do they put in a feeding tube?", "Place PEG before …"),
    )
    first = resolver.resolve("ok going back to the first drug - when do you stop it?", history)
    assert first.carried == ("riluzole",)
    latest = resolver.resolve("how long does he stay on that medicine?", history)
    assert latest.carried == ("edaravone",)
    # "first" that is not said of the drug ("first thing in the morning") names no turn
    morning = resolver.resolve("Can he take that medicine first thing in the morning?", history)
    assert morning.carried == ("edaravone",)
    # a person's medication beside a pronoun, and a study, keep the conversation's subject
    drool = _turns(("My dad is on riluzole.", "…"), ("He drools a lot now, what helps?", "…"))
    assert resolver.resolve("Could his medication be causing it?", drool).carried == ("sialorrhea",)
    trial = _turns(("What does an EMG show?", "…"), ("Tell me about the AMX0035 trial", "…"))
    assert resolver.resolve("How many were in that study?", trial).carried == ("AMX0035",)


def test_which_one_chooses_among_what_the_last_turn_named(resolver):
    """ "which one is more common?" after a question naming two onsets carries its words, not
    the disease alone; one asking something of its own ("what causes it?") carries no more."""
    history = _turns(("What's the difference between bulbar onset and limb onset ALS?", "…"))
    which = resolver.resolve("which one is more common?", history).text
    assert "bulbar" in which and "limb" in which
    own = resolver.resolve("what causes it?", history).text
    assert "bulbar" not in own


def test_topic_switch_is_not_polluted(resolver):
    history = _turns(("What is the riluzole dose?", "Riluzole 50 mg twice daily …"))
    q = "When should a gastrostomy be placed?"
    out = resolver.resolve(q, history)
    assert out.text == q and out.reason == "standalone question"


@pytest.mark.parametrize(
    "first,question,carried",
    [
        ("What is riluzole used for?", "side effects?", "riluzole"),
        ("What is botulinum toxin used for?", "Is it used for drooling?", "botulinum toxin"),
        ("What is riluzole used for?", "how is it monitored?", "riluzole"),
        ("What is riluzole?", "And what's its dose?", "riluzole"),
        (
            "When should NIV be started in ALS?",
            "What about for bulbar weakness?",
            "non-invasive ventilation",
        ),
        # a symptom named as a verb ("drools") is named all the same
        (
            "My dad has ALS and drools constantly. What can help him?",
            "what if the medicine doesn't help him?",
            "sialorrhea",
        ),
    ],
)
def test_bare_attributes_pronouns_and_ellipsis_carry_the_subject(
    resolver, first, question, carried
):
    out = resolver.resolve(question, _turns((first, "…")))
    assert carried in out.carried and out.text == f"{question} {' '.join(out.carried)}"
    assert out.original == question and "follow-up" in out.reason


def test_the_subject_of_the_answer_is_carried_when_the_user_named_only_a_kind(resolver):
    q1 = "Which drug is FDA-approved to extend survival in ALS?"
    answer = "Riluzole is the only drug proven to extend survival."
    out = resolver.resolve("And what's its dose?", _turns((q1, answer)))
    assert out.carried == ("riluzole",)


def test_a_new_subject_replaces_the_old_one_of_its_kind(resolver):
    history = _turns(("At what FVC should NIV be started?", "…"))
    out = resolver.resolve("And for gastrostomy?", history)
    assert "FVC" in out.carried and "non-invasive ventilation" not in out.carried
    history = _turns(("What is the riluzole dose?", "…"))
    out = resolver.resolve("What about edaravone?", history)
    assert "riluzole" not in out.text and "dose" in out.carried


def test_a_declined_turn_gives_no_subject(resolver, rules):
    refused = f"{rules.safety.refusal_message}\n\nYou can ask, for example: …"
    history = _turns(("Which drug treats migraine best?", refused))
    assert resolver.resolve("What is its dose?", history).carried == ()


def test_a_question_naming_nothing_carries_what_the_last_turn_asked_about(resolver):
    history = [
        {"role": "user", "content": "Is enteral or parenteral nutrition preferred in ALS?"},
        {"role": "assistant", "content": "..."},
    ]
    q = resolver.resolve("why?", history)
    assert q.original == "why?" and "enteral" in q.text and "parenteral" in q.text
    for pleasantry in ("thanks!", "ok"):
        assert resolver.resolve(pleasantry, history).text == pleasantry


def test_the_latest_subject_wins(resolver):
    history = _turns(("What is riluzole?", "…"), ("What is botulinum toxin used for?", "…"))
    assert resolver.resolve("side effects?", history).carried == ("botulinum toxin",)


@pytest.mark.parametrize("turns", [0, 1, 3])
def test_history_is_validated_and_bounded(turns):
    history = _turns(*[(f"q{k}", f"a{k}") for k in range(5)])
    kept = validate_history(history, turns)
    assert len(kept) == 2 * turns and kept == (history[-2 * turns :] if turns else [])


# --- through the pipeline ---------------------------------------------------------------------


def test_a_follow_up_searches_with_the_carried_subject_and_quotes_its_facts(fake_bot):
    history = _turns(("What is riluzole?", "…"))
    d = fake_bot.ask("And what's its dose?", history=history).to_dict()
    assert d["search_query"] == "And what's its dose? riluzole"
    assert "follow-up" in d["guard"]["follow_up"]
    wanted = fake_bot.factbook.wanted(d["search_query"], d["audience"])
    assert wanted and all(f"“{loc.fact.text}”" in d["answer"] for loc in wanted)


def test_a_follow_up_keeps_the_conversations_audience(fake_bot):
    q1 = "What is the FVC cut-off for PEG placement?"  # clinician words
    alone = fake_bot.ask("When is it too late to place one?")
    assert alone.audience == "patient"  # no signal of its own: the weak default
    after = fake_bot.ask("When is it too late to place one?", history=_turns((q1, "…")))
    assert after.audience == "clinician" and "follow-up" in after.route["reason"]


def test_a_subject_spelled_as_shorthand_or_british_is_carried(fake_bot):
    history = _turns(("What's first-line treatment for sialorrhoea in ALS?", "…"))
    d = fake_bot.ask("and if that doesn't work?", history=history).to_dict()
    assert "sialorrhea" in d["search_query"]


def test_a_follow_up_asking_its_own_aspect_drops_the_earlier_aspect_from_its_topic(fake_bot):
    """ "and when do I stop it?" after "What lab monitoring does it need?" asks when to stop
    riluzole: the stopping rules of the riluzole section answer, not lines about monitoring."""
    from assistant.evidence import Evidence

    history = _turns(("Is riluzole first choice in ALS?", "…"), ("What lab monitoring?", "…"))
    query = fake_bot.followups.resolve("and when do I stop it?", history)
    assert "monitoring" in query.text  # carried, as the earlier turn asked it
    c = fake_bot.extractive
    evidence = Evidence(c.tuning, c.structure, c.aspects, c.plain)
    found = fake_bot.retriever.search(query.text, 5)
    q = evidence.question(query.original, found, fake_bot.retriever.terms_of(query.original))
    assert "discontinuation" in q.asked and "monitor" not in q.topic and "riluzole" in q.topic


def test_a_follow_ups_pronouns_are_no_audience_of_their_own(fake_bot):
    """ "we" in a follow-up speaks of the conversation's people (a care team or a family)."""
    q1 = "What is the FVC cut-off for PEG placement?"  # clinician words
    alone = fake_bot.ask("When do we stop it?")
    assert alone.audience == "patient" and not alone.route.get("weak", False)
    after = fake_bot.ask("When do we stop it?", history=_turns((q1, "…")))
    assert after.audience == "clinician" and "follow-up" in after.route["reason"]
    family = fake_bot.ask("When do we stop it?", history=_turns(("My mom has ALS.", "…")))
    assert family.audience == "patient"
    # the asker's role is their own signal, conversation or not
    role = fake_bot.ask("As a neurologist, when do we stop it?", history=_turns(("My mom?", "…")))
    assert role.audience == "clinician"


def test_an_explicit_audience_beats_the_conversations(fake_bot):
    q1 = "What is the FVC cut-off for PEG placement?"
    d = fake_bot.ask("When is it too late?", "patient", _turns((q1, "…")))
    assert d.audience == "patient"


def test_standalone_question_after_history_is_answered_exactly_as_without(fake_bot):
    history = _turns(
        ("What is the riluzole dose?", "…"),
        ("When should NIV start?", "…"),
        ("What about PEG?", "…"),
        ("And side effects?", "…"),
    )
    for q in [
        "What are the first signs of ALS?",
        "How is ALS diagnosed?",
        "What is the prevalence of ALS?",
    ]:
        alone = fake_bot.ask(q).to_dict()
        after = fake_bot.ask(q, history=history).to_dict()
        assert after["search_query"] == q
        assert after["answer"] == alone["answer"] and after["citations"] == alone["citations"]


def test_history_is_bounded(fake_bot):
    conv = fake_bot.conversation()
    for k in range(10):
        conv.ask(f"What is riluzole? ({k})")
    assert len(conv.history) == 2 * fake_bot.settings.max_history_turns
    assert conv.history[-2]["content"] == "What is riluzole? (9)"


def test_two_conversations_never_see_each_others_turns(fake_bot):
    a, b = fake_bot.conversation(), fake_bot.conversation()
    results = {}

    def run(name, conv, q1, q2):
        for _ in range(3):
            conv.ask(q1)
            results[name] = conv.ask(q2)

    t1 = threading.Thread(target=run, args=("a", a, "What is riluzole?", "And what's its dose?"))
    t2 = threading.Thread(
        target=run, args=("b", b, "What is botulinum toxin used for?", "side effects?")
    )
    t1.start(), t2.start()
    t1.join(), t2.join()
    assert {m["content"] for m in a.history if m["role"] == "user"} == {
        "What is riluzole?",
        "And what's its dose?",
    }
    assert "botulinum" not in results["a"].search_query
    assert "riluzole" in results["a"].search_query
    assert "riluzole" not in results["b"].search_query
    assert "botulinum" in results["b"].search_query


# --- suggestions: prepared once, never searched per answer ------------------------------------


class CountingSearch:
    def __init__(self, search):
        self.search = search
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.search(*args, **kwargs)


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_suggestions_come_from_the_prepared_table_without_searching(
    fake_bot, monkeypatch, audience
):
    counting = CountingSearch(fake_bot.retriever.search)
    monkeypatch.setattr(fake_bot.retriever, "search", counting)
    q = "What is the recommended riluzole dose?"
    d = fake_bot.ask(q, audience=audience).to_dict()
    assert counting.calls == 1  # the question's own search, nothing for the suggestions
    assert 2 <= len(d["suggestions"]) <= 3
    table = fake_bot.suggestions
    prepared = {
        c.question
        for cite in d["citations"][:2]
        for c in table.table[table._key(cite["doc"], audience, tuple(cite["section"].split(" › ")))]
    }
    assert set(d["suggestions"]) <= prepared
    assert all(s.endswith("?") for s in d["suggestions"]) and q not in d["suggestions"]


def test_suggestions_are_built_once_and_kept_beside_the_index(fake_bot, fake_embedder):
    from assistant import Assistant

    saved = fake_bot.settings.index_dir / "suggestions.json"
    assert saved.is_file()
    again = Assistant.load(index_dir=fake_bot.settings.index_dir, embedder=fake_embedder)
    counting = CountingSearch(again.retriever.search)
    again.retriever.search = counting
    assert again._suggestions().raw == fake_bot.suggestions.raw
    assert counting.calls == 0  # read back, not checked again


def test_prepared_suggestions_retrieve_their_section(fake_bot):
    """Every prepared suggestion was checked at load: asking it retrieves its section."""
    checked = 0
    for key, row in list(fake_bot.suggestions.table.items())[:40]:
        doc_id = key.split("\x1f")[0]
        for c in row:
            hits = fake_bot.retriever.search(c.question, 3).hits
            assert any(h.passage.doc_id == doc_id and c.heading in h.passage.section for h in hits)
            checked += 1
    assert checked


@pytest.mark.integration
def test_suggestions_are_questions_the_corpus_answers(bot):
    d = bot.ask("What is the recommended riluzole dose?", audience="clinician").to_dict()
    assert 2 <= len(d["suggestions"]) <= 3
    for s in d["suggestions"]:
        assert s.endswith("?")
        assert bot.ask(s).status == "answered", s


def test_a_story_dated_last_month_is_no_question_about_hospice(fake_bot):
    assert "hospice" not in fake_bot.retriever.terms_of("My husband was diagnosed last month.")
    assert "hospice" in fake_bot.retriever.terms_of("What happens in the last months of life?")


@pytest.mark.parametrize(
    ("question", "pointed"),
    [
        # a pronoun in the asking sentences points to the story's drug, test or procedure
        (
            "I look after a lady who was put on riluzole. What bloods should I do, and when "
            "would I take her off it?",
            ("riluzole",),
        ),
        # ... named in the story's words, not the subject's canonical name
        ("Mum was prescribed Rilutek. Do I give it with breakfast?", ("Rilutek",)),
        # a pronoun no drug verb governs may point to anything the story tells (the fever)
        ("My dad takes riluzole and now he has a fever. Is it dangerous?", ()),
        ("They want my father to have a spinal tap. What does that involve?", ()),
        # a category word with a determiner points back too ("the medicine": the story's drug)
        (
            "Dad has been on riluzole for months. Should we be worried about the medicine?",
            ("riluzole",),
        ),
        # ... but one asked about as a class does not ("what tests", "one test for it")
        ("They mentioned a spinal tap. What tests will they do to find out?", ()),
        ("He needs a spinal tap and an MRI. Why so many tests? Is there one test for it?", ()),
        # asking sentences that name a subject of their own point to none of the story's
        ("He takes riluzole. Is edaravone better than it?", ()),
    ],
)
def test_asking_sentences_point_back_to_the_storys_subject(resolver, question, pointed):
    from assistant.clauses import told_and_asked

    told, asked = told_and_asked(question)
    assert resolver.pointed_in_story(told, asked) == pointed
