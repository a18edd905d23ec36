"""Evidence by the document's structure and meaning: a tiny hand-built corpus, a fake embedder.

No real model is loaded. The one test that uses a real (temporary) Chroma folder is marked
``integration``.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.aspects import Aspects
from assistant.compose import ComposeInput, ExtractiveComposer
from assistant.conversation import SearchQuery
from assistant.corpus import Corpus, DocMeta, parse_document
from assistant.datafile import load_yaml
from assistant.evidence import Candidate, Evidence
from assistant.lists import _RANKED
from assistant.render import Glossary
from assistant.retrieve import HybridRetriever, KeywordIndex
from assistant.route import Route
from assistant.rules import RULES_DIR, GlossaryEntry, Rules
from assistant.selection import Selector
from assistant.sentences import SentenceVectors
from assistant.structure import Structure, defined_abbreviations
from assistant.text import content_tokens, said_tokens, tokens
from assistant.tuning import Tuning

GUIDE = """Guideline summary of a motor disease

Clinical Presentation

Bulbar onset (one-third of cases):

  • Sialorrhea (excessive drooling) due to impaired swallowing
  • Nasal regurgitation

Dysphagia Evaluation

All patients with bulbar symptoms need swallow screening.

  • Videofluoroscopy (VFS) should be performed at diagnosis
  • VFS detects oral stasis, piecemeal swallowing, and silent aspirations

Symptomatic Treatment

Sialorrhea management:

  • First-line: inexpensive oral anticholinergic medication
  • Second-line: botulinum toxin A injection into salivary glands
  • Alternative: radiotherapy to salivary glands
"""

FACTSHEET = """Factsheet on a motor disease

Treatment

There is no cure. Treatment options include:

The drug riluzole has been approved.

Medications may include:

  • Medication to reduce heavy drooling
  • Muscle relaxants for spasms
