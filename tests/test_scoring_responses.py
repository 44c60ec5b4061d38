"""Reading response files: upstream JSON list and JSONL; malformed input names file and item."""

from __future__ import annotations

from pathlib import Path

import pytest

from amber_eval.errors import InputError
from amber_eval.scoring import Response, read_responses


def write(tmp_path: Path, text: str, name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_json_list_and_jsonl(tmp_path: Path) -> None:
    listed = write(tmp_path, '[{"id": 1, "response": "A dog."}, {"id": 1005, "response": "No"}]')
    lines = write(
        tmp_path, '{"id": 1, "response": "A dog."}\n\n{"id": 1005, "response": "No"}\n', "r.jsonl"
    )
    expected = [Response(1, "A dog."), Response(1005, "No")]
    assert read_responses(listed) == expected
    assert read_responses(lines) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"id": 1, "response": "x"}', r"r\.json: not valid JSON \(line 1"),
        ('{"id": 1}', r"r\.json:1: missing field 'response'"),
        ('[{"id": 1, "response": "x"}, {"response": "x"}]', r"item 1: missing field 'id'"),
        ('[{"id": "7", "response": "x"}]', r"item 0: id must be an integer, got '7'"),
        ('[{"id": 7.0, "response": "x"}]', r"item 0: id must be an integer, got 7.0"),
        ('[{"id": true, "response": "x"}]', r"item 0: id must be an integer, got True"),
        ('[{"id": 7, "response": null}]', r"item 0 \(id 7\): response must be a string"),
        ("[1, 2]", r"item 0: expected an object"),
        ('{"a": 1}', r"r\.json:1: missing field 'id' and 'response'"),
        ('{"id": 1, "response": "x"}\nnot json\n', r"r\.json:2: not valid JSON"),
        ("", r"empty file"),
    ],
)
def test_malformed_input_names_file_item_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        read_responses(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="response file not found"):
        read_responses(tmp_path / "nope.json")
