"""Agreement between judges on the same questions: raw agreement, Cohen's and Fleiss' kappa,
Krippendorff's alpha.

Answers are categories (``yes``, ``no``, ``unknown`` for a parse failure). Both kappas are ratios
of sums over questions, so they are computed from count sums: per-image sums resampled by the
bootstrap give the kappa of every resample (:mod:`amber_eval.statistics.image_bootstrap`).

Cohen's kappa of two raters: ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement
and ``p_e = sum_k p_A(k) p_B(k)`` the agreement expected from each rater's own category shares.
Fleiss' kappa of ``m >= 2`` raters: ``(P - P_e) / (1 - P_e)`` with ``P`` the mean over questions
of ``(sum_k n_k^2 - m) / (m (m - 1))`` and ``P_e = sum_k p_k^2`` from the pooled category
shares. Both are undefined when ``p_e = 1`` (every answer of every rater is the same category):
then there is no disagreement to expect, and no chance correction to divide by.

Krippendorff's alpha (nominal) of any number of raters takes missing answers: a value outside
the categories (for judges: an unparsed answer) is missing, and a question counts with the
answers it has. Its sums are the coincidence matrix ``o[c, k] = sum_u n_uc (n_uk - [c = k]) /
(m_u - 1)`` over the questions ``u`` with ``m_u >= 2`` values; with ``n_c`` its row sums and
``n`` their total, ``alpha = 1 - (n - 1) sum_{c != k} o[c, k] / sum_{c != k} n_c n_k``. It is
undefined when no question has two values, or when every value is the same category.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CATEGORIES = ("yes", "no", "unknown")
_POSITION = {category: i for i, category in enumerate(CATEGORIES)}
UNDEFINED_SAME = "undefined: every answer is the same category, so chance agreement is 1"
UNDEFINED_EMPTY = "undefined: no questions"
UNDEFINED_NO_PAIRS = "undefined: no question has two readable answers"
DECISIONS = ("yes", "no")
"""The categories of Krippendorff's alpha for judges: an unparsed answer is missing."""


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


def coincidence_counts(
    answers: Sequence[Sequence[object]], categories: Sequence[object] = DECISIONS
) -> np.ndarray:
    """The coincidence matrix of Krippendorff's alpha (``k x k`` for ``k`` categories,
    flattened), summed over questions.

    ``answers[r][i]`` is rater ``r``'s value for question ``i``; a value that is not one of
    ``categories`` is missing. A question with fewer than two values adds nothing.
    """
    if not answers:
        raise ValueError("Krippendorff's alpha needs at least one rater")
    questions = len(answers[0])
    if any(len(column) != questions for column in answers):
        raise ValueError("every rater must have a value (or a missing one) for each question")
    position = {category: i for i, category in enumerate(categories)}
    k = len(categories)
    matrix = np.zeros((k, k))
    for column in zip(*answers, strict=True):
        found = [position[v] for v in column if v in position]
        values = np.bincount(found, minlength=k).astype(np.float64)
        m = values.sum()
        if m < 2:
            continue
        matrix += (np.outer(values, values) - np.diag(values)) / (m - 1)
    return matrix.ravel()


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


def krippendorff_from_counts(counts: np.ndarray) -> np.ndarray:
    """Krippendorff's alpha (nominal) of :func:`coincidence_counts` sums (shape ``(..., k*k)``);
    NaN where undefined."""
    k = math.isqrt(counts.shape[-1])
    matrix = counts.reshape(*counts.shape[:-1], k, k)
    marginals = matrix.sum(axis=-1)
    total = marginals.sum(axis=-1)
    observed = total - np.trace(matrix, axis1=-2, axis2=-1)  # sum over c != k of o[c, k]
    expected = total**2 - (marginals**2).sum(axis=-1)  # sum over c != k of n_c n_k
    disagreement = _undefined_to_nan((total - 1) * observed, expected)
    return np.where(total > 1, 1.0 - disagreement, np.nan)


def alpha_undefined(counts: np.ndarray) -> str:
    """Why Krippendorff's alpha of these coincidence sums is undefined."""
    return UNDEFINED_NO_PAIRS if float(np.sum(counts)) <= 1 else UNDEFINED_SAME


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


def krippendorff_alpha(
    answers: Sequence[Sequence[object]], categories: Sequence[object] = DECISIONS
) -> Kappa:
    """Krippendorff's alpha (nominal) of ``answers[r][i]``; values outside ``categories`` are
    missing.

    >>> round(krippendorff_alpha([["yes", "no", "yes"], ["yes", "no", "no"]]).value, 4)
    0.4444
    >>> krippendorff_alpha([["no", "no"], ["no", "unknown"]]).undefined
    'undefined: every answer is the same category, so chance agreement is 1'
    """
    counts = coincidence_counts(answers, categories)
    value = float(krippendorff_from_counts(counts))
    if not np.isfinite(value):
        return Kappa(None, alpha_undefined(counts))
    return Kappa(value)
