"""The ``segment`` pipeline: images -> masks -> region captions -> a caption dump, resumable.

Each image is written as one durable line as soon as it is done; a rerun with the same mask
source and captioner skips the images already in the dump. An image that cannot be read (or
whose masks cannot be read) is reported, counted and skipped; it never stops the run.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amber_eval.captions.dump import (
    CaptionerInfo,
    DumpHeader,
    DumpWriter,
    ImageCaptions,
    Region,
    RleMask,
)
from amber_eval.errors import AmberEvalError
from amber_eval.progress import rate_progress
from amber_eval.segmenter import rle
from amber_eval.segmenter.base import Captioner, MaskSource
from amber_eval.segmenter.images import ImageFile, UnreadableImageError, read_image
from amber_eval.segmenter.types import Mask, RegionCaption, SourceImage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageProblem:
    """An image that was skipped, and why."""

    image: str
    message: str
    unreadable: bool


@dataclass(frozen=True)
class SegmentSummary:
    """What one ``segment`` call did."""

    out: Path
    total: int
    already_done: int
    written: int
    regions: int
    seconds: float
    problems: tuple[ImageProblem, ...] = field(default_factory=tuple)
    dropped_torn_line: bool = False

    @property
    def unreadable(self) -> int:
        return sum(1 for p in self.problems if p.unreadable)

    @property
    def failed(self) -> int:
        return sum(1 for p in self.problems if not p.unreadable)

    @property
    def images_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """A short human summary."""
        rate = f"{self.images_per_second:.2f} images/s" if self.written else "no new images"
        result = [
            f"{self.out}: {self.written} image(s) written ({self.regions} regions, {rate}), "
            f"{self.already_done} already done, {len(self.problems)} skipped "
            f"({self.unreadable} unreadable, {self.failed} failed) of {self.total}"
        ]
        if self.dropped_torn_line:
            result.append("dropped a torn last line left by an interrupted run")
        result += [f"skipped {p.image}: {p.message}" for p in self.problems]
        return result


def dump_header(mask_source: MaskSource | None, captioner: Captioner) -> DumpHeader:
    """The header that records the captioner and (under ``settings.mask_source``) the masks."""
    info = captioner.identity.to_json()
    settings = dict(info["settings"])
    settings["mask_source"] = None if mask_source is None else mask_source.identity.to_json()
    return DumpHeader(CaptionerInfo(info["name"], info["version"], settings))


def to_image_captions(
    image: SourceImage, masks: Sequence[Mask], captions: Iterable[RegionCaption]
) -> ImageCaptions:
    """Attach each caption's mask (box and RLE) and build the dump line of one image."""
    regions = []
    for caption in captions:
        text = caption.caption.strip()
        if not text:
            continue
        bbox = caption.bbox
        mask_rle = None
        label = caption.label
        if caption.mask_index is not None:
            mask = masks[caption.mask_index]
            bbox = bbox if bbox is not None else mask.bbox
            mask_rle = RleMask.from_coco(rle.encode(mask.mask)) if mask.mask.any() else None
            label = label if label is not None else mask.label
        regions.append(
            Region(
                caption=text,
                score=None if caption.score is None else round(float(caption.score), 6),
                bbox=None if bbox is None else tuple(float(v) for v in bbox),  # type: ignore[arg-type]
                mask=mask_rle,
                label=label,
            )
        )
    return ImageCaptions(image.name, image.width, image.height, tuple(regions))


def _needs_pixels(mask_source: MaskSource | None, captioner: Captioner) -> bool:
    return captioner.needs_pixels or (mask_source is not None and mask_source.needs_pixels)


def process_image(
    image: ImageFile, mask_source: MaskSource | None, captioner: Captioner
) -> ImageCaptions:
    """Read one image, find its masks, caption them. Raises :class:`AmberEvalError` subclasses."""
    source = read_image(image, pixels=_needs_pixels(mask_source, captioner))
    return caption_image(source, mask_source, captioner)


def caption_image(
    source: SourceImage, mask_source: MaskSource | None, captioner: Captioner
) -> ImageCaptions:
    """Masks and captions of an image already read."""
    masks = mask_source.masks(source) if mask_source is not None else []
    return to_image_captions(source, masks, captioner.caption(source, masks))


Outcome = tuple[str, ImageCaptions | None, ImageProblem | None]


