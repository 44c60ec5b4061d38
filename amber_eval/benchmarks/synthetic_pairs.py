"""Small offline fixtures: a randomly initialised tiny open_clip model saved as a
``local-dir:`` folder, and synthetic pairs with precomputed region features.

They ship with the package because ``amber-eval bench-pairs`` runs on them (nothing is
downloaded); the tests use them too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from amber_eval.benchmarks.random_models import write_random_clip

ADJECTIVES = ("red", "small", "old", "wooden", "bright", "large", "green", "striped", "empty")
NOUNS = ("dog", "car", "table", "tree", "bicycle", "house", "woman", "boat", "cup", "street")
PLACES = ("park", "kitchen", "beach", "road", "garden", "river", "field", "room")


def write_tiny_clip(folder: Path, *, seed: int = 0, config: dict[str, object] | None = None) -> str:
    """Save a random tiny CLIP as ``folder/open_clip_config.json`` + weights; returns the
    ``local-dir:`` model name that loads it."""
    return f"local-dir:{write_random_clip(folder, seed=seed, config=config)}"


def synthetic_caption(rng: np.random.Generator) -> str:
    def noun_phrase() -> str:
        return f"a {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"

    return f"{noun_phrase().capitalize()} next to {noun_phrase()} in the {rng.choice(PLACES)}."


def write_synthetic_corpus(
    folder: Path,
    pairs: int,
    *,
    images: int = 200,
    regions: int = 8,
    dim: int = 64,
    seed: int = 0,
) -> tuple[Path, Path]:
    """``folder/pairs.jsonl`` (``pairs`` lines over ``images`` images) and ``folder/features``
    (one NPZ per image, ``regions x dim``); returns both paths."""
    rng = np.random.default_rng(seed)
    features = folder / "features"
    features.mkdir(parents=True, exist_ok=True)
    for index in range(images):
        boxes = np.sort(rng.uniform(0, 256, size=(regions, 4)), axis=1)
        np.savez(
            features / f"img{index:06d}.npz",
            features=rng.normal(size=(regions, dim)).astype(np.float32),
            boxes=boxes[:, [0, 1, 2, 3]],
        )
    path = folder / "pairs.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for index in range(pairs):
            record = {
                "id": f"pair{index}",
                "image": f"img{index % images:06d}.jpg",
                "caption": synthetic_caption(rng),
            }
            handle.write(json.dumps(record) + "\n")
    return path, features
