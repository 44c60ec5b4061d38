"""``segment_folder``: what ``amber-eval segment`` does, callable from Python."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from amber_eval.errors import InputError
from amber_eval.segmenter.base import Captioner, MaskSource
from amber_eval.segmenter.catalog import create_captioner, create_mask_source
from amber_eval.segmenter.images import ImageFile, list_images
from amber_eval.segmenter.pipeline import SegmentSummary, segment


def segment_folder(
    images_dir: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    *,
    masks: str | MaskSource = "grid",
    captioner: str | Captioner,
    mask_options: Mapping[str, Any] | None = None,
    captioner_options: Mapping[str, Any] | None = None,
    workers: int = 1,
    limit: int | None = None,
    progress: bool = False,
    notice: Callable[[str], None] | None = None,
) -> SegmentSummary:
    """Caption the images of ``images_dir`` (AMBER id order) into the dump ``out``.

    ``masks`` and ``captioner`` are registered names (built with the options and closed at the
    end) or instances (left open for the caller).
    Without ``images_dir``, a captioner that needs no pixels captions AMBER's image names.
    """
    say = notice or (lambda _text: None)
    built_captioner = (
        create_captioner(captioner, **dict(captioner_options or {}))
        if isinstance(captioner, str)
        else captioner
    )
    mask_source: MaskSource | None = None
    try:
        if built_captioner.uses_masks:
            mask_source = (
                create_mask_source(masks, **dict(mask_options or {}))
                if isinstance(masks, str)
                else masks
            )
        else:
            say(
                f"captioner {built_captioner.identity.name!r} ignores masks: "
                "the mask source is not run"
            )
        if images_dir is not None:
            images = list_images(images_dir)
            if not images:
                raise InputError(f"no image files (.jpg, .png, ...) in {images_dir}")
        else:
            needs_pixels = built_captioner.needs_pixels or (
                mask_source is not None and mask_source.needs_pixels
            )
            known = getattr(built_captioner, "images", None)
            if needs_pixels or known is None:
                raise InputError(
                    f"captioner {built_captioner.identity.name!r} needs images: pass --images DIR"
                )
            images = [ImageFile(name, None) for name in known]
        if limit is not None:
            images = images[:limit]
        return segment(
            images,
            Path(out),
            mask_source=mask_source,
            captioner=built_captioner,
            workers=workers,
            progress=progress,
        )
    finally:
        # Close only what was built here; instances passed in belong to the caller.
        if mask_source is not None and isinstance(masks, str):
            mask_source.close()
        if isinstance(captioner, str):
            built_captioner.close()
