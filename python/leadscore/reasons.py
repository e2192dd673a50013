"""Reasons measured through the model: what each SQL feature adds to a lead's probability.

A lead's probability ``p`` is re-scored with one feature group reset to its baseline, and the
drop is that feature's contribution::

    contribution(feature) = p - p(with the feature's packed columns reset)

A feature group is one raw SQL column (:meth:`leadscore.features.FeatureSpec.groups`): a
numeric column is one packed column, reset to the model's training median (the value the
model's own imputer writes for a missing value, so a reset means "as if we did not know
this"); a categorical column is its one-hot columns, reset to all zeros (the encoding of an
unknown category). The measurement goes through the ONNX model, calibration included, so it
is what the model really does with the value, for any model type. For a linear model it is
exact: the logit moves by exactly coefficient x (value - median), and ``p - p_reset`` is a
monotone function of that move for a given lead, so the ranking of reasons is the ranking
of the exact linear contributions.

Everything is vectorised: one re-score per feature group, batch by batch, of the rows whose
group is not already at its baseline (the others contribute exactly 0); no loop over rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.features import FeatureSpec

REASONS_PER_LEAD = 3
# A reason must add at least this much probability (float noise stays below it).
MIN_CONTRIBUTION = 1e-6

Predictor = Callable[[np.ndarray], np.ndarray]


def feature_groups(spec: FeatureSpec) -> list[tuple[str, slice]]:
    """The spec's (feature, packed slice) groups that own at least one packed column."""
    return [(name, columns) for name, columns in spec.groups() if columns.stop > columns.start]


def contributions(
    predict: Predictor,
    matrix: np.ndarray,
    groups: Sequence[tuple[str, slice]],
    baseline: np.ndarray,
    p: np.ndarray,
) -> np.ndarray:
    """``p - p_reset`` for every row and feature group.

    Only the rows whose group differs from the baseline are re-scored: a row already at the
    baseline (or NaN in a numeric column, which the model's imputer turns into that same
    baseline) has a contribution of exactly 0. Counts that are mostly 0, flags that are
    mostly false and categories that are mostly unknown cost little that way.

    Parameters
    ----------
    predict:
        Maps a packed float32 matrix to P(converted=1) per row.
    matrix:
        The packed rows (float32), left unchanged.
    groups:
        (feature name, packed slice) pairs, e.g. :func:`feature_groups`.
    baseline:
        The reset value of every packed column.
    p:
        ``predict(matrix)``, already computed.

    Returns
    -------
    numpy.ndarray
        float64 of shape (rows, len(groups)).
    """
    out = np.zeros((len(matrix), len(groups)), dtype=np.float64)
    for position, (_, columns) in enumerate(groups):
        block = matrix[:, columns]
        differs = ((block != baseline[columns]) & ~np.isnan(block)).any(axis=1)
        if not differs.any():
            continue
        reset = np.ascontiguousarray(matrix[differs])
        reset[:, columns] = baseline[columns]
        out[differs, position] = p[differs] - predict(reset)
    return out


def top_reasons(
    contribution: np.ndarray,
    k: int = REASONS_PER_LEAD,
    min_contribution: float = MIN_CONTRIBUTION,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest positive contributions of each row.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Group positions (int64, -1 where a row has fewer than ``k`` positive contributions)
        and their contributions (NaN there), both of shape (rows, k), largest first. Ties go
        to the group that comes first in the spec.
    """
    rows, width = contribution.shape
    take = min(k, width)
    order = np.argsort(-contribution, axis=1, kind="stable")[:, :take]
    values = np.take_along_axis(contribution, order, axis=1)
    valid = values > min_contribution
    positions = np.full((rows, k), -1, dtype=np.int64)
    amounts = np.full((rows, k), np.nan, dtype=np.float64)
    positions[:, :take] = np.where(valid, order, -1)
    amounts[:, :take] = np.where(valid, values, np.nan)
    return positions, amounts


def format_numbers(values: np.ndarray) -> pa.Array:
    """Numbers as short text: at most two decimals, no trailing zeros (4 -> "4")."""
    return pc.cast(pc.round(pa.array(np.asarray(values, dtype=np.float64)), 2), pa.string())


def reason_values(
    matrix: np.ndarray,
    spec: FeatureSpec,
    groups: Sequence[tuple[str, slice]],
    positions: np.ndarray,
) -> pa.Array:
    """The value behind each reason, as text (null where ``positions`` is -1).

    Numbers come from the packed row (two decimals at most), booleans read ``yes`` / ``no``,
    and a categorical reason names the row's category (its one-hot slot that is set), with
    underscores as spaces.
    """
    rows = len(matrix)
    chosen = positions >= 0
    safe = np.where(chosen, positions, 0)
    first_column = np.array([columns.start for _, columns in groups], dtype=np.int64)
    numbers = matrix[np.arange(rows), first_column[safe]] if len(groups) else np.zeros(rows)
    text = np.asarray(format_numbers(numbers).to_numpy(zero_copy_only=False), dtype=object)
    categorical = set(spec.categorical)
    for position, (name, columns) in enumerate(groups):
        rows_here = chosen & (positions == position)
        if not rows_here.any():
            continue
        if name in categorical:
            slots = np.argmax(matrix[rows_here, columns], axis=1)
            labels = np.array([value.replace("_", " ") for value in spec.categories[name]])
            text[rows_here] = labels[slots]
        elif spec.types.get(name) == "BOOLEAN":
            text[rows_here] = np.where(matrix[rows_here, columns.start] >= 0.5, "yes", "no")
    text[~chosen] = None
    return pa.array(text, pa.string())


def unseen_category_labels(columns: pa.Table, spec: FeatureSpec) -> pa.Array:
    """Per row, the categorical values the model has no one-hot slot for, as text.

    Such values (new since training, or too rare to get a slot) encode as all zeros, like an
    unknown category; the row is scored but the column carries no information for it.
    Returns ``"industry=space_mining, region=MARS"``-style text, or null when none.
    """
    separator = "\x1f"
    parts = []
    for name, categories in spec.categories.items():
        values = pc.cast(columns.column(name), pa.string())
        known = pc.is_in(values, value_set=pa.array(categories, pa.string()))
        unseen = pc.and_(pc.is_valid(values), pc.invert(known))
        label = pc.binary_join_element_wise(pa.scalar(name), values, "=")
        parts.append(pc.if_else(unseen, label, pa.scalar(None, pa.string())))
    if not parts:
        return pa.nulls(columns.num_rows, pa.string())
    joined = pc.binary_join_element_wise(
        *parts, separator, null_handling="replace", null_replacement=""
    )
    cleaned = pc.replace_substring_regex(pc.utf8_trim(joined, separator), f"{separator}+", ", ")
    return pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)
