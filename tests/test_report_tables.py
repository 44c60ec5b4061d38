"""Paper tables: layouts, bold best values, missing cells, escaping, golden files, pdflatex."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from parts import requires_mark

from amber_eval import __version__
from amber_eval.benchmarks.synthetic_runs import synthetic_record
from amber_eval.cli.main import cli
from amber_eval.errors import InputError, UnknownNameError
from amber_eval.reporting import build_table, load_run, render_table
from amber_eval.reporting.formats import markdown_escape, tex_escape
from amber_eval.reporting.layouts import LAYOUT_NAMES, get_layout
from amber_eval.reporting.run_data import resolve_run_dirs
from amber_eval.run_folder.files import write_run_record

GOLDEN = Path(__file__).parent / "golden" / "report"
UPDATE = os.environ.get("AMBER_EVAL_UPDATE_GOLDEN") == "1"
FORMAT_EXT = {"latex": "tex", "markdown": "md", "csv": "csv", "json": "json"}
NASTY_LABEL = r"ours_v2 & 50% #1 <script>alert(1)</script> \relax {x} ~^$|"


def _blocks(base: float, *, official: bool = False) -> dict[str, Any]:
    """Discriminative blocks whose values are ``base`` plus a per-block offset."""
    blocks: dict[str, Any] = {}
    for offset, block in enumerate(
        ("overall", "existence", "attribute", "state", "number", "action", "relation")
    ):
        values: dict[str, Any] = {
            "Accuracy": base + offset,
            "Precision": base + offset + 0.25,
            "Recall": base + offset - 10.0,
            "F1": base + offset - 4.04,
        }
        if not official:
            values.update(n=100 + offset, yes_ratio=0.4, parse_failure_rate=0.01)
        blocks[block] = values
    return blocks


def make_run(
    root: Path,
    model: str,
    llm: str,
    *,
    base: float,
    generative: dict[str, float | None] | None,
    number_f1: float | None = None,
) -> Path:
    """A run folder following the run-folder contract, with hand-picked metrics."""
    folder = root / model / f"{llm}-0123456789ab"
    folder.mkdir(parents=True)
    strict = _blocks(base)
    official = _blocks(round(base, 1), official=True)
    if number_f1 is not None or "number_f1" in model:
        strict["number"]["F1"] = number_f1
    coverage: dict[str, Any]
    if generative is None:
        coverage = {"available": False, "reason": "no spaCy pipeline"}
    else:
        coverage = {"available": True, "strict": generative, "official": generative}
    write_run_record(folder / "run.json", synthetic_record(model=model, llm=llm))
    (folder / "metrics.json").write_text(
        json.dumps({"strict": strict, "official": official, "coverage": coverage})
    )
    return folder


@pytest.fixture()
def two_runs(tmp_path: Path) -> list[Path]:
    a = make_run(
        tmp_path,
        "caption_model",
        "llama2-7b",
        base=70.0,
        generative={"CHAIR": 7.84, "Cover": 51.0, "Hal": 36.4, "Cog": 4.2},
        number_f1=None,
    )
    b = make_run(
        tmp_path,
        "other",
        "smollm2",
        base=60.0,
        generative={"CHAIR": 7.76, "Cover": 60.0, "Hal": 40.0, "Cog": None},
    )
    return [a, b]


def _table(runs: list[Path], layout: str, **kwargs: Any) -> Any:
    loaded = [load_run(r) for r in runs]
    return build_table(loaded, layout=layout, **kwargs)


def test_best_values_lower_is_better_and_ties(two_runs: list[Path]) -> None:
    table = _table(two_runs, "amber", names={str(two_runs[0]): "A"})
    best = table.best()
    # CHAIR 7.84 -> 7.8 and 7.76 -> 7.8: a tie at one decimal, both bold.
    assert best["generative.CHAIR"] == {0, 1}
    assert best["generative.Hal"] == {0}  # 36.4 < 40.0: lower is better
    assert best["generative.Cover"] == {1}  # 60.0 > 51.0: higher is better
    assert "generative.Cog" not in best  # only one run has a value: nothing to compare
    assert best["overall.F1"] == {0}
    # AMBER score from coverage CHAIR and overall F1, half up: (100 - 7.84 + 65.96) / 2 = 79.06
    assert table.rows[0].values["score.AMBER"] == pytest.approx(79.1)
    markdown = render_table(table, "markdown")
    assert "| A | **7.8** | 51.0 | **36.4** | 4.2 | **70.0** |" in markdown
    assert "| other + smollm2 | **7.8** | **60.0** | 40.0 | -- | 60.0 |" in markdown


def test_missing_cells_and_coverage_unavailable(tmp_path: Path) -> None:
    run = make_run(tmp_path, "m", "l", base=50.0, generative=None)
    other = make_run(tmp_path, "n", "l", base=40.0, generative=None)
    latex = render_table(_table([run, other], "amber"), "latex")
    row = next(
        line
        for line in latex.splitlines()
        if line.startswith(r"\parbox[t]{2.2cm}{\raggedright m + l}")
    )
    cells = [cell.strip() for cell in row.rstrip("\\ ").split("&")]
    assert cells[1:5] == ["--"] * 4 and cells[-1] == "--"
    assert cells[5] == r"\textbf{50.0}"


def test_full_layout_shows_counts_and_percent_rates(two_runs: list[Path]) -> None:
    table = _table(two_runs, "full")
    csv_text = render_table(table, "csv")
    header, first = csv_text.splitlines()[:2]
    columns = header.split(",")
    values = dict(zip(columns, first.split(","), strict=True))
    assert values["overall.yes_ratio"] == "40.0"  # stored as a fraction, shown in %
    assert values["existence.n"] == "101"
    markdown = render_table(table, "markdown")
    assert "| 100 | 40.0 | 1.0 |" in markdown  # n, Yes%, Unparsed% of the overall block
    assert "**100**" not in markdown  # counts are never bold


def test_official_mode_uses_official_blocks(two_runs: list[Path]) -> None:
    table = _table(two_runs, "full", rules="official")
    assert table.rows[0].values["overall.n"] is None
    assert table.rows[0].values["overall.Accuracy"] == 70.0


def test_escaping_of_labels() -> None:
    assert tex_escape("a_b & 50% #1 $x$ {y} ~ ^ \\ <s> |") == (
        r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{} \textasciicircum{} "
        r"\textbackslash{} \textless{}s\textgreater{} \textbar{}"
    )
    assert markdown_escape("a|b <script> *x* _y_") == r"a\|b &lt;script&gt; \*x\* \_y\_"


def test_names_and_model_folder(two_runs: list[Path], tmp_path: Path) -> None:
    model_folder = two_runs[0].parent
    assert resolve_run_dirs([model_folder]) == [two_runs[0]]
    # the results root: every finished run of every model, models in name order
    assert resolve_run_dirs([tmp_path]) == two_runs
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="neither a run folder"):
        resolve_run_dirs([tmp_path / "empty"])
    table = _table(two_runs, "attribute", names={str(model_folder): "Ours"})
    assert [row.label for row in table.rows] == ["Ours", "other + smollm2"]
    with pytest.raises(InputError, match="none of the reported runs"):
        _table(two_runs, "attribute", names={"nowhere": "x"})


def test_unknown_layout_and_reference_that_does_not_fit(two_runs: list[Path]) -> None:
    with pytest.raises(UnknownNameError, match="amber"):
        get_layout("amberr")
    with pytest.raises(InputError, match="crtnet-attr"):
        _table(two_runs, "attribute", references=["amber"])


def test_reference_rows_are_marked_and_first(two_runs: list[Path]) -> None:
    table = _table(two_runs, "attribute", references=["crtnet-attr"])
    assert [row.source for row in table.rows] == ["published"] * 7 + ["run"] * 2
    assert table.rows[6].label == "Ours+Llama2"
    assert table.rows[6].values["action.Recall"] == 95.2
    latex = render_table(table, "latex")
    assert r"{\raggedright Ours+Llama2$^\dagger$} & 66.3" in latex
    assert r"$^\dagger$ published figures: CRTNet supplement" in latex


def _golden_case(root: Path, layout: str) -> Any:
    a = make_run(
        root,
        "caption_model",
        "llama2-7b",
        base=70.0,
        generative={"CHAIR": 7.84, "Cover": 51.0, "Hal": 36.4, "Cog": 4.2},
    )
    b = make_run(
        root,
        "other",
        "smollm2",
        base=60.0,
        generative={"CHAIR": 7.76, "Cover": 60.0, "Hal": 40.0, "Cog": None},
    )
    references = {"amber": ["amber"], "attribute": ["crtnet-attr"]}.get(layout, [])
    return _table([a, b], layout, names={str(a): NASTY_LABEL}, references=references)


def _normalise(text: str) -> str:
    return text.replace(f"amber-eval {__version__}", "amber-eval VERSION")


@pytest.mark.parametrize("fmt", list(FORMAT_EXT))
@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_golden_files(tmp_path: Path, layout: str, fmt: str) -> None:
    """Every layout x format against its golden file (AMBER_EVAL_UPDATE_GOLDEN=1 rewrites).

    How the files were checked: the runs' metrics are hand-picked (``_blocks``: block k of
    overall, existence, attribute, state, number, action, relation has Accuracy base + k,
    Precision base + k + 0.25, Recall base + k - 10, F1 base + k - 4.04), so every run cell
    follows from them; ``test_golden_markdown_rows_by_hand`` asserts the run rows of the three
    Markdown layouts against values worked out by hand, the reference rows were compared with
    the published tables, and the LaTeX, CSV and JSON files hold the same cells in their
    formats (``test_golden_latex_is_escaped``, ``test_latex_compiles_with_pdflatex``)."""
    text = _normalise(render_table(_golden_case(tmp_path, layout), fmt))
    path = GOLDEN / f"{layout}.{FORMAT_EXT[fmt]}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with AMBER_EVAL_UPDATE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8")


def _markdown_row(layout: str, label_start: str) -> list[str]:
    for line in (GOLDEN / f"{layout}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"| {label_start}"):
            return [cell.strip().strip("*") for cell in line.strip("|").split(" | ")[-100:]]
    raise AssertionError(f"no row {label_start!r} in {layout}.md")


def test_golden_markdown_rows_by_hand() -> None:
    """The run rows of the golden Markdown tables, worked out by hand from ``_golden_case``."""
    # amber layout, run a (base 70): CHAIR 7.84, Cover 51.0, Hal 36.4, Cog 4.2; overall block
    # Acc 70, P 70.25, R 60, F1 65.96; AMBER = (100 - CHAIR + F1) / 2 = (100 - 7.84 + 65.96) / 2
    # = 79.06. Cells have one decimal (70.25 -> 70.2: the float rounds half to even).
    assert _markdown_row("amber", "ours")[-9:] == [
        "7.8", "51.0", "36.4", "4.2", "70.0", "70.2", "60.0", "66.0", "79.1"
    ]  # fmt: skip
    # run b (base 60, no Cog): AMBER = (100 - 7.76 + 55.96) / 2 = 74.1
    assert _markdown_row("amber", "other")[-9:] == [
        "7.8", "60.0", "40.0", "--", "60.0", "60.2", "50.0", "56.0", "74.1"
    ]  # fmt: skip
    # attribute layout: P, R, F1 of attribute (k=2), state (3), number (4), action (5)
    expected = []
    for k in (2, 3, 4, 5):
        expected += [f"{70 + k + 0.25:.1f}", f"{70 + k - 10:.1f}", f"{70 + k - 4.04:.1f}"]
    assert _markdown_row("attribute", "ours")[-12:] == expected == [
        "72.2", "62.0", "68.0", "73.2", "63.0", "69.0", "74.2", "64.0", "70.0", "75.2", "65.0",
        "71.0"
    ]  # fmt: skip
    # expressiveness layout: Cover, then existence (k=1) and attribute (k=2) P, R, F1
    assert _markdown_row("expressiveness", "other")[-7:] == [
        "60.0", "61.2", "51.0", "57.0", "62.2", "52.0", "58.0"
    ]  # fmt: skip


def test_golden_latex_is_escaped() -> None:
    latex = (GOLDEN / "amber.tex").read_text(encoding="utf-8")
    assert "<script>" not in latex and r"\textless{}script\textgreater{}" in latex
    assert r"ours\_\allowbreak{}v2 \& 50\% \#1" in latex  # escaped; may wrap after the _
    markdown = (GOLDEN / "amber.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown


def _compile(tmp_path: Path, body: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Compile ``body`` in a one-column article as ``table.tex`` (its log: ``table.log``)."""
    document = (
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
        "\\usepackage{booktabs}\n\\usepackage{multirow}\n\\usepackage{graphicx}\n"
        "\\begin{document}\n" + body + "\n\\end{document}\n"
    )
    (tmp_path / "table.tex").write_text(document, encoding="utf-8")
    return subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "table.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


