"""``amber-eval filter-pairs`` through click: options reach the library, errors exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from amber_eval.benchmarks.synthetic_pairs import write_tiny_clip
from amber_eval.cli.main import cli, main


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_tiny_clip(tmp_path_factory.mktemp("clip"), seed=7)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    features = tmp_path / "features"
    features.mkdir()
    rng = np.random.default_rng(2)
    np.savez(features / "x.npz", features=rng.normal(size=(3, 64)).astype(np.float32))
    pairs = tmp_path / "pairs.jsonl"
    lines = [
        {"id": "a", "image": "x.jpg", "caption": "A red bike and his old dog."},
        {"id": "b", "image": "x.jpg", "caption": "The tall trees."},
    ]
    pairs.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return pairs, features


def test_filter_pairs_command(
    inputs: tuple[Path, Path], clip_dir: str, tmp_path: Path, nltk_data_dir: Path
) -> None:
    pairs, features = inputs
    out = tmp_path / "out"
    args = ["filter-pairs", "--pairs", str(pairs), "--ratio", "0.5", "--out", str(out)]
    args += ["--features", str(features), "--clip-model", clip_dir, "--no-progress"]
    args += ["--drop-tags", "DT", "--shard-size", "1"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 phrases: 2 kept, 1 discarded" in result.output
    phrases = [
        json.loads(line)["phrase"]
        for name in ("kept.jsonl", "discarded.jsonl")
        for line in (out / name).read_text().splitlines()
    ]
    assert sorted(phrases) == ["his old dog", "red bike", "tall trees"]  # PRP$ kept
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["parser"]["drop_tags"] == ["DT"]
    assert summary["shards"]["count"] == 2
    assert (out / "histogram.png").is_file()


def test_errors_exit_2_with_a_message(
    inputs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs, features = inputs
    bad = tmp_path / "bad.csv"
    bad.write_text("id,image\n1,x.jpg\n", encoding="utf-8")
    base = ["filter-pairs", "--ratio", "0.5", "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--pairs", str(bad), "--features", str(features)])
    assert exit_info.value.code == 2
    assert "bad.csv:1: the header lacks column(s) caption" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--pairs", str(pairs)])
    assert exit_info.value.code == 2
    assert "exactly one of --features DIR and --images DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([*base, "--pairs", str(pairs), "--features", str(features), "--ratio", "2"])
    assert exit_info.value.code == 2
    assert "2.0 is not in the range 0.0<=x<=1.0" in capsys.readouterr().err


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(cli, ["filter-pairs", "--help"])
    assert result.exit_code == 0
    for option in ("--pairs", "--ratio", "--features", "--images", "--shard-size", "--masks"):
        assert option in result.output
