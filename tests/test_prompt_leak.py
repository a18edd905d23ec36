"""The guard drops a drafted sentence that repeats the prompt instead of the sources.

The real local model was seen echoing a passage's header, "(<document title> — <section>)",
with its citation; such a header, or "The passage [1] says: ...", can keep enough of the
passage's words to pass word support. Scripted fake models reproduce those drafts; no language
model and no embedding model is loaded (``fake_bot``).
"""

from __future__ import annotations

import re

from fakes import ScriptedChatModel
from test_meaning_guard import passage, verify, with_model

from assistant.llm.parsing import format_passages

LEAK = "repeats the prompt"
ONSET = "Limb-onset ALS (two-thirds of cases):"


def _header(p) -> str:
    """The passage's header as the prompt shows it: ``(title — section)``."""
    return re.match(r"\[1\] (\(.*\)) ", format_passages([p])).group(1)


def test_a_passage_header_echoed_with_its_citation_is_dropped(fake_bot):
    p = passage(ONSET)
    assert p.meta.title in _header(p)
    checked = verify(fake_bot, f"{_header(p)} [1]", ONSET)
    assert checked.sentences == [] and LEAK in checked.violations[0], checked.violations


def test_a_header_is_dropped_even_when_the_passage_itself_repeats_its_title(fake_bot):
    p = passage("ALS is a relentlessly progressive neurodegenerative")
    assert p.meta.title.lower() in p.stated.lower()  # the page's own heading is in the passage
    echoed = f"{_header(p)} {p.sentences[-1].text} [1]"
    checked = verify(fake_bot, echoed, "ALS is a relentlessly progressive neurodegenerative")
    assert checked.sentences == [] and LEAK in checked.violations[0], checked.violations


def test_talk_of_the_passages_is_dropped_and_the_source_sentence_kept(fake_bot):
    sentence = passage(ONSET).sentences[0].text
    text = f"- The passage [1] says: {sentence} [1]\n- {sentence} [1]"
    checked = verify(fake_bot, text, ONSET)
    assert [s.text for s in checked.sentences] == [sentence]
    assert len(checked.violations) == 1 and "'passage'" in checked.violations[0]


def test_a_prompt_word_the_cited_passage_itself_uses_is_no_leak(fake_bot):
    p = passage(ONSET)
    assert fake_bot.guard.prompt_leak("Limb-onset ALS is two-thirds of cases", [p], [p]) is None
    assert fake_bot.guard.prompt_leak(f"See {p.meta.title.upper()}", [p], [p]) is not None


def test_a_model_echoing_headers_never_reaches_the_answer(fake_bot):
    question = "What are the symptoms of limb-onset ALS?"

    def reply(prompt: str) -> str:
        headers = re.findall(r"^\[(\d+)\] (\(.*?\)) ", prompt, re.M)
        return "\n".join(f"- {h} [{n}]" for n, h in headers)

    d = with_model(fake_bot, ScriptedChatModel(script=[reply])).ask(question, "clinician")
    d = d.to_dict()
    assert d["status"] == "answered" and d["composer"] == "extractive"
    assert " — " not in d["answer"] and "›" not in d["answer"]
    assert all(LEAK in v for v in d["guard"]["violations"]) and d["draft"]["replaced"]