"""

GLOSSARY = (
    GlossaryEntry(term="sialorrhea", plain="drooling", aliases=["drooling"]),
    GlossaryEntry(term="botulinum toxin", plain="Botox-type medicine", aliases=["botox"]),
    GlossaryEntry(term="salivary glands", plain="spit glands", keep_term=False),
    GlossaryEntry(term="motor neuron disease", plain="a disease of nerve cells"),
    GlossaryEntry(term="lower motor neuron", plain="nerve-to-muscle"),
)


def fake_embed(texts: list[str]) -> list[list[float]]:
    """Deterministic unit vectors: a bag of hashed words (no model)."""
    out = []
    for text in texts:
        v = [0.0] * 64
        for w in re.findall(r"[a-z]+", text.lower()):
            v[zlib.crc32(w.encode()) % 64] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        out.append([x / norm for x in v])
    return out


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    docs = {
        "guide": parse_document(
            "guide",
            GUIDE,
            DocMeta(
                title="Guideline summary",
                publisher="Test board",
                audience="clinician",
                doc_type="guideline_summary",
            ),
        ),
        "sheet": parse_document(
            "sheet",
            FACTSHEET,
            DocMeta(
                title="Factsheet",
                publisher="Test",
                audience="patient",
                doc_type="patient_factsheet",
            ),
        ),
    }
    return Corpus(folder=Path("."), documents=docs)


@pytest.fixture(scope="module")
def structure(corpus) -> Structure:
    return Structure.build(corpus, GLOSSARY)


@pytest.fixture(scope="module")
def tuning() -> Tuning:
    return load_yaml(RULES_DIR / "tuning.yaml", Tuning)


def vectors_for(structure: Structure) -> SentenceVectors:
    keys = sorted(structure.contexts)
    matrix = np.asarray(fake_embed([structure.contexts[k] for k in keys]), np.float32)
    return SentenceVectors({k: n for n, k in enumerate(keys)}, matrix)


def compose(corpus, structure, tuning, question, audience="clinician", vectors=None):
    keyword = KeywordIndex(corpus.passages, synonyms={"drool": ["sialorrhea"]})
    found = HybridRetriever(corpus, None, keyword, mode="keyword").search(question, 4)
    found = replace(found, query_vector=tuple(fake_embed([question])[0]))
    route = Route(audience=audience, requested=audience, confidence=1.0, reason="test")
    composer = ExtractiveComposer(
        tuning,
        Glossary(GLOSSARY).plain,
        structure,
        vectors if vectors is not None else vectors_for(structure),
        Aspects.load(),
    )
    inp = ComposeInput(question, SearchQuery(question, question), route, found, ())
    return composer.compose(inp)


# --- the structure read from the documents ---------------------------------------------------


def test_abbreviations_are_the_ones_the_corpus_defines():
    text = "Videofluoroscopy (VFS) is done. C-reactive protein (CRP) too. Some words (XYZ)."
    assert defined_abbreviations(text) == {"VFS": "Videofluoroscopy", "CRP": "C-reactive protein"}


def test_an_abbreviation_says_its_spelled_out_form(structure, corpus):
    vfs = next(p for p in corpus.passages if p.text.startswith("VFS detects"))
    assert "videofluoroscopy" in structure.said(vfs, vfs.sentences[0])


@pytest.mark.parametrize(
    "text, said, not_said",
    [
        ("Refuse gastrostomy when FVC falls below 30%", {"fvc", "30"}, {"fall"}),
        ("Weight drops to five kilograms", {"weight"}, {"drop"}),
        ("Risk of falls rises with weakness", {"fall", "rise"}, set()),  # no figure follows
        ("FVC below 50% or weight loss over 10%", {"fvc", "loss"}, set()),  # no verb of change
    ],
)
def test_a_verb_of_change_before_a_figure_is_not_what_a_sentence_says(text, said, not_said):
    words = set(said_tokens(text))
    assert said <= words and not (not_said & words)


def test_a_lead_in_is_carried_to_the_paragraph_that_continues_it(structure, corpus):
    drug = next(p for p in corpus.passages if p.text.startswith("The drug riluzole"))
    assert structure.lead(drug) == "There is no cure. Treatment options include:"
    medications = next(p for p in corpus.passages if p.text.startswith("Medication to reduce"))
    assert [p.text for p in structure.list_of[medications.id].passages] == [
        "Medication to reduce heavy drooling",
        "Muscle relaxants for spasms",
    ]


def test_sentences_are_embedded_in_their_context_with_terms_explained(structure, corpus):
    vfs = next(p for p in corpus.passages if p.text.startswith("VFS detects"))
    text = structure.contexts[(vfs.id, vfs.sentences[0].start)]
    assert text.splitlines()[:2] == ["Guideline summary", "Dysphagia Evaluation"]
    assert "Videofluoroscopy (VFS) detects oral stasis" in text
    first = next(p for p in corpus.passages if p.text.startswith("First-line"))
    assert "Sialorrhea management: (drooling)" in structure.contexts[(first.id, first.start)]


def test_aspects_are_read_from_the_question():
    aspects = Aspects.load()
    assert aspects.asked("How do you manage drooling?")[0] == {"management"}
    assert aspects.asked("What does videofluoroscopy show?")[0] == {"findings"}
    assert aspects.asked("What is ALS?")[0] == {"definition"}
    assert aspects.asked("What are the symptoms of ALS?")[0] == {"symptoms"}  # not definition
    assert aspects.named(["sialorrhea", "management"]) == {"management"}


def test_a_bad_aspects_file_is_a_clear_error(tmp_path):
    (tmp_path / "aspects.yaml").write_text("aspects:\n  dose: {asks: [dose]}\n")
    with pytest.raises(ValueError, match="answers"):
        Aspects.load(tmp_path)


# --- choosing the evidence -------------------------------------------------------------------


def test_a_management_question_gets_the_management_list_as_written(corpus, structure, tuning):
    draft = compose(corpus, structure, tuning, "How do you manage drooling?")
    texts = [s.text for s in draft.sentences]
    items = [t for t in texts if t.startswith(("First-line", "Second-line", "Alternative"))]
    assert [t.split(":")[0] for t in items] == ["First-line", "Second-line", "Alternative"]
    leads = {s.lead for s in draft.sentences if s.text in items}
    assert leads == {"Sialorrhea management:"}


def test_an_abbreviation_finds_the_findings_sentence(corpus, structure, tuning):
    draft = compose(corpus, structure, tuning, "What does videofluoroscopy show?")
    assert any(s.text.startswith("VFS detects oral stasis") for s in draft.sentences)


def test_a_sentence_comes_with_the_next_that_goes_on_about_it():
    """ "Military veterans have twice the risk ..." is answered with "It is not clear why.";
    a sentence chosen alone stays alone when the next one starts afresh."""
    meta = DocMeta(
        title="Risks", publisher="Test", audience="patient", doc_type="patient_factsheet"
    )
    text = (
        "Risk\n\nMilitary veterans have twice the risk of ALS. It is not clear why.\n\n"
        "Smoking may raise the risk. Age matters too."
    )
    doc = parse_document("t", text, meta)
    veterans, smoking = [p for p in doc.passages if p.kind == "paragraph"][:2]
    chosen = Selector.with_continuations([Candidate(veterans, veterans.sentences[0], 1.0)])
    assert [c.sentence.text for c in chosen] == [
        "Military veterans have twice the risk of ALS.",
        "It is not clear why.",
    ]
    alone = Selector.with_continuations([Candidate(smoking, smoking.sentences[0], 1.0)])
    assert [c.sentence.text for c in alone] == ["Smoking may raise the risk."]


def _bullets_and_selector(text: str, tuning):
    """The bullets of a one-document guide and a selector over it."""
    meta = DocMeta(title="Guide", publisher="Test", audience="clinician", doc_type="guideline")
    doc = parse_document("g", text, meta)
    structure = Structure.build(Corpus(folder=Path("."), documents={"g": doc}), GLOSSARY)
    selector = Selector(tuning, Evidence(tuning, structure, None, lambda t: t))
    return [p for p in doc.passages if p.kind == "bullet"], selector


NIV = (
    "Guide\n\nRespiratory\n\nInitiate NIV when:\n\n  • FVC below half\n"
    "  • Symptoms with FVC low\n  • Hypoventilation in sleep\n\nOther findings include:\n\n"
    "  • Cramps\n  • Spasms\n"
)
LOOSE = (
    "Guide\n\nCare\n\nCare is planned early.\n\n  • Enteral nutrition is preferred\n"
    "  • Exercise is advised\n  • Care is multidisciplinary\n\nSymptoms include:\n\n"
    "  • Cramps\n  • Spasms\n  • Stiffness\n"
)


@pytest.mark.parametrize(
    ("text", "shown", "count"),
    [
        # "Initiate NIV when:" with one criterion would misstate the source: each suffices
        (NIV, [0], 3),
        (NIV, [3], 1),  # not conditions: as chosen
        # bullets no lead-in gathers ("From the Guidelines" points) are separate statements
        (LOOSE, [1, 2], 2),
        (LOOSE, [3, 4], 3),  # two items of a list under its lead-in bring the rest
    ],
)
def test_the_rest_of_a_list_comes_by_its_lead_in(tuning, text, shown, count):
    items, selector = _bullets_and_selector(text, tuning)
    chosen = [Candidate(items[k], items[k].sentences[0], 1.0) for k in shown]
    assert len(selector.with_rest_of_lists(chosen, [])) == count


RISKS = (
    "Guide\n\nCauses\n\nRisk factors for ALS typically include:\n\n  • Advanced age\n"
    "  • Family history\n  • Cigarette smoking\n"
)


@pytest.mark.parametrize(
    ("asked", "named", "count"),
    [("risk", "als", 3), ("management", "als", 1), ("risk", "anxious", 1)],
)
def test_one_item_of_a_list_whose_lead_in_answers_brings_the_rest_after_it(
    tuning, asked, named, count
):
    """ "Who is at risk for ALS?" with "Advanced age" shown gets the list as the author wrote
    it, the rest scored below what is shown (a bounded answer cuts them first); a question
    asking another aspect, or naming what the lead-in does not, gets the item alone."""
    from assistant.evidence import Question

    meta = DocMeta(
        title="Guide", publisher="Test", audience="patient", doc_type="patient_factsheet"
    )
    doc = parse_document("g", RISKS, meta)
    structure = Structure.build(Corpus(folder=Path("."), documents={"g": doc}), GLOSSARY)
    selector = Selector(tuning, Evidence(tuning, structure, Aspects.load(), lambda t: t))
    items = [p for p in doc.passages if p.kind == "bullet"]
    q = Question(set(), {named}, set(), set(), frozenset({asked}))
    shown = [Candidate(items[0], items[0].sentences[0], 2.0)]
    for patient in (True, False):
        out = selector.with_rest_of_lists(list(shown), [], q, patient=patient)
        assert [c.sentence.text for c in out][:count] == [
            "Advanced age",
            "Family history",
            "Cigarette smoking",
        ][:count]
        assert len(out) == count and all(c.score < 2.0 for c in out[1:])


def test_one_criterion_of_conditions_the_question_is_not_about_goes(tuning):
    """ "Initiate NIV when:" with one of its criteria, in an answer about gastrostomy."""
    from assistant.evidence import Question

    items, selector = _bullets_and_selector(NIV, tuning)
    about = Question(set(), set(), set(), {"peg"}, frozenset(), ((frozenset({"peg"}), 1.0),))
    one = [Candidate(items[0], items[0].sentences[0], 1.0)]
    assert selector.with_rest_of_lists(one, [], about) == []
    fact = [Candidate(items[0], items[0].sentences[0], 1.0, forced=True)]
    assert selector.with_rest_of_lists(fact, [], about) == fact  # a fact asked for stays
    # two criteria quoted as facts are shown as criteria: the third comes, named or not
    facts = [Candidate(items[k], items[k].sentences[0], 1e6, forced=True) for k in (0, 1)]
    assert len(selector.with_rest_of_lists(facts, [], about)) == 3


def test_a_term_of_several_words_counts_alone_only_by_its_rarest_word(corpus, structure, tuning):
    """The rarest word of a term names it alone ("multidisciplinary" care); the others count
    only with it ("affect" alone is not "pseudobulbar affect")."""
    evidence = Evidence(tuning, structure, None, lambda t: t)
    keyword = KeywordIndex(corpus.passages)
    found = HybridRetriever(corpus, None, keyword, mode="keyword").search("botulinum toxin?", 4)
    q = evidence.question("botulinum toxin?", found, None)
    alone = {"botulinum", "toxin"} - set(q.whole)
    assert len(alone) == 1
    assert structure.idf(alone.pop()) == max(structure.idf(w) for w in ("botulinum", "toxin"))


def test_meaning_finds_a_sentence_that_shares_no_word(corpus, structure, tuning):
    """The stored vector of a sentence close to the question's brings it in, word or not."""
    target = next(p for p in corpus.passages if p.text.startswith("Muscle relaxants"))
    keys = sorted(structure.contexts)
    rows = {k: n for n, k in enumerate(keys)}
    matrix = np.zeros((len(keys), 64), np.float32)
    matrix[:, 1] = 1.0
    matrix[rows[(target.id, target.start)]] = np.eye(64, dtype=np.float32)[0]
    question = "Which pills ease cramping?"
    plain = compose(corpus, structure, tuning, question, vectors=SentenceVectors.empty())
    assert not any(s.text.startswith("Muscle relaxants") for s in plain.sentences)
    vectors = SentenceVectors(rows, matrix)
    keyword = KeywordIndex(corpus.passages)
    found = HybridRetriever(corpus, None, keyword, mode="keyword").search(question, 4)
    found = replace(found, query_vector=tuple(np.eye(64)[0]))
    route = Route(audience="clinician", requested="clinician", confidence=1.0, reason="test")
    composer = ExtractiveComposer(tuning, None, structure, vectors, Aspects.load())
    inp = ComposeInput(question, SearchQuery(question, question), route, found, ())
    draft = composer.compose(inp)
    assert any(s.text.startswith("Muscle relaxants") for s in draft.sentences)


