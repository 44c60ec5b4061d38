"""Reading response files: the upstream JSON list of ``{id, response}``, or JSONL."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from amber_eval.errors import InputError


class Scorable(Protocol):
    """What the scorer reads of a response: its AMBER id and its text (a :class:`Response`,
    or a run's :class:`~amber_eval.answer_line.AnswerLine`)."""

    @property
    def id(self) -> int: ...

    @property
    def response(self) -> str: ...


@dataclass(frozen=True)
class Response:
    """One model output: a description (ids 1..1004) or a Yes/No answer (ids >= 1005)."""

    id: int
    response: str


def read_responses(path: str | os.PathLike[str]) -> list[Response]:
    """Read a JSON list of ``{"id": int, "response": str}`` objects, or one such object a line.

    Malformed input raises :class:`InputError` naming the file, the item (list index or line
    number) and the problem.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{source}: cannot read responses: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{source}: empty file, expected a JSON list of {{id, response}} objects")
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        if not isinstance(data, list):
            raise InputError(f"{source}: expected a JSON list of {{id, response}} objects")
        return [_entry(source, f"item {index}", entry) for index, entry in enumerate(data)]
    responses = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{source}: line {number}: not valid JSON ({exc.msg}, column {exc.colno}); "
                "expected a JSON list or one {id, response} object per line"
            ) from exc
        responses.append(_entry(source, f"line {number}", entry))
    return responses


def _entry(source: Path, where: str, entry: Any) -> Response:
    if not isinstance(entry, dict):
        raise InputError(
            f"{source}: {where}: expected an object with 'id' and 'response', "
            f"got {type(entry).__name__}"
        )
    missing = [key for key in ("id", "response") if key not in entry]
    if missing:
        raise InputError(f"{source}: {where}: missing field {' and '.join(map(repr, missing))}")
    item_id = entry["id"]
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise InputError(f"{source}: {where}: id must be an integer, got {item_id!r}")
    response = entry["response"]
    if not isinstance(response, str):
        raise InputError(
            f"{source}: {where} (id {item_id}): response must be a string, got {response!r:.60}"
        )
    return Response(id=item_id, response=response)
