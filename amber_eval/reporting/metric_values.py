"""Score blocks as tables show them: one column key (``"overall.F1"``) per value, rates as
percentages, and the AMBER score. The run's figures (:mod:`amber_eval.reporting.run_data`) and
the bootstrap's resamples (:mod:`amber_eval.reporting.bootstrap`) both go through here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from amber_eval.scoring.result import amber_score
from amber_eval.terms import BLOCK_ORDER, FRACTION_METRICS

BLOCKS = BLOCK_ORDER


def number_or_none(value: Any) -> float | None:
    """``value`` as a float, or None where it is not a number (or is NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def metric_values(
    blocks: Mapping[str, Any], *, amber: float | None = None
) -> dict[str, float | None]:
    """Column key (``"overall.F1"``) -> value of score blocks, as tables show them: fractions
    (the Yes-ratio, the parse-failure rate) as percentages, and ``score.AMBER`` (``amber``, else
    from the generative CHAIR and the overall F1). The run's figures and the bootstrap's
    resamples both go through here."""
    values: dict[str, float | None] = {}
    for block in BLOCKS:
        metrics = blocks.get(block)
        if isinstance(metrics, Mapping):
            for metric, value in metrics.items():
                number = number_or_none(value)
                if metric in FRACTION_METRICS and number is not None:
                    number *= 100.0  # shown as percentages, like every other rate
                values[f"{block}.{metric}"] = number
    if amber is None:
        amber = amber_score(values.get("generative.CHAIR"), values.get("overall.F1"))
    values["score.AMBER"] = amber
    return values
