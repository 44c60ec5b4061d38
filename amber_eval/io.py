"""Small file helpers: atomic writes, the one JSON-lines reader, hashing of text and files."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path``, then ``os.replace`` it into place.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    encoding = None if "b" in mode else "utf-8"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with open(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_current_umask())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_json(path: str | os.PathLike[str], data: Any, *, indent: int | None = 2) -> None:
    """Replace ``path`` with ``data`` as JSON (UTF-8, stable key order as given)."""
    atomic_write_text(path, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


def read_jsonl(path: str | os.PathLike[str], *, repair: bool = False) -> list[dict[str, Any]]:
    """Every complete JSON object line of an append-only ``path``, in file order.

    A last line without its newline was torn by a process killed mid-write: it is left out,
    and with ``repair`` also cut off the file (only the process that appends may repair). Any
    other line that is not a JSON object means the file was edited: an
    :class:`~amber_eval.errors.InputError` naming ``file:line``. A missing file has no lines.
    Repeated records are all returned; the caller's record type decides what a repeat means.
    """
    from amber_eval.errors import InputError

    source = Path(path)
    if not source.exists():
        return []
    data = source.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]  # everything up to the last newline
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(complete.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{source}:{number}: not a JSON line ({exc}); delete the line, or the file, "
                "to continue"
            ) from exc
        if not isinstance(record, dict):
            raise InputError(f"{source}:{number}: expected a JSON object, not {raw[:40]!r}")
        records.append(record)
    if repair and len(complete) < len(data):  # torn by a kill mid-write: cut off, asked again
        with source.open("r+b") as handle:
            handle.truncate(len(complete))
            handle.flush()
            os.fsync(handle.fileno())
    return records


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
