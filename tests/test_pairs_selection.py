"""The exact cut: radix selection over spilled (key, score) arrays vs an in-memory sort."""

from __future__ import annotations

import numpy as np
import pytest

from amber_eval.pairs.selection import (
    discard_count,
    discard_mask,
    find_cut,
    select_kth,
    sortable,
    unsortable,
)
from amber_eval.pairs.spill import SCORE_DTYPE


def _arrays(scores: list[float], keys: list[int], parts: int) -> list[np.ndarray]:
    array = np.zeros(len(scores), dtype=SCORE_DTYPE)
    array["score"] = scores
    array["key"] = keys
    return list(np.array_split(array, parts))


def _in_memory_discard(scores: list[float], keys: list[int], ratio: float) -> set[int]:
    """The reference: sort everything by (score, key), take floor(ratio x n) from the bottom."""
    values = np.asarray(scores, dtype=np.float32)
    order = sorted(range(len(keys)), key=lambda i: (float(values[i]), keys[i]))
    return {keys[i] for i in order[: discard_count(len(keys), ratio)]}


def test_sortable_preserves_float_order() -> None:
    values = np.array([-np.inf, -2.5, -1e-30, 0.0, 1e-30, 0.5, 1.0, np.inf], dtype=np.float32)
    bits = sortable(values)
    assert list(np.argsort(bits, kind="stable")) == list(range(len(values)))
    assert [unsortable(int(b)) for b in bits] == [float(v) for v in values]


def test_discard_count_is_exact_floor() -> None:
    assert discard_count(100, 0.29) == 29  # 0.29 * 100 == 28.999999999999996 in floats
    assert discard_count(10, 0.7) == 7
    assert discard_count(7, 0.5) == 3
    assert discard_count(5, 0.0) == 0
    assert discard_count(5, 1.0) == 5


def test_hand_built_ties_straddling_the_cut() -> None:
    # Scores:   0.1 (key 9), 0.2 (keys 1, 5, 7), 0.3 (key 3); floor(0.6 x 5) = 3 discarded:
    # key 9, then the two smallest keys of the 0.2 tie (1, 5). Key 7 is kept.
    scores = [0.2, 0.3, 0.2, 0.1, 0.2]
    keys = [7, 3, 1, 9, 5]
    arrays = _arrays(scores, keys, 2)
    cut = find_cut(lambda: arrays, 5, 0.6)
    assert cut is not None
    assert cut.key == 5 and cut.score == pytest.approx(0.2)
    mask = np.concatenate([discard_mask(a["score"], a["key"], cut) for a in arrays])
    assert {k for k, m in zip(keys, mask, strict=True) if m} == {9, 1, 5}


def test_nothing_or_everything() -> None:
    arrays = _arrays([0.5, -0.5], [1, 2], 1)
    assert find_cut(lambda: arrays, 2, 0.4) is None
    assert not discard_mask(arrays[0]["score"], arrays[0]["key"], None).any()
    cut = find_cut(lambda: arrays, 2, 1.0)
    assert discard_mask(arrays[0]["score"], arrays[0]["key"], cut).all()
    with pytest.raises(ValueError, match="beyond"):
        select_kth(lambda: arrays, 2)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gather_limit", [1, 5, 1 << 20])
def test_matches_in_memory_sort(seed: int, gather_limit: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 400))
    if seed % 2:  # heavy ties: a handful of distinct scores
        scores = rng.choice(np.array([-0.25, 0.0, 0.125, 0.5], dtype=np.float32), n).tolist()
    else:
        scores = rng.normal(scale=0.3, size=n).astype(np.float32).tolist()
    # Keys like the pipeline's (ordinal << 16 | phrase index), some with high bits set.
    keys = [int(k) for k in rng.choice(1 << 40, size=n, replace=False) << 16]
    arrays = _arrays(scores, keys, int(rng.integers(1, 5)))
    for ratio in (0.0, 0.1, 0.37, 0.5, 0.99, 1.0):
        cut = find_cut(lambda: arrays, n, ratio, gather_limit=gather_limit)
        mask = np.concatenate([discard_mask(a["score"], a["key"], cut) for a in arrays])
        got = {k for k, m in zip(keys, mask, strict=True) if m}
        assert got == _in_memory_discard(scores, keys, ratio)
