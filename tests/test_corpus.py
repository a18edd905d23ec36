"""Corpus parsing: exact offsets, structure, references, chrome, disclaimers, metadata.

The parser's rules are tested on documents written here in the shapes the corpus pages use
(a guideline summary with a References section, a patient article with a numbered list, a
factsheet that lost its headings); the whole real corpus is checked for properties every
document must have, whatever it says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.corpus import Corpus, CorpusError, DocMeta, load_meta, parse_document
from assistant.rules import Rules

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"


def meta(**kw) -> DocMeta:
    base = {"title": "Test page", "publisher": "Test", "audience": "clinician"}
    return DocMeta(**{**base, "doc_type": "guideline_summary", **kw})


SUMMARY = """\
ALS Test Summary

Medical Advisory BoardAll articles are reviewed for accuracy by our Medical Advisory Board
Article Review Status
Submitted
Under Review
Approved

Last updated: March 3, 2025View editorial policy

Personalize

Help us tailor your experience

Which best describes you? Your choice helps us.

ALS Test Overview

ALS is a progressive disease of motor neurons. Most patients present with limb weakness. 1

Treatment Options

Disease-Modifying Medication

Riluzole 50 mg twice daily is the approved treatment that extends survival in ALS. 1, 3

Initiate non-invasive ventilation (NIV) when:

  • FVC <50% predicted 2
  • Symptomatic hypoventilation (e.g. morning headache) 2

Nutrition factsheet image

References

Guideline

Practice parameter: the care of the patient with ALS

Neurology, 2009

Research

A trial of riluzole in ALS

The Lancet, 1996

Professional Medical Disclaimer

This information is intended for healthcare professionals. Decisions rest with the clinician.

Have a follow-up question?

Our Medical A.I. answers questions

Copyright © 2025 Test
"""


@pytest.fixture(scope="module")
def summary():
    return parse_document("sum", SUMMARY, meta())


def _passage(doc, start: str):
    return next(p for p in doc.passages if p.text.startswith(start))


# --- a guideline summary with a References section --------------------------------------------


def test_every_passage_and_sentence_is_an_exact_span(summary):
    assert summary.passages
    for p in summary.passages:
        assert SUMMARY[p.start : p.end] == p.text
        for s in p.sentences:
            assert SUMMARY[s.start : s.end] == s.text and p.start <= s.start < s.end <= p.end


def test_page_title_and_chrome_are_not_passages(summary):
    text = " ".join(p.text for p in summary.passages)
    for chrome in (
        "ALS Test Summary",
        "Medical Advisory Board",
        "Article Review Status",
        "Submitted",
        "Last updated",
        "Personalize",
        "Help us tailor",
        "Which best describes you",
        "factsheet image",
        "Have a follow-up question?",
        "Our Medical A.I.",
        "Copyright ©",
    ):
        assert chrome not in text, chrome


def test_headings_bullets_leads_and_heading_paths(summary):
    dose = _passage(summary, "Riluzole 50 mg")
    assert dose.section == ("Treatment Options", "Disease-Modifying Medication")
    assert dose.section_label == "Treatment Options › Disease-Modifying Medication"
    fvc = _passage(summary, "FVC <50%")
    assert fvc.kind == "bullet" and fvc.text == "FVC <50% predicted 2"
    assert fvc.lead == "Initiate non-invasive ventilation (NIV) when:"
    assert fvc.section == dose.section
    assert ("ALS Test Overview",) in summary.headings
    assert ("Treatment Options", "Disease-Modifying Medication") in summary.headings


def test_reference_list_and_markers(summary):
    assert [(r.n, r.type, r.source, r.year) for r in summary.references] == [
        (1, "Guideline", "Neurology, 2009", 2009),
        (2, "Research", "The Lancet, 1996", 1996),
    ]
    assert summary.references[0].title == "Practice parameter: the care of the patient with ALS"
    overview = _passage(summary, "ALS is a progressive")
    assert [s.text for s in overview.sentences] == [
        "ALS is a progressive disease of motor neurons.",
        "Most patients present with limb weakness.",  # the marker is peeled off
    ]
    assert overview.markers == (1,) and [r.n for r in overview.references] == [1]
    # A marker beyond the list is kept as a marker, without a reference.
    dose = _passage(summary, "Riluzole 50 mg")
    assert dose.markers == (1, 3) and [r.n for r in dose.references] == [1]
    assert dose.body.endswith("survival in ALS.") and "3" not in dose.stated.split()
    assert _passage(summary, "FVC <50%").sentences[0].text == "FVC <50% predicted"


def test_an_abbreviation_does_not_end_a_sentence(summary):
    hypo = _passage(summary, "Symptomatic hypoventilation")
    assert len(hypo.sentences) == 1


def test_disclaimer_is_a_passage_of_its_own_kind(summary):
    (d,) = [p for p in summary.passages if p.kind == "disclaimer"]
    assert d.text.startswith("This information is intended for healthcare professionals.")
    assert d.section == ("Professional Medical Disclaimer",)


def test_a_references_heading_without_entries_still_peels_markers():
    text = (
        "Label Page\n\nFrom the FDA Drug Label\n\n"
        "The recommended dosage is 50 mg twice daily, taken before a meal 2.\n\nReferences\n"
    )
    doc = parse_document("lbl", text, meta(doc_type="drug_label"))
    assert doc.references == []
    (p,) = doc.passages
    assert p.markers == (2,) and p.sentences[0].text.endswith("before a meal")
    assert p.section == ("From the FDA Drug Label",)


# --- a patient article with a numbered reference list -----------------------------------------

ARTICLE = """\
Patient Article Title

