"""The tables and the HTML report written into a run folder at the end of a run."""

from __future__ import annotations

import logging
from pathlib import Path

from amber_eval.io import atomic_write_text
from amber_eval.reporting.formats import to_latex, to_markdown
from amber_eval.reporting.run_data import load_run
from amber_eval.reporting.tables import build_table
from amber_eval.terms import RULES, Rules

TABLES_TEX = "tables.tex"
TABLES_MD = "tables.md"
METRICS_CSV = "metrics.csv"
REPORT_HTML = "report.html"

log = logging.getLogger(__name__)


def write_run_outputs(run_dir: str | Path) -> list[Path]:
    """The tables and ``report.html`` of a finished run; what ``amber-eval run`` (and the judge
    checks) write after the run. The run's own files are complete by then: a table or report
    that cannot be written is a warning (``amber-eval report`` can write it later), and the
    paths written are returned."""
    written: list[Path] = []
    for writer in (write_run_tables, write_run_report):
        try:
            found = writer(run_dir)
        except Exception as exc:
            log.warning(
                "%s failed (%s: %s); the run's results are complete, write the tables later "
                "with `amber-eval report %s`",
                writer.__name__,
                type(exc).__name__,
                exc,
                run_dir,
            )
            continue
        written.extend(found if isinstance(found, list) else [found])
    return written


def write_run_tables(run_dir: str | Path, *, rules: Rules = "strict") -> list[Path]:
    """Write the run's tables into ``run_dir``; returns the paths written.

    ``tables.tex``: the amber, attribute and expressiveness layouts (LaTeX); ``tables.md``: the
    same and the full layout (Markdown); ``metrics.csv``: the full layout, one row per rules
    (strict and official), at full precision.
    """
    folder = Path(run_dir)
    run = load_run(folder)
    layouts = ("amber", "attribute", "expressiveness")
    tables = [build_table([run], layout=name, rules=rules) for name in layouts]
    tex = "\n".join(to_latex(table) for table in tables)
    full = [build_table([run], layout="full", rules=m) for m in RULES]
    markdown = "\n".join(
        f"## {table.layout.name}\n\n{to_markdown(table)}" for table in [*tables, full[0]]
    )
    frames = []
    for table in full:
        frame = table.to_dataframe()
        frame.insert(0, "mode", table.rules)
        frames.append(frame)
    import pandas as pd

    csv_text = pd.concat(frames, ignore_index=True).to_csv(index=False, lineterminator="\n")
    written = [folder / TABLES_TEX, folder / TABLES_MD, folder / METRICS_CSV]
    atomic_write_text(written[0], tex)
    atomic_write_text(written[1], markdown)
    atomic_write_text(written[2], csv_text)
    return written


def write_run_report(run_dir: str | Path, *, rules: Rules = "strict") -> Path:
    """Write the self-contained ``report.html`` into ``run_dir``."""
    from amber_eval.reporting.html import render_html

    folder = Path(run_dir)
    run = load_run(folder)
    target = folder / REPORT_HTML
    atomic_write_text(target, render_html([run], rules=rules))
    return target
