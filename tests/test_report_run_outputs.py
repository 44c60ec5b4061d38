"""Tables and report written into run folders, including a real `amber-eval run` folder."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
from amber_eval.cli.main import cli
from amber_eval.reporting import write_run_report, write_run_tables


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_write_run_tables_without_coverage(tmp_path: Path) -> None:
    folder = write_synthetic_run(tmp_path / "m" / "x-1", images=6, with_coverage=False)
    written = write_run_tables(folder)
    assert [p.name for p in written] == ["tables.tex", "tables.md", "metrics.csv"]
    rows = _rows(folder / "metrics.csv")
    assert [row["mode"] for row in rows] == ["strict", "official"]
    assert rows[0]["generative.CHAIR"] == "" and rows[0]["score.AMBER"] == ""
    assert rows[0]["overall.n"] == "84" and rows[1]["overall.n"] == ""  # official: no n
    tex = (folder / "tables.tex").read_text(encoding="utf-8")
    # amber, attribute (two tabulars: its 12 columns do not fit one page width), expressiveness
    assert tex.count(r"\begin{tabular}") == 4
    assert tex.count("% amber-eval") == 3
    markdown = (folder / "tables.md").read_text(encoding="utf-8")
    assert [line for line in markdown.splitlines() if line.startswith("## ")] == [
        "## amber",
        "## attribute",
        "## expressiveness",
        "## full",
    ]


def test_real_run_folder(tmp_path: Path, amber_data_dir: Path) -> None:
    """`amber-eval run` (oracle captions, always-No mock judge) ends with tables and report."""
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "run",
            "--captions",
            "oracle",
            "--llm",
            "mock-no",
            "--limit-images",
            "3",
            "--out",
            str(tmp_path),
            "--data-dir",
            str(amber_data_dir),
        ],
    )
    if result.exit_code != 0:
        pytest.fail(f"amber-eval run failed: {result.output}\n{result.exception!r}")
    (folder,) = (tmp_path / "oracle").iterdir()
    for name in ("tables.tex", "tables.md", "metrics.csv", "report.html"):
        assert (folder / name).is_file(), name
    # Rewritten from Python, identical (everything in them is deterministic).
    before = (folder / "tables.md").read_text(encoding="utf-8")
    write_run_tables(folder)
    write_run_report(folder)
    assert (folder / "tables.md").read_text(encoding="utf-8") == before
    # An always-"No" judge: existence is all right (every truth is "no"), precision = accuracy.
    rows = _rows(folder / "metrics.csv")
    strict = rows[0]
    assert float(strict["existence.Accuracy"]) == 100.0
    assert float(strict["overall.yes_ratio"]) == 0.0
    assert float(strict["overall.Recall"]) == 100.0
    assert strict["overall.Precision"] == strict["overall.Accuracy"]
    answers = [json.loads(line) for line in (folder / "answers.jsonl").read_text().splitlines()]
    assert int(strict["overall.n"]) == len(answers)
    # report / compare read the same folder; compare with itself: every difference is 0.
    table = runner.invoke(cli, ["report", str(folder.parent), "--layout", "full", "--ci", "95"])
    assert table.exit_code == 0, table.output
    assert "oracle + mock-no" in table.output and "[100.0, 100.0]" in table.output
    same = runner.invoke(cli, ["compare", str(folder), str(folder), "--resamples", "200"])
    assert same.exit_code == 0, same.output
    assert "excludes 0: none." in same.output
