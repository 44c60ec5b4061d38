"""Reading and validating a region-caption dump: every problem with its file and line."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from amber_eval.captions.records import (
    _CAPTIONER_KEYS,
    _HEADER_KEYS,
    _IMAGE_KEYS,
    _REGION_KEYS,
    FORMAT,
    VERSION,
    CaptionDump,
    CaptionDumpError,
    CaptionerInfo,
    DumpHeader,
    DumpProblem,
    ImageCaptions,
    Region,
    RleMask,
    clean_caption,
)
from amber_eval.captions.rle_counts import counts_problem
from amber_eval.io import parse_json, read_text, split_lines


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def parse_dump_json(text: str) -> Any:
    """One line of a dump as JSON; NaN and infinities are refused (``ValueError``)."""
    return parse_json(text, parse_constant=_reject_constant)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class DumpValidator:
    """Collects problems for one file; each ``check_*`` returns the parsed value or None."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[DumpProblem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(DumpProblem(self.path, line, message))

    def unknown_keys(
        self, line: int, data: Mapping[str, Any], known: Sequence[str], where: str
    ) -> None:
        for key in data:
            if key not in known:
                self.add(line, f"{where}: unknown field {key!r} (allowed: {', '.join(known)})")

    def check_header(self, line: int, data: Any) -> DumpHeader | None:
        if not isinstance(data, dict):
            self.add(line, f"the header must be a JSON object, got {_type_name(data)}")
            return None
        if "format" not in data:
            if "image" in data:
                self.add(
                    line,
                    "missing header: the first line must be the dump header "
                    f'{{"format": "{FORMAT}", "version": {VERSION}, "captioner": {{...}}, '
                    '"created": ...}, not an image line',
                )
            else:
                self.add(line, f'header: missing field "format" (expected "{FORMAT}")')
            return None
        ok = True
        self.unknown_keys(line, data, _HEADER_KEYS, "header")
        if data["format"] != FORMAT:
            self.add(line, f'header: "format" is {data["format"]!r}, expected "{FORMAT}"')
            ok = False
        version = data.get("version")
        if not _is_int(version):
            self.add(line, f'header: "version" must be the integer {VERSION}, got {version!r}')
            ok = False
        elif version != VERSION:
            self.add(
                line,
                f"header: unsupported format version {version}; this amber-eval reads "
                f"version {VERSION}",
            )
            ok = False
        captioner = self.check_captioner(line, data.get("captioner", _MISSING))
        created = data.get("created", _MISSING)
        if created is _MISSING:
            self.add(line, 'header: missing field "created" (an ISO-8601 time)')
            ok = False
        elif not isinstance(created, str) or not _is_iso8601(created):
            self.add(line, f'header: "created" must be an ISO-8601 time string, got {created!r}')
            ok = False
        if not ok or captioner is None:
            return None
        return DumpHeader(captioner=captioner, created=created, format=FORMAT, version=VERSION)

    def check_captioner(self, line: int, data: Any) -> CaptionerInfo | None:
        if data is _MISSING:
            self.add(line, 'header: missing field "captioner" ({"name", "version", "settings"})')
            return None
        if not isinstance(data, dict):
            self.add(line, f'header: "captioner" must be an object, got {_type_name(data)}')
            return None
        ok = True
        self.unknown_keys(line, data, _CAPTIONER_KEYS, "header captioner")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            self.add(line, f'header: "captioner.name" must be a non-empty string, got {name!r}')
            ok = False
        version = data.get("version")
        if version is not None and not isinstance(version, str):
            self.add(
                line,
                f'header: "captioner.version" must be a string or null, got {_type_name(version)}',
            )
            ok = False
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            self.add(
                line,
                f'header: "captioner.settings" must be an object, got {_type_name(settings)}',
            )
            ok = False
        if not ok:
            return None
        return CaptionerInfo(name=str(name), version=version, settings=settings)

    def check_image(self, line: int, data: Any) -> ImageCaptions | None:
        if not isinstance(data, dict):
            self.add(line, f"an image line must be a JSON object, got {_type_name(data)}")
            return None
        ok = True
        self.unknown_keys(line, data, _IMAGE_KEYS, "image line")
        image = data.get("image", _MISSING)
        if image is _MISSING:
            self.add(line, 'missing field "image" (the image file name, e.g. "AMBER_1.jpg")')
            ok = False
        elif not isinstance(image, str) or not image.strip():
            self.add(line, f'"image" must be a non-empty file name, got {image!r}')
            ok = False
        elif not _plain_name(image):
            self.add(line, f'"image" must be a plain file name without folders, got {image!r}')
            ok = False
        size: dict[str, int | None] = {}
        for key in ("width", "height"):
            value = data.get(key)
            if value is not None and (not _is_int(value) or value <= 0):
                self.add(line, f'"{key}" must be a positive integer or null, got {value!r}')
                ok = False
                value = None
            size[key] = value
        raw_regions = data.get("regions", _MISSING)
        regions: list[Region] = []
        if raw_regions is _MISSING:
            self.add(line, 'missing field "regions" (a list, possibly empty)')
            ok = False
        elif not isinstance(raw_regions, list):
            self.add(line, f'"regions" must be a list, got {_type_name(raw_regions)}')
            ok = False
        else:
            for index, raw in enumerate(raw_regions):
                region = self.check_region(line, index, raw, size["width"], size["height"])
                if region is None:
                    ok = False
                else:
                    regions.append(region)
        if not ok:
            return None
        return ImageCaptions(
            image=str(image), width=size["width"], height=size["height"], regions=tuple(regions)
        )

    def check_region(
        self, line: int, index: int, data: Any, width: int | None, height: int | None
    ) -> Region | None:
        where = f"regions[{index}]"
        if not isinstance(data, dict):
            self.add(line, f"{where} must be an object, got {_type_name(data)}")
            return None
        ok = True
        self.unknown_keys(line, data, _REGION_KEYS, where)
        caption = data.get("caption", _MISSING)
        if caption is _MISSING:
            self.add(line, f'{where}: missing field "caption"')
            ok = False
        elif not isinstance(caption, str):
            self.add(line, f'{where}: "caption" must be a string, got {_type_name(caption)}')
            ok = False
        elif not caption.strip():
            self.add(line, f"{where}: empty caption")
            ok = False
        elif not clean_caption(caption):
            self.add(
                line,
                f"{where}: caption {caption!r:.40} is empty once cleaned (spaces and trailing "
                "periods removed): give a caption with words, or drop the region",
            )
            ok = False
        score = data.get("score")
        if score is not None and not _is_number(score):
            self.add(line, f'{where}: "score" must be a finite number or null, got {score!r}')
            ok = False
        label = data.get("label")
        if label is not None and not isinstance(label, str):
            self.add(line, f'{where}: "label" must be a string or null, got {_type_name(label)}')
            ok = False
        bbox = self.check_bbox(line, where, data.get("bbox"), width, height)
        if data.get("bbox") is not None and bbox is None:
            ok = False
        mask = self.check_mask(line, where, data.get("mask"), width, height)
        if data.get("mask") is not None and mask is None:
            ok = False
        if not ok:
            return None
        return Region(
            caption=str(caption),
            score=None if score is None else float(score),
            bbox=bbox,
            mask=mask,
            label=label,
        )

    def check_bbox(
        self, line: int, where: str, data: Any, width: int | None, height: int | None
    ) -> tuple[float, float, float, float] | None:
        if data is None:
            return None
        if not isinstance(data, list) or len(data) != 4 or not all(_is_number(v) for v in data):
            self.add(
                line,
                f'{where}: "bbox" must be [x0, y0, x1, y1] (four numbers, absolute pixels) or '
                f"null, got {data!r}",
            )
            return None
        x0, y0, x1, y1 = (float(v) for v in data)
        if x0 < 0 or y0 < 0 or x1 < x0 or y1 < y0:
            self.add(
                line,
                f'{where}: "bbox" {data!r} is not [x0, y0, x1, y1] with 0 <= x0 <= x1 and '
                "0 <= y0 <= y1",
            )
            return None
        if (width is not None and x1 > width) or (height is not None and y1 > height):
            self.add(
                line,
                f'{where}: "bbox" {data!r} lies outside the {width}x{height} image '
                "(bbox is in absolute pixels)",
            )
            return None
        return (x0, y0, x1, y1)

    def check_mask(
        self, line: int, where: str, data: Any, width: int | None, height: int | None
    ) -> RleMask | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            self.add(
                line,
                f'{where}: "mask" must be a COCO compressed RLE object {{"size": [h, w], '
                f'"counts": str}} or null, got {_type_name(data)}',
            )
            return None
        ok = True
        self.unknown_keys(line, data, ("size", "counts"), f"{where}.mask")
        size = data.get("size")
        if (
            not isinstance(size, list)
            or len(size) != 2
            or not all(_is_int(v) and v > 0 for v in size)
        ):
            self.add(
                line,
                f'{where}: "mask.size" must be [height, width] (two positive integers), '
                f"got {size!r}",
            )
            ok = False
        elif (height is not None and size[0] != height) or (width is not None and size[1] != width):
            self.add(
                line,
                f'{where}: "mask.size" {size!r} does not match the image (height {height}, '
                f"width {width}); size is [height, width]",
            )
            ok = False
        counts = data.get("counts")
        if not isinstance(counts, str) or not counts:
            self.add(
                line,
                f'{where}: "mask.counts" must be a non-empty compressed RLE string, '
                f"got {_type_name(counts)}",
            )
            ok = False
        if not ok:
            return None
        assert isinstance(size, list) and isinstance(counts, str)
        problem = counts_problem(counts, size[0], size[1])
        if problem is not None:
            self.add(line, f'{where}: "mask.counts" is not a valid compressed RLE: {problem}')
            return None
        return RleMask(size=(size[0], size[1]), counts=counts)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _plain_name(name: str) -> bool:
    return bool(name.strip()) and "/" not in name and "\\" not in name and name not in (".", "..")


