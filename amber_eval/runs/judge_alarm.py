"""The alarm for a useless judge: a run whose answers carry (almost) no information.

A judge that answers "No" to everything scores what the always-"No" baseline scores, and its
table looks like a result. The alarm fires when

- the Yes-ratio, overall or in a block with at least :data:`MIN_BLOCK_QUESTIONS` questions, is
  below :data:`LOW_YES` or above :data:`HIGH_YES` (``yes-ratio-low`` / ``yes-ratio-high``), or
- the overall accuracy does not exceed the always-"No" baseline's beyond the 95% bootstrap
  interval over images: the paired difference's lower bound is not above 0
  (``not-above-always-no``).

Each warning is a :class:`~amber_eval.run_folder.metrics.JudgeWarning` (code, block, figures,
message); ``metrics.json``
carries them under ``warnings``, and the summary, the tables and the HTML report show them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from amber_eval.run_folder.metrics import JudgeWarning
from amber_eval.scoring.records import QuestionRecord, question_record
from amber_eval.terms import BLOCK_DIMENSIONS

if TYPE_CHECKING:
    from amber_eval.run_folder.answer_line import AnswerLine

LOW_YES = 0.02
HIGH_YES = 0.98
MIN_BLOCK_QUESTIONS = 20
LEVEL = 95.0
RESAMPLES = 1000
SEED = 0
ADVICE = (
    "judge with a real LLM for numbers that mean something, e.g. --llm llama2-7b on a GPU "
    "(amber-eval judge-check --llm NAME measures a judge on the oracle captions first)"
)


def _yes_ratio_warnings(lines: Sequence[QuestionRecord]) -> list[JudgeWarning]:
    warnings = []
    for block, dimensions in BLOCK_DIMENSIONS.items():
        inside = [line for line in lines if line.dimension in dimensions]
        n = len(inside)
        if n == 0 or (block != "overall" and n < MIN_BLOCK_QUESTIONS):
            continue
        yes = sum(1 for line in inside if line.parsed == "yes")
        ratio = yes / n
        if LOW_YES <= ratio <= HIGH_YES:
            continue
        low = ratio < LOW_YES
        said = '"Yes"' if not low else '"No" (or nothing readable)'
        warnings.append(
            JudgeWarning(
                code="yes-ratio-low" if low else "yes-ratio-high",
                block=block,
                figures={"yes_ratio": ratio, "n": n, "yes": yes},
                message=(
                    f"{block}: the judge said Yes to {ratio:.1%} of {n} questions, so it answers "
                    f"{said} almost regardless of the captions; its scores measure the judge's "
                    "bias, not the captioner"
                ),
            )
        )
    return warnings


def _image_rows(lines: Sequence[QuestionRecord]) -> np.ndarray:
    """Per image: questions, correct answers, questions whose truth is No."""
    rows: dict[str, np.ndarray] = {}
    for line in lines:
        row = rows.setdefault(line.image, np.zeros(3))
        row += (1.0, float(line.parsed == line.truth), float(line.truth == "no"))
    return np.array(list(rows.values())).reshape(len(rows), 3)


def _accuracy_gain(sums: np.ndarray) -> np.ndarray:
    """Accuracy minus the always-"No" accuracy, in points, from ``[n, correct, truth_no]``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            sums[..., 0] > 0, 100.0 * (sums[..., 1] - sums[..., 2]) / sums[..., 0], np.nan
        )


def _baseline_warning(lines: Sequence[QuestionRecord]) -> JudgeWarning | None:
    from amber_eval.statistics.image_bootstrap import image_weights, interval_over_images

    rows = _image_rows(lines)
    if rows.shape[0] == 0:
        return None
    weights = image_weights(rows.shape[0], RESAMPLES, SEED)
    gain = interval_over_images(rows, _accuracy_gain, weights, level=LEVEL)
    if gain.low is not None and gain.low > 0:
        return None
    totals = rows.sum(axis=0)
    accuracy = 100.0 * totals[1] / totals[0]
    baseline = 100.0 * totals[2] / totals[0]
    interval = (
        "undefined"
        if gain.low is None or gain.high is None
        else f"[{gain.low:+.1f}, {gain.high:+.1f}]"
    )
    return JudgeWarning(
        code="not-above-always-no",
        block="overall",
        figures={
            "accuracy": accuracy,
            "always_no_accuracy": baseline,
            "difference": gain.estimate,
            "low": gain.low,
            "high": gain.high,
            "level": LEVEL,
            "images": int(rows.shape[0]),
        },
        message=(
            f"overall: accuracy {accuracy:.1f} vs {baseline:.1f} for always answering No "
            f"(difference {gain.estimate or 0.0:+.1f}, {LEVEL:g}% interval over {rows.shape[0]} images "
            f"{interval}): the judge does not beat a judge that never reads the captions"
        ),
    )


def judge_warnings(lines: Iterable[AnswerLine]) -> list[JudgeWarning]:
    """The alarm's warnings for a run's answer lines; empty when the judge looks informative."""
    listed = [question_record(line, "strict") for line in lines]
    warnings = _yes_ratio_warnings(listed)
    baseline = _baseline_warning(listed)
    if baseline is not None:
        warnings.append(baseline)
    return warnings


def alarm_text(warnings: Sequence[JudgeWarning]) -> str:
    """The summary's warning paragraph (empty without warnings).

    A Yes-ratio finding of ``overall`` is given in full; the blocks with the same finding are
    listed on one line after it (``metrics.json`` keeps one warning per block).
    """
    if not warnings:
        return ""
    lines = [
        "WARNING: this judge looks useless; read these scores as the judge's, not the model's:"
    ]
    shown = {(w.code, w.block) for w in warnings}
    for warning in warnings:
        if warning.code.startswith("yes-ratio") and (warning.code, "overall") in shown:
            if warning.block != "overall":
                continue
            same = [
                f"{w.block} {float(w.figures.get('yes_ratio') or 0.0):.1%} of {w.figures.get('n')}"
                for w in warnings
                if w.code == warning.code and w.block != "overall"
            ]
            lines.append(f"  - {warning.message}")
            if same:
                lines.append(f"    (the same in {', '.join(same)})")
            continue
        lines.append(f"  - {warning.message}")
    lines.append(f"What to do: {ADVICE}.")
    return "\n".join(lines)
