"""Bootstrap confidence intervals over images, vectorised with numpy.

AMBER's metrics are ratios of sums of per-item counts. Each image contributes one row of counts
(its Yes/No questions per block, and its description's CHAIR/Cover/Cog/Hal counts), so a
bootstrap resample of images is a weighted sum of those rows: ``sums = W @ counts`` where
``W[r, i]`` is how many times resample ``r`` drew image ``i``. An image's questions and its
description are always resampled together, which keeps their correlation (and makes the AMBER
score, which mixes CHAIR and F1, resample correctly).

Metrics here are the strict definitions computed from unrounded counts (no 0.001 counters, no
eps); with ``mode="official"`` each answer is read the upstream way from the response the run
wrote for it (the decision ``Yes``/``No``, or the raw text of an unparseable answer), so the
interval describes the official figures' sampling spread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from amber_eval.errors import InputError
from amber_eval.terms import DIMENSION_BLOCKS, QUESTION_BLOCKS

if TYPE_CHECKING:
    from amber_eval.answer_line import AnswerLine

QUESTION_COUNTS = ("n", "correct", "ans_no", "tp", "truth_no", "ans_yes", "unknown")
#: The counts of one description's coverage record.
DESCRIPTION_COUNTS = (
    "chair_score",
    "chair_num",
    "cover_score",
    "cover_num",
    "cog_score",
    "cog_num",
    "hallucination_free",
)
GENERATIVE_COUNTS = (*DESCRIPTION_COUNTS, "descriptions")
COUNT_NAMES: tuple[str, ...] = (
    *(f"{block}.{count}" for block in QUESTION_BLOCKS for count in QUESTION_COUNTS),
    *(f"generative.{count}" for count in GENERATIVE_COUNTS),
)
_INDEX = {name: i for i, name in enumerate(COUNT_NAMES)}
DEFAULT_RESAMPLES = 1000
_CHUNK = 2000  # resamples per matrix product: bounds memory for large resample counts


@dataclass(frozen=True)
class ImageCounts:
    """Per-image count rows: ``counts[i, k]`` is count ``COUNT_NAMES[k]`` of ``images[i]``."""

    images: tuple[str, ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        if self.counts.shape != (len(self.images), len(COUNT_NAMES)):
            raise ValueError(f"counts have shape {self.counts.shape}")

    def subset(self, images: Sequence[str]) -> ImageCounts:
        position = {image: i for i, image in enumerate(self.images)}
        rows = [position[image] for image in images]
        return ImageCounts(tuple(images), self.counts[rows])


def image_counts(
    answers: Iterable[AnswerLine],
    descriptions: Iterable[Mapping[str, Any]] = (),
    *,
    mode: str = "strict",
) -> ImageCounts:
    """Count rows per image from answer records and description (coverage) records."""
    rows: dict[str, np.ndarray] = {}

    def row(image: str) -> np.ndarray:
        if image not in rows:
            rows[image] = np.zeros(len(COUNT_NAMES))
        return rows[image]

    for line in answers:
        dimension, truth = line.dimension, line.truth
        parsed = line.reading(mode)  # type: ignore[arg-type]
        target = row(line.image)
        increments = {
            "n": 1,
            "correct": parsed == truth,
            "ans_no": parsed == "no",
            "tp": parsed == "no" and truth == "no",
            "truth_no": truth == "no",
            "ans_yes": parsed == "yes",
            "unknown": parsed == "unknown",
        }
        for block in ("overall", *DIMENSION_BLOCKS[dimension]):
            for count, value in increments.items():
                if value:
                    target[_INDEX[f"{block}.{count}"]] += float(value)
    for record in descriptions:
        target = row(str(record.get("image")))
        for count in GENERATIVE_COUNTS[:-2]:
            target[_INDEX[f"generative.{count}"]] += float(record.get(count) or 0)
        target[_INDEX["generative.hallucination_free"]] += float(
            bool(record.get("hallucination_free"))
        )
        target[_INDEX["generative.descriptions"]] += 1.0
    images = tuple(sorted(rows, key=_image_order))
    counts = np.array([rows[image] for image in images]).reshape(len(images), len(COUNT_NAMES))
    return ImageCounts(images, counts)


def _image_order(image: str) -> tuple[int, str]:
    digits = "".join(ch for ch in image if ch.isdigit())
    return (int(digits) if digits else -1, image)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, 100.0 * numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def metrics_from_sums(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Metric key (``"overall.F1"``) -> values, from count sums of shape ``(..., len(COUNT_NAMES))``.

    Percentages; an empty denominator gives NaN (n/a); F1 is 0 when P or R is 0.
    """

    def c(name: str) -> np.ndarray:
        return np.asarray(sums[..., _INDEX[name]], dtype=np.float64)

    out: dict[str, np.ndarray] = {}
    for block in QUESTION_BLOCKS:
        n = c(f"{block}.n")
        precision = _ratio(c(f"{block}.tp"), c(f"{block}.ans_no"))
        recall = _ratio(c(f"{block}.tp"), c(f"{block}.truth_no"))
        with np.errstate(divide="ignore", invalid="ignore"):
            total = precision + recall
            f1 = np.where(total > 0, 2.0 * precision * recall / np.where(total > 0, total, 1), 0.0)
        f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
        out[f"{block}.Accuracy"] = _ratio(c(f"{block}.correct"), n)
        out[f"{block}.Precision"] = precision
        out[f"{block}.Recall"] = recall
        out[f"{block}.F1"] = f1
        out[f"{block}.n"] = n
        out[f"{block}.yes_ratio"] = _ratio(c(f"{block}.ans_yes"), n)
        out[f"{block}.parse_failure_rate"] = _ratio(c(f"{block}.unknown"), n)
    out["generative.CHAIR"] = _ratio(c("generative.chair_score"), c("generative.chair_num"))
    out["generative.Cover"] = _ratio(c("generative.cover_score"), c("generative.cover_num"))
    out["generative.Cog"] = _ratio(c("generative.cog_score"), c("generative.cog_num"))
    out["generative.Hal"] = 100.0 - _ratio(
        c("generative.hallucination_free"), c("generative.descriptions")
    )
    out["score.AMBER"] = (100.0 - out["generative.CHAIR"] + out["overall.F1"]) / 2.0
    return out


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


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _intervals(
    estimates: Mapping[str, np.ndarray], samples: Mapping[str, np.ndarray], level: float
) -> dict[str, Interval]:
    tail = (100.0 - level) / 2.0
    result: dict[str, Interval] = {}
    for key, values in samples.items():
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            low = high = None
        else:
            low_value, high_value = np.percentile(finite, [tail, 100.0 - tail])
            low, high = float(low_value), float(high_value)
        result[key] = Interval(_finite(float(estimates[key])), low, high)
    return result


