"""A run's responses are the judge's decisions, whatever the answer mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from amber_eval.judge.mock import MockJudge
from amber_eval.judge_options import JudgeOptions
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.run_folder.config import RunConfig
from amber_eval.runs.pipeline import run_evaluation
from amber_eval.terms import decision_text

pytestmark = pytest.mark.usefixtures("amber_data_dir")


def _config(tmp_path: Path, mode: str) -> RunConfig:
    return RunConfig(
        captions="oracle",
        llm="mock",
        judge_options=JudgeOptions(answer_mode=mode),
        limit_images=3,
        out=tmp_path / "results",
        show_progress=False,
    )


def _decide(prompt: str) -> bool:
    """A fixed, mixed decision per prompt."""
    return sum(map(ord, prompt)) % 3 == 0


def generated(prompt: str) -> str:
    return "Yes, there is." if _decide(prompt) else "No."


def scored(prompt: str) -> str:
    return "Yes" if _decide(prompt) else "No"


def test_decision_text() -> None:
    assert decision_text("yes", "**yes**") == "Yes"
    assert decision_text("no", "No, there is not.") == "No"
    assert decision_text("unknown", "I cannot tell") == "I cannot tell"
    line = AnswerLine(1005, "AMBER_1.jpg", "existence", "no", "Is there a dog?", "No.", "no")
    assert line.response == "No" and line.reading("official") == "no"
    unknown = AnswerLine(1005, "AMBER_1.jpg", "existence", "no", "Is there?", "Nah", "unknown")
    assert unknown.response == "Nah" and unknown.reading("official") == "unknown"


def test_score_and_generate_runs_with_the_same_decisions_agree(tmp_path: Path) -> None:
    score_run = run_evaluation(_config(tmp_path, "score"), judge=MockJudge(scored, name="m"))
    generate_run = run_evaluation(
        _config(tmp_path, "generate"), judge=MockJudge(generated, name="m")
    )
    assert score_run.folder != generate_run.folder
    score_bytes = (score_run.folder / "responses.json").read_bytes()
    assert score_bytes == (generate_run.folder / "responses.json").read_bytes()
    responses = json.loads(score_bytes)
    assert {r["response"] for r in responses} == {"Yes", "No"}
    for block in ("strict", "official"):
        assert score_run.metrics[block] == generate_run.metrics[block]
    # the official block counts the decisions (the raw "No." would be unknown upstream)
    assert generate_run.metrics["official"]["overall"]["Accuracy"] > 0
    # the raw generated text is kept in answers.jsonl
    raw = {
        json.loads(line)["answer"]
        for line in (generate_run.folder / "answers.jsonl").read_text().splitlines()
    }
    assert raw == {"Yes, there is.", "No."}


def test_an_unparseable_answer_is_written_raw(tmp_path: Path) -> None:
    def rambling(prompt: str) -> str:
        return "Perhaps a cat" if _decide(prompt) else "No."

    result = run_evaluation(_config(tmp_path, "generate"), judge=MockJudge(rambling))
    responses: list[dict[str, Any]] = json.loads((result.folder / "responses.json").read_text())
    texts = {r["response"] for r in responses}
    assert texts == {"Perhaps a cat", "No"}
    unknown = sum(r["response"] == "Perhaps a cat" for r in responses)
    strict = result.metrics["strict"]["overall"]
    assert strict["parse_failure_rate"] == pytest.approx(unknown / len(responses))
