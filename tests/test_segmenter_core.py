"""Mask sources without weights, options, the segment pipeline (resume, errors) and its CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from amber_eval.amber_images import image_sort_key as sort_key
from amber_eval.captions.dump import read_dump
from amber_eval.errors import InputError, UnknownNameError
from amber_eval.segmenter import (
    Captioner,
    Identity,
    RegionCaption,
    SourceImage,
    create_captioner,
    create_mask_source,
    rle,
    segment_folder,
)
from amber_eval.segmenter.images import list_images


def four_colour_image(width: int = 40, height: int = 30) -> Image.Image:
    """Quadrants red, green, blue, white."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    hw, hh = width // 2, height // 2
    array[:hh, :hw] = (255, 0, 0)
    array[:hh, hw:] = (0, 255, 0)
    array[hh:, :hw] = (0, 0, 255)
    array[hh:, hw:] = (255, 255, 255)
    return Image.fromarray(array)


class ColourCaptioner(Captioner):
    """Names the mean colour of each masked region (a deterministic test captioner)."""

    identity = Identity("colour", "1", {"names": "rgb"})

    def caption(self, image, masks):  # type: ignore[no-untyped-def]
        pixels = np.asarray(image.rgb())
        out = []
        for index, mask in enumerate(masks):
            mean = pixels[mask.mask].mean(axis=0)
            names = ["red", "green", "blue"]
            name = "white" if mean.min() > 200 else names[int(mean.argmax())]
            out.append(RegionCaption(f"a {name} region", score=float(mask.area), mask_index=index))
        return out


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for n in (10, 2, 1):
        four_colour_image().save(folder / f"AMBER_{n}.jpg", quality=100)
    (folder / "AMBER_3.jpg").write_bytes(b"not a jpeg at all")
    (folder / "notes.txt").write_text("ignored")
    return folder


def source(image: Image.Image, name: str = "AMBER_1.jpg") -> SourceImage:
    return SourceImage(name, image, image.width, image.height)


def test_images_are_listed_in_amber_id_order(image_dir: Path) -> None:
    names = [f.name for f in list_images(image_dir)]
    assert names == ["AMBER_1.jpg", "AMBER_2.jpg", "AMBER_3.jpg", "AMBER_10.jpg"]
    assert sort_key("AMBER_9.jpg") < sort_key("AMBER_10.jpg") < sort_key("a.jpg")


def test_grid_boxes_cover_the_image_once() -> None:
    grid = create_mask_source("grid", granularity="2")
    masks = grid.masks(source(four_colour_image(41, 30)))
    # x edges round(0, 20.5, 41) = 0, 20, 41; y edges 0, 15, 30
    assert [m.bbox for m in masks] == [
        (0.0, 0.0, 20.0, 15.0),
        (20.0, 0.0, 41.0, 15.0),
        (0.0, 15.0, 20.0, 30.0),
        (20.0, 15.0, 41.0, 30.0),
    ]
    total = np.sum([m.mask for m in masks], axis=0)
    assert total.shape == (30, 41) and (total == 1).all()
    assert grid.identity.settings == {"granularity": 2, "whole_image": False}
    whole = create_mask_source("grid", granularity=1, whole_image=True).masks(
        source(four_colour_image())
    )
    assert len(whole) == 2 and whole[0].area == 40 * 30


def test_superpixels_find_the_four_quadrants() -> None:
    for method in ("slic", "felzenszwalb"):
        masks = create_mask_source("superpixels", method=method, granularity=4).masks(
            source(four_colour_image())
        )
        boxes = sorted(m.bbox for m in masks)
        assert boxes == [
            (0.0, 0.0, 20.0, 15.0),
            (0.0, 15.0, 20.0, 30.0),
            (20.0, 0.0, 40.0, 15.0),
            (20.0, 15.0, 40.0, 30.0),
        ], method
        assert all(m.score == 0.25 for m in masks)


def test_unknown_names_and_options_are_reported() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'grid'"):
        create_mask_source("gird")
    with pytest.raises(InputError, match="did you mean 'granularity'"):
        create_mask_source("grid", granulrity=2)
    with pytest.raises(InputError, match="granularity='abc': expected an integer"):
        create_mask_source("grid", granularity="abc")
    with pytest.raises(InputError, match="between 1 and 64"):
        create_mask_source("grid", granularity=0)
    with pytest.raises(InputError, match="one of slic, felzenszwalb"):
        create_mask_source("superpixels", method="watershed")


