from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from amber_eval.errors import InputError
from amber_eval.io import atomic_write_json, atomic_write_text


def test_atomic_write_replaces_and_uses_umask_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    old_mask = os.umask(0o022)
    try:
        atomic_write_json(target, {"a": 1})
    finally:
        os.umask(old_mask)
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    with pytest.raises(TypeError):
        atomic_write_text(target, 123)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_iter_jsonl_reads_input_lines_and_names_file_and_line(tmp_path: Path) -> None:
    from amber_eval.io import iter_jsonl

    path = tmp_path / "in.jsonl"
    # a JSON string may hold U+2028 unescaped; the last line has no newline and still counts
    path.write_text('{"a": "x\u2028y"}\r\n\n[1]\n{"b": 2}', encoding="utf-8")
    assert list(iter_jsonl(path, objects=None)) == [(1, {"a": "x\u2028y"}), (3, [1]), (4, {"b": 2})]
    assert list(iter_jsonl(path, text=path.read_text(), objects=None))[2] == (4, {"b": 2})
    with pytest.raises(
        InputError, match=r"in\.jsonl:3: expected a JSON object with a, not '\[1\]'"
    ):
        list(iter_jsonl(path, objects="with a"))
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError, match=r"in\.jsonl:2: not valid JSON"):
        list(iter_jsonl(path))
    with pytest.raises(InputError, match=r"prompts file not found: .*missing\.jsonl"):
        list(iter_jsonl(tmp_path / "missing.jsonl", what="prompts file"))
