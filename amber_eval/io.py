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
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(complete.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = parse_json(decode_utf8(raw, source, number))
        except (JsonProblem, InputError) as exc:
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


def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: equal data gives equal text."""
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
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found: {source}") from None
    except IsADirectoryError:
        raise InputError(f"{source} is a folder; expected a {what}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {source}: {describe_os_error(exc)}") from None
    return decode_utf8(data, source)


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
