"""File helpers: atomic writes, reading untrusted text and JSON, the one JSON-lines reader,
hashing, output guards.

Reading and writing failures become user errors naming the path here, in one place:
:func:`read_text`, :func:`load_json` and :func:`read_jsonl` for inputs (not UTF-8, not JSON,
nested too deeply, lone surrogates), :func:`atomic_open` for outputs (read-only folder, full
disk, text that cannot be encoded), :func:`refuse_inputs_as_outputs` before a command writes
anything. The CLI maps the remaining operating-system errors by their file name
(``amber_eval.errors``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from amber_eval.errors import InputError, OutputError, describe_os_error


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path``, then ``os.replace`` it into place.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {describe_os_error(exc)}") from exc
    encoding = None if "b" in mode else "utf-8"
    try:
        with open(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_current_umask())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, UnicodeEncodeError):
            raise InputError(
                f"cannot write {target}: the text holds {_bad_text(exc)}, which is not valid "
                "Unicode; it came from an input file: fix that file (a lone UTF-16 surrogate "
                "such as \\ud800 in a JSON string)"
            ) from exc
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | OutputError):
            raise OutputError(f"cannot write {target}: {describe_os_error(exc)}") from exc
        raise


def _bad_text(exc: UnicodeError) -> str:
    obj = getattr(exc, "object", "")
    start = getattr(exc, "start", 0)
    return repr(obj[start : start + 1]) if obj else "a character"


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
    source = Path(path)
    if not source.exists():
        return []
    data = source.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]  # everything up to the last newline
    try:
        records = [record for _, record in iter_jsonl(source, text=decode_utf8(complete, source))]
    except InputError as exc:
        raise InputError(f"{exc}; delete the line, or the file, to continue") from None
    if repair and len(complete) < len(data):  # torn by a kill mid-write: cut off, asked again
        with source.open("r+b") as handle:
            handle.truncate(len(complete))
            handle.flush()
            os.fsync(handle.fileno())
    return records


def iter_jsonl(
    path: str | os.PathLike[str],
    *,
    what: str = "JSON-lines file",
    text: str | None = None,
    objects: str | None = "",
) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` of every non-blank line of a JSON-lines file, in file order.

    The file is streamed line by line, or ``text`` (the file's text, when the caller has read
    it already) is split. Bytes that are not UTF-8 and a line that is not JSON raise
    :class:`~amber_eval.errors.InputError` naming ``file:line``, and so does a line that is not
    a JSON object, unless ``objects`` is None; ``objects`` says what an object holds
    (``"with id and response"``). A missing file or a folder is named as ``what``.
    """
    source = Path(path)
    lines = iter_lines(source, what) if text is None else split_lines(text)
    for number, line in lines:
        if not line.strip():
            continue
        value = load_json(line, f"{source}:{number}")
        if objects is not None and not isinstance(value, dict):
            raise InputError(
                f"{source}:{number}: expected a JSON object{' ' if objects else ''}{objects}, "
                f"not {line.strip()[:40]!r}"
            )
        yield number, value


