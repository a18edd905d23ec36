"""Corpus parsing: exact offsets, structure, references, chrome, disclaimers, metadata."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.corpus import Corpus, CorpusError, load_meta

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"
D000, D001, D002, D003, D004 = (
    "000_2a7555900f987ae7",
    "001_c17d7968e434409d",
    "002_5e97e3a1ccf57869",
    "003_c2774fdaa0103938",
    "004_65cc970232cd60ed",
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seeds folder is not beside the repo")
def test_corpus_documents_are_the_seeds_byte_for_byte():
    for seed in sorted(SEEDS.glob("*.txt")):
        assert (REPO / "corpus" / seed.name).read_bytes() == seed.read_bytes(), seed.name


def test_every_passage_and_sentence_is_an_exact_span_of_its_document(corpus):
    n = 0
    for doc in corpus.documents.values():
        for p in doc.passages:
            assert doc.text[p.start : p.end] == p.text
            for s in p.sentences:
                assert doc.text[s.start : s.end] == s.text
                assert p.start <= s.start < s.end <= p.end
            n += 1
    assert n > 150


def test_document_ids_are_file_stems_and_all_five_seeds_load(corpus):
    assert set(corpus.documents) == {D000, D001, D002, D003, D004}


def test_page_chrome_is_stripped(corpus):
    chrome = [
        "Personalize",
        "Help us tailor your experience",
        "Article Review Status",
        "Have a follow-up question?",
        "Our Medical A.I.",
        "Nucleus factsheet image",
        "Copyright ©",
        "View LinkedIn profile",
        "Which best describes you?",
    ]
    for p in corpus.passages:
        for c in chrome:
            assert c not in p.text, (p.doc_id, c)
    assert not any(p.text == "ALS Medication" for p in corpus.passages)


def test_disclaimers_are_passages_of_their_own_kind(corpus):
    disclaimers = [p for p in corpus.passages if p.kind == "disclaimer"]
    assert {p.doc_id for p in disclaimers} == {D000, D001, D002, D003}
    prof = next(p for p in disclaimers if p.doc_id == D000)
    assert prof.text.startswith("This information is intended for healthcare professionals.")
    assert prof.section == ("Professional Medical Disclaimer",)
    patient = next(p for p in disclaimers if p.doc_id == D001)
    assert patient.text.startswith("The above information is an educational aid only.")


def test_headings_bullets_and_heading_paths(corpus):
    doc = corpus.documents[D000]
    dose = next(p for p in doc.passages if p.text.startswith("Riluzole 50 mg"))
    assert dose.section == ("Treatment Options", "Disease-Modifying Medication")
    fvc = next(p for p in doc.passages if p.text.startswith("FVC <50% predicted"))
    assert fvc.kind == "bullet"
    assert fvc.lead == "Initiate non-invasive ventilation (NIV) when:"
    assert ("Clinical Presentation and Symptoms", "Initial Symptoms by Onset Type") in doc.headings


def test_reference_markers_map_to_the_documents_reference_list(corpus):
    doc = corpus.documents[D000]
    assert [r.type for r in doc.references] == [
        "Guideline",
        "Guideline",
        "Research",
        "Research",
        "Research",
        "Guideline",
    ]
    assert doc.references[2].source == "Orphanet journal of rare diseases, 2009"
    assert doc.references[2].year == 2009
    vfs = next(p for p in doc.passages if p.text.startswith("Videofluoroscopy (VFS)"))
    assert vfs.markers == (1, 2, 6)
    assert [r.n for r in vfs.references] == [1, 2, 6]
    # The marker is peeled off the sentence; the sentence stays exact source text.
    assert vfs.sentences[0].text.endswith("bulbar symptoms")
    # 000 cites a seventh reference its list does not have: kept as an unlisted marker.
    dose = next(p for p in doc.passages if p.text.startswith("Riluzole 50 mg"))
    assert dose.markers == (3, 7) and [r.n for r in dose.references] == [3]


def test_003_references_heading_has_no_entries_but_markers_are_read(corpus):
    doc = corpus.documents[D003]
    assert "\nReferences\n" in doc.text
    assert doc.references == []
    label = next(p for p in doc.passages if p.text.startswith("The recommended dosage"))
    assert label.markers == (2,)
    assert label.sentences[0].text.endswith("after a meal")  # "... meal 2." marker peeled
    assert label.section == ("From the FDA Drug Label",)


def test_004_has_no_references_and_its_lost_headings_get_the_maintainers_names(corpus):
    doc = corpus.documents[D004]
    assert doc.references == []
    assert all(not p.markers for p in doc.passages)
    sections = {p.text[:30]: p.section for p in doc.passages}
    assert sections["The cause of ALS is unknown. G"] == ("Causes",)
    assert sections["The first signs of ALS are sub"] == ("Symptoms",)
    assert sections["There are no current guideline"] == ("Prevention",)
    assert any(p.section == ("Risk Factors",) for p in doc.passages)


def test_001_numbered_reference_list_and_separate_disclaimer(corpus):
    doc = corpus.documents[D001]
    assert [r.n for r in doc.references] == [1, 2, 3]
    assert doc.references[0].year == 2003
    assert "Krivickas" not in " ".join(p.text for p in doc.passages)
    kinds = [p.kind for p in doc.passages]
    assert kinds.count("disclaimer") == 1 and kinds[-1] == "disclaimer"
    # Sentences are split on the page's double spaces without losing exactness.
    first = doc.passages[0]
    assert len(first.sentences) >= 5


def test_metadata_last_updated_matches_the_page(corpus):
    for doc in corpus.documents.values():
        m = re.search(r"(?:Last updated:|Updated -) (\w+ \d+, \d{4})", doc.text)
        if m:
            assert doc.meta.last_updated is not None
            assert doc.meta.last_updated.strftime("%B %-d, %Y") == m.group(1), doc.id
        else:
            assert doc.meta.last_updated is None, doc.id


def test_malformed_metadata_names_the_file_and_the_field(corpus_copy):
    meta = corpus_copy / f"{D002}.meta.yaml"
    meta.write_text(meta.read_text().replace("audience: clinician", "audience: doctors"))
    with pytest.raises(CorpusError) as err:
        Corpus.load(corpus_copy)
    assert meta.name in str(err.value) and "audience" in str(err.value)


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
