"""``amber-eval protocol-gap``: the protocol on an MLLM's descriptions against its direct
answers, on the parity fixture's files with mock judges (hand-computed figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from amber_eval.checks.protocol_gap import gap_of_runs, protocol_gap, render_gap
from amber_eval.errors import InputError
from amber_eval.judge.mock import MockJudge
from amber_eval.reporting.run_data import load_run
from amber_eval.run_folder.config import RunConfig
from amber_eval.terms import parse_strict

pytestmark = pytest.mark.usefixtures("amber_data_dir")


def _config(tmp_path: Path, **change: Any) -> RunConfig:
    base: dict[str, Any] = {
        "captions": "unused",
        "llm": "mock",
        "model": "parity-mllm",
        "limit_images": 4,
        "out": tmp_path / "results",
        "show_progress": False,
    }
    base.update(change)
    return RunConfig(**base)


def _gap(tmp_path: Path, parity_dir: Path, judge: MockJudge, **settings: Any) -> Any:
    """The gap of the parity fixture's descriptions and exact answers under ``judge``."""
    return protocol_gap(
        parity_dir / "descriptions.json",
        parity_dir / "answers_exact.json",
        _config(tmp_path),
        judge=judge,
        **settings,
    )


def _direct(parity_dir: Path) -> dict[int, str]:
    data = json.loads((parity_dir / "answers_exact.json").read_text())
    return {item["id"]: item["response"] for item in data}


def _answers(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (folder / "answers.jsonl").read_text().splitlines()]


def test_a_judge_that_always_says_no(tmp_path: Path, parity_dir: Path) -> None:
    gap = _gap(tmp_path, parity_dir, MockJudge("No", name="always-no"), resamples=200)
    lines = _answers(Path(gap.protocol_run))
    direct = _direct(parity_dir)
    assert gap.questions == len(lines) and gap.images == 4 and gap.only_protocol == 0
    assert gap.only_direct == len(direct) - len(lines)
    # by hand: the protocol says No to all, so its accuracy is the share of "no" truths; the
    # direct accuracy is the share of the file's answers that read as the truth
    truths = [line["truth"] for line in lines]
    said = [parse_strict(direct[line["id"]]) for line in lines]
    protocol_accuracy = 100 * truths.count("no") / len(lines)
    direct_accuracy = 100 * sum(s == t for s, t in zip(said, truths, strict=True)) / len(lines)
    row = {(r.block, r.metric): r for r in gap.rows}[("overall", "Accuracy")]
    assert row.protocol == pytest.approx(protocol_accuracy)
    assert row.direct == pytest.approx(direct_accuracy)
    assert row.difference.estimate == pytest.approx(protocol_accuracy - direct_accuracy)
    assert row.difference.low is not None and row.difference.high is not None
    assert row.difference.low <= row.difference.estimate <= row.difference.high
    # agreement: the share of direct answers that are "No"; a constant side has kappa 0
    pair = gap.agreement.blocks[0].pairs[0]
    assert pair.raw.interval.estimate == pytest.approx(said.count("no") / len(lines))
    assert pair.kappa.interval.estimate == pytest.approx(0.0)
    assert {r.block for r in gap.rows} == {
        "overall",
        "existence",
        "attribute",
        "state",
        "number",
        "action",
        "relation",
    }
    # both runs are ordinary run folders in the MLLM's model folder
    assert Path(gap.protocol_run).parent == Path(gap.direct_run).parent
    assert load_run(gap.direct_run).record.kind == "responses"
    dump = tmp_path / "results" / "parity-mllm" / "descriptions-sentence.jsonl"
    assert json.loads(dump.read_text().splitlines()[1])["image"] == "AMBER_1.jpg"
    # the same call again reuses the dump, so the same run folder
    again = _gap(tmp_path, parity_dir, MockJudge("No", name="always-no"), resamples=200)
    assert again.protocol_run == gap.protocol_run and again.rows == gap.rows
    # a damaged earlier import is made again, and gives the same figures
    dump.write_text("not a dump\n")
    mended = _gap(tmp_path, parity_dir, MockJudge("No", name="always-no"), resamples=200)
    assert mended.rows == gap.rows
    assert json.loads(dump.read_text().splitlines()[0])["captioner"]["name"] == "parity-mllm"


