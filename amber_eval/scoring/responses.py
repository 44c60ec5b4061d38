"""Reading response files: the upstream JSON list of ``{id, response}``, or JSONL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from amber_eval.errors import InputError
from amber_eval.io import iter_jsonl, load_json, read_text


class Scorable(Protocol):
    """What the scorer reads of an outside response: its AMBER id and its text (a
    :class:`Response`). A run's answer lines carry their own facts and are scored through
    :func:`~amber_eval.scoring.records.question_record` and
    :func:`~amber_eval.scoring.scorer.score_questions`."""

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
    text = read_text(source, "response file")
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{source}: empty file, expected a JSON list of {{id, response}} objects")
    if stripped.startswith("["):
        data = load_json(text, str(source))
        if not isinstance(data, list):
            raise InputError(f"{source}: expected a JSON list of {{id, response}} objects")
        return [_entry(f"{source}: item {index}", entry) for index, entry in enumerate(data)]
    return [
        _entry(f"{source}:{number}", entry)
        for number, entry in iter_jsonl(source, text=text, objects=None)
    ]


def _entry(where: str, entry: Any) -> Response:
    if not isinstance(entry, dict):
        raise InputError(
            f"{where}: expected an object with 'id' and 'response', got {type(entry).__name__}"
        )
    missing = [key for key in ("id", "response") if key not in entry]
    if missing:
        raise InputError(f"{where}: missing field {' and '.join(map(repr, missing))}")
    item_id = entry["id"]
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise InputError(f"{where}: id must be an integer, got {item_id!r}")
    response = entry["response"]
    if not isinstance(response, str):
        raise InputError(f"{where} (id {item_id}): response must be a string, got {response!r:.60}")
    return Response(id=item_id, response=response)
