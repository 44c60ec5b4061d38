"""Convert another model's region captions into the caption dump format.

Three input formats (``amber-eval captions import --from jsonl|coco|descriptions``):

``jsonl``: per-image records, as JSON Lines, a JSON list, or one JSON object mapping image names
to region lists. A record is ``{"image": name, "width": int, "height": int, "regions": [...]}``
(``file_name`` or an integer ``image_id`` may stand for ``image``; ``captions`` for
``regions``), or a single region carrying its own ``image`` (records of the same image are
merged in file order). A region is a string (the caption) or an object with ``caption`` (or
``text``), and optional ``score``, ``bbox`` (``[x0, y0, x1, y1]``, or ``[x, y, w, h]`` with
``bbox_format="xywh"``), ``mask``/``segmentation`` (COCO RLE, compressed or not, or polygons) and
``label``.

``coco``: COCO-style results ``[{"image_id", "caption", "bbox": [x, y, w, h], "segmentation",
"score"}]`` (``category_name``/``label`` kept as the label), or ``{"images": [...],
"annotations": [...]}``. Image ids map to file names through the ``images`` list
(``{"id", "file_name", "width", "height"}``), a separate mapping file, or else ``n`` ->
``AMBER_n.jpg``.

``descriptions``: an AMBER response file (a JSON list or JSON Lines of ``{"id", "response"}``);
each description (ids 1..1004) becomes the captions of ``AMBER_<id>.jpg``, one region per
sentence or clause (:mod:`amber_eval.captions.descriptions`); Yes/No answers are left out.

Boxes are clipped to the image when its size is known. Every problem is reported with the input
file and line (or list position); nothing is written unless the whole dump is valid.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from amber_eval import __version__
from amber_eval.amber_images import AMBER_IMAGES, image_name
from amber_eval.captions.descriptions import Split, descriptions_as_captions
from amber_eval.captions.dump import (
    CaptionDump,
    CaptionerInfo,
    DumpHeader,
    ImageCaptions,
    Region,
    RleMask,
    read_dump,
    write_dump,
)
from amber_eval.errors import InputError
from amber_eval.io import JsonProblem, iter_jsonl, load_json, parse_json, read_text
from amber_eval.scoring.responses import read_responses
from amber_eval.segmenter import rle

_MAX_LISTED = 20


@dataclass
class _Image:
    name: str
    width: int | None = None
    height: int | None = None
    regions: list[dict[str, Any]] = field(default_factory=list)  # raw regions with locations


@dataclass(frozen=True)
class ImportSummary:
    out: Path
    images: int
    regions: int
    clipped_boxes: int
    left_out: int = 0  # descriptions: Yes/No answers of the response file, not imported


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def raise_if_any(self, path: Path) -> None:
        if not self.items:
            return
        shown = self.items[:_MAX_LISTED]
        more = len(self.items) - len(shown)
        text = "\n  ".join(shown) + (f"\n  ... and {more} more" if more else "")
        raise InputError(f"{path}: {len(self.items)} problem(s), nothing written:\n  {text}")


def _load_json(path: Path) -> Any:
    return load_json(read_text(path, "file to import"), str(path))


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    """(location, record) for JSON Lines, a JSON list or a JSON object ``{image: regions}``."""
    text = read_text(path, "file to import")
    stripped = text.lstrip()
    if stripped.startswith("["):
        data = load_json(text, str(path))
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON list of records")
        for index, record in enumerate(data):
            yield f"{path}[{index}]", record
        return
    if stripped.startswith("{"):
        # One JSON object for the whole file, or JSON Lines whose lines are objects.
        try:
            whole = parse_json(text)
        except JsonProblem:
            whole = None
        if isinstance(whole, dict) and not _looks_like_record(whole):
            for name, regions in whole.items():
                yield f"{path}[{name!r}]", {"image": name, "regions": regions}
            return
    for number, record in iter_jsonl(path, text=text, objects=None):
        yield f"{path}:{number}", record


def _looks_like_record(data: dict[str, Any]) -> bool:
    return any(key in data for key in ("image", "file_name", "image_id", "regions", "caption"))


def _image_name(record: dict[str, Any], names: dict[str, str] | None) -> str | None:
    for key in ("image", "file_name"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    image_id = record.get("image_id")
    if image_id is None or isinstance(image_id, bool) or not isinstance(image_id, int | str):
        return None
    if names is not None:
        return names.get(str(image_id))
    if isinstance(image_id, int) or image_id.isdigit():
        return image_name(int(image_id))
    return image_id


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _add_image(images: dict[str, _Image], name: str, width: Any, height: Any) -> _Image:
    entry = images.setdefault(name, _Image(name))
    entry.width = entry.width or _positive_int(width)
    entry.height = entry.height or _positive_int(height)
    return entry


def _read_jsonl(path: Path, problems: _Problems, bbox_format: str) -> dict[str, _Image]:
    images: dict[str, _Image] = {}
    for where, record in _records(path):
        if not isinstance(record, dict):
            problems.add(where, "expected a JSON object per image or per region")
            continue
        name = _image_name(record, None)
        if name is None:
            problems.add(where, 'no image name ("image", "file_name" or an integer "image_id")')
            continue
        entry = _add_image(images, name, record.get("width"), record.get("height"))
        regions = record.get("regions", record.get("captions"))
        if regions is None and ("caption" in record or "text" in record):
            regions = [record]
        if not isinstance(regions, list):
            problems.add(where, '"regions" must be a list of captions or region objects')
            continue
        for index, region in enumerate(regions):
            if isinstance(region, str):
                region = {"caption": region}
            if not isinstance(region, dict):
                problems.add(f"{where} region {index}", "a region is a string or an object")
                continue
            entry.regions.append(
                {
                    **region,
                    "_where": f"{where} region {index}",
                    "_bbox_format": region.get("bbox_format", bbox_format),
                }
            )
    return images


def _read_coco(path: Path, problems: _Problems, mapping: Path | None) -> dict[str, _Image]:
    data = _load_json(path)
    sizes: dict[str, tuple[Any, Any]] = {}
    names: dict[str, str] | None = None
    if isinstance(data, dict):
        listed = data.get("images", [])
        annotations = data.get("annotations")
        if not isinstance(annotations, list) or not isinstance(listed, list):
            raise InputError(
                f'{path}: expected {{"images": [...], "annotations": [...]}} or a list of results'
            )
        names = {}
        for index, image in enumerate(listed):
            if (
                not isinstance(image, dict)
                or "id" not in image
                or not isinstance(image.get("file_name"), str)
            ):
                problems.add(f"{path} images[{index}]", 'needs "id" and "file_name"')
                continue
            names[str(image["id"])] = Path(image["file_name"]).name
            sizes[names[str(image["id"])]] = (image.get("width"), image.get("height"))
        data = annotations
    elif not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of COCO results")
    if mapping is not None:
        table = _load_json(mapping)
        if isinstance(table, dict) and isinstance(table.get("images"), list):
            table = {
                str(i["id"]): i["file_name"]
                for i in table["images"]
                if isinstance(i, dict) and "id" in i and isinstance(i.get("file_name"), str)
            }
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise InputError(
                f'{mapping}: expected {{"<image_id>": "<file name>"}} or a COCO "images" list'
            )
        names = {str(k): Path(v).name for k, v in table.items()}
    images: dict[str, _Image] = {}
    for index, result in enumerate(data):
        where = f"{path}[{index}]"
        if not isinstance(result, dict):
            problems.add(where, "expected an object")
            continue
        name = _image_name(result, names)
        if name is None:
            problems.add(
                where, f"image_id {result.get('image_id')!r} has no file name in the mapping"
            )
            continue
        width, height = sizes.get(name, (None, None))
        entry = _add_image(images, name, width, height)
        region = {
            k: v for k, v in result.items() if k not in ("image_id", "id", "image", "file_name")
        }
        region.setdefault("label", result.get("category_name"))
        entry.regions.append({**region, "_where": where, "_bbox_format": "xywh"})
    return images


def _region(
    raw: dict[str, Any], entry: _Image, problems: _Problems, clipped: list[int]
) -> Region | None:
    where = raw["_where"]
    caption = raw.get("caption", raw.get("text"))
    if not isinstance(caption, str) or not caption.strip():
        problems.add(where, 'needs a non-empty "caption" string')
        return None
    score = raw.get("score")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
    ):
        problems.add(where, '"score" must be a number (finite)')
        return None
    label = raw.get("label")
    if label is not None and not isinstance(label, str):
        label = str(label)
    mask: RleMask | None = None
    segmentation = raw.get("mask", raw.get("segmentation"))
    if segmentation is not None:
        try:
            if isinstance(segmentation, list):
                if entry.width is None or entry.height is None:
                    raise ValueError("polygon masks need the image width and height")
                array = rle.polygon_to_mask(segmentation, entry.height, entry.width)
            else:
                array = rle.decode(segmentation)
        except ValueError as exc:
            problems.add(where, f"mask: {exc}")
            return None
        h, w = array.shape
        entry.height, entry.width = entry.height or h, entry.width or w
        if (h, w) != (entry.height, entry.width):
            problems.add(where, f"mask is {w}x{h}, the image is {entry.width}x{entry.height}")
            return None
        mask = RleMask.from_coco(rle.encode(array)) if array.any() else None
    bbox = raw.get("bbox")
    box: tuple[float, float, float, float] | None = None
    if bbox is not None:
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
            or not all(math.isfinite(v) for v in bbox)
        ):
            problems.add(where, f'"bbox" must be four finite numbers, got {bbox!r:.80}')
            return None
        x0, y0, a, b = (float(v) for v in bbox)
        x1, y1 = (x0 + a, y0 + b) if raw["_bbox_format"] == "xywh" else (a, b)
        if x1 < x0 or y1 < y0:
            problems.add(
                where, f'"bbox" {bbox} has negative width or height ({raw["_bbox_format"]})'
            )
            return None
        limit_x = float(entry.width) if entry.width else float("inf")
        limit_y = float(entry.height) if entry.height else float("inf")
        new = (max(0.0, x0), max(0.0, y0), min(x1, limit_x), min(y1, limit_y))
        new = (min(new[0], new[2]), min(new[1], new[3]), new[2], new[3])
        if new != (x0, y0, x1, y1):
            clipped[0] += 1
        box = new
    return Region(
        caption=caption.strip(),
        score=None if score is None else float(score),
        bbox=box,
        mask=mask,
        label=label,
    )


def import_captions(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    from_format: Literal["jsonl", "coco", "descriptions"],
    name: str = "imported",
    version: str | None = None,
    bbox_format: Literal["xyxy", "xywh"] = "xyxy",
    image_names: str | os.PathLike[str] | None = None,
    amber_images_only: bool = True,
    split: Split = "sentence",
) -> ImportSummary:
    """Convert ``source`` into the dump ``out`` (validated with ``read_dump`` before it appears).

    ``split`` applies to ``from_format="descriptions"`` only (see :func:`import_descriptions`).
    """
    if from_format == "descriptions":
        return import_descriptions(source, out, split=split, name=name, version=version)
    path = Path(source)
    problems = _Problems()
    if from_format == "jsonl":
        images = _read_jsonl(path, problems, bbox_format)
    elif from_format == "coco":
        images = _read_coco(path, problems, None if image_names is None else Path(image_names))
    else:
        raise InputError(f"unknown import format {from_format!r}: use jsonl, coco or descriptions")
    entries = []
    clipped = [0]
    for entry in images.values():
        if Path(entry.name).name != entry.name or entry.name in (".", ".."):
            problems.add(str(path), f"image {entry.name!r} is not a plain file name")
            continue
        if amber_images_only and entry.name not in AMBER_IMAGES:
            problems.add(
                str(path),
                f"image {entry.name!r} is not an AMBER image name (AMBER_1.jpg .. AMBER_1004.jpg); "
                "map ids to names or pass --any-images",
            )
            continue
        regions = [
            r for r in (_region(raw, entry, problems, clipped) for raw in entry.regions) if r
        ]
        entries.append(ImageCaptions(entry.name, entry.width, entry.height, tuple(regions)))
    if not images:
        problems.add(str(path), "no images found")
    problems.raise_if_any(path)
    target, dump = _write_validated(
        path, out, entries, CaptionerInfo(name, version, {"imported_from": from_format})
    )
    return ImportSummary(target, len(dump.images), dump.region_count, clipped[0])


def import_descriptions(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    split: Split = "sentence",
    name: str = "descriptions",
    version: str | None = None,
) -> ImportSummary:
    """Turn an AMBER response file into the caption dump ``out``: one region per sentence.

    ``source`` is a JSON list or JSON Lines of ``{"id", "response"}`` (what ``amber-eval score``
    reads); each description (ids 1..1004) becomes the regions of ``AMBER_<id>.jpg``, cut by
    ``split`` (``"sentence"`` or ``"clause"``) as
    :func:`amber_eval.captions.descriptions.description_captions` does; Yes/No answers (ids
    above 1004) are counted in ``ImportSummary.left_out``. The header's settings record
    ``imported_from: "descriptions"``, the split, the file name and its sha256.
    """
    path = Path(source)
    made = descriptions_as_captions(read_responses(path), split=split, source=str(path))
    info = CaptionerInfo(name, version, {"imported_from": "descriptions", "split": split})
    target, dump = _write_validated(path, out, list(made.images), info)
    return ImportSummary(target, len(dump.images), dump.region_count, 0, made.left_out)


def _write_validated(
    path: Path, out: str | os.PathLike[str], entries: list[ImageCaptions], info: CaptionerInfo
) -> tuple[Path, CaptionDump]:
    """Write the dump of ``entries`` atomically, read back with ``read_dump`` before it appears;
    the header's settings gain the source file's name and sha256 and the package version."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    settings = {
        **info.settings,
        "source_file": path.name,
        "source_sha256": digest,
        "amber_eval": __version__,
    }
    header = DumpHeader(CaptionerInfo(info.name, info.version, settings))
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write_dump(tmp, header, entries)
        dump = read_dump(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target, dump