def test_meaning_is_relative_to_the_questions_median():
    vectors = SentenceVectors({("a", 0): 0, ("b", 0): 1, ("c", 0): 2}, np.eye(3, dtype=np.float32))
    meaning = vectors.relative((0.9, 0.3, 0.1))
    assert meaning("a", 0) == pytest.approx(0.6)
    assert meaning("b", 0) == pytest.approx(0.0)
    assert meaning("missing", 0) == 0.0
    assert vectors.relative(None) is None
    assert vectors.relative((1.0, 0.0)) is None  # another model's vector


def test_a_patient_answer_leads_with_the_patient_source(corpus, structure, tuning):
    draft = compose(corpus, structure, tuning, "What medicine helps with drooling?", "patient")
    assert draft.sources[draft.sentences[0].cites[0]].meta.audience == "patient"


def test_a_patient_answer_keeps_its_reading_grade(corpus, structure, tuning):
    easy = next(p for p in corpus.passages if p.text.startswith("Medication to reduce"))
    hard = next(p for p in corpus.passages if p.text.startswith("Second-line"))
    strict = tuning.model_copy(
        update={"patient": tuning.patient.model_copy(update={"answer_grade": 6.0})}
    )
    evidence = Evidence(strict, structure, Aspects.load(), lambda t: t)
    chosen = [
        Candidate(easy, easy.sentences[0], 5.0),
        Candidate(hard, hard.sentences[0], 4.0),
    ]
    kept = Selector(strict, evidence).readable(chosen)
    assert [c.passage for c in kept] == [easy]


