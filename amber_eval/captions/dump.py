"""The region-caption dump: a JSONL file of region captions per image.

Line 1 is a header::

    {"format": "amber-eval/region-captions", "version": 1,
     "captioner": {"name": ..., "version": ..., "settings": {...}}, "created": "<ISO-8601>"}

then one line per image::

    {"image": "AMBER_12.jpg", "width": 640, "height": 480,
     "regions": [{"caption": "a dog", "score": 0.9, "bbox": [x0, y0, x1, y1],
                  "mask": {"size": [h, w], "counts": "..."}, "label": "dog"}]}

:func:`read_dump` validates a whole file and reports every problem with its line;
:class:`DumpWriter` appends image lines durably and resumes an interrupted dump;
:func:`write_dump` writes a complete dump atomically. The JSON Schema of both kinds of line is
``amber_eval/resources/caption-dump.schema.json`` (:func:`schema`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from amber_eval.errors import InputError
from amber_eval.io import atomic_open

FORMAT = "amber-eval/region-captions"
VERSION = 1
SCHEMA_RESOURCE = "caption-dump.schema.json"

# AMBER's image file names, as in its query files (AMBER_1.jpg .. AMBER_1004.jpg).
AMBER_IMAGES: tuple[str, ...] = tuple(f"AMBER_{i}.jpg" for i in range(1, 1005))

_HEADER_KEYS = ("format", "version", "captioner", "created")
_CAPTIONER_KEYS = ("name", "version", "settings")
_IMAGE_KEYS = ("image", "width", "height", "regions")
_REGION_KEYS = ("caption", "score", "bbox", "mask", "label")
_MAX_PROBLEMS_IN_MESSAGE = 25


def now_iso() -> str:
    """The current UTC time as ISO-8601 with seconds (``2026-01-31T12:00:00+00:00``)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class RleMask:
    """A COCO compressed RLE mask: ``size`` is ``(height, width)``, ``counts`` the RLE string."""

    size: tuple[int, int]
    counts: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))

    @classmethod
    def from_coco(cls, rle: Mapping[str, Any]) -> RleMask:
        """From ``pycocotools.mask.encode`` output (``counts`` may be bytes)."""
        counts = rle["counts"]
        if isinstance(counts, bytes):
            counts = counts.decode("ascii")
        size = rle["size"]
        return cls(size=(int(size[0]), int(size[1])), counts=str(counts))

    def to_coco(self) -> dict[str, Any]:
        """The dict ``pycocotools.mask.decode`` takes (``counts`` as bytes)."""
        return {"size": list(self.size), "counts": self.counts.encode("ascii")}

    def to_json(self) -> dict[str, Any]:
        return {"size": list(self.size), "counts": self.counts}


@dataclass(frozen=True)
class Region:
    """One region of an image and its caption. Everything but ``caption`` may be None."""

    caption: str
    score: float | None = None
    bbox: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 in absolute pixels
    mask: RleMask | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.bbox is not None:
            x0, y0, x1, y1 = self.bbox
            object.__setattr__(self, "bbox", (x0, y0, x1, y1))

    def to_json(self) -> dict[str, Any]:
        return {
            "caption": self.caption,
            "score": self.score,
            "bbox": None if self.bbox is None else list(self.bbox),
            "mask": None if self.mask is None else self.mask.to_json(),
            "label": self.label,
        }


@dataclass(frozen=True)
class ImageCaptions:
    """The regions of one image, in the captioner's order."""

    image: str
    width: int | None
    height: int | None
    regions: tuple[Region, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "regions", tuple(self.regions))

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "width": self.width,
            "height": self.height,
            "regions": [region.to_json() for region in self.regions],
        }


@dataclass(frozen=True)
class CaptionerInfo:
    """Who made the captions: a name, a version, and every setting that changes the output."""

    name: str
    version: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "settings": dict(self.settings)}


@dataclass(frozen=True)
class DumpHeader:
    """The first line of a dump."""

    captioner: CaptionerInfo
    created: str = field(default_factory=now_iso)
    format: str = FORMAT
    version: int = VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "version": self.version,
            "captioner": self.captioner.to_json(),
            "created": self.created,
        }

    def same_source(self, other: DumpHeader) -> bool:
        """True when both headers describe the same format and captioner (``created`` aside)."""
        return (
            self.format == other.format
            and self.version == other.version
            and _canonical(self.captioner.to_json()) == _canonical(other.captioner.to_json())
        )


