"""A transparent rules-based points score: the benchmark every model must beat.

Most marketing teams score leads with a points table: so many points for a senior title, for
a good ICP fit, for pricing-page visits, for recent activity. :data:`RULE_POINTS` is that
table, one row per (feature, condition, points), in the shape of a dbt seed
(``feature, condition, value, points``) so it can move to ``seeds/`` unchanged.

A lead earns, for each feature, the points of the **best** matching row of that feature (so
rows of one feature act as bands: 3+ visits earn 25, 1-2 earn 10), and its score is the sum
over features. A feature missing from the table, or NULL on a row, earns nothing. The score
is computed with vectorised Arrow/numpy operations, one pass per rule row, no row loop.

Conditions: ``equals`` (categorical value), ``at_least`` (numeric >= value), ``at_most``
(numeric <= value), ``is_true`` (boolean).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class PointsRule(NamedTuple):
    """One row of the points table."""

    feature: str
    condition: str
    value: str | float | None
    points: float


# feature, condition, value, points: a conventional B2B lead-scoring table.
RULE_POINTS: tuple[PointsRule, ...] = (
    # Who: seniority from the job title.
    PointsRule("seniority", "equals", "c_level", 25),
    PointsRule("seniority", "equals", "vp", 20),
    PointsRule("seniority", "equals", "director", 15),
    PointsRule("seniority", "equals", "manager", 8),
    PointsRule("seniority", "equals", "individual_contributor", 3),
    PointsRule("seniority", "equals", "student", -10),
    # Fit: the account's ICP fit points (industry + employee band + region, seeds/icp_criteria.csv,
    # 0-85).
    PointsRule("icp_fit_score", "at_least", 70, 25),
    PointsRule("icp_fit_score", "at_least", 50, 15),
    PointsRule("icp_fit_score", "at_least", 30, 5),
    # Intent: pricing, demo and contact page visits in the last 30 days.
    PointsRule("high_intent_visits_30d", "at_least", 3, 25),
    PointsRule("high_intent_visits_30d", "at_least", 1, 10),
    # Engagement: email clicks in the last 30 days.
    PointsRule("email_clicks_30d", "at_least", 3, 15),
    PointsRule("email_clicks_30d", "at_least", 1, 5),
    # Recency: days since the lead's last activity (decay).
    PointsRule("days_since_last_activity", "at_most", 7, 20),
    PointsRule("days_since_last_activity", "at_most", 30, 10),
    PointsRule("days_since_last_activity", "at_least", 90, -10),
    # Opt-out: an unsubscribed lead is not worth a call.
    PointsRule("has_unsubscribed", "is_true", None, -20),
)

CONDITIONS = frozenset({"equals", "at_least", "at_most", "is_true"})


def _rule_matches(column: pa.ChunkedArray | pa.Array, rule: PointsRule) -> np.ndarray:
    if rule.condition == "equals":
        hit = pc.equal(pc.cast(column, pa.string()), pa.scalar(str(rule.value)))
    elif rule.condition == "is_true":
        hit = pc.cast(column, pa.bool_())
    else:
        numbers = pc.cast(column, pa.float64())
        threshold = pa.scalar(float(rule.value), pa.float64())  # type: ignore[arg-type]
        hit = (
            pc.greater_equal(numbers, threshold)
            if rule.condition == "at_least"
            else pc.less_equal(numbers, threshold)
        )
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def features_used(
    table_columns: Iterable[str], points: Sequence[PointsRule] = RULE_POINTS
) -> list[str]:
    """The rule features present in a table, in points-table order."""
    available = set(table_columns)
    seen: list[str] = []
    for rule in points:
        if rule.feature in available and rule.feature not in seen:
            seen.append(rule.feature)
    return seen


def rules_score(table: pa.Table, points: Sequence[PointsRule] = RULE_POINTS) -> np.ndarray:
    """The points score of every row of an Arrow table (float64, one value per row).

    Parameters
    ----------
    table:
        Rows with (some of) the rule features as columns, e.g. the test window of
        ``marts.fct_lead_training_set`` or ``marts.fct_lead_scoring_set``.
    points:
        The points table (default :data:`RULE_POINTS`).
    """
    unknown = {rule.condition for rule in points} - CONDITIONS
    if unknown:
        raise ValueError(f"unknown rule conditions: {sorted(unknown)}")
    total = np.zeros(table.num_rows, dtype=np.float64)
    for feature in features_used(table.column_names, points):
        best = np.full(table.num_rows, -np.inf)
        for rule in (rule for rule in points if rule.feature == feature):
            best = np.where(
                _rule_matches(table.column(feature), rule), np.maximum(best, rule.points), best
            )
        total += np.where(np.isfinite(best), best, 0.0)
    return total
