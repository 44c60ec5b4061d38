"""Answering a prompts file: records in, one answer line per record out.

The lines are :class:`~amber_eval.run_folder.answer_line.AnswerLine` records, the same schema as a run
folder's ``answers.jsonl``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from amber_eval.io import atomic_open
from amber_eval.judge.base import Answer, Judge, Progress
from amber_eval.judge.context import check_context
from amber_eval.run_folder.answer_line import AnswerLine

ASK_HINT = (
    "render the prompts again with shorter caption lists (amber-eval prompts --order score "
    "--top-k N keeps the N best-scored captions per image, --min-score S drops captions scored "
    "below S)"
)

if TYPE_CHECKING:
    from amber_eval.prompting import PromptRecord


def answer_records(
    judge: Judge, records: Sequence[PromptRecord], *, progress: Progress | None = None
) -> list[Answer]:
    """Answer each record's prompt; records of one image share its prompt prefix.

    Prompts longer than the judge's context are refused before any model call.
    """
    check_context(
        judge,
        [r.prompt for r in records],
        labels=[f"image {r.image}, question {r.id}" for r in records],
        hint=ASK_HINT,
    )
    return judge.answer(
        [r.prompt for r in records], groups=[r.image for r in records], progress=progress
    )


def write_answers(
    path: str | os.PathLike[str], records: Sequence[PromptRecord], answers: Sequence[Answer]
) -> Path:
    """Write ``answers.jsonl`` atomically (one line per record, in the records' order)."""
    if len(records) != len(answers):
        raise ValueError(f"{len(records)} records but {len(answers)} answers")
    target = Path(path)
    with atomic_open(target, "w") as handle:
        for record, answer in zip(records, answers, strict=True):
            line = AnswerLine.of(record, answer).to_json()
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return target
