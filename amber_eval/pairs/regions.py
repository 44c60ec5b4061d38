"""Region features of an image: read from precomputed NPZ files, or computed from the pixels
with a registered mask source and open_clip embeddings of the region crops.
"""

from __future__ import annotations

import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from amber_eval.errors import InputError

if TYPE_CHECKING:
    from amber_eval.pairs.encoders import CropEncoder


@dataclass(frozen=True, eq=False)
class RegionFeatures:
    """``features``: regions x dim, unit-length rows; ``boxes``: regions x 4 (x0, y0, x1, y1)."""

    features: np.ndarray
    boxes: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.features.shape[0])


class RegionProvider(Protocol):
    def regions(self, image: str) -> RegionFeatures: ...


def safe_path(root: Path, name: str, *, suffix: str | None = None, what: str = "file") -> Path:
    """``root / name`` (``suffix`` replacing the name's own), refusing names that leave ``root``."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if not name or pure.is_absolute() or ".." in pure.parts or ":" in pure.parts[0]:
        raise InputError(f"{what} name {name!r} must be a relative path inside {root}")
    if suffix is not None:
        pure = pure.with_suffix(suffix)
    path = root.joinpath(*pure.parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise InputError(f"{what} name {name!r} points outside {root}")
    return path


def _normalise(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float32, copy=False)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


def read_feature_file(path: Path, *, dim: int | None = None) -> RegionFeatures:
    """One NPZ: ``features`` (regions x dim floats) and optional ``boxes`` (regions x 4)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if "features" not in data.files:
                raise InputError(f"{path}: no 'features' array (found {', '.join(data.files)})")
            features = np.asarray(data["features"])
            boxes = np.asarray(data["boxes"]) if "boxes" in data.files else None
    except FileNotFoundError:
        raise InputError(f"{path}: feature file not found") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"{path}: not a readable NPZ file of arrays ({type(exc).__name__}: {exc}); write it "
            "with numpy.savez(path, features=...)"
        ) from None
    if features.ndim != 2 or features.dtype.kind not in "fiu":
        raise InputError(f"{path}: 'features' must be a 2-D numeric array, got {features.shape}")
    if dim is not None and features.shape[1] != dim:
        raise InputError(
            f"{path}: features have dimension {features.shape[1]}, the CLIP model's is {dim}"
        )
    if not np.isfinite(features).all():
        raise InputError(f"{path}: 'features' holds NaN or infinite values")
    if boxes is not None and (
        boxes.shape != (features.shape[0], 4) or boxes.dtype.kind not in "fiu"
    ):
        raise InputError(
            f"{path}: 'boxes' must be a numeric {features.shape[0]} x 4 array, got {boxes.shape}"
        )
    return RegionFeatures(_normalise(features), None if boxes is None else boxes.astype(np.float64))


@dataclass
class FeatureDirRegions:
    """``DIR/<image name with .npz suffix>``; a few recently used files stay in memory."""

    root: Path
    dim: int | None = None
    cache_size: int = 64
    _cache: OrderedDict[str, RegionFeatures] = field(default_factory=OrderedDict, repr=False)

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise InputError(f"features folder not found: {self.root}")

    def regions(self, image: str) -> RegionFeatures:
        cached = self._cache.get(image)
        if cached is not None:
            self._cache.move_to_end(image)
            return cached
        found = read_feature_file(safe_path(self.root, image, suffix=".npz"), dim=self.dim)
        self._cache[image] = found
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return found


@dataclass
class ImageDirRegions:
    """Pixels from ``DIR/<image name>``, masks from a mask source, and the open_clip embedding
    of each region's crop (the segmenter's ``region_crop``: the box grown by 10%, squared,
    outside the mask painted grey, as the ``clip-vocab`` captioner crops)."""

    root: Path
    mask_source: Any
    encoder: CropEncoder

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise InputError(f"images folder not found: {self.root}")

    def regions(self, image: str) -> RegionFeatures:
        from amber_eval.segmenter.crops import region_crop
        from amber_eval.segmenter.images import ImageFile, read_image

        path = safe_path(self.root, image, what="image")
        if not path.is_file():
            raise InputError(f"{path}: image not found")
        source = read_image(ImageFile(image, path))
        masks = [m for m in self.mask_source.masks(source) if m.area > 0]
        if not masks:
            return RegionFeatures(np.zeros((0, self.encoder.clip.embed_dim), np.float32))
        crops = [region_crop(source.rgb(), m) for m in masks]
        boxes = np.array([m.bbox for m in masks], dtype=np.float64)
        return RegionFeatures(self.encoder.encode(crops), boxes)

    def close(self) -> None:
        self.mask_source.close()
