"""Agreement, ranking and calibration statistics on small hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from amber_eval.statistics.agreement import (
    UNDEFINED_NO_PAIRS,
    UNDEFINED_SAME,
    cohen_kappa,
    coincidence_counts,
    fleiss_all_agree,
    fleiss_counts,
    fleiss_from_counts,
    fleiss_kappa,
    krippendorff_alpha,
    krippendorff_from_counts,
    pair_counts,
    raw_agreement,
)
from amber_eval.statistics.calibration import expected_calibration_error, roc_auc
from amber_eval.statistics.image_bootstrap import (
    difference_over_images,
    image_weights,
    interval_over_images,
)


def _pairs(yy: int, yn: int, ny: int, nn: int) -> tuple[list[str], list[str]]:
    a = ["yes"] * (yy + yn) + ["no"] * (ny + nn)
    b = ["yes"] * yy + ["no"] * yn + ["yes"] * ny + ["no"] * nn
    return a, b


def test_cohen_kappa_by_hand() -> None:
    # p_o = 7/10; p_A(yes) = .5, p_B(yes) = .6: p_e = .5*.6 + .5*.4 = .5; kappa = .2/.5 = .4
    a, b = _pairs(4, 1, 2, 3)
    assert raw_agreement(a, b) == pytest.approx(0.7)
    assert cohen_kappa(a, b).value == pytest.approx(0.4)
    assert cohen_kappa(a, b).undefined is None


def test_cohen_kappa_is_symmetric_and_perfect_agreement_is_one() -> None:
    a, b = _pairs(3, 2, 1, 4)
    assert cohen_kappa(a, b).value == pytest.approx(cohen_kappa(b, a).value)
    assert cohen_kappa(a, a).value == pytest.approx(1.0)


def test_cohen_kappa_is_undefined_when_every_answer_is_the_same() -> None:
    kappa = cohen_kappa(["no"] * 5, ["no"] * 5)
    assert kappa.value is None and kappa.undefined == UNDEFINED_SAME
    assert raw_agreement(["no"] * 5, ["no"] * 5) == 1.0
    # one rater constant, the other not: defined, and exactly chance (0)
    assert cohen_kappa(["no"] * 4, ["no", "no", "yes", "no"]).value == pytest.approx(0.0)


def test_parse_failures_are_a_category_of_their_own() -> None:
    # yes/unknown disagree; the 3x3 table has one count off the diagonal
    counts = pair_counts(["yes", "no", "maybe"], ["yes", "no", "yes"])
    assert counts.sum() == 3 and counts[0] == 1 and counts[4] == 1 and counts[2 * 3 + 0] == 1
    assert raw_agreement(["yes", "no", "maybe"], ["yes", "no", "yes"]) == pytest.approx(2 / 3)


def test_fleiss_kappa_by_hand() -> None:
    # q1 yyy P=1; q2 yyn P=1/3; q3 nnn P=1; q4 ynn P=1/3 -> P = 2/3
    # p_yes = 6/12, p_no = 6/12 -> P_e = 1/2; kappa = (2/3 - 1/2) / (1/2) = 1/3
    raters = [
        ["yes", "yes", "no", "yes"],
        ["yes", "yes", "no", "no"],
        ["yes", "no", "no", "no"],
    ]
    assert fleiss_kappa(raters).value == pytest.approx(1 / 3)
    assert fleiss_all_agree(raters) == pytest.approx(0.5)


def test_fleiss_kappa_undefined_and_from_summed_counts() -> None:
    same = [["yes"] * 3, ["yes"] * 3, ["yes"] * 3]
    kappa = fleiss_kappa(same)
    assert kappa.value is None and kappa.undefined == UNDEFINED_SAME
    # sums over two halves add up to the whole set's counts
    raters = [["yes", "no", "no", "yes"], ["no", "no", "yes", "yes"], ["yes", "no", "yes", "no"]]
    halves = [fleiss_counts([r[:2] for r in raters]), fleiss_counts([r[2:] for r in raters])]
    whole = float(fleiss_from_counts(halves[0] + halves[1], 3))
    assert whole == pytest.approx(fleiss_kappa(raters).value)


def test_roc_auc_by_hand() -> None:
    # positives .9 and .3, negatives .8 and .1: .9 beats both, .3 beats .1 only -> 3/4
    assert roc_auc([0.9, 0.8, 0.3, 0.1], [True, False, True, False]) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half
    assert roc_auc([0.5, 0.5], [True, False]) == pytest.approx(0.5)
    assert roc_auc([0.2, 0.9], [False, True]) == pytest.approx(1.0)
    assert roc_auc([0.2, 0.9], [True, True]) is None


def test_expected_calibration_error_by_hand() -> None:
    # bin [0, .1): truths (no, yes) -> share .5 vs mean .05: |.45| * 2/4
    # bin [.9, 1]: truths (yes, yes) -> 1.0 vs .95: |.05| * 2/4; total .25
    p = [0.05, 0.05, 0.95, 0.95]
    assert expected_calibration_error(p, [False, True, True, True]) == pytest.approx(0.25)
    # a P(yes) of exactly 1 falls in the last bin; perfectly calibrated: 0
    assert expected_calibration_error([1.0, 0.0], [True, False]) == pytest.approx(0.0)
    assert expected_calibration_error([], []) is None
    with pytest.raises(ValueError):
        expected_calibration_error([1.5], [True])


def test_interval_over_images_brackets_the_estimate_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    counts = np.column_stack([np.full(50, 10.0), rng.integers(3, 9, 50).astype(float)])

    def share(sums: np.ndarray) -> np.ndarray:
        return 100.0 * sums[..., 1] / sums[..., 0]

    weights = image_weights(50, 500, seed=3)
    interval = interval_over_images(counts, share, weights)
    assert interval.low is not None and interval.high is not None
    assert interval.low < interval.estimate < interval.high  # type: ignore[operator]
    again = interval_over_images(counts, share, image_weights(50, 500, seed=3))
    assert again == interval
    # a run against itself differs by exactly 0 on every resample
    same = difference_over_images(counts, counts, share, weights)
    assert same.low == same.high == same.estimate == 0.0 and not same.excludes_zero


def test_an_always_undefined_statistic_has_no_interval() -> None:
    counts = np.zeros((4, 2))

    def share(sums: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums[..., 1] / sums[..., 0]

    interval = interval_over_images(counts, share, image_weights(4, 50))
    assert interval.estimate is None and interval.low is None and interval.high is None


def test_krippendorff_alpha_of_the_textbook_example_with_missing_data() -> None:
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers, 12 units,
    # nominal values 1..5, missing values as None; the published nominal alpha is 0.743.
    missing = None
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, missing, missing, missing]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, missing, 3]
    c = [missing, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, missing]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, missing]
    alpha = krippendorff_alpha([a, b, c, d], categories=[1, 2, 3, 4, 5])
    # by hand: n = 40 pairable values (unit 12 has one); coincidences off the diagonal: unit 2
    # (2, 2, 3, 2) gives 2 * (3 * 1 / 3), unit 6 (1, 2, 3, 4) 12 * (1 / 3), unit 8 (1, 1, 2, 1)
    # 2 * (3 * 1 / 3): 8 in all; sum_{c != k} n_c n_k = 40^2 - (9^2 + 13^2 + 10^2 + 5^2 + 3^2)
    # = 1216; alpha = 1 - 39 * 8 / 1216 = 0.74342...
    assert alpha.value == pytest.approx(1 - 39 * 8 / 1216)
    assert round(alpha.value or 0.0, 3) == 0.743
    counts = coincidence_counts([a, b, c, d], categories=[1, 2, 3, 4, 5]).reshape(5, 5)
    assert counts.sum() == pytest.approx(40)
    assert counts.sum(axis=1) == pytest.approx([9, 13, 10, 5, 3])


def test_krippendorff_alpha_takes_unparsed_answers_as_missing() -> None:
    # units: (yes, yes, -), (no, no, no), (yes, no, -), (-, -, yes): the last has one value
    # and adds nothing. Coincidences: o_yy = 2 * 1 / 1 = 2, o_nn = 3 * 2 / 2 = 3,
    # o_yn = o_ny = 1; n_yes = 3, n_no = 4, n = 7: alpha = 1 - 6 * 2 / (2 * 3 * 4) = 0.5.
    raters = [
        ["yes", "no", "yes", "unknown"],
        ["yes", "no", "no", "maybe"],
        ["unknown", "no", "unknown", "yes"],
    ]
    assert krippendorff_alpha(raters).value == pytest.approx(0.5)
    # each question with one readable answer: nothing to pair
    pairs = krippendorff_alpha([["yes", "unknown"], ["unknown", "no"]])
    assert pairs.value is None and pairs.undefined == UNDEFINED_NO_PAIRS


def test_krippendorff_alpha_undefined_when_every_answer_is_the_same() -> None:
    same = krippendorff_alpha([["no", "no", "no"], ["no", "no", "unknown"]])
    assert same.value is None and same.undefined == UNDEFINED_SAME
    # perfect agreement on two categories is 1; systematic disagreement is below 0
    assert krippendorff_alpha([["yes", "no"], ["yes", "no"]]).value == pytest.approx(1.0)
    # units (yes, no), (no, yes): o_yn = o_ny = 2, n_yes = n_no = 2: 1 - 3 * 4 / 8 = -0.5
    assert krippendorff_alpha([["yes", "no"], ["no", "yes"]]).value == pytest.approx(-0.5)


def test_krippendorff_alpha_from_summed_counts_has_an_interval_over_images() -> None:
    # 30 images of two questions each; rater b answers the second question unparsed on every
    # third image. Alpha of the summed per-image coincidences equals alpha of all questions.
    a = ["yes", "no"] * 30
    b = [("unknown" if i % 6 == 3 else ("no" if i % 10 == 0 else x)) for i, x in enumerate(a)]
    per_image = np.array(
        [coincidence_counts([a[2 * i : 2 * i + 2], b[2 * i : 2 * i + 2]]) for i in range(30)]
    )
    whole = krippendorff_alpha([a, b]).value
    assert float(krippendorff_from_counts(per_image.sum(axis=0))) == pytest.approx(whole)
    interval = interval_over_images(per_image, krippendorff_from_counts, image_weights(30, 400))
    assert interval.estimate == pytest.approx(whole)
    assert interval.low is not None and interval.high is not None
    assert interval.low <= interval.estimate <= interval.high  # type: ignore[operator]
