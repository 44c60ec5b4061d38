"""``run_evaluation``: captions -> prompts -> judge (through the answer store) -> scores.

A run can be killed at any moment and started again with the same command: answers already
in the answer store or in the run's ``answers.jsonl`` are never asked again, so the model only
sees the questions still missing. With several processes (``accelerate launch``, one model
replica per GPU) each process answers its share of the images into the shared store; after a
barrier the first process gathers every answer into the one run folder and scores it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval import __version__
from amber_eval.amber_images import image_sort_key
from amber_eval.captions.records import now_iso
from amber_eval.errors import AmberEvalError
from amber_eval.judge.base import Judge
from amber_eval.judge.engine import judge_requests
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.run_folder.config import Fingerprint, RunConfig
from amber_eval.run_folder.files import (
    AnswerLog,
    RunFiles,
    check_writable,
    read_json,
    run_lock,
    write_json,
    write_jsonl,
    write_responses,
    write_run_record,
    write_selected_captions,
)
from amber_eval.run_folder.record import RunRecord
from amber_eval.runs.answer_store import AnswerStore
from amber_eval.runs.answering import answer_missing
from amber_eval.runs.processes import Processes, current_processes
from amber_eval.runs.provenance import git_revision
from amber_eval.runs.session import RunSession, prepare

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What a run produced. ``metrics`` is the content of ``metrics.json`` (empty off rank 0)."""

    folder: Path
    config_hash: str
    questions: int
    images: int
    computed: int
    """Questions the model answered in this invocation (all processes together)."""
    reused: int
    """Questions answered from the store or the run's ``answers.jsonl``."""
    per_rank: tuple[int, ...]
    """Questions each process answered with the model in this invocation."""
    metrics: Mapping[str, Any] = field(default_factory=dict)
    judge_requests: Mapping[str, Any] | None = None
    """Engine backends: requests, retries and errors of this invocation (also in run.json)."""


def run_evaluation(
    config: RunConfig,
    *,
    judge: Judge | None = None,
    processes: Processes | None = None,
    echo: Callable[[str], None] | None = None,
) -> RunResult:
    """Run (or resume) one judge run and return where it wrote and what it measured.

    ``judge`` replaces ``load_judge(config.llm, ...)`` (tests pass a mock). ``processes`` is
    the process group; by default the one ``accelerate launch``/``torchrun`` set up, or one
    process. ``echo`` receives the line announcing the prompt tokens about to be sent to an
    engine backend (before any is sent). The tables and the HTML report are the report's
    (:func:`amber_eval.reporting.write_run_outputs`; ``amber-eval run`` writes them after).
    """
    session = prepare(config, judge=judge, procs=processes or current_processes(), echo=echo)
    procs, files = session.procs, session.files
    record: RunRecord | None = None
    with contextlib.ExitStack() as lock:
        try:
            if procs.is_main:
                check_writable(files.folder)
                lock.enter_context(run_lock(files.folder))
                record = _start(session)
            with AnswerStore(session.store_path) as store:
                answers = session.read_answers()
                procs.wait_for_everyone()
                mine = session.questions.shard(procs)
                computed = answer_missing(session, store, answers, mine)
                usage = judge_requests(session.judge)
                if usage is not None and record is not None:
                    record = record.replace(judge_requests=usage)
                _write_count(files, procs, computed)
                procs.wait_for_everyone()
                result = RunResult(
                    folder=files.folder,
                    config_hash=session.config_hash,
                    questions=len(session.questions),
                    images=len(session.images),
                    computed=computed,
                    reused=len(session.questions) - computed,
                    per_rank=(computed,),
                    judge_requests=usage,
                )
                if record is not None:
                    result = _finish(session, record, store, answers, result)
                procs.wait_for_everyone()
                return result
        except BaseException as exc:
            if record is not None:
                record = record.replace(status="error", ended=now_iso(), error=_error_text(exc))
                usage = judge_requests(session.judge)
                if usage is not None:
                    record = record.replace(judge_requests=usage)
                with contextlib.suppress(OSError):
                    write_run_record(files.run, record)
            raise


