"""``amber-eval sensitivity``: how much the protocol's open choices move the scores.

The CRTNet paper leaves choices open, and its own text words the instruction two ways. The same
captions are judged under variants of the default protocol (template ``paper``, the caption
selection given, by default in dump order; no system prompt):

- template ``paper-alt`` (the paper's other wording);
- caption order reversed, and shuffled with seeds 1, 2 and 3;
- a system prompt (:data:`SYSTEM_PROMPT`, or the one given).

Every variant is a normal run (its own run folder; answers through the store, so nothing is
asked twice). For each variant and block the F1 and the paired bootstrap difference from the
default (both resampled with the same images) are reported with its interval, marking those
that exclude 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from amber_eval.captions.selection import Order
from amber_eval.errors import InputError
from amber_eval.judge.base import Judge
from amber_eval.judge_options import JudgeOptions
from amber_eval.registry import Registry
from amber_eval.reporting.bootstrap import image_counts, paired_difference
from amber_eval.reporting.run_data import load_run
from amber_eval.run_folder.config import RunConfig
from amber_eval.statistics.image_bootstrap import DEFAULT_RESAMPLES
from amber_eval.terms import QUESTION_BLOCKS

SYSTEM_PROMPT = "You are a helpful assistant."
SHUFFLE_SEEDS = (1, 2, 3)
JudgeFactory = Callable[[RunConfig], Judge]


@dataclass(frozen=True)
class Variant:
    name: str
    config: RunConfig


@dataclass(frozen=True)
class SensitivityRow:
    variant: str
    block: str
    f1: float | None
    difference: float | None
    low: float | None
    high: float | None
    excludes_zero: bool


@dataclass(frozen=True)
class SensitivityReport:
    images: int
    level: float
    resamples: int
    seed: int | None
    folders: dict[str, str]
    rows: tuple[SensitivityRow, ...]


def variants(base: RunConfig, *, system_prompt: str = SYSTEM_PROMPT) -> list[Variant]:
    """The default protocol (``base`` with template ``paper``, its caption selection, no
    system prompt) and its variants."""
    options = replace(base.judge_options, system_prompt=None)
    default = replace(base, template="paper", judge_options=options)
    listed = [
        Variant("default", default),
        Variant("template paper-alt", replace(default, template="paper-alt")),
        Variant("order reversed", _ordered(default, "reversed")),
    ]
    listed += [
        Variant(f"order shuffled (seed {seed})", _ordered(default, "shuffled", seed))
        for seed in SHUFFLE_SEEDS
    ]
    listed.append(
        Variant(
            "system prompt on",
            replace(default, judge_options=replace(options, system_prompt=system_prompt)),
        )
    )
    return listed


def _ordered(config: RunConfig, order: Order, seed: int = 0) -> RunConfig:
    """``config`` with its captions in ``order`` (the rest of its selection kept)."""
    return replace(config, selection=replace(config.selection, order=order, seed=seed))


def default_judge_factory() -> JudgeFactory:
    """Loads each distinct judge setting once (the variants mostly share one)."""
    from amber_eval.judge import load_judge

    loaded: dict[tuple[str, JudgeOptions], Judge] = {}

    def factory(config: RunConfig) -> Judge:
        key = (config.llm, config.judge_options)
        if key not in loaded:
            loaded[key] = load_judge(config.llm, options=config.judge_options)
        return loaded[key]

    return factory


def sensitivity(
    base: RunConfig,
    *,
    judge_factory: JudgeFactory | None = None,
    system_prompt: str = SYSTEM_PROMPT,
    level: float = 95.0,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
) -> SensitivityReport:
    """Judge ``base``'s captions under every variant and compare each with the default."""
    from amber_eval.reporting.run_outputs import write_run_outputs
    from amber_eval.runs.pipeline import run_evaluation

    factory = judge_factory or default_judge_factory()
    folders: dict[str, str] = {}
    counts = {}
    for variant in variants(base, system_prompt=system_prompt):
        result = run_evaluation(variant.config, judge=factory(variant.config))
        write_run_outputs(result.folder)
        folders[variant.name] = str(result.folder)
        run = load_run(result.folder)
        counts[variant.name] = image_counts(run.answers(), rules="strict")
    default = counts["default"]
    if not default.images:
        raise InputError("the default run has no answers to compare")
    rows: list[SensitivityRow] = []
    for name, variant_counts in counts.items():
        comparison = paired_difference(
            variant_counts, default, resamples=resamples, seed=seed, level=level
        )
        for block in QUESTION_BLOCKS:
            key = f"{block}.F1"
            interval = comparison.difference[key]
            rows.append(
                SensitivityRow(
                    variant=name,
                    block=block,
                    f1=comparison.a.get(key),
                    difference=None if name == "default" else interval.estimate,
                    low=None if name == "default" else interval.low,
                    high=None if name == "default" else interval.high,
                    excludes_zero=name != "default" and interval.excludes_zero,
                )
            )
    return SensitivityReport(
        images=len(default.images),
        level=level,
        resamples=resamples,
        seed=seed,
        folders=folders,
        rows=tuple(rows),
    )


