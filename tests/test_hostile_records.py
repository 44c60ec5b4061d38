"""Tampered run folders and outputs that are inputs: readers check what they read, writers
never overwrite what they read.

- ``metrics.json`` edited (a figure, the alarm's warnings removed) is refused by ``report``,
  naming the figure; ``answers.jsonl`` with a repeated line, an extra (foreign) line, a torn
  last line or lines cut off is refused by ``report --ci``, ``compare`` and ``agree``, naming
  the line or the count.
- ``sensitivity --table`` and ``report --out`` refuse a path they read (``--captions``,
  ``--with-ceiling``, a run folder's own files), leaving it unchanged.
- Inputs that are not regular files are read with a size guard (``/dev/zero``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from amber_eval.benchmarks.synthetic_runs import write_synthetic_run

RunCli = Callable[[list[str]], tuple[int, str, str]]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _two(tmp_path: Path, **options: Any) -> tuple[Path, Path]:
    a = write_synthetic_run(tmp_path / "a" / "x-1", model="a", images=6, seed=1, **options)
    b = write_synthetic_run(tmp_path / "b" / "x-2", model="b", images=6, seed=2, **options)
    return a, b


def _lines(folder: Path) -> list[str]:
    return (folder / "answers.jsonl").read_text().splitlines(keepends=True)


def test_an_edited_figure_in_metrics_json_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    a, _b = _two(tmp_path)
    metrics = json.loads((a / "metrics.json").read_text())
    stated = metrics["strict"]["overall"]["F1"]
    metrics["strict"]["overall"]["F1"] = 99.9
    (a / "metrics.json").write_text(json.dumps(metrics))
    code, out, err = run_cli(["report", str(a), "--layout", "full"])
    assert code == 2 and "99.9" not in out
    assert f"{a / 'metrics.json'}: strict overall.F1 is 99.9" in err
    assert f"gives {stated:.6g}" in err


def test_removed_judge_warnings_are_refused(tmp_path: Path, run_cli: RunCli) -> None:
    a = write_synthetic_run(tmp_path / "a" / "x-1", images=6, accuracy=0.5, seed=3)
    metrics = json.loads((a / "metrics.json").read_text())
    assert metrics["warnings"]  # a useless judge: the run raised the alarm
    metrics["warnings"] = []
    (a / "metrics.json").write_text(json.dumps(metrics))
    code, _out, err = run_cli(["report", str(a)])
    assert code == 2 and "its judge warnings (none) are not the ones" in err


def _repeat_line(folder: Path) -> str:
    lines = _lines(folder)
    (folder / "answers.jsonl").write_text("".join([*lines, lines[3]]))
    return f"answers.jsonl:{len(lines) + 1}: id {json.loads(lines[3])['id']} was already answered on line 4"  # fmt: skip


def _foreign_line(folder: Path) -> str:
    lines = _lines(folder)
    extra = json.loads(lines[0]) | {"id": 999_999}
    (folder / "answers.jsonl").write_text("".join([*lines, json.dumps(extra) + "\n"]))
    return f"{len(lines) + 1} answers, but the run asked {len(lines)} questions"


def _torn_line(folder: Path) -> str:
    text = (folder / "answers.jsonl").read_text()
    (folder / "answers.jsonl").write_text(text[:-20])
    return "the last line is cut short"


def _cut_lines(folder: Path) -> str:
    lines = _lines(folder)
    (folder / "answers.jsonl").write_text("".join(lines[:-5]))
    return f"{len(lines) - 5} answers, but the run asked {len(lines)} questions (run.json): the file was cut short"  # fmt: skip


TAMPERED = {
    "a repeated line": _repeat_line,
    "a foreign line": _foreign_line,
    "a torn last line": _torn_line,
    "lines cut off": _cut_lines,
}


@pytest.mark.parametrize("command", ["report", "compare", "agree"])
@pytest.mark.parametrize("name", list(TAMPERED))
def test_tampered_answer_lines_are_an_error_naming_them(
    name: str, command: str, tmp_path: Path, run_cli: RunCli
) -> None:
    a, b = _two(tmp_path)
    expected = TAMPERED[name](a)
    extra = {
        "report": ["--ci", "95", "--resamples", "50"],
        "compare": ["--resamples", "50"],
        "agree": ["--resamples", "50"],
    }[command]
    args = [command, str(a), str(b), *extra] if command != "report" else [command, str(a), *extra]
    code, _out, err = run_cli(args)
    assert code == 2, err
    assert expected in err and str(a) in err


def _dump(path: Path) -> None:
    header = {"format": "amber-eval/region-captions", "version": 1, "captioner": {"name": "t"}}
    lines: list[dict[str, Any]] = [{**header, "created": "2025-01-01T00:00:00Z"}]
    lines += [{"image": "AMBER_1.jpg", "regions": [{"caption": "a dog"}]}]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


@pytest.mark.usefixtures("amber_data_dir")
def test_sensitivity_refuses_a_table_over_its_captions(tmp_path: Path, run_cli: RunCli) -> None:
    dump = tmp_path / "cap.jsonl"
    _dump(dump)
    before = _sha(dump)
    args = ["sensitivity", "--captions", str(dump), "--llm", "mock-no", "--limit-images", "1", "--out", str(tmp_path / "r"), "--no-progress", "--resamples", "20"]  # fmt: skip
    code, _out, err = run_cli([*args, "--table", str(dump)])
    assert code == 2 and f"--table {dump} is an input (--captions {dump})" in err
    assert _sha(dump) == before and not (tmp_path / "r").exists()
    assert run_cli(args)[0] == 0  # the variants' run folders now exist: a table over one of
    metrics = sorted((tmp_path / "r").glob("*/*/metrics.json"))[0]  # their files is refused
    before = _sha(metrics)
    code, _out, err = run_cli([*args, "--table", str(metrics)])
    assert code == 2 and f"--table {metrics} is an input (a run folder {metrics})" in err
    assert _sha(metrics) == before


@pytest.mark.usefixtures("amber_data_dir")
def test_report_refuses_to_overwrite_what_with_ceiling_reads(
    tmp_path: Path, run_cli: RunCli
) -> None:
    from amber_eval.checks.judge_card import judge_check
    from amber_eval.judge.mock import MockJudge
    from amber_eval.run_folder.config import RunConfig
    from amber_eval.runs.pipeline import run_evaluation

    config = RunConfig(captions="oracle", llm="mock-no", limit_images=1, out=tmp_path / "r", show_progress=False)  # fmt: skip
    card = judge_check(config, judge=MockJudge("No", name="n"))
    model_run = run_evaluation(
        RunConfig(**{**config.__dict__, "model": "mine"}), judge=MockJudge("Yes")
    )
    ceiling = Path(card.run)
    for given, out in (
        (ceiling, ceiling / "metrics.json"),
        (ceiling / "judge-card.json", ceiling / "judge-card.json"),
        (ceiling, ceiling / "answers.jsonl"),
    ):
        before = _sha(out)
        code, _out, err = run_cli(
            [
                "report",
                str(model_run.folder),
                "--with-ceiling",
                str(given),
                "--format",
                "json",
                "--out",
                str(out),
            ]
        )
        assert code == 2 and f"--out {out} is an input" in err
        assert _sha(out) == before


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_link_to_dev_zero_is_refused_not_read_forever(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import amber_eval.io

    monkeypatch.setattr(amber_eval.io, "MAX_STREAM_BYTES", 1 << 20)
    link = tmp_path / "responses.json"
    link.symlink_to("/dev/zero")
    code, _out, err = run_cli(["score", str(link)])
    assert code == 2 and f"{link}: not a regular file, and it goes on past 1,048,576 bytes" in err
    config = tmp_path / "c.toml"
    config.symlink_to("/dev/zero")
    code, _out, err = run_cli(["run", "--config", str(config)])
    assert code == 2 and f"{config}: not a regular file" in err


def test_a_read_only_store_is_not_called_a_full_disk(tmp_path: Path) -> None:
    import sqlite3

    from amber_eval.errors import OutputError
    from amber_eval.runs.answer_store import AnswerStore

    with (
        AnswerStore(tmp_path / "s.sqlite") as store,
        pytest.raises(OutputError, match="cannot be written: fix its permissions") as caught,
        store._errors(),
    ):
        raise sqlite3.OperationalError("attempt to write a readonly database")
    assert "disk space" not in str(caught.value)