def test_a_patient_answer_cuts_a_list_from_its_end(corpus, structure, tuning):
    """ "Second-line" without "First-line" would mislead: the first item stays longest."""
    items = [
        next(p for p in corpus.passages if p.text.startswith(lead))
        for lead in ("First-line", "Second-line")
    ]
    strict = tuning.model_copy(
        update={"patient": tuning.patient.model_copy(update={"answer_grade": 6.0})}
    )
    evidence = Evidence(strict, structure, Aspects.load(), lambda t: t)
    # The first item reads harder and scores lower: by grade alone it would go first.
    scores = (2.0, 5.0)
    chosen = [Candidate(p, p.sentences[0], s) for p, s in zip(items, scores, strict=True)]
    kept = Selector(strict, evidence).readable(chosen)
    assert [c.passage for c in kept] == items


# --- patient wording -------------------------------------------------------------------------


@pytest.mark.parametrize("tried", [False, True])
def test_a_list_is_cut_from_its_start_when_the_question_asks_past_what_was_tried(
    corpus, structure, tuning, tried
):
    """ "And if the pills don't work?": "First-line" is what was tried, so it may go first;
    otherwise a list is cut from its end and "First-line" stays while a later item does."""
    items = [
        next(p for p in corpus.passages if p.text.startswith(lead))
        for lead in ("First-line", "Second-line", "Alternative")
    ]
    strict = tuning.model_copy(
        update={"patient": tuning.patient.model_copy(update={"answer_grade": 1.0})}
    )
    evidence = Evidence(strict, structure, Aspects.load(), lambda t: t)
    chosen = [Candidate(p, p.sentences[0], s) for p, s in zip(items, (2.0, 5.0, 3.0), strict=True)]
    out = [c.passage for c in Selector(strict, evidence).readable(chosen, tried=tried)]
    assert (items[0] in out) is not tried and items[1:] == out[-2:]


