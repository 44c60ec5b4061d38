"""``files``: masks made by something else, read from files. Needs no weights.

``folder`` holds one file per image, named after the image with another suffix
(``AMBER_12.jpg`` -> ``AMBER_12.png`` | ``.npz`` | ``.json``):

- ``.png``: a label map the size of the image; 0 is background and every other value is one
  region (RGB maps: every colour other than black is one region), in increasing value order.
- ``.npz``: ``masks`` (``N x H x W``, bool or 0/1), optional ``scores`` (``N``) and ``labels``
  (``N`` strings). Read with ``allow_pickle=False``.
- ``.json``: a list of regions, each a COCO RLE ``{"size": [h, w], "counts": ...}`` or an object
  ``{"segmentation": RLE or COCO polygons, "score": float, "label": str}`` (score and label
  optional).

``folder`` may instead be one ``.json`` file mapping image file names to such lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from amber_eval import __version__
from amber_eval.errors import InputError
from amber_eval.segmenter import rle
from amber_eval.segmenter.base import MaskSource
from amber_eval.segmenter.options import build_settings
from amber_eval.segmenter.types import Identity, Mask, SourceImage, make_mask

SUFFIXES = {"png": ".png", "npz": ".npz", "json": ".json"}


@dataclass(frozen=True)
class FileMasksSettings:
    folder: str
    """A folder with one mask file per image, or one JSON file mapping image names to regions."""
    format: Literal["auto", "png", "npz", "json"] = "auto"
    """Which per-image file to read; ``auto`` takes the first of .png, .npz, .json that exists."""


class FileMaskSource(MaskSource):
    """Reads each image's masks from ``folder``; file names never leave that folder."""

    Settings = FileMasksSettings
    needs_pixels = False

    def __init__(self, settings: FileMasksSettings) -> None:
        self.settings = settings
        self.root = Path(settings.folder).expanduser()
        if not self.root.exists():
            raise InputError(f"mask source files: {self.root} does not exist")
        self._table: dict[str, Any] | None = None
        if self.root.is_file():
            self._table = _read_table(self.root)
        self.identity = Identity("files", __version__, asdict(self.settings))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> FileMaskSource:
        return cls(build_settings(FileMasksSettings, options, component="mask source files"))

    def masks(self, image: SourceImage) -> list[Mask]:
        if self._table is not None:
            if image.name not in self._table:
                raise InputError(f"{self.root}: no masks for image {image.name}")
            where = f"{self.root} [{image.name}]"
            result = _regions_from_json(self._table[image.name], where)
        else:
            path = self.path_for(image.name)
            suffix = path.suffix
            if suffix == ".png":
                result = _read_png(path)
            elif suffix == ".npz":
                result = _read_npz(path)
            else:
                result = _regions_from_json(_load_json(path), str(path))
        if image.width is not None and image.height is not None:
            for number, mask in enumerate(result):
                if mask.mask.shape != (image.height, image.width):
                    raise InputError(
                        f"masks of {image.name}: region {number} is "
                        f"{mask.mask.shape[1]}x{mask.mask.shape[0]}, the image is "
                        f"{image.width}x{image.height}"
                    )
        return result

    def path_for(self, image_name: str) -> Path:
        """The mask file of ``image_name`` inside the folder (never outside it)."""
        if Path(image_name).name != image_name or image_name in ("", ".", ".."):
            raise InputError(f"image name {image_name!r} is not a plain file name")
        stem = Path(image_name).stem
        wanted = (
            list(SUFFIXES.values())
            if self.settings.format == "auto"
            else [SUFFIXES[self.settings.format]]
        )
        root = self.root.resolve()
        for suffix in wanted:
            candidate = (root / (stem + suffix)).resolve()
            if not candidate.is_relative_to(root):
                raise InputError(f"mask file for {image_name!r} would lie outside {root}")
            if candidate.is_file():
                return candidate
        raise InputError(
            f"{root}: no mask file for {image_name} (looked for {', '.join(stem + s for s in wanted)})"
        )


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read JSON masks: {exc}") from None


def _read_table(path: Path) -> dict[str, Any]:
    data = _load_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object mapping image file names to regions")
    return data


def _regions_from_json(data: Any, where: str) -> list[Mask]:
    if not isinstance(data, list):
        raise InputError(f"{where}: expected a JSON list of regions")
    result = []
    for number, entry in enumerate(data):
        score = label = None
        segmentation = entry
        if isinstance(entry, dict) and "segmentation" in entry:
            segmentation = entry["segmentation"]
            score = entry.get("score")
            label = entry.get("label")
            if score is not None and (
                isinstance(score, bool) or not isinstance(score, int | float)
            ):
                raise InputError(f"{where}: region {number}: score must be a number")
            if label is not None and not isinstance(label, str):
                raise InputError(f"{where}: region {number}: label must be a string")
        try:
            if isinstance(segmentation, list):
                raise ValueError("polygons need the image size: store them as RLE")
            array = rle.decode(segmentation)
        except ValueError as exc:
            raise InputError(f"{where}: region {number}: {exc}") from None
        result.append(make_mask(array, None if score is None else float(score), label))
    return result


def _read_png(path: Path) -> list[Mask]:
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as handle:
            handle.load()
            picture = handle.copy()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the PNG label map: {exc}") from None
    array = np.asarray(picture)
    if array.ndim == 3:
        rgb = array[..., :3].astype(np.int64)
        array = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    values = [int(v) for v in np.unique(array) if v != 0]
    return [make_mask(array == v, label=None) for v in values]


def _read_npz(path: Path) -> list[Mask]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            if "masks" not in data:
                raise InputError(f"{path}: no 'masks' array (N x H x W)")
            masks = np.asarray(data["masks"])
            scores = np.asarray(data["scores"]) if "scores" in data else None
            labels = np.asarray(data["labels"]) if "labels" in data else None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the NPZ mask stack: {exc}") from None
    if masks.ndim != 3:
        raise InputError(f"{path}: 'masks' has shape {masks.shape}, expected N x H x W")
    n = masks.shape[0]
    for name, extra in (("scores", scores), ("labels", labels)):
        if extra is not None and extra.shape != (n,):
            raise InputError(f"{path}: '{name}' has shape {extra.shape}, expected ({n},)")
    return [
        make_mask(
            masks[i] != 0,
            None if scores is None else float(scores[i]),
            None if labels is None else str(labels[i]),
        )
        for i in range(n)
    ]
