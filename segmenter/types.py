"""The values that cross the boundary between mask sources, captioners and the pipeline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image as PILImage

BBox = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` in absolute pixels, x1/y1 exclusive."""


@dataclass(frozen=True)
class Identity:
    """What produced a dump: a component's name, version and every setting that changes output.

    ``settings`` must be JSON-able; it is written into the dump header as given.
    """

    name: str
    version: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # Round trip through JSON so tuples become lists and the result is plain data.
        return {
            "name": self.name,
            "version": self.version,
            "settings": json.loads(json.dumps(dict(self.settings))),
        }


@dataclass(frozen=True)
class SourceImage:
    """One image handed to a mask source and a captioner.

    ``name`` is the file name (``AMBER_12.jpg``); ``pixels`` is an RGB PIL image, or None when
    the pipeline runs a captioner that needs no pixels (the oracle).
    """

    name: str
    pixels: PILImage.Image | None
    width: int | None = None
    height: int | None = None

    def rgb(self) -> PILImage.Image:
        """The RGB pixels; raises ``ValueError`` when the image was not read."""
        if self.pixels is None:
            raise ValueError(f"{self.name}: this component needs the image pixels")
        return self.pixels


@dataclass(frozen=True, eq=False)
class Mask:
    """One region: a boolean ``H x W`` array, its box and an optional confidence score."""

    mask: np.ndarray
    bbox: BBox
    score: float | None = None
    label: str | None = None

    @property
    def area(self) -> int:
        return int(self.mask.sum())


@dataclass(frozen=True)
class RegionCaption:
    """What a captioner says about one region.

    ``mask_index`` points into the masks the captioner was given (None for a caption not tied to a
    mask, such as the oracle's); the pipeline attaches that mask's box and RLE to the dump.
    """

    caption: str
    score: float | None = None
    label: str | None = None
    mask_index: int | None = None
    bbox: BBox | None = None


def bbox_of(mask: np.ndarray) -> BBox:
    """The tight ``(x0, y0, x1, y1)`` box of a boolean mask (x1/y1 exclusive); zeros if empty."""
    import numpy as np

    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if len(xs) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return (float(xs[0]), float(ys[0]), float(xs[-1] + 1), float(ys[-1] + 1))


def make_mask(mask: np.ndarray, score: float | None = None, label: str | None = None) -> Mask:
    """A :class:`Mask` with its box computed from the array (converted to ``bool``)."""
    import numpy as np

    array = np.asarray(mask, dtype=bool)
    if array.ndim != 2:
        raise ValueError(f"a mask must be a 2-D array, got shape {array.shape}")
    return Mask(mask=array, bbox=bbox_of(array), score=score, label=label)
