"""A transparent rules-based points score: the benchmark every model must beat.

Most marketing teams score leads with a points table: so many points for a senior title, for
a good ICP fit, for pricing-page visits, for recent activity. The project's table is the dbt
seed ``seeds/lead_scoring_rules.csv`` (``rule_id, feature_name, condition, threshold, points,
reason``); :func:`load_points` reads it, so the training step's rules baseline and the SQL
rules score (``int_lead_rules_scored``) use one table.

A lead earns, for each feature, the points of the **best** matching row of that feature (so
rows of one feature act as bands: 3+ visits earn 25, 1-2 earn 10), and its score is the sum
over features. A feature missing from the table, or NULL on a row, earns nothing. The score
is computed with vectorised Arrow/numpy operations, one pass per rule row, no row loop.

Conditions: ``equals`` (categorical value), ``at_least`` (numeric >= value), ``at_most``
(numeric <= value), ``is_true`` (boolean).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The points table, relative to the dbt project directory.
POINTS_SEED = Path("seeds") / "lead_scoring_rules.csv"


class PointsRule(NamedTuple):
    """One row of the points table."""

    feature: str
    condition: str
    value: str | float | None
    points: float


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


def load_points(path: Path) -> tuple[PointsRule, ...]:
    """The points table of a ``lead_scoring_rules.csv`` seed, in rule_id order.

    Raises
    ------
    ValueError
        When a row has an unknown condition or a threshold its condition cannot use, naming
        the rule_id.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: int(row["rule_id"]))
    points: list[PointsRule] = []
    for row in rows:
        condition, threshold = row["condition"], row["threshold"] or None
        if condition not in CONDITIONS:
            raise ValueError(f"{path}: rule {row['rule_id']} has unknown condition {condition!r}")
        value: str | float | None = threshold
        if condition in {"at_least", "at_most"}:
            try:
                value = float(threshold)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}: rule {row['rule_id']} ({condition}) needs a numeric threshold, "
                    f"got {threshold!r}"
                ) from None
        elif condition == "is_true":
            value = None
        points.append(PointsRule(row["feature_name"], condition, value, float(row["points"])))
    return tuple(points)


def features_used(table_columns: Iterable[str], points: Sequence[PointsRule]) -> list[str]:
    """The rule features present in a table, in points-table order."""
    available = set(table_columns)
    seen: list[str] = []
    for rule in points:
        if rule.feature in available and rule.feature not in seen:
            seen.append(rule.feature)
    return seen


def rules_score(table: pa.Table, points: Sequence[PointsRule]) -> np.ndarray:
    """The points score of every row of an Arrow table (float64, one value per row).

    Parameters
    ----------
    table:
        Rows with (some of) the rule features as columns, e.g. the test window of
        ``marts.fct_lead_training_set`` or ``marts.fct_lead_scoring_set``.
    points:
        The points table (:func:`load_points`).
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
