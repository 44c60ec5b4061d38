from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from amber_eval.captions.dump import (
    FORMAT,
    CaptionDumpError,
    CaptionerInfo,
    DumpHeader,
    DumpWriter,
    ImageCaptions,
    Region,
    RleMask,
    check_dump,
    read_dump,
    schema,
    write_dump,
)
from amber_eval.errors import InputError

HEADER = {
    "format": FORMAT,
    "version": 1,
    "captioner": {"name": "toy", "version": "1.0", "settings": {"k": 3}},
    "created": "2026-01-31T12:00:00Z",
}
KNOWN = ["AMBER_1.jpg", "AMBER_2.jpg", "AMBER_3.jpg"]


def image_line(image: str = "AMBER_1.jpg", **region: Any) -> dict[str, Any]:
    return {
        "image": image,
        "width": 640,
        "height": 480,
        "regions": [{"caption": "a dog", "score": 0.5, **region}],
    }


def write_lines(path: Path, *lines: Any) -> Path:
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, known: list[str] | None = KNOWN) -> list[str]:
    with pytest.raises(CaptionDumpError) as info:
        read_dump(path, known)
    return [str(p) for p in info.value.problems]


def test_round_trip_and_schema(tmp_path: Path) -> None:
    header = DumpHeader(CaptionerInfo("toy", "1.0", {"k": 3}), created="2026-01-31T12:00:00Z")
    images = [
        ImageCaptions(
            "AMBER_1.jpg",
            640,
            480,
            (
                Region(
                    "a dog.",
                    0.9,
                    (1, 2, 30, 40),
                    RleMask(
                        (480, 640),
                        "R?V1j=0000000000000000000000000000000000000000000000000000000nmm8",
                    ),
                    "dog",
                ),
                Region("grass"),
            ),
        ),
        ImageCaptions("AMBER_2.jpg", None, None, ()),
    ]
    path = write_dump(tmp_path / "dump.jsonl", header, images)
    dump = read_dump(path, KNOWN)
    assert dump.header == header
    assert dump.images[0].regions[0] == Region(
        "a dog.",
        0.9,
        (1.0, 2.0, 30.0, 40.0),
        RleMask((480, 640), "R?V1j=0000000000000000000000000000000000000000000000000000000nmm8"),
        "dog",
    )
    assert dump.images[1] == images[1]
    assert dump.region_count == 2
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    defs = schema()
    jsonschema.validate(lines[0], {"$ref": "#/$defs/header", "$defs": defs["$defs"]})
    for line in lines[1:]:
        jsonschema.validate(line, {"$ref": "#/$defs/image", "$defs": defs["$defs"]})
        jsonschema.validate(line, defs)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(lines[1], {"$ref": "#/$defs/header", "$defs": defs["$defs"]})
    assert lines[1]["regions"][1] == {
        "caption": "grass",
        "score": None,
        "bbox": None,
        "mask": None,
        "label": None,
    }


def test_rle_from_pycocotools_bytes() -> None:
    mask = RleMask.from_coco({"size": [4, 5], "counts": b"0a1"})
    assert mask == RleMask((4, 5), "0a1")
    assert mask.to_coco() == {"size": [4, 5], "counts": b"0a1"}


def test_optional_region_fields_may_be_absent(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "d.jsonl", HEADER, {"image": "AMBER_1.jpg", "regions": [{"caption": "x"}]}
    )
    dump = read_dump(path, KNOWN)
    assert dump.images[0] == ImageCaptions("AMBER_1.jpg", None, None, (Region("x"),))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="caption dump not found"):
        read_dump(tmp_path / "nope.jsonl")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("\n")
    assert problems_of(path) == [
        f"{path}:1: empty file: expected a header line and one line per image"
    ]


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "d.jsonl",
        HEADER,
        image_line("AMBER_1.jpg"),
        "{not json",
        image_line("AMBER_1.jpg"),
        image_line("AMBER_99.jpg"),
        image_line("AMBER_2.jpg", caption="  "),
        image_line("AMBER_3.jpg", score="high"),
    )
    problems = problems_of(path)
    assert problems[0].startswith(f"{path}:3: not valid JSON")
    assert problems[1:] == [
        f"{path}:4: duplicate image 'AMBER_1.jpg' (first on line 2)",
        f"{path}:5: unknown image 'AMBER_99.jpg': not an AMBER image (expected names like 'AMBER_1.jpg')",
        f"{path}:6: regions[0]: empty caption",
        f"{path}:7: regions[0]: \"score\" must be a finite number or null, got 'high'",
    ]
    with pytest.raises(CaptionDumpError) as info:
        read_dump(path, KNOWN)
    message = str(info.value)
    assert message.startswith(f"{path}: 5 problems in the caption dump:")
    assert f"{path}:6: regions[0]: empty caption" in message


