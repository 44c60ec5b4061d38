"""The settings of one ``filter-pairs`` run, and the part of them that changes the scores."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amber_eval.errors import InputError
from amber_eval.io import sha256_file
from amber_eval.pairs.encoders import LOCAL_DIR, ClipSettings
from amber_eval.pairs.phrases import ParserSettings

FORMAT_VERSION = 1


@dataclass(frozen=True)
class FilterSettings:
    """Everything one ``filter-pairs`` run needs."""

    pairs: Path
    """JSONL (``{"id", "image", "caption"}`` per line) or CSV with those columns."""
    out: Path
    """Output folder: ``kept.jsonl``, ``discarded.jsonl``, ``summary.json``, ``histogram.png``."""
    ratio: float
    """Fraction R of all phrases to discard: exactly floor(R x N) of the lowest-scoring."""
    features: Path | None = None
    """Precomputed region features: one NPZ per image (``features``, optional ``boxes``)."""
    images: Path | None = None
    """Image folder; regions come from ``masks`` and are embedded by the CLIP image encoder."""
    masks: str = "grid"
    """A registered mask source (``amber-eval segmenters`` lists them)."""
    mask_options: tuple[tuple[str, str], ...] = ()
    shard_size: int = 1000
    parser: ParserSettings = field(default_factory=ParserSettings)
    clip: ClipSettings = field(default_factory=ClipSettings)
    skip_missing: bool = False
    """Skip (and list) pairs whose image or feature file is missing or unreadable."""
    phrase_cache_size: int = 50_000
    """Phrase embeddings kept in memory, most recently used first."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.ratio <= 1.0:
            raise InputError(f"--ratio must be between 0 and 1, got {self.ratio}")
        if (self.features is None) == (self.images is None):
            raise InputError("give exactly one of --features DIR and --images DIR")
        if self.shard_size < 1:
            raise InputError(f"--shard-size must be at least 1, got {self.shard_size}")

    def scoring_json(self) -> dict[str, Any]:
        """The settings that change scores (the ratio does not: a new ratio reuses them)."""
        source: dict[str, Any]
        if self.features is not None:
            source = {"features": str(self.features.resolve())}
        else:
            assert self.images is not None
            source = {
                "images": str(self.images.resolve()),
                "masks": self.masks,
                "mask_options": dict(self.mask_options),
                "crop": "region_crop(background=grey, margin=0.1, square)",
            }
        return {
            "format": FORMAT_VERSION,
            "source": source,
            "shard_size": self.shard_size,
            "parser": self.parser.to_json(),
            "clip": {**self.clip.to_json(), "local_files": local_weights_digest(self.clip)},
            "skip_missing": self.skip_missing,
        }


def local_weights_digest(clip: ClipSettings) -> str | None:
    """sha256 over the local model files (a ``local-dir:`` folder or a checkpoint file), so
    finished shards are not reused after the weights change; None for hub/tag models."""
    paths: list[Path] = []
    if clip.model.startswith(LOCAL_DIR):
        folder = Path(clip.model[len(LOCAL_DIR) :])
        paths = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    elif clip.pretrained and Path(clip.pretrained).is_file():
        paths = [Path(clip.pretrained)]
    if clip.model_config and Path(clip.model_config).is_file():
        paths.append(Path(clip.model_config))
    if not paths:
        return None
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + sha256_file(path).encode())
    return digest.hexdigest()