def _start(session: RunSession) -> RunRecord:
    """Write the started ``run.json`` and the selected captions; returns the record."""
    files = session.files
    record = _start_record(
        files,
        session.config,
        session.fingerprint,
        session.store_path,
        session.procs,
        len(session.images),
    )
    write_run_record(files.run, record)
    write_selected_captions(files.captions, session.selected)
    return record


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"


def _start_record(
    files: RunFiles,
    config: RunConfig,
    fingerprint: Fingerprint,
    store_path: Path,
    procs: Processes,
    images: int,
) -> RunRecord:
    first_started, attempts = None, 0
    if files.run.exists():  # a run started again: its first start and attempts go on
        with contextlib.suppress(OSError, ValueError):
            previous = read_json(files.run)
            if isinstance(previous, dict) and isinstance(previous.get("attempts"), int):
                first_started, attempts = previous.get("first_started"), previous["attempts"]
    now = now_iso()
    return RunRecord(
        config=config,
        model=config.model_name,
        config_hash=fingerprint.digest,
        fingerprint=fingerprint,
        status="started",
        version=__version__,
        git_revision=git_revision(),
        store=str(store_path),
        images=images,
        first_started=first_started if isinstance(first_started, str) else now,
        attempts=attempts + 1,
        started=now,
        world_size=procs.world_size,
    )


def _write_count(files: RunFiles, procs: Processes, computed: int) -> None:
    if procs.world_size > 1:
        write_json(files.folder / f".rank-{procs.rank}.json", {"computed": computed})


def _gather_counts(files: RunFiles, procs: Processes, own: int) -> tuple[int, ...]:
    if procs.world_size == 1:
        return (own,)
    counts = []
    for rank in range(procs.world_size):
        path = files.folder / f".rank-{rank}.json"
        counts.append(int(read_json(path)["computed"]))
        path.unlink()
    return tuple(counts)


def _finish(
    session: RunSession,
    record: RunRecord,
    store: AnswerStore,
    answers: dict[int, AnswerLine],
    result: RunResult,
) -> RunResult:
    """Gather every answer into ``answers.jsonl``, then write responses, metrics and run.json."""
    files, questions = session.files, session.questions
    per_rank = _gather_counts(files, session.procs, result.computed)
    _gather_answers(session, store, answers)
    wanted = [answers[q.id] for q in questions.prompts]
    write_responses(files.responses, wanted)

    from amber_eval.runs.scores import run_metrics

    metrics, coverage_items = run_metrics(
        session.benchmark,
        wanted,
        selected=session.selected,
        images=sorted({q.image for q in questions.prompts}, key=image_sort_key),
        complete=session.config.limit_images is None,
        spacy_model=session.config.spacy_model,
    )
    if coverage_items is not None:
        write_jsonl(files.coverage, coverage_items)
    write_json(files.metrics, metrics.to_json())
    computed = sum(per_rank)
    record = record.replace(
        status="success",
        ended=now_iso(),
        questions=len(questions),
        computed=computed,
        reused=len(questions) - computed,
        per_rank_computed=per_rank,
        spacy_pipeline=(metrics.coverage or {}).get("spacy_pipeline"),
    )
    write_run_record(files.run, record)
    return dataclasses.replace(
        result,
        computed=computed,
        reused=len(questions) - computed,
        per_rank=per_rank,
        metrics=metrics.to_json(),
    )


def _gather_answers(
    session: RunSession, store: AnswerStore, answers: dict[int, AnswerLine]
) -> None:
    """Append the other processes' answers (from the store) to ``answers.jsonl`` and
    ``answers``; an answer in neither is an error saying to run again."""
    files, rendered = session.files, session.questions.rendered
    missing = [q for q in session.questions.prompts if q.id not in answers]
    stored = store.get_many(session.identity, [rendered[q.id] for q in missing])
    lost = [q.id for q in missing if rendered[q.id] not in stored]
    if lost:
        raise AmberEvalError(
            f"{len(lost)} answers are neither in {files.answers} nor in the store "
            f"(first id {lost[0]}); run the same command again to answer them"
        )
    lines = [AnswerLine.of(q, stored[rendered[q.id]].answer) for q in missing]
    with AnswerLog(files.answers) as log:
        log.append(lines)
    answers.update((line.id, line) for line in lines)