def test_unknown_images_only_checked_when_known_given(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", HEADER, image_line("other.png"))
    assert read_dump(path).images[0].image == "other.png"
    assert check_dump(path, KNOWN)[0].message.startswith("unknown image 'other.png'")


def test_missing_header(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", image_line(), image_line("AMBER_2.jpg"))
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{path}:1: missing header: the first line must be the dump header"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"format": "other"},
            'header: "format" is \'other\', expected "amber-eval/region-captions"',
        ),
        ({"version": 2}, "header: unsupported format version 2; this amber-eval reads version 1"),
        ({"version": "1"}, "header: \"version\" must be the integer 1, got '1'"),
        ({"version": True}, 'header: "version" must be the integer 1, got True'),
        (
            {"created": "yesterday"},
            "header: \"created\" must be an ISO-8601 time string, got 'yesterday'",
        ),
        ({"created": None}, 'header: "created" must be an ISO-8601 time string, got None'),
        ({"captioner": "toy"}, 'header: "captioner" must be an object, got a string'),
        (
            {"captioner": {"name": ""}},
            "header: \"captioner.name\" must be a non-empty string, got ''",
        ),
        (
            {"captioner": {"name": "x", "version": 3}},
            'header: "captioner.version" must be a string or null, got a number',
        ),
        (
            {"captioner": {"name": "x", "settings": []}},
            'header: "captioner.settings" must be an object, got a list',
        ),
        (
            {"captioner": {"name": "x", "seed": 1}},
            "header captioner: unknown field 'seed' (allowed: name, version, settings)",
        ),
        (
            {"extra": 1},
            "header: unknown field 'extra' (allowed: format, version, captioner, created)",
        ),
    ],
)
def test_invalid_header(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    path = write_lines(tmp_path / "d.jsonl", {**HEADER, **change}, image_line())
    assert problems_of(path) == [f"{path}:1: {expected}"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            {k: v for k, v in HEADER.items() if k != "created"},
            'header: missing field "created" (an ISO-8601 time)',
        ),
        (
            {k: v for k, v in HEADER.items() if k != "captioner"},
            'header: missing field "captioner" ({"name", "version", "settings"})',
        ),
        ({"version": 1}, 'header: missing field "format" (expected "amber-eval/region-captions")'),
        ([1, 2], "the header must be a JSON object, got a list"),
    ],
)
def test_header_missing_fields(tmp_path: Path, header: Any, expected: str) -> None:
    path = write_lines(tmp_path / "d.jsonl", header, image_line())
    assert problems_of(path) == [f"{path}:1: {expected}"]