@dataclass(frozen=True)
class CaptionDump:
    """A whole dump: the header and the image lines in file order."""

    header: DumpHeader
    images: tuple[ImageCaptions, ...]
    path: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", tuple(self.images))

    def __len__(self) -> int:
        return len(self.images)

    def by_image(self) -> dict[str, ImageCaptions]:
        return {entry.image: entry for entry in self.images}

    @property
    def region_count(self) -> int:
        return sum(len(entry.regions) for entry in self.images)


@dataclass(frozen=True)
class DumpProblem:
    """One problem found in a dump file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class CaptionDumpError(InputError):
    """A caption dump is malformed. ``problems`` lists every problem found."""

    def __init__(self, path: str | os.PathLike[str], problems: Sequence[DumpProblem]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        count = len(self.problems)
        lines = [str(p) for p in self.problems[:_MAX_PROBLEMS_IN_MESSAGE]]
        if count > _MAX_PROBLEMS_IN_MESSAGE:
            lines.append(
                f"... and {count - _MAX_PROBLEMS_IN_MESSAGE} more "
                f"(`amber-eval captions check {self.path}` lists them all)"
            )
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"{self.path}: {count} {noun} in the caption dump:\n  " + "\n  ".join(lines)
        )


def schema() -> dict[str, Any]:
    """The JSON Schema of dump lines (``$defs`` ``header`` and ``image``)."""
    from importlib.resources import files

    text = files("amber_eval").joinpath("resources", SCHEMA_RESOURCE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


# ---------------------------------------------------------------------------------------------
# Reading and validation


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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


class _Validator:
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
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at column {exc.colno}"
    return f"not valid JSON: {exc}"


def _split_lines(text: str) -> list[tuple[int, str, bool]]:
    """(line number, text, ended by a newline) for each line of ``text``."""
    raw = text.split("\n")
    result = []
    for index, line in enumerate(raw):
        last = index == len(raw) - 1
        if last and line == "":
            break
        result.append((index + 1, line.rstrip("\r"), not last))
    return result


def _parse(
    path: str, text: str, known_images: Collection[str] | None
) -> tuple[DumpHeader | None, list[ImageCaptions], list[DumpProblem]]:
    validator = _Validator(path)
    header: DumpHeader | None = None
    images: list[ImageCaptions] = []
    first_line: dict[str, int] = {}
    known = None if known_images is None else frozenset(known_images)
    lines = [entry for entry in _split_lines(text) if entry[1].strip()]
    if not lines:
        validator.add(1, "empty file: expected a header line and one line per image")
        return None, [], validator.problems
    for position, (number, line, ended) in enumerate(lines):
        try:
            data = _loads(line)
        except ValueError as exc:
            message = _json_problem(exc)
            if not ended and position == len(lines) - 1:
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
    validator: _Validator,
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
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"caption dump not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"cannot read caption dump {path}: {exc.strerror or exc}") from None


def read_dump(
    path: str | os.PathLike[str], known_images: Collection[str] | None = None
) -> CaptionDump:
    """Read and validate a dump; raise :class:`CaptionDumpError` listing every problem.

    ``known_images`` (e.g. ``benchmark.images``) makes an image name outside it a problem.
    """
    file = Path(path)
    header, images, problems = _parse(str(file), _read_text(file), known_images)
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


# ---------------------------------------------------------------------------------------------
# Writing


def dump_line(data: Mapping[str, Any]) -> str:
    """One JSONL line (without the newline): compact, UTF-8, no NaN."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def entry_problems(entry: ImageCaptions) -> list[str]:
    """What :func:`read_dump` would report about ``entry`` as an image line (empty: valid)."""
    validator = _Validator("<entry>")
    try:
        data = _loads(dump_line(entry.to_json()))
    except ValueError as exc:  # NaN or infinity
        return [f"not valid JSON: {exc}"]
    validator.check_image(0, data)
    return [problem.message for problem in validator.problems]


