"""``oracle``: captions from AMBER's own annotations, so the pipeline runs without a model.

It needs only the image names (no pixels, no masks); its captions are the ones of
``amber_eval.captions.oracle`` and carry no box or mask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from amber_eval.errors import InputError
from amber_eval.segmenter.base import Captioner
from amber_eval.segmenter.options import build_settings
from amber_eval.segmenter.types import Identity, Mask, RegionCaption, SourceImage


@dataclass(frozen=True)
class OracleSettings:
    data_dir: str | None = None
    """AMBER's data folder (default: ``AMBER_EVAL_DATA``, else the cache of ``data fetch``)."""


class OracleCaptioner(Captioner):
    """Looks each image up in the oracle dump built from the annotations."""

    Settings = OracleSettings
    needs_pixels = False
    uses_masks = False

    def __init__(self, settings: OracleSettings | None = None) -> None:
        from amber_eval.captions.oracle import oracle_dump
        from amber_eval.data import load_benchmark

        self.settings = settings or OracleSettings()
        dump, _report = oracle_dump(load_benchmark(self.settings.data_dir))
        info = dump.header.captioner
        # The identity is the oracle's own (the data folder does not change the captions).
        self.identity = Identity(info.name, info.version or "", dict(info.settings))
        self._regions = {entry.image: entry.regions for entry in dump.images}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OracleCaptioner:
        return cls(build_settings(OracleSettings, options, component="captioner oracle"))

    @property
    def images(self) -> tuple[str, ...]:
        """The AMBER images the oracle knows, in id order."""
        return tuple(self._regions)

    def caption(self, image: SourceImage, masks: Sequence[Mask]) -> list[RegionCaption]:
        regions = self._regions.get(image.name)
        if regions is None:
            raise InputError(
                f"oracle: {image.name} is not an AMBER image (AMBER_1.jpg .. AMBER_1004.jpg)"
            )
        return [
            RegionCaption(caption=r.caption, score=r.score, label=r.label, bbox=r.bbox)
            for r in regions
        ]
