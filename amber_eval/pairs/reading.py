"""Reading image-text pairs (JSONL or CSV) as a stream, and cutting the stream into shards.

A pair's *ordinal* is its 0-based position among the records of the input file; it is the
stable id that orders phrases with equal scores, so the result never depends on how the work
was split between processes.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from amber_eval.errors import InputError
from amber_eval.io import iter_jsonl, iter_lines

FIELDS = ("id", "image", "caption")


@dataclass(frozen=True)
class Pair:
    """One image-text pair; ``line`` is where it starts in the input file (1-based)."""

    ordinal: int
    id: str
    image: str
    caption: str
    line: int


@dataclass(frozen=True)
class Shard:
    """``size`` consecutive pairs starting at ordinal ``index * size``."""

    index: int
    pairs: tuple[Pair, ...]


def pairs_format(path: Path) -> str:
    """``jsonl`` or ``csv``, from the file name's suffix."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    raise InputError(f"{path}: unknown pairs format {suffix!r}; use a .jsonl or .csv file")


def _field(value: object, name: str, where: str) -> str:
    allowed = str if name == "caption" else str | int
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise InputError(f"{where}: field {name!r} must be a string, got {value!r:.60}")
    text = str(value).strip()
    if not text and name != "caption":
        raise InputError(f"{where}: field {name!r} is empty")
    return text


def _iter_csv(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    reader = csv.reader(
        (text + "\n" for _, text in iter_lines(path, "pairs file")),
        delimiter="\t" if path.suffix.lower() == ".tsv" else ",",
        strict=True,
    )
    try:
        yield from _csv_rows(path, reader)
    except csv.Error as exc:
        raise InputError(
            f"{path}:{reader.line_num}: not valid CSV ({exc}); a field with a quote must be "
            'quoted whole, with inner quotes doubled ("say ""hi""")'
        ) from None


def _csv_rows(path: Path, reader: Any) -> Iterator[tuple[int, dict[str, object]]]:
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in FIELDS if name not in header]
    if missing:
        raise InputError(
            f"{path}:1: the header lacks column(s) {', '.join(missing)}; "
            f"expected columns {', '.join(FIELDS)}"
        )
    positions = {name: header.index(name) for name in FIELDS}
    start = reader.line_num + 1
    for row in reader:
        number, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{path}:{number}: {len(row)} columns, the header has {len(header)}")
        yield number, {name: row[index] for name, index in positions.items()}


def read_pairs(path: str | Path) -> Iterator[Pair]:
    """Stream the pairs of a JSONL (``{"id", "image", "caption"}`` per line) or CSV file.

    Raises :class:`InputError` naming the file and line of the first malformed record.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: pairs file not found")
    rows = (
        iter_jsonl(source, what="pairs file", objects=f"with {', '.join(FIELDS)}")
        if pairs_format(source) == "jsonl"
        else _iter_csv(source)
    )
    seen: set[bytes] = set()
    count = 0
    for ordinal, (number, record) in enumerate(rows):
        where = f"{source}:{number}"
        missing = [name for name in FIELDS if name not in record]
        if missing:
            raise InputError(f"{where}: missing field(s) {', '.join(missing)}")
        pair = Pair(
            ordinal=ordinal,
            id=_field(record["id"], "id", where),
            image=_field(record["image"], "image", where),
            caption=_field(record["caption"], "caption", where),
            line=number,
        )
        digest = hashlib.blake2b(pair.id.encode("utf-8"), digest_size=12).digest()
        if digest in seen:
            raise InputError(f"{where}: duplicate id {pair.id!r} (ids must be unique)")
        seen.add(digest)
        count += 1
        yield pair
    if count == 0:
        raise InputError(
            f"{source}: no pairs (the file is empty or holds only a header); expected one "
            f"record per line with {', '.join(FIELDS)}"
        )


def iter_shards(
    path: str | Path, shard_size: int, *, wanted: set[int] | None = None
) -> Iterator[Shard]:
    """Cut the pairs into shards of ``shard_size``; only shards in ``wanted`` are validated
    and returned when it is given (the others are still read, to count ordinals)."""
    if shard_size < 1:
        raise InputError(f"shard size must be at least 1, got {shard_size}")
    stream = read_pairs(path)
    index = 0
    while True:
        chunk = tuple(islice(stream, shard_size))
        if not chunk:
            return
        if wanted is None or index in wanted:
            yield Shard(index=index, pairs=chunk)
        index += 1
