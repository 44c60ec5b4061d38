"""The table model: rows of metric values (runs and published rows) in a layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from amber_eval.reporting.bootstrap import bootstrap, image_counts
from amber_eval.reporting.layouts import Column, Layout, get_layout
from amber_eval.reporting.reference import ReferenceSet, reference_for_layout
from amber_eval.reporting.run_data import RunData, apply_names
from amber_eval.statistics.image_bootstrap import DEFAULT_RESAMPLES, Interval
from amber_eval.terms import Rules, UnknownPolicy

if TYPE_CHECKING:
    import pandas as pd

RowSource = Literal["run", "published", "ceiling"]
"""A row's origin: a run, published figures, or a judge's ceiling (its oracle-caption run)."""
CEILING_SUFFIX = " (judge ceiling)"


@dataclass(frozen=True)
class TableRow:
    label: str
    source: RowSource
    origin: str
    """The run folder (``<model>/<llm>-<hash>``) or the reference set name."""
    values: Mapping[str, float | None]
    intervals: Mapping[str, Interval] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    """The useless-judge alarm's short notes for a run row (tables mark the row)."""
    spacy_pipeline: Mapping[str, Any] | None = None
    """The spaCy pipeline of a run row's generative metrics, when recorded."""
    images: int | None = None
    questions: int | None = None
    """What a run row covers (None for published rows, and where ``run.json`` does not say)."""

    @property
    def scope(self) -> tuple[int | None, int | None]:
        return (self.images, self.questions)


@dataclass(frozen=True)
class CISettings:
    level: float = 95.0
    resamples: int = DEFAULT_RESAMPLES
    seed: int | None = 0