What is ALS?

ALS is a disease that affects nerve cells.  It gets worse over time.  There is no cure yet 2.

Dr. Reviewer is a doctor from a university, interested in neurology.

How is it treated?

Medicines can help.  Therapy helps too.


  1. Smith AB. A study of ALS. J Neurol 2003; 14:327. -
  2. Jones C. Care in ALS. Lancet 2010; 66:647. -


Article image caption

The above information is an educational aid only. It is not intended as medical advice.
"""


@pytest.fixture(scope="module")
def article():
    return parse_document(
        "art",
        ARTICLE,
        meta(
            audience="patient",
            doc_type="patient_article",
            exclude_lines=["Dr. Reviewer is a doctor from a university, interested in neurology."],
        ),
    )


def test_numbered_reference_list_is_read_and_left_out_of_the_text(article):
    assert [(r.n, r.year) for r in article.references] == [(1, 2003), (2, 2010)]
    assert article.references[0].title == "A study of ALS"
    assert "Smith" not in " ".join(p.text for p in article.passages)


def test_sentences_split_on_the_pages_double_spaces_and_stay_exact(article):
    first = _passage(article, "ALS is a disease")
    assert [s.text for s in first.sentences] == [
        "ALS is a disease that affects nerve cells.",
        "It gets worse over time.",
        "There is no cure yet 2.",  # no References heading: digits stay text
    ]
    for s in first.sentences:
        assert ARTICLE[s.start : s.end] == s.text


def test_excluded_lines_and_the_separate_disclaimer(article):
    assert not any("Dr. Reviewer" in p.text for p in article.passages)
    assert not any("image" in p.text for p in article.passages)
    kinds = [p.kind for p in article.passages]
    assert kinds.count("disclaimer") == 1 and kinds[-1] == "disclaimer"
    assert article.passages[-1].text.startswith("The above information is an educational aid")


# --- a factsheet whose headings were lost -------------------------------------------------------

FACTSHEET = """\
ALS Factsheet

The cause of ALS is unknown. Genes play a part in some families.


The first signs of ALS are subtle. They include weakness in a hand.


