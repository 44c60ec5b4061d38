"""Region captions: the dump format, caption selection, the oracle captioner, caption coverage."""

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
