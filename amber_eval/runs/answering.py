"""Answering a run's missing questions: through the answer store, in calls of whole images.

The main process appends every answer it learns to ``answers.jsonl`` as it goes (and to the
run's answers in memory); other processes only write the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from amber_eval.judge.engine import PartialAnswers, token_announcement
from amber_eval.progress import rate_progress
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.run_folder.files import AnswerLog

if TYPE_CHECKING:
    from amber_eval.judge.base import Answer
    from amber_eval.prompting import PromptRecord
    from amber_eval.runs.answer_store import AnswerStore
    from amber_eval.runs.session import RunSession


def answer_missing(
    session: RunSession,
    store: AnswerStore,
    answers: dict[int, AnswerLine],
    prompts: Sequence[PromptRecord],
) -> int:
    """Answer the ``prompts`` that ``answers`` (the run folder's) lacks, from the store or
    the judge; returns how many questions the judge answered."""
    pending = [q for q in prompts if q.id not in answers]
    rendered = session.questions.rendered
    by_text: dict[str, list[PromptRecord]] = {}
    for q in pending:
        by_text.setdefault(rendered[q.id], []).append(q)
    main = session.procs.is_main

    def compute(texts: list[str]) -> Iterator[list[tuple[str, Answer]]]:
        todo = [by_text[text][0] for text in texts]  # a prompt asked twice is asked once
        if session.echo is not None and main:
            line = token_announcement(session.judge, [q.prompt for q in todo])
            if line:
                session.echo(line)
        show = session.config.show_progress and main
        with rate_progress(len(todo), "judging", "questions", enabled=show) as advance:
            yield from _ask(session, todo, advance)

    computed = 0
    with AnswerLog(session.files.answers) as log:
        for batch, fresh in store.get_or_compute(session.identity, list(by_text), compute):
            lines = [AnswerLine.of(q, answer) for text, answer in batch for q in by_text[text]]
            if fresh:
                computed += len(lines)
            if main:
                log.append(lines)
                answers.update((line.id, line) for line in lines)
    return computed


def _ask(
    session: RunSession, todo: Sequence[PromptRecord], advance: Callable[[int], None]
) -> Iterator[list[tuple[str, Answer]]]:
    """The judge's answers to ``todo``, one call of whole images at a time; what an engine
    answered before failing is given back before the failure is raised."""
    rendered = session.questions.rendered
    sizer = ChunkSizer(session.config.chunk_questions)
    position = 0
    while position < len(todo):
        chunk = take_images(todo, position, sizer.size)
        started = time.monotonic()
        try:
            answers = session.judge.answer(
                [q.prompt for q in chunk], groups=[q.image for q in chunk], progress=advance
            )
        except PartialAnswers as exc:  # keep what the engine answered before failing
            yield [(rendered[chunk[i].id], a) for i, a in sorted(exc.answers.items())]
            raise exc.cause from None
        sizer.observe(len(chunk), time.monotonic() - started)
        if len(answers) != len(chunk):
            raise RuntimeError(f"the judge gave {len(answers)} answers for {len(chunk)}")
        yield [(rendered[q.id], a) for q, a in zip(chunk, answers, strict=True)]
        position += len(chunk)


class ChunkSizer:
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


def take_images(items: Sequence[PromptRecord], start: int, size: int) -> list[PromptRecord]:
    """Questions from ``start`` on, whole images, until at least ``size`` (or the end)."""
    end = start
    while end < len(items):
        end += 1
        image_ends = end == len(items) or items[end].image != items[end - 1].image
        if image_ends and end - start >= size:
            break
    return list(items[start:end])
