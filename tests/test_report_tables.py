"""Paper tables: layouts, bold best values, missing cells, escaping, golden files, pdflatex."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from amber_eval import __version__
from amber_eval.benchmarks.synthetic_runs import synthetic_record
from amber_eval.cli.main import cli
from amber_eval.errors import InputError, UnknownNameError
from amber_eval.reporting import build_table, load_run, render_table
from amber_eval.reporting.formats import markdown_escape, tex_escape
from amber_eval.reporting.layouts import LAYOUT_NAMES, get_layout
from amber_eval.reporting.run_data import resolve_run_dirs
from amber_eval.runs.run_folder import write_run_record

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
    """Every layout x format against its golden file (AMBER_EVAL_UPDATE_GOLDEN=1 rewrites)."""
    text = _normalise(render_table(_golden_case(tmp_path, layout), fmt))
    path = GOLDEN / f"{layout}.{FORMAT_EXT[fmt]}"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with AMBER_EVAL_UPDATE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8")


def test_golden_latex_is_escaped() -> None:
    latex = (GOLDEN / "amber.tex").read_text(encoding="utf-8")
    assert "<script>" not in latex and r"\textless{}script\textgreater{}" in latex
    assert r"ours\_\allowbreak{}v2 \& 50\% \#1" in latex  # escaped; may wrap after the _
    markdown = (GOLDEN / "amber.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown


def _compile(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
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
        timeout=120,
        check=False,
    )


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles_with_pdflatex(tmp_path: Path) -> None:
    parts = []
    for layout in LAYOUT_NAMES:
        table = render_table(_golden_case(tmp_path / layout, layout), "latex")
        parts.append(table)  # the full layout too: stacked tabulars, no \resizebox
    result = _compile(tmp_path, "\n\\bigskip\n".join(parts))
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "table.pdf").stat().st_size > 1000
    text = (
        subprocess.run(
            ["pdftotext", "table.pdf", "-"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if shutil.which("pdftotext")
        else ""
    )
    if text:
        assert "<script>" in text  # printed literally, not interpreted


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
