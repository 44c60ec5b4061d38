"""SAM masks, the clip-vocab captioner and image-to-text on region crops, with tiny random models.

The models are built from configs (no downloads), saved to temporary folders and loaded by path,
so the real loading code runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from parts import requires, requires_module
from PIL import Image

from amber_eval.benchmarks.random_models import (
    write_random_blip,
    write_random_clip,
    write_random_sam,
)
from amber_eval.captions.dump import read_dump
from amber_eval.errors import InputError
from amber_eval.segmenter import (
    Captioner,
    Identity,
    RegionCaption,
    SourceImage,
    create_captioner,
    create_mask_source,
    make_mask,
    segment_folder,
)
from amber_eval.segmenter.crops import GREY, region_crop

torch = requires_module("torch")


class AreaCaptioner(Captioner):
    """Describes each mask by its area, to check mask sources end to end."""

    identity = Identity("area", "1")

    def caption(self, image, masks):  # type: ignore[no-untyped-def]
        return [
            RegionCaption(f"a region of {m.area} pixels", m.score, mask_index=i)
            for i, m in enumerate(masks)
        ]


def noise_image(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    return Image.fromarray(
        (np.random.RandomState(seed).rand(height, width, 3) * 255).astype("uint8")
    )


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    for n in (1, 2):
        noise_image(seed=n).save(folder / f"AMBER_{n}.png")
    (folder / "AMBER_3.jpg").write_bytes(b"\xff\xd8 truncated")
    return folder


@pytest.fixture(scope="module")
def sam_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_sam(tmp_path_factory.mktemp("sam"), "tiny")


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    requires_module("open_clip")
    return write_random_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def small_vocabulary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vocab") / "vocabulary.txt"
    path.write_text(
        "[objects]\ncat\ndog\nmouse: mice\nbus\n[colours]\nred\norange\n[sizes]\nsmall\n[counts]\ntwo\n"
    )
    return path


@pytest.fixture(scope="module")
def blip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    words = ["a", "picture", "of", "the", "cat", "dog", "on", "red", "blue", "grass"]
    # random weights: keep special tokens out of the captions
    return write_random_blip(
        tmp_path_factory.mktemp("blip"), "tiny", words=words, suppress_special_tokens=True
    )


# --------------------------------------------------------------------------------------------- SAM


def test_sam_point_prompts_match_one_prompt_at_a_time(sam_dir: Path, tmp_path: Path) -> None:
    from transformers import SamModel, SamProcessor

    points = tmp_path / "points.json"
    points.write_text(json.dumps({"a.png": [[10, 10], [30, 20], [50, 40]]}))
    sam = create_mask_source("sam", model=str(sam_dir), points=str(points), points_per_batch=2)
    image = noise_image()
    masks = sam.masks(SourceImage("a.png", image, 64, 48))
    assert len(masks) == 3 and all(m.mask.shape == (48, 64) for m in masks)
    assert (
        sam.identity.settings["mode"] == "points"
        and len(sam.identity.settings["points_sha256"]) == 64
    )
    # The same prompts, one per forward pass, straight through transformers.
    model, processor = (
        SamModel.from_pretrained(sam_dir).eval(),
        SamProcessor.from_pretrained(sam_dir),
    )
    for mask, (x, y) in zip(masks, [(10, 10), (30, 20), (50, 40)], strict=True):
        inputs = processor(images=image, input_points=[[[[x, y]]]], return_tensors="pt")
        with torch.no_grad():
            out = model(**inputs)
        best = int(out.iou_scores[0, 0].argmax())
        expected = processor.image_processor.post_process_masks(
            out.pred_masks, inputs["original_sizes"], inputs["reshaped_input_sizes"]
        )[0][0, best].numpy()
        assert mask.score == pytest.approx(float(out.iou_scores[0, 0, best]), abs=1e-5)
        assert (mask.mask == expected).mean() > 0.999
    with pytest.raises(InputError, match=r"no points for b\.png"):
        sam.masks(SourceImage("b.png", image, 64, 48))


def test_sam_point_prompts_write_a_valid_dump(
    sam_dir: Path, image_dir: Path, tmp_path: Path
) -> None:
    points = tmp_path / "points.json"
    points.write_text(json.dumps({"AMBER_1.png": [[5, 5], [40, 30]]}))
    out = tmp_path / "points.jsonl"
    summary = segment_folder(
        image_dir,
        out,
        masks="sam",
        mask_options={"model": str(sam_dir), "points": str(points)},
        captioner=AreaCaptioner(),
    )
    # AMBER_2.png has no points (failed), AMBER_3.jpg is unreadable.
    assert (summary.written, summary.failed, summary.unreadable) == (1, 1, 1)
    (entry,) = read_dump(out).images
    assert entry.image == "AMBER_1.png" and len(entry.regions) == 2
    assert read_dump(out).header.captioner.settings["mask_source"]["settings"]["mode"] == "points"


def test_sam_points_file_errors(sam_dir: Path, tmp_path: Path) -> None:
    points = tmp_path / "points.json"
    points.write_text(json.dumps({"a.png": [[10, "x"]]}))
    with pytest.raises(InputError, match=r"a\.png\[0\]: expected \[x, y\]"):
        create_mask_source("sam", model=str(sam_dir), points=str(points))


def test_sam_automatic_generation_writes_a_valid_dump(
    sam_dir: Path, image_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sam.jsonl"
    summary = segment_folder(
        image_dir,
        out,
        masks="sam",
        mask_options={
            "model": str(sam_dir),
            "granularity": 2,
            "pred_iou_thresh": 0,
            "stability_score_thresh": 0,
        },
        captioner=AreaCaptioner(),
    )
    assert (summary.written, summary.unreadable) == (2, 1)
    dump = read_dump(out)
    settings = dump.header.captioner.settings["mask_source"]["settings"]
    assert (settings["mode"], settings["points_per_side"], settings["pred_iou_thresh"]) == (
        "automatic",
        2,
        0.0,
    )
    for entry in dump.images:
        assert entry.regions, entry.image
        for region in entry.regions:
            area = int(region.caption.split()[3])
            from amber_eval.segmenter import rle

            assert rle.decode(region.mask.to_json()).sum() == area  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------- crops


def test_masked_crop_paints_outside_grey_and_squares_the_box() -> None:
    image = Image.new("RGB", (10, 6), (200, 10, 10))
    array = np.zeros((6, 10), dtype=bool)
    array[1:5, 2:4] = True  # 2 wide, 4 high
    array[1, 2] = False
    crop = np.asarray(region_crop(image, make_mask(array), margin=0.0))
    assert crop.shape == (4, 4, 3)  # squared to the larger side, centred on the box
    # columns: box x 2..4, centre 3, square 1..5 -> the mask's columns are 1 and 2 of the crop
    assert tuple(crop[0, 1]) == GREY and tuple(crop[1, 1]) == (200, 10, 10)
    assert tuple(crop[2, 0]) == GREY and tuple(crop[2, 2]) == (200, 10, 10)
    kept = np.asarray(region_crop(image, make_mask(array), margin=0.0, background="keep"))
    assert tuple(kept[0, 1]) == (200, 10, 10) and tuple(kept[0, 0]) == (200, 10, 10)


# ------------------------------------------------------------------------------------ clip-vocab


@pytest.fixture(scope="module")
def clip_captioner(clip_dir: Path, small_vocabulary: Path):  # type: ignore[no-untyped-def]
    return create_captioner(
        "clip-vocab",
        model=f"local-dir:{clip_dir}",
        vocabulary=str(small_vocabulary),
        threshold=0,
        top_k=2,
    )


def test_clip_vocab_scores_phrases_on_masked_crops(clip_captioner, clip_dir: Path) -> None:  # type: ignore[no-untyped-def]
    import open_clip

    image = noise_image(seed=3)
    source = SourceImage("a.png", image, 64, 48)
    masks = create_mask_source("grid", granularity=2).masks(source)
    captions = clip_captioner.caption(source, masks)
    assert [c.mask_index for c in captions] == [0, 0, 1, 1, 2, 2, 3, 3]

    # Recompute region 2's phrases by hand with open_clip directly.
    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{clip_dir}")
    tokenizer = open_clip.get_tokenizer(f"local-dir:{clip_dir}")
    model.eval()

    def embed_text(texts: list[str]):  # type: ignore[no-untyped-def]
        with torch.no_grad():
            f = model.encode_text(tokenizer([f"a photo of {t}." for t in texts]))
        return f / f.norm(dim=-1, keepdim=True)

    with torch.no_grad():
        crop = region_crop(image, masks[2], background="grey")
        f = model.encode_image(preprocess(crop)[None])
        f = f / f.norm(dim=-1, keepdim=True)
        scale = model.logit_scale.exp()
    objects = ["cat", "dog", "mouse", "bus"]
    p_object = (scale * f @ embed_text([f"a {o}" for o in objects]).T).softmax(-1)[0]
    phrases_of = {
        "cat": ["a cat", "a red cat", "an orange cat", "a small cat", "two cats"],
        "dog": ["a dog", "a red dog", "an orange dog", "a small dog", "two dogs"],
        "mouse": ["a mouse", "a red mouse", "an orange mouse", "a small mouse", "two mice"],
        "bus": ["a bus", "a red bus", "an orange bus", "a small bus", "two buses"],
    }
    scored = []
    for index in p_object.argsort(descending=True)[:3].tolist():
        phrases = phrases_of[objects[index]]
        p_phrase = (scale * f @ embed_text(phrases).T).softmax(-1)[0]
        scored += [
            (float(p_object[index] * p), phrase)
            for p, phrase in zip(p_phrase, phrases, strict=True)
        ]
    scored.sort(reverse=True)
    region = [c for c in captions if c.mask_index == 2]
    assert [c.caption for c in region] == [scored[0][1], scored[1][1]]
    assert [c.score for c in region] == pytest.approx([scored[0][0], scored[1][0]], rel=1e-4)
    assert all(c.caption in phrases_of[c.label] for c in region)  # type: ignore[index]


def test_clip_vocab_threshold_and_dump(
    clip_dir: Path, small_vocabulary: Path, image_dir: Path, tmp_path: Path
) -> None:
    strict = create_captioner(
        "clip-vocab",
        model=f"local-dir:{clip_dir}",
        vocabulary=str(small_vocabulary),
        threshold=0.99,
    )
    source = SourceImage("a.png", noise_image(), 64, 48)
    assert strict.caption(source, create_mask_source("grid", granularity=2).masks(source)) == []
    out = tmp_path / "clip.jsonl"
    summary = segment_folder(
        image_dir,
        out,
        masks="superpixels",
        mask_options={"granularity": 4},
        captioner="clip-vocab",
        captioner_options={
            "model": f"local-dir:{clip_dir}",
            "vocabulary": str(small_vocabulary),
            "threshold": "0",
        },
    )
    assert (summary.written, summary.unreadable) == (2, 1)
    dump = read_dump(out)
    settings = dump.header.captioner.settings
    assert dump.header.captioner.name == "clip-vocab"
    assert (
        settings["benchmark_vocabulary"] is False
        and settings["mask_source"]["name"] == "superpixels"
    )
    assert all(
        r.mask is not None and r.label in ("cat", "dog", "mouse", "bus")
        for e in dump.images
        for r in e.regions
    )


def test_clip_vocab_amber_vocabulary_is_recorded(clip_dir: Path, amber_data_dir: Path) -> None:
    captioner = create_captioner(
        "clip-vocab",
        model=f"local-dir:{clip_dir}",
        vocabulary="amber",
        data_dir=str(amber_data_dir),
    )
    assert len(captioner.vocabulary.objects) == 418
    assert captioner.identity.settings["benchmark_vocabulary"] is True
    assert captioner.identity.settings["vocabulary"] == "amber"


# --------------------------------------------------------------------------------- image-to-text


def test_image_to_text_captions_crops_in_batches(
    blip_dir: Path, image_dir: Path, tmp_path: Path
) -> None:
    source = SourceImage("a.png", noise_image(seed=5), 64, 48)
    masks = create_mask_source("grid", granularity=2).masks(source)
    one = create_captioner("image-to-text", model=str(blip_dir), max_new_tokens=4, batch_size=1)
    four = create_captioner("image-to-text", model=str(blip_dir), max_new_tokens=4, batch_size=4)
    single, batched = one.caption(source, masks), four.caption(source, masks)
    assert [c.mask_index for c in batched] == [0, 1, 2, 3]
    assert [c.caption for c in single] == [c.caption for c in batched]
    assert all(c.caption and 0 < c.score <= 1 for c in batched)  # type: ignore[operator]
    assert [c.score for c in single] == pytest.approx([c.score for c in batched], rel=1e-3)

    prompted = create_captioner(
        "image-to-text", model=str(blip_dir), max_new_tokens=4, prompt="a picture of"
    )
    assert all(
        not c.caption.startswith("a picture of") for c in prompted.caption(source, masks[:1])
    )

    out = tmp_path / "blip.jsonl"
    summary = segment_folder(
        image_dir, out, masks="grid", captioner=four, mask_options={"granularity": 2}
    )
    assert (summary.written, summary.regions, summary.unreadable) == (2, 8, 1)
    assert read_dump(out).header.captioner.settings["model"] == str(blip_dir)


@pytest.mark.slow
def test_bench_segment_prints_rates(clip_dir: Path) -> None:
    from click.testing import CliRunner

    from amber_eval.cli.bench import bench_segment

    result = CliRunner().invoke(
        bench_segment,
        [
            "--masks",
            "grid",
            "-M",
            "granularity=2",
            "--captioner",
            "clip-vocab",
            "--random-weights",
            "--size",
            "tiny",
            "--images",
            "2",
            "--width",
            "64",
            "--height",
            "48",
            "--compare-unbatched",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2 images of 64x48, 8 regions in" in result.output
    assert "images/s" in result.output and "regions/s" in result.output
    assert "one region per forward pass:" in result.output and "x faster" in result.output


@pytest.mark.gpu
def test_clip_vocab_on_gpu_matches_cpu(clip_dir: Path, small_vocabulary: Path) -> None:
    if not torch.cuda.is_available():
        requires("gpu", "needs a CUDA GPU")
    source = SourceImage("a.png", noise_image(seed=7), 64, 48)
    masks = create_mask_source("grid", granularity=2).masks(source)
    options = {
        "model": f"local-dir:{clip_dir}",
        "vocabulary": str(small_vocabulary),
        "threshold": 0,
    }
    cpu = create_captioner("clip-vocab", device="cpu", **options).caption(source, masks)
    gpu = create_captioner("clip-vocab", device="cuda", **options).caption(source, masks)
    assert [c.caption for c in gpu] == [c.caption for c in cpu]
    assert [c.score for c in gpu] == pytest.approx([c.score for c in cpu], rel=1e-3)
