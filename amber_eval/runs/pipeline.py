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
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amber_eval import __version__
from amber_eval.amber_images import image_sort_key
from amber_eval.answer_line import AnswerLine, read_answer_lines
from amber_eval.errors import AmberEvalError
from amber_eval.io import refuse_inputs_as_outputs
from amber_eval.judge.base import Judge
from amber_eval.judge.context import check_context
from amber_eval.judge.engine import PartialAnswers, judge_requests, token_announcement
from amber_eval.progress import rate_progress
from amber_eval.runs.answer_store import AnswerStore, default_store_path
from amber_eval.runs.config import ORACLE, Fingerprint, RunConfig, data_sha256, git_revision
from amber_eval.runs.processes import Processes, current_processes
from amber_eval.runs.record import RunRecord
from amber_eval.runs.run_folder import (
    AnswerLog,
    RunFiles,
    check_writable,
    read_json,
    run_dir,
    run_lock,
    write_json,
    write_jsonl,
    write_responses,
    write_run_record,
    write_selected_captions,
)

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark
    from amber_eval.prompting import PromptRecord

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


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


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
    engine backend (before any is sent).
    """
    procs = processes or current_processes()
    check_writable(config.out)
    store_path = config.store or default_store_path(config.out)
    refuse_inputs_as_outputs(
        {"--store": store_path},
        {
            "--captions": None if config.captions == ORACLE else config.captions,
            "--template": config.template,
        },
    )

    from amber_eval.captions.selection import select_captions
    from amber_eval.captions.sources import load_captions
    from amber_eval.data import load_benchmark

    benchmark = load_benchmark(config.data_dir)
    captions = load_captions(config.captions, benchmark)
    selected = select_captions(captions.dump, config.selection)
    images = list(benchmark.first_images(config.limit_images))
    template_name, template_sha = _template_info(config.template)
    records = _render(benchmark, selected, config.template, images)

    if judge is None:
        judge = _load_judge(config, procs)
    identity = dict(judge.identity)
    questions = _Questions(records, {r.id: judge.render(r.prompt) for r in records})
    check_context(
        judge,
        [q.prompt for q in records],
        labels=[f"image {q.image}, question {q.id}" for q in records],
    )
    fingerprint = Fingerprint(
        judge_identity=identity,
        captions_sha256=captions.sha256,
        selection=config.selection.to_json(),
        template=template_name,
        template_sha256=template_sha,
        limit_images=config.limit_images,
        mode=config.answer_mode,
        data_sha256=data_sha256(),
        spacy_model=config.spacy_model,
        version=__version__,
    )
    digest = fingerprint.digest
    files = RunFiles(run_dir(config.out, config.model_name, _llm_label(config.llm), digest))

    record: RunRecord | None = None
    lock = contextlib.ExitStack()
    try:
        if procs.is_main:
            check_writable(files.folder)
            lock.enter_context(run_lock(files.folder))
            record = _start_record(files, config, fingerprint, store_path, procs, len(images))
            write_run_record(files.run, record)
            write_selected_captions(
                files.captions, {image: selected.get(image, []) for image in images}
            )
        with AnswerStore(store_path) as store:
            done = {r.id for r in read_answer_lines(files.answers, repair=procs.is_main)}
            procs.wait_for_everyone()
            mine = questions.shard(procs)
            computed = _answer_missing(
                mine, done, store, judge, identity, questions.rendered, files, procs, config, echo
            )
            usage = judge_requests(judge)
            if usage is not None and record is not None:
                record = record.replace(judge_requests=usage)
            _write_count(files, procs, computed)
            procs.wait_for_everyone()
            result = RunResult(
                folder=files.folder,
                config_hash=digest,
                questions=len(questions),
                images=len(images),
                computed=computed,
                reused=len(questions) - computed,
                per_rank=(computed,),
                judge_requests=usage,
            )
            if record is not None:
                result = _finish(
                    files,
                    record,
                    config,
                    benchmark,
                    selected,
                    questions,
                    store,
                    identity,
                    result,
                    procs,
                )
            procs.wait_for_everyone()
            return result
    except BaseException as exc:
        if record is not None:
            record = record.replace(status="error", ended=_now(), error=_error_text(exc))
            usage = judge_requests(judge) if judge is not None else None
            if usage is not None:
                record = record.replace(judge_requests=usage)
            with contextlib.suppress(OSError):
                write_run_record(files.run, record)
        raise
    finally:
        lock.close()


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"


def _llm_label(llm: str) -> str:
    """A preset name as is; a path by its last component (``.gguf`` dropped)."""
    path = Path(llm)
    if len(path.parts) > 1 or path.suffix == ".gguf":
        return path.stem if path.suffix == ".gguf" else path.name
    return llm


def _template_info(template: str) -> tuple[str, str]:
    """The template's name and the sha256 of its text."""
    from amber_eval.prompting import load_template

    loaded = load_template(template)
    return loaded.path or loaded.name, loaded.sha256


