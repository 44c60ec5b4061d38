"""Bootstrap intervals over images for any statistic computed from per-image count sums.

The one bootstrap of the package: the report's intervals (:mod:`amber_eval.reporting.bootstrap`),
the judge checks and the useless-judge alarm all resample with :func:`resample_weights` and
give an :class:`Interval`. A resample of images is a weight row ``W[r, i]`` (how often image ``i`` was drawn), the resampled sums are
``W @ counts``, and the statistic is evaluated on all resamples at once. Resamples on which the
statistic is undefined (NaN) are left out of the percentiles; when all are, the interval is
undefined too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Statistic = Callable[[np.ndarray], np.ndarray]
DEFAULT_RESAMPLES = 1000


def resample_weights(n_images: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``W[r, i]``: how often resample ``r`` draws image ``i`` (each resample draws n_images)."""
    draws = rng.integers(0, n_images, size=(resamples, n_images))
    offsets = (np.arange(resamples) * n_images)[:, None]
    flat = np.bincount((draws + offsets).ravel(), minlength=resamples * n_images)
    return flat.reshape(resamples, n_images).astype(np.float64)


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    """The metric on the full set of images (from the same counts)."""
    low: float | None
    high: float | None

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def to_json(self) -> dict[str, float | None]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def finite_or_none(value: float) -> float | None:
    """``value``, or None where it is NaN or infinite (an undefined figure)."""
    return float(value) if np.isfinite(value) else None


def image_weights(
    n_images: int, resamples: int = DEFAULT_RESAMPLES, seed: int | None = 0
) -> np.ndarray:
    """The resample weights ``W`` (``resamples x n_images``), reproducible from ``seed``."""
    if n_images < 1:
        raise ValueError("no images to resample")
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    return resample_weights(n_images, resamples, np.random.default_rng(seed))


def percentile_interval(estimate: float, samples: np.ndarray, level: float = 95.0) -> Interval:
    """``estimate`` with the percentile interval of the finite ``samples`` at ``level`` %."""
    if not 0.0 < level < 100.0:
        raise ValueError(f"level must lie between 0 and 100, not {level}")
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return Interval(finite_or_none(estimate), None, None)
    tail = (100.0 - level) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return Interval(finite_or_none(estimate), float(low), float(high))


def interval_over_images(
    counts: np.ndarray,
    statistic: Statistic,
    weights: np.ndarray,
    *,
    level: float = 95.0,
) -> Interval:
    """``statistic`` of all images' summed ``counts`` (``images x K``) and its interval."""
    estimate = float(statistic(counts.sum(axis=0)))
    samples = np.asarray(statistic(weights @ counts), dtype=np.float64)
    return percentile_interval(estimate, samples, level)


def difference_over_images(
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    statistic: Statistic,
    weights: np.ndarray,
    *,
    level: float = 95.0,
) -> Interval:
    """``statistic(a) - statistic(b)`` on the same images, both under the same resamples."""
    estimate = float(statistic(counts_a.sum(axis=0)) - statistic(counts_b.sum(axis=0)))
    samples = statistic(weights @ counts_a) - statistic(weights @ counts_b)
    return percentile_interval(estimate, np.asarray(samples, dtype=np.float64), level)


def rows_by_image(
    images: Sequence[str], rows: Sequence[np.ndarray], order: Sequence[str]
) -> np.ndarray:
    """Sum per-question ``rows`` into one row per image of ``order`` (zeros for none)."""
    position = {image: i for i, image in enumerate(order)}
    width = len(rows[0]) if rows else 0
    out = np.zeros((len(order), width))
    for image, row in zip(images, rows, strict=True):
        out[position[image]] += row
    return out