# --- rendering ------------------------------------------------------------------------------


def _number(value: float | None, sign: str = "") -> str:
    return "--" if value is None else f"{value:{sign}.1f}"


def _interval(row: SensitivityRow) -> str:
    if row.low is None or row.high is None:
        return "--"
    return f"[{row.low:+.1f}, {row.high:+.1f}]"


def _note(report: SensitivityReport) -> str:
    return (
        f"F1 (class No, strict) per variant and block on {report.images} images; difference: "
        f"variant - default, {report.level:g}% paired bootstrap interval over images "
        f"({report.resamples} resamples, seed {report.seed}); *: the interval excludes 0."
    )


def sensitivity_markdown(report: SensitivityReport) -> str:
    from amber_eval.reporting.formats import markdown_escape

    lines = [
        f"| Variant | Block | F1 | Difference | {report.level:g}% interval |",
        "| :--- | :--- | ---: | ---: | :---: |",
    ]
    for row in report.rows:
        mark = " \\*" if row.excludes_zero else ""
        lines.append(
            f"| {markdown_escape(row.variant)} | {row.block} | {_number(row.f1)} | "
            f"{_number(row.difference, '+')}{mark} | {_interval(row)} |"
        )
    lines += ["", markdown_escape(_note(report))]
    return "\n".join(lines) + "\n"


def sensitivity_latex(report: SensitivityReport) -> str:
    from amber_eval.reporting.formats import booktabs_table, tex_escape

    rows = [
        f"{tex_escape(row.variant)} & {row.block} & {_number(row.f1)} & "
        f"{_number(row.difference, '+')}{r'$^*$' if row.excludes_zero else ''} & {_interval(row)}"
        for row in report.rows
    ]
    header = rf"Variant & Block & F1 & $\Delta$ & {report.level:g}\% interval"
    return booktabs_table("sensitivity", "llrrc", header, rows, _note(report))


def _records(report: SensitivityReport) -> list[dict[str, Any]]:
    return [dict(row.__dict__) for row in report.rows]


def sensitivity_csv(report: SensitivityReport) -> str:
    import pandas as pd

    frame = pd.DataFrame.from_records(
        _records(report),
        columns=["variant", "block", "f1", "difference", "low", "high", "excludes_zero"],
    )
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


def sensitivity_json(report: SensitivityReport) -> str:
    data = {
        "images": report.images,
        "ci": {"level": report.level, "resamples": report.resamples, "seed": report.seed},
        "runs": report.folders,
        "rows": _records(report),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


SENSITIVITY_RENDERERS: Registry[Callable[[SensitivityReport], str]] = Registry("format")
SENSITIVITY_RENDERERS.add("markdown", sensitivity_markdown, "Markdown")
SENSITIVITY_RENDERERS.add("latex", sensitivity_latex, "LaTeX (booktabs)")
SENSITIVITY_RENDERERS.add("csv", sensitivity_csv, "CSV")
SENSITIVITY_RENDERERS.add("json", sensitivity_json, "JSON")


def render_sensitivity(report: SensitivityReport, fmt: str) -> str:
    """``report`` in the registered format ``fmt`` (did-you-mean on an unknown name)."""
    return SENSITIVITY_RENDERERS.load(fmt)(report)