def _is_iso8601(text: str) -> bool:
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        datetime.fromisoformat(candidate)
    except ValueError:
        return False
    return True


def _json_problem(exc: ValueError) -> str:
    cause = exc.__context__
    if isinstance(cause, json.JSONDecodeError):
        return f"not valid JSON: {cause.msg} at column {cause.colno}"
    if isinstance(cause, ValueError) and not isinstance(cause, RecursionError):
        return f"not valid JSON: {cause}"
    return str(exc)


def parse_dump_text(
    path: str, text: str, known_images: Collection[str] | None
) -> tuple[DumpHeader | None, list[ImageCaptions], list[DumpProblem]]:
    """The header, the valid image lines and every problem of a dump's ``text``."""
    validator = DumpValidator(path)
    header: DumpHeader | None = None
    images: list[ImageCaptions] = []
    first_line: dict[str, int] = {}
    known = None if known_images is None else frozenset(known_images)
    numbered = split_lines(text)
    torn = len(numbered) if numbered and not text.endswith("\n") else None  # no final newline
    lines = [(number, line) for number, line in numbered if line.strip()]
    if not lines:
        validator.add(1, "empty file: expected a header line and one line per image")
        return None, [], validator.problems
    for position, (number, line) in enumerate(lines):
        try:
            data = parse_dump_json(line)
        except ValueError as exc:
            message = _json_problem(exc)
            if number == torn:
                message += (
                    " (the last line is cut off: the writer was interrupted; resuming the "
                    "captioner repairs it)"
                )
            validator.add(number, message)
            if position == 0:
                validator.add(number, "missing header: the first line must be the dump header")
            continue
        if position == 0:
            header = validator.check_header(number, data)
            if not (isinstance(data, dict) and "format" not in data and "image" in data):
                continue
            # An image line where the header belongs: report it, then check it as an image.
        entry = validator.check_image(number, data)
        if entry is None:
            image_name = data.get("image") if isinstance(data, dict) else None
            if isinstance(image_name, str) and _plain_name(image_name):
                _note_image(validator, number, image_name, first_line, known)
            continue
        _note_image(validator, number, entry.image, first_line, known)
        images.append(entry)
    return header, images, validator.problems


