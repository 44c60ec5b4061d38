"""Rendering a :class:`Table` as LaTeX, Markdown, CSV or JSON (text, never files)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

from amber_eval.registry import Registry
from amber_eval.reporting.layouts import Column
from amber_eval.reporting.tables import Table

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


def _spans(columns: tuple[Column, ...]) -> list[tuple[str, list[Column]]]:
    """Consecutive columns under the same group; a column without a group stands alone."""
    spans: list[tuple[str, list[Column]]] = []
    for column in columns:
        if column.group and spans and spans[-1][0] == column.group:
            spans[-1][1].append(column)
        else:
            spans.append((column.group, [column]))
    return spans


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
    """One line per alarmed run row: its label and why its judge looks useless."""
    return [
        f"{row.label}: the judge looks useless ({'; '.join(row.warnings)}); "
        "its figures are the judge's bias, not the model's (metrics.json: warnings)."
        for row in table.rows
        if row.warnings
    ]


def to_latex(table: Table) -> str:
    """A booktabs ``tabular`` with grouped headers (multicolumn + cmidrule)."""
    import jinja2

    spans = _spans(table.columns)
    top = [r"\multirow{2}{*}{Model}"]
    bottom = [""]
    rules = []
    position = 2
    for group, columns in spans:
        if group:
            top.append(rf"\multicolumn{{{len(columns)}}}{{c}}{{{tex_escape(group)}}}")
            rules.append(rf"\cmidrule(lr){{{position}-{position + len(columns) - 1}}}")
            bottom.extend(_tex_header(column) for column in columns)
        else:
            top.append(rf"\multirow{{2}}{{*}}{{{_tex_header(columns[0])}}}")
            bottom.append("")
        position += len(columns)
    body = _cells(
        table,
        emphasise=lambda text: rf"\textbf{{{text}}}",
        interval=lambda low, high: rf"\,{{\scriptsize[{low}, {high}]}}",
        missing="--",
    )
    published, runs, ceiling = [], [], []
    for row, cells in zip(table.rows, body, strict=True):
        label = tex_escape(row.label)
        if row.source == "published":
            published.append(" & ".join([label + r"$^\dagger$", *cells]))
        elif row.source == "ceiling":
            ceiling.append(" & ".join([label + (r"$^\ddagger$" if row.warnings else ""), *cells]))
        else:
            runs.append(" & ".join([label + (r"$^\ddagger$" if row.warnings else ""), *cells]))
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
        column_spec="l" + "c" * len(table.columns),
        header_top=" & ".join(top),
        rules=" ".join(rules),
        header_bottom=" & ".join(bottom),
        published_lines=published,
        run_lines=runs,
        ceiling_lines=ceiling,
        notes=[
            rf"$^\dagger$ published figures: {tex_escape(ref.title)}." for ref in table.references
        ]
        + [rf"$^\ddagger$ {tex_escape(note)}" for note in alarm_notes(table)]
        + [tex_escape(note) for note in ceiling_notes(table)],
        width=len(table.columns) + 1,
    )


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
        f"Layout `{table.layout.name}`, {table.scores} scores. Bold: best value per column "
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
