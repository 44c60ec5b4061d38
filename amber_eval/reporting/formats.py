"""Rendering a :class:`Table` as LaTeX, Markdown, CSV or JSON (text, never files)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

from amber_eval.registry import Registry
from amber_eval.reporting.latex_fit import (
    LATEX_LABEL_WIDTH,
    TEX_UNDER,
    column_groups,
    latex_parts,
    tex_label,
    tex_stacked,
)
from amber_eval.reporting.layouts import Column
from amber_eval.reporting.tables import Table, TableRow

PUBLISHED_MARK = "†"
ALARM_MARK = "‡"

_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_TEX_PATTERN = re.compile("|".join(re.escape(ch) for ch in _TEX))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def tex_escape(text: str) -> str:
    """``text`` as literal LaTeX text: every special character escaped, line breaks as spaces."""
    text = _CONTROL.sub("", text.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    return _TEX_PATTERN.sub(lambda match: _TEX[match.group(0)], text)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def markdown_escape(text: str) -> str:
    """``text`` as literal Markdown table text (HTML characters as entities)."""
    text = _CONTROL.sub("", text.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _version() -> str:
    from amber_eval import __version__

    return __version__


def _fmt_bound(value: float | None) -> str:
    return "--" if value is None else f"{value:.1f}"


def _cells(
    table: Table,
    emphasise: Callable[[str], str],
    interval: Callable[[str, str], str],
    missing: str,
) -> list[list[str]]:
    best = table.best()
    rows: list[list[str]] = []
    for i, row in enumerate(table.rows):
        cells = []
        for column in table.columns:
            text = table.display(column, row.values.get(column.key))
            if text is None:
                cells.append(missing)
                continue
            if i in best.get(column.key, set()):
                text = emphasise(text)
            bounds = row.intervals.get(column.key)
            if bounds is not None and not column.is_count and bounds.low is not None:
                text += interval(_fmt_bound(bounds.low), _fmt_bound(bounds.high))
            cells.append(text)
        rows.append(cells)
    return rows


def _notes(table: Table, mark: Callable[[str], str]) -> list[str]:
    return [f"{mark(PUBLISHED_MARK)}published figures: {ref.title}." for ref in table.references]


def ceiling_notes(table: Table) -> list[str]:
    """What a judge-ceiling row is, once per table that has one."""
    if not any(row.source == "ceiling" for row in table.rows):
        return []
    return [
        "Judge ceiling: the judge's own answers on the oracle captions (built from AMBER's "
        "annotations, so a perfect judge is right on every question); never bold."
    ]


def alarm_notes(table: Table) -> list[str]:
    """One short line per alarmed run row: its label and the alarm's main reason (the
    accuracy against always-No when it fired, else the first warning) with the count of the
    others; every warning is in the run's ``metrics.json``."""
    notes = []
    for row in table.rows:
        if not row.warnings:
            continue
        main = next((w for w in row.warnings if "always-No" in w), row.warnings[0])
        more = len(row.warnings) - 1
        others = f", and {more} more warning{'s' * (more != 1)}" if more else ""
        notes.append(
            f"{row.label}: the judge looks useless ({main}{others}); its figures are the "
            "judge's bias, not the model's (metrics.json: warnings)."
        )
    return notes


def scope_notes(table: Table) -> list[str]:
    """What the run rows cover (n), and which rows competed for bold when not all did."""
    rows = [row for row in table.rows if row.source != "published"]
    known = [row for row in rows if row.images is not None or row.questions is not None]
    if not known:
        return []
    scopes = {row.scope for row in rows}
    notes = []
    if len(scopes) == 1:
        notes.append(f"n: {_scope_text(rows[0])} per run.")
    else:
        listed = "; ".join(f"{row.label}: {_scope_text(row)}" for row in rows)
        notes.append(f"The runs cover different questions (n: {listed}).")
    left = [row.label for row in rows if row.source == "run" and not table.competes(row)]
    if left and table.best():
        notes.append(
            "Bold compares only run rows on the same questions whose judge raised no alarm; "
            f"not: {', '.join(left)}."
        )
    return notes


def _scope_text(row: TableRow) -> str:
    images = "?" if row.images is None else f"{row.images}"
    questions = "?" if row.questions is None else f"{row.questions}"
    return f"{images} images, {questions} questions"


