"""The registries of mask sources and captioners, by name.

Entries point at ``module:Class`` strings: nothing heavy is imported until a component is
created. Each class has a ``Settings`` dataclass and a ``from_options`` constructor.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from amber_eval.errors import UnknownNameError
from amber_eval.registry import Registry
from amber_eval.segmenter.base import Captioner, MaskSource

MASK_SOURCES: Registry[MaskSource] = Registry("mask source")
CAPTIONERS: Registry[Captioner] = Registry("captioner")

_P = "amber_eval.segmenter."

BUILTIN_MASK_SOURCES: dict[str, tuple[str, str]] = {
    "grid": (
        _P + "grid:GridMaskSource",
        "a deterministic grid of boxes (granularity cells a side)",
    ),
    "superpixels": (
        _P + "superpixels:SuperpixelMaskSource",
        "scikit-image SLIC or Felzenszwalb segments (granularity: about how many)",
    ),
    "files": (
        _P + "mask_files:FileMaskSource",
        "masks read from files: PNG label maps, NPZ mask stacks or COCO RLE JSON",
    ),
    "sam": (
        _P + "sam:SamMaskSource",
        "Segment Anything (transformers): automatic masks or point prompts (--points)",
    ),
}

BUILTIN_CAPTIONERS: dict[str, tuple[str, str]] = {
    "oracle": (
        _P + "oracle_captioner:OracleCaptioner",
        "captions from AMBER's annotations (needs no pixels; the judge's upper bound)",
    ),
    "clip-vocab": (
        _P + "clip_vocab:ClipVocabCaptioner",
        "open_clip scores vocabulary phrases on each masked region crop",
    ),
    "image-to-text": (
        _P + "image_to_text:ImageToTextCaptioner",
        "a Hugging Face image-captioning model (BLIP, GIT, ...) on each region crop",
    ),
}


def load_class(target: str) -> type[Any]:
    """Import ``module:Class``."""
    module_name, _, attribute = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(cls, type):
        raise TypeError(f"{target} is not a class")
    return cls


def _factory(target: str) -> Callable[..., Any]:
    def create(**options: Any) -> Any:
        return load_class(target).from_options(options)

    create.target = target  # type: ignore[attr-defined]
    return create


for _name, (_target, _description) in BUILTIN_MASK_SOURCES.items():
    MASK_SOURCES.add(_name, _factory(_target), _description)
for _name, (_target, _description) in BUILTIN_CAPTIONERS.items():
    CAPTIONERS.add(_name, _factory(_target), _description)


def create_mask_source(name: str, **options: Any) -> MaskSource:
    """The mask source ``name`` with ``options`` (strings are converted to the declared types).

    ``name`` may also be ``package.module:Class`` for a class outside the registry.
    """
    if name not in MASK_SOURCES and ":" in name:
        return _from_class(name, MaskSource, options)
    return MASK_SOURCES.create(name, **options)


def create_captioner(name: str, **options: Any) -> Captioner:
    """The captioner ``name`` (or ``package.module:Class``) with ``options``."""
    if name not in CAPTIONERS and ":" in name:
        return _from_class(name, Captioner, options)
    return CAPTIONERS.create(name, **options)


def _from_class(target: str, base: type[Any], options: dict[str, Any]) -> Any:
    try:
        cls = load_class(target)
    except (ImportError, AttributeError, TypeError) as exc:
        raise UnknownNameError(f"cannot import {target!r}: {exc}") from None
    if not issubclass(cls, base):
        raise UnknownNameError(f"{target} is not a {base.__name__} subclass")
    if hasattr(cls, "from_options"):
        return cls.from_options(options)
    return cls(**options)


def settings_class(factory: Callable[..., Any]) -> type | None:
    """The ``Settings`` dataclass behind a built-in factory (None for user-registered ones)."""
    target = getattr(factory, "target", None)
    if target is None:
        return None
    try:
        cls = load_class(target)
    except ImportError:  # an optional dependency is missing; the listing still works
        return None
    settings = getattr(cls, "Settings", None)
    return settings if isinstance(settings, type) else None
