"""Where captions come from: a caption dump file or the built-in ``oracle`` captioner.

:func:`load_captions` is the one way every command (``prompts``, ``run``, ``captions score``,
``sensitivity``, ``judge-check``) gets its captions: the dump, the sha256 that identifies it in
a run's config hash, and the oracle's template-match report.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from amber_eval.captions.records import ORACLE, CaptionDump
from amber_eval.captions.validation import read_dump
from amber_eval.errors import InputError

if TYPE_CHECKING:
    from amber_eval.captions.oracle import OracleReport
    from amber_eval.data.benchmark import Benchmark

__all__ = ["ORACLE", "LoadedCaptions", "load_captions"]


@dataclass(frozen=True)
class LoadedCaptions:
    """A caption source, loaded: the dump, its sha256 and (oracle only) the template report."""

    dump: CaptionDump
    sha256: str
    """The sha256 of the dump file's bytes; for the oracle, of its captioner and image lines."""
    oracle_report: OracleReport | None = None
    """The oracle's template-match report; None for a dump file."""


def load_captions(source: str | os.PathLike[str], benchmark: Benchmark) -> LoadedCaptions:
    """``"oracle"`` -> the oracle dump and its template-match report; a path -> the validated
    dump (image names must be AMBER's). A folder or a missing file is an :class:`InputError`
    saying what to give instead."""
    if str(source) == ORACLE:
        from amber_eval.captions.oracle import oracle_dump

        dump, report = oracle_dump(benchmark)
        return LoadedCaptions(dump, _oracle_sha256(dump), report)
    from amber_eval.io import sha256_file

    path = Path(source)
    if path.is_dir():
        raise InputError(
            f"captions {path} is a folder; give the caption dump file itself (for example "
            f"{path / 'captions.jsonl'}), or {ORACLE!r} for the oracle captions"
        )
    if not path.is_file():
        raise InputError(
            f"captions file {path} does not exist; give a caption dump (amber-eval segment "
            f"writes one) or {ORACLE!r} for the oracle captions"
        )
    dump = read_dump(path, known_images=benchmark.images)
    return LoadedCaptions(dump, sha256_file(path))


def _oracle_sha256(dump: CaptionDump) -> str:
    """The oracle dump's sha256: its captioner and image lines as sorted-key JSON, one a line
    (the form run folders' config hashes were made with)."""
    lines = [dump.header.captioner.to_json()] + [image.to_json() for image in dump.images]
    text = "\n".join(json.dumps(line, sort_keys=True) for line in lines)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
