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

__all__ = [
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
]
