"""``amber-eval score FILE --model NAME``: a response file as a run folder every reader takes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
from amber_eval.cli.main import cli
from amber_eval.errors import InputError
from amber_eval.io import sha256_file
from amber_eval.reporting.run_data import load_run, resolve_run_dirs
from amber_eval.run_folder.record import load_run_config, read_run_record
from amber_eval.runs.response_run import read_response_files


@pytest.fixture(scope="module")
def scored(
    parity_dir: Path,
    amber_data_dir: Path,
    nltk_data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    """The parity fixture's descriptions plus its exact answers, scored as one model's run."""
    del amber_data_dir, nltk_data_dir
    root = tmp_path_factory.mktemp("results")
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AMBER_EVAL_CACHE", str(cache))
        result = CliRunner().invoke(
            cli,
            [
                "score",
                str(parity_dir / "descriptions.json"),
                "--also",
                str(parity_dir / "answers_exact.json"),
                "--model",
                "synth-mllm",
                "--out",
                str(root),
                "--spacy-model",
                str(parity_dir / "glove50-amber-vocab"),
                "--format",
                "json",
            ],
        )
    assert result.exit_code == 0, result.output
    (folder,) = (root / "synth-mllm").iterdir()
    return root, folder


def test_folder_and_record(scored: tuple[Path, Path], parity_dir: Path) -> None:
    _, folder = scored
    assert folder.name.startswith("responses-") and len(folder.name) == len("responses-") + 12
    record = read_run_record(folder / "run.json")
    assert (record.kind, record.model, record.status) == ("responses", "synth-mllm", "success")
    assert record.config_hash.startswith(folder.name.removeprefix("responses-"))
    files = [(Path(f["file"]).name, f["sha256"], f["ids"]) for f in record.responses or ()]
    assert files == [
        ("descriptions.json", sha256_file(parity_dir / "descriptions.json"), 1004),
        ("answers_exact.json", sha256_file(parity_dir / "answers_exact.json"), 14216),
    ]
    pipeline = record.spacy_pipeline or {}
    # the parity fixture's stand-in pipeline: GloVe 50-d vectors of AMBER's vocabulary tokens
    assert (pipeline["name"], pipeline["vectors"]) == ("en_pipeline", [404, 50])
    assert (record.images, record.questions) == (1004, 14216)
    for name in ("answers.jsonl", "coverage.jsonl", "metrics.json", "responses.json"):
        assert (folder / name).is_file()
    assert (folder / "tables.tex").is_file()  # written like a judge run's tables
    with pytest.raises(InputError, match="not a judge run"):
        load_run_config(folder / "run.json")


def test_official_report_gives_the_upstream_figures(scored: tuple[Path, Path]) -> None:
    _, folder = scored
    result = CliRunner().invoke(
        cli, ["report", str(folder), "--layout", "amber", "--format", "csv", "--mode", "official"]
    )
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(result.output)))
    # expected/descriptions.g.txt and expected/answers_exact.d.txt, the upstream scorer's output
    assert (row.pop("label"), row.pop("source")) == ("synth-mllm", "run")
    assert row.pop("origin") == f"synth-mllm/{folder.name}"
    figures = {key: float(value) for key, value in row.items()}
    assert figures == {
        "generative.CHAIR": 12.1,
        "generative.Cover": 61.7,
        "generative.Hal": 46.0,
        "generative.Cog": 8.0,
        "overall.Accuracy": 83.5,
        "overall.Precision": 91.0,
        "overall.Recall": 83.3,
        "overall.F1": 87.0,
        # AMBER = (100 - CHAIR + F1) / 2 from the unrounded official figures
        "score.AMBER": pytest.approx(87.45, abs=0.051),
    }


def test_report_with_reference_ci_and_beside_a_judge_run(scored: tuple[Path, Path]) -> None:
    root, folder = scored
    judge_run = write_synthetic_run(root / "regioncap" / "mock-000000000000", model="regioncap")
    assert set(resolve_run_dirs([root])) == {folder, judge_run}
    result = CliRunner().invoke(
        cli,
        [
            "report",
            str(root),
            "--layout",
            "amber",
            "--format",
            "markdown",
            "--with-reference",
            "amber",
            "--ci",
            "95",
            "--resamples",
            "50",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| ")]
    labels = [row.split("|")[1].strip() for row in rows]
    assert "synth-mllm" in labels and "regioncap + mock" in labels
    assert "LLaVA-1.5 †" in labels
    mine = rows[labels.index("synth-mllm")]
    assert "87.0 [" in mine  # the F1 with its interval over images


def test_compare_two_response_runs_paired(
    scored: tuple[Path, Path], parity_dir: Path, tmp_path: Path
) -> None:
    _, folder = scored
    answers = json.loads((parity_dir / "answers_exact.json").read_text())
    flipped = [{"id": a["id"], "response": "No"} for a in answers]
    other = tmp_path / "no.json"
    other.write_text(json.dumps(flipped))
    result = CliRunner().invoke(
        cli,
        [
            "score",
            str(other),
            "-t",
            "d",
            "--model",
            "always-no",
            "--out",
            str(tmp_path),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    (no_folder,) = (tmp_path / "always-no").iterdir()
    run = load_run(no_folder)
    assert run.coverage_available is False and run.record.kind == "responses"
    compared = CliRunner().invoke(
        cli, ["compare", str(folder), str(no_folder), "--resamples", "50"]
    )
    assert compared.exit_code == 0, compared.output
    assert "1004 images resampled together" in compared.output
    accuracy = next(line for line in compared.output.splitlines() if "overall.Accuracy" in line)
    # always "No" is right on every question whose truth is no: the always-No baseline
    no_share = sum(
        1
        for line in (no_folder / "answers.jsonl").read_text().splitlines()
        if '"truth": "no"' in line
    )
    cells = [c.strip() for c in accuracy.split("|")]
    assert float(cells[3]) == pytest.approx(round(100 * no_share / 14216, 1))


def test_an_id_in_two_files_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "g.json", tmp_path / "d.json"
    a.write_text(json.dumps([{"id": 1, "response": "A dog."}]))
    b.write_text(json.dumps([{"id": 1005, "response": "Yes"}, {"id": 1, "response": "A cat."}]))
    merged, counts = read_response_files([a])
    assert [r.id for r in merged] == [1] and counts == {a: 1}
    with pytest.raises(InputError, match=r"d\.json: id 1 is also in .*g\.json"):
        read_response_files([a, b])


def test_out_without_model_is_a_usage_error(parity_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["score", str(parity_dir / "answers_exact.json"), "--type", "d", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2 and "give --model" in result.output
    assert list(tmp_path.iterdir()) == []
