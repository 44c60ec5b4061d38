"""Reports: paper tables (LaTeX, Markdown, CSV, JSON), published reference rows, bootstrap
intervals over images, paired comparisons, and a self-contained HTML report.

Importing this package imports neither pandas nor matplotlib; they load when a table or a plot
is made.
"""

from __future__ import annotations

from amber_eval.reporting.bootstrap import (
    ImageCounts,
    Interval,
    bootstrap,
    image_counts,
    metrics_from_sums,
    paired_difference,
)
from amber_eval.reporting.compare import Comparison, compare_runs, render_comparison
from amber_eval.reporting.formats import TABLE_FORMATS, render_table
from amber_eval.reporting.layouts import LAYOUT_NAMES, LAYOUTS, get_layout
from amber_eval.reporting.reference import get_reference, reference_sets
from amber_eval.reporting.run_data import RunData, load_run, resolve_run_dirs
from amber_eval.reporting.run_outputs import (
    write_run_outputs,
    write_run_report,
    write_run_tables,
)
from amber_eval.reporting.tables import CISettings, Table, build_table

__all__ = [
    "LAYOUTS",
    "LAYOUT_NAMES",
    "TABLE_FORMATS",
    "CISettings",
    "Comparison",
    "ImageCounts",
    "Interval",
    "RunData",
    "Table",
    "bootstrap",
    "build_table",
    "compare_runs",
    "get_layout",
    "get_reference",
    "image_counts",
    "load_run",
    "metrics_from_sums",
    "paired_difference",
    "reference_sets",
    "render_comparison",
    "render_table",
    "resolve_run_dirs",
    "write_run_outputs",
    "write_run_report",
    "write_run_tables",
]