def pipeline_notes(table: Table) -> list[str]:
    """Which spaCy pipeline computed the rows' generative metrics (one line per pipeline), and
    a warning for a pipeline other than ``en_core_web_lg``, the published rows' pipeline."""
    from amber_eval.scoring.similarity import DEFAULT_SPACY_MODEL

    if not any(column.block == "generative" for column in table.columns):
        return []
    by_pipeline: dict[tuple[str, str, str, str], list[str]] = {}
    for row in table.rows:
        pipeline = row.spacy_pipeline
        if row.source == "published" or not pipeline:
            continue
        vectors = pipeline.get("vectors")
        shape = "x".join(str(n) for n in vectors) if isinstance(vectors, list) else "none"
        key = (
            str(pipeline.get("name", "?")),
            str(pipeline.get("version", "?")),
            shape,
            str(pipeline.get("sha256", ""))[:12],
        )
        by_pipeline.setdefault(key, []).append(row.label)
    notes = []
    for (name, version, shape, sha), labels in by_pipeline.items():
        rows = f" ({', '.join(labels)})" if len(by_pipeline) > 1 else ""
        notes.append(
            f"Generative metrics{rows}: spaCy pipeline {name} {version}, vectors {shape}, "
            f"sha256 {sha}."
        )
        if name != DEFAULT_SPACY_MODEL:
            notes.append(
                f"{name} is not {DEFAULT_SPACY_MODEL}, the pipeline of the published AMBER rows: "
                "other word vectors decide other similarities, so CHAIR, Cover, Hal and Cog "
                "are not comparable with the published ones."
            )
    return notes


def to_latex(table: Table) -> str:
    """Booktabs ``tabular`` (one, or several stacked for a wide layout) with grouped headers
    (multicolumn + cmidrule); the notes follow as wrapping text. Fits the text width of a
    standard one-column article with no ``\\resizebox``."""
    import jinja2

    body = _cells(
        table,
        emphasise=lambda text: rf"\textbf{{{text}}}",
        interval=lambda low, high: rf"{TEX_UNDER}{{\scriptsize[{low}, {high}]}}",
        missing="--",
    )
    # an interval goes under its value: the cell becomes two centred lines
    body = [[tex_stacked(cell) if TEX_UNDER in cell else cell for cell in cells] for cells in body]
    index = {column.key: i for i, column in enumerate(table.columns)}
    parts = [
        _latex_part(table, part, [[cells[index[c.key]] for c in part] for cells in body])
        for part in latex_parts(table.columns, with_ci=table.ci is not None)
    ]
    template_text = (
        resources.files("amber_eval") / "resources" / "report_table.tex.jinja"
    ).read_text("utf-8")
    # LaTeX, not HTML: every text cell was escaped by tex_escape above.
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701
    )
    ci_note = (
        f", {table.ci.level:g}% bootstrap percentile intervals over images "
        f"({table.ci.resamples} resamples, seed {table.ci.seed}) in brackets"
        if table.ci is not None
        else ""
    )
    return environment.from_string(template_text).render(
        version=_version(),
        layout=table.layout.name,
        mode=table.scores,
        ci_note=ci_note,
        direction_note=_direction_note(table),
        parts=parts,
        label_width=LATEX_LABEL_WIDTH,
        notes=[
            rf"$^\dagger$ published figures: {tex_escape(ref.title)}." for ref in table.references
        ]
        + [rf"$^\ddagger$ {tex_escape(note)}" for note in alarm_notes(table)]
        + [tex_escape(note) for note in ceiling_notes(table)]
        + [tex_escape(note) for note in scope_notes(table)]
        + [tex_escape(note) for note in pipeline_notes(table)],
    )


def _latex_part(table: Table, columns: tuple[Column, ...], body: list[list[str]]) -> dict[str, Any]:
    """One tabular's header and row lines: the label column, then ``columns``."""
    top = [r"\multirow{2}{*}{Model}"]
    bottom = [""]
    rules = []
    position = 2
    for spanned in column_groups(columns):
        group = spanned[0].group
        if group:
            top.append(rf"\multicolumn{{{len(spanned)}}}{{c}}{{{tex_escape(group)}}}")
            rules.append(rf"\cmidrule(lr){{{position}-{position + len(spanned) - 1}}}")
            bottom.extend(_tex_header(column) for column in spanned)
        else:
            top.append(rf"\multirow{{2}}{{*}}{{{_tex_header(spanned[0])}}}")
            bottom.append("")
        position += len(spanned)
    published: list[str] = []
    runs: list[str] = []
    ceiling: list[str] = []
    for row, cells in zip(table.rows, body, strict=True):
        if row.source == "published":
            label = tex_label(tex_escape(row.label) + r"$^\dagger$")
            published.append(" & ".join([label, *cells]))
        else:
            mark = r"$^\ddagger$" if row.warnings else ""
            lines = ceiling if row.source == "ceiling" else runs
            lines.append(" & ".join([tex_label(tex_escape(row.label) + mark), *cells]))
    return {
        "column_spec": "l" + "c" * len(columns),
        "header_top": " & ".join(top),
        "rules": " ".join(rules),
        "header_bottom": " & ".join(bottom),
        "published_lines": published,
        "run_lines": runs,
        "ceiling_lines": ceiling,
    }


def booktabs_table(command: str, column_spec: str, header: str, rows: list[str], note: str) -> str:
    """A plain booktabs ``tabular``: ``header`` and ``rows`` are LaTeX lines (cells already
    escaped, without the trailing ``\\``); ``note`` is text, escaped here, set under the table."""
    width = len(column_spec)
    lines = [
        rf"% amber-eval {command}; needs \usepackage{{booktabs}}.",
        rf"\begin{{tabular}}{{{column_spec}}}",
        r"\toprule",
        header + r" \\",
        r"\midrule",
        *(row + r" \\" for row in rows),
        r"\bottomrule",
        rf"\multicolumn{{{width}}}{{p{{0.9\linewidth}}}}{{\footnotesize {tex_escape(note)}}} \\",
        r"\end{tabular}",
    ]
    return "\n".join(lines) + "\n"


