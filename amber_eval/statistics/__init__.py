"""Statistics of judge answers: agreement (raw, Cohen's and Fleiss' kappa, Krippendorff's alpha), ranking and
calibration of P(yes) (ROC AUC, expected calibration error), and bootstrap intervals over
images for statistics built from per-image sums.

Every function returns ``None`` (with a reason where it matters) when a statistic is undefined,
never 0 or NaN.
"""
