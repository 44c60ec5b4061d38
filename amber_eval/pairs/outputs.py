"""The merge (rank 0): the cut, ``kept.jsonl``/``discarded.jsonl``, the histogram and its plot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amber_eval.errors import ResourceError
from amber_eval.io import atomic_open
from amber_eval.pairs import spill
from amber_eval.pairs.selection import CutPoint, discard_mask, find_cut

HISTOGRAM_BINS = 100


@dataclass(frozen=True)
class MergeResult:
    phrases: int
    discarded: int
    kept: int
    cut: CutPoint | None
    bin_edges: list[float]
    counts: list[int]


def merge_shards(work: Path, shards: list[int], out: Path, ratio: float) -> MergeResult:
    """Find the exact cut over the spilled scores, then write kept and discarded phrases in
    input order. Reads the spilled scores a few times; holds one chunk at a time."""

    def source() -> Iterator[np.ndarray]:
        for index in shards:
            yield spill.load_scores(work, index)

    total = sum(len(spill.load_scores(work, index)) for index in shards)
    cut = find_cut(source, total, ratio)
    edges = np.linspace(-1.0, 1.0, HISTOGRAM_BINS + 1)
    counts = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
    discarded = kept = 0
    with (
        atomic_open(out / "kept.jsonl") as kept_file,
        atomic_open(out / "discarded.jsonl") as discarded_file,
    ):
        for index in shards:
            scores = spill.load_scores(work, index)
            values = np.asarray(scores["score"], dtype=np.float32)
            mask = discard_mask(values, np.asarray(scores["key"]), cut)
            counts += np.histogram(np.clip(values, -1.0, 1.0), bins=edges)[0]
            lines = spill.iter_phrase_lines(work, index)
            for drop, line in zip(mask, lines, strict=False):
                (discarded_file if drop else kept_file).write(line + "\n")
            discarded += int(mask.sum())
            kept += int(len(mask) - mask.sum())
    return MergeResult(
        phrases=total,
        discarded=discarded,
        kept=kept,
        cut=cut,
        bin_edges=[float(v) for v in edges],
        counts=[int(v) for v in counts],
    )


def plot_histogram(path: Path, result: MergeResult, ratio: float) -> None:
    """A PNG of the score histogram with the cut marked."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ResourceError(
            "the score histogram needs matplotlib: pip install 'amber-eval[report]'"
        ) from None

    figure = Figure(figsize=(6.4, 3.6), dpi=100)
    axes = figure.subplots()
    edges = np.asarray(result.bin_edges)
    axes.stairs(np.asarray(result.counts), edges, fill=True, color="#4c72b0")
    if result.cut is not None:
        axes.axvline(
            result.cut.score,
            color="#c44e52",
            linestyle="--",
            label=f"cut {result.cut.score:.4f} (ratio {ratio:g})",
        )
        axes.legend(loc="upper left")
    used = edges[:-1][np.asarray(result.counts) > 0]
    if len(used):
        axes.set_xlim(max(-1.0, float(used.min()) - 0.05), min(1.0, float(used.max()) + 0.07))
    axes.set_xlabel("phrase score (max cosine similarity over regions)")
    axes.set_ylabel("phrases")
    axes.set_title(f"{result.phrases} phrases: {result.kept} kept, {result.discarded} discarded")
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png")


def threshold_json(cut: CutPoint | None) -> dict[str, Any] | None:
    if cut is None:
        return None
    ordinal, index = cut.key >> spill.PHRASE_BITS, cut.key & spill.MAX_PHRASES_PER_PAIR
    return {"score": cut.score, "ordinal": ordinal, "phrase_index": index}
