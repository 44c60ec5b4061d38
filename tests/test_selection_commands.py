"""Every command that selects captions reads the selection options alike: the same prompts.

``prompts`` writes them; ``run``, ``sensitivity`` (its default variant) and ``judge-check``
(on the oracle captions) keep them in ``answers.jsonl``; ``captions score`` records the
selection it used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from amber_eval.captions.dump import CaptionerInfo, DumpHeader, ImageCaptions, Region, write_dump

RunCli = Callable[[list[str]], tuple[int, str, str]]

pytestmark = pytest.mark.usefixtures("amber_data_dir")

REGIONS = (
    Region("a dog.", 0.2),
    Region("grass", 0.9),
    Region("A dog", 0.5),
    Region("a tree", None),
    Region("sky", 0.7),
)

# the options, and AMBER_1's captions they select (by hand from REGIONS; None: a seeded shuffle)
SELECTIONS: dict[str, tuple[list[str], list[str] | None]] = {
    "defaults": ([], ["a dog", "grass", "a tree", "sky"]),
    "order dump": (["--order", "dump"], ["a dog", "grass", "a tree", "sky"]),
    "order score": (["--order", "score"], ["grass", "sky", "A dog", "a tree"]),
    "order reversed": (["--order", "reversed"], ["sky", "a tree", "A dog", "grass"]),
    "order shuffled": (["--order", "shuffled", "--order-seed", "1"], None),
    "top-k": (["--top-k", "2"], ["a dog", "grass"]),
    "min-score": (["--min-score", "0.5"], ["grass", "A dog", "sky"]),
    "keep-duplicates": (["--keep-duplicates"], ["a dog", "grass", "A dog", "a tree", "sky"]),
}


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "captions.jsonl"
    header = DumpHeader(CaptionerInfo("hand", "1", {}))
    write_dump(path, header, [ImageCaptions("AMBER_1.jpg", None, None, REGIONS)])
    return path


def _prompts(path: Path) -> dict[int, str]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {line["id"]: line["prompt"] for line in lines}


def _written_prompts(run_cli: RunCli, tmp_path: Path, captions: str, options: list[str]) -> dict[int, str]:  # fmt: skip
    out = tmp_path / "prompts.jsonl"
    args = ["prompts", "--captions", captions, "--limit-images", "1", "--out", str(out)]
    code, _, err = run_cli([*args, *options])
    assert code == 0, err
    return _prompts(out)


def _judge_args(out: Path) -> list[str]:
    return ["--llm", "mock-yes", "--limit-images", "1", "--out", str(out), "--no-progress"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_every_command_selects_the_same_captions(
    name: str, dump: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    options, expected = SELECTIONS[name]
    prompts = _written_prompts(run_cli, tmp_path, str(dump), options)
    assert len(prompts) > 5
    first = prompts[min(prompts)]
    if expected is not None:
        assert first.startswith(f"If an image contains {', '.join(expected)}. ")
    else:  # a permutation of the deduplicated captions
        listed = first.removeprefix("If an image contains ").split(". ")[0].split(", ")
        assert sorted(listed) == ["a dog", "a tree", "grass", "sky"]

    code, _, err = run_cli(["run", "--captions", str(dump), *_judge_args(tmp_path / "run"), *options])  # fmt: skip
    assert code == 0, err
    (folder,) = (tmp_path / "run").glob("*/mock-yes-*")
    assert _prompts(folder / "answers.jsonl") == prompts
    selection = json.loads((folder / "run.json").read_text())["fingerprint"]["selection"]

    table = tmp_path / "sensitivity.json"
    code, _, err = run_cli(
        ["sensitivity", "--captions", str(dump), *_judge_args(tmp_path / "sens"),
         "--resamples", "10", "--format", "json", "--table", str(table), *options]
    )  # fmt: skip
    assert code == 0, err
    default = Path(json.loads(table.read_text())["runs"]["default"])
    assert _prompts(default / "answers.jsonl") == prompts

    coverage = tmp_path / "coverage.json"
    code, _, err = run_cli(
        ["captions", "score", str(dump), "--limit-images", "1", "--json", str(coverage), *options]
    )
    assert code == 0, err
    assert json.loads(coverage.read_text())["selection"] == selection

    oracle = _written_prompts(run_cli, tmp_path, "oracle", options)
    code, _, err = run_cli(["judge-check", *_judge_args(tmp_path / "check"), *options])
    assert code == 0, err
    (checked,) = (tmp_path / "check" / "oracle").glob("mock-yes-*")
    assert _prompts(checked / "answers.jsonl") == oracle


def test_prompts_order_shuffled_with_a_seed(dump: Path, tmp_path: Path, run_cli: RunCli) -> None:
    shuffled = ["--order", "shuffled"]
    one = _written_prompts(run_cli, tmp_path, str(dump), [*shuffled, "--order-seed", "1"])
    again = _written_prompts(run_cli, tmp_path, str(dump), [*shuffled, "--order-seed", "1"])
    seeds = [
        _written_prompts(run_cli, tmp_path, str(dump), [*shuffled, "--order-seed", str(seed)])
        for seed in range(2, 8)
    ]
    assert one == again
    assert any(other != one for other in seeds)  # 6 other seeds: not all the same order


def test_run_config_file_keeps_its_selection_under_given_options(
    dump: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "run"
    args = ["run", "--captions", str(dump), *_judge_args(out), "--order", "reversed"]
    code, _, err = run_cli([*args, "--keep-duplicates"])
    assert code == 0, err
    (first,) = out.glob("*/mock-yes-*")
    code, _, err = run_cli(["run", "--config", str(first / "run.json"), "--top-k", "1"])
    assert code == 0, err
    (second,) = set(out.glob("*/mock-yes-*")) - {first}
    selection = json.loads((second / "run.json").read_text())["fingerprint"]["selection"]
    assert selection == {"top_k": 1, "min_score": None, "order": "reversed", "dedupe": False}
    assert json.loads((second / "selected-captions.json").read_text())["AMBER_1.jpg"] == ["sky"]
