"""``grid``: a deterministic grid of rectangular boxes. Needs no weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from amber_eval import __version__
from amber_eval.segmenter.base import MaskSource
from amber_eval.segmenter.options import build_settings
from amber_eval.segmenter.types import Identity, Mask, SourceImage


@dataclass(frozen=True)
class GridSettings:
    granularity: int = 3
    """Cells per side: ``granularity x granularity`` boxes, row by row."""
    whole_image: bool = False
    """Add the whole image as a first region."""

    def __post_init__(self) -> None:
        if not 1 <= self.granularity <= 64:
            raise ValueError("granularity must be between 1 and 64")


class GridMaskSource(MaskSource):
    """Splits the image into ``granularity x granularity`` boxes; cell edges are rounded."""

    Settings = GridSettings

    def __init__(self, settings: GridSettings | None = None) -> None:
        self.settings = settings or GridSettings()
        self.identity = Identity("grid", __version__, asdict(self.settings))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> GridMaskSource:
        return cls(build_settings(GridSettings, options, component="mask source grid"))

    def masks(self, image: SourceImage) -> list[Mask]:
        import numpy as np

        width, height = image.rgb().size
        n = self.settings.granularity
        xs = [round(i * width / n) for i in range(n + 1)]
        ys = [round(j * height / n) for j in range(n + 1)]
        boxes = [(0, 0, width, height)] if self.settings.whole_image else []
        boxes += [
            (xs[i], ys[j], xs[i + 1], ys[j + 1])
            for j in range(n)
            for i in range(n)
            if xs[i + 1] > xs[i] and ys[j + 1] > ys[j]
        ]
        result = []
        for x0, y0, x1, y1 in boxes:
            array = np.zeros((height, width), dtype=bool)
            array[y0:y1, x0:x1] = True
            result.append(Mask(array, (float(x0), float(y0), float(x1), float(y1))))
        return result
