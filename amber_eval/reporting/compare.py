"""Paired bootstrap comparison of two runs: ``a - b`` per metric, with its interval."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from amber_eval.registry import Registry
from amber_eval.reporting.bootstrap import PairedComparison, image_counts, paired_difference
from amber_eval.reporting.formats import markdown_escape
from amber_eval.reporting.layouts import Column, get_layout
from amber_eval.reporting.run_data import RunData
from amber_eval.reporting.tables import CISettings
from amber_eval.terms import Rules


@dataclass(frozen=True)
class ComparisonRow:
    metric: str
    a: float | None
    b: float | None
    difference: float | None
    low: float | None
    high: float | None
    excludes_zero: bool
    lower_is_better: bool


@dataclass(frozen=True)
class Comparison:
    label_a: str
    label_b: str
    rules: Rules
    ci: CISettings
    columns: tuple[Column, ...]
    result: PairedComparison

    def rows(self) -> list[ComparisonRow]:
        rows = []
        for column in self.columns:
            interval = self.result.difference.get(column.key)
            if interval is None:
                continue
            rows.append(
                ComparisonRow(
                    metric=column.key,
                    a=self.result.a.get(column.key),
                    b=self.result.b.get(column.key),
                    difference=interval.estimate,
                    low=interval.low,
                    high=interval.high,
                    excludes_zero=interval.excludes_zero,
                    lower_is_better=column.lower_is_better,
                )
            )
        return rows


def compare_runs(
    run_a: RunData,
    run_b: RunData,
    *,
    label_a: str | None = None,
    label_b: str | None = None,
    rules: Rules = "strict",
    layout: str = "full",
    ci: CISettings | None = None,
) -> Comparison:
    """``a - b`` for the ranked metrics of ``layout``, both runs under the same image resamples.

    Estimates come from the runs' answers and coverage records (unrounded counts).
    """
    settings = ci or CISettings()
    counts_a = image_counts(run_a.answers(), run_a.coverage_records(rules), rules=rules)
    counts_b = image_counts(run_b.answers(), run_b.coverage_records(rules), rules=rules)
    result = paired_difference(
        counts_a, counts_b, resamples=settings.resamples, seed=settings.seed, level=settings.level
    )
    columns = tuple(column for column in get_layout(layout).columns if column.ranked)
    if not (run_a.coverage_available and run_b.coverage_available):
        columns = tuple(c for c in columns if c.block not in ("generative", "score"))
    return Comparison(
        label_a or run_a.default_label,
        label_b or run_b.default_label,
        rules,
        settings,
        columns,
        result,
    )


def _fmt(value: float | None, sign: str = "") -> str:
    return "--" if value is None else f"{value:{sign}.1f}"


def comparison_markdown(comparison: Comparison) -> str:
    result = comparison.result
    level = f"{comparison.ci.level:g}%"
    lines = [
        f"A: {markdown_escape(comparison.label_a)}  ",
        f"B: {markdown_escape(comparison.label_b)}  ",
        f"{result.images} images resampled together ({comparison.ci.resamples} resamples, "
        f"seed {comparison.ci.seed}), {comparison.rules} scores.",
    ]
    if result.only_a or result.only_b:
        lines.append(
            f"Only the shared images are compared: {result.only_a} images only in A and "
            f"{result.only_b} only in B are left out."
        )
    lines += [
        "",
        f"| Metric | A | B | A - B | {level} interval | Excludes 0 |",
        "| :--- | ---: | ---: | ---: | :---: | :---: |",
    ]
    for row in comparison.rows():
        interval = "--" if row.low is None else f"[{_fmt(row.low, '+')}, {_fmt(row.high, '+')}]"
        arrow = " ↓" if row.lower_is_better else ""
        lines.append(
            f"| {row.metric}{arrow} | {_fmt(row.a)} | {_fmt(row.b)} | "
            f"{_fmt(row.difference, '+')} | {interval} | {'yes' if row.excludes_zero else 'no'} |"
        )
    excluded = [row.metric for row in comparison.rows() if row.excludes_zero]
    lines += [
        "",
        f"Differences whose {level} interval excludes 0: "
        + (", ".join(excluded) if excluded else "none")
        + ".",
    ]
    return "\n".join(lines) + "\n"


def comparison_json(comparison: Comparison) -> str:
    data = {
        "a": comparison.label_a,
        "b": comparison.label_b,
        "mode": comparison.rules,
        "ci": {
            "level": comparison.ci.level,
            "resamples": comparison.ci.resamples,
            "seed": comparison.ci.seed,
        },
        "images": comparison.result.images,
        "only_a": comparison.result.only_a,
        "only_b": comparison.result.only_b,
        "metrics": [asdict(row) for row in comparison.rows()],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def comparison_csv(comparison: Comparison) -> str:
    import pandas as pd

    frame = pd.DataFrame.from_records(
        [asdict(row) for row in comparison.rows()],
        columns=[
            "metric",
            "a",
            "b",
            "difference",
            "low",
            "high",
            "excludes_zero",
            "lower_is_better",
        ],
    )
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


COMPARISON_RENDERERS: Registry[Callable[[Comparison], str]] = Registry("format")
COMPARISON_RENDERERS.add("markdown", comparison_markdown, "Markdown")
COMPARISON_RENDERERS.add("csv", comparison_csv, "CSV")
COMPARISON_RENDERERS.add("json", comparison_json, "JSON")
COMPARE_FORMATS = tuple(COMPARISON_RENDERERS.names())


def render_comparison(comparison: Comparison, fmt: str) -> str:
    """``comparison`` in the registered format ``fmt`` (did-you-mean on an unknown name)."""
    return COMPARISON_RENDERERS.load(fmt)(comparison)
