"""``amber-eval score``: output formats, --json/--items, errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from amber_eval.cli.main import cli


@pytest.fixture
def env(amber_data_dir: Path, nltk_data_dir: Path, tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_upstream_format_is_byte_for_byte(env: Path, parity_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(parity_dir / "answers_exact.json"),
            "--type",
            "d",
            "--mode",
            "official",
            "--format",
            "upstream",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (parity_dir / "expected" / "answers_exact.d.txt").read_text()


def test_json_and_items_outputs(env: Path, parity_dir: Path) -> None:
    out, items = env / "out" / "scores.json", env / "items.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(parity_dir / "answers_attribute_only.json"),
            "--type",
            "da",
            "--json",
            str(out),
            "--items",
            str(items),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "attribute" in result.stdout and "Accuracy" in result.stdout
    data = json.loads(out.read_text())
    assert list(data)[:4] == ["attribute", "state", "number", "action"]
    assert data["attribute"]["n"] == 7628
    lines = items.read_text().splitlines()
    assert len(lines) == 7628
    first = json.loads(lines[0])
    assert set(first) == {"id", "image", "dimension", "raw", "parsed", "truth", "kind"}
    assert first["dimension"].startswith("attribute-")


def test_official_json_holds_the_printed_numbers(env: Path, parity_dir: Path) -> None:
    out = env / "scores.json"
    args = ["score", str(parity_dir / "answers_messy.json"), "-t", "d", "--mode", "official"]
    result = CliRunner().invoke(cli, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["overall"] == {"Accuracy": 23.6, "Precision": 83.5, "Recall": 23.3, "F1": 36.4}
    assert data["relation"]["F1"] == 32.8


def test_strict_mode_rejects_a_file_of_another_type(env: Path, parity_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["score", str(parity_dir / "answers_attribute_only.json"), "--type", "d"]
    )
    assert result.exit_code != 0
    assert "have no response" in str(result.exception)


def test_malformed_input_exits_2_with_a_clear_error(env: Path, amber_data_dir: Path) -> None:
    bad = env / "bad.json"
    bad.write_text('[{"id": 1005, "response": "No"}, {"id": "x", "response": "No"}]')
    out = env / "scores.json"
    out.write_text("previous")
    proc = subprocess.run(
        [sys.executable, "-m", "amber_eval", "score", str(bad), "--json", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "AMBER_EVAL_DATA": str(amber_data_dir)},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}: item 1: id must be an integer, got 'x'"
    assert out.read_text() == "previous"


def test_partial_run_reports_coverage(env: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial.jsonl"
    partial.write_text('{"id": 1005, "response": "No"}\n{"id": 1006, "response": "yes."}\n')
    result = CliRunner().invoke(
        cli, ["score", str(partial), "--type", "d", "--allow-partial", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["coverage"] == {
        "expected": 14216,
        "scored": 2,
        "missing": 14214,
        "fraction": 2 / 14216,
    }
    assert data["overall"]["n"] == 2
    assert "warning: 14214 of the 14216 ids" in result.stderr


def test_missing_spacy_pipeline_says_how_to_install_it(env: Path, parity_dir: Path) -> None:
    from amber_eval.errors import ResourceError

    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(parity_dir / "descriptions.json"),
            "--type",
            "g",
            "--spacy-model",
            "en_core_web_missing_xyz",
        ],
    )
    assert isinstance(result.exception, ResourceError)
    assert "python -m spacy download en_core_web_lg" in str(result.exception)
