"""Typed records of the region-caption dump format, its constants and its JSON Schema."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from amber_eval.errors import InputError
from amber_eval.io import canonical_json

FORMAT = "amber-eval/region-captions"
VERSION = 1
SCHEMA_RESOURCE = "caption-dump.schema.json"
ORACLE = "oracle"
"""The built-in oracle captioner's name, and the caption source that asks for it
(``--captions oracle``)."""


_HEADER_KEYS = ("format", "version", "captioner", "created")
_CAPTIONER_KEYS = ("name", "version", "settings")
_IMAGE_KEYS = ("image", "width", "height", "regions")
_REGION_KEYS = ("caption", "score", "bbox", "mask", "label")
_MAX_PROBLEMS_IN_MESSAGE = 25


def clean_caption(caption: str) -> str:
    """One line, trimmed, without trailing periods: ``" a  dog. "`` -> ``"a dog"``."""
    return " ".join(caption.split()).rstrip(". ").strip()


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
            and canonical_json(self.captioner.to_json())
            == canonical_json(other.captioner.to_json())
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
