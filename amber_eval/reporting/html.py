"""The self-contained HTML report: summary tables, plots and a per-image drill-down.

Everything is inline: the plots are PNG data URIs, the per-image data is JSON inside a
``<script type="application/json">`` element (with ``<``, ``>`` and ``&`` written as ``\\u003c``,
``\\u003e`` and ``\\u0026``, so no text in it can close the element), and the page's script
renders it with ``textContent`` only, so a caption or an answer holding markup stays text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from amber_eval.amber_images import image_sort_key
from amber_eval.reporting.formats import PUBLISHED_MARK
from amber_eval.reporting.run_data import RunData, apply_names
from amber_eval.reporting.tables import CISettings, Table, build_table, scores_name
from amber_eval.run_folder.coverage_line import DESCRIPTION_COUNTS
from amber_eval.scoring.records import question_record
from amber_eval.terms import DIMENSION_NAMES, Rules, UnknownPolicy

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine

log = logging.getLogger(__name__)

DIMENSIONS = DIMENSION_NAMES
SUMMARY_LAYOUTS = ("amber", "attribute", "expressiveness", "full")
PAGE_SIZE = 20


def script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` characters."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _common_prefix(texts: Sequence[str]) -> str:
    if not texts:
        return ""
    low, high = min(texts), max(texts)
    size = 0
    while size < len(low) and low[size] == high[size]:
        size += 1
    return low[:size]


def _split_prompts(prompts: Sequence[str]) -> tuple[str, str, list[str]]:
    """Each image's prompts share a captions prefix and an instruction suffix: store them once.

    The cuts fall on sentence (else word) boundaries, so the middle part reads as the question.
    """
    if len(prompts) < 2:
        return "", "", list(prompts)
    prefix = _cut_prefix(_common_prefix(prompts))
    rests = [p[len(prefix) :] for p in prompts]
    suffix = _cut_suffix(_common_prefix([r[::-1] for r in rests])[::-1])
    middles = [r[: len(r) - len(suffix)] for r in rests]
    return prefix, suffix, middles


_SENTENCE_ENDS = (". ", "? ", "! ", "\n")


def _cut_prefix(prefix: str) -> str:
    ends = [prefix.rfind(mark) + len(mark) for mark in _SENTENCE_ENDS if mark in prefix]
    return prefix[: max(ends)] if ends else prefix[: prefix.rfind(" ") + 1]


def _cut_suffix(suffix: str) -> str:
    starts = [suffix.find(mark) + 1 for mark in _SENTENCE_ENDS if mark in suffix]
    start = min(starts) if starts else (suffix.find(" ") if " " in suffix else len(suffix))
    return suffix[start:]


def _parsed_code(parsed: Any) -> int:
    return {"no": 0, "yes": 1}.get(str(parsed), 2)


def _alarm(run: RunData, label: str) -> dict[str, Any]:
    """One run's alarm for the top of the report: its main reason (the accuracy against
    always-No when it fired, else the first warning) and every warning's message."""
    warnings = run.judge_warnings()
    main = next((w for w in warnings if w.code == "not-above-always-no"), warnings[0])
    return {
        "label": label,
        "main": main.short,
        "messages": [w.message or w.short for w in warnings],
    }


