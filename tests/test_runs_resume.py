"""Acceptance: a judge run killed with SIGKILL resumes without recomputing a stored answer.

A tiny random Llama is saved to a folder and loaded by path in a subprocess (real model calls,
the real loading code). The run is killed as soon as answers are stored, started again, and
compared with an uninterrupted run that has its own store.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("amber_data_dir")]

IMAGES = 20


def _command(model: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "amber_eval", "run", "--captions", "oracle", "--llm", str(model),
        "--limit-images", str(IMAGES), "--out", str(out), "--chunk-questions", "4",
        "--no-progress", "--device", "cpu", "--dtype", "float32",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _store_rows(path: Path) -> dict[str, tuple[str, float]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT key, answer, created FROM answers").fetchall()
    return {key: (answer, created) for key, answer, created in rows}


def _run_folder(out: Path) -> Path:
    (folder,) = (out / "oracle").iterdir()
    return folder


def _answer_ids(folder: Path) -> list[int]:
    return [json.loads(line)["id"] for line in (folder / "answers.jsonl").read_text().splitlines()]


def test_sigkill_then_resume_recomputes_nothing(
    tiny_model_dir: Path, tmp_path: Path, benchmark: Any
) -> None:
    total = len(benchmark.questions_for(benchmark.first_images(IMAGES)))
    out = tmp_path / "killed"
    process = subprocess.Popen(
        _command(tiny_model_dir, out),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    answers: Path | None = None
    while time.monotonic() < deadline and process.poll() is None:
        found = list((out / "oracle").glob("*/answers.jsonl")) if (out / "oracle").exists() else []
        if found and found[0].stat().st_size > 0:
            answers = found[0]
            break
        time.sleep(0.02)
    assert answers is not None, process.stderr.read().decode() if process.stderr else ""
    process.send_signal(signal.SIGKILL)
    process.wait(60)
    assert process.returncode == -signal.SIGKILL

    store = out / ".answers.sqlite"
    before = _store_rows(store)
    folder = _run_folder(out)
    assert json.loads((folder / "run.json").read_text())["status"] == "started"
    assert 0 < len(before) < total, "the run must be killed part-way"

    resumed = subprocess.run(
        _command(tiny_model_dir, out), env=_env(), capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "success" and run["attempts"] == 2
    # only the questions missing from the store went to the model
    assert run["computed"] == total - len(before)
    assert run["reused"] == len(before)
    after = _store_rows(store)
    assert len(after) == total
    assert {k: after[k] for k in before} == before  # stored answers untouched
    assert sorted(_answer_ids(folder)) == sorted(set(_answer_ids(folder)))  # each id once
    assert len(_answer_ids(folder)) == total

    fresh_out = tmp_path / "fresh"
    fresh = subprocess.run(
        _command(tiny_model_dir, fresh_out), env=_env(), capture_output=True, text=True, timeout=600
    )
    assert fresh.returncode == 0, fresh.stderr
    fresh_folder = _run_folder(fresh_out)
    assert fresh_folder.name == folder.name  # same configuration, same hash
    assert json.loads((fresh_folder / "run.json").read_text())["computed"] == total
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics == json.loads((fresh_folder / "metrics.json").read_text())
    responses = json.loads((folder / "responses.json").read_text())
    assert responses == json.loads((fresh_folder / "responses.json").read_text())
    # the forced branch makes a real mix of answers, so the comparison means something
    assert {"Yes", "No"} <= {r["response"].strip() for r in responses}
