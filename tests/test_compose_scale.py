"""Compose's corpus-wide look-ups: the indexed and vectorised forms give what a full pass over
the corpus gives (so a per-answer loop over the corpus is never needed for them)."""

import numpy as np
import pytest

from assistant.corpus import Sentence
from assistant.sentences import Meaning, SentenceVectors
from assistant.structure import Structure


class P:
    """A passage with only what the look-ups read."""

    def __init__(self, pid: str, starts: list[int]):
        self.id = pid
        self.sentences = [Sentence(f"s{k}", k, k + 1) for k in starts]


def _vectors(n_passages: int, seed: int) -> tuple[list[P], SentenceVectors, np.ndarray]:
    rng = np.random.default_rng(seed)
    passages = [P(f"p{k:03d}", list(range(rng.integers(1, 4)))) for k in range(n_passages)]
    keys = [(p.id, s.start) for p in passages for s in p.sentences]
    keep = [k for k in keys if rng.random() > 0.1]  # some sentences have no vector
    rows = {k: r for r, k in enumerate(keep)}
    matrix = rng.standard_normal((len(keep), 8)).astype(np.float32)
    return passages, SentenceVectors(rows, matrix), rng.standard_normal(8).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_and_closest_match_a_full_sort(seed):
    passages, vectors, q = _vectors(60, seed)
    meaning = vectors.relative(q)
    at = {row: key for key, row in vectors.rows.items()}
    for n, floor in ((5, 0.0), (200, -10.0), (3, 0.5), (0, 0.0)):
        order = np.argsort(-meaning.values, kind="stable")[:n]
        want = [at[int(r)] for r in order if meaning.values[r] >= floor]
        assert meaning.best(n, floor) == want
    best = [max(meaning(p.id, s.start) for s in p.sentences) for p in passages]
    want = [passages[k] for k in sorted(range(len(passages)), key=lambda k: -best[k])[:7]]
    assert meaning.closest("all", passages, 7) == want
    bare = Meaning(meaning.rows, meaning.values)  # no row index: the plain pass
    assert bare.best(5, 0.0) == meaning.best(5, 0.0)
    assert bare.closest("all", passages, 7) == want


def test_first_using_merges_sorted_lists():
    st = Structure()
    st._using = {"a": {"p3", "p1", "p9"}, "b": {"p2", "p3"}, "c": set()}
    assert st.first_using({"a", "b"}, 3) == ["p1", "p2", "p3"]
    assert st.first_using({"a", "b", "c", "zz"}, 12) == ["p1", "p2", "p3", "p9"]
    assert st.first_using({"a"}, 0) == []