def run_payload(run: RunData, label: str, rules: Rules) -> dict[str, Any]:
    """The per-image data of one run, compact: question rows are arrays."""
    answers = run.answers()
    coverage = {line.image: line for line in run.coverage_records(rules)}
    captions = run.captions()
    grouped: dict[str, list[AnswerLine]] = {}
    for line in answers:
        grouped.setdefault(line.image, []).append(line)
    order = sorted(set(grouped) | set(coverage), key=image_sort_key)
    images = []
    for image in order:
        lines = sorted(grouped.get(image, []), key=lambda r: r.id)
        prefix, suffix, middles = _split_prompts([line.prompt for line in lines])
        questions = []
        for line, middle in zip(lines, middles, strict=True):
            questions.append(
                [
                    line.id,
                    DIMENSIONS.index(line.dimension),
                    1 if line.truth == "yes" else 0,
                    middle,
                    line.answer,
                    _parsed_code(question_record(line, rules).parsed),
                    None if line.p_yes is None else round(line.p_yes, 4),
                ]
            )
        entry: dict[str, Any] = {"image": image, "pre": prefix, "suf": suffix, "q": questions}
        if image in captions:
            entry["captions"] = captions[image]
        cover = coverage.get(image)
        if cover is not None:
            entry["cov"] = {
                key: getattr(cover, key) for key in (*DESCRIPTION_COUNTS, "hallucination_free")
            }
            if cover.description is not None and "captions" not in entry:
                entry["description"] = cover.description
            if cover.covered or cover.hallucinated:
                entry["nouns"] = {
                    "covered": list(cover.covered),
                    "hallucinated": list(cover.hallucinated),
                }
        images.append(entry)
    return {"label": label, "path": str(run.path), "images": images}


def _table_view(table: Table) -> dict[str, Any]:
    """Header and cell strings for the template (escaped there by Jinja's autoescape)."""
    best = table.best()
    groups: list[dict[str, Any]] = []
    for column in table.columns:
        if groups and column.group and groups[-1]["name"] == column.group:
            groups[-1]["span"] += 1
        else:
            groups.append({"name": column.group, "span": 1})
    rows = []
    for i, row in enumerate(table.rows):
        cells = []
        for column in table.columns:
            text = table.display(column, row.values.get(column.key))
            interval = row.intervals.get(column.key)
            ci = (
                f"[{interval.low:.1f}, {interval.high:.1f}]"
                if interval is not None
                and interval.low is not None
                and interval.high is not None
                and not column.is_count
                else ""
            )
            cells.append({"text": text or "--", "best": i in best.get(column.key, set()), "ci": ci})
        label = row.label + (f" {PUBLISHED_MARK}" if row.source == "published" else "")
        after = i > 0 and table.rows[i - 1].source == "published" and row.source != "published"
        rows.append({"label": label, "cells": cells, "after_published": after})
    return {
        "name": table.layout.name,
        "description": table.layout.description,
        "groups": groups,
        "headers": [
            column.header + (" ↓" if column.ranked and column.lower_is_better else "")
            for column in table.columns
        ],
        "rows": rows,
        "references": [ref.title for ref in table.references],
    }


def _dimension_yes_ratios(
    answers: Sequence[AnswerLine], *, truth: bool, rules: Rules
) -> dict[str, float | None]:
    totals: dict[str, list[int]] = {d: [0, 0] for d in DIMENSIONS}
    for record in (question_record(line, rules) for line in answers):
        yes = record.truth == "yes" if truth else record.parsed == "yes"
        totals[record.dimension][0] += int(yes)
        totals[record.dimension][1] += 1
    return {d: (100.0 * y / n if n else None) for d, (y, n) in totals.items()}