def test_files_source_reads_png_npz_and_rle_json(tmp_path: Path) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    labels = np.zeros((30, 40), dtype=np.uint8)
    labels[0:10, 0:10] = 3
    labels[20:30, 30:40] = 7
    Image.fromarray(labels).save(folder / "AMBER_1.png")
    stack = np.zeros((2, 30, 40), dtype=bool)
    stack[0, 5:6, 5:8] = True
    stack[1, :, :] = True
    np.savez(
        folder / "AMBER_2.npz",
        masks=stack,
        scores=np.array([0.5, 0.25]),
        labels=np.array(["a", "b"]),
    )
    square = np.zeros((30, 40), dtype=bool)
    square[2:4, 1:3] = True
    (folder / "AMBER_3.json").write_text(
        json.dumps(
            [
                rle.encode(square),
                {"segmentation": rle.encode(~square), "score": 0.9, "label": "rest"},
            ]
        )
    )
    files = create_mask_source("files", folder=str(folder))
    png = files.masks(SourceImage("AMBER_1.jpg", None, 40, 30))
    assert [m.bbox for m in png] == [(0.0, 0.0, 10.0, 10.0), (30.0, 20.0, 40.0, 30.0)]
    npz = files.masks(SourceImage("AMBER_2.jpg", None))
    assert [(m.bbox, m.score, m.label) for m in npz] == [
        ((5.0, 5.0, 8.0, 6.0), 0.5, "a"),
        ((0.0, 0.0, 40.0, 30.0), 0.25, "b"),
    ]
    js = files.masks(SourceImage("AMBER_3.jpg", None))
    assert js[0].bbox == (1.0, 2.0, 3.0, 4.0) and js[0].area == 4
    assert (js[1].score, js[1].label, js[1].area) == (0.9, "rest", 1196)
    # Size mismatch, missing file and names that would leave the folder are errors.
    with pytest.raises(InputError, match="the image is 41x30"):
        files.masks(SourceImage("AMBER_1.jpg", None, 41, 30))
    with pytest.raises(InputError, match=r"no mask file for AMBER_4\.jpg"):
        files.masks(SourceImage("AMBER_4.jpg", None))
    with pytest.raises(InputError, match="not a plain file name"):
        files.masks(SourceImage("../AMBER_1.jpg", None))
    (tmp_path / "outside.json").write_text("[]")
    (folder / "AMBER_5.json").symlink_to(tmp_path / "outside.json")
    with pytest.raises(InputError, match="outside"):
        files.masks(SourceImage("AMBER_5.jpg", None))


def test_files_source_reads_one_json_table(tmp_path: Path) -> None:
    square = np.zeros((4, 5), dtype=bool)
    square[1, 1] = True
    table = tmp_path / "masks.json"
    table.write_text(
        json.dumps({"AMBER_1.jpg": [{"segmentation": rle.encode(square), "score": 1}]})
    )
    files = create_mask_source("files", folder=str(table))
    (mask,) = files.masks(SourceImage("AMBER_1.jpg", None))
    assert mask.bbox == (1.0, 1.0, 2.0, 2.0) and mask.score == 1.0
    with pytest.raises(InputError, match=r"no masks for image AMBER_2\.jpg"):
        files.masks(SourceImage("AMBER_2.jpg", None))
    table.write_text(json.dumps({"AMBER_1.jpg": [{"size": [4, 5], "counts": 7}]}))
    with pytest.raises(InputError, match="region 0"):
        create_mask_source("files", folder=str(table)).masks(SourceImage("AMBER_1.jpg", None))


def test_rle_round_trip_and_uncompressed_counts() -> None:
    mask = np.zeros((3, 4), dtype=bool)
    mask[1, 2] = True
    coded = rle.encode(mask)
    assert coded["size"] == [3, 4] and isinstance(coded["counts"], str)
    assert (rle.decode(coded) == mask).all()
    # Column-major runs: 7 zeros, one 1, 4 zeros.
    assert (rle.decode({"size": [3, 4], "counts": [7, 1, 4]}) == mask).all()
    with pytest.raises(ValueError, match="sum to 11"):
        rle.decode({"size": [3, 4], "counts": [7, 1, 3]})