def _direction_note(table: Table) -> str:
    lower = [c.header for c in table.columns if c.ranked and c.lower_is_better]
    if lower:
        return "lower is better for " + ", ".join(dict.fromkeys(lower)) + ", higher for the rest"
    return "higher is better"


def _tex_header(column: Column) -> str:
    text = tex_escape(column.header)
    return text + r"$\downarrow$" if column.ranked and column.lower_is_better else text


def _plain_header(column: Column) -> str:
    arrow = " ↓" if column.ranked and column.lower_is_better else ""
    return f"{column.group} {column.header}{arrow}" if column.group else f"{column.header}{arrow}"


def to_markdown(table: Table) -> str:
    """A pipe table; best values in bold; published rows marked with a dagger."""
    headers = ["Model", *(markdown_escape(_plain_header(c)) for c in table.columns)]
    body = _cells(
        table,
        emphasise=lambda text: f"**{text}**",
        interval=lambda low, high: f" [{low}, {high}]",
        missing="--",
    )
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join([":---"] + ["---:"] * len(table.columns)) + " |",
    ]
    for row, cells in zip(table.rows, body, strict=True):
        label = markdown_escape(row.label)
        if row.source == "published":
            label += f" {PUBLISHED_MARK}"
        elif row.warnings:
            label += f" {ALARM_MARK}"
        lines.append("| " + " | ".join([label, *cells]) + " |")
    footer = [
        "",
        f"Layout `{table.layout.name}`, {table.scores} scores. Bold: best value per column of the "
        "run rows "
        f"({_direction_note(table)}); `--`: not available.",
    ]
    if table.ci is not None:
        footer.append(
            f"Brackets: {table.ci.level:g}% bootstrap percentile intervals over images "
            f"({table.ci.resamples} resamples, seed {table.ci.seed})."
        )
    footer += [markdown_escape(note) for note in _notes(table, lambda mark: mark + " ")]
    footer += [markdown_escape(f"{ALARM_MARK} {note}") for note in alarm_notes(table)]
    footer += [markdown_escape(note) for note in ceiling_notes(table)]
    footer += [markdown_escape(note) for note in scope_notes(table)]
    footer += [markdown_escape(note) for note in pipeline_notes(table)]
    return "\n".join(lines + footer) + "\n"


def to_csv(table: Table) -> str:
    """One row per table row; full-precision values; empty cells where missing."""
    frame = table.to_dataframe()
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


def _json_number(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def table_json(table: Table) -> dict[str, Any]:
    best = table.best()
    return {
        "layout": table.layout.name,
        "mode": table.rules,
        **({"unknown": table.unknown} if table.unknown != "wrong" else {}),
        "ci": None
        if table.ci is None
        else {"level": table.ci.level, "resamples": table.ci.resamples, "seed": table.ci.seed},
        "columns": [
            {
                "key": c.key,
                "block": c.block,
                "metric": c.metric,
                "group": c.group,
                "header": c.header,
                "lower_is_better": c.lower_is_better,
            }
            for c in table.columns
        ],
        "rows": [
            {
                "label": row.label,
                "source": row.source,
                "origin": row.origin,
                "values": {c.key: _json_number(row.values.get(c.key)) for c in table.columns},
                "best": [c.key for c in table.columns if i in best.get(c.key, set())],
                "warnings": list(row.warnings),
                **(
                    {"images": row.images, "questions": row.questions}
                    if row.scope != (None, None)
                    else {}
                ),
                **({"spacy_pipeline": dict(row.spacy_pipeline)} if row.spacy_pipeline else {}),
                **(
                    {
                        "intervals": {
                            key: [interval.low, interval.high]
                            for key, interval in row.intervals.items()
                        }
                    }
                    if table.ci is not None and row.source == "run"
                    else {}
                ),
            }
            for i, row in enumerate(table.rows)
        ],
        "references": [
            {"name": ref.name, "title": ref.title, "source": ref.source, "notes": ref.notes}
            for ref in table.references
        ],
        "notes": scope_notes(table) + pipeline_notes(table),
    }


def to_json(table: Table) -> str:
    return json.dumps(table_json(table), indent=2, ensure_ascii=False) + "\n"


RENDERERS: Registry[Callable[[Table], str]] = Registry("format")
RENDERERS.add("latex", to_latex, "LaTeX (booktabs)")
RENDERERS.add("markdown", to_markdown, "Markdown")
RENDERERS.add("csv", to_csv, "CSV")
RENDERERS.add("json", to_json, "JSON")
TABLE_FORMATS = tuple(RENDERERS.names())


def render_table(table: Table, fmt: str) -> str:
    """``table`` in the registered format ``fmt`` (did-you-mean on an unknown name)."""
    return RENDERERS.load(fmt)(table)
