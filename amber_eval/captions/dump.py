"""The region-caption dump: a JSONL file of region captions per image.

This module gathers the public names of :mod:`~amber_eval.captions.records`,
:mod:`~amber_eval.captions.validation` and :mod:`~amber_eval.captions.writer`.

Line 1 is a header::

    {"format": "amber-eval/region-captions", "version": 1,
     "captioner": {"name": ..., "version": ..., "settings": {...}}, "created": "<ISO-8601>"}

then one line per image::

    {"image": "AMBER_12.jpg", "width": 640, "height": 480,
     "regions": [{"caption": "a dog", "score": 0.9, "bbox": [x0, y0, x1, y1],
                  "mask": {"size": [h, w], "counts": "..."}, "label": "dog"}]}

:func:`read_dump` validates a whole file and reports every problem with its line;
:class:`DumpWriter` appends image lines durably and resumes an interrupted dump;
:func:`write_dump` writes a complete dump atomically. The JSON Schema of both kinds of line is
``amber_eval/resources/caption-dump.schema.json`` (:func:`schema`).
"""

from __future__ import annotations

from amber_eval.amber_images import AMBER_IMAGES
from amber_eval.captions.records import (
    FORMAT,
    SCHEMA_RESOURCE,
    VERSION,
    CaptionDump,
    CaptionDumpError,
    CaptionerInfo,
    DumpHeader,
    DumpProblem,
    ImageCaptions,
    Region,
    RleMask,
    now_iso,
    schema,
)
from amber_eval.captions.validation import (
    check_dump,
    read_dump,
)
from amber_eval.captions.writer import (
    DumpWriter,
    dump_line,
    entry_problems,
    iter_dump_lines,
    write_dump,
)

__all__ = [
    "AMBER_IMAGES",
    "FORMAT",
    "SCHEMA_RESOURCE",
    "VERSION",
    "CaptionDump",
    "CaptionDumpError",
    "CaptionerInfo",
    "DumpHeader",
    "DumpProblem",
    "DumpWriter",
    "ImageCaptions",
    "Region",
    "RleMask",
    "check_dump",
    "dump_line",
    "entry_problems",
    "iter_dump_lines",
    "now_iso",
    "read_dump",
    "schema",
    "write_dump",
]