def _check_entry(entry: ImageCaptions) -> None:
    problems = entry_problems(entry)
    if problems:
        raise ValueError(f"invalid captions for image {entry.image!r}: {'; '.join(problems)}")


def write_dump(
    path: str | os.PathLike[str], header: DumpHeader, images: Iterable[ImageCaptions]
) -> Path:
    """Write a complete dump atomically (a temporary file, then rename)."""
    target = Path(path)
    seen: set[str] = set()
    with atomic_open(target, "w") as handle:
        handle.write(dump_line(header.to_json()) + "\n")
        for entry in images:
            if entry.image in seen:
                raise ValueError(f"image {entry.image!r} is written twice")
            seen.add(entry.image)
            _check_entry(entry)
            handle.write(dump_line(entry.to_json()) + "\n")
    return target


class DumpWriter:
    """Append image lines to a dump durably; resume a dump that was interrupted.

    A new file gets the header. An existing file must have the same format and captioner
    (name, version, settings), else :class:`InputError`; a torn last line (no final newline, or
    not JSON) is dropped; :attr:`done_images` holds the images already written. Each
    :meth:`write` appends one line, flushes and fsyncs, so a crash loses at most the line being
    written. Use as a context manager::

        with DumpWriter(path, header) as writer:
            for image in images:
                if image not in writer.done_images:
                    writer.write(caption(image))
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: DumpHeader,
        *,
        known_images: Collection[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.header = header
        self.known_images = known_images
        self.dropped_torn_line = False
        self._done: set[str] = set()
        self._fd: int | None = None
        self._open()

    @property
    def done_images(self) -> frozenset[str]:
        return frozenset(self._done)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd, self.path)
            raw = _read_all(fd)
            if not raw.strip():
                os.ftruncate(fd, 0)
                _write_all(fd, (dump_line(self.header.to_json()) + "\n").encode("utf-8"))
                os.fsync(fd)
            else:
                keep = self._repair(raw)
                if keep != len(raw):
                    os.ftruncate(fd, keep)
                    os.fsync(fd)
                    self.dropped_torn_line = True
                self._check_existing(raw[:keep])
            os.lseek(fd, 0, os.SEEK_END)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    @staticmethod
    def _repair(raw: bytes) -> int:
        """The byte length to keep: everything up to the end of the last complete line."""
        if raw.endswith(b"\n"):
            body = raw[:-1]
            start = body.rfind(b"\n") + 1
            try:
                _loads(body[start:].decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                return start  # the last line is complete but garbled: drop it
            return len(raw)
        return raw.rfind(b"\n") + 1  # no final newline: the last line is torn

    def _check_existing(self, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.path}: not UTF-8 text (byte {exc.start})") from None
        if not text.strip():
            raise InputError(
                f"{self.path}: the existing file has no complete header line; delete it to start "
                "a new dump"
            )
        header, images, problems = _parse(str(self.path), text, self.known_images)
        if problems or header is None:
            raise CaptionDumpError(self.path, problems)
        if not header.same_source(self.header):
            raise InputError(
                f"{self.path}: cannot resume: the existing dump was made by "
                f"{_canonical(header.captioner.to_json())}, not by "
                f"{_canonical(self.header.captioner.to_json())}. Write to another file, or delete "
                "this one to start again."
            )
        self.header = header
        self._done = {entry.image for entry in images}

    def write(self, entry: ImageCaptions) -> None:
        """Append one image line, then flush and fsync it."""
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        if entry.image in self._done:
            raise ValueError(f"image {entry.image!r} is already in {self.path}")
        _check_entry(entry)
        _write_all(self._fd, (dump_line(entry.to_json()) + "\n").encode("utf-8"))
        os.fsync(self._fd)
        self._done.add(entry.image)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DumpWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _lock(fd: int, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InputError(f"{path} is being written by another process") from None


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def iter_dump_lines(dump: CaptionDump) -> Iterator[str]:
    """The JSONL lines of ``dump`` (header first), without newlines."""
    yield dump_line(dump.header.to_json())
    for entry in dump.images:
        yield dump_line(entry.to_json())