def test_header_not_json(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", "{oops", image_line())
    problems = problems_of(path)
    assert problems[0].startswith(f"{path}:1: not valid JSON")
    assert problems[1] == f"{path}:1: missing header: the first line must be the dump header"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ([1], "an image line must be a JSON object, got a list"),
        ({"regions": []}, 'missing field "image" (the image file name, e.g. "AMBER_1.jpg")'),
        ({"image": 5, "regions": []}, '"image" must be a non-empty file name, got 5'),
        (
            {"image": "../AMBER_1.jpg", "regions": []},
            "\"image\" must be a plain file name without folders, got '../AMBER_1.jpg'",
        ),
        ({"image": "AMBER_1.jpg"}, 'missing field "regions" (a list, possibly empty)'),
        ({"image": "AMBER_1.jpg", "regions": {}}, '"regions" must be a list, got an object'),
        (
            {"image": "AMBER_1.jpg", "regions": [], "width": 0},
            '"width" must be a positive integer or null, got 0',
        ),
        (
            {"image": "AMBER_1.jpg", "regions": [], "height": 1.5},
            '"height" must be a positive integer or null, got 1.5',
        ),
        (
            {"image": "AMBER_1.jpg", "regions": [], "size": 3},
            "image line: unknown field 'size' (allowed: image, width, height, regions)",
        ),
        (
            {"image": "AMBER_1.jpg", "regions": ["a dog"]},
            "regions[0] must be an object, got a string",
        ),
        (
            {"image": "AMBER_1.jpg", "regions": [{"score": 1}]},
            'regions[0]: missing field "caption"',
        ),
        (
            {"image": "AMBER_1.jpg", "regions": [{"caption": 7}]},
            'regions[0]: "caption" must be a string, got a number',
        ),
        ({"image": "AMBER_1.jpg", "regions": [{"caption": ""}]}, "regions[0]: empty caption"),
        (
            {"image": "AMBER_1.jpg", "regions": [{"caption": "x", "label": 1}]},
            'regions[0]: "label" must be a string or null, got a number',
        ),
        (
            {"image": "AMBER_1.jpg", "regions": [{"caption": "x", "score": True}]},
            'regions[0]: "score" must be a finite number or null, got True',
        ),
        (
            {"image": "AMBER_1.jpg", "regions": [{"caption": "x", "area": 3}]},
            "regions[0]: unknown field 'area' (allowed: caption, score, bbox, mask, label)",
        ),
    ],
)
def test_invalid_image_line(tmp_path: Path, line: Any, expected: str) -> None:
    path = write_lines(tmp_path / "d.jsonl", HEADER, line)
    assert problems_of(path) == [f"{path}:2: {expected}"]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (
            {"bbox": [1, 2, 3]},
            'regions[0]: "bbox" must be [x0, y0, x1, y1] (four numbers, absolute pixels) or null, got [1, 2, 3]',
        ),
        (
            {"bbox": [1, 2, "3", 4]},
            "regions[0]: \"bbox\" must be [x0, y0, x1, y1] (four numbers, absolute pixels) or null, got [1, 2, '3', 4]",
        ),
        (
            {"bbox": [10, 2, 3, 4]},
            'regions[0]: "bbox" [10, 2, 3, 4] is not [x0, y0, x1, y1] with 0 <= x0 <= x1 and 0 <= y0 <= y1',
        ),
        (
            {"bbox": [-1, 0, 3, 4]},
            'regions[0]: "bbox" [-1, 0, 3, 4] is not [x0, y0, x1, y1] with 0 <= x0 <= x1 and 0 <= y0 <= y1',
        ),
        (
            {"bbox": [0, 0, 641, 4]},
            'regions[0]: "bbox" [0, 0, 641, 4] lies outside the 640x480 image (bbox is in absolute pixels)',
        ),
        (
            {"mask": "rle"},
            'regions[0]: "mask" must be a COCO compressed RLE object {"size": [h, w], "counts": str} or null, got a string',
        ),
        (
            {"mask": {"size": [480], "counts": "x"}},
            'regions[0]: "mask.size" must be [height, width] (two positive integers), got [480]',
        ),
        (
            {"mask": {"size": [640, 480], "counts": "x"}},
            'regions[0]: "mask.size" [640, 480] does not match the image (height 480, width 640); size is [height, width]',
        ),
        (
            {"mask": {"size": [480, 640], "counts": [1, 2]}},
            'regions[0]: "mask.counts" must be a non-empty compressed RLE string, got a list',
        ),
        (
            {"mask": {"size": [480, 640], "counts": "!!!garbage\u00ff"}},
            "regions[0]: \"mask.counts\" is not a valid compressed RLE: character '!' at position 0 is not an RLE character (they run from '0' to 'o')",
        ),
        (
            {"mask": {"size": [480, 640], "counts": "d0"}},
            'regions[0]: "mask.counts" is not a valid compressed RLE: the runs cover 20 pixels, the mask has 480 x 640 = 307200',
        ),
        (
            {
                "mask": {
                    "size": [480, 640],
                    "counts": "R?V1j=0000000000000000000000000000000000000000000000000000000nmm8",
                    "area": 2,
                }
            },
            "regions[0].mask: unknown field 'area' (allowed: size, counts)",
        ),
    ],
)
def test_invalid_bbox_and_mask(tmp_path: Path, region: dict[str, Any], expected: str) -> None:
    path = write_lines(tmp_path / "d.jsonl", HEADER, image_line(**region))
    assert problems_of(path) == [f"{path}:2: {expected}"]


def test_nan_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        json.dumps(HEADER) + "\n"
        '{"image": "AMBER_1.jpg", "regions": [{"caption": "x", "score": NaN}]}\n'
    )
    assert problems_of(path) == [f"{path}:2: not valid JSON: NaN is not allowed in JSON"]


def test_torn_last_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(HEADER) + "\n" + '{"image": "AMBER_1.jpg", "reg')
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2: not valid JSON")
    assert "the last line is cut off" in problem


