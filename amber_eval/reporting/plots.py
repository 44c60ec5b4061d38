"""Matplotlib figures for the HTML report, returned as PNG data URIs (no files, no network)."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

from amber_eval.terms import DIMENSION_NAMES, QUESTION_BLOCKS

DIMENSION_ORDER = DIMENSION_NAMES
PLOT_BLOCKS = QUESTION_BLOCKS


def _png(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _legend_outside(axis: Any) -> None:
    """The legend to the right of the axes, never over the data (``bbox_inches="tight"``
    widens the figure to hold it)."""
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _bar_groups(
    axis: Any, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> None:
    width = 0.8 / max(len(series), 1)
    for position, (name, values) in enumerate(series):
        xs = [i + (position - (len(series) - 1) / 2) * width for i in range(len(groups))]
        heights = [0.0 if v is None else v for v in values]
        axis.bar(xs, heights, width=width, label=name)
    axis.set_xticks(range(len(groups)))
    axis.set_xticklabels(groups, rotation=30, ha="right")


def prf_bars(runs: Sequence[tuple[str, Mapping[str, float | None]]]) -> str:
    """Precision, recall and F1 per dimension block, one bar per run."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    for axis, metric in zip(axes, ("Precision", "Recall", "F1"), strict=True):
        _bar_groups(
            axis,
            PLOT_BLOCKS,
            [(label, [values.get(f"{b}.{metric}") for b in PLOT_BLOCKS]) for label, values in runs],
        )
        axis.set_title(metric)
        axis.set_ylim(0, 100)
        axis.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("%")
    if len(runs) > 1:
        _legend_outside(axes[-1])
    return _png(figure)


def yes_ratio_bars(
    truth: Mapping[str, float | None], runs: Sequence[tuple[str, Mapping[str, float | None]]]
) -> str:
    """Share of "yes" among the truths and among each run's answers, per dimension."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 3.4))
    series = [("truth", [truth.get(d) for d in DIMENSION_ORDER])]
    series += [
        (f"answers: {label}", [values.get(d) for d in DIMENSION_ORDER]) for label, values in runs
    ]
    _bar_groups(axis, DIMENSION_ORDER, series)
    if len(series) <= 3:  # label the bars (a 0% bar is otherwise invisible)
        for container in axis.containers:
            axis.bar_label(container, fmt="%.0f", fontsize=7)
    axis.set_ylabel("Yes %")
    axis.set_ylim(0, 100)
    axis.grid(axis="y", alpha=0.3)
    _legend_outside(axis)
    return _png(figure)


def calibration_curve(runs: Sequence[tuple[str, Sequence[float], Sequence[bool]]]) -> str:
    """Observed share of truth "yes" against the recorded P(yes), in ten bins."""
    import numpy as np

    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(4.6, 4.2))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
    edges = np.linspace(0.0, 1.0, 11)
    for label, p_yes, truth in runs:
        p = np.asarray(p_yes, dtype=float)
        t = np.asarray(truth, dtype=float)
        bins = np.clip(np.digitize(p, edges[1:-1]), 0, 9)
        counts = np.bincount(bins, minlength=10)
        mean_p = np.bincount(bins, weights=p, minlength=10)
        mean_t = np.bincount(bins, weights=t, minlength=10)
        keep = counts > 0
        ece = float(np.sum(np.abs(mean_p[keep] - mean_t[keep])) / max(len(p), 1))
        axis.plot(
            mean_p[keep] / counts[keep],
            mean_t[keep] / counts[keep],
            marker="o",
            label=f"{label} (ECE {ece:.3f})",
        )
    axis.set_xlabel("P(yes) recorded by the judge")
    axis.set_ylabel("share of questions whose truth is yes")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3)
    _legend_outside(axis)
    return _png(figure)


def coverage_histogram(runs: Sequence[tuple[str, Sequence[float]]]) -> str:
    """Per-image Cover (share of truth objects the captions cover): one histogram for up to
    three runs (outlines when several), one small panel per run beyond, so that six or more
    runs stay readable."""
    plt = _pyplot()
    if len(runs) > 3:
        columns = 3
        rows = (len(runs) + columns - 1) // columns
        figure, grid = plt.subplots(
            rows, columns, figsize=(10, 2.2 * rows), sharex=True, sharey=True, squeeze=False
        )
        panels = [axis for row in grid for axis in row]
        for axis, (label, values) in zip(panels, runs, strict=False):
            axis.hist(values, bins=20, range=(0, 100), alpha=0.8)
            axis.set_title(label, fontsize=8)
            axis.grid(alpha=0.3)
        for axis in panels[len(runs) :]:
            axis.set_visible(False)
        for axis in grid[-1]:
            axis.set_xlabel("Cover per image (%)")
        for row in grid:
            row[0].set_ylabel("images")
        figure.tight_layout()
        return _png(figure)
    figure, axis = plt.subplots(figsize=(6, 3.2))
    for label, values in runs:
        if len(runs) == 1:
            axis.hist(values, bins=20, range=(0, 100), alpha=0.6, label=label)
        else:
            axis.hist(values, bins=20, range=(0, 100), histtype="step", linewidth=1.5, label=label)
    axis.set_xlabel("Cover per image (%)")
    axis.set_ylabel("images")
    axis.grid(alpha=0.3)
    if len(runs) > 1:
        _legend_outside(axis)
    return _png(figure)
