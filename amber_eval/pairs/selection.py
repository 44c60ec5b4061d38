"""The exact global cut (method step 4) over scores spilled to disk, in bounded memory.

Phrases are ordered by ``(score, key)``; the ``k``-th smallest is found by a radix selection
over the 96-bit composite ``(sortable score bits, key)``, 16 bits per pass: each pass streams
every shard's scores and counts, in a 65,536-bin histogram, the values of the next 16 bits
among the phrases that match the prefix chosen so far. As soon as the bucket that holds the
answer is small enough it is read into memory and sorted. Memory never depends on the number
of phrases: a chunk of scores, the histogram and at most ``gather_limit`` candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

DIGIT_BITS = 16
DIGITS = 6  # 2 for the 32-bit score, 4 for the 64-bit key
CHUNK = 1 << 20


def sortable(scores: np.ndarray) -> np.ndarray:
    """float32 -> uint32 whose unsigned order is the float order (-0.0 must be canonicalised)."""
    bits = np.ascontiguousarray(scores, dtype="<f4").view("<u4")
    negative = (bits >> 31).astype(bool)
    return np.where(negative, ~bits, bits | np.uint32(0x80000000)).astype(np.uint32)


def unsortable(value: int) -> float:
    """Inverse of :func:`sortable` for one value."""
    bits = value & 0x7FFFFFFF if value & 0x80000000 else ~value & 0xFFFFFFFF
    return float(np.array([bits], dtype="<u4").view("<f4")[0])


def _digit(level: int, score_bits: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if level == 0:
        return (score_bits >> 16).astype(np.int64)
    if level == 1:
        return (score_bits & 0xFFFF).astype(np.int64)
    shift = np.uint64(16 * (5 - level))
    return ((keys >> shift) & np.uint64(0xFFFF)).astype(np.int64)


@dataclass(frozen=True)
class CutPoint:
    """The last discarded phrase: its score (as float and sortable bits) and key."""

    score: float
    score_bits: int
    key: int


Source = Callable[[], Iterable[np.ndarray]]
"""Returns a fresh iterable of structured arrays with fields ``key`` (u8) and ``score`` (f4)."""


def _chunks(source: Source) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for array in source():
        for start in range(0, len(array), CHUNK):
            part = array[start : start + CHUNK]
            yield sortable(np.asarray(part["score"])), np.asarray(part["key"], dtype=np.uint64)


def _matches(prefix: list[int], score_bits: np.ndarray, keys: np.ndarray) -> np.ndarray:
    mask = np.ones(len(keys), dtype=bool)
    for level, value in enumerate(prefix):
        mask &= _digit(level, score_bits, keys) == value
    return mask


def select_kth(source: Source, k: int, *, gather_limit: int = 1 << 20) -> CutPoint:
    """The ``k``-th smallest (0-based) phrase by ``(score, key)`` over all arrays of ``source``."""
    if k < 0:
        raise ValueError("k must be >= 0")
    prefix: list[int] = []
    remaining = k
    for level in range(DIGITS):
        counts = np.zeros(1 << DIGIT_BITS, dtype=np.int64)
        for score_bits, keys in _chunks(source):
            mask = _matches(prefix, score_bits, keys)
            if mask.any():
                counts += np.bincount(
                    _digit(level, score_bits[mask], keys[mask]), minlength=1 << DIGIT_BITS
                )
        total = int(counts.sum())
        if remaining >= total:
            raise ValueError(f"k={k} is beyond the {total} phrases")
        cumulative = np.cumsum(counts)
        bucket = int(np.searchsorted(cumulative, remaining, side="right"))
        remaining -= int(cumulative[bucket - 1]) if bucket else 0
        prefix.append(bucket)
        if int(counts[bucket]) <= gather_limit or level == DIGITS - 1:
            return _gather(source, prefix, remaining)
    raise AssertionError("unreachable")


def _gather(source: Source, prefix: list[int], remaining: int) -> CutPoint:
    bits_parts, key_parts = [], []
    for score_bits, keys in _chunks(source):
        mask = _matches(prefix, score_bits, keys)
        if mask.any():
            bits_parts.append(score_bits[mask])
            key_parts.append(keys[mask])
    bits = np.concatenate(bits_parts)
    keys = np.concatenate(key_parts)
    order = np.lexsort((keys, bits))
    chosen = int(order[remaining])
    value = int(bits[chosen])
    return CutPoint(unsortable(value), value, int(keys[chosen]))


def discard_mask(scores: np.ndarray, keys: np.ndarray, cut: CutPoint | None) -> np.ndarray:
    """True for phrases at or below the cut (all False when nothing is discarded)."""
    if cut is None:
        return np.zeros(len(keys), dtype=bool)
    bits = sortable(scores)
    keys = np.asarray(keys, dtype=np.uint64)
    threshold = np.uint32(cut.score_bits)
    return (bits < threshold) | ((bits == threshold) & (keys <= np.uint64(cut.key)))


def discard_count(total: int, ratio: float) -> int:
    """``floor(ratio x total)``, exact for ratios written with few decimals (0.3 x 10 = 3)."""
    from fractions import Fraction

    return int(Fraction(str(ratio)) * total)


def find_cut(source: Source, total: int, ratio: float, **kwargs: int) -> CutPoint | None:
    """The last phrase to discard, or None when ``floor(ratio x total)`` is 0."""
    count = discard_count(total, ratio)
    return None if count == 0 else select_kth(source, count - 1, **kwargs)
