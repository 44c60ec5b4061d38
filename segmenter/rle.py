"""COCO run-length encoding of boolean masks (pycocotools), as the caption dump stores them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def encode(mask: np.ndarray) -> dict[str, Any]:
    """A boolean ``H x W`` mask -> ``{"size": [h, w], "counts": str}`` (compressed RLE)."""
    import numpy as np
    from pycocotools import mask as mask_utils

    array = np.asfortranarray(np.asarray(mask, dtype=np.uint8))
    rle = mask_utils.encode(array)
    return {
        "size": [int(rle["size"][0]), int(rle["size"][1])],
        "counts": rle["counts"].decode("ascii"),
    }


def decode(rle: Mapping[str, Any]) -> np.ndarray:
    """A COCO RLE (compressed ``counts`` string or uncompressed list of ints) -> boolean mask.

    Raises ``ValueError`` with the reason when ``rle`` is not a valid RLE.
    """
    import numpy as np
    from pycocotools import mask as mask_utils

    size = rle.get("size") if isinstance(rle, Mapping) else None
    counts = rle.get("counts") if isinstance(rle, Mapping) else None
    if (
        not isinstance(size, list | tuple)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in size)
    ):
        raise ValueError('an RLE needs "size": [height, width] with two non-negative integers')
    h, w = int(size[0]), int(size[1])
    if isinstance(counts, str):
        coded = {"size": [h, w], "counts": counts.encode("ascii")}
    elif isinstance(counts, list) and all(isinstance(v, int) and v >= 0 for v in counts):
        if sum(counts) != h * w:
            raise ValueError(f"uncompressed RLE counts sum to {sum(counts)}, expected {h * w}")
        coded = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
    else:
        raise ValueError('an RLE needs "counts": a string (compressed) or a list of integers')
    try:
        array = mask_utils.decode(coded)
    except Exception as exc:  # pycocotools raises bare exceptions on corrupt counts
        raise ValueError(f"corrupt RLE counts: {exc}") from None
    if array.shape != (h, w):
        raise ValueError(f"RLE decodes to shape {array.shape}, expected {(h, w)}")
    return np.asarray(array, dtype=bool)


def polygon_to_mask(polygons: list[list[float]], height: int, width: int) -> np.ndarray:
    """COCO polygon segmentation (list of flat ``[x0, y0, x1, y1, ...]``) -> boolean mask."""
    import numpy as np
    from pycocotools import mask as mask_utils

    if not polygons or not all(
        isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0 for p in polygons
    ):
        raise ValueError("a polygon segmentation is a list of [x0, y0, x1, y1, ...] with 3+ points")
    rles = mask_utils.frPyObjects(polygons, height, width)
    return np.asarray(mask_utils.decode(mask_utils.merge(rles)), dtype=bool)