There are no current guidelines for prevention.
"""


def test_lost_headings_get_the_maintainers_names():
    doc = parse_document(
        "fs", FACTSHEET, meta(audience="patient", untitled_sections=["Causes", "Symptoms"])
    )
    sections = {p.text[:20]: p.section for p in doc.passages}
    assert sections["The cause of ALS is "] == ()  # before the first lost heading
    assert sections["The first signs of A"] == ("Causes",)
    assert sections["There are no current"] == ("Symptoms",)
    assert doc.references == [] and all(not p.markers for p in doc.passages)


# --- passage ids ------------------------------------------------------------------------------


def test_passage_ids_are_content_hashes_stable_under_moves():
    original = parse_document("sum", SUMMARY, meta())
    inserted = SUMMARY.replace(
        "Initiate non-invasive", "An inserted paragraph sits here.\n\nInitiate non-invasive"
    )
    moved = parse_document("sum", inserted, meta())
    before = {p.text: p for p in original.passages}
    shifted = [p for p in moved.passages if p.text in before and p.start != before[p.text].start]
    assert shifted  # later passages moved ...
    for p in moved.passages:
        if p.text in before:
            assert p.id == before[p.text].id, p.text  # ... and kept their ids
    edited = parse_document("sum", SUMMARY.replace("limb weakness", "arm weakness"), meta())
    assert _passage(edited, "ALS is a progressive").id != _passage(original, "ALS is a").id


def test_repeated_passages_get_distinct_ids():
    doc = parse_document("rep", "Title\n\nSection\n\nSame text here.\n\nSame text here.\n", meta())
    a, b = doc.passages
    assert a.text == b.text and a.id != b.id and b.id.startswith(a.id)


# --- the real corpus: what every document must satisfy ----------------------------------------


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seeds folder is not beside the repo")
def test_corpus_documents_are_the_seeds_byte_for_byte():
    for seed in sorted(SEEDS.glob("*.txt")):
        assert (REPO / "corpus" / seed.name).read_bytes() == seed.read_bytes(), seed.name


def test_every_real_passage_and_sentence_is_an_exact_span_of_its_document(corpus):
    for doc in corpus.documents.values():
        assert doc.passages, doc.id
        assert doc.id == doc.path.stem
        for p in doc.passages:
            assert doc.text[p.start : p.end] == p.text
            for s in p.sentences:
                assert doc.text[s.start : s.end] == s.text
                assert p.start <= s.start < s.end <= p.end


def test_every_registered_disclaimer_is_a_disclaimer_passage_of_its_document(corpus):
    for d in Rules.load().disclaimers:
        passages = [p for p in corpus.documents[d.doc].passages if p.kind == "disclaimer"]
        assert any(p.text == d.text or d.text in p.text for p in passages), d.id


def test_no_real_passage_is_page_chrome(corpus):
    from assistant.corpus import _CHROME

    for p in corpus.passages:
        assert not _CHROME.match(p.text), (p.doc_id, p.text)
        assert p.text not in p.meta.exclude_lines


def test_metadata_last_updated_matches_the_page(corpus):
    for doc in corpus.documents.values():
        m = re.search(r"(?:Last updated:|Updated -) (\w+ \d+, \d{4})", doc.text)
        if m:
            assert doc.meta.last_updated is not None
            assert doc.meta.last_updated.strftime("%B %-d, %Y") == m.group(1), doc.id
        else:
            assert doc.meta.last_updated is None, doc.id


# --- metadata and file errors -----------------------------------------------------------------


def test_malformed_metadata_names_the_file_and_the_field(corpus_copy):
    meta_file = next(p for p in corpus_copy.glob("*.meta.yaml") if "audience:" in p.read_text())
    text = re.sub(r"audience: \w+", "audience: doctors", meta_file.read_text())
    meta_file.write_text(text)
    with pytest.raises(CorpusError) as err:
        Corpus.load(corpus_copy)
    assert meta_file.name in str(err.value) and "audience" in str(err.value)


def test_unknown_metadata_field_is_rejected(tmp_path):
    path = tmp_path / "x.meta.yaml"
    path.write_text(
        "title: T\npublisher: P\naudience: patient\ndoc_type: patient_article\ncolour: blue\n"
    )
    with pytest.raises(CorpusError, match="colour"):
        load_meta(path)


def test_missing_sidecar_and_binary_document_are_clear_errors(corpus_copy):
    (corpus_copy / "new_guideline.txt").write_text("Heading\n\nSome text.\n")
    with pytest.raises(CorpusError, match=r"new_guideline\.meta\.yaml.*missing"):
        Corpus.load(corpus_copy)
    (corpus_copy / "new_guideline.txt").write_bytes(b"\x89PNG\x00\x01binary")
    (corpus_copy / "new_guideline.meta.yaml").write_text(
        "title: New\npublisher: PP\naudience: clinician\ndoc_type: guideline\n"
    )
    with pytest.raises(CorpusError, match="binary"):
        Corpus.load(corpus_copy)


def test_an_orphan_sidecar_and_an_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match=r"no \.txt or \.md"):
        Corpus.load(tmp_path)
    (tmp_path / "a.txt").write_text("Title\n\nText.\n")
    (tmp_path / "a.meta.yaml").write_text(
        "title: Aaa\npublisher: PP\naudience: clinician\ndoc_type: guideline\n"
    )
    (tmp_path / "b.meta.yaml").write_text("title: Bbb\n")
    with pytest.raises(CorpusError, match=r"b\.meta\.yaml"):
        Corpus.load(tmp_path)


def test_a_new_markdown_document_is_parsed(corpus_copy):
    (corpus_copy / "900_new.md").write_text(
        "New Guideline Title\n\nRespiratory Care\n\nCheck lung function every 6 months. 1\n\n"
        "References\n\nGuideline\n\nA test guideline\n\nTest Society, 2026\n"
    )
    (corpus_copy / "900_new.meta.yaml").write_text(
        "title: New Guideline\npublisher: Test Society\naudience: clinician\ndoc_type: guideline\n"
    )
    doc = Corpus.load(corpus_copy).documents["900_new"]
    (p,) = doc.passages
    assert p.section == ("Respiratory Care",) and p.markers == (1,)
    assert p.references[0].source == "Test Society, 2026"
