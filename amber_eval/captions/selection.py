"""Which region captions go into a prompt, in which order, with recorded settings.

The defaults keep every region in dump order and drop exact duplicate captions. Per image:

1. captions are cleaned: whitespace runs become one space, surrounding whitespace and trailing
   periods are removed (a caption that is then empty is dropped);
2. with ``min_score``, regions whose score is below it, or that have no score, are dropped;
3. with ``order="score"``, regions are sorted by score, highest first (a stable sort; regions
   without a score go last); ``order="reversed"`` reverses the dump order; ``order="shuffled"``
   shuffles each image's regions by ``seed`` (the same seed and image always give the same
   order);
4. with ``dedupe``, a cleaned caption equal to an earlier one ignoring case is dropped;
5. with ``top_k``, the first ``top_k`` remaining captions are kept.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from amber_eval.captions.records import CaptionDump, ImageCaptions, Region, clean_caption
from amber_eval.errors import InputError

Order = Literal["dump", "score", "reversed", "shuffled"]
ORDERS: tuple[str, ...] = get_args(Order)
SELECTION_OPTIONS = ("top_k", "min_score", "order", "order_seed", "keep_duplicates")
"""The selection's options, by their names on the command line (``--top-k`` ...) and in a run
config: :meth:`SelectionSettings.from_options` and :meth:`SelectionSettings.to_options`."""


@dataclass(frozen=True)
class SelectionSettings:
    """How captions are selected. Recorded with every run (:meth:`to_json`)."""

    top_k: int | None = None
    """Keep at most this many captions per image (after the other steps); None keeps all."""
    min_score: float | None = None
    """Drop regions scored below this (and regions without a score); None keeps all."""
    order: Order = "dump"
    """``dump``: the captioner's order; ``score``: highest score first; ``reversed``: the
    captioner's order reversed; ``shuffled``: shuffled per image by ``seed``."""
    dedupe: bool = True
    """Drop a caption equal to an earlier one once cleaned, ignoring case."""
    seed: int = 0
    """The shuffle's seed (``order="shuffled"`` only)."""

    def __post_init__(self) -> None:
        if self.top_k is not None and (isinstance(self.top_k, bool) or self.top_k < 1):
            raise ValueError(f"top_k must be a positive integer or None, got {self.top_k!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {self.order!r}")

    @classmethod
    def from_options(
        cls,
        *,
        top_k: int | None = None,
        min_score: float | None = None,
        order: str | None = None,
        order_seed: int | None = None,
        keep_duplicates: bool = False,
    ) -> SelectionSettings:
        """The selection of the options ``--top-k``, ``--min-score``, ``--order``,
        ``--order-seed`` and ``--keep-duplicates`` (the same names in a run config); None takes
        the default. A value of the wrong kind is an :class:`InputError` naming the option.

        >>> SelectionSettings.from_options(order="shuffled", order_seed=1).to_json()
        {'top_k': None, 'min_score': None, 'order': 'shuffled', 'dedupe': True, 'seed': 1}
        """
        if order is not None and order not in ORDERS:
            raise InputError(f"unknown caption order {order!r}; use {', '.join(ORDERS)}")
        if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool)):
            raise InputError(f"top_k must be a positive integer, got {top_k!r}")
        if min_score is not None and (
            not isinstance(min_score, (int, float)) or isinstance(min_score, bool)
        ):
            raise InputError(f"min_score must be a number, got {min_score!r}")
        if order_seed is not None and (
            not isinstance(order_seed, int) or isinstance(order_seed, bool)
        ):
            raise InputError(f"order_seed must be an integer, got {order_seed!r}")
        if not isinstance(keep_duplicates, bool):
            raise InputError(f"keep_duplicates must be true or false, got {keep_duplicates!r}")
        try:
            return cls(
                top_k=top_k,
                min_score=min_score,
                order=order or "dump",  # type: ignore[arg-type]
                dedupe=not keep_duplicates,
                seed=0 if order_seed is None else order_seed,
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def to_options(self) -> dict[str, Any]:
        """The options of :meth:`from_options` that give this selection (a run config's
        fields)."""
        return {
            "top_k": self.top_k,
            "min_score": self.min_score,
            "order": self.order,
            "order_seed": self.seed,
            "keep_duplicates": not self.dedupe,
        }

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "top_k": self.top_k,
            "min_score": self.min_score,
            "order": self.order,
            "dedupe": self.dedupe,
        }
        if self.order == "shuffled":  # other orders have no seed (and keep their run hashes)
            data["seed"] = self.seed
        return data


def _score_key(region: Region) -> tuple[int, float]:
    return (0, -region.score) if region.score is not None else (1, 0.0)


def select_regions(entry: ImageCaptions, settings: SelectionSettings) -> list[str]:
    """The selected, cleaned captions of one image."""
    regions: list[Region] = list(entry.regions)
    if settings.min_score is not None:
        threshold = settings.min_score
        regions = [r for r in regions if r.score is not None and r.score >= threshold]
    if settings.order == "score":
        regions.sort(key=_score_key)
    elif settings.order == "reversed":
        regions.reverse()
    elif settings.order == "shuffled":
        random.Random(f"{settings.seed}/{entry.image}").shuffle(regions)  # noqa: S311
    captions: list[str] = []
    seen: set[str] = set()
    for region in regions:
        caption = clean_caption(region.caption)
        if not caption:
            continue
        if settings.dedupe:
            key = caption.casefold()
            if key in seen:
                continue
            seen.add(key)
        captions.append(caption)
        if settings.top_k is not None and len(captions) >= settings.top_k:
            break
    return captions


def select_captions(
    dump_or_images: CaptionDump | Iterable[ImageCaptions],
    settings: SelectionSettings | None = None,
) -> dict[str, list[str]]:
    """Image file name -> selected captions, in the dump's image order."""
    settings = settings or SelectionSettings()
    entries = dump_or_images.images if isinstance(dump_or_images, CaptionDump) else dump_or_images
    return {entry.image: select_regions(entry, settings) for entry in entries}
