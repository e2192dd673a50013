"""Evaluation metrics for a score against the 0/1 label, all weighted by ``sample_weight``.

The training table samples negatives (each kept negative carries weight 1/sampling rate), so
every metric here takes the weights: the figures are those of the full lead population, not
of the sample. The metric keys are fixed (:data:`METRIC_KEYS`); the model card, the model
list and the comparison with the rules score and the oracle all use them.

Top-k metrics (``lift_at_10``, ``capture_at_20``) treat tied scores fairly: when the cut-off
falls inside a group of equal scores, that group counts in proportion (the expected value
under random tie-breaking), which matters for integer points scores.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

METRIC_KEYS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "ece", "lift_at_10", "capture_at_20")
ECE_BINS = 10


def _weights(y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    return np.ones(len(y), dtype=np.float64) if w is None else np.asarray(w, dtype=np.float64)


def top_fractions(
    y: np.ndarray, score: np.ndarray, w: np.ndarray | None, fractions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted positives and weight in the top ``fractions`` of the population by score.

    Rows are ranked by descending score; a group of tied scores straddling a cut-off counts in
    proportion to the part of it that fits.
    """
    y = np.asarray(y, dtype=np.float64)
    weights = _weights(y, w)
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_score)) + 1))
    group_weight = np.add.reduceat(weights[order], starts)
    group_positive = np.add.reduceat((weights * y)[order], starts)
    weight_through = np.concatenate(([0.0], np.cumsum(group_weight)))
    positive_through = np.concatenate(([0.0], np.cumsum(group_positive)))
    target = np.asarray(fractions, dtype=np.float64) * weight_through[-1]
    # The group the cut falls in: the first whose cumulative weight reaches the target.
    index = np.clip(np.searchsorted(weight_through[1:], target, side="left"), 0, len(starts) - 1)
    share = np.clip((target - weight_through[index]) / group_weight[index], 0.0, 1.0)
    positives = positive_through[index] + share * group_positive[index]
    weight = weight_through[index] + share * group_weight[index]
    return positives, weight


def top_fraction(
    y: np.ndarray, score: np.ndarray, w: np.ndarray | None, fraction: float
) -> tuple[float, float]:
    """Weighted positives and weight in the top ``fraction`` (see :func:`top_fractions`)."""
    positives, weight = top_fractions(y, score, w, np.array([fraction]))
    return float(positives[0]), float(weight[0])


def lift_at(y: np.ndarray, score: np.ndarray, w: np.ndarray | None, fraction: float) -> float:
    """Conversion rate in the top ``fraction`` divided by the overall conversion rate."""
    weights = _weights(y, w)
    overall = float((weights * y).sum() / weights.sum())
    positives, weight = top_fraction(y, score, w, fraction)
    if overall == 0 or weight == 0:
        return math.nan
    return (positives / weight) / overall


def capture_at(y: np.ndarray, score: np.ndarray, w: np.ndarray | None, fraction: float) -> float:
    """Share of all (weighted) conversions that fall in the top ``fraction``."""
    weights = _weights(y, w)
    total = float((weights * y).sum())
    if total == 0:
        return math.nan
    positives, _ = top_fraction(y, score, w, fraction)
    return positives / total


def equal_frequency_bins(p: np.ndarray, w: np.ndarray | None, n_bins: int) -> np.ndarray:
    """Bin index (0..n_bins-1) of each row: bins of equal weight after sorting by ``p``.

    Tied values always share a bin (placed by the middle of their tie group), so a score with
    few distinct values gets fewer, unequal bins rather than arbitrary splits.
    """
    weights = _weights(p, w)
    values, inverse = np.unique(np.asarray(p, dtype=np.float64), return_inverse=True)
    group_weight = np.bincount(inverse, weights=weights, minlength=len(values))
    middle = (np.cumsum(group_weight) - group_weight / 2) / group_weight.sum()
    group_bin = np.minimum((middle * n_bins).astype(np.int64), n_bins - 1)
    return group_bin[inverse]


def calibration_table(
    y: np.ndarray, p: np.ndarray, w: np.ndarray | None, n_bins: int = ECE_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-frequency bin: (mean predicted, observed rate, weight share)."""
    weights = _weights(y, w)
    bins = equal_frequency_bins(np.asarray(p, dtype=np.float64), weights, n_bins)
    bin_weight = np.bincount(bins, weights=weights, minlength=n_bins)
    bin_pred = np.bincount(bins, weights=weights * p, minlength=n_bins)
    bin_true = np.bincount(bins, weights=weights * y, minlength=n_bins)
    filled = bin_weight > 0
    return (
        bin_pred[filled] / bin_weight[filled],
        bin_true[filled] / bin_weight[filled],
        bin_weight[filled] / bin_weight.sum(),
    )


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, w: np.ndarray | None, n_bins: int = ECE_BINS
) -> float:
    """Weighted mean |observed rate - mean predicted| over ``n_bins`` equal-frequency bins."""
    predicted, observed, share = calibration_table(y, p, w, n_bins)
    return float((share * np.abs(observed - predicted)).sum())


def evaluate(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> dict[str, float | None]:
    """Every metric in :data:`METRIC_KEYS` for probabilities ``p`` against labels ``y``.

    Values are rounded to 6 decimals; a metric that is undefined (one class only) is None.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    weights = _weights(y, w)
    both_classes = 0 < (weights * y).sum() < weights.sum()
    values: dict[str, float] = {
        "roc_auc": roc_auc_score(y, p, sample_weight=weights) if both_classes else math.nan,
        "pr_auc": average_precision_score(y, p, sample_weight=weights)
        if both_classes
        else math.nan,
        "brier": brier_score_loss(y, p, sample_weight=weights),
        "ece": expected_calibration_error(y, p, weights),
        "lift_at_10": lift_at(y, p, weights, 0.10),
        "capture_at_20": capture_at(y, p, weights, 0.20),
    }
    return {key: _clean(values[key]) for key in METRIC_KEYS}


def _clean(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 6)


def gain_curve(
    y: np.ndarray, score: np.ndarray, w: np.ndarray | None, points: int = 101
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gain: (population share, share of conversions captured) at ``points`` cuts."""
    shares = np.linspace(0.0, 1.0, points)
    weights = _weights(y, w)
    total = float((weights * y).sum())
    captured, _ = top_fractions(y, score, weights, shares)
    return shares, captured / total if total else captured


def weighted_quantiles(values: np.ndarray, w: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Weighted quantiles (inverted CDF) of ``values``, ignoring NaN."""
    keep = ~np.isnan(values)
    values, w = values[keep], w[keep]
    if len(values) == 0:
        return np.full(len(quantiles), np.nan)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(w[order]) / w.sum()
    index = np.searchsorted(cumulative, quantiles, side="left")
    return values[order][np.minimum(index, len(values) - 1)]
