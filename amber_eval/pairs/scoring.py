"""Scoring one shard of pairs (method steps 1-3): parse, encode, best region per phrase."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from amber_eval.errors import InputError
from amber_eval.pairs.encoders import PhraseEncoder
from amber_eval.pairs.phrases import PhraseParser
from amber_eval.pairs.reading import Pair
from amber_eval.pairs.regions import RegionProvider
from amber_eval.pairs.spill import ScoredPhrase, stable_key


@dataclass
class ShardScores:
    phrases: list[ScoredPhrase] = field(default_factory=list)
    pairs_without_phrases: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)


def best_regions(
    phrase_embeddings: np.ndarray, regions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Max cosine similarity over regions and its (first) argmax, per phrase.

    Both inputs hold unit-length rows. The products are taken in float64 and rounded to
    float32, so the result does not depend on BLAS blocking; -0.0 becomes 0.0.
    """
    sims = phrase_embeddings.astype(np.float64) @ regions.astype(np.float64).T
    best = sims.argmax(axis=1)
    scores = sims[np.arange(len(best)), best].astype(np.float32) + np.float32(0.0)
    return scores, best


def score_pairs(
    pairs: tuple[Pair, ...],
    parser: PhraseParser,
    encoder: PhraseEncoder,
    provider: RegionProvider,
    *,
    skip_missing: bool = False,
) -> ShardScores:
    """Score every phrase of ``pairs``; phrases of all pairs are encoded in shared batches."""
    result = ShardScores()
    parsed = [parser(pair.caption) for pair in pairs]
    unique = list(dict.fromkeys(text for texts in parsed for text in texts))
    table = dict(zip(unique, encoder.encode(unique), strict=True)) if unique else {}
    for pair, texts in zip(pairs, parsed, strict=True):
        if not texts:
            result.pairs_without_phrases += 1
            continue
        try:
            regions = provider.regions(pair.image)
        except InputError as exc:
            if not skip_missing:
                raise InputError(f"pair {pair.id!r} (line {pair.line}): {exc}") from None
            result.skipped.append({"pair_id": pair.id, "ordinal": pair.ordinal, "reason": str(exc)})
            continue
        if len(regions) == 0:
            result.skipped.append(
                {"pair_id": pair.id, "ordinal": pair.ordinal, "reason": "no regions"}
            )
            continue
        embeddings = np.stack([table[text] for text in texts])
        scores, best = best_regions(embeddings, regions.features)
        for index, (text, score, region) in enumerate(zip(texts, scores, best, strict=True)):
            box = None if regions.boxes is None else [float(v) for v in regions.boxes[region]]
            result.phrases.append(
                ScoredPhrase(
                    key=stable_key(pair.ordinal, index),
                    pair_id=pair.id,
                    ordinal=pair.ordinal,
                    image=pair.image,
                    phrase=text,
                    phrase_index=index,
                    score=float(score),
                    region=int(region),
                    box=box,
                )
            )
    return result
