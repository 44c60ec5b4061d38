"""Reading pairs files: JSONL and CSV, errors that name the file and line, shards."""

from __future__ import annotations

from pathlib import Path

import pytest

from amber_eval.errors import InputError
from amber_eval.pairs.reading import iter_shards, read_pairs


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_and_csv_give_the_same_pairs(tmp_path: Path) -> None:
    jsonl = _write(
        tmp_path / "p.jsonl",
        '{"id": "a", "image": "1.jpg", "caption": "A dog."}\n\n'
        '{"id": 7, "image": "2.jpg", "caption": "Two cats", "extra": 1}\n',
    )
    csv = _write(
        tmp_path / "p.csv",
        'caption,id,image\n"A dog.",a,1.jpg\n\n"Two cats",7,2.jpg\n',
    )
    for path in (jsonl, csv):
        pairs = list(read_pairs(path))
        assert [(p.ordinal, p.id, p.image, p.caption) for p in pairs] == [
            (0, "a", "1.jpg", "A dog."),
            (1, "7", "2.jpg", "Two cats"),
        ]
    assert [p.line for p in read_pairs(jsonl)] == [1, 3]
    assert [p.line for p in read_pairs(csv)] == [2, 4]


def test_csv_line_numbers_follow_multiline_fields(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.csv", 'id,image,caption\na,1.jpg,"two\nlines"\nb,2.jpg\n')
    with pytest.raises(InputError, match=r"p\.csv:4: 2 columns, the header has 3"):
        list(read_pairs(path))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "p.jsonl",
            '{"id": "a", "image": "1.jpg", "caption": "x"}\n{oops\n',
            r"p\.jsonl:2: not valid JSON",
        ),
        ("p.jsonl", "[1, 2]\n", r"p\.jsonl:1: expected a JSON object"),
        ("p.jsonl", '{"id": "a", "caption": "x"}\n', r"p\.jsonl:1: missing field\(s\) image"),
        (
            "p.jsonl",
            '{"id": "", "image": "1.jpg", "caption": "x"}\n',
            r"p\.jsonl:1: field 'id' is empty",
        ),
        (
            "p.jsonl",
            '{"id": "a", "image": ["x"], "caption": "x"}\n',
            r"p\.jsonl:1: field 'image' must be",
        ),
        ("p.csv", "id,caption\na,x\n", r"p\.csv:1: the header lacks column\(s\) image"),
        ("p.txt", "x\n", r"p\.txt: unknown pairs format"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(read_pairs(_write(tmp_path / name, text)))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="pairs file not found"):
        list(read_pairs(tmp_path / "none.jsonl"))


def test_shards(tmp_path: Path) -> None:
    lines = "".join(f'{{"id": "{i}", "image": "i.jpg", "caption": "c"}}\n' for i in range(7))
    path = _write(tmp_path / "p.jsonl", lines)
    shards = list(iter_shards(path, 3))
    assert [s.index for s in shards] == [0, 1, 2]
    assert [[p.ordinal for p in s.pairs] for s in shards] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [s.index for s in iter_shards(path, 3, wanted={1})] == [1]
    with pytest.raises(InputError, match="shard size"):
        list(iter_shards(path, 0))
