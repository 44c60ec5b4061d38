"""``captions import``: per-image JSONL and COCO-style results -> a validated caption dump."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from amber_eval.captions.dump import read_dump
from amber_eval.cli.captions_import import import_captions as import_command
from amber_eval.errors import InputError
from amber_eval.segmenter import rle
from amber_eval.segmenter.importing import import_captions


def test_jsonl_records_regions_and_per_region_lines(tmp_path: Path) -> None:
    mask = np.zeros((4, 6), dtype=bool)
    mask[1:3, 2:4] = True
    source = tmp_path / "model.jsonl"
    lines = [
        {
            "image": "AMBER_2.jpg",
            "width": 6,
            "height": 4,
            "regions": [
                "a cat",
                {"caption": "a red ball", "score": 0.5, "bbox": [1, 1, 7, 3], "label": "ball"},
                {"text": "grass", "segmentation": {"size": [4, 6], "counts": [6, 2, 2, 2, 12]}},
            ],
        },
        {"image_id": 5, "caption": "a dog", "bbox": [0, 0, 2, 2]},
        {"file_name": "AMBER_5.jpg", "caption": "a tree", "mask": rle.encode(mask)},
    ]
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = tmp_path / "captions.jsonl"
    summary = import_captions(source, out, from_format="jsonl")
    assert (summary.images, summary.regions, summary.clipped_boxes) == (2, 5, 1)
    dump = read_dump(out)
    assert dump.header.captioner.name == "imported"
    assert dump.header.captioner.settings["imported_from"] == "jsonl"
    two, five = dump.images
    assert [r.caption for r in two.regions] == ["a cat", "a red ball", "grass"]
    assert two.regions[1].bbox == (1.0, 1.0, 6.0, 3.0)  # x1 clipped from 7 to the width 6
    assert (two.regions[1].score, two.regions[1].label) == (0.5, "ball")
    # counts [6, 2, 2, 2, 12] alternate 0/1 runs, column-major over 4 rows: ones at rows 2-3 of columns 1, 2
    grass = rle.decode(two.regions[2].mask.to_json())  # type: ignore[union-attr]
    assert np.argwhere(grass).tolist() == [[2, 1], [2, 2], [3, 1], [3, 2]]
    assert five.image == "AMBER_5.jpg" and (five.width, five.height) == (6, 4)
    assert [r.caption for r in five.regions] == ["a dog", "a tree"]
    assert (rle.decode(five.regions[1].mask.to_json()) == mask).all()  # type: ignore[union-attr]


def test_jsonl_object_mapping_and_xywh(tmp_path: Path) -> None:
    source = tmp_path / "model.json"
    source.write_text(
        json.dumps(
            {"AMBER_1.jpg": [{"caption": "a boat", "bbox": [10, 20, 5, 5]}], "AMBER_3.jpg": ["sky"]}
        )
    )
    out = tmp_path / "c.jsonl"
    import_captions(
        source, out, from_format="jsonl", bbox_format="xywh", name="mymodel", version="2"
    )
    dump = read_dump(out)
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_3.jpg"]
    assert dump.images[0].regions[0].bbox == (10.0, 20.0, 15.0, 25.0)
    assert (dump.header.captioner.name, dump.header.captioner.version) == ("mymodel", "2")


def test_coco_results_with_images_list_and_mapping(tmp_path: Path) -> None:
    polygon = [[0, 0, 4, 0, 4, 4, 0, 4]]
    coco = {
        "images": [{"id": 7, "file_name": "val/AMBER_9.jpg", "width": 8, "height": 6}],
        "annotations": [
            {
                "image_id": 7,
                "caption": "a kite",
                "bbox": [1, 1, 2, 3],
                "segmentation": polygon,
                "score": 0.8,
                "category_name": "kite",
            },
            {"image_id": 7, "caption": "clouds", "bbox": [6, 4, 4, 4], "score": 0.1},
        ],
    }
    source = tmp_path / "coco.json"
    source.write_text(json.dumps(coco))
    out = tmp_path / "c.jsonl"
    summary = import_captions(source, out, from_format="coco")
    assert (summary.images, summary.regions, summary.clipped_boxes) == (1, 2, 1)
    (entry,) = read_dump(out).images
    assert (entry.image, entry.width, entry.height) == ("AMBER_9.jpg", 8, 6)
    kite, clouds = entry.regions
    assert kite.bbox == (1.0, 1.0, 3.0, 4.0) and kite.label == "kite" and kite.score == 0.8
    assert rle.decode(kite.mask.to_json())[:4, :4].sum() >= 9  # type: ignore[union-attr]
    assert clouds.bbox == (6.0, 4.0, 8.0, 6.0)

    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            [
                {"image_id": 3, "caption": "a man", "bbox": [0, 0, 1, 1]},
                {"image_id": 4, "caption": "x"},
            ]
        )
    )
    mapping = tmp_path / "names.json"
    mapping.write_text(json.dumps({"3": "AMBER_30.jpg"}))
    with pytest.raises(InputError, match=r"results\.json\[1\]: image_id 4 has no file name"):
        import_captions(results, tmp_path / "r.jsonl", from_format="coco", image_names=mapping)
    assert not (tmp_path / "r.jsonl").exists()
    mapping.write_text(json.dumps({"3": "AMBER_30.jpg", "4": "AMBER_40.jpg"}))
    import_captions(results, tmp_path / "r.jsonl", from_format="coco", image_names=mapping)
    assert [e.image for e in read_dump(tmp_path / "r.jsonl").images] == [
        "AMBER_30.jpg",
        "AMBER_40.jpg",
    ]
    # Without a mapping, image_id n is AMBER_n.jpg.
    import_captions(results, tmp_path / "d.jsonl", from_format="coco")
    assert [e.image for e in read_dump(tmp_path / "d.jsonl").images] == [
        "AMBER_3.jpg",
        "AMBER_4.jpg",
    ]


def test_every_problem_is_reported_with_its_line_and_nothing_is_written(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "image": "AMBER_1.jpg",
                        "regions": [{"caption": " "}, {"caption": "a", "score": "high"}],
                    }
                ),
                json.dumps({"regions": ["no image"]}),
                json.dumps({"image": "photo.jpg", "regions": ["x"]}),
                json.dumps(
                    {"image": "AMBER_2.jpg", "regions": [{"caption": "y", "bbox": [5, 5, 1, 1]}]}
                ),
            ]
        )
        + "\n"
    )
    out = tmp_path / "c.jsonl"
    with pytest.raises(InputError) as info:
        import_captions(source, out, from_format="jsonl")
    message = str(info.value)
    assert "5 problem(s)" in message
    assert 'bad.jsonl:1 region 0: needs a non-empty "caption"' in message
    assert 'bad.jsonl:1 region 1: "score" must be a number' in message
    assert "bad.jsonl:2: no image name" in message
    assert "'photo.jpg' is not an AMBER image name" in message
    assert 'bad.jsonl:4 region 0: "bbox" [5, 5, 1, 1] has negative width' in message
    assert not out.exists()
    source.write_text('{"image": "AMBER_1.jpg", "regions": ["a"]}\n{"image": \n')
    with pytest.raises(InputError, match=r"bad\.jsonl:2: not valid JSON"):
        import_captions(source, out, from_format="jsonl")


def test_cli_import(tmp_path: Path) -> None:
    source = tmp_path / "m.jsonl"
    source.write_text(json.dumps({"image": "kitchen.png", "regions": ["a stove"]}) + "\n")
    out = tmp_path / "c.jsonl"
    runner = CliRunner()
    refused = runner.invoke(import_command, [str(source), "--from", "jsonl", "--out", str(out)])
    assert refused.exit_code != 0 and "not an AMBER image name" in str(refused.exception)
    result = runner.invoke(
        import_command, [str(source), "--from", "jsonl", "--out", str(out), "--any-images"]
    )
    assert result.exit_code == 0, result.output
    assert "1 image(s), 1 region(s)" in result.output
    assert read_dump(out).images[0].regions[0].caption == "a stove"
