"""``filter_pairs``: the whole parse-and-filter run, resumable per shard, on one or more ranks.

Pass 1 (every rank): shards ``i`` with ``i % ranks == rank`` are scored and spilled to
``OUT/work``; finished shards (with a marker) are skipped on a rerun. Pass 2 (rank 0): the exact
cut over all spilled scores, then the outputs. The outputs depend only on the input and the
settings, never on the number of ranks or on interruptions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amber_eval import __version__, errors
from amber_eval.errors import AmberEvalError, InputError
from amber_eval.io import atomic_write_json, atomic_write_text
from amber_eval.pairs import spill
from amber_eval.pairs.settings import FilterSettings
from amber_eval.pairs.team import SoloTeam, Team, default_team


@dataclass(frozen=True)
class FilterSummary:
    """What ``summary.json`` holds."""

    data: dict[str, Any]

    @property
    def kept(self) -> int:
        return int(self.data["counts"]["kept"])

    @property
    def discarded(self) -> int:
        return int(self.data["counts"]["discarded"])


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 of the file and its number of lines."""
    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            lines += block.count(b"\n")
    return digest.hexdigest(), lines


def _prepare_work(work: Path, fingerprint: dict[str, Any], restart: bool) -> None:
    marker = work / "settings.json"
    if restart and work.exists():
        shutil.rmtree(work)
    if marker.is_file():
        previous = json.loads(marker.read_text(encoding="utf-8"))
        if previous != fingerprint:
            changed = sorted(k for k in fingerprint if previous.get(k) != fingerprint[k])
            raise InputError(
                f"{work.parent} holds a run with other settings ({', '.join(changed)} differ); "
                "use another --out, or --restart to discard the finished shards"
            )
        return
    work.mkdir(parents=True, exist_ok=True)
    atomic_write_json(marker, fingerprint)


def _describe(exc: BaseException) -> tuple[str, str]:
    """The nearest class of ``exc`` defined in :mod:`amber_eval.errors`, and its message."""
    for cls in type(exc).__mro__:
        if getattr(errors, cls.__name__, None) is cls:
            return cls.__name__, str(exc)
    return type(exc).__name__, str(exc)


def _share_failures(team: Team, local: BaseException | None) -> None:
    """Every rank learns whether any rank failed, and all raise: the failing rank its own
    exception, the others the first failure (re-created from its class name)."""
    failures = team.all_gather(None if local is None else _describe(local))
    if local is not None:
        raise local
    for rank, failure in enumerate(failures):
        if failure is None:
            continue
        kind, message = failure
        cls = getattr(errors, kind, None)
        if isinstance(cls, type) and issubclass(cls, AmberEvalError):
            raise cls(message)
        raise RuntimeError(f"rank {rank} failed: {kind}: {message}")


def _refuse_inputs_inside_out(settings: FilterSettings) -> None:
    """The output folder is the command's own (``--restart`` empties it): no input in it."""
    out = settings.out.resolve()
    inputs = {
        "--pairs": settings.pairs,
        "--features": settings.features,
        "--images": settings.images,
    }
    for label, given in inputs.items():
        if given is not None and Path(given).resolve().is_relative_to(out):
            raise InputError(
                f"{label} {given} is inside the output folder --out {settings.out}, which "
                "filter-pairs writes (and --restart empties); choose an --out folder outside "
                "the inputs"
            )


def filter_pairs(
    settings: FilterSettings,
    *,
    team: Team | None = None,
    progress: bool = False,
    restart: bool = False,
) -> FilterSummary | None:
    """Run parse-and-filter; returns the summary on rank 0 and None on the other ranks."""
    from amber_eval.pairs.reading import pairs_format
    from amber_eval.pairs.work import ShardWorker

    team = team or default_team()
    if not settings.pairs.is_file():
        raise InputError(f"{settings.pairs}: pairs file not found")
    _refuse_inputs_inside_out(settings)
    pairs_format(settings.pairs)
    digest, lines = file_digest(settings.pairs)
    fingerprint = {"pairs_sha256": digest, **settings.scoring_json()}
    work = settings.out / "work"
    failure: Exception | None = None
    if team.rank == 0:
        try:
            _prepare_work(work, fingerprint, restart)
        except AmberEvalError as exc:
            failure = exc
    _share_failures(team, failure)

    started = time.perf_counter()
    worker = ShardWorker(settings, work, team)
    shard_count = 0
    try:
        shard_count = worker.run(progress=progress, estimated_pairs=lines)
    except Exception as exc:
        failure = exc
    _share_failures(team, failure)
    if team.rank != 0:
        return None
    return _merge(settings, work, shard_count, fingerprint, team, time.perf_counter() - started)


def _merge(
    settings: FilterSettings,
    work: Path,
    shard_count: int,
    fingerprint: dict[str, Any],
    team: Team,
    seconds: float,
) -> FilterSummary:
    from amber_eval.pairs.outputs import merge_shards, plot_histogram, threshold_json
    from amber_eval.pairs.selection import discard_count

    shards = list(range(shard_count))
    missing = [index for index in shards if not spill.is_done(work, index)]
    if missing:
        raise InputError(f"{work}: shard(s) {missing[:5]} did not finish; run the command again")
    records = [spill.read_record(work, index) for index in shards]
    result = merge_shards(work, shards, settings.out, settings.ratio)
    skipped = [item for record in records for item in record.skipped]
    atomic_write_text(
        settings.out / "skipped.jsonl",
        "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in skipped),
    )
    plot_histogram(settings.out / "histogram.png", result, settings.ratio)
    by_rank: dict[str, dict[str, int]] = {}
    for record in records:
        entry = by_rank.setdefault(str(record.rank), {"shards": 0, "pairs": 0})
        entry["shards"] += 1
        entry["pairs"] += record.pairs
    pairs = sum(record.pairs for record in records)
    data = {
        "version": __version__,
        "pairs_file": str(settings.pairs),
        "pairs_sha256": fingerprint["pairs_sha256"],
        "ratio": settings.ratio,
        "counts": {
            "pairs": pairs,
            "pairs_without_phrases": sum(r.pairs_without_phrases for r in records),
            "pairs_skipped": len(skipped),
            "phrases": result.phrases,
            "discarded": result.discarded,
            "kept": result.kept,
        },
        "discard_target": discard_count(result.phrases, settings.ratio),
        "threshold": threshold_json(result.cut),
        "histogram": {"edges": result.bin_edges, "counts": result.counts},
        "settings": fingerprint,
        "shards": {"count": shard_count, "size": settings.shard_size, "by_rank": by_rank},
        "processes": team.size,
        "seconds": round(seconds, 3),
    }
    if result.discarded != data["discard_target"]:
        raise AssertionError("the cut discarded a different number of phrases than targeted")
    atomic_write_json(settings.out / "summary.json", data)
    return FilterSummary(data)


__all__ = ["FilterSettings", "FilterSummary", "SoloTeam", "filter_pairs"]
