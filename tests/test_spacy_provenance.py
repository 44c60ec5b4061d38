"""The spaCy pipeline behind generative metrics: recorded in results, named in table notes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from amber_eval.benchmarks.synthetic_runs import write_synthetic_run
from amber_eval.cli.main import cli
from amber_eval.reporting import build_table, load_run, render_table
from amber_eval.scoring.similarity import locate_pipeline, pipeline_fingerprint, pipeline_provenance

LG = {"name": "en_core_web_lg", "version": "3.7.1", "vectors": [514157, 300], "sha256": "ab" * 32}


def _with_pipeline(folder: Path, pipeline: dict) -> Path:
    path = folder / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics["coverage"]["spacy_pipeline"] = pipeline
    path.write_text(json.dumps(metrics))
    return folder


def test_provenance_of_the_parity_pipeline(parity_dir: Path) -> None:
    folder = parity_dir / "glove50-amber-vocab"
    found = pipeline_provenance(str(folder))
    # meta.json: lang "en", name "pipeline", version "0.0.0"; vocab/vectors: 404 rows of 50
    assert found == {
        "name": "en_pipeline",
        "version": "0.0.0",
        "vectors": [404, 50],
        "sha256": pipeline_fingerprint(locate_pipeline(str(folder))),
    }


def test_score_json_names_the_pipeline_only_with_generative_metrics(
    parity_dir: Path, amber_data_dir: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    del amber_data_dir
    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path / "cache"))
    spacy = str(parity_dir / "glove50-amber-vocab")
    out = tmp_path / "g.json"
    args = ["score", str(parity_dir / "descriptions.json"), "-t", "g", "--spacy-model", spacy]
    result = CliRunner().invoke(cli, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert (data["spacy_pipeline"]["name"], data["spacy_pipeline"]["vectors"]) == (
        "en_pipeline",
        [404, 50],
    )
    answers = tmp_path / "d.json"
    args = ["score", str(parity_dir / "answers_exact.json"), "-t", "d", "--json", str(answers)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert "spacy_pipeline" not in json.loads(answers.read_text())


def test_notes_name_each_pipeline_and_warn_off_the_published_one(tmp_path: Path) -> None:
    glove = {"name": "en_glove", "version": "0.1", "vectors": [404, 50], "sha256": "cd" * 32}
    a = _with_pipeline(write_synthetic_run(tmp_path / "a" / "x-1", model="a", images=3), LG)
    b = _with_pipeline(write_synthetic_run(tmp_path / "b" / "x-2", model="b", images=3), glove)
    alone = render_table(build_table([load_run(a)], layout="amber"), "markdown")
    assert (
        "Generative metrics: spaCy pipeline en\\_core\\_web\\_lg 3.7.1, vectors 514157x300" in alone
    )
    assert "sha256 abababababab." in alone and "not comparable" not in alone
    both = build_table([load_run(a), load_run(b)], layout="amber")
    latex = render_table(both, "latex")
    assert "Generative metrics (a + mock): spaCy pipeline en\\_core\\_web\\_lg" in latex
    assert "Generative metrics (b + mock): spaCy pipeline en\\_glove 0.1, vectors 404x50" in latex
    assert (
        "en\\_glove is not en\\_core\\_web\\_lg, the pipeline of the published AMBER rows" in latex
    )
    rows = json.loads(render_table(both, "json"))["rows"]
    assert [row["spacy_pipeline"]["name"] for row in rows] == ["en_core_web_lg", "en_glove"]
    # a layout without generative columns says nothing about the pipeline
    assert "spaCy" not in render_table(build_table([load_run(b)], layout="attribute"), "latex")


def test_a_judge_run_records_its_coverage_pipeline(
    parity_dir: Path, amber_data_dir: Path, nltk_data_dir: Path, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    del amber_data_dir, nltk_data_dir
    from amber_eval.judge.mock import MockJudge
    from amber_eval.run_folder.config import RunConfig
    from amber_eval.run_folder.record import read_run_record
    from amber_eval.runs.pipeline import run_evaluation

    monkeypatch.setenv("AMBER_EVAL_CACHE", str(tmp_path / "cache"))
    config = RunConfig(
        captions="oracle",
        llm="mock",
        limit_images=2,
        out=tmp_path / "results",
        spacy_model=str(parity_dir / "glove50-amber-vocab"),
        show_progress=False,
    )
    result = run_evaluation(config, judge=MockJudge("No"))
    recorded = read_run_record(result.folder / "run.json").spacy_pipeline
    assert recorded is not None and (recorded["name"], recorded["vectors"]) == (
        "en_pipeline",
        [404, 50],
    )
    metrics = json.loads((result.folder / "metrics.json").read_text())
    assert metrics["coverage"]["spacy_pipeline"] == recorded
    from amber_eval.reporting import write_run_tables

    write_run_tables(result.folder)  # as `amber-eval run` does after the run
    tables = (result.folder / "tables.md").read_text()
    assert "en\\_pipeline is not en\\_core\\_web\\_lg" in tables