def test_asking_past_what_was_tried_is_read_from_the_question():
    aspects = Aspects.load()
    for q in ("and if the pills dont work for him?", "What if those tablets don't help?"):
        asked = aspects.asked(q)[0]
        assert asked & aspects.after_tried, q
    for q in ("Does riluzole work?", "He failed his swallow study", "Should he stop working?"):
        assert not aspects.asked(q)[0] & aspects.after_tried, q


def test_a_clinical_term_keeps_its_words_with_the_plain_ones_beside_it():
    plain = Glossary(GLOSSARY).plain(
        "Second-line: botulinum toxin A injection into salivary glands"
    )
    assert (
        plain == "Second-line: botulinum toxin A (Botox-type medicine) injection into spit glands"
    )


def test_the_glossary_reads_leftmost_longest_and_explains_once():
    plain = Glossary(GLOSSARY).plain(
        "Signs of lower motor neuron disease; motor neuron disease is rare; motor neuron disease."
    )
    assert plain.startswith("Signs of lower motor neuron (nerve-to-muscle) disease;")
    assert plain.count("(a disease of nerve cells)") == 1


# --- vectors stored at ingest ----------------------------------------------------------------


@pytest.mark.integration
def test_sentence_vectors_are_stored_once_and_loaded(tmp_path, corpus, structure):
    from assistant.config import Settings
    from assistant.index import VectorIndex
    from assistant.sentences import sync_sentences

    calls: list[int] = []

    def counting(texts):
        calls.append(len(texts))
        return fake_embed(texts)

    index = VectorIndex(Settings(index_dir=tmp_path / "ix"), counting)
    assert sync_sentences(index, structure) == len(set(structure.keys().values()))
    assert sync_sentences(index, structure) == 0  # nothing new to embed
    embedded = sum(calls)
    vectors = SentenceVectors.load(index, structure)
    assert len(vectors) == len(structure.contexts)
    assert sum(calls) == embedded  # loading embeds nothing
    smaller = Structure.build(
        Corpus(folder=Path("."), documents={"sheet": corpus.documents["sheet"]}), GLOSSARY
    )
    sync_sentences(index, smaller)
    assert len(SentenceVectors.load(index, structure)) < len(structure.contexts)  # stale gone


def test_the_real_rules_load_their_aspects():
    rules = Rules.load()
    assert "management" in Aspects.load(rules.folder).asks


def test_a_lists_items_are_shown_under_one_evidence_group(corpus, structure, tuning, monkeypatch):
    """Each item may cite another kind of source; the list stays whole under its first's."""
    import assistant.compose as compose_module

    monkeypatch.setattr(compose_module, "evidence_group", lambda p: p.text.split(":")[0])
    composer = ExtractiveComposer(tuning, None, structure)
    first, second = (
        next(p for p in corpus.passages if p.text.startswith(lead))
        for lead in ("First-line", "Second-line")
    )
    assert composer._group(second) == composer._group(first) == "First-line"
    alone = next(p for p in corpus.passages if p.text.startswith("All patients"))
    assert composer._group(alone) == "All patients with bulbar symptoms need swallow screening."


