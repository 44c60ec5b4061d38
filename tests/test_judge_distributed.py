"""Process helpers: sharding by image, and two CPU ranks under ``accelerate launch``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from parts import requires, requires_module

from amber_eval.distributed import shard


def test_shard_is_a_balanced_partition() -> None:
    images = [f"AMBER_{i}.jpg" for i in range(1, 8)]
    parts = [shard(images, index, 3) for index in range(3)]
    assert parts[0] == ["AMBER_1.jpg", "AMBER_4.jpg", "AMBER_7.jpg"]
    assert parts[1] == ["AMBER_2.jpg", "AMBER_5.jpg"]
    assert sorted(item for part in parts for item in part) == sorted(images)
    assert shard(images, 0, 1) == images
    with pytest.raises(ValueError):
        shard(images, 3, 3)


def test_single_process_rank() -> None:
    requires_module("accelerate")
    from amber_eval.distributed import gather, my_shard, rank

    current = rank()
    assert (current.index, current.world_size, current.is_main) == (0, 1, True)
    assert my_shard([1, 2, 3]) == [1, 2, 3]
    assert gather([{"a": 1}]) == [{"a": 1}]


SCRIPT = """
import json, sys
from amber_eval.distributed import rank, my_shard, gather, barrier
current = rank()
mine = my_shard(list(range(10)))
barrier()
everything = gather([{"rank": current.index, "items": mine}])
if current.is_main:
    print(json.dumps({"world": current.world_size, "device": current.device, "all": everything}))
"""


@pytest.mark.slow
def test_two_cpu_ranks_each_do_work(tmp_path: Path) -> None:
    requires_module("accelerate")
    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if launcher is None:
        requires("packages", "the accelerate launcher is not installed")
    script = tmp_path / "ranks.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", str(script)],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["world"] == 2 and report["device"] == "cpu"
    parts = {part["rank"]: part["items"] for part in report["all"]}
    assert parts == {0: [0, 2, 4, 6, 8], 1: [1, 3, 5, 7, 9]}
