"""Cutting a region out of an image for a captioner: its box, optionally masked, made square."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from amber_eval.segmenter.types import Mask

Background = Literal["keep", "grey"]
GREY = (124, 116, 104)  # about the ImageNet mean, so the background carries little signal


def region_crop(
    image: PILImage.Image,
    mask: Mask,
    *,
    background: Background = "grey",
    margin: float = 0.1,
    square: bool = True,
) -> PILImage.Image:
    """The region's box (grown by ``margin`` of its size, squared when ``square``).

    ``background="grey"`` paints the pixels outside the mask grey; ``"keep"`` leaves the box as
    it is. Parts of a squared box that fall outside the image are grey.
    """
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image.convert("RGB"))
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = mask.bbox
    if x1 <= x0 or y1 <= y0:
        x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * margin), h * (1 + 2 * margin)
    if square:
        w = h = max(w, h)
    left, top = round(cx - w / 2), round(cy - h / 2)
    right, bottom = max(left + 1, round(cx + w / 2)), max(top + 1, round(cy + h / 2))
    canvas = np.empty((bottom - top, right - left, 3), dtype=np.uint8)
    canvas[:] = GREY
    sx0, sy0 = max(0, left), max(0, top)
    sx1, sy1 = min(width, right), min(height, bottom)
    if sx1 > sx0 and sy1 > sy0:
        patch = pixels[sy0:sy1, sx0:sx1].copy()
        if background == "grey":
            inside = mask.mask[sy0:sy1, sx0:sx1]
            patch[~inside] = GREY
        canvas[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = patch
    return Image.fromarray(canvas)
