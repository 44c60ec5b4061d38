"""Synthetic run folders (seeded) for ``amber-eval bench-report``, the tests and trying the
report formats.

They ship with the package because the report benchmark times a full-size run without a
model or AMBER's data; the tests use them too.

The answers are random but internally consistent; ``metrics.json`` is computed from them with
the bootstrap's count formulas (strict), and the official block holds the same figures rounded
to one decimal. Nothing here touches AMBER's data.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from amber_eval.amber_images import image_name
from amber_eval.io import atomic_write_json, atomic_write_text
from amber_eval.reporting.bootstrap import image_counts, metrics_from_sums
from amber_eval.run_folder.answer_line import AnswerLine
from amber_eval.run_folder.config import RunConfig
from amber_eval.run_folder.coverage_line import CoverageLine
from amber_eval.run_folder.files import METRICS_FILE, RUN_FILE, write_run_record
from amber_eval.run_folder.record import RunRecord
from amber_eval.scoring.result import UNKNOWN_EXCLUDED
from amber_eval.terms import DIMENSION_NAMES as DIMENSIONS
from amber_eval.terms import RULES, Rules

_OBJECTS = (
    "dog", "cat", "car", "tree", "person", "ball", "table", "chair", "bird", "cup",
    "bicycle", "horse", "boat", "sky", "grass", "building", "window", "shirt", "bench", "kite",
)  # fmt: skip
_ATTRIBUTES = ("red", "running", "two", "wooden", "sitting", "three", "open", "flying")


def _question(rng: np.random.Generator, dimension: str, obj: str) -> str:
    if dimension == "existence":
        return f"Is there a {obj} in this image?"
    if dimension == "relation":
        other = _OBJECTS[int(rng.integers(len(_OBJECTS)))]
        return f"Is the {obj} next to the {other}?"
    return f"Is the {obj} {_ATTRIBUTES[int(rng.integers(len(_ATTRIBUTES)))]}?"


def synthetic_records(
    images: int = 20,
    *,
    seed: int = 0,
    accuracy: float = 0.75,
    questions_per_image: int = 14,
    total_questions: int | None = None,
) -> tuple[list[AnswerLine], list[CoverageLine], dict[str, list[str]]]:
    """Answer records, coverage records and captions for ``images`` synthetic images.

    ``total_questions`` (e.g. AMBER's 14,216 over 1,004 images) spreads that many questions
    over the images instead of ``questions_per_image`` each.
    """
    rng = np.random.default_rng(seed)
    answers: list[AnswerLine] = []
    coverage: list[CoverageLine] = []
    captions: dict[str, list[str]] = {}
    question_id = 1005
    for number in range(1, images + 1):
        image = image_name(number)
        present = [_OBJECTS[int(i)] for i in rng.choice(len(_OBJECTS), size=4, replace=False)]
        captions[image] = [f"a {obj} in the scene" for obj in present[:3]]
        caption_text = ", ".join(captions[image])
        count = questions_per_image
        if total_questions is not None:
            count = total_questions // images + (1 if number <= total_questions % images else 0)
        for _ in range(count):
            dimension = DIMENSIONS[int(rng.integers(len(DIMENSIONS)))]
            obj = present[int(rng.integers(len(present)))]
            truth = "no" if dimension == "existence" else ("yes" if rng.random() < 0.5 else "no")
            right = rng.random() < accuracy
            p_yes = float(rng.beta(2, 5) if (truth == "yes") != right else rng.beta(5, 2))
            if rng.random() < 0.02:
                answer, parsed = "I cannot tell.", "unknown"
            else:
                parsed = truth if right else ("no" if truth == "yes" else "yes")
                answer = parsed.capitalize()
            answers.append(
                AnswerLine(
                    id=question_id,
                    image=image,
                    dimension=dimension,
                    truth=truth,  # type: ignore[arg-type]
                    prompt=(
                        f"If an image contains {caption_text}. {_question(rng, dimension, obj)} "
                        "Answer the Yes-No question with only the single word with nothing else."
                    ),
                    answer=answer,
                    parsed=parsed,  # type: ignore[arg-type]
                    p_yes=round(p_yes, 4),
                    margin=round(float(np.log(p_yes / (1 - p_yes))), 4),
                    token=answer.split()[0],
                    flagged=parsed == "unknown",
                )
            )
            question_id += 1
        nouns = int(rng.integers(3, 8))
        hallucinated = int(rng.integers(0, 3))
        cover = int(rng.integers(1, 5))
        cog = int(rng.integers(0, 2))
        coverage.append(
            CoverageLine(
                image=image,
                description=caption_text,
                chair_score=hallucinated,
                chair_num=nouns,
                cover_score=cover,
                cover_num=5,
                cog_score=cog,
                cog_num=4,
                hallucination_free=hallucinated == 0,
            )
        )
    return answers, coverage, captions


def _blocks(values: dict[str, float | None], *, strict: bool) -> dict[str, Any]:
    blocks: dict[str, dict[str, float | None]] = {}
    for key, value in values.items():
        block, metric = key.split(".", 1)
        if block == "score" or (not strict and metric in ("n", "yes_ratio", "parse_failure_rate")):
            continue
        if value is not None and metric in ("yes_ratio", "parse_failure_rate"):
            value = value / 100.0  # the score JSON holds these as fractions
        elif value is not None and not strict and metric != "n":
            value = round(value, 1)
        blocks.setdefault(block, {})[metric] = value
    return blocks


def synthetic_metrics(
    answers: Sequence[AnswerLine], coverage: Sequence[CoverageLine]
) -> dict[str, Any]:
    """``metrics.json`` of the answers and description lines, as a run computes it (its
    figures through scoring's aggregation, the useless-judge alarm's warnings)."""
    from amber_eval.runs.judge_alarm import judge_warnings

    values, official = (_values(answers, coverage, rules) for rules in RULES)
    generative = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("generative.")}
    metrics: dict[str, Any] = {
        "strict": _blocks(
            {k: v for k, v in values.items() if not k.startswith("generative.")}, strict=True
        ),
        "official": _blocks(
            {k: v for k, v in official.items() if not k.startswith("generative.")}, strict=False
        ),
        "coverage": {
            "strict": generative,
            "official": {k: (None if v is None else round(v, 1)) for k, v in generative.items()},
        }
        if coverage
        else {"available": False, "reason": "no coverage in this synthetic run"},
    }
    readable = metrics_from_sums(image_counts(answers, unknown="exclude").counts.sum(axis=0))
    metrics["strict"][UNKNOWN_EXCLUDED] = _blocks(
        {
            k: (float(v) if np.isfinite(v) else None)
            for k, v in readable.items()
            if not k.startswith(("generative.", "score."))
        },
        strict=True,
    )
    metrics["warnings"] = [warning.to_json() for warning in judge_warnings(answers)]
    return metrics


def _values(answers: Any, coverage: Any, rules: Rules) -> dict[str, float | None]:
    """The table values of the answers under ``rules`` (as ``metrics.json`` holds them)."""
    lines = [dataclasses.replace(c, rules=rules) for c in coverage]
    counts = image_counts(answers, lines, rules=rules)
    estimates = metrics_from_sums(counts.counts.sum(axis=0), rules=rules)
    return {k: (float(v) if np.isfinite(v) else None) for k, v in estimates.items()}


def synthetic_record(
    *,
    model: str,
    llm: str,
    captions: str = "synthetic",
    images: int | None = None,
    questions: int | None = None,
) -> RunRecord:
    """A finished run's record for a synthetic (or hand-made) run folder."""
    return RunRecord(
        config=RunConfig(captions=captions, llm=llm, model=model),
        model=model,
        config_hash="0" * 64,
        status="success",
        images=images,
        questions=questions,
    )


def write_synthetic_run(
    folder: str | Path,
    *,
    model: str = "synthetic",
    llm: str = "mock",
    images: int = 20,
    seed: int = 0,
    accuracy: float = 0.75,
    questions_per_image: int = 14,
    total_questions: int | None = None,
    with_coverage: bool = True,
    alarm: bool = False,
) -> Path:
    """Write a complete run folder (run.json, metrics.json, answers.jsonl, coverage.jsonl).

    ``alarm`` makes the judge answer Yes to every question, so the run raises the
    useless-judge alarm as a real run would (its figures and warnings computed from those
    answers), for trying the reports' alarm marks.
    """
    target = Path(folder)
    answers, coverage, _ = synthetic_records(
        images,
        seed=seed,
        accuracy=accuracy,
        questions_per_image=questions_per_image,
        total_questions=total_questions,
    )
    if not with_coverage:
        coverage = []
    if alarm:
        answers = [
            dataclasses.replace(a, answer="Yes", parsed="yes", p_yes=None, margin=None)
            for a in answers
        ]
    metrics = synthetic_metrics(answers, coverage)
    target.mkdir(parents=True, exist_ok=True)
    record = synthetic_record(model=model, llm=llm, images=images, questions=len(answers))
    write_run_record(target / RUN_FILE, record)
    atomic_write_json(target / METRICS_FILE, metrics)
    atomic_write_text(
        target / "answers.jsonl",
        "".join(json.dumps(a.to_json(), ensure_ascii=False) + "\n" for a in answers),
    )
    if with_coverage:
        atomic_write_text(
            target / "coverage.jsonl",
            "".join(
                json.dumps(c.to_json() | {"rules": rules}, ensure_ascii=False) + "\n"
                for rules in RULES
                for c in coverage
            ),
        )
    return target
