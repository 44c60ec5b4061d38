"""filter_pairs on an image folder: regions from the registered ``grid`` mask source, each
region crop embedded by the (tiny, random) CLIP image encoder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from amber_eval.benchmarks.synthetic_pairs import write_tiny_clip
from amber_eval.errors import InputError, UnknownNameError
from amber_eval.pairs.encoders import ClipSettings
from amber_eval.pairs.pipeline import FilterSettings, filter_pairs


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_tiny_clip(tmp_path_factory.mktemp("clip"), seed=5)


def _unit(rows: Any) -> np.ndarray:
    array = np.asarray(rows, dtype=np.float64)
    return array / np.linalg.norm(array, axis=-1, keepdims=True)


def test_grid_regions_on_images(tmp_path: Path, clip_dir: str, nltk_data_dir: Path) -> None:
    import open_clip
    import torch
    from PIL import Image

    from amber_eval.segmenter.crops import region_crop
    from amber_eval.segmenter.types import make_mask

    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(1)
    for name in ("a.png", "b.png"):
        pixels = rng.integers(0, 255, size=(40, 60, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / name)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "id,image,caption\n1,a.png,A red bike near a tall tree.\n2,b.png,Two dogs.\n",
        encoding="utf-8",
    )
    settings = FilterSettings(
        pairs=pairs,
        out=tmp_path / "out",
        ratio=0.5,
        images=images,
        masks="grid",
        mask_options=(("granularity", "2"),),
        clip=ClipSettings(model=clip_dir, image_batch_size=3, text_batch_size=4),
    )
    summary = filter_pairs(settings)
    assert summary is not None
    rows = [
        json.loads(line)
        for name in ("kept.jsonl", "discarded.jsonl")
        for line in (tmp_path / "out" / name).read_text().splitlines()
    ]
    assert sorted(r["phrase"] for r in rows) == ["Two dogs", "red bike", "tall tree"]
    assert summary.kept == 2 and summary.discarded == 1

    # Independent computation: 2 x 2 grid cells of a 60 x 40 image, cropped as the
    # segmenter crops, one image and one phrase at a time.
    net, _, preprocess = open_clip.create_model_and_transforms(clip_dir)
    net.eval()
    tokenizer = open_clip.get_tokenizer(clip_dir)
    cells = [(0, 0, 30, 20), (30, 0, 60, 20), (0, 20, 30, 40), (30, 20, 60, 40)]
    for row in rows:
        image = Image.open(images / row["image"]).convert("RGB")
        embeddings = []
        for x0, y0, x1, y1 in cells:
            mask = np.zeros((40, 60), dtype=bool)
            mask[y0:y1, x0:x1] = True
            crop = region_crop(image, make_mask(mask))
            with torch.no_grad():
                embeddings.append(net.encode_image(preprocess(crop)[None])[0].numpy())
            with torch.no_grad():
                text = net.encode_text(tokenizer([row["phrase"]]))[0].numpy()
        sims = _unit(embeddings) @ _unit(text)
        assert row["score"] == pytest.approx(float(sims.max()), abs=1e-5)
        assert row["region"] == int(sims.argmax())
        assert row["box"] == list(map(float, cells[row["region"]]))


def test_unknown_mask_source_and_missing_image(
    tmp_path: Path, clip_dir: str, nltk_data_dir: Path
) -> None:
    images = tmp_path / "images"
    images.mkdir()
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"id": "1", "image": "none.png", "caption": "A cat."}) + "\n")
    base: dict[str, Any] = {"pairs": pairs, "ratio": 0.5, "images": images}
    clip = ClipSettings(model=clip_dir)
    with pytest.raises(UnknownNameError, match=r"unknown mask source 'gird'; did you mean 'grid'"):
        filter_pairs(FilterSettings(out=tmp_path / "a", masks="gird", clip=clip, **base))
    with pytest.raises(InputError, match=r"none\.png: image not found"):
        filter_pairs(FilterSettings(out=tmp_path / "b", clip=clip, **base))
