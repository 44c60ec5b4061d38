"""Several processes: two CPU ranks under ``accelerate launch`` give the one-process result.

One model replica per process, images sharded across them, answers gathered into one store and
one run folder. The test asserts that two ranks ran and that both answered questions.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from parts import requires_module

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("amber_data_dir")]

IMAGES = 6


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_args(model: Path, out: Path) -> list[str]:
    return [
        "run", "--captions", "oracle", "--llm", str(model), "--limit-images", str(IMAGES),
        "--out", str(out), "--no-progress", "--dtype", "float32",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    return env


def _folder(out: Path) -> Path:
    (folder,) = (out / "oracle").iterdir()
    return folder


def test_two_processes_equal_one(tiny_model_dir: Path, tmp_path: Path, benchmark: Any) -> None:
    requires_module("accelerate")
    total = len(benchmark.questions_for(benchmark.first_images(IMAGES)))
    two = tmp_path / "two"
    launch = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
        "-m", "amber_eval", *_run_args(tiny_model_dir, two),
    ]  # fmt: skip
    result = subprocess.run(launch, env=_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    run = json.loads((_folder(two) / "run.json").read_text())
    assert run["status"] == "success"
    assert run["world_size"] == 2  # two ranks really ran (not a silent one-process fallback)
    per_rank = run["per_rank_computed"]
    assert len(per_rank) == 2 and all(n > 0 for n in per_rank)  # both ranks did work
    assert sum(per_rank) == total == run["questions"]
    assert "per process: " in result.stdout
    ids = [json.loads(x)["id"] for x in (_folder(two) / "answers.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == total  # one folder, every answer once
    assert not list(_folder(two).glob(".rank-*"))

    one = tmp_path / "one"
    single = subprocess.run(
        [sys.executable, "-m", "amber_eval", *_run_args(tiny_model_dir, one)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert single.returncode == 0, single.stderr[-4000:]
    assert _folder(one).name == _folder(two).name  # the process count is not in the hash
    for name in ("responses.json", "metrics.json"):
        assert json.loads((_folder(one) / name).read_text()) == json.loads(
            (_folder(two) / name).read_text()
        )
    responses = json.loads((_folder(one) / "responses.json").read_text())
    assert {"Yes", "No"} <= {r["response"].strip() for r in responses}
