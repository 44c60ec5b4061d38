"""The two plug-in points: a mask source finds regions, a captioner describes them.

They are separate so that any captioner runs on any masks. A new one is a small class with an
``identity`` and one method, registered by name in :data:`MASK_SOURCES` or :data:`CAPTIONERS`
(see ``docs/segmenter.md``).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

from amber_eval.segmenter.types import Identity, Mask, RegionCaption, SourceImage


class MaskSource(abc.ABC):
    """image -> masks. ``identity`` names it and its settings in the dump header."""

    identity: Identity
    #: False when only the image name (and its size, when known) is needed, not its pixels.
    needs_pixels: ClassVar[bool] = True

    @abc.abstractmethod
    def masks(self, image: SourceImage) -> list[Mask]:
        """The regions of ``image``, as boolean ``H x W`` arrays with boxes and scores."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (models, files); called once when the pipeline ends."""


class Captioner(abc.ABC):
    """(image, masks) -> region captions. ``identity`` names it and its settings."""

    identity: Identity
    #: False for captioners that never look at the pixels (the oracle).
    needs_pixels: ClassVar[bool] = True
    #: False for captioners that ignore the masks, so the pipeline need not compute them.
    uses_masks: ClassVar[bool] = True

    @abc.abstractmethod
    def caption(self, image: SourceImage, masks: Sequence[Mask]) -> list[RegionCaption]:
        """One :class:`RegionCaption` per described region (regions may be left out)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; called once when the pipeline ends."""
