"""Bootstrap confidence intervals over images.

AMBER's metrics are ratios of sums of per-item counts. Each image contributes one row of counts
(its Yes/No questions' tallies per dimension, and its description's CHAIR/Cover/Cog/Hal sums),
so a bootstrap resample of images is a weighted sum of those rows: ``sums = W @ counts`` where
``W[r, i]`` is how many times resample ``r`` drew image ``i`` (one numpy matrix product). An
image's questions and its description are always resampled together, which keeps their
correlation (and makes the AMBER score, which mixes CHAIR and F1, resample correctly).

The metrics of a resample's sums come from scoring's own aggregation, the functions that
compute ``metrics.json``: :func:`amber_eval.scoring.discriminative.blocks_from_tallies`,
:func:`amber_eval.scoring.generative.generative_metrics` and
:func:`amber_eval.scoring.result.amber_score`, flattened by
:func:`amber_eval.reporting.metric_values.metric_values`. So the estimate (all images once) is the
run's own figure. ``rules="official"`` reads each answer the upstream way from the response the run
wrote for it (the decision ``Yes``/``No``, or the raw text of an unparseable answer), takes the
descriptions as scored under the official rules (``coverage.jsonl``'s official lines) and
aggregates with its 0.001 counters and rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from amber_eval.amber_images import image_sort_key
from amber_eval.errors import InputError
from amber_eval.reporting.metric_values import metric_values
from amber_eval.run_folder.coverage_line import DESCRIPTION_COUNTS, CoverageLine
from amber_eval.scoring.discriminative import (
    TALLY_COUNTERS,
    Tally,
    blocks_from_tallies,
    tally_start,
)
from amber_eval.scoring.generative import GenerativeTally, generative_metrics
from amber_eval.scoring.records import question_record
from amber_eval.statistics.image_bootstrap import (
    DEFAULT_RESAMPLES,
    Interval,
    finite_or_none,
    percentile_interval,
    resample_weights,
)
from amber_eval.terms import DIMENSION_NAMES, Rules, UnknownPolicy

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine

#: The :class:`Tally` counters of one dimension's questions (``*_num`` without their start).
QUESTION_COUNTS = TALLY_COUNTERS
GENERATIVE_COUNTS = (*DESCRIPTION_COUNTS, "hallucination_free", "descriptions")
COUNT_NAMES: tuple[str, ...] = (
    *(f"{dimension}.{count}" for dimension in DIMENSION_NAMES for count in QUESTION_COUNTS),
    *(f"generative.{count}" for count in GENERATIVE_COUNTS),
)
_INDEX = {name: i for i, name in enumerate(COUNT_NAMES)}
_CHUNK = 2000  # resamples per matrix product: bounds memory for large resample counts


@dataclass(frozen=True)
class ImageCounts:
    """Per-image count rows: ``counts[i, k]`` is count ``COUNT_NAMES[k]`` of ``images[i]``;
    ``rules`` is how the answers were read and how the sums are aggregated."""

    images: tuple[str, ...]
    counts: np.ndarray
    rules: Rules = "strict"

    def __post_init__(self) -> None:
        if self.counts.shape != (len(self.images), len(COUNT_NAMES)):
            raise ValueError(f"counts have shape {self.counts.shape}")

    def subset(self, images: Sequence[str]) -> ImageCounts:
        position = {image: i for i, image in enumerate(self.images)}
        rows = [position[image] for image in images]
        return ImageCounts(tuple(images), self.counts[rows], self.rules)


def image_counts(
    answers: Iterable[AnswerLine],
    descriptions: Iterable[CoverageLine] = (),
    *,
    rules: Rules = "strict",
    unknown: UnknownPolicy = "wrong",
) -> ImageCounts:
    """Count rows per image from answer lines and the description (coverage) lines scored
    under ``rules``; ``unknown="exclude"`` leaves out the answers that read as neither Yes nor
    No (an image whose answers are all left out keeps its description counts)."""
    rows: dict[str, np.ndarray] = {}

    def row(image: str) -> np.ndarray:
        if image not in rows:
            rows[image] = np.zeros(len(COUNT_NAMES))
        return rows[image]

    tallies: dict[tuple[str, str], Tally] = {}
    for line in answers:  # counted by scoring's own Tally.add, per image and dimension
        record = question_record(line, rules)
        if unknown == "exclude" and record.parsed == "unknown":
            row(record.image)
            continue
        key = (record.image, record.dimension)
        tallies.setdefault(key, Tally.empty(0)).add(record.parsed, record.truth)
    for (image, dimension), tally in tallies.items():
        target = row(image)
        for count in QUESTION_COUNTS:
            target[_INDEX[f"{dimension}.{count}"]] += float(getattr(tally, count))
    for description in descriptions:
        if description.rules != rules:
            raise ValueError(f"a {description.rules} description line among {rules} counts")
        target = row(description.image)
        for count in DESCRIPTION_COUNTS:
            target[_INDEX[f"generative.{count}"]] += float(getattr(description, count))
        target[_INDEX["generative.hallucination_free"]] += float(description.hallucination_free)
        target[_INDEX["generative.descriptions"]] += 1.0
    images = tuple(sorted(rows, key=image_sort_key))
    counts = np.array([rows[image] for image in images]).reshape(len(images), len(COUNT_NAMES))
    return ImageCounts(images, counts, rules)


def _tally(counts: Sequence[float], start: float) -> Tally:
    """A :class:`Tally` of summed :data:`QUESTION_COUNTS`, its ``*_num`` from ``start``."""
    values: dict[str, Any] = dict(zip(QUESTION_COUNTS, counts, strict=True))
    for name in ("correct_num", "no_num", "ans_no_num"):
        values[name] = start + values[name]
    for name in ("n", "yes", "unknown"):
        values[name] = int(values[name])
    return Tally(**values)


def _generative_tally(counts: Sequence[float], start: float) -> GenerativeTally:
    """A :class:`GenerativeTally` of summed :data:`GENERATIVE_COUNTS`."""
    chair_s, chair_n, cover_s, cover_n, cog_s, cog_n, free, descriptions = counts
    return GenerativeTally(
        chair_num=start + chair_n,
        cover_num=start + cover_n,
        cog_num=start + cog_n,
        n=start + descriptions,
        chair_score=chair_s,
        cover_score=cover_s,
        cog_score=cog_s,
        free=free,
    )


def _row_values(sums: np.ndarray, rules: Rules) -> list[dict[str, float | None]]:
    """The metric values of each row of count sums ``(rows, len(COUNT_NAMES))``, through
    scoring's aggregation (as ``metrics.json``) and :func:`metric_values` (as tables)."""

    start = tally_start(rules)
    width = len(QUESTION_COUNTS)
    parts = {d: sums[:, i * width : (i + 1) * width] for i, d in enumerate(DIMENSION_NAMES)}
    parts["overall"] = sum(parts.values(), np.zeros((sums.shape[0], width)))
    rows = {name: part.tolist() for name, part in parts.items()}
    generative = sums[:, len(DIMENSION_NAMES) * width :].tolist()
    values = []
    for r, counts in enumerate(generative):
        tallies = {name: _tally(rows[name][r], start) for name in rows}
        blocks: dict[str, Mapping[str, Any]] = dict(
            blocks_from_tallies(tallies, eval_type="d", rules=rules)
        )
        blocks["generative"] = generative_metrics(_generative_tally(counts, start), rules=rules)
        values.append(metric_values(blocks))
    return values


