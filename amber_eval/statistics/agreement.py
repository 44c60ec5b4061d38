"""Agreement between judges on the same questions: raw agreement, Cohen's and Fleiss' kappa.

Answers are categories (``yes``, ``no``, ``unknown`` for a parse failure). Both kappas are ratios
of sums over questions, so they are computed from count sums: per-image sums resampled by the
bootstrap give the kappa of every resample (:mod:`amber_eval.statistics.image_bootstrap`).

Cohen's kappa of two raters: ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement
and ``p_e = sum_k p_A(k) p_B(k)`` the agreement expected from each rater's own category shares.
Fleiss' kappa of ``m >= 2`` raters: ``(P - P_e) / (1 - P_e)`` with ``P`` the mean over questions
of ``(sum_k n_k^2 - m) / (m (m - 1))`` and ``P_e = sum_k p_k^2`` from the pooled category
shares. Both are undefined when ``p_e = 1`` (every answer of every rater is the same category):
then there is no disagreement to expect, and no chance correction to divide by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CATEGORIES = ("yes", "no", "unknown")
_POSITION = {category: i for i, category in enumerate(CATEGORIES)}
UNDEFINED_SAME = "undefined: every answer is the same category, so chance agreement is 1"
UNDEFINED_EMPTY = "undefined: no questions"


def category_index(answer: str) -> int:
    """The column of ``answer`` (anything but yes/no counts as ``unknown``)."""
    return _POSITION.get(answer, _POSITION["unknown"])


@dataclass(frozen=True)
class Kappa:
    """A kappa value, or ``None`` with the reason it is undefined."""

    value: float | None
    undefined: str | None = None

    def to_json(self) -> dict[str, float | str | None]:
        return {"value": self.value, "undefined": self.undefined}


# --- count sums -----------------------------------------------------------------------------


def pair_counts(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """The 3x3 confusion counts of two answer lists (rows: ``a``, columns: ``b``), flattened."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} answers against {len(b)}")
    counts = np.zeros(len(CATEGORIES) ** 2)
    for x, y in zip(a, b, strict=True):
        counts[category_index(x) * len(CATEGORIES) + category_index(y)] += 1
    return counts


def fleiss_counts(answers: Sequence[Sequence[str]]) -> np.ndarray:
    """Sums over questions for Fleiss' kappa: ``[questions, sum_i P_i, n_yes, n_no, n_unknown]``.

    ``answers[r][i]`` is rater ``r``'s answer to question ``i``; ``P_i`` is question ``i``'s
    pairwise agreement ``(sum_k n_ik^2 - m) / (m (m - 1))``.
    """
    raters = len(answers)
    if raters < 2:
        raise ValueError("Fleiss' kappa needs at least two raters")
    questions = len(answers[0])
    if any(len(column) != questions for column in answers):
        raise ValueError("every rater must answer the same questions")
    table = np.zeros((questions, len(CATEGORIES)))
    for column in answers:
        for i, answer in enumerate(column):
            table[i, category_index(answer)] += 1
    agreement = ((table**2).sum(axis=1) - raters) / (raters * (raters - 1))
    return np.concatenate([[questions, agreement.sum()], table.sum(axis=0)])


# --- statistics from sums (vectorised over leading axes) ------------------------------------


def _undefined_to_nan(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 1e-12, numerator / np.where(denominator > 1e-12, denominator, 1), np.nan
        )


def raw_agreement_from_counts(counts: np.ndarray) -> np.ndarray:
    """Observed agreement of pair counts (shape ``(..., 9)``); NaN where there are no questions."""
    k = len(CATEGORIES)
    matrix = counts.reshape(*counts.shape[:-1], k, k)
    total = matrix.sum(axis=(-2, -1))
    same = np.trace(matrix, axis1=-2, axis2=-1)
    return _undefined_to_nan(same, total)


def cohen_from_counts(counts: np.ndarray) -> np.ndarray:
    """Cohen's kappa of pair counts (shape ``(..., 9)``); NaN where undefined."""
    k = len(CATEGORIES)
    matrix = counts.reshape(*counts.shape[:-1], k, k)
    total = matrix.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(total > 0, total, 1)
        observed = np.trace(matrix, axis1=-2, axis2=-1) / safe
        rows = matrix.sum(axis=-1) / safe[..., None]
        columns = matrix.sum(axis=-2) / safe[..., None]
        expected = (rows * columns).sum(axis=-1)
    kappa = _undefined_to_nan(observed - expected, 1.0 - expected)
    return np.where(total > 0, kappa, np.nan)


def fleiss_from_counts(counts: np.ndarray, raters: int) -> np.ndarray:
    """Fleiss' kappa of :func:`fleiss_counts` sums (shape ``(..., 5)``); NaN where undefined."""
    questions = counts[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(questions > 0, questions, 1)
        observed = counts[..., 1] / safe
        shares = counts[..., 2:] / (safe[..., None] * raters)
        expected = (shares**2).sum(axis=-1)
    kappa = _undefined_to_nan(observed - expected, 1.0 - expected)
    return np.where(questions > 0, kappa, np.nan)


def fleiss_all_agree(answers: Sequence[Sequence[str]]) -> float | None:
    """The share of questions on which every rater gives the same category."""
    if not answers or not answers[0]:
        return None
    same = sum(
        1 for column in zip(*answers, strict=True) if len({category_index(a) for a in column}) == 1
    )
    return same / len(answers[0])


# --- single values --------------------------------------------------------------------------


def _kappa(value: float, questions: float) -> Kappa:
    if questions == 0:
        return Kappa(None, UNDEFINED_EMPTY)
    if not np.isfinite(value):
        return Kappa(None, UNDEFINED_SAME)
    return Kappa(float(value))


def raw_agreement(a: Sequence[str], b: Sequence[str]) -> float | None:
    """The share of questions answered alike (None without questions)."""
    value = float(raw_agreement_from_counts(pair_counts(a, b)))
    return value if np.isfinite(value) else None


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> Kappa:
    """Cohen's kappa of two raters' answers to the same questions.

    >>> cohen_kappa(["yes", "yes", "no", "no"], ["yes", "no", "no", "no"]).value
    0.5
    >>> cohen_kappa(["no", "no"], ["no", "no"]).value is None
    True
    """
    return _kappa(float(cohen_from_counts(pair_counts(a, b))), len(a))


def fleiss_kappa(answers: Sequence[Sequence[str]]) -> Kappa:
    """Fleiss' kappa of ``answers[r][i]`` (rater ``r``, question ``i``)."""
    counts = fleiss_counts(answers)
    return _kappa(float(fleiss_from_counts(counts, len(answers))), counts[0])
