"""Both parse policies: unparsed Yes/No answers counted wrong or excluded, in metrics.json,
``report --unknown`` and its bootstrap intervals, on a mock-judge run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from amber_eval.judge.mock import MockJudge
from amber_eval.reporting.run_data import load_run
from amber_eval.reporting.tables import CISettings, run_intervals
from amber_eval.run_folder.config import RunConfig
from amber_eval.runs.pipeline import run_evaluation

pytestmark = pytest.mark.usefixtures("amber_data_dir")


def _config(tmp_path: Path) -> RunConfig:
    return RunConfig(
        captions="oracle", llm="mock", limit_images=6, out=tmp_path / "results", show_progress=False
    )


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    """A run whose judge answers every third question unreadably and says No otherwise."""
    seen: list[str] = []

    def rule(prompt: str) -> str:
        seen.append(prompt)
        return "Hard to say." if len(seen) % 3 == 0 else "No"

    return run_evaluation(_config(tmp_path), judge=MockJudge(rule, name="shaky")).folder


def _lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (folder / "answers.jsonl").read_text().splitlines()]


def test_metrics_json_and_report_give_both_policies(run_folder: Path, run_cli: Any) -> None:
    lines = _lines(run_folder)
    readable = [line for line in lines if line["parsed"] != "unknown"]
    assert 0 < len(readable) < len(lines)
    # by hand: every readable answer is "No", so it is right exactly when the truth is "No"
    right = sum(line["truth"] == "no" for line in readable)
    no_truths = sum(line["truth"] == "no" for line in lines)
    metrics = json.loads((run_folder / "metrics.json").read_text())["strict"]
    wrong, excluded = metrics["overall"], metrics["unknown_excluded"]["overall"]
    assert wrong["n"] == len(lines) and excluded["n"] == len(readable)
    assert wrong["Accuracy"] == pytest.approx(100 * right / len(lines))
    assert excluded["Accuracy"] == pytest.approx(100 * right / len(readable))
    assert wrong["Recall"] == pytest.approx(100 * right / no_truths)
    assert excluded["Recall"] == 100.0  # every readable "No" truth was answered "No"

    code, out, err = run_cli(
        ["report", str(run_folder), "--layout", "full", "--format", "json", "--unknown", "exclude"]
    )
    assert code == 0, err
    table = json.loads(out)
    values = table["rows"][0]["values"]
    assert table["unknown"] == "exclude"
    assert values["overall.n"] == len(readable)
    assert values["overall.Accuracy"] == pytest.approx(excluded["Accuracy"])
    code, out, err = run_cli(["report", str(run_folder), "--layout", "full", "--format", "json"])
    assert code == 0 and json.loads(out)["rows"][0]["values"]["overall.n"] == len(lines)
    assert "unknown" not in json.loads(out)
    code, out, _ = run_cli(["report", str(run_folder), "--unknown", "exclude"])
    assert code == 0 and "unparsed Yes/No answers excluded" in out


def test_intervals_follow_the_policy(run_folder: Path) -> None:
    run = load_run(run_folder)
    settings = CISettings(resamples=100)
    for policy in ("wrong", "exclude"):
        intervals = run_intervals(run, "strict", settings, unknown=policy)
        value = run.values("strict", policy)["overall.Accuracy"]
        interval = intervals["overall.Accuracy"]
        assert interval.estimate == pytest.approx(value)
        assert interval.low is not None and interval.high is not None
        assert interval.low <= interval.estimate <= interval.high  # type: ignore[operator]
    excluded = run_intervals(run, "strict", settings, unknown="exclude")["overall.n"]
    readable = sum(line["parsed"] != "unknown" for line in _lines(run_folder))
    assert excluded.estimate == readable


def test_exclude_refused_for_official_and_for_an_older_metrics_file(
    run_folder: Path, run_cli: Any
) -> None:
    code, _, err = run_cli(
        ["report", str(run_folder), "--mode", "official", "--unknown", "exclude"]
    )
    assert code == 2 and "strict scores" in err
    metrics_file = run_folder / "metrics.json"
    metrics = json.loads(metrics_file.read_text())
    del metrics["strict"]["unknown_excluded"]
    metrics_file.write_text(json.dumps(metrics))
    code, _, err = run_cli(["report", str(run_folder), "--unknown", "exclude"])
    assert code == 2 and str(metrics_file) in err and "unknown_excluded" in err
    assert run_cli(["report", str(run_folder)])[0] == 0  # the default policy still reads it


def test_synthetic_run_gives_both_policies(tmp_path: Path, run_cli: Any) -> None:
    from amber_eval.benchmarks.synthetic_runs import write_synthetic_run

    folder = write_synthetic_run(tmp_path / "synthetic" / "mock-0", images=60, seed=3)
    lines = _lines(folder)
    readable = [line for line in lines if line["parsed"] != "unknown"]
    assert 0 < len(readable) < len(lines)  # about 2% of its answers are unparsed
    right = sum(line["parsed"] == line["truth"] for line in lines)
    # by hand: the same right answers over all questions, or over the readable ones
    figures = {}
    for policy in ("wrong", "exclude"):
        code, out, err = run_cli(
            ["report", str(folder), "--layout", "full", "--format", "json", "--unknown", policy]
        )
        assert code == 0, err
        figures[policy] = json.loads(out)["rows"][0]["values"]
    assert figures["wrong"]["overall.Accuracy"] == pytest.approx(100 * right / len(lines))
    assert figures["exclude"]["overall.Accuracy"] == pytest.approx(100 * right / len(readable))
    assert figures["exclude"]["overall.n"] == len(readable)
    assert figures["exclude"]["overall.parse_failure_rate"] == 0.0
    assert figures["wrong"]["overall.parse_failure_rate"] > 0.0
