"""Two ranks through ``accelerate launch`` (CPU, gloo) give exactly the one-process result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from parts import requires

from amber_eval.benchmarks.synthetic_pairs import write_synthetic_corpus, write_tiny_clip
from amber_eval.pairs.encoders import ClipSettings
from amber_eval.pairs.pipeline import FilterSettings, filter_pairs

pytestmark = pytest.mark.slow


def _launch(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if accelerate is None:
        requires("packages", "the accelerate launcher is not installed")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HOME": str(tmp_path / "hf")}
    env.pop("WORLD_SIZE", None)
    command = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines"]
    command += ["1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    command += ["-m", "amber_eval", "filter-pairs", "--no-progress", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without what describes the run rather than the result."""
    data = {k: v for k, v in summary.items() if k not in {"processes", "seconds"}}
    data["shards"] = {k: v for k, v in summary["shards"].items() if k != "by_rank"}
    return data


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("mp")
    pairs, features = write_synthetic_corpus(root, 45, images=12, regions=4, seed=4)
    clip = write_tiny_clip(root / "clip", seed=11)
    return {"root": root, "pairs": pairs, "features": features, "clip": clip}


def test_two_processes_match_one(setup: dict[str, Any], nltk_data_dir: Path) -> None:
    root = setup["root"]
    one = root / "one"
    summary = filter_pairs(
        FilterSettings(
            pairs=setup["pairs"],
            out=one,
            ratio=0.4,
            features=setup["features"],
            shard_size=5,
            clip=ClipSettings(model=setup["clip"], text_batch_size=16),
        )
    )
    assert summary is not None
    two = root / "two"
    args = ["--pairs", str(setup["pairs"]), "--ratio", "0.4", "--out", str(two)]
    args += ["--features", str(setup["features"]), "--shard-size", "5"]
    args += ["--clip-model", setup["clip"], "--text-batch-size", "16"]
    done = _launch(args, root)
    assert done.returncode == 0, done.stderr[-3000:]

    merged = json.loads((two / "summary.json").read_text())
    # Both ranks did work (a silent single-rank launch would put every shard on rank 0).
    assert merged["processes"] == 2
    by_rank = merged["shards"]["by_rank"]
    assert set(by_rank) == {"0", "1"} and by_rank["0"]["shards"] == 5 == by_rank["1"]["shards"] + 1
    records = [json.loads(p.read_text()) for p in sorted((two / "work").glob("*.done.json"))]
    assert [r["rank"] for r in records] == [i % 2 for i in range(9)]

    assert summary.data["counts"]["discarded"] > 0
    for name in ("kept.jsonl", "discarded.jsonl", "skipped.jsonl"):
        assert (two / name).read_bytes() == (one / name).read_bytes(), name
    assert _comparable(merged) == _comparable(summary.data)


def test_a_failing_rank_stops_both(setup: dict[str, Any], nltk_data_dir: Path) -> None:
    root = setup["root"]
    pairs = root / "broken.jsonl"
    lines = setup["pairs"].read_text().splitlines()
    # Pair 7 is in shard 1 (shard size 5), which rank 1 scores: its feature file is missing.
    broken = json.loads(lines[7])
    broken["image"] = "missing.jpg"
    lines[7] = json.dumps(broken)
    pairs.write_text("\n".join(lines) + "\n")
    args = ["--pairs", str(pairs), "--ratio", "0.4", "--out", str(root / "broken")]
    args += ["--features", str(setup["features"]), "--shard-size", "5"]
    args += ["--clip-model", setup["clip"]]
    done = _launch(args, root)
    assert done.returncode != 0
    assert done.stderr.count("missing.npz: feature file not found") == 2  # one line per rank
    assert not (root / "broken" / "summary.json").exists()
