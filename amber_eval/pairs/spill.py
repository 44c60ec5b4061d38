"""Per-shard files that hold scored phrases between the scoring pass and the cut.

For shard ``i`` the work folder holds ``shard-<i>.npy`` (one ``(key, score)`` row per phrase,
in input order), ``shard-<i>.jsonl`` (the same phrases with their pair, text and best region)
and, written last, ``shard-<i>.done.json``: a shard counts as finished only when its marker
exists, so an interrupted run redoes at most the shards it was working on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amber_eval.errors import InputError
from amber_eval.io import atomic_open, atomic_write_json

SCORE_DTYPE = np.dtype([("key", "<u8"), ("score", "<f4")])
PHRASE_BITS = 16
MAX_PHRASES_PER_PAIR = (1 << PHRASE_BITS) - 1


def stable_key(ordinal: int, phrase_index: int) -> int:
    """The tie-break id of a phrase: its pair's input position, then its place in the caption."""
    if phrase_index > MAX_PHRASES_PER_PAIR:
        raise InputError(f"pair #{ordinal} has more than {MAX_PHRASES_PER_PAIR} phrases")
    return (ordinal << PHRASE_BITS) | phrase_index


@dataclass(frozen=True)
class ScoredPhrase:
    """One phrase of one pair, its score and best region (``region`` indexes the image's)."""

    key: int
    pair_id: str
    ordinal: int
    image: str
    phrase: str
    phrase_index: int
    score: float
    region: int
    box: list[float] | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["key"]
        return data


@dataclass(frozen=True)
class ShardRecord:
    """What the ``.done.json`` marker says about a finished shard."""

    shard: int
    rank: int
    pairs: int
    phrases: int
    pairs_without_phrases: int
    skipped: list[dict[str, Any]]
    seconds: float


def _name(index: int) -> str:
    return f"shard-{index:08d}"


def done_path(work: Path, index: int) -> Path:
    return work / f"{_name(index)}.done.json"


def scores_path(work: Path, index: int) -> Path:
    return work / f"{_name(index)}.npy"


def phrases_path(work: Path, index: int) -> Path:
    return work / f"{_name(index)}.jsonl"


def is_done(work: Path, index: int) -> bool:
    return done_path(work, index).is_file()


def write_shard(work: Path, index: int, phrases: list[ScoredPhrase], record: ShardRecord) -> None:
    """Write the shard's scores and phrases, then its marker (each file atomically)."""
    array = np.zeros(len(phrases), dtype=SCORE_DTYPE)
    array["key"] = [p.key for p in phrases]
    array["score"] = [p.score for p in phrases]
    with atomic_open(scores_path(work, index), "wb") as handle:
        np.save(handle, array, allow_pickle=False)
    with atomic_open(phrases_path(work, index), "w") as handle:
        for phrase in phrases:
            handle.write(json.dumps(phrase.to_json(), ensure_ascii=False) + "\n")
    atomic_write_json(done_path(work, index), asdict(record))


def read_record(work: Path, index: int) -> ShardRecord:
    data = json.loads(done_path(work, index).read_text(encoding="utf-8"))
    return ShardRecord(**data)


def load_scores(work: Path, index: int) -> np.ndarray:
    """The shard's ``(key, score)`` rows, memory-mapped (not read into memory at once)."""
    array = np.load(scores_path(work, index), mmap_mode="r", allow_pickle=False)
    if array.dtype != SCORE_DTYPE:
        raise InputError(f"{scores_path(work, index)}: unexpected contents; delete the work folder")
    return array


def iter_phrase_lines(work: Path, index: int) -> Iterator[str]:
    with phrases_path(work, index).open(encoding="utf-8") as handle:
        for line in handle:
            yield line.rstrip("\n")