def test_segment_writes_a_valid_dump_skips_unreadable_and_resumes(
    image_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results" / "colour" / "captions.jsonl"
    summary = segment_folder(
        image_dir, out, masks="grid", mask_options={"granularity": 2}, captioner=ColourCaptioner()
    )
    assert (summary.total, summary.written, summary.unreadable, summary.failed) == (4, 3, 1, 0)
    assert (
        summary.problems[0].image == "AMBER_3.jpg"
        and "cannot read the image" in summary.problems[0].message
    )
    dump = read_dump(out)
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_2.jpg", "AMBER_10.jpg"]
    first = dump.images[0]
    assert (first.width, first.height) == (40, 30)
    assert [r.caption for r in first.regions] == [
        "a red region",
        "a green region",
        "a blue region",
        "a white region",
    ]
    assert first.regions[1].bbox == (20.0, 0.0, 40.0, 15.0) and first.regions[1].score == 300.0
    assert (rle.decode(first.regions[3].mask.to_json())[15:, 20:]).all()  # type: ignore[union-attr]
    captioner = dump.header.captioner
    assert (captioner.name, captioner.version, captioner.settings["names"]) == (
        "colour",
        "1",
        "rgb",
    )
    assert captioner.settings["mask_source"]["name"] == "grid"
    assert captioner.settings["mask_source"]["settings"] == {"granularity": 2, "whole_image": False}

    # Resume: a torn last line is dropped and only the missing images are redone.
    text = out.read_text()
    lines = text.splitlines(keepends=True)
    out.write_text("".join(lines[:-1]) + lines[-1][:25])
    again = segment_folder(
        image_dir, out, masks="grid", mask_options={"granularity": 2}, captioner=ColourCaptioner()
    )
    assert (again.already_done, again.written, again.unreadable, again.dropped_torn_line) == (
        2,
        1,
        1,
        True,
    )
    assert out.read_text() == text
    # Another mask setting cannot resume into this dump.
    with pytest.raises(InputError, match="cannot resume"):
        segment_folder(image_dir, out, masks="grid", captioner=ColourCaptioner())


def test_segment_with_workers_matches_one_process(image_dir: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    segment_folder(
        image_dir,
        one,
        masks="superpixels",
        mask_options={"granularity": 4},
        captioner=ColourCaptioner(),
    )
    summary = segment_folder(
        image_dir,
        two,
        masks="superpixels",
        mask_options={"granularity": 4},
        captioner=ColourCaptioner(),
        workers=2,
    )
    assert summary.written == 3 and summary.unreadable == 1
    assert read_dump(one).images == read_dump(two).images


def test_files_mask_errors_are_counted_as_failures(image_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    Image.fromarray(np.ones((30, 40), dtype=np.uint8)).save(folder / "AMBER_1.png")
    summary = segment_folder(
        image_dir,
        tmp_path / "c.jsonl",
        masks="files",
        mask_options={"folder": str(folder)},
        captioner=ColourCaptioner(),
    )
    assert (summary.written, summary.unreadable, summary.failed) == (1, 1, 2)
    (entry,) = read_dump(tmp_path / "c.jsonl").images
    assert entry.image == "AMBER_1.jpg"
    assert [r.bbox for r in entry.regions] == [(0.0, 0.0, 40.0, 30.0)]
    assert {p.image for p in summary.problems} == {"AMBER_2.jpg", "AMBER_3.jpg", "AMBER_10.jpg"}


def _felzenszwalb_segment_args(image_dir: Path, captioner: str, out: Path) -> list[str]:
    """`amber-eval segment` on Felzenszwalb superpixels with ``captioner``."""
    return [
        "segment",
        "--images",
        str(image_dir),
        "--masks",
        "superpixels",
        "--granularity",
        "4",
        "-M",
        "method=felzenszwalb",
        "--captioner",
        captioner,
        "--out",
        str(out),
    ]


def test_cli_segment_and_segmenters(image_dir: Path, tmp_path: Path) -> None:
    from amber_eval.cli.main import cli

    runner = CliRunner()
    listing = runner.invoke(cli, ["segmenters"])
    assert listing.exit_code == 0, listing.output
    for name in ("grid", "superpixels", "files", "sam", "oracle", "clip-vocab", "image-to-text"):
        assert f"  {name} " in listing.output
    assert "granularity=3" in listing.output

    out = tmp_path / "dump.jsonl"
    result = runner.invoke(cli, _felzenszwalb_segment_args(image_dir, "oracle-not-here", out))
    assert result.exit_code != 0 and "unknown captioner 'oracle-not-here'" in str(result.exception)


def test_the_documented_plug_in_example_runs(
    image_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amber_eval.segmenter import CAPTIONERS

    docs = Path(__file__).resolve().parents[1] / "docs" / "segmenter.md"
    text = docs.read_text(encoding="utf-8")
    section = text[text.index("## Your own captioner") :]
    code = section[
        section.index("```python\n") + len("```python\n") : section.index(
            "\n```", section.index("```python")
        )
    ]
    assert len(code.splitlines()) <= 25
    monkeypatch.chdir(image_dir.parent)
    try:
        exec(compile(code, str(docs), "exec"), {"__name__": "docs_example"})
    finally:
        CAPTIONERS._entries.pop("size-words", None)
    dump = read_dump(image_dir.parent / "results" / "size-words" / "captions.jsonl")
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_2.jpg", "AMBER_10.jpg"]
    # Nine 1/9 cells, each below the 1/4 cutoff.
    assert [r.caption for r in dump.images[0].regions] == ["a small thing"] * 9
    assert dump.header.captioner.settings["cutoff"] == 0.25


def test_classes_outside_the_registry_by_module_path() -> None:
    grid = create_mask_source("amber_eval.segmenter.grid:GridMaskSource", granularity=2)
    assert grid.identity.settings["granularity"] == 2
    with pytest.raises(UnknownNameError, match="not a Captioner subclass"):
        create_captioner("amber_eval.segmenter.grid:GridMaskSource")
    with pytest.raises(UnknownNameError, match="cannot import"):
        create_captioner("no_such_module_xyz:Thing")


def test_cli_segment_runs_resumes_and_reports_unreadable(image_dir: Path, tmp_path: Path) -> None:
    from amber_eval.cli.main import cli

    out = tmp_path / "dump.jsonl"
    args = _felzenszwalb_segment_args(image_dir, f"{__name__}:ColourCaptioner", out)
    runner = CliRunner()
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "3 image(s) written" in first.output and "(1 unreadable, 0 failed) of 4" in first.output
    assert "skipped AMBER_3.jpg:" in first.output
    dump = read_dump(out)
    assert dump.header.captioner.settings["mask_source"]["settings"]["method"] == "felzenszwalb"
    assert sorted(r.caption for r in dump.images[0].regions) == sorted(
        ["a red region", "a green region", "a blue region", "a white region"]
    )
    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "0 image(s) written" in again.output and "3 already done" in again.output


def test_oracle_captions_image_names_without_pixels(
    amber_data_dir: Path, image_dir: Path, tmp_path: Path
) -> None:
    from amber_eval.captions.oracle import oracle_dump
    from amber_eval.data import load_benchmark

    expected = oracle_dump(load_benchmark(amber_data_dir))[0].by_image()
    out = tmp_path / "oracle.jsonl"
    summary = segment_folder(
        None, out, captioner="oracle", captioner_options={"data_dir": str(amber_data_dir)}, limit=2
    )
    assert summary.written == 2
    dump = read_dump(out)
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_2.jpg"]
    assert dump.images[0].regions == expected["AMBER_1.jpg"].regions
    assert dump.images[0].width is None and dump.header.captioner.settings["mask_source"] is None
    # With a folder: AMBER_3.jpg is unreadable; only its size is read, so it is reported.
    folder_summary = segment_folder(
        image_dir,
        tmp_path / "o2.jsonl",
        captioner="oracle",
        captioner_options={"data_dir": str(amber_data_dir)},
    )
    assert (folder_summary.written, folder_summary.unreadable) == (3, 1)
    assert read_dump(tmp_path / "o2.jsonl").images[0].width == 40