def test_a_ranked_lists_item_comes_with_the_ranks_before_and_after_it(corpus, structure, tuning):
    """ "Second-line: ..." presupposes "First-line: ..."; "Alternative: ..." is what to do when
    it fails ("and if that fails too?"); an unranked list is not completed."""
    evidence = Evidence(tuning, structure, Aspects.load(), lambda t: t)
    selector = Selector(tuning, evidence)
    second = next(p for p in corpus.passages if p.text.startswith("Second-line"))
    chosen = selector.with_other_ranks([Candidate(second, second.sentences[0], 3.0)], [])
    ranks = [c.passage.text.split(":")[0] for c in chosen]
    assert ranks == ["Second-line", "First-line", "Alternative"]
    assert chosen[1].score > 3.0 > chosen[2].score  # cut: the item it needs last, a later first
    assert _RANKED.match("1. Start riluzole") and not _RANKED.match("First, assess swallowing")
    nasal = next(p for p in corpus.passages if p.text.startswith("Nasal"))
    alone = [Candidate(nasal, nasal.sentences[0], 3.0)]
    assert selector.with_other_ranks(alone, []) == alone


HEADED = """Summary of a motor disease

Clinical Presentation

Weakness starts in one limb and spreads over months.

Cramps and twitching are common early.

Speech may slur as the tongue weakens.

Swallowing gets harder over time.

Nutrition

Weigh the patient every three months.

Offer a feeding tube when weight falls.

Care Team

A neurologist leads the team.

A therapist helps with walking aids.

A social worker helps the family.

Respiratory Management

Measure vital capacity at every visit.

Offer ventilation when breathing weakens.

Disease-Modifying Medication

Riluzole 50 mg twice daily is the approved treatment.

Check liver tests before and during treatment.
"""


def test_a_heading_that_names_the_whole_topic_answers_a_question_asking_no_aspect(tuning):
    doc = parse_document(
        "headed",
        HEADED,
        DocMeta(
            title="Summary", publisher="Test", audience="clinician", doc_type="guideline_summary"
        ),
    )
    corpus = Corpus(folder=Path("."), documents={"headed": doc})
    structure = Structure.build(corpus)
    question = "Anything disease-modifying to start now?"
    keyword = KeywordIndex(corpus.passages)
    found = HybridRetriever(corpus, None, keyword, mode="keyword").search(question, 4)
    evidence = Evidence(tuning, structure, Aspects.load(), lambda t: t)
    q = evidence.question(question, found, None)
    assert not q.asked and q.concepts  # a topic, no aspect
    story = "Started 30 days ago: anything disease-modifying?"
    told = evidence.question(
        story, HybridRetriever(corpus, None, keyword, mode="keyword").search(story, 4), None
    )
    assert "30" in told.terms and "30" not in told.topic  # a figure is a value, not a topic
    assert evidence.heads(q, tokens("Disease-Modifying Medication"))
    assert not evidence.heads(q, tokens("Respiratory Management"))
    draft = compose(corpus, structure, tuning, question)
    assert "Riluzole 50 mg twice daily is the approved treatment." in [
        s.text for s in draft.sentences
    ]


def test_a_sentence_that_adds_to_a_clinicians_line_comes_with_it():
    text = (
        "Tests\n\nCommonly ordered blood tests include a metabolic panel and a blood count.  "
        "Your doctor may also evaluate inflammation with ESR and CRP.  Results take a day.\n"
    )
    doc = parse_document(
        "labs",
        text,
        DocMeta(title="Labs", publisher="Test", audience="patient", doc_type="patient_article"),
    )
    passage = next(p for p in doc.passages if "blood tests" in p.text)
    first, also, _last = passage.sentences
    chosen = [Candidate(passage, first, 1.0)]
    shown = [c.sentence for c in Selector.with_continuations(chosen, additions=True)]
    assert shown == [first, also]  # "may also" adds to the line before; the next does not
    # a patient answer, bounded by its reading grade, takes only what points back
    assert [c.sentence for c in Selector.with_continuations(chosen)] == [first]
    # and the line alone, without the one it adds to, is not completed backwards
    alone = Selector.with_continuations([Candidate(passage, also, 1.0)], additions=True)
    assert [c.sentence for c in alone] == [also]