def test_a_protocol_that_reproduces_the_direct_answers_has_no_gap(
    tmp_path: Path, parity_dir: Path
) -> None:
    """A judge whose answer depends on the question: it gives, for each prompt, what the MLLM
    answered directly, except on a known set of questions where it says the opposite."""
    direct = _direct(parity_dir)
    probe = _gap(tmp_path, parity_dir, MockJudge("No", name="probe"), resamples=50)
    by_prompt = {line["prompt"]: line["id"] for line in _answers(Path(probe.protocol_run))}

    def echo(prompt: str) -> str:
        return direct[by_prompt[prompt]]

    same = _gap(tmp_path, parity_dir, MockJudge(echo, name="echo"), resamples=200)
    for row in same.rows:
        assert row.difference.estimate in (0.0, None)
        if row.difference.estimate is not None:
            assert row.difference.low == row.difference.high == 0.0
    pair = same.agreement.blocks[0].pairs[0]
    assert pair.raw.interval.estimate == 1.0
    assert pair.kappa.interval.estimate == pytest.approx(1.0)
    assert pair.alpha.interval.estimate == pytest.approx(1.0)
    assert same.agreement.disagreements == ()

    flipped = sorted(by_prompt.values())[::5]

    def echo_but_flip(prompt: str) -> str:
        answer = parse_strict(direct[by_prompt[prompt]])
        if by_prompt[prompt] in flipped:
            return "No" if answer == "yes" else "Yes"
        return answer.capitalize()

    gap = gap_of_runs(
        load_run(
            _gap(
                tmp_path, parity_dir, MockJudge(echo_but_flip, name="flip"), resamples=50
            ).protocol_run
        ),
        load_run(same.direct_run),
        resamples=200,
    )
    lines = {line["id"]: line for line in _answers(Path(gap.protocol_run))}
    truth = {i: line["truth"] for i, line in lines.items()}
    # by hand: a flipped question turns a right direct answer wrong and a wrong one right
    right_direct = sum(parse_strict(direct[i]) == truth[i] for i in lines)
    change = sum(-1 if parse_strict(direct[i]) == truth[i] else 1 for i in flipped)
    row = {(r.block, r.metric): r for r in gap.rows}[("overall", "Accuracy")]
    assert row.direct == pytest.approx(100 * right_direct / len(lines))
    assert row.difference.estimate == pytest.approx(100 * change / len(lines))
    pair = gap.agreement.blocks[0].pairs[0]
    assert pair.raw.interval.estimate == pytest.approx(1 - len(flipped) / len(lines))
    listed = {d.id for d in gap.agreement.disagreements}
    assert listed and listed <= set(flipped)

    markdown = render_gap(gap, "markdown")
    assert "| overall | Accuracy |" in markdown and "Protocol - direct" in markdown
    assert "| Alpha |" in markdown and Path(gap.direct_run).name in markdown
    data = json.loads(render_gap(gap, "json"))
    overall = data["blocks"]["overall"]["Accuracy"]
    assert overall["difference"]["estimate"] == pytest.approx(row.difference.estimate)
    assert data["agreement"]["blocks"]["overall"]["pairs"][0]["a"] == "protocol"
    latex = render_gap(gap, "latex")
    assert r"Protocol $-$ direct" in latex and r"\begin{tabular}" in latex


def test_cli_and_errors(tmp_path: Path, parity_dir: Path, run_cli: Any) -> None:
    args = [
        "protocol-gap",
        "--descriptions",
        str(parity_dir / "descriptions.json"),
        "--answers",
        str(parity_dir / "answers_exact.json"),
        "--model",
        "parity-mllm",
        "--llm",
        "mock-no",
        "--limit-images",
        "2",
        "--out",
        str(tmp_path / "results"),
        "--no-progress",
        "--resamples",
        "100",
    ]
    code, out, err = run_cli([*args, "--format", "json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["judge"] == "mock-no" and data["images"] == 2
    assert data["judge_alarm"]  # always "No": the alarm, said in the table's note too
    code, out, err = run_cli(args)
    assert code == 0 and "is the judge's bias, not the protocol's" in out
    overall = data["blocks"]["overall"]["Accuracy"]
    assert overall["difference"]["estimate"] == pytest.approx(
        overall["protocol"] - overall["direct"]
    )
    table = tmp_path / "gap.tex"
    code, _, err = run_cli([*args, "--format", "latex", "--table", str(table)])
    assert code == 0 and r"\begin{tabular}" in table.read_text()
    # the report of the model folder shows both: the protocol row and the direct answers' row
    code, out, err = run_cli(["report", str(tmp_path / "results" / "parity-mllm")])
    assert code == 0 and "parity-mllm + mock-no" in out and "| parity-mllm |" in out
    # a table written over an input is refused before anything runs
    code, _, err = run_cli([*args[:-4], "--table", str(parity_dir / "answers_exact.json")])
    assert code == 2 and "answers_exact.json" in err
    # direct answers that cover none of the judged questions
    other = tmp_path / "late.json"
    direct = json.loads((parity_dir / "answers_exact.json").read_text())
    other.write_text(json.dumps([item for item in direct if item["id"] > 15000]))
    with pytest.raises(InputError, match="share no question"):
        protocol_gap(
            parity_dir / "descriptions.json",
            other,
            _config(tmp_path, limit_images=2),
            judge=MockJudge("No"),
            resamples=20,
        )
