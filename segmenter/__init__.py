"""Region captioning: mask sources, captioners and the ``segment`` pipeline.

Installed as ``amber_eval.segmenter``. A mask source turns an image into masks; a captioner
turns (image, masks) into region captions; :func:`segment_folder` writes them as a caption dump.
Importing this package imports no heavy dependency.
"""

from amber_eval.segmenter.base import Captioner, MaskSource
from amber_eval.segmenter.catalog import (
    CAPTIONERS,
    MASK_SOURCES,
    create_captioner,
    create_mask_source,
)
from amber_eval.segmenter.pipeline import SegmentSummary, segment
from amber_eval.segmenter.run import segment_folder
from amber_eval.segmenter.types import Identity, Mask, RegionCaption, SourceImage, make_mask

__all__ = [
    "CAPTIONERS",
    "MASK_SOURCES",
    "Captioner",
    "Identity",
    "Mask",
    "MaskSource",
    "RegionCaption",
    "SegmentSummary",
    "SourceImage",
    "create_captioner",
    "create_mask_source",
    "make_mask",
    "segment",
    "segment_folder",
]
