"""How well a judge's P(yes) ranks and is calibrated: ROC AUC and expected calibration error.

Both take ``p_yes`` (the judge's probability of "Yes") and ``truth`` (whether the right answer
is Yes) for the same questions; questions without a P(yes) are left out by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_BINS = 10


def roc_auc(p_yes: Sequence[float], truth_yes: Sequence[bool]) -> float | None:
    """The area under the ROC curve of ``p_yes`` for the truth "Yes" (ties count one half).

    It is the probability that a random Yes question gets a higher P(yes) than a random No
    question; None without questions of both kinds.

    >>> roc_auc([0.9, 0.8, 0.3, 0.1], [True, False, True, False])
    0.75
    """
    scores = np.asarray(p_yes, dtype=np.float64)
    labels = np.asarray(truth_yes, dtype=bool)
    if scores.shape != labels.shape:
        raise ValueError(f"{scores.size} probabilities against {labels.size} truths")
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return None
    # Mann-Whitney U from mid-ranks: tied scores share their average rank.
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(scores.size)
    sorted_scores = scores[order]
    start = 0
    while start < scores.size:
        end = start
        while end + 1 < scores.size and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    u = ranks[labels].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def expected_calibration_error(
    p_yes: Sequence[float], truth_yes: Sequence[bool], *, bins: int = DEFAULT_BINS
) -> float | None:
    """Expected calibration error of P(yes), in ``bins`` equal-width bins over [0, 1].

    ``sum_b (n_b / n) * |share of truth Yes in b - mean P(yes) in b|``; a P(yes) of exactly 1
    falls in the last bin. None without questions.

    >>> round(expected_calibration_error([0.05, 0.05, 0.95, 0.95], [False, True, True, True]), 3)
    0.25
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    scores = np.asarray(p_yes, dtype=np.float64)
    labels = np.asarray(truth_yes, dtype=np.float64)
    if scores.shape != labels.shape:
        raise ValueError(f"{scores.size} probabilities against {labels.size} truths")
    if scores.size == 0:
        return None
    if np.any((scores < 0) | (scores > 1)):
        raise ValueError("P(yes) must lie in [0, 1]")
    which = np.minimum((scores * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        if count:
            total += count * abs(labels[inside].mean() - scores[inside].mean())
    return float(total / scores.size)
