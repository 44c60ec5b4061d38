"""Run folder files: torn answer lines, names that stay inside their folder, config hashing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from amber_eval.errors import InputError, ResourceError
from amber_eval.run_folder.answer_line import AnswerLine, read_answer_lines
from amber_eval.run_folder.config import Fingerprint, RunConfig
from amber_eval.run_folder.files import (
    AnswerLog,
    check_writable,
    run_dir,
    safe_name,
    write_responses,
)
from amber_eval.runs.provenance import data_sha256


def _record(i: int) -> AnswerLine:
    return AnswerLine(
        id=i,
        image="AMBER_1.jpg",
        dimension="existence",
        truth="no",
        prompt="Is there a dog?",
        answer="No",
        parsed="no",
    )


def test_torn_last_line_is_dropped_and_cut(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    with AnswerLog(path) as log:
        log.append([_record(1005), _record(1006)])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": 1007, "ima')  # killed mid-write
    records = read_answer_lines(path, repair=True)
    assert [r.id for r in records] == [1005, 1006]
    assert path.read_text(encoding="utf-8").count("\n") == 2
    assert path.read_text(encoding="utf-8").endswith("\n")
    with AnswerLog(path) as log:  # appending after the cut gives clean lines
        log.append([_record(1007)])
    assert [r.id for r in read_answer_lines(path)] == [1005, 1006, 1007]


def test_complete_json_without_newline_is_treated_as_torn(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text(
        json.dumps(_record(1005).to_json()) + "\n" + json.dumps(_record(1006).to_json())
    )
    assert [r.id for r in read_answer_lines(path)] == [1005]


def test_corrupt_middle_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    good = [json.dumps(_record(i).to_json()) for i in (1005, 1006)]
    path.write_text(good[0] + "\nnot json\n" + good[1] + "\n")
    with pytest.raises(InputError, match=r"answers.jsonl:2:"):
        read_answer_lines(path)


def test_answer_log_keeps_only_the_documented_fields(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    with AnswerLog(path) as log:
        log.append([_record(1005)])
    line = json.loads(path.read_text())
    assert list(line) == [
        "id", "image", "dimension", "truth", "prompt", "answer", "parsed", "p_yes", "margin",
        "token", "flagged",
    ]  # fmt: skip
    assert "extra" not in line


def test_responses_are_sorted_upstream_records(tmp_path: Path) -> None:
    records = [
        dataclasses.replace(_record(1010), answer="No, there is not."),
        dataclasses.replace(_record(1005), answer="**yes**", parsed="yes"),
        dataclasses.replace(_record(1007), answer="Not sure", parsed="unknown"),
    ]
    write_responses(tmp_path / "r.json", records)
    # the decision, exactly Yes or No, whatever the raw text; an unparseable answer as given
    assert json.loads((tmp_path / "r.json").read_text()) == [
        {"id": 1005, "response": "Yes"},
        {"id": 1007, "response": "Not sure"},
        {"id": 1010, "response": "No"},
    ]


@pytest.mark.parametrize("name", ["../../etc", "..", "/abs/path", "a/b", ""])
def test_names_never_escape_their_folder(tmp_path: Path, name: str) -> None:
    cleaned = safe_name(name)
    assert "/" not in cleaned and cleaned not in ("", ".", "..")
    folder = run_dir(tmp_path, name, name, "0" * 64)
    assert folder.resolve().is_relative_to(tmp_path.resolve())


def test_unwritable_folder_is_a_resource_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ResourceError, match="--out"):
        check_writable(blocker / "sub")


def _fingerprint(**change: object) -> Fingerprint:
    base: dict[str, object] = {
        "judge_identity": {"model": "m", "mode": "score"},
        "captions_sha256": "c" * 64,
        "selection": {"top_k": 10, "min_score": 0.0, "order": "score"},
        "template": "paper",
        "template_sha256": "t" * 64,
        "limit_images": None,
        "mode": "score",
        "data_sha256": data_sha256(),
        "spacy_model": "en_core_web_lg",
        "version": "0.1.0",
    }
    base.update(change)
    return Fingerprint(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"judge_identity": {"model": "m2", "mode": "score"}},
        {"captions_sha256": "d" * 64},
        {"selection": {"top_k": 5, "min_score": 0.0, "order": "score"}},
        {"template": "short"},
        {"template_sha256": "u" * 64},
        {"limit_images": 10},
        {"mode": "generate"},
        {"data_sha256": "e" * 64},
        {"spacy_model": "en_core_web_sm"},
        {"version": "0.2.0"},
    ],
)
def test_config_hash_covers_every_result_input(change: dict[str, object]) -> None:
    assert _fingerprint(**change).digest != _fingerprint().digest
    assert _fingerprint().digest == _fingerprint().digest


def test_model_name_from_captions_path() -> None:
    assert RunConfig(captions="oracle", llm="x").model_name == "oracle"
    assert RunConfig(captions="results/grit/captions.jsonl", llm="x").model_name == "grit"
    assert RunConfig(captions="dumps/grit-v2.jsonl", llm="x").model_name == "grit-v2"
    assert RunConfig(captions="dumps/a.jsonl", llm="x", model="named").model_name == "named"
