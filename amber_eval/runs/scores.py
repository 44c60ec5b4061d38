"""The content of a run's ``metrics.json``: strict and official scores, and caption coverage.

The judge answers AMBER's Yes/No questions, so both scores are discriminative (``eval_type
"d"``). A run over the first N images scores the questions it asked (``allow_partial``); the
full run scores all 14,216. Caption coverage scores the selected captions as a description of
each image (CHAIR, Cover, Hal, Cog); it needs a spaCy pipeline with word vectors, and when none
is at hand the block says so instead of failing the run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from amber_eval.errors import AmberEvalError
from amber_eval.run_folder.metrics import RunMetrics
from amber_eval.terms import RULES, Rules

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark
    from amber_eval.run_folder.answer_line import AnswerLine

log = logging.getLogger(__name__)

EVAL_TYPE = "d"


def score_answers(
    benchmark: Benchmark, answers: Sequence[AnswerLine], *, rules: Rules, complete: bool
) -> dict[str, Any]:
    """The ``strict`` or ``official`` block of ``metrics.json`` for the run's answer lines,
    each read by :func:`~amber_eval.scoring.records.question_record` (its own facts)."""
    from amber_eval.scoring.records import question_record
    from amber_eval.scoring.scorer import score_questions

    result = score_questions(
        [question_record(line, rules) for line in answers],
        eval_type=EVAL_TYPE,
        rules=rules,
        benchmark=benchmark,
        allow_partial=not complete,
    )
    data: dict[str, Any] = result.to_json()
    return data


def coverage_block(
    benchmark: Benchmark,
    selected: Mapping[str, Sequence[str]],
    images: Sequence[str],
    *,
    spacy_model: str | None,
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """The ``coverage`` block and its per-image records (None when it is not available)."""
    from amber_eval.captions.coverage import caption_coverage
    from amber_eval.scoring.similarity import DEFAULT_SPACY_MODEL, pipeline_provenance

    try:
        result = caption_coverage(benchmark, selected, images=list(images), spacy_model=spacy_model)
    except AmberEvalError as exc:
        log.info("caption coverage is not available: %s", exc)
        return _unavailable(str(exc)), None
    block = result.to_json()
    try:
        block["spacy_pipeline"] = pipeline_provenance(spacy_model or DEFAULT_SPACY_MODEL)
    except AmberEvalError as exc:
        log.info("the spaCy pipeline's provenance is not available: %s", exc)
    return block, [dict(item) for item in result.items]


def _unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}


def question_scores(
    benchmark: Benchmark, answers: Sequence[AnswerLine], *, complete: bool
) -> dict[Rules, dict[str, Any]]:
    """The ``strict`` and ``official`` blocks of ``metrics.json`` for the answer lines (empty
    blocks where there are none, as for a response file of descriptions only)."""
    return {
        rules: score_answers(benchmark, answers, rules=rules, complete=complete) if answers else {}
        for rules in RULES
    }


def judged_metrics(
    benchmark: Benchmark,
    answers: Sequence[AnswerLine],
    *,
    coverage: Mapping[str, Any],
    complete: bool,
) -> RunMetrics:
    """``metrics.json`` of a judge's answers: both rule sets, the ``coverage`` block given and
    the useless-judge alarm's ``warnings`` (a run and a jury)."""
    from amber_eval.runs.judge_alarm import judge_warnings

    scores = question_scores(benchmark, answers, complete=complete)
    return RunMetrics(
        strict=scores["strict"],
        official=scores["official"],
        coverage=coverage,
        warnings=tuple(judge_warnings(answers)),
    )


def run_metrics(
    benchmark: Benchmark,
    answers: Sequence[AnswerLine],
    *,
    selected: Mapping[str, Sequence[str]],
    images: Sequence[str],
    complete: bool,
    spacy_model: str | None,
) -> tuple[RunMetrics, list[dict[str, Any]] | None]:
    """``metrics.json`` (``strict``, ``official``, ``coverage``, the useless-judge alarm's
    ``warnings``) and the coverage records."""
    coverage, items = coverage_block(benchmark, selected, images, spacy_model=spacy_model)
    return judged_metrics(benchmark, answers, coverage=coverage, complete=complete), items
