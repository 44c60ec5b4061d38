"""The typed records of run folders: one answers line, run.json, the one JSON-lines reader."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from amber_eval.errors import InputError
from amber_eval.io import read_jsonl
from amber_eval.judge.base import Answer
from amber_eval.judge_options import JudgeOptions
from amber_eval.prompting import PromptRecord
from amber_eval.run_folder.answer_line import ANSWER_FIELDS, AnswerLine, read_answer_lines
from amber_eval.run_folder.config import RunConfig
from amber_eval.run_folder.record import RUN_FORMAT_VERSION, RunRecord, read_run_record

PROMPT = PromptRecord(1005, "AMBER_1.jpg", "existence", "no", "Is there a dog?")


def _line(**change: object) -> AnswerLine:
    return dataclasses.replace(
        AnswerLine.of(PROMPT, Answer("No", "no", p_yes=0.25, margin=-1.1, token="No")), **change
    )


def test_an_answer_line_reads_back_what_it_wrote() -> None:
    line = _line()
    data = json.loads(json.dumps(line.to_json()))
    assert tuple(data) == ANSWER_FIELDS
    assert data["answer"] == "No" and "text" not in data
    assert AnswerLine.from_json(data, where="a.jsonl") == line
    assert AnswerLine.from_json({**data, "later_field": 1}, where="a.jsonl") == line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answer": None}, "'answer' has the wrong type"),
        ({"dimension": "colour"}, "'dimension' is 'colour'"),
        ({"parsed": "maybe"}, "'parsed' is 'maybe'"),
        ({"id": "1005"}, "integer 'id'"),
    ],
)
def test_a_bad_answer_line_names_the_field(change: dict[str, object], message: str) -> None:
    data = {**_line().to_json(), **change}
    with pytest.raises(InputError, match=message):
        AnswerLine.from_json(data, where="answers.jsonl")


def test_an_old_answer_line_with_text_is_refused_naming_the_field() -> None:
    data = _line().to_json()
    data["text"] = data.pop("answer")
    with pytest.raises(InputError, match=r"answers.jsonl: answer id 1005: field 'answer'"):
        AnswerLine.from_json(data, where="answers.jsonl")


def test_one_reader_drops_a_torn_line_and_keeps_the_first_of_an_id(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    lines = [_line(), _line(answer="Yes", parsed="yes"), _line(id=1006)]
    text = "".join(json.dumps(x.to_json()) + "\n" for x in lines)
    path.write_text(text + '{"id": 1007, "im')
    assert [x.id for x in read_answer_lines(path)] == [1005, 1006]
    assert read_answer_lines(path)[0].answer == "No"  # a repeated id keeps its first line
    assert len(read_jsonl(path)) == 3  # the plain reader returns every complete line
    assert path.read_text().endswith('"im')  # readers never cut the file ...
    read_answer_lines(path, repair=True)
    assert path.read_text() == text  # ... unless the appending process repairs it


def _record() -> RunRecord:
    config = RunConfig(
        captions="oracle",
        llm="mock",
        judge_options=JudgeOptions(answer_mode="generate", dtype="float32"),
    )
    return RunRecord(config=config, model="oracle", config_hash="a" * 64, status="success")


def test_run_json_reads_back_what_it_wrote(tmp_path: Path) -> None:
    record = _record()
    data = record.to_json()
    assert data["format"] == "amber-eval/run" and data["format_version"] == RUN_FORMAT_VERSION
    assert data["config"]["answer_mode"] == "generate"
    assert data["config"]["judge_options"] == {"dtype": "float32"}
    path = tmp_path / "run.json"
    path.write_text(json.dumps({**data, "warnings": ["later field"]}))
    again = read_run_record(path)
    assert again == record
    assert again.config.judge_options == JudgeOptions(answer_mode="generate", dtype="float32")
    assert again.to_json()["warnings"] == ["later field"]  # a field it does not know is kept


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": None}, r"'format_version' is missing.*version 1"),
        ({"format_version": 2}, r"run format version 2 is newer.*version 1"),
        ({"format": "something/else"}, r"field 'format' is 'something/else'"),
        ({"config": {"captions": "oracle", "llm_name": "x"}}, r"unknown config field 'llm_name'"),
        ({"config": {"captions": "oracle"}}, r"config field 'llm' is missing"),
        ({"status": "done"}, r"field 'status' is 'done'"),
        ({"attempts": "2"}, r"field 'attempts' has the wrong type"),
    ],
)
def test_an_old_or_foreign_run_json_names_the_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    data = {**_record().to_json(), **change}
    data = {k: v for k, v in data.items() if v is not None}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message):
        read_run_record(path)


def test_ask_and_run_write_the_same_answers_line(tmp_path: Path) -> None:
    from amber_eval.judge.ask import write_answers
    from amber_eval.run_folder.files import AnswerLog

    answer = Answer("No", "no", p_yes=0.25, margin=-1.1, token="No")
    write_answers(tmp_path / "ask.jsonl", [PROMPT], [answer])
    with AnswerLog(tmp_path / "run.jsonl") as log:
        log.append([AnswerLine.of(PROMPT, answer)])
    assert (tmp_path / "ask.jsonl").read_bytes() == (tmp_path / "run.jsonl").read_bytes()
    assert read_answer_lines(tmp_path / "ask.jsonl") == [_line()]


def test_a_run_config_holds_its_caption_selection() -> None:
    from amber_eval.captions.selection import SelectionSettings

    config = RunConfig(captions="oracle", llm="mock", out="x", store="s.sqlite")
    assert config.out == Path("x") and config.store == Path("s.sqlite")
    assert config.selection == SelectionSettings()
    shuffled = SelectionSettings.from_options(top_k=3, order="shuffled", order_seed=2)
    data = dataclasses.replace(config, selection=shuffled).to_json()
    assert {key: data[key] for key in ("top_k", "order", "order_seed", "keep_duplicates")} == {
        "top_k": 3,
        "order": "shuffled",
        "order_seed": 2,
        "keep_duplicates": False,
    }
    assert RunConfig.from_json(data, where="run.json").selection == shuffled
    # a config written before keep_duplicates, with the old nulls, is the default selection
    old = {"captions": "oracle", "llm": "mock", "top_k": None, "order": None, "order_seed": None}
    assert RunConfig.from_json(old, where="old.toml").selection == SelectionSettings()
    with pytest.raises(InputError, match=r"bad\.toml: unknown caption order 'best'"):
        RunConfig.from_json({**old, "order": "best"}, where="bad.toml")
