"""Finding and reading the images of a folder, in AMBER id order where names match."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from amber_eval.amber_images import image_sort_key
from amber_eval.errors import InputError
from amber_eval.segmenter.types import SourceImage

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


class UnreadableImageError(InputError):
    """One image cannot be decoded; the pipeline reports it and goes on."""


@dataclass(frozen=True)
class ImageFile:
    """An image file in the input folder: its name (the dump's ``image``) and path."""

    name: str
    path: Path | None


def list_images(folder: str | os.PathLike[str]) -> list[ImageFile]:
    """The image files directly inside ``folder`` (by suffix), in :func:`~amber_eval.amber_images.image_sort_key` order.

    Symbolic links that point outside the folder are left out.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InputError(f"image folder not found: {root}")
    resolved_root = root.resolve()
    found = []
    for path in root.iterdir():
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        if not path.resolve().is_relative_to(resolved_root):
            continue
        found.append(ImageFile(path.name, path))
    found.sort(key=lambda f: image_sort_key(f.name))
    return found


def read_image(image: ImageFile, *, pixels: bool = True) -> SourceImage:
    """Decode ``image`` as RGB (or only read its size when ``pixels`` is False).

    Raises :class:`UnreadableImageError` naming the file when it cannot be decoded.
    """
    if image.path is None:
        return SourceImage(image.name, None)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image.path) as handle:
            width, height = handle.size
            if not pixels:
                return SourceImage(image.name, None, width, height)
            handle.load()
            rgb = handle.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImageError(f"{image.path}: cannot read the image: {exc}") from None
    return SourceImage(image.name, rgb, width, height)