def _note_image(
    validator: DumpValidator,
    line: int,
    image: str,
    first_line: dict[str, int],
    known: frozenset[str] | None,
) -> None:
    if image in first_line:
        validator.add(line, f"duplicate image {image!r} (first on line {first_line[image]})")
        return
    first_line[image] = line
    if known is not None and image not in known:
        validator.add(
            line,
            f"unknown image {image!r}: not an AMBER image (expected names like 'AMBER_1.jpg')",
        )


def _read_text(path: Path) -> str:
    return read_text(path, "caption dump")


def read_dump(
    path: str | os.PathLike[str], known_images: Collection[str] | None = None
) -> CaptionDump:
    """Read and validate a dump; raise :class:`CaptionDumpError` listing every problem.

    ``known_images`` (e.g. ``benchmark.images``) makes an image name outside it a problem.
    """
    file = Path(path)
    header, images, problems = parse_dump_text(str(file), _read_text(file), known_images)
    if problems or header is None:
        raise CaptionDumpError(file, problems)
    return CaptionDump(header=header, images=tuple(images), path=file)


def check_dump(
    path: str | os.PathLike[str], known_images: Collection[str] | None = None
) -> list[DumpProblem]:
    """Every problem of a dump (empty when it is valid)."""
    try:
        read_dump(path, known_images)
    except CaptionDumpError as exc:
        return exc.problems
    return []
