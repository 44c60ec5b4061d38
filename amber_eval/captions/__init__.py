"""Region captions: the dump format, caption selection, the oracle captioner, caption coverage.

The names below are imported from their modules on first use, so importing one module of the
package (a run config needs only :mod:`~amber_eval.captions.selection`) loads no other.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amber_eval.captions.dump import (
        CaptionDump,
        CaptionDumpError,
        CaptionerInfo,
        DumpHeader,
        DumpProblem,
        DumpWriter,
        ImageCaptions,
        Region,
        RleMask,
        read_dump,
        write_dump,
    )
    from amber_eval.captions.selection import SelectionSettings, select_captions
    from amber_eval.captions.sources import ORACLE, LoadedCaptions, load_captions

_MODULES = {
    "amber_eval.captions.dump": (
        "CaptionDump",
        "CaptionDumpError",
        "CaptionerInfo",
        "DumpHeader",
        "DumpProblem",
        "DumpWriter",
        "ImageCaptions",
        "Region",
        "RleMask",
        "read_dump",
        "write_dump",
    ),
    "amber_eval.captions.selection": ("SelectionSettings", "select_captions"),
    "amber_eval.captions.sources": ("ORACLE", "LoadedCaptions", "load_captions"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "ORACLE",
    "CaptionDump",
    "CaptionDumpError",
    "CaptionerInfo",
    "DumpHeader",
    "DumpProblem",
    "DumpWriter",
    "ImageCaptions",
    "LoadedCaptions",
    "Region",
    "RleMask",
    "SelectionSettings",
    "load_captions",
    "read_dump",
    "select_captions",
    "write_dump",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
