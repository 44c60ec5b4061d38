"""Writing region-caption dumps: atomically, or line by line with resume."""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from amber_eval.captions.records import (
    CaptionDump,
    CaptionDumpError,
    DumpHeader,
    ImageCaptions,
)
from amber_eval.captions.validation import (
    DumpValidator,
    parse_dump_json,
    parse_dump_text,
)
from amber_eval.errors import InputError
from amber_eval.io import atomic_open, canonical_json


def dump_line(data: Mapping[str, Any]) -> str:
    """One JSONL line (without the newline): compact, UTF-8, no NaN."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def entry_problems(entry: ImageCaptions) -> list[str]:
    """What :func:`read_dump` would report about ``entry`` as an image line (empty: valid)."""
    validator = DumpValidator("<entry>")
    try:
        data = parse_dump_json(dump_line(entry.to_json()))
    except ValueError as exc:  # NaN or infinity
        return [f"not valid JSON: {exc}"]
    validator.check_image(0, data)
    return [problem.message for problem in validator.problems]


def _check_entry(entry: ImageCaptions) -> None:
    problems = entry_problems(entry)
    if problems:
        raise ValueError(f"invalid captions for image {entry.image!r}: {'; '.join(problems)}")


def write_dump(
    path: str | os.PathLike[str], header: DumpHeader, images: Iterable[ImageCaptions]
) -> Path:
    """Write a complete dump atomically (a temporary file, then rename)."""
    target = Path(path)
    seen: set[str] = set()
    with atomic_open(target, "w") as handle:
        handle.write(dump_line(header.to_json()) + "\n")
        for entry in images:
            if entry.image in seen:
                raise ValueError(f"image {entry.image!r} is written twice")
            seen.add(entry.image)
            _check_entry(entry)
            handle.write(dump_line(entry.to_json()) + "\n")
    return target


class DumpWriter:
    """Append image lines to a dump durably; resume a dump that was interrupted.

    A new file gets the header. An existing file must have the same format and captioner
    (name, version, settings), else :class:`InputError`; a torn last line (no final newline, or
    not JSON) is dropped; :attr:`done_images` holds the images already written. Each
    :meth:`write` appends one line, flushes and fsyncs, so a crash loses at most the line being
    written. Use as a context manager::

        with DumpWriter(path, header) as writer:
            for image in images:
                if image not in writer.done_images:
                    writer.write(caption(image))
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: DumpHeader,
        *,
        known_images: Collection[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.header = header
        self.known_images = known_images
        self.dropped_torn_line = False
        self._done: set[str] = set()
        self._fd: int | None = None
        self._open()

    @property
    def done_images(self) -> frozenset[str]:
        return frozenset(self._done)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd, self.path)
            raw = _read_all(fd)
            if not raw.strip():
                os.ftruncate(fd, 0)
                _write_all(fd, (dump_line(self.header.to_json()) + "\n").encode("utf-8"))
                os.fsync(fd)
            else:
                self._check_header(raw)  # before any byte is changed: only our own dump is
                keep = self._repair(raw)
                if keep != len(raw):
                    os.ftruncate(fd, keep)
                    os.fsync(fd)
                    self.dropped_torn_line = True
                self._check_existing(raw[:keep])
            os.lseek(fd, 0, os.SEEK_END)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _check_header(self, raw: bytes) -> None:
        """Refuse a file whose first line is not the header of a dump of this very captioner
        and settings: the file is someone else's, and resuming would change it."""
        first = raw.split(b"\n", 1)[0]
        if b"\n" not in raw and first.lstrip().startswith(b'{"format"'):
            raise InputError(
                f"{self.path}: the existing file has no complete header line (the writer was "
                "interrupted while starting it); it was left as it is: delete it to start a new "
                "dump"
            )
        try:
            data = parse_dump_json(first.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            found = None
        else:
            found = DumpValidator(str(self.path)).check_header(1, data)
        if found is None or b"\n" not in raw:
            raise InputError(
                f"{self.path} exists and is not a caption dump (its first line is not a dump "
                "header); it was left as it is. Write to another file, or move it away."
            )
        if not found.same_source(self.header):
            raise InputError(
                f"{self.path}: cannot resume: the existing dump was made by "
                f"{canonical_json(found.captioner.to_json())}, not by "
                f"{canonical_json(self.header.captioner.to_json())}. It was left as it is: write to "
                "another file, or delete this one to start again."
            )

    @staticmethod
    def _repair(raw: bytes) -> int:
        """The byte length to keep: everything up to the end of the last complete line."""
        if raw.endswith(b"\n"):
            body = raw[:-1]
            start = body.rfind(b"\n") + 1
            try:
                parse_dump_json(body[start:].decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                return start  # the last line is complete but garbled: drop it
            return len(raw)
        return raw.rfind(b"\n") + 1  # no final newline: the last line is torn

    def _check_existing(self, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.path}: not UTF-8 text (byte {exc.start})") from None
        if not text.strip():
            raise InputError(
                f"{self.path}: the existing file has no complete header line; delete it to start "
                "a new dump"
            )
        header, images, problems = parse_dump_text(str(self.path), text, self.known_images)
        if problems or header is None:
            raise CaptionDumpError(self.path, problems)
        if not header.same_source(self.header):
            raise InputError(
                f"{self.path}: cannot resume: the existing dump was made by "
                f"{canonical_json(header.captioner.to_json())}, not by "
                f"{canonical_json(self.header.captioner.to_json())}. Write to another file, or delete "
                "this one to start again."
            )
        self.header = header
        self._done = {entry.image for entry in images}

    def write(self, entry: ImageCaptions) -> None:
        """Append one image line, then flush and fsync it."""
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        if entry.image in self._done:
            raise ValueError(f"image {entry.image!r} is already in {self.path}")
        _check_entry(entry)
        _write_all(self._fd, (dump_line(entry.to_json()) + "\n").encode("utf-8"))
        os.fsync(self._fd)
        self._done.add(entry.image)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DumpWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _lock(fd: int, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InputError(f"{path} is being written by another process") from None


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def iter_dump_lines(dump: CaptionDump) -> Iterator[str]:
    """The JSONL lines of ``dump`` (header first), without newlines."""
    yield dump_line(dump.header.to_json())
    for entry in dump.images:
        yield dump_line(entry.to_json())