def _render(
    benchmark: Benchmark, selected: Mapping[str, list[str]], template: str, images: list[str]
) -> list[PromptRecord]:
    from amber_eval.prompting import render_prompts

    return render_prompts(benchmark, selected, template=template, images=images)


def _load_judge(config: RunConfig, procs: Processes) -> Judge:
    """The judge of ``config.llm``; with several processes, each on its own device."""
    from amber_eval.judge import load_judge

    options = config.judge_options
    if procs.world_size > 1 and procs.device is not None:
        asked = options.device
        if asked is None or asked == "cuda" or (asked == "cpu" and procs.device == "cpu"):
            options = dataclasses.replace(options, device=procs.device)
        elif asked != procs.device:
            log.warning("process %d uses --device %s as given", procs.rank, asked)
    return load_judge(config.llm, options=options)


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
    now = _now()
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


@dataclass(frozen=True)
class _Questions:
    """The run's prompts in AMBER id order, and the text the model sees for each."""

    prompts: Sequence[PromptRecord]
    rendered: Mapping[int, str]

    def __len__(self) -> int:
        return len(self.prompts)

    def shard(self, procs: Processes) -> list[PromptRecord]:
        """This process's share: whole images, dealt round-robin in AMBER id order."""
        if procs.world_size == 1:
            return list(self.prompts)
        order: dict[str, int] = {}
        for q in self.prompts:
            order.setdefault(q.image, len(order))
        return [q for q in self.prompts if order[q.image] % procs.world_size == procs.rank]


def _answer_missing(
    mine: Sequence[PromptRecord],
    done: set[int],
    store: AnswerStore,
    judge: Judge,
    identity: Mapping[str, Any],
    rendered: Mapping[int, str],
    files: RunFiles,
    procs: Processes,
    config: RunConfig,
    echo: Callable[[str], None] | None = None,
) -> int:
    """Answer this process's questions that neither the run folder nor the store holds.

    Returns how many the model answered. The main process appends every answer it learns to
    ``answers.jsonl`` as it goes; other processes only write the store.
    """
    pending = [q for q in mine if q.id not in done]
    stored = store.get_many(identity, [rendered[q.id] for q in pending])
    todo = [q for q in pending if rendered[q.id] not in stored]
    if echo is not None and procs.is_main and todo:
        line = token_announcement(judge, [q.prompt for q in todo])
        if line:
            echo(line)
    computed = 0
    with AnswerLog(files.answers) as log:
        if procs.is_main:
            log.append(
                AnswerLine.of(q, stored[rendered[q.id]].answer)
                for q in pending
                if rendered[q.id] in stored
            )
        with _progress(len(todo), config.show_progress and procs.is_main) as advance:
            sizer = _ChunkSizer(config.chunk_questions)
            position = 0
            while position < len(todo):
                chunk = _take_images(todo, position, sizer.size)
                started = time.monotonic()
                try:
                    answers = judge.answer(
                        [q.prompt for q in chunk], groups=[q.image for q in chunk], progress=advance
                    )
                except PartialAnswers as exc:  # keep what the engine answered before failing
                    got = [(chunk[i], a) for i, a in sorted(exc.answers.items())]
                    store.put_many(identity, [(rendered[q.id], a) for q, a in got])
                    if procs.is_main:
                        log.append(AnswerLine.of(q, a) for q, a in got)
                    raise exc.cause from None
                sizer.observe(len(chunk), time.monotonic() - started)
                if len(answers) != len(chunk):
                    raise RuntimeError(f"the judge gave {len(answers)} answers for {len(chunk)}")
                store.put_many(
                    identity, [(rendered[q.id], a) for q, a in zip(chunk, answers, strict=True)]
                )
                if procs.is_main:
                    log.append(AnswerLine.of(q, a) for q, a in zip(chunk, answers, strict=True))
                computed += len(chunk)
                position += len(chunk)
    return computed