def test_a_criterion_quoted_as_a_fact_brings_the_rest_when_the_question_names_the_list(tuning):
    """ "FVC below half" quoted as a fact, in an answer about NIV: "Initiate NIV when:" with
    one of its three criteria would misstate the source."""
    from assistant.evidence import Question

    items, selector = _bullets_and_selector(NIV, tuning)
    about = Question(set(), set(), set(), {"niv"}, frozenset(), ((frozenset({"niv"}), 1.0),))
    fact = [Candidate(items[0], items[0].sentences[0], 1e6, forced=True)]
    shown = selector.with_rest_of_lists(fact, [], about)
    assert [c.passage.id for c in shown] == [p.id for p in items[:3]]
    one = [Candidate(items[1], items[1].sentences[0], 1.0)]  # a patient's answer too
    assert len(selector.with_rest_of_lists(one, [], about, patient=True)) == 3
    assert {id(c) for c in selector.criteria_units(shown)[id(shown[0])]} == {id(c) for c in shown}


SWALLOWING = (
    "Guide\n\nSwallowing Management\n\nFor patients with dysphagia:\n\n  • Adapt food texture\n"
    "  • Use thicker liquids\n  • Eat frequent small meals\n\nSymptoms\n\n"
    "Dysphagia symptoms include:\n\n"
    "  • Coughing at meals\n  • Food in the nose\n  • Weight loss\n"
)


@pytest.mark.parametrize(("shown", "patient", "count"), [([0, 1], True, 3), ([3, 4], True, 2)])
def test_a_patient_gets_a_short_list_whole_only_where_its_heading_answers(
    tuning, shown, patient, count
):
    """ "How can we stop him choking?" (management of dysphagia): the measures under
    "Swallowing Management" come whole; two symptoms under a heading that says no management
    stay as chosen (a clinician gets either list whole)."""
    from assistant.evidence import Question

    items, selector = _bullets_and_selector(SWALLOWING, tuning)
    selector.evidence.aspects = Aspects.load()
    q = Question(
        set(),
        set(),
        set(),
        {"dysphagia"},
        frozenset({"management"}),
        ((frozenset({"dysphagia"}), 1.0),),
    )
    chosen = [Candidate(items[k], items[k].sentences[0], 1.0) for k in shown]
    assert len(selector.with_rest_of_lists(chosen, [], q, patient)) == count
    assert len(selector.with_rest_of_lists(chosen, [], q)) == 3


def test_a_narrower_term_says_the_broader_one_it_is_a_kind_of():
    """A glossary term ``kind_of`` another: a sentence naming BPAP speaks of non-invasive
    ventilation (and NIV), not the other way round."""
    text = (
        "Guide\n\nBreathing\n\nStart non-invasive ventilation (NIV) early.\n\n"
        "Use bilevel positive airway pressure in bulbar impairment.\n\nNutrition\n\n"
        "Weigh patients often.\n\nPlace a feeding tube early.\n\nOffer thick liquids.\n\n"
        "Check the weight monthly.\n\nRefer to a dietitian.\n\nTry a BiPAP at night.\n"
    )
    meta = DocMeta(title="Guide", publisher="Test", audience="clinician", doc_type="guideline")
    doc = parse_document("g", text, meta)
    entries = (
        GlossaryEntry(
            term="bilevel positive airway pressure",
            plain="a breathing machine",
            kind_of="non-invasive ventilation",
            aliases=["bipap"],
        ),
    )
    st = Structure.build(Corpus(folder=Path("."), documents={"g": doc}), entries)
    said = {p.sentences[0].text[:5]: set(st.said(p, p.sentences[0])) for p in doc.passages}
    assert {"niv", "non", "invasive", "ventilation"} <= said["Use b"]
    assert {"niv", "ventilation"} <= said["Try a"]  # named by a lay alias too
    assert not {"bilevel", "airway"} & said["Start"]


def test_a_kind_of_that_names_no_glossary_term_is_refused():
    """A typo in ``kind_of`` would relate nothing; the glossary file refuses it."""
    from assistant.rules import GlossaryFile

    entry = {"term": "bpap", "plain": "mask breathing machine"}
    with pytest.raises(ValueError, match="kind_of"):
        GlossaryFile.model_validate({"glossary": [{**entry, "kind_of": "non-invasive ventilaton"}]})
    GlossaryFile.model_validate(
        {"glossary": [{**entry, "kind_of": "niv"}, {"term": "niv", "plain": "mask machine"}]}
    )


RILUZOLE = (
    "Guide\n\nMedication\n\nRiluzole 50 mg twice daily extends survival.\n\n"
    "  • Monitor liver tests before and during treatment\n"
    "  • Discontinue if liver dysfunction develops\n  • Report any fever\n"
    "  • Discontinue if lung disease develops\n"
)


