"""Labelled routing examples: the nearest ones decide a question its words leave undecided
(a deterministic fake embedder; no model)."""

from __future__ import annotations

import pytest
from embedders import FakeEmbedder

from assistant.exemplars import Example, Exemplars
from assistant.route import Router
from assistant.rules import Rules, RulesError

EXAMPLES = [
    Example(audience="clinician", question="glial inclusions axonal degeneration criteria"),
    Example(audience="clinician", question="axonal degeneration glial criteria workup"),
    Example(audience="clinician", question="glial axonal criteria inclusions"),
    Example(audience="patient", question="zebra giraffe picnic sandwiches"),
    Example(audience="patient", question="giraffe picnic zebra lemonade"),
    Example(audience="patient", question="picnic sandwiches lemonade giraffe"),
]


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load()


def _router(rules, embed, **tune) -> Router:
    routing = rules.tuning.routing.model_copy(update={"example_k": 3, **tune})
    rules = Rules(
        **{**rules.__dict__, "tuning": rules.tuning.model_copy(update={"routing": routing})}
    )
    return Router(rules, None, Exemplars(EXAMPLES, embed, k=3))


def test_the_nearest_examples_decide_and_say_so(rules):
    router = _router(rules, FakeEmbedder())
    r = router.route("glial axonal inclusions?", "auto")
    assert r.audience == "clinician" and r.weak and r.by_register
    assert "nearest labelled questions" in r.reason and "clinician" in r.reason
    r = router.route("zebra picnic giraffe?", "auto")
    assert r.audience == "patient" and "nearest labelled questions" in r.reason


def test_examples_that_are_not_near_say_nothing(rules):
    router = _router(rules, FakeEmbedder(), example_min_similarity=0.99)
    r = router.route("glial axonal inclusions?", "auto")
    assert r.audience == "patient" and "nearest" not in r.reason and not r.by_register


def test_examples_never_overturn_the_words_lean(rules):
    # "his" leans patient by half a point: a weak signal, but the examples may not overturn it.
    router = _router(rules, FakeEmbedder())
    r = router.route("his glial axonal inclusions?", "auto")
    assert r.weak and r.audience == "patient" and "nearest" not in r.reason


def test_vectors_are_kept_and_rebuilt_when_the_examples_or_the_model_change(tmp_path):
    embed = FakeEmbedder()
    first = Exemplars(EXAMPLES, embed, k=3, cache=tmp_path)
    first.vote("glial")
    made = embed.calls
    assert made == len(EXAMPLES) + 2  # a probe, every example, the question
    again = Exemplars(EXAMPLES, embed, k=3, cache=tmp_path)
    again.vote("glial")
    assert embed.calls == made + 2  # the probe and the question: the vectors were read
    changed = Exemplars(EXAMPLES[:-1], embed, k=3, cache=tmp_path)
    changed.vote("glial")
    assert embed.calls == made + 2 + 1 + len(EXAMPLES) - 1 + 1
    other = FakeEmbedder(trigram_weight=2.0)  # another model: same size, other vectors
    Exemplars(EXAMPLES[:-1], other, k=3, cache=tmp_path).vote("glial")
    assert other.calls == 1 + len(EXAMPLES) - 1 + 1


def test_no_model_or_no_examples_means_no_vote(tmp_path):
    assert Exemplars(EXAMPLES, None).vote("glial") is None
    assert Exemplars([], FakeEmbedder()).vote("glial") is None
    assert Exemplars.load(tmp_path, FakeEmbedder(), 3).examples == []


def test_the_examples_file_is_validated(rules_copy):
    (rules_copy / "routing_examples.yaml").write_text(
        "examples:\n  - {audience: nurse, question: 'x'}\n", encoding="utf-8"
    )
    with pytest.raises(RulesError, match=r"routing_examples\.yaml"):
        Exemplars.load(rules_copy, FakeEmbedder(), 3)


def test_the_packaged_examples_load_and_cover_both_audiences(rules):
    ex = Exemplars.load(rules.folder, None, 5)
    sides = {e.audience for e in ex.examples}
    assert sides == {"clinician", "patient"} and len(ex.examples) >= 100


def test_a_bare_first_person_says_someone_asks_not_who(rules):
    router = _router(rules, FakeEmbedder())
    r = router.route("should i glial axonal inclusions?", "auto")  # "should i" is bare
    assert r.audience == "clinician" and "only a bare first person" in r.reason
    r = router.route("my glial axonal inclusions?", "auto")  # "my" is the asker's own
    assert r.audience == "patient" and "nearest" not in r.reason


def test_a_question_embedded_for_the_vote_is_not_embedded_again():
    from assistant.embeddings import RecentQueries

    fake = FakeEmbedder()
    recent = RecentQueries(fake, size=2)
    first = recent(["glial axonal?"])
    assert recent(["glial axonal?"]) == first and fake.calls == 1
    recent(["a"])
    recent(["b"])  # the oldest goes: at most ``size`` are kept
    recent(["glial axonal?"])
    assert fake.calls == 4 and len(recent._recent) == 2
