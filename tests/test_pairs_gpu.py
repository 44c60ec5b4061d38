"""filter_pairs on a CUDA device gives the CPU scores (to float tolerance). Skipped without CUDA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from parts import requires, requires_module

from amber_eval.benchmarks.synthetic_pairs import write_synthetic_corpus, write_tiny_clip
from amber_eval.pairs.encoders import ClipSettings
from amber_eval.pairs.pipeline import FilterSettings, filter_pairs

pytestmark = pytest.mark.gpu


def test_cuda_scores_match_cpu(tmp_path: Path, nltk_data_dir: Path) -> None:
    torch = requires_module("torch")
    if not torch.cuda.is_available():
        requires("gpu", "needs a CUDA GPU")
    pairs, features = write_synthetic_corpus(tmp_path, 30, images=5, regions=4)
    clip = write_tiny_clip(tmp_path / "clip")
    scores = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / device
        filter_pairs(
            FilterSettings(
                pairs=pairs,
                out=out,
                ratio=0.3,
                features=features,
                clip=ClipSettings(model=clip, device=device),
            )
        )
        rows = [
            json.loads(line)
            for name in ("kept.jsonl", "discarded.jsonl")
            for line in (out / name).read_text().splitlines()
        ]
        scores[device] = {(r["ordinal"], r["phrase_index"]): r["score"] for r in rows}
    assert scores["cpu"].keys() == scores["cuda"].keys()
    for key, value in scores["cpu"].items():
        assert scores["cuda"][key] == pytest.approx(value, abs=1e-3)