def _plots(
    runs: Sequence[RunData], labels: Sequence[str], rules: Rules
) -> tuple[list[dict[str, str]], str | None]:
    try:
        from amber_eval.reporting import plots
    except ImportError:  # pragma: no cover - plots module itself has no heavy imports
        return [], "plots unavailable"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return [], "Plots need matplotlib: pip install 'amber-eval[report]'."
    figures: list[dict[str, str]] = []
    values = [(label, run.values(rules)) for run, label in zip(runs, labels, strict=True)]
    figures.append(
        {
            "title": 'Precision, recall and F1 per dimension (the positive class is "No")',
            "src": plots.prf_bars(values),
        }
    )
    answers = [run.answers() for run in runs]
    truth = _dimension_yes_ratios(answers[0], truth=True, rules=rules) if answers else {}
    figures.append(
        {
            "title": "Yes-ratio of the answers vs of the truth, per dimension",
            "src": plots.yes_ratio_bars(
                truth,
                [
                    (label, _dimension_yes_ratios(records, truth=False, rules=rules))
                    for label, records in zip(labels, answers, strict=True)
                ],
            ),
        }
    )
    calibration = []
    for label, records in zip(labels, answers, strict=True):
        pairs = [(r.p_yes, r.truth == "yes") for r in records if r.p_yes is not None]
        if pairs:
            calibration.append((label, [p for p, _ in pairs], [t for _, t in pairs]))
    if calibration:
        figures.append(
            {
                "title": "Calibration of the judge's P(yes)",
                "src": plots.calibration_curve(calibration),
            }
        )
    covers = []
    for run, label in zip(runs, labels, strict=True):
        per_image = [
            100.0 * line.cover_score / line.cover_num
            for line in run.coverage_records(rules)
            if line.cover_num
        ]
        if per_image:
            covers.append((label, per_image))
    if covers:
        figures.append(
            {"title": "Caption coverage per image", "src": plots.coverage_histogram(covers)}
        )
    return figures, None


def _coverage_rows(
    runs: Sequence[RunData], labels: Sequence[str], rules: Rules
) -> list[dict[str, str]]:
    rows = []
    for run, label in zip(runs, labels, strict=True):
        if not run.coverage_available:
            rows.append({"label": label, "note": f"not available: {run.coverage_reason}"})
            continue
        values = run.values(rules)
        row = {"label": label, "note": ""}
        for metric in ("CHAIR", "Cover", "Hal", "Cog"):
            value = values.get(f"generative.{metric}")
            row[metric] = "--" if value is None else f"{value:.1f}"
        rows.append(row)
    return rows


def render_html(
    runs: Sequence[RunData],
    *,
    rules: Rules = "strict",
    labels: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    references: Sequence[str] = (),
    ci: CISettings | None = None,
    layouts: Sequence[str] = SUMMARY_LAYOUTS,
    ceiling: Sequence[RunData] = (),
    unknown: UnknownPolicy = "wrong",
) -> str:
    """The report of ``runs`` as one self-contained HTML document (``unknown``: the parse
    policy of the tables' strict Yes/No metrics)."""
    import jinja2
    from markupsafe import Markup

    from amber_eval import __version__
    from amber_eval.reporting.layouts import get_layout
    from amber_eval.reporting.reference import reference_sets

    if labels is None:
        labels = apply_names(runs, names or {})
    tables = []
    interval_cache: dict[Any, Any] = {}
    for layout in layouts:
        chosen = get_layout(layout)
        fitting = [name for name in references if reference_sets()[name].fills(chosen)]
        table = build_table(
            runs,
            layout=chosen,
            rules=rules,
            labels=labels,
            references=fitting,
            ci=ci,
            interval_cache=interval_cache,
            ceiling=ceiling,
            unknown=unknown,
        )
        tables.append(_table_view(table))
    figures, plot_note = _plots(runs, labels, rules)
    payload = {
        "mode": rules,
        "dimensions": list(DIMENSIONS),
        "pageSize": PAGE_SIZE,
        "runs": [run_payload(run, label, rules) for run, label in zip(runs, labels, strict=True)],
    }
    template_text = (resources.files("amber_eval") / "resources" / "report.html.jinja").read_text(
        "utf-8"
    )
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    return environment.from_string(template_text).render(
        version=__version__,
        mode=scores_name(rules, unknown),
        labels=labels,
        tables=tables,
        figures=figures,
        plot_note=plot_note,
        coverage_rows=_coverage_rows(runs, labels, rules),
        alarms=[
            _alarm(run, label)
            for run, label in zip(runs, labels, strict=True)
            if run.judge_warnings()
        ],
        ci=ci,
        data_json=Markup(script_json(payload)),  # noqa: S704 - escaped by script_json
    )