class _ChunkSizer:
    """How many questions go to the judge per call.

    A fixed ``size`` is used as given. Otherwise the first call gets ``START`` questions and
    later calls as many as the measured speed answers in ``TARGET_S`` seconds (between
    ``START`` and ``MAX``): large enough for full batches on a GPU, small enough that a kill
    loses at most a few seconds of work.
    """

    START = 32
    MAX = 4096
    TARGET_S = 10.0

    def __init__(self, size: int | None) -> None:
        self.fixed = size is not None
        self.size = size if size is not None else self.START

    def observe(self, questions: int, seconds: float) -> None:
        if self.fixed or seconds <= 0:
            return
        wanted = int(questions / seconds * self.TARGET_S)
        self.size = max(self.START, min(self.MAX, wanted))


def _take_images(items: Sequence[PromptRecord], start: int, size: int) -> list[PromptRecord]:
    """Questions from ``start`` on, whole images, until at least ``size`` (or the end)."""
    end = start
    while end < len(items):
        end += 1
        image_ends = end == len(items) or items[end].image != items[end - 1].image
        if image_ends and end - start >= size:
            break
    return list(items[start:end])


def _progress(total: int, show: bool) -> contextlib.AbstractContextManager[Callable[[int], None]]:
    return rate_progress(total, "judging", "questions", enabled=show)


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
    files: RunFiles,
    record: RunRecord,
    config: RunConfig,
    benchmark: Benchmark,
    selected: Mapping[str, list[str]],
    questions: _Questions,
    store: AnswerStore,
    identity: Mapping[str, Any],
    result: RunResult,
    procs: Processes,
) -> RunResult:
    """Gather every answer into ``answers.jsonl``, then write responses, metrics and run.json."""
    per_rank = _gather_counts(files, procs, result.computed)
    logged = {r.id for r in read_answer_lines(files.answers)}
    missing = [q for q in questions.prompts if q.id not in logged]
    rendered = questions.rendered
    stored = store.get_many(identity, [rendered[q.id] for q in missing])
    lost = [q.id for q in missing if rendered[q.id] not in stored]
    if lost:
        raise AmberEvalError(
            f"{len(lost)} answers are neither in {files.answers} nor in the store "
            f"(first id {lost[0]}); run the same command again to answer them"
        )
    with AnswerLog(files.answers) as log:
        log.append(AnswerLine.of(q, stored[rendered[q.id]].answer) for q in missing)
    lines = {r.id: r for r in read_answer_lines(files.answers)}
    wanted = [lines[q.id] for q in questions.prompts]
    write_responses(files.responses, wanted)

    from amber_eval.runs.scores import run_metrics

    metrics, coverage_items = run_metrics(
        benchmark,
        wanted,
        selected=selected,
        images=sorted({q.image for q in questions.prompts}, key=image_sort_key),
        complete=config.limit_images is None,
        spacy_model=config.spacy_model,
    )
    from amber_eval.runs.judge_alarm import judge_warnings

    metrics["warnings"] = [warning.to_json() for warning in judge_warnings(wanted)]
    if coverage_items is not None:
        write_jsonl(files.coverage, coverage_items)
    write_json(files.metrics, metrics)
    computed = sum(per_rank)
    record = record.replace(
        status="success",
        ended=_now(),
        questions=len(questions),
        computed=computed,
        reused=len(questions) - computed,
        per_rank_computed=per_rank,
    )
    write_run_record(files.run, record)
    _write_reports(files.folder)
    return RunResult(
        folder=files.folder,
        config_hash=result.config_hash,
        questions=len(questions),
        images=result.images,
        computed=computed,
        reused=len(questions) - computed,
        per_rank=per_rank,
        metrics=metrics,
        judge_requests=result.judge_requests,
    )


def _write_reports(folder: Path) -> None:
    """Tables and the HTML report, when the reporting package provides them.

    The run's own files are complete by now; a report that cannot be written is a warning,
    and ``amber-eval report`` can write it later.
    """
    try:
        from amber_eval import reporting
    except ImportError:
        return
    for name in ("write_run_tables", "write_run_report"):
        writer = getattr(reporting, name, None)
        if not callable(writer):
            continue
        try:
            writer(folder)
        except Exception as exc:
            log.warning(
                "%s failed (%s: %s); the run's results are complete, write the tables later "
                "with `amber-eval report %s`",
                name,
                type(exc).__name__,
                exc,
                folder,
            )