NO_LATEX = shutil.which("pdflatex") is None or shutil.which("pdftotext") is None
needs_latex = requires_mark("latex", NO_LATEX, "pdflatex or pdftotext is not installed")


def _pdf_text(tmp_path: Path, body: str) -> str:
    """Compile ``body`` with pdflatex (it must compile) and return the PDF's text."""
    result = _compile(tmp_path, body)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "table.pdf").stat().st_size > 1000
    return subprocess.run(
        ["pdftotext", "table.pdf", "-"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.latex
@needs_latex
def test_latex_compiles_with_pdflatex(tmp_path: Path) -> None:
    parts = []
    for layout in LAYOUT_NAMES:
        table = render_table(_golden_case(tmp_path / layout, layout), "latex")
        parts.append(table)  # the full layout too: stacked tabulars, no \resizebox
    text = _pdf_text(tmp_path, "\n\\bigskip\n".join(parts))
    assert "<script>" in text  # printed literally, not interpreted


@pytest.mark.latex
@needs_latex
def test_every_latex_output_compiles(tmp_path: Path, run_cli: Any) -> None:
    """The run folder's tables.tex, report --ci, agree and sensitivity tables all compile, and
    their text (intervals, percent signs, notes) reaches the PDF."""
    from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
    from amber_eval.checks.sensitivity import SensitivityReport, SensitivityRow, render_sensitivity
    from amber_eval.reporting.run_outputs import write_run_tables

    runs = [
        write_synthetic_run(tmp_path / "m" / f"mock-{seed:012d}", images=8, seed=seed)
        for seed in (1, 2)
    ]
    write_run_tables(runs[0])
    tables = (runs[0] / "tables.tex").read_text(encoding="utf-8")
    code, with_ci, err = run_cli(
        ["report", str(runs[0]), "--format", "latex", "--ci", "90", "--resamples", "20"]
    )
    assert code == 0, err
    code, agreement, err = run_cli(
        ["agree", *map(str, runs), "--format", "latex", "--resamples", "20"]
    )
    assert code == 0, err
    row = SensitivityRow("system prompt on", "overall", 80.0, -8.3, -12.5, -4.0, True)
    report = SensitivityReport(8, 95.0, 20, 0, {}, (row,))
    sensitivity = render_sensitivity(report, "latex")
    texts = {}
    for name, part in {
        "tables": tables,
        "ci": with_ci,
        "agree": agreement,
        "s": sensitivity,
    }.items():
        (tmp_path / name).mkdir()
        # report tables fit the page as they are; the agree and sensitivity tables are scaled
        fitted = (
            part if name in ("tables", "ci") else f"\\resizebox{{\\textwidth}}{{!}}{{%\n{part}}}"
        )
        pdf = _pdf_text(tmp_path / name, fitted)
        texts[name] = " ".join(pdf.split()).replace("\u2212", "-")
    assert "synthetic + mock" in texts["tables"] and "AMBER" in texts["tables"]
    assert re.search(r"\[\d+\.\d, \d+\.\d\]", texts["ci"])  # the intervals
    assert "Agreement (%)" in texts["agree"] and "112 questions on 8 images" in texts["agree"]
    assert "95% interval" in texts["s"] and "-8.3" in texts["s"]


def test_cli_report_writes_file_and_reports_errors(two_runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "t.tex"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "report",
            *map(str, two_runs),
            "--layout",
            "attribute",
            "--format",
            "latex",
            "--with-reference",
            "crtnet-attr",
            "--name",
            f"{two_runs[1]}=Baseline",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert r"\raggedright Baseline} &" in text and "Ours+Llama2" in text
    result = runner.invoke(cli, ["report", str(two_runs[0]), "--name", "no-equals-sign"])
    assert isinstance(result.exception, InputError)
    stdout = runner.invoke(cli, ["report", str(two_runs[0]), "--format", "json"])
    data = json.loads(stdout.output)
    assert data["layout"] == "amber" and data["rows"][0]["values"]["overall.Accuracy"] == 70.0


def test_cli_name_for_a_run_path_holding_an_equals_sign(tmp_path: Path) -> None:
    run = make_run(tmp_path, "m", "temp=0", base=50.0, generative=None)
    result = CliRunner().invoke(
        cli, ["report", str(run), "--name", f"{run}=T = 0 run", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("T = 0 run,run,m/temp=0-0123456789ab,")


def test_report_of_the_results_root(two_runs: list[Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from amber_eval.cli.main import cli

    (tmp_path / "caption_model" / "unfinished-000000000000").mkdir()  # no run.json: left out
    result = CliRunner().invoke(cli, ["report", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert [row["label"] for row in rows] == ["caption_model + llama2-7b", "other + smollm2"]
