"""A SQLite store of judge answers, shared by every run and every process.

An answer is keyed by the sha256 of the canonical JSON of the judge's ``identity`` (model and
its revision or file hash, answer mode, dtype, quantization, decoding settings, chat template,
system prompt) together with the exact text the model sees (the prompt after the chat
template). Two requests share an answer only when both are equal, so a different model,
template or setting never reuses one. Answers are committed in small batches as they are
produced; the database runs in WAL mode with a busy timeout so that several processes (one per
GPU) can write to it at once.

The default location is ``.answers.sqlite`` in the results root (``results/.answers.sqlite``,
or ``<out>/.answers.sqlite`` with ``--out``), so a results folder carries the answers it was
made from; ``amber-eval run --store PATH`` picks another file (for example one in a shared
cache, ``$AMBER_EVAL_CACHE/answers.sqlite``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amber_eval.errors import InputError, OutputError, ResourceError, describe_os_error
from amber_eval.io import canonical_json, sha256_text
from amber_eval.judge.base import Answer

STORE_FILE = ".answers.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 120.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS judges (
    judge TEXT PRIMARY KEY,
    identity TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    judge TEXT NOT NULL,
    rendered TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def judge_key(identity: Mapping[str, Any]) -> str:
    """The sha256 of a judge identity's canonical JSON."""
    return sha256_text(canonical_json(dict(identity)))


def answer_key(identity: Mapping[str, Any], rendered: str) -> str:
    """The store key of one answer: identity and the rendered prompt, both in full."""
    return _answer_key(judge_key(identity), rendered)


def _answer_key(judge: str, rendered: str) -> str:
    """sha256 over the identity's sha256 and the rendered prompt (unambiguous: fixed length)."""
    return sha256_text(judge + "\n" + rendered)


def default_store_path(out: str | os.PathLike[str] = "results") -> Path:
    """Where answers are stored unless ``--store`` says otherwise: ``<out>/.answers.sqlite``."""
    return Path(out) / STORE_FILE


@dataclass(frozen=True)
class StoredAnswer:
    """An answer read back from the store, with when it was first stored (Unix time)."""

    answer: Answer
    created: float


class AnswerStore:
    """Answers keyed by (judge identity, rendered prompt). Use as a context manager.

    ``inserted`` counts the answers this object added; answers already present are never
    replaced (the first stored answer for a key wins).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.inserted = 0
        with self._errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
            with self._transaction():
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ?)",
                    (str(SCHEMA_VERSION),),
                )
            row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None or int(row[0]) != SCHEMA_VERSION:
            self._db.close()
            raise ResourceError(
                f"the answer store {self.path} has schema {row[0] if row else '?'}, this "
                f"version of amber-eval reads schema {SCHEMA_VERSION}; use another --store file"
            )

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """SQLite and file failures as user errors that say what to do."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if isinstance(exc, sqlite3.OperationalError) and not any(
                word in text for word in ("malformed", "not a database")
            ):
                raise OutputError(
                    f"cannot use the answer store {self.path}: {text}. Free some disk space, or "
                    "pick a writable file with --store."
                ) from exc
            raise InputError(
                f"the answer store {self.path} is corrupt ({text}). Move it aside "
                f"(mv {self.path} {self.path}.corrupt) and run again: the questions are asked "
                "again, and finished run folders stay valid (they hold their own answers)."
            ) from exc
        except OSError as exc:
            raise OutputError(
                f"cannot use the answer store {self.path}: {describe_os_error(exc)}; pick "
                "another file with --store"
            ) from exc

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AnswerStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(
        self, identity: Mapping[str, Any], rendered: Iterable[str]
    ) -> dict[str, StoredAnswer]:
        """The stored answers among ``rendered`` prompts, by rendered prompt."""
        with self._errors():
            return self._get_many(identity, rendered)

    def _get_many(
        self, identity: Mapping[str, Any], rendered: Iterable[str]
    ) -> dict[str, StoredAnswer]:
        judge = judge_key(identity)
        by_key = {_answer_key(judge, text): text for text in rendered}
        found: dict[str, StoredAnswer] = {}
        keys = list(by_key)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, rendered, answer, created FROM answers WHERE key IN ({marks})",  # noqa: S608
                chunk,
            ).fetchall()
            for key, stored_text, answer_json, created in rows:
                text = by_key[key]
                if stored_text != text:  # a sha256 collision would be news; never trust one
                    continue
                found[text] = StoredAnswer(Answer.from_json(json.loads(answer_json)), created)
        return found

    def put_many(self, identity: Mapping[str, Any], items: Sequence[tuple[str, Answer]]) -> int:
        """Store ``(rendered prompt, answer)`` pairs in one transaction; returns how many were new."""
        if not items:
            return 0
        with self._errors():
            return self._put_many(identity, items)

    def _put_many(self, identity: Mapping[str, Any], items: Sequence[tuple[str, Answer]]) -> int:
        judge = judge_key(identity)
        now = time.time()
        rows = [
            (_answer_key(judge, text), judge, text, canonical_json(answer.to_json()), now)
            for text, answer in items
        ]
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO judges (judge, identity) VALUES (?, ?)",
                (judge, canonical_json(dict(identity))),
            )
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO answers (key, judge, rendered, answer, created) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            added = self._db.total_changes - before
        self.inserted += added
        return added

    def get_or_compute(
        self,
        identity: Mapping[str, Any],
        rendered: Sequence[str],
        compute: Callable[[list[str]], Iterable[Sequence[tuple[str, Answer]]]],
    ) -> Iterator[tuple[Sequence[tuple[str, Answer]], bool]]:
        """The answers of ``rendered`` prompts, batch by batch, with whether each was computed.

        First one batch of the answers the store holds (``False``), then the batches that
        ``compute`` yields for the other prompts (called once, with them in order, each prompt
        once), each stored before it is given back (``True``). A batch ``compute`` yields before
        it fails is stored too; the failure then reaches the caller.
        """
        stored = self.get_many(identity, rendered)
        unique = list(dict.fromkeys(rendered))
        if stored:
            yield [(text, stored[text].answer) for text in unique if text in stored], False
        missing = [text for text in unique if text not in stored]
        if not missing:
            return
        for batch in compute(missing):
            self.put_many(identity, batch)
            yield batch, True

    def count(self, identity: Mapping[str, Any] | None = None) -> int:
        """Stored answers, of one judge or of all."""
        if identity is None:
            row = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM answers WHERE judge = ?", (judge_key(identity),)
            ).fetchone()
        return int(row[0])


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
