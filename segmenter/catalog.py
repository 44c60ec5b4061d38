"""The registries of mask sources and captioners, by name.

Built-in entries are ``module:Class`` targets (:class:`amber_eval.registry.Registry`): nothing
heavy is imported until a component is created. A registered value is a class with a
``from_options`` constructor (and a ``Settings`` dataclass), or any callable taking the
options as keyword arguments (``CAPTIONERS.add("name", lambda **options: MyCaptioner())``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amber_eval.errors import UnknownNameError
from amber_eval.registry import Entry, Registry, import_target
from amber_eval.segmenter.base import Captioner, MaskSource

MASK_SOURCES: Registry[Callable[..., MaskSource]] = Registry("mask source")
CAPTIONERS: Registry[Callable[..., Captioner]] = Registry("captioner")

_P = "amber_eval.segmenter."

MASK_SOURCES.add_lazy(
    "grid", _P + "grid:GridMaskSource", "a deterministic grid of boxes (granularity cells a side)"
)
MASK_SOURCES.add_lazy(
    "superpixels",
    _P + "superpixels:SuperpixelMaskSource",
    "scikit-image SLIC or Felzenszwalb segments (granularity: about how many)",
)
MASK_SOURCES.add_lazy(
    "files",
    _P + "mask_files:FileMaskSource",
    "masks read from files: PNG label maps, NPZ mask stacks or COCO RLE JSON",
)
MASK_SOURCES.add_lazy(
    "sam",
    _P + "sam:SamMaskSource",
    "Segment Anything (transformers): automatic masks or point prompts (--points)",
)
CAPTIONERS.add_lazy(
    "oracle",
    _P + "oracle_captioner:OracleCaptioner",
    "captions from AMBER's annotations (needs no pixels; the judge's upper bound)",
)
CAPTIONERS.add_lazy(
    "clip-vocab",
    _P + "clip_vocab:ClipVocabCaptioner",
    "open_clip scores vocabulary phrases on each masked region crop",
)
CAPTIONERS.add_lazy(
    "image-to-text",
    _P + "image_to_text:ImageToTextCaptioner",
    "a Hugging Face image-captioning model (BLIP, GIT, ...) on each region crop",
)


def load_class(target: str) -> type[Any]:
    """Import ``module:Class``."""
    cls = import_target(target)
    if not isinstance(cls, type):
        raise TypeError(f"{target} is not a class")
    return cls


def _build(component: Callable[..., Any], options: dict[str, Any]) -> Any:
    """A class's ``from_options(options)`` if it has one, else ``component(**options)``."""
    if isinstance(component, type) and hasattr(component, "from_options"):
        return component.from_options(options)
    return component(**options)


def create_mask_source(name: str, **options: Any) -> MaskSource:
    """The mask source ``name`` with ``options`` (strings are converted to the declared types).

    ``name`` may also be ``package.module:Class`` for a class outside the registry.
    """
    if name not in MASK_SOURCES and ":" in name:
        return _from_class(name, MaskSource, options)
    return _build(MASK_SOURCES.load(name), options)


def create_captioner(name: str, **options: Any) -> Captioner:
    """The captioner ``name`` (or ``package.module:Class``) with ``options``."""
    if name not in CAPTIONERS and ":" in name:
        return _from_class(name, Captioner, options)
    return _build(CAPTIONERS.load(name), options)


def _from_class(target: str, base: type[Any], options: dict[str, Any]) -> Any:
    try:
        cls = load_class(target)
    except (ImportError, AttributeError, TypeError) as exc:
        raise UnknownNameError(f"cannot import {target!r}: {exc}") from None
    if not issubclass(cls, base):
        raise UnknownNameError(f"{target} is not a {base.__name__} subclass")
    return _build(cls, options)


def settings_class(entry: Entry[Any]) -> type | None:
    """The ``Settings`` dataclass of a registered class (None for plain factories)."""
    try:
        component = entry.load()
    except ImportError:  # an optional dependency is missing; the listing still works
        return None
    settings = getattr(component, "Settings", None) if isinstance(component, type) else None
    return settings if isinstance(settings, type) else None
