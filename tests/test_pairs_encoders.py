"""Phrase embeddings: equal to open_clip's encode_text, independent of batch company, cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amber_eval.benchmarks.synthetic_pairs import write_tiny_clip
from amber_eval.pairs.encoders import ClipSettings, PhraseEncoder, load_clip

TEXTS = ["red bike", "tall tree", "old wooden table near the big window", "x " * 20, ""]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> object:
    name = write_tiny_clip(tmp_path_factory.mktemp("clip"), seed=9)
    return load_clip(ClipSettings(model=name), device="cpu")


def test_matches_full_context_encode_text(clip: object) -> None:
    import torch

    encoder = PhraseEncoder(clip, batch_size=4)  # type: ignore[arg-type]
    assert encoder.shorten  # short phrases run at 8 or 16 tokens, not the full 32
    got = encoder.encode(TEXTS)
    with torch.no_grad():
        full = clip.model.encode_text(clip.tokenizer(TEXTS)).double().numpy()  # type: ignore[attr-defined]
    full /= np.linalg.norm(full, axis=1, keepdims=True)
    assert got.shape == (5, 64) and got.dtype == np.float32
    assert np.abs(got - full).max() < 1e-5


def test_independent_of_batch_company_and_cached(clip: object) -> None:
    first = PhraseEncoder(clip, batch_size=4)  # type: ignore[arg-type]
    alone = first.encode(["tall tree"])
    second = PhraseEncoder(clip, batch_size=4)  # type: ignore[arg-type]
    crowd = second.encode(["green cup", "a", "b", "c", "d", "tall tree", "red bike"])
    assert np.array_equal(alone[0], crowd[5])  # bit for bit
    again = second.encode(["tall tree", "tall tree", "red bike"])
    assert np.array_equal(again[0], crowd[5]) and np.array_equal(again[2], crowd[6])
    assert second.encoded == 7 and second.hits == 3
    small = PhraseEncoder(clip, batch_size=4, cache_size=2)  # type: ignore[arg-type]
    small.encode(["a", "b", "c"])
    assert small.encode(["a"]).shape == (1, 64) and small.encoded == 4  # "a" was evicted


def test_unknown_model_is_a_resource_error(tmp_path: Path) -> None:
    from amber_eval.errors import ResourceError

    with pytest.raises(ResourceError, match="cannot load open_clip model"):
        load_clip(ClipSettings(model=f"local-dir:{tmp_path / 'none'}"), device="cpu")