def split_lines(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of ``text``, split at newlines only (a JSON string may hold
    U+2028, which :meth:`str.splitlines` would split at), a ``\r`` before a newline dropped;
    nothing after a final newline."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [(number, line.removesuffix("\r")) for number, line in enumerate(lines, start=1)]


def iter_lines(path: str | os.PathLike[str], what: str = "file") -> Iterator[tuple[int, str]]:
    """``(line number, text without its newline)`` of a UTF-8 input file, streamed; a missing
    or unreadable file, and bytes that are not UTF-8, raise :class:`InputError` naming it."""
    source = Path(path)
    with _input_errors(source, what), source.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            yield number, decode_utf8(raw, source, number).removesuffix("\n")


def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: equal data gives equal text (hashes, store keys)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def read_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The UTF-8 text of an input file; unreadable or undecodable files raise
    :class:`InputError` naming the file (``what`` says what it should be)."""
    source = Path(path)
    with _input_errors(source, what):
        data = source.read_bytes()
    return decode_utf8(data, source)


@contextlib.contextmanager
def _input_errors(source: Path, what: str) -> Iterator[None]:
    """Opening or reading ``source`` failing as an :class:`InputError` naming it as ``what``."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(f"{what} not found: {source}") from None
    except IsADirectoryError:
        raise InputError(f"{source} is a folder; expected a {what}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {source}: {describe_os_error(exc)}") from None


def decode_utf8(data: bytes, source: str | os.PathLike[str], first_line: int = 1) -> str:
    """``data`` (from line ``first_line`` of ``source`` on) as UTF-8; else
    :class:`InputError` with the file, line and byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + first_line
        raise InputError(
            f"{source}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the file "
            "as UTF-8"
        ) from None


class JsonProblem(ValueError):
    """Why a text is not readable JSON (without the location; see :func:`load_json`)."""


def parse_json(text: str, **options: Any) -> Any:
    """Parse untrusted JSON; every way it can fail raises :class:`JsonProblem`.

    Not JSON, nested too deeply for the parser, or holding a lone UTF-16 surrogate
    (``"\\ud800"``: valid JSON, but no Unicode text, so it cannot be written or hashed) are
    all refused. ``options`` go to :func:`json.loads`.
    """
    try:
        value = json.loads(text, **options)
    except json.JSONDecodeError as exc:
        raise JsonProblem(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise JsonProblem(
            "JSON nested too deeply to read (thousands of levels of arrays or objects)"
        ) from None
    except ValueError as exc:
        raise JsonProblem(f"not valid JSON ({exc})") from None
    if _SURROGATE_ESCAPE.search(text):
        problem = unicode_problem(value)
        if problem is not None:
            raise JsonProblem(problem)
    return value


def load_json(text: str, where: str, **options: Any) -> Any:
    """:func:`parse_json`, failures raised as :class:`InputError` at ``where`` (file:line)."""
    try:
        return parse_json(text, **options)
    except JsonProblem as exc:
        raise InputError(f"{where}: {exc}") from None


def unicode_problem(value: Any) -> str | None:
    """What is wrong when a string in ``value`` holds a lone surrogate, else None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _LONE_SURROGATE.search(item)
            if found:
                return (
                    f"the text {item[:40]!r} holds a lone UTF-16 surrogate "
                    f"(\\u{ord(found.group()):04x}), which is not valid Unicode; fix the program "
                    "that wrote the file (a character outside the BMP is a pair of surrogates)"
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def check_unicode(value: Any, where: str) -> None:
    """Raise :class:`InputError` at ``where`` when a string in ``value`` holds a lone
    surrogate."""
    problem = unicode_problem(value)
    if problem is not None:
        raise InputError(f"{where}: {problem}")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def refuse_inputs_as_outputs(
    outputs: Mapping[str, str | os.PathLike[str] | None],
    inputs: Mapping[str, str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None],
) -> None:
    """Raise :class:`InputError` when an output path is one of the inputs (the same file by
    name, through a symbolic link or as a hard link), or two outputs are the same file.

    Keys name the option (``"--json"``, ``"RESPONSES"``); call before writing anything.
    """
    named: list[tuple[str, Path]] = []
    for label, value in inputs.items():
        if value is None:
            continue
        values = [value] if isinstance(value, str | os.PathLike) else list(value)
        named += [(label, Path(v)) for v in values]
    seen: list[tuple[str, Path]] = []
    for label, value in outputs.items():
        if value is None:
            continue
        out = Path(value)
        for other_label, other in [*named, *seen]:
            if _same_file(out, other):
                role = "an input" if (other_label, other) in named else "another output"
                raise InputError(
                    f"{label} {out} is {role} ({other_label} {other}): writing it would destroy "
                    f"what the command reads; choose another path for {label}"
                )
        seen.append((label, out))


def _same_file(a: Path, b: Path) -> bool:
    first, second = _identity(a), _identity(b)
    if first is not None and second is not None:
        return first == second
    return os.path.abspath(os.path.realpath(a)) == os.path.abspath(os.path.realpath(b))