def _check(level: float, resamples: int) -> None:
    if not 0.0 < level < 100.0:
        raise InputError(f"--ci must be a confidence level between 0 and 100, not {level}")
    if resamples < 1:
        raise InputError(f"--resamples must be at least 1, not {resamples}")


def _sample_metrics(
    counts: Sequence[np.ndarray], resamples: int, seed: int | None
) -> list[dict[str, np.ndarray]]:
    """Metric samples for each count matrix, all under the same image resamples."""
    n_images = counts[0].shape[0]
    if n_images == 0:
        raise InputError("no images to resample: the runs have no answers or descriptions")
    rng = np.random.default_rng(seed)
    chunks: list[list[dict[str, np.ndarray]]] = [[] for _ in counts]
    done = 0
    while done < resamples:
        size = min(_CHUNK, resamples - done)
        weights = resample_weights(n_images, size, rng)
        for position, matrix in enumerate(counts):
            chunks[position].append(metrics_from_sums(weights @ matrix))
        done += size
    return [
        {key: np.concatenate([part[key] for part in parts]) for key in parts[0]} for parts in chunks
    ]


def bootstrap(
    counts: ImageCounts,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    level: float = 95.0,
) -> dict[str, Interval]:
    """Percentile intervals at ``level`` % for every metric, resampling images."""
    _check(level, resamples)
    (samples,) = _sample_metrics([counts.counts], resamples, seed)
    estimates = metrics_from_sums(counts.counts.sum(axis=0))
    return _intervals(estimates, samples, level)


@dataclass(frozen=True)
class PairedComparison:
    images: int
    """Images in both runs (the resampling units)."""
    only_a: int
    only_b: int
    a: dict[str, float | None]
    b: dict[str, float | None]
    difference: dict[str, Interval]
    """``a - b`` per metric: the estimate and its percentile interval."""


def paired_difference(
    a: ImageCounts,
    b: ImageCounts,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    level: float = 95.0,
) -> PairedComparison:
    """``a - b`` for every metric, both runs resampled with the same images each time."""
    _check(level, resamples)
    in_b = set(b.images)
    shared = [image for image in a.images if image in in_b]
    if not shared:
        raise InputError("the two runs share no image: a paired comparison needs the same images")
    a_shared, b_shared = a.subset(shared), b.subset(shared)
    samples_a, samples_b = _sample_metrics([a_shared.counts, b_shared.counts], resamples, seed)
    est_a = metrics_from_sums(a_shared.counts.sum(axis=0))
    est_b = metrics_from_sums(b_shared.counts.sum(axis=0))
    differences = {key: samples_a[key] - samples_b[key] for key in samples_a}
    estimates = {key: est_a[key] - est_b[key] for key in est_a}
    return PairedComparison(
        images=len(shared),
        only_a=len(a.images) - len(shared),
        only_b=len(b.images) - len(shared),
        a={key: _finite(float(value)) for key, value in est_a.items()},
        b={key: _finite(float(value)) for key, value in est_b.items()},
        difference=_intervals(estimates, differences, level),
    )
