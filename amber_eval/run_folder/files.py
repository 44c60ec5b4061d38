"""The files of one judge run: ``results/<model>/<llm>-<config hash>/``.

- ``run.json``: the run's configuration and provenance (:class:`~amber_eval.run_folder.record.RunRecord`),
  rewritten atomically at start (``status: started``) and at the end (``success`` or ``error``).
- ``selected-captions.json``: ``{image: [caption, ...]}``, the captions each image's prompts
  list (after selection), so the folder alone renders its report.
- ``answers.jsonl``: append-only, one :class:`~amber_eval.run_folder.answer_line.AnswerLine` per question
  as it is answered; a torn last line (a process killed mid-write) is dropped when the run
  resumes.
- ``responses.json``: the upstream ``[{"id", "response"}]`` format.
- ``metrics.json``: strict, official and caption-coverage blocks.
- ``coverage.jsonl``: per-image description records (strict, then official), when coverage is
  available.

Every file except ``answers.jsonl`` is written atomically; ``answers.jsonl`` is only appended
to, each line flushed and synced, so nothing that was written is lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from amber_eval.errors import InputError, ResourceError
from amber_eval.io import atomic_write_json, atomic_write_text, read_jsonl
from amber_eval.terms import Rules

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine
    from amber_eval.run_folder.coverage_line import CoverageLine
    from amber_eval.run_folder.record import RunRecord

RUN_FILE = "run.json"
ANSWERS_FILE = "answers.jsonl"
RESPONSES_FILE = "responses.json"
METRICS_FILE = "metrics.json"
COVERAGE_FILE = "coverage.jsonl"
SELECTED_CAPTIONS_FILE = "selected-captions.json"
CAPTIONS_FILE = "captions.jsonl"
"""A model's caption dump, ``<out>/<model>/captions.jsonl`` (beside its run folders)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")


def safe_name(name: str) -> str:
    """``name`` as one path component: other characters become ``_``; never ``.``/``..``."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "unnamed"
    return cleaned[:100]


def model_results_dir(out: Path, model: str) -> Path:
    """``<out>/<model>``: where a model's captions and runs live."""
    return out / safe_name(model)


def captions_path(out: Path, model: str) -> Path:
    """``<out>/<model>/captions.jsonl``."""
    return model_results_dir(out, model) / CAPTIONS_FILE


def run_dir(out: Path, model: str, llm: str, config_hash: str) -> Path:
    """``<out>/<model>/<llm>-<first 12 hex digits of the config hash>``."""
    return model_results_dir(out, model) / f"{safe_name(llm)}-{config_hash[:12]}"


def check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be written in it; else ResourceError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ResourceError(
            f"cannot write to the output folder {folder}: {exc.strerror or exc}. "
            "Choose another folder with --out."
        ) from exc


LOCK_FILE = ".lock"


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a run folder; a second process on it is a ResourceError.

    The lock is released when the process ends, however it ends (``kill -9`` included).
    """
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform
        yield
        return
    handle = (folder / LOCK_FILE).open("a")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResourceError(
                f"another amber-eval process is running in {folder}; wait for it to finish "
                "(or stop it) and run the command again"
            ) from None
        yield
    finally:
        handle.close()


@dataclass(frozen=True)
class RunFiles:
    """Paths of one run folder's files."""

    folder: Path

    @property
    def run(self) -> Path:
        return self.folder / RUN_FILE

    @property
    def answers(self) -> Path:
        return self.folder / ANSWERS_FILE

    @property
    def responses(self) -> Path:
        return self.folder / RESPONSES_FILE

    @property
    def metrics(self) -> Path:
        return self.folder / METRICS_FILE

    @property
    def coverage(self) -> Path:
        return self.folder / COVERAGE_FILE

    @property
    def captions(self) -> Path:
        return self.folder / SELECTED_CAPTIONS_FILE


class AnswerLog:
    """Appends answer records to ``answers.jsonl``, one flushed and synced line each batch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def append(self, lines: Iterable[AnswerLine]) -> None:
        text = "".join(json.dumps(line.to_json(), ensure_ascii=False) + "\n" for line in lines)
        if not text:
            return
        if self._handle is None:
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(text)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> AnswerLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_responses(path: Path, lines: Sequence[AnswerLine]) -> None:
    """``responses.json``: ``[{"id", "response"}]`` sorted by id, the upstream format.

    Each response is the judge's decision, exactly ``Yes`` or ``No``, whatever the answer mode;
    an answer that reads as neither is written as it was given (the raw text of every answer
    stays in ``answers.jsonl``): see :attr:`AnswerLine.response`.
    """
    rows = [{"id": line.id, "response": line.response} for line in sorted(lines, key=_by_id)]
    atomic_write_json(path, rows)


def _by_id(line: AnswerLine) -> int:
    return line.id


def write_run_record(path: Path, record: RunRecord) -> None:
    """``run.json``, atomically."""
    atomic_write_json(path, record.to_json())


def write_selected_captions(path: Path, captions: Mapping[str, Sequence[str]]) -> None:
    """``selected-captions.json``: each image's selected captions, in AMBER image order."""
    atomic_write_json(path, {image: list(texts) for image, texts in captions.items()})


def read_selected_captions(folder: Path) -> dict[str, list[str]]:
    """A run folder's ``selected-captions.json`` (empty when the run wrote none)."""
    path = folder / SELECTED_CAPTIONS_FILE
    if not path.exists():
        return {}
    data = read_json(path)
    if not isinstance(data, dict) or not all(
        isinstance(texts, list) and all(isinstance(t, str) for t in texts)
        for texts in data.values()
    ):
        raise InputError(f"{path}: expected an object of image -> list of caption strings")
    return {str(image): list(texts) for image, texts in data.items()}


def read_coverage_lines(folder: Path, rules: Rules = "strict") -> list[CoverageLine]:
    """A run folder's ``coverage.jsonl`` lines scored under ``rules`` (none when it has no file).

    A folder whose file holds only strict lines (written before the run recorded the official
    ones) has no official lines: asking for them is an :class:`InputError` saying to run again.
    """
    from amber_eval.run_folder.coverage_line import CoverageLine

    path = folder / COVERAGE_FILE
    lines = [CoverageLine.from_json(row, where=str(path)) for row in read_jsonl(path)]
    wanted = [line for line in lines if line.rules == rules]
    if lines and not wanted:
        raise InputError(
            f"{path}: no description lines scored under the {rules} rules (an amber-eval "
            "version before coverage lines carried their rules wrote this file); run the "
            "same command again to rebuild the folder"
        )
    return wanted


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """Replace ``path`` with one JSON object per line, atomically."""
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def write_json(path: Path, data: Any) -> None:
    atomic_write_json(path, data)


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)
