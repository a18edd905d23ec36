"""Input bounds without the model: questions, histories, CLI lines, corpus files, index folder."""

from __future__ import annotations

import io

import pytest

from assistant import cli
from assistant.corpus import Corpus, CorpusError
from assistant.inputs import LIMITS, InputLimits, validate_history, validate_question


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x9b31mWhat is riluzole?", "control characters"),  # C1: the terminal's CSI
        ("What is riluzole?\x85", "control characters"),  # C1: next line
        ("What is riluzole?\x80", "control characters"),
        ("\u202eWhat is riluzole?", "control characters"),  # right-to-left override
        ("What is \u202driluzole?", "control characters"),  # left-to-right override
        ("What is \u2067riluzole\u2069?", "control characters"),  # isolates
        ("What is riluzole?\x1b", "control characters"),  # C0 as before
        ("\u200b \u2060", "empty"),  # nothing but invisible characters
    ],
)
def test_c1_controls_and_bidi_overrides_are_rejected(text, expected):
    with pytest.raises(ValueError, match=expected):
        validate_question(text)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("rilu\u200bzole dose", "riluzole dose"),  # zero-width space
        ("rilu\u200c\u200dzole", "riluzole"),  # joiners
        ("rilu\u00adzole", "riluzole"),  # soft hyphen
        ("\ufeffriluzole", "riluzole"),  # byte-order mark
        ("ｒｉｌｕｚｏｌｅ ５０ ｍｇ？", "riluzole 50 mg?"),  # full-width forms
        ("What is ﬁrst-line care?", "What is first-line care?"),  # ligature
        ("riluzole\u00a0dose", "riluzole dose"),  # no-break space
        ("Tab\tand new\nline", "Tab\tand new\nline"),  # single whitespace stays
        # runs of blank lines and spaces are one (a long run made instruction patterns slow)
        ("What is\n\n \n\n\nALS?", "What is\n\nALS?"),
        ("riluzole" + " " * 500 + "dose?", "riluzole dose?"),
        ("Ärzte: wie viel Riluzol?", "Ärzte: wie viel Riluzol?"),
    ],
)
def test_invisible_and_full_width_characters_are_normalised(text, normal):
    assert validate_question(text) == normal


def test_the_question_limit_is_counted_after_normalisation():
    assert validate_question("a" * 2000 + "\u200b" * 10) == "a" * 2000
    with pytest.raises(ValueError, match="too long"):
        validate_question("a" * 2001)


def test_history_is_bounded_by_messages_and_characters():
    limits = InputLimits(max_history_messages=4, max_history_chars=100)
    ok = [{"role": "user", "content": "x" * 25}, {"role": "assistant", "content": "y" * 25}]
    assert validate_history(ok * 2, max_turns=6, limits=limits) == ok * 2
    assert validate_history(ok * 2, max_turns=1, limits=limits) == ok  # only the recent turns
    with pytest.raises(ValueError, match=r"history is too long \(6 messages; the limit is 4\)"):
        validate_history(ok * 3, max_turns=6, limits=limits)
    with pytest.raises(ValueError, match="over 100 characters"):
        validate_history([ok[0], {"role": "assistant", "content": "z" * 76}], 6, limits)


def test_an_oversized_history_is_refused_before_it_is_read():
    huge = [{"role": "user", "content": "x" * 50_000_000}] + [{"role": "wizard"}] * 5
    with pytest.raises(ValueError, match="history is too long"):
        validate_history(huge, max_turns=6)  # the bad roles after it are never reached
    many = [{"role": "user", "content": ""}] * 10_000_000
    with pytest.raises(ValueError, match="10000000 messages"):  # counted, not walked
        validate_history(many, max_turns=6)


def test_limits_are_validated_and_documented():
    assert LIMITS.max_question_chars == 2000
    for name, field in InputLimits.model_fields.items():
        assert field.description, name
    with pytest.raises(ValueError):
        InputLimits(max_question_chars=0)
    with pytest.raises(ValueError):
        InputLimits(unknown=1)


def test_chat_lines_are_read_with_a_bound():
    stdin = io.BytesIO(b"a" * 50 + b"\n" + b"b" * 10_000 + b"\nnext\n")
    assert cli._read_line(stdin, 100) == b"a" * 50 + b"\n"
    assert cli._read_line(stdin, 100) == b"b" * 100  # the rest of that line is dropped
    assert cli._read_line(stdin, 100) == b"next\n"
    assert cli._read_line(stdin, 100) is None


# --- the corpus folder ---------------------------------------------------------------------


def test_an_empty_document_is_a_warning_that_names_it(corpus_copy, caplog):
    (corpus_copy / "005_empty.txt").write_text("  \n\n", encoding="utf-8")
    (corpus_copy / "005_empty.meta.yaml").write_text("title: x\n", encoding="utf-8")
    corpus = Corpus.load(corpus_copy)
    assert "005_empty" not in corpus.documents and len(corpus.documents) == 5
    assert [w for w in corpus.warnings if "005_empty.txt: empty document" in w]
    assert "005_empty.txt: empty document" in caplog.text


def test_an_unsupported_file_in_the_corpus_is_named(corpus_copy, caplog):
    (corpus_copy / "guideline.pdf").write_bytes(b"%PDF-1.7\n")
    (corpus_copy / "NOTES").write_text("to do", encoding="utf-8")
    (corpus_copy / ".DS_Store").write_bytes(b"\x00")
    corpus = Corpus.load(corpus_copy)
    assert len(corpus.documents) == 5
    assert any("guideline.pdf" in w and "'.pdf'" in w for w in corpus.warnings), corpus.warnings
    assert any("NOTES" in w for w in corpus.warnings)
    assert not any(".DS_Store" in w for w in corpus.warnings)  # hidden files are not ours
    assert "guideline.pdf" in caplog.text


def test_a_corpus_of_empty_documents_is_an_error(tmp_path):
    (tmp_path / "a.txt").write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match="every document is empty"):
        Corpus.load(tmp_path)


def test_ingest_names_the_skipped_files_on_stderr(corpus_copy, tmp_path, capfd):
    (corpus_copy / "guideline.pdf").write_bytes(b"%PDF-1.7\n")
    index = tmp_path / "ix"
    index.write_text("a file, not a folder")  # and the index folder is bad input
    status = cli.main(["ingest", "--corpus-dir", str(corpus_copy), "--index-dir", str(index)])
    err = capfd.readouterr().err
    assert status == 2
    assert "warning: " in err and "guideline.pdf" in err
    assert "the index folder is a file" in err and "Traceback" not in err