def _guard(name: str, work: Callable[[], ImageCaptions]) -> Outcome:
    try:
        return name, work(), None
    except UnreadableImageError as exc:
        return name, None, ImageProblem(name, str(exc), unreadable=True)
    except AmberEvalError as exc:
        return name, None, ImageProblem(name, str(exc), unreadable=False)


def _outcome(image: ImageFile, mask_source: MaskSource | None, captioner: Captioner) -> Outcome:
    return _guard(image.name, lambda: process_image(image, mask_source, captioner))


def _caption_read(
    read: Callable[[], SourceImage], mask_source: MaskSource | None, captioner: Captioner
) -> ImageCaptions:
    return caption_image(read(), mask_source, captioner)


def _read_ahead(
    images: Sequence[ImageFile], pixels: bool, depth: int = 2
) -> Iterator[tuple[ImageFile, Callable[[], SourceImage]]]:
    """Each image with a function returning it decoded; a thread decodes ``depth`` images ahead,
    so decoding overlaps the model's work on the previous image."""
    from concurrent.futures import Future, ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-image") as pool:
        pending: list[tuple[ImageFile, Future[SourceImage]]] = []
        for image in images:
            pending.append((image, pool.submit(read_image, image, pixels=pixels)))
            if len(pending) > depth:
                done, future = pending.pop(0)
                yield done, future.result
        for done, future in pending:
            yield done, future.result


_WORKER: dict[str, Any] = {}  # per-process cache of the components in worker processes


def _worker_init(mask_source: MaskSource | None, captioner: Captioner) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER["components"] = (mask_source, captioner)


def _worker_run(image: ImageFile) -> Outcome:
    mask_source, captioner = _WORKER["components"]
    return _outcome(image, mask_source, captioner)


def _outcomes(
    images: Sequence[ImageFile],
    mask_source: MaskSource | None,
    captioner: Captioner,
    workers: int,
) -> Iterator[Outcome]:
    if workers > 1 and any(hasattr(c, "model") for c in (mask_source, captioner)):
        # Forking a process that holds a torch model is unsafe; models batch on the GPU instead.
        log.warning("models run in one process: ignoring workers=%d", workers)
        workers = 1
    if workers <= 1 or len(images) <= 1:
        pixels = _needs_pixels(mask_source, captioner)
        for image, read in _read_ahead(images, pixels):
            work = functools.partial(_caption_read, read, mask_source, captioner)
            yield _guard(image.name, work)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the components (already built, possibly not picklable) are inherited, not sent.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(mask_source, captioner),
    ) as pool:
        yield from pool.map(_worker_run, images, chunksize=1)


def segment(
    images: Sequence[ImageFile],
    out: str | os.PathLike[str],
    *,
    mask_source: MaskSource | None,
    captioner: Captioner,
    workers: int = 1,
    progress: bool = False,
    on_problem: Callable[[ImageProblem], None] | None = None,
) -> SegmentSummary:
    """Caption ``images`` into the dump ``out``, skipping the images it already holds.

    ``mask_source`` may be None only for a captioner that ignores masks (``uses_masks`` False).
    """
    if mask_source is None and captioner.uses_masks:
        raise AmberEvalError(f"captioner {captioner.identity.name!r} needs a mask source")
    if not captioner.uses_masks:
        mask_source = None
    header = dump_header(mask_source, captioner)
    started = time.perf_counter()
    problems: list[ImageProblem] = []
    written = regions = 0
    with DumpWriter(out, header) as writer:
        done = writer.done_images
        todo = [image for image in images if image.name not in done]
        already = len(images) - len(todo)
        with rate_progress(len(todo), "segment", "images", enabled=progress, decimals=2) as advance:
            for _name, entry, problem in _outcomes(todo, mask_source, captioner, workers):
                if problem is not None:
                    problems.append(problem)
                    log.warning("skipped %s: %s", problem.image, problem.message)
                    if on_problem is not None:
                        on_problem(problem)
                else:
                    assert entry is not None
                    writer.write(entry)
                    written += 1
                    regions += len(entry.regions)
                advance(1)
        torn = writer.dropped_torn_line
    return SegmentSummary(
        out=Path(out),
        total=len(images),
        already_done=already,
        written=written,
        regions=regions,
        seconds=time.perf_counter() - started,
        problems=tuple(problems),
        dropped_torn_line=torn,
    )
