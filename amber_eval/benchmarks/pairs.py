"""Measurements for parse-and-filter (printed, not asserted): peak memory against corpus size
with precomputed features, and the text side's throughput on this machine.

    amber-eval bench-pairs memory --sizes 1000,10000,100000
    amber-eval bench-pairs text --pairs 2000 --model ViT-B-16

Each memory size runs in a fresh process (``ru_maxrss`` is a per-process high-water mark);
``tracemalloc`` reports the peak of Python and numpy allocations during the run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_one(pairs: int, folder: Path, *, shard_size: int, traced: bool) -> dict[str, Any]:
    """One filter run over ``pairs`` synthetic pairs (in this process)."""
    import tracemalloc

    from amber_eval.benchmarks.synthetic_pairs import write_synthetic_corpus, write_tiny_clip
    from amber_eval.pairs.encoders import ClipSettings
    from amber_eval.pairs.pipeline import FilterSettings, filter_pairs

    pairs_file, features = write_synthetic_corpus(folder, pairs, images=500, regions=8)
    clip = write_tiny_clip(folder / "clip")
    settings = FilterSettings(
        pairs=pairs_file,
        out=folder / "out",
        ratio=0.3,
        features=features,
        shard_size=shard_size,
        clip=ClipSettings(model=clip, text_batch_size=256),
    )
    import open_clip  # noqa: F401 - imported before the baseline, as a real run would
    import torch  # noqa: F401

    baseline = _peak_rss_mb()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    summary = filter_pairs(settings)
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    assert summary is not None
    return {
        "pairs": pairs,
        "phrases": summary.data["counts"]["phrases"],
        "seconds": round(seconds, 1),
        "pairs_per_s": round(pairs / seconds, 1),
        "rss_before_run_mb": round(baseline, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "traced_peak_mb": None if traced_peak is None else round(traced_peak, 1),
    }


def memory(
    sizes: list[int], shard_size: int, traced: bool, echo: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Peak memory of one filter run per size, each in a fresh process (``bench-pairs one``)."""
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="pairs-bench-") as folder:
            command = [sys.executable, "-m", "amber_eval", "bench-pairs", "one", str(size), folder]
            command += ["--shard-size", str(shard_size)] + (["--traced"] if traced else [])
            env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"the {size}-pair run failed: {done.stderr[-2000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            echo(json.dumps(row))
    first, last = rows[0], rows[-1]
    echo(
        f"peak RSS {first['peak_rss_mb']} MB at {first['pairs']} pairs -> "
        f"{last['peak_rss_mb']} MB at {last['pairs']} pairs "
        f"(x{last['peak_rss_mb'] / first['peak_rss_mb']:.2f} for x{last['pairs'] / first['pairs']:.0f} pairs)"
    )
    return rows


def text_side(pairs: int, model: str, batch_size: int, unique: bool) -> dict[str, Any]:
    """Parse + encode throughput (CPU) for synthetic captions; random weights, real shapes."""
    import numpy as np
    import torch

    from amber_eval.benchmarks.synthetic_pairs import synthetic_caption, write_tiny_clip
    from amber_eval.pairs.encoders import ClipSettings, PhraseEncoder, load_clip
    from amber_eval.pairs.phrases import NltkPhraseParser

    rng = np.random.default_rng(0)
    captions = [synthetic_caption(rng) for _ in range(pairs)]
    if unique:  # every phrase distinct: no cache hits, the encoder's worst case
        captions = [c.replace(" in the ", f" in the {i} ") for i, c in enumerate(captions)]
        captions = [
            c.replace("next to a ", f"next to {i % 97} ").replace("A ", f"{i % 89} ", 1)
            for i, c in enumerate(captions)
        ]
    with tempfile.TemporaryDirectory() as folder:
        name = write_tiny_clip(Path(folder)) if model == "tiny" else model
        clip = load_clip(ClipSettings(model=name, pretrained=None), device="cpu")
    parser = NltkPhraseParser()
    started = time.perf_counter()
    parsed = [parser(caption) for caption in captions]
    parse_s = time.perf_counter() - started
    texts = [text for phrases in parsed for text in phrases]
    encoder = PhraseEncoder(clip, batch_size)
    started = time.perf_counter()
    encoder.encode(list(dict.fromkeys(texts)))
    encode_s = time.perf_counter() - started
    # Baseline in the same run: open_clip's encode_text at the full context, same batch size.
    sample = list(dict.fromkeys(texts))[:batch_size]
    started = time.perf_counter()
    with torch.no_grad():
        clip.model.encode_text(clip.tokenizer(sample))
    full_rate = len(sample) / (time.perf_counter() - started)
    encode_rate = encoder.encoded / encode_s
    return {
        "model": model,
        "torch_threads": torch.get_num_threads(),
        "pairs": pairs,
        "phrases": len(texts),
        "distinct_phrases": encoder.encoded,
        "parse_pairs_per_s": round(pairs / parse_s, 1),
        "encode_phrases_per_s": round(encode_rate, 1),
        "full_context_phrases_per_s": round(full_rate, 1),
        "encode_speedup": round(encode_rate / full_rate, 2),
        "text_side_pairs_per_s": round(pairs / (parse_s + encode_s), 1),
    }
