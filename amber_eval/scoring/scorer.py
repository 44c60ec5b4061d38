"""Scoring a whole response file: id checks by rules, per-item records, blocks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from amber_eval.errors import InputError
from amber_eval.scoring.discriminative import discriminative_block_names, discriminative_blocks
from amber_eval.scoring.generative import (
    Vocabulary,
    generative_block,
    noun_forms,
    score_description,
)
from amber_eval.scoring.records import DescriptionRecord, ItemRecord, QuestionRecord
from amber_eval.scoring.responses import Response, Scorable
from amber_eval.scoring.result import Coverage, ScoreResult
from amber_eval.scoring.similarity import DEFAULT_SPACY_MODEL, SimilarityTable
from amber_eval.terms import RULES, parse_answer

if TYPE_CHECKING:
    from amber_eval.data.benchmark import Benchmark

EVAL_TYPES = ("a", "g", "d", "de", "da", "dr")


def _ids_text(ids: Sequence[int], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > limit else "")


def score_responses(
    responses: Sequence[Scorable],
    *,
    eval_type: str = "a",
    rules: str = "strict",
    benchmark: Benchmark | None = None,
    similarity: SimilarityTable | None = None,
    spacy_model: str | None = None,
    allow_partial: bool = False,
    noun_cache: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ScoreResult:
    """Score ``responses`` as evaluation type ``eval_type`` under ``rules``.

    ``official`` reproduces the upstream scorer (duplicates counted twice, ids outside the type
    processed, missing ids absent; each with a warning). ``strict`` makes unknown ids,
    duplicates and ids outside the type errors, and missing ids an error unless
    ``allow_partial`` (then :attr:`ScoreResult.coverage` says how much was scored). Unknown ids
    are an error in both modes. ``progress`` is called with the number of descriptions done.
    """
    _check_arguments(rules, eval_type)
    if benchmark is None:
        from amber_eval.data import load_benchmark

        benchmark = load_benchmark()
    warnings, coverage = _check_ids(
        [r.id for r in responses], eval_type, rules, benchmark, allow_partial
    )
    items = _records(
        responses,
        benchmark=benchmark,
        rules=rules,
        similarity=similarity,
        spacy_model=spacy_model,
        noun_cache=noun_cache,
        progress=progress,
    )
    return _result(items, eval_type=eval_type, rules=rules, warnings=warnings, coverage=coverage)


def score_questions(
    records: Sequence[QuestionRecord],
    *,
    eval_type: str = "d",
    rules: str = "strict",
    benchmark: Benchmark,
    allow_partial: bool = False,
) -> ScoreResult:
    """Score Yes/No question records that carry their own facts (a run's answer lines, read by
    :func:`~amber_eval.scoring.records.question_record`): the ids are checked against AMBER
    as :func:`score_responses` checks them, and nothing is read again from the benchmark."""
    _check_arguments(rules, eval_type)
    warnings, coverage = _check_ids(
        [r.id for r in records], eval_type, rules, benchmark, allow_partial
    )
    return _result(records, eval_type=eval_type, rules=rules, warnings=warnings, coverage=coverage)


def _check_arguments(rules: str, eval_type: str) -> None:
    if rules not in RULES:
        raise InputError(f"unknown scoring rules {rules!r}: use 'strict' or 'official'")
    if eval_type not in EVAL_TYPES:
        raise InputError(
            f"unknown evaluation type {eval_type!r}: use one of {', '.join(EVAL_TYPES)}"
        )


def _check_ids(
    ids: Sequence[int],
    eval_type: str,
    rules: str,
    benchmark: Benchmark,
    allow_partial: bool,
) -> tuple[list[str], Coverage | None]:
    """The warnings of ``ids`` under ``rules`` (errors raised) and, strict, the coverage."""
    strict = rules == "strict"
    warnings: list[str] = []

    unknown = [i for i in ids if i not in benchmark.generative and i not in benchmark.questions]
    if unknown:
        raise InputError(
            f"unknown ids (AMBER has ids 1..{len(benchmark.generative) + len(benchmark.questions)}): "
            f"{_ids_text(unknown)}"
        )
    counts = Counter(ids)
    duplicates = sorted(i for i, c in counts.items() if c > 1)
    if duplicates:
        if strict:
            raise InputError(
                f"duplicate ids: {_ids_text(duplicates)} (strict mode scores each id once)"
            )
        warnings.append(
            f"duplicate ids counted twice, as the upstream scorer does: {_ids_text(duplicates)}"
        )
    expected = set(benchmark.expected_ids(eval_type))
    outside = sorted(set(ids) - expected)
    if outside:
        if strict:
            raise InputError(
                f"ids outside evaluation type {eval_type!r}: {_ids_text(outside)} "
                "(choose the type that matches the file, e.g. --type a)"
            )
        warnings.append(
            f"ids outside evaluation type {eval_type!r} processed as the upstream scorer does "
            f"(they count in no printed block, or in the overall counters): {_ids_text(outside)}"
        )
    missing = sorted(expected - set(counts))
    if missing:
        if strict and not allow_partial:
            raise InputError(
                f"{len(missing)} of the {len(expected)} ids of evaluation type {eval_type!r} have "
                f"no response: {_ids_text(missing)} (pass --allow-partial to score what is there)"
            )
        warnings.append(
            f"{len(missing)} of the {len(expected)} ids of evaluation type {eval_type!r} have no "
            f"response: {_ids_text(missing)}"
        )
    if not strict:
        return warnings, None
    scored = len(expected & set(counts))
    return warnings, Coverage(expected=len(expected), scored=scored, missing=len(missing))


def _result(
    items: Sequence[ItemRecord],
    *,
    eval_type: str,
    rules: str,
    warnings: Sequence[str],
    coverage: Coverage | None,
) -> ScoreResult:
    strict = rules == "strict"
    descriptions = [r for r in items if isinstance(r, DescriptionRecord)]
    questions = [r for r in items if isinstance(r, QuestionRecord)]
    blocks: dict[str, dict[str, float | None]] = {}
    if eval_type in ("a", "g"):
        blocks["generative"] = generative_block(descriptions, rules=rules)
    blocks.update(discriminative_blocks(questions, eval_type=eval_type, rules=rules))
    always_no = unknown_excluded = None
    if strict and discriminative_block_names(eval_type):
        always_no = discriminative_blocks(
            [_as_no(q) for q in questions], eval_type=eval_type, rules=rules
        )
        unknown_excluded = discriminative_blocks(
            [q for q in questions if q.parsed != "unknown"], eval_type=eval_type, rules=rules
        )
    return ScoreResult(
        rules=rules,
        eval_type=eval_type,
        blocks=blocks,
        items=tuple(items),
        warnings=tuple(warnings),
        always_no=always_no,
        coverage=coverage,
        unknown_excluded=unknown_excluded,
    )


def baseline_answers(
    benchmark: Benchmark, eval_type: str = "d", answer: str = "No"
) -> list[Response]:
    """The same ``answer`` to every Yes/No question of ``eval_type`` (e.g. the always-"No"
    baseline), as a response list ready for :func:`score_responses`."""
    return [
        Response(id=i, response=answer)
        for i in benchmark.expected_ids(eval_type)
        if i in benchmark.questions
    ]


def _as_no(record: QuestionRecord) -> QuestionRecord:
    return QuestionRecord(
        id=record.id,
        image=record.image,
        dimension=record.dimension,
        raw="No",
        parsed="no",
        truth=record.truth,
    )


def _records(
    responses: Sequence[Scorable],
    *,
    benchmark: Benchmark,
    rules: str,
    similarity: SimilarityTable | None,
    spacy_model: str | None,
    noun_cache: bool,
    progress: Callable[[int], None] | None,
) -> list[ItemRecord]:
    from amber_eval.scoring.nouns import start_noun_extraction

    generative = [r for r in responses if r.id in benchmark.generative]
    vocabulary = Vocabulary.from_benchmark(benchmark)
    nouns_by_position: list[list[tuple[str, str]]] = []
    if generative:
        from amber_eval.scoring.similarity import start_similarity

        # The similarity table (cached, or computed in a helper process) comes while this
        # process extracts the nouns; a missing pipeline fails before any work starts.
        pending_table = (
            None
            if similarity is not None
            else start_similarity(spacy_model or DEFAULT_SPACY_MODEL, vocabulary=vocabulary.words)
        )
        try:
            nouns_by_position = start_noun_extraction(
                [r.response for r in generative], cache=noun_cache, progress=progress
            ).result()
        except BaseException:
            if pending_table is not None:
                pending_table.cancel()
            raise
        if pending_table is not None:
            similarity = pending_table.result()
    noun_iter = iter(nouns_by_position)
    records: list[ItemRecord] = []
    for response in responses:
        if response.id in benchmark.generative:
            item = benchmark.generative[response.id]
            assert similarity is not None
            records.append(
                score_description(
                    item.id,
                    item.image,
                    noun_forms(next(noun_iter), strict=rules == "strict"),
                    item.truth,
                    item.hallu,
                    vocabulary,
                    similarity.similar,
                    strict=rules == "strict",
                )
            )
        else:
            question = benchmark.questions[response.id]
            records.append(
                QuestionRecord(
                    id=question.id,
                    image=question.image,
                    dimension=question.dimension.value,
                    raw=response.response,
                    parsed=parse_answer(response.response, rules),  # type: ignore[arg-type]
                    truth="yes" if question.truth else "no",
                )
            )
    return records