def test_long_problem_lists_are_truncated_in_the_message(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", HEADER, *([image_line("AMBER_1.jpg")] * 31))
    with pytest.raises(CaptionDumpError) as info:
        read_dump(path)
    assert len(info.value.problems) == 30
    assert "... and 5 more (`amber-eval captions check" in str(info.value)


# --- DumpWriter ----------------------------------------------------------------------------


def _header(settings: dict[str, Any] | None = None) -> DumpHeader:
    return DumpHeader(CaptionerInfo("toy", "1.0", settings or {"k": 3}))


def _entry(image: str, caption: str = "a cat") -> ImageCaptions:
    return ImageCaptions(image, 10, 10, (Region(caption, 0.5, (0, 0, 5, 5)),))


def test_writer_creates_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "d.jsonl"
    with DumpWriter(path, _header()) as writer:
        assert writer.done_images == frozenset()
        writer.write(_entry("AMBER_1.jpg"))
        with pytest.raises(ValueError, match="already in"):
            writer.write(_entry("AMBER_1.jpg"))
        writer.write(_entry("AMBER_2.jpg"))
    dump = read_dump(path, KNOWN)
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_2.jpg"]
    assert dump.header.captioner == CaptionerInfo("toy", "1.0", {"k": 3})


def test_writer_resumes_and_drops_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with DumpWriter(path, _header()) as writer:
        writer.write(_entry("AMBER_1.jpg"))
    created = read_dump(path).header.created
    with path.open("a") as handle:
        handle.write('{"image": "AMBER_2.jpg", "regions": [{"capt')
    with DumpWriter(path, _header()) as writer:
        assert writer.dropped_torn_line
        assert writer.done_images == {"AMBER_1.jpg"}
        writer.write(_entry("AMBER_2.jpg", "a hat"))
    dump = read_dump(path, KNOWN)
    assert [e.image for e in dump.images] == ["AMBER_1.jpg", "AMBER_2.jpg"]
    assert dump.images[1].regions[0].caption == "a hat"
    assert dump.header.created == created


def test_writer_drops_complete_but_garbled_last_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with DumpWriter(path, _header()) as writer:
        writer.write(_entry("AMBER_1.jpg"))
    with path.open("a") as handle:
        handle.write('{"image": "AMB\n')
    with DumpWriter(path, _header()) as writer:
        assert writer.dropped_torn_line
        assert writer.done_images == {"AMBER_1.jpg"}
    assert len(path.read_text().splitlines()) == 2


def test_writer_drops_line_without_newline_even_if_json(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with DumpWriter(path, _header()) as writer:
        writer.write(_entry("AMBER_1.jpg"))
    with path.open("a") as handle:
        handle.write(json.dumps(_entry("AMBER_2.jpg").to_json()))
    with DumpWriter(path, _header()) as writer:
        assert writer.done_images == {"AMBER_1.jpg"}


def test_writer_refuses_other_captioner(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with DumpWriter(path, _header()) as writer:
        writer.write(_entry("AMBER_1.jpg"))
    before = path.read_bytes()
    with pytest.raises(InputError, match="cannot resume: the existing dump was made by"):
        DumpWriter(path, _header({"k": 4}))
    assert path.read_bytes() == before


def test_writer_refuses_invalid_existing_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", image_line())
    before = path.read_bytes()
    with pytest.raises(InputError, match=r"is not a caption dump .* left as it is"):
        DumpWriter(path, _header())
    assert path.read_bytes() == before


def test_writer_header_only_torn(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"format": "amber-eval/reg')
    with pytest.raises(InputError, match="no complete header line"):
        DumpWriter(path, _header())


def test_writer_locks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with DumpWriter(path, _header()), pytest.raises(InputError, match="another process"):
        DumpWriter(path, _header())


def test_write_dump_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("old\n")
    with pytest.raises(ValueError, match="written twice"):
        write_dump(path, _header(), [_entry("AMBER_1.jpg"), _entry("AMBER_1.jpg")])
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["d.jsonl"]


def test_writer_rejects_invalid_entries_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    with DumpWriter(path, _header()) as writer:
        before = path.read_bytes()
        with pytest.raises(ValueError, match=r"'AMBER_1.jpg': regions\[0\]: empty caption"):
            writer.write(ImageCaptions("AMBER_1.jpg", None, None, (Region(" "),)))
        with pytest.raises(ValueError, match="lies outside the 10x10 image"):
            writer.write(ImageCaptions("AMBER_1.jpg", 10, 10, (Region("a", bbox=(0, 0, 11, 5)),)))
        with pytest.raises(ValueError, match="not valid JSON"):
            writer.write(ImageCaptions("AMBER_1.jpg", None, None, (Region("a", float("nan")),)))
        assert path.read_bytes() == before
        assert writer.done_images == frozenset()
        writer.write(_entry("AMBER_1.jpg"))
    with pytest.raises(ValueError, match="empty caption"):
        write_dump(tmp_path / "e.jsonl", _header(), [ImageCaptions("x.jpg", 1, 1, (Region(""),))])
    assert not (tmp_path / "e.jsonl").exists()
