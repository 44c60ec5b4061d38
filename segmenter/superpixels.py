"""``superpixels``: scikit-image SLIC or Felzenszwalb segments as regions. Needs no weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from amber_eval import __version__
from amber_eval.segmenter.base import MaskSource
from amber_eval.segmenter.options import build_settings
from amber_eval.segmenter.types import Identity, Mask, SourceImage, make_mask


@dataclass(frozen=True)
class SuperpixelSettings:
    method: Literal["slic", "felzenszwalb"] = "slic"
    """Segmentation algorithm."""
    granularity: int = 16
    """About how many segments: SLIC's ``n_segments``; for Felzenszwalb it sets
    ``scale = sqrt(H * W / granularity)`` and ``min_size = H * W / (4 * granularity)``."""
    compactness: float = 10.0
    """SLIC colour/space trade-off (higher: squarer segments)."""
    sigma: float = 0.8
    """Gaussian smoothing before segmentation."""
    min_area: float = 0.0
    """Drop segments smaller than this fraction of the image (0: keep all)."""

    def __post_init__(self) -> None:
        if self.granularity < 1:
            raise ValueError("granularity must be at least 1")
        if not 0.0 <= self.min_area < 1.0:
            raise ValueError("min_area is a fraction of the image in [0, 1)")


class SuperpixelMaskSource(MaskSource):
    """One mask per segment, largest first; the score is the segment's share of the image."""

    Settings = SuperpixelSettings

    def __init__(self, settings: SuperpixelSettings | None = None) -> None:
        self.settings = settings or SuperpixelSettings()
        from importlib.metadata import version

        self.identity = Identity(
            "superpixels",
            __version__,
            {**asdict(self.settings), "scikit_image": version("scikit-image")},
        )

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SuperpixelMaskSource:
        return cls(build_settings(SuperpixelSettings, options, component="mask source superpixels"))

    def labels(self, image: SourceImage) -> Any:
        """The label map (``H x W`` integers) of ``image``."""
        import numpy as np
        from skimage import segmentation

        pixels = np.asarray(image.rgb().convert("RGB"))
        h, w = pixels.shape[:2]
        s = self.settings
        if s.method == "slic":
            return segmentation.slic(
                pixels,
                n_segments=s.granularity,
                compactness=s.compactness,
                sigma=s.sigma,
                start_label=1,
                channel_axis=-1,
            )
        scale = max(1.0, (h * w / s.granularity) ** 0.5)
        min_size = max(1, int(h * w / (4 * s.granularity)))
        return segmentation.felzenszwalb(pixels, scale=scale, sigma=s.sigma, min_size=min_size)

    def masks(self, image: SourceImage) -> list[Mask]:
        import numpy as np

        labels = self.labels(image)
        total = labels.size
        values, counts = np.unique(labels, return_counts=True)
        order = sorted(
            zip(counts.tolist(), values.tolist(), strict=True), key=lambda p: (-p[0], p[1])
        )
        result = []
        for count, value in order:
            share = count / total
            if share < self.settings.min_area:
                continue
            result.append(make_mask(labels == value, score=round(share, 6)))
        return result