def metrics_from_sums(sums: np.ndarray, *, rules: Rules = "strict") -> dict[str, np.ndarray]:
    """Metric key (``"overall.F1"``) -> values, from count sums of shape
    ``(..., len(COUNT_NAMES))``: percentages as tables show them; n/a is NaN."""
    array = np.asarray(sums, dtype=np.float64)
    per_row = _row_values(array.reshape(-1, len(COUNT_NAMES)), rules)
    if not per_row:
        return {}
    return {
        key: np.array(
            [np.nan if values.get(key) is None else values[key] for values in per_row],
            dtype=np.float64,
        ).reshape(array.shape[:-1])
        for key in per_row[0]
    }


def _intervals(
    estimates: Mapping[str, np.ndarray], samples: Mapping[str, np.ndarray], level: float
) -> dict[str, Interval]:
    return {
        key: percentile_interval(float(estimates[key]), values, level)
        for key, values in samples.items()
    }


def _check(level: float, resamples: int) -> None:
    if not 0.0 < level < 100.0:
        raise InputError(f"--ci must be a confidence level between 0 and 100, not {level}")
    if resamples < 1:
        raise InputError(f"--resamples must be at least 1, not {resamples}")


def _sample_metrics(
    counts: Sequence[np.ndarray], resamples: int, seed: int | None, rules: Rules
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
            chunks[position].append(metrics_from_sums(weights @ matrix, rules=rules))
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
    (samples,) = _sample_metrics([counts.counts], resamples, seed, counts.rules)
    estimates = metrics_from_sums(counts.counts.sum(axis=0), rules=counts.rules)
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
    if a.rules != b.rules:
        raise ValueError("both runs' counts must be read under the same rules")
    a_shared, b_shared = a.subset(shared), b.subset(shared)
    samples_a, samples_b = _sample_metrics(
        [a_shared.counts, b_shared.counts], resamples, seed, a.rules
    )
    est_a = metrics_from_sums(a_shared.counts.sum(axis=0), rules=a.rules)
    est_b = metrics_from_sums(b_shared.counts.sum(axis=0), rules=a.rules)
    differences = {key: samples_a[key] - samples_b[key] for key in samples_a}
    estimates = {key: est_a[key] - est_b[key] for key in est_a}
    return PairedComparison(
        images=len(shared),
        only_a=len(a.images) - len(shared),
        only_b=len(b.images) - len(shared),
        a={key: finite_or_none(float(value)) for key, value in est_a.items()},
        b={key: finite_or_none(float(value)) for key, value in est_b.items()},
        difference=_intervals(estimates, differences, level),
    )