@dataclass(frozen=True)
class Table:
    layout: Layout
    rules: Rules
    rows: tuple[TableRow, ...]
    references: tuple[ReferenceSet, ...] = ()
    ci: CISettings | None = None
    unknown: UnknownPolicy = "wrong"
    """How the runs' unparsed Yes/No answers count (strict): wrong, or left out."""

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.layout.columns

    @property
    def scores(self) -> str:
        """The scores the table shows, as its notes name them."""
        return scores_name(self.rules, self.unknown)

    def display(self, column: Column, value: float | None) -> str | None:
        """The printed figure: one decimal (counts as integers); None when missing."""
        if value is None:
            return None
        if column.is_count:
            return f"{value:.0f}"
        return f"{value:.1f}"

    @property
    def ranked_scope(self) -> tuple[int | None, int | None] | None:
        """The scope of the rows that compete for bold: that of the first run row whose judge
        raised no alarm, among those covering the most questions."""
        candidates = [row for row in self.rows if row.source == "run" and not row.warnings]
        if not candidates:
            return None
        return max(candidates, key=lambda row: row.questions or 0).scope

    def competes(self, row: TableRow) -> bool:
        """Whether ``row`` may hold a best value: a run row (never published figures or a
        judge's ceiling) whose judge raised no alarm, on the questions of :attr:`ranked_scope`."""
        return row.source == "run" and not row.warnings and row.scope == self.ranked_scope

    def best(self) -> dict[str, set[int]]:
        """Column key -> indices of the rows holding the best printed value (ties all win).

        Printed (one-decimal) values of the rows that :meth:`compete <competes>` are compared;
        a column with fewer than two such values has no best value.
        """
        best: dict[str, set[int]] = {}
        for column in self.columns:
            if not column.ranked:
                continue
            shown = [
                (i, float(text))
                for i, row in enumerate(self.rows)
                if self.competes(row)
                and (text := self.display(column, row.values.get(column.key))) is not None
            ]
            if len(shown) < 2:  # a best value needs something to be better than
                continue
            pick = min if column.lower_is_better else max
            target = pick(value for _, value in shown)
            best[column.key] = {i for i, value in shown if value == target}
        return best

    def to_dataframe(self) -> pd.DataFrame:
        """One row per table row: label, source, origin, each column (and its interval)."""
        import pandas as pd

        records: list[dict[str, Any]] = []
        for row in self.rows:
            record: dict[str, Any] = {
                "label": row.label,
                "source": row.source,
                "origin": row.origin,
            }
            for column in self.columns:
                record[column.key] = row.values.get(column.key)
                if self.ci is not None:
                    interval = row.intervals.get(column.key)
                    record[f"{column.key}.low"] = interval.low if interval else None
                    record[f"{column.key}.high"] = interval.high if interval else None
            records.append(record)
        columns = ["label", "source", "origin"]
        for column in self.columns:
            columns.append(column.key)
            if self.ci is not None:
                columns += [f"{column.key}.low", f"{column.key}.high"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        for column in self.columns:
            if column.is_count:
                numbers = pd.to_numeric(frame[column.key], errors="coerce")
                frame[column.key] = numbers.round().astype("Int64")
        return frame


def scores_name(rules: Rules, unknown: UnknownPolicy = "wrong") -> str:
    """``strict`` or ``official``, and the parse policy when unparsed answers are left out."""
    return rules if unknown == "wrong" else f"{rules} (unparsed Yes/No answers excluded)"


def run_origin(run: RunData) -> str:
    return f"{run.path.parent.name}/{run.path.name}"


IntervalCache = dict[tuple[str, str, CISettings, str], dict[str, Interval]]


def run_intervals(
    run: RunData,
    rules: Rules,
    ci: CISettings,
    cache: IntervalCache | None = None,
    unknown: UnknownPolicy = "wrong",
) -> dict[str, Interval]:
    """Bootstrap intervals of every metric of ``run`` (empty when it has no answers).

    ``cache`` (any dict) keeps them for further tables of the same run and settings.
    """
    key = (str(run.path.resolve()), rules, ci, unknown)
    if cache is not None and key in cache:
        return cache[key]
    counts = image_counts(run.answers(), run.coverage_records(rules), rules=rules, unknown=unknown)
    intervals: dict[str, Interval] = {}
    if counts.images:
        intervals = bootstrap(counts, resamples=ci.resamples, seed=ci.seed, level=ci.level)
        if not run.coverage_available:
            intervals = {
                k: v for k, v in intervals.items() if not k.startswith(("generative.", "score."))
            }
    if cache is not None:
        cache[key] = intervals
    return intervals


def run_row(
    run: RunData,
    label: str,
    layout: Layout,
    rules: Rules,
    ci: CISettings | None,
    cache: IntervalCache | None = None,
    unknown: UnknownPolicy = "wrong",
) -> TableRow:
    values = run.values(rules, unknown)
    intervals: dict[str, Interval] = {}
    if ci is not None:
        computed = run_intervals(run, rules, ci, cache, unknown)
        intervals = {key: computed[key] for key in layout.keys if key in computed}
    return TableRow(
        label=label,
        source="run",
        origin=run_origin(run),
        values={key: values.get(key) for key in layout.keys},
        intervals=intervals,
        warnings=tuple(warning.short for warning in run.judge_warnings()),
        spacy_pipeline=run.spacy_pipeline if run.coverage_available else None,
        images=run.images,
        questions=run.questions,
    )


def build_table(
    runs: Sequence[RunData],
    *,
    layout: str | Layout = "amber",
    rules: Rules = "strict",
    names: Mapping[str, str] | None = None,
    labels: Sequence[str] | None = None,
    references: Sequence[str] = (),
    ci: CISettings | None = None,
    interval_cache: IntervalCache | None = None,
    ceiling: Sequence[RunData] = (),
    unknown: UnknownPolicy = "wrong",
) -> Table:
    """A table of ``runs`` (labelled by ``labels``, else ``names``, else model + LLM) in ``layout``,
    after the published rows of ``references``; the ``ceiling`` runs (a judge's run on the oracle
    captions, see ``amber-eval judge-check``) come last, one row each. ``unknown`` is the parse
    policy of the runs' strict Yes/No metrics (published rows are as published)."""
    chosen = get_layout(layout) if isinstance(layout, str) else layout
    if labels is None:
        labels = apply_names(runs, names or {})
    reference_sets = [reference_for_layout(name, chosen) for name in dict.fromkeys(references)]
    rows: list[TableRow] = [
        TableRow(
            label=reference_row.model,
            source="published",
            origin=reference.name,
            values={key: reference_row.values.get(key) for key in chosen.keys},
        )
        for reference in reference_sets
        for reference_row in reference.rows
    ]
    rows += [
        run_row(run, label, chosen, rules, ci, interval_cache, unknown)
        for run, label in zip(runs, labels, strict=True)
    ]
    for run in ceiling:
        row = run_row(
            run, f"{run.llm} on oracle captions", chosen, rules, ci, interval_cache, unknown
        )
        rows.append(replace(row, label=row.label + CEILING_SUFFIX, source="ceiling"))
    return Table(chosen, rules, tuple(rows), tuple(reference_sets), ci, unknown)