@pytest.mark.parametrize(
    ("text", "asked", "count"),
    [
        (RILUZOLE, {"monitoring", "discontinuation"}, 4),  # the facts say what is asked
        (RILUZOLE, set(), 2),  # quoted for another reason: as chosen
        # no paragraph the bullets detail: the heading alone gathers no list
        (RILUZOLE.replace("Riluzole 50 mg twice daily extends survival.\n\n", ""), None, 2),
    ],
)
def test_facts_that_say_what_is_asked_bring_the_rest_of_the_list_they_detail(
    tuning, text, asked, count
):
    """ "What monitoring is needed on riluzole, and when should it be stopped?": two of the
    riluzole paragraph's bullets quoted as facts bring the other two ("Discontinue if lung
    disease develops" is as much an answer)."""
    from assistant.evidence import Question

    items, selector = _bullets_and_selector(text, tuning)
    selector.evidence.aspects = Aspects.load()
    asked = {"monitoring", "discontinuation"} if asked is None else asked
    q = Question(
        set(), set(), set(), {"riluzole"}, frozenset(asked), ((frozenset({"riluzole"}), 1.0),)
    )
    facts = [Candidate(items[k], items[k].sentences[0], 1e6, forced=True) for k in (0, 1)]
    assert len(selector.with_rest_of_lists(facts, [], q)) == count


SUPPORT = (
    "Guide\n\nTreatment\n\nSupportive care may be needed as ALS progresses, including:\n\n"
    "  • Physical therapy eases cramps\n  • Speech therapy keeps communication\n"
    "  • Nutritional care with a feeding tube\n\nFamily\n\nCaregivers need support too.\n"
)


@pytest.mark.parametrize(("third", "count"), [("worse", 3), ("caregivers", 2)])
def test_a_patient_gets_a_list_whole_whose_lead_in_names_a_question_asking_no_aspect(
    tuning, third, count
):
    """ "What supportive care will he need as it gets worse?": the list under "Supportive care
    may be needed as ALS progresses, including:" comes whole. "Is support for caregivers part of
    his care?" is answered where "caregivers" are named: the list stays as chosen."""
    from assistant.evidence import Question

    items, selector = _bullets_and_selector(SUPPORT, tuning)
    selector.evidence.aspects = Aspects.load()
    doc = items[0].doc_id
    other = next(
        p
        for p in selector.structure.passages.values()
        if p.doc_id == doc and p.text.startswith("Caregivers")
    )
    words = ("supportive", "care", third)
    concepts = tuple((frozenset(tokens(w)), 1.0) for w in words)
    q = Question(set(), set(), set(), {w for g, _ in concepts for w in g}, frozenset(), concepts)
    chosen = [Candidate(items[k], items[k].sentences[0], 1.0) for k in (0, 1)]
    chosen.append(
        Candidate(
            other, other.sentences[0], 1.0, words=set(content_tokens(other.sentences[0].text))
        )
    )
    shown = selector.with_rest_of_lists(chosen, [], q, patient=True)
    assert len({c.passage.id for c in shown} & {p.id for p in items}) == count


def test_a_patient_answer_may_draw_on_a_clinician_list_that_answers_where_no_patient_line_does(
    tuning,
):
    """ "What can we do at mealtimes so she swallows more easily?": the factsheet's "Swallowing
    will eventually be lost" is chosen, but the clinician list under "For patients with
    dysphagia:" answers (it fits); completions may draw on it. A patient line that fits keeps
    the answer in the patient sources' own words."""
    clin = DocMeta(title="Guide", publisher="Test", audience="clinician", doc_type="guideline")
    pat = DocMeta(title="Sheet", publisher="Test", audience="patient", doc_type="patient_factsheet")
    g = parse_document("g", SWALLOWING, clin)
    f = parse_document("f", "Sheet\n\nTreatment\n\nSwallowing will eventually be lost.\n", pat)
    corpus = Corpus(folder=Path("."), documents={"g": g, "f": f})
    selector = Selector(tuning, Evidence(tuning, Structure.build(corpus, GLOSSARY), None, str))
    sheet = Candidate(f.passages[-1], f.passages[-1].sentences[0], 10.0)
    listed = Candidate(g.passages[2], g.passages[2].sentences[0], 8.0, fits=True)
    assert not selector._patient_source_answers([sheet], [sheet, listed])
    assert selector._patient_source_answers([sheet], [sheet, replace(listed, fits=False)])
    assert selector._patient_source_answers([replace(sheet, fits=True)], [sheet, listed])
