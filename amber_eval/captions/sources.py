"""Where captions come from: a caption dump file or the built-in ``oracle`` captioner."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from amber_eval.captions.dump import CaptionDump, read_dump

if TYPE_CHECKING:
    from amber_eval.captions.oracle import OracleReport
    from amber_eval.data.benchmark import Benchmark

ORACLE = "oracle"


def load_captions(
    source: str | os.PathLike[str], benchmark: Benchmark
) -> tuple[CaptionDump, OracleReport | None]:
    """``"oracle"`` -> the oracle dump and its template-match report; a path -> the validated
    dump (image names must be AMBER's) and None."""
    if str(source) == ORACLE:
        from amber_eval.captions.oracle import oracle_dump

        return oracle_dump(benchmark)
    return read_dump(source, known_images=benchmark.images), None
