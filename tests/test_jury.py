"""``amber-eval jury``: majority answers of several mock-judge runs, scored as a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_checks import _config

from amber_eval.checks.jury import majority, make_jury, verdict_line
from amber_eval.judge.mock import MockJudge
from amber_eval.reporting.run_data import load_run
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.runs.pipeline import run_evaluation


def _line(parsed: str, p_yes: float | None, answer: str = "x") -> AnswerLine:
    return AnswerLine(
        id=1005,
        image="AMBER_1.jpg",
        dimension="existence",
        truth="no",
        prompt="Is there a dog?",
        answer=answer,
        parsed=parsed,  # type: ignore[arg-type]
        p_yes=p_yes,
    )


def test_majority_and_tie_rules() -> None:
    assert majority(["yes", "yes", "no"]) == "yes"
    assert majority(["no", "unknown", "unknown"]) == "no"  # unparsed answers abstain
    assert majority(["yes", "no", "unknown"]) == "unknown"  # a tie: no majority
    assert majority(["yes", "no"], "no") == "no" and majority(["yes", "no"], "yes") == "yes"
    assert majority(["unknown", "unknown"], "no") == "unknown"  # no vote at all
    line = verdict_line([_line("yes", 0.9), _line("yes", 0.6), _line("no", 0.3)])
    assert (line.parsed, line.answer) == ("yes", "Yes")
    assert line.p_yes == pytest.approx(0.6)  # (0.9 + 0.6 + 0.3) / 3
    tied = verdict_line([_line("yes", 0.9), _line("no", None), _line("unknown", None, "Hm")])
    assert tied.parsed == "unknown" and tied.p_yes is None
    assert tied.answer == "jury without majority: 1 yes, 1 no, 1 unparsed"
    assert tied.response == tied.answer  # official rules read it as unparsed too


@pytest.mark.usefixtures("amber_data_dir")
def test_jury_of_three_runs_is_a_run(tmp_path: Path, run_cli: Any) -> None:
    probe = run_evaluation(_config(tmp_path / "probe"), judge=MockJudge("No"))
    truth = {
        line["prompt"]: line["truth"]
        for line in map(json.loads, (probe.folder / "answers.jsonl").read_text().splitlines())
    }
    flipped = set(sorted(truth)[::4])

    def right(prompt: str) -> str:
        return "Yes" if truth[prompt] == "yes" else "No"

    def mostly_right(prompt: str) -> str:
        return ("No" if right(prompt) == "Yes" else "Yes") if prompt in flipped else right(prompt)

    a = run_evaluation(_config(tmp_path), judge=MockJudge(right, name="a"))
    b = run_evaluation(_config(tmp_path), judge=MockJudge(mostly_right, name="b"))
    c = run_evaluation(_config(tmp_path), judge=MockJudge("No", name="c"))
    code, out, err = run_cli(
        ["jury", str(a.folder), str(b.folder), str(c.folder), "--out", str(tmp_path / "jury")]
    )
    assert code == 0, err
    (folder,) = (tmp_path / "jury" / "oracle").glob("jury-*")
    assert f"run folder: {folder}" in out
    # by hand: a is right, c says No. Truth "no": a and c say No. Truth "yes": a says Yes,
    # c No, so b decides: wrong exactly on the flipped questions whose truth is "yes"
    wrong = sum(truth[p] == "yes" for p in flipped)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["strict"]["overall"]["n"] == len(truth)
    assert metrics["strict"]["overall"]["Accuracy"] == pytest.approx(
        100 * (len(truth) - wrong) / len(truth)
    )
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "success"
    assert [m["folder"] for m in record["jury"]["members"]] == [
        str(a.folder),
        str(b.folder),
        str(c.folder),
    ]
    assert record["jury"]["tie"] == "unknown" and record["kind"] == "jury"
    # a jury is made again by `jury`, not by `run --config`
    code, _, err = run_cli(["run", "--config", str(folder / "run.json")])
    assert code == 2 and "jury" in err
    run = load_run(folder)  # every report reads it
    assert run.metrics.coverage == load_run(a.folder).metrics.coverage
    code, out, err = run_cli(["report", str(folder), "--layout", "full", "--format", "json"])
    assert code == 0, err
    values = json.loads(out)["rows"][0]["values"]
    assert values["overall.Accuracy"] == pytest.approx(metrics["strict"]["overall"]["Accuracy"])
    assert (folder / "tables.md").is_file() and (folder / "report.html").is_file()

    # two runs: every question a answers Yes (truth yes) is a tie with c
    yes_truths = sum(t == "yes" for t in truth.values())
    tied = make_jury([load_run(a.folder), load_run(c.folder)], out=tmp_path / "two")
    assert tied.ties == tied.no_verdict == yes_truths
    strict = tied.metrics["strict"]["overall"]
    assert strict["parse_failure_rate"] == pytest.approx(yes_truths / len(truth))
    assert tied.metrics["strict"]["unknown_excluded"]["overall"]["n"] == len(truth) - yes_truths
    said_no = make_jury([load_run(a.folder), load_run(c.folder)], out=tmp_path / "two", tie="no")
    assert said_no.no_verdict == 0 and said_no.folder != tied.folder
    assert said_no.metrics["strict"]["overall"]["yes_ratio"] == 0.0


@pytest.mark.usefixtures("amber_data_dir")
def test_jury_takes_the_shared_questions_of_runs_over_different_ones(
    tmp_path: Path, run_cli: Any
) -> None:
    a = run_evaluation(_config(tmp_path), judge=MockJudge("No", name="a"))
    b = run_evaluation(_config(tmp_path, limit_images=4), judge=MockJudge("Yes", name="b"))
    # only the shared questions are voted on, with a note of what was left out
    shared = make_jury([load_run(a.folder), load_run(b.folder)], out=tmp_path / "s")
    only_a = len(load_run(a.folder).answers()) - len(load_run(b.folder).answers())
    assert shared.questions == len(load_run(b.folder).answers()) and only_a > 0
    assert shared.note is not None and f"{only_a} only in" in shared.note
    code, _, err = run_cli(["jury", str(a.folder), "--out", str(tmp_path / "j")])
    assert code == 2 and "at least two runs" in err
    assert not (tmp_path / "j").exists()
