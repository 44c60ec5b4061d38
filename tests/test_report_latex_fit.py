"""Every LaTeX table fits a standard one-column article: pdflatex reports no overfull box."""

from __future__ import annotations

import re
import shutil
from itertools import product
from pathlib import Path

import pytest
from parts import requires_mark
from test_report_tables import _compile

from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
from amber_eval.reporting import build_table, load_run, render_table
from amber_eval.reporting.latex_fit import latex_parts
from amber_eval.reporting.layouts import LAYOUT_NAMES, get_layout
from amber_eval.reporting.tables import CISettings

REFERENCES = {"amber": "amber", "attribute": "crtnet-attr"}


def test_wide_layouts_are_cut_at_groups_into_even_parts() -> None:
    amber = get_layout("amber").columns
    assert [len(part) for part in latex_parts(amber)] == [9]  # the paper's table: one tabular
    # with intervals: Generative (4) | Discriminative (4) + AMBER (1)
    assert [[c.key for c in part] for part in latex_parts(amber, with_ci=True)] == [
        ["generative.CHAIR", "generative.Cover", "generative.Hal", "generative.Cog"],
        ["overall.Accuracy", "overall.Precision", "overall.Recall", "overall.F1", "score.AMBER"],
    ]
    # four P/R/F1 groups (12 columns) do not fit one tabular: two even parts, not 9 + 3
    attribute = latex_parts(get_layout("attribute").columns)
    assert [[c.block for c in part][::3] for part in attribute] == [
        ["attribute", "state"],
        ["number", "action"],
    ]
    full = latex_parts(get_layout("full").columns)  # 4 generative + AMBER, 7 blocks of 7
    assert [len(part) for part in full] == [5, *[7] * 7]
    assert all(len({c.block for c in part}) == 1 for part in full[1:])


@pytest.mark.latex
@requires_mark("latex", shutil.which("pdflatex") is None, "pdflatex is not installed")
def test_every_combination_compiles_without_an_overfull_box(tmp_path: Path) -> None:
    plain = write_synthetic_run(  # a long name with underscores: it must wrap in its column
        tmp_path / "llava15_sent_descriptions" / "mock-yes-1",
        model="llava15_sent_descriptions",
        llm="mock-yes",
        seed=1,
    )
    alarmed = write_synthetic_run(
        tmp_path / "llava15-sent" / "mock-no-2",
        model="llava15-sent",
        llm="mock-no",
        seed=2,
        alarm=True,
    )
    ceiling = write_synthetic_run(tmp_path / "oracle" / "mock-no-3", model="oracle", seed=3)
    runs = [load_run(plain), load_run(alarmed)]
    cache: dict = {}
    tables: dict[str, str] = {}
    for layout, rules, with_reference, with_ci, with_alarm in product(
        LAYOUT_NAMES, ("strict", "official"), (False, True), (False, True), (False, True)
    ):
        if with_reference and layout not in REFERENCES:
            continue
        table = build_table(
            runs if with_alarm else runs[:1],
            layout=layout,
            rules=rules,
            references=[REFERENCES[layout]] if with_reference else [],
            ci=CISettings(resamples=20) if with_ci else None,
            interval_cache=cache,
            ceiling=[load_run(ceiling)] if with_alarm else [],
        )
        name = f"{layout}-{rules}-ref{int(with_reference)}-ci{int(with_ci)}-alarm{int(with_alarm)}"
        tables[name] = render_table(table, "latex")
    assert len(tables) == 48
    assert any(r"$^\ddagger$" in text for text in tables.values())
    body = "\n".join(
        f"\\typeout{{TABLE {name}}}\n\\begin{{table}}[p]\n\\centering\n{text}\\end{{table}}\n"
        "\\clearpage"
        for name, text in tables.items()
    )
    result = _compile(tmp_path, body, timeout=300)
    log = (tmp_path / "table.log").read_text(encoding="utf-8", errors="replace")
    assert result.returncode == 0, result.stdout[-3000:]
    overfull: list[str] = []
    current = "?"
    for line in log.splitlines():
        marker = re.match(r"TABLE (\S+)", line)
        if marker:
            current = marker.group(1)
        elif "Overfull \\hbox" in line:
            overfull.append(f"{current}: {line}")
    assert overfull == [], "\n".join(overfull)
