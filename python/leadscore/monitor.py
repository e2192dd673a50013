"""Model monitoring: feature drift, a backtest of the current model, ``leadscore monitor``.

Everything a monitor needs lives in the customer's warehouse as dbt models
(``models/marts/monitoring/``, docs/monitoring.md). Three of them are thin dbt Python models
built on this module, because they read the model registry:

- ``fct_monitored_model``: one row describing the current model (:func:`monitored_model_table`),
  or saying why there is none;
- ``fct_model_baseline_bins``: the drift bins of the current model card's ``baseline``
  (:func:`baseline_bins_table`): numeric features by their decile edges, categoricals by
  their kept categories, plus ``(other)`` and ``(null)``;
- ``fct_lead_backtest_scores``: every historical row of the training set and every row of
  today's scoring set scored with the CURRENT model (:func:`backtest_scores`), packed by
  :func:`leadscore.features.packing_sql` and scored in Arrow batches with onnxruntime.
  Features are point-in-time, so scoring the old snapshots again is a faithful replay.

The PSI and KS statistics themselves are computed in SQL (``fct_feature_drift``) over those
bins. :func:`psi`, :func:`binned_ks`, :func:`numeric_shares` and :func:`categorical_shares` are
the same computations in numpy: the reference the tests hold the warehouse to.

``leadscore monitor`` reads the warehouse read-only (``marts.fct_model_health`` and friends),
prints the state in a few lines and exits 1 when retraining is due, 2 when the monitoring
tables cannot be read, 0 otherwise. The decision is made in SQL (``fct_model_health``) from
the dbt vars, so the table and the command always agree.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from leadscore import export, registry
from leadscore.config import Settings
from leadscore.features import (
    KEY_COLUMNS,
    LABEL_COLUMN,
    PACKED_COLUMN,
    WEIGHT_COLUMN,
    FeatureSpec,
    packed_matrix,
    packing_sql,
    relation_columns,
)

# Shares are floored at this before the PSI's log ratio, so an empty bin counts as a rare one.
PSI_EPSILON = 1e-4
# The feature name under which the model's score is monitored with the features.
SCORE_FEATURE = "conversion_probability"
OTHER_LABEL = "(other)"
NULL_LABEL = "(null)"
BATCH_ROWS = export.BATCH_ROWS
SCORING_THREADS = export.SCORING_THREADS
ORDER_BY: tuple[str, ...] = ("as_of_date", "lead_id")

HEALTH_TABLE = "marts.fct_model_health"
DRIFT_TABLE = "marts.fct_feature_drift"
SEGMENT_TABLE = "marts.fct_segment_performance"

EXIT_OK = 0
EXIT_RETRAIN_DUE = 1
EXIT_UNREADABLE = 2

BASELINE_BINS_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("feature_name", pa.string()),
        ("feature_kind", pa.string()),
        ("bin_index", pa.int32()),
        ("bin_label", pa.string()),
        ("lower_edge", pa.float64()),
        ("upper_edge", pa.float64()),
        ("category", pa.string()),
        ("is_null_bin", pa.bool_()),
        ("is_other_bin", pa.bool_()),
        ("card_window", pa.string()),
        ("card_share", pa.float64()),
    ]
)

MONITORED_MODEL_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("is_model_promoted", pa.bool_()),
        ("status_note", pa.string()),
        ("registry_dir", pa.string()),
        ("model_type", pa.string()),
        ("calibration_method", pa.string()),
        ("model_sha256", pa.string()),
        ("data_hash", pa.string()),
        ("git_commit", pa.string()),
        ("horizon_days", pa.int32()),
        ("train_start", pa.date32()),
        ("train_end", pa.date32()),
        ("validation_start", pa.date32()),
        ("validation_end", pa.date32()),
        ("test_start", pa.date32()),
        ("test_end", pa.date32()),
        ("model_data_date", pa.date32()),
        ("card_test_rows", pa.int64()),
        ("card_test_positive_rows", pa.int64()),
        ("card_test_roc_auc", pa.float64()),
        ("card_test_pr_auc", pa.float64()),
        ("card_rules_test_roc_auc", pa.float64()),
        ("baseline_features_window", pa.string()),
        ("baseline_score_window", pa.string()),
        ("raw_features", pa.int32()),
        ("packed_features", pa.int32()),
    ]
)

BACKTEST_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("account_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("is_scoring_date", pa.bool_()),
        (LABEL_COLUMN, pa.int32()),
        (WEIGHT_COLUMN, pa.float64()),
        ("model_version", pa.string()),
        ("conversion_probability", pa.float64()),
    ]
)


class MonitoringError(RuntimeError):
    """The current model cannot be replayed on the warehouse (the message says why)."""


# --- Statistics (the numpy reference of the SQL in fct_feature_drift) ---------------------


def psi(
    reference: Sequence[float], current: Sequence[float], epsilon: float = PSI_EPSILON
) -> float:
    """Population stability index between two binned distributions.

    ``sum((current - reference) * ln(current / reference))`` over the bins, each share floored
    at ``epsilon`` first (a bin empty in one population counts as rare, not as infinite drift;
    a bin empty in both adds nothing). Shares are used as given: pass shares of ALL rows, the
    NULL bin included, so they sum to 1.

    Raises
    ------
    ValueError
        When the two have a different number of bins.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.shape != cur.shape:
        raise ValueError(f"PSI needs the same bins: {ref.shape} against {cur.shape}")
    ref = np.maximum(ref, epsilon)
    cur = np.maximum(cur, epsilon)
    return float(((cur - ref) * np.log(cur / ref)).sum())


def binned_ks(reference: Sequence[float], current: Sequence[float]) -> float:
    """Kolmogorov-Smirnov statistic of two distributions known only by their ordered bins.

    The largest gap between the two cumulative distributions at the bin edges, each
    normalised over its own (non-NULL) total: pass the value bins in order, without the NULL
    bin. A lower bound of the exact two-sample KS of the raw values (the gap can peak inside
    a bin). NaN when either side has no rows.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.shape != cur.shape:
        raise ValueError(f"KS needs the same bins: {ref.shape} against {cur.shape}")
    if ref.sum() <= 0 or cur.sum() <= 0:
        return math.nan
    return float(np.max(np.abs(np.cumsum(ref) / ref.sum() - np.cumsum(cur) / cur.sum())))


def numeric_shares(
    values: Sequence[float], edges: Sequence[float], weights: Sequence[float] | None = None
) -> np.ndarray:
    """Share of all rows in each bin of ``edges``, then the NULL/NaN share (the last entry).

    Bin i holds ``edges[i-1] <= x < edges[i]`` (``numpy.searchsorted(edges, x, side="right")``),
    the card's binning; ``len(edges) + 2`` shares in all.
    """
    x = np.asarray(values, dtype=np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    null = np.isnan(x)
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), x[~null], side="right")
    counts = np.bincount(index, weights=w[~null], minlength=len(edges) + 1)
    total = w.sum()
    if total <= 0:
        return np.zeros(len(edges) + 2)
    return np.append(counts, w[null].sum()) / total


def categorical_shares(
    values: Sequence[str | None],
    categories: Sequence[str],
    weights: Sequence[float] | None = None,
) -> np.ndarray:
    """Share of all rows per kept category (in order), then every other value, then NULL."""
    w = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=np.float64)
    slot = {value: position for position, value in enumerate(categories)}
    other, null = len(categories), len(categories) + 1
    index = np.array(
        [null if value is None else slot.get(value, other) for value in values], dtype=np.int64
    )
    total = w.sum()
    if total <= 0:
        return np.zeros(len(categories) + 2)
    return np.bincount(index, weights=w, minlength=len(categories) + 2) / total


# --- The current model card ----------------------------------------------------------------


def resolve_registry(registry_dir: Path | str | None) -> Path:
    """The registry folder: as given, relative to the dbt project, or the settings' default."""
    if registry_dir is None or str(registry_dir) == "":
        return Settings.from_env().registry_dir
    path = Path(registry_dir)
    return path if path.is_absolute() else Settings.from_env().project_dir / path


def current_card(registry_dir: Path) -> tuple[str | None, dict[str, Any] | None, str]:
    """(version, card, note) of the promoted model; (None, None, why) when nothing is promoted."""
    pointer = registry.current(registry_dir)
    if pointer is None:
        return (
            None,
            None,
            f"no model is promoted in the registry {registry_dir}: feature drift and the model "
            "backtest are empty until `leadscore train` promotes one (the rules score is still "
            "backtested)",
        )
    version = str(pointer["version"])
    card = registry.read_card(registry_dir, version)
    if not has_baseline(card):
        return (
            version,
            card,
            f"monitoring model {version}, but its card has no drift baseline: feature drift "
            "is empty (retrain with `leadscore train` to get one)",
        )
    return version, card, f"monitoring model {version}"


def _edge_label(value: float) -> str:
    return f"{value:.6g}"


def _numeric_bins(
    version: str, name: str, kind: str, window: str, distribution: Mapping[str, Any]
) -> list[dict[str, Any]]:
    edges = [float(edge) for edge in distribution.get("edges", [])]
    shares = [float(share) for share in distribution["shares"]]
    if len(shares) != len(edges) + 1:
        raise MonitoringError(
            f"the card's baseline for {name!r} has {len(edges)} edges but {len(shares)} shares "
            f"(expected {len(edges) + 1})"
        )
    rows = []
    for index, share in enumerate(shares):
        lower = edges[index - 1] if index > 0 else None
        upper = edges[index] if index < len(edges) else None
        if lower is None and upper is None:
            label = "all values"
        elif lower is None:
            label = f"< {_edge_label(upper)}"  # type: ignore[arg-type]
        elif upper is None:
            label = f">= {_edge_label(lower)}"
        else:
            label = f"[{_edge_label(lower)}, {_edge_label(upper)})"
        rows.append(
            {
                "bin_index": index,
                "bin_label": label,
                "lower_edge": lower,
                "upper_edge": upper,
                "category": None,
                "is_null_bin": False,
                "is_other_bin": False,
                "card_share": share,
            }
        )
    rows.append(
        {
            "bin_index": len(shares),
            "bin_label": NULL_LABEL,
            "lower_edge": None,
            "upper_edge": None,
            "category": None,
            "is_null_bin": True,
            "is_other_bin": False,
            "card_share": float(distribution.get("null_share", 0.0)),
        }
    )
    identity = {"model_version": version, "feature_name": name, "feature_kind": kind}
    return [{**identity, **row, "card_window": window} for row in rows]


def _categorical_bins(
    version: str, name: str, window: str, distribution: Mapping[str, Any]
) -> list[dict[str, Any]]:
    shares = distribution["shares"]
    rows = [
        {
            "bin_label": value,
            "category": value,
            "is_null_bin": False,
            "is_other_bin": False,
            "card_share": float(shares[value]),
        }
        for value in sorted(shares)
    ]
    rows.append(
        {
            "bin_label": OTHER_LABEL,
            "category": None,
            "is_null_bin": False,
            "is_other_bin": True,
            "card_share": float(distribution.get("other_share", 0.0)),
        }
    )
    rows.append(
        {
            "bin_label": NULL_LABEL,
            "category": None,
            "is_null_bin": True,
            "is_other_bin": False,
            "card_share": float(distribution.get("null_share", 0.0)),
        }
    )
    return [
        {
            "model_version": version,
            "feature_name": name,
            "feature_kind": "categorical",
            "bin_index": index,
            "lower_edge": None,
            "upper_edge": None,
            "card_window": window,
            **row,
        }
        for index, row in enumerate(rows)
    ]


def baseline_bins(version: str, card: Mapping[str, Any]) -> pa.Table:
    """The drift bins of a model card's ``baseline``, one row per feature (and score) and bin.

    Numeric features (and the score, as :data:`SCORE_FEATURE`) get one bin per interval of
    their decile edges, ``lower_edge <= x < upper_edge`` (NULL bounds are infinite), and a
    NULL bin; categoricals one bin per kept category (sorted), ``(other)`` and ``(null)``.
    ``card_share`` is the card's weighted share of all rows in the bin; ``card_window`` the
    window the card measured it on (``train`` for features, ``test`` for the score).

    Raises
    ------
    MonitoringError
        When the card has no baseline, or a distribution is malformed.
    """
    baseline = card.get("baseline")
    if not baseline or "features" not in baseline:
        raise MonitoringError(f"the card of model {version} has no baseline distributions")
    window = str(baseline.get("features_window", "train"))
    rows: list[dict[str, Any]] = []
    for name in sorted(baseline["features"]):
        distribution = baseline["features"][name]
        if distribution.get("kind") == "categorical":
            rows += _categorical_bins(version, name, window, distribution)
        else:
            rows += _numeric_bins(version, name, "numeric", window, distribution)
    score = baseline.get("score")
    if score:
        rows += _numeric_bins(
            version, SCORE_FEATURE, "score", str(score.get("window", "test")), score
        )
    return pa.Table.from_pylist(rows, schema=BASELINE_BINS_SCHEMA)


def has_baseline(card: Mapping[str, Any]) -> bool:
    """Whether a card carries drift baselines (cards written by ``leadscore train`` do)."""
    return bool((card.get("baseline") or {}).get("features"))


def baseline_bins_table(registry_dir: Path | str | None) -> pa.Table:
    """:func:`baseline_bins` of the promoted model; no rows when nothing is promoted or its
    card has no baseline (``fct_monitored_model.status_note`` says which)."""
    version, card, _ = current_card(resolve_registry(registry_dir))
    if version is None or card is None or not has_baseline(card):
        return BASELINE_BINS_SCHEMA.empty_table()
    return baseline_bins(version, card)


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def monitored_model(
    version: str | None, card: Mapping[str, Any] | None, note: str, registry_label: str
) -> pa.Table:
    """One row describing the monitored model (or, without one, only why there is none).

    ``model_data_date`` is the test window's end plus the label horizon: the day the labels
    of the model's latest training snapshot were complete, so the earliest scoring date the
    model could have been trained on. The model's age is counted from it (in SQL, against the
    data's scoring date, never the clock).
    """
    row: dict[str, Any] = {
        "model_version": version,
        "is_model_promoted": version is not None,
        "status_note": note,
        "registry_dir": registry_label,
    }
    if version is not None and card is not None:
        windows = card.get("training_window", {})
        metrics = card.get("metrics", {})
        horizon = card.get("horizon_days")
        test_end = _date(windows.get("test", {}).get("end"))
        features = card.get("features", {})
        baseline = card.get("baseline", {})
        row.update(
            {
                "model_type": card.get("model_type"),
                "calibration_method": card.get("calibration", {}).get("method"),
                "model_sha256": card.get("model_sha256"),
                "data_hash": card.get("data_hash"),
                "git_commit": card.get("git_commit"),
                "horizon_days": horizon,
                **{
                    f"{name}_{edge}": _date(windows.get(name, {}).get(edge))
                    for name in ("train", "validation", "test")
                    for edge in ("start", "end")
                },
                "model_data_date": (
                    test_end + timedelta(days=int(horizon))
                    if test_end is not None and horizon is not None
                    else None
                ),
                "card_test_rows": windows.get("test", {}).get("rows"),
                "card_test_positive_rows": windows.get("test", {}).get("positive_rows"),
                "card_test_roc_auc": metrics.get("test", {}).get("roc_auc"),
                "card_test_pr_auc": metrics.get("test", {}).get("pr_auc"),
                "card_rules_test_roc_auc": metrics.get("rules_test", {}).get("roc_auc"),
                "baseline_features_window": baseline.get("features_window"),
                "baseline_score_window": (baseline.get("score") or {}).get("window"),
                "raw_features": len(features.get("numeric", []))
                + len(features.get("categorical", [])),
                "packed_features": features.get("n_packed"),
            }
        )
    return pa.Table.from_pylist([row], schema=MONITORED_MODEL_SCHEMA)


def monitored_model_table(registry_dir: Path | str | None) -> pa.Table:
    """:func:`monitored_model` for the promoted model of a registry."""
    version, card, note = current_card(resolve_registry(registry_dir))
    return monitored_model(version, card, note, str(registry_dir or ""))


# --- Replaying the current model over history ------------------------------------------------


def relation_sql(relation: Any) -> str:
    """SQL for a table name, a query, or a DuckDB relation (``dbt.ref(...)`` in a Python model)."""
    if isinstance(relation, duckdb.DuckDBPyRelation):
        return relation.sql_query()
    return str(relation)


def _iter_scored(
    con: duckdb.DuckDBPyConnection,
    session: Any,
    spec: FeatureSpec,
    relation: str,
    keep: Sequence[str],
    batch_rows: int,
) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """(kept columns, P(converted=1)) per Arrow batch of the packed relation."""
    sql = packing_sql(spec, relation, keep, order_by=ORDER_BY)
    for batch in con.sql(sql).to_arrow_reader(batch_rows):
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        matrix = packed_matrix(table, spec.n_features)
        yield table.drop_columns([PACKED_COLUMN]), export.onnx_probabilities(session, matrix)


def _conform(table: pa.Table, constants: Mapping[str, Any]) -> pa.Table:
    columns = []
    for schema_field in BACKTEST_SCHEMA:
        if schema_field.name in table.column_names:
            columns.append(table.column(schema_field.name).cast(schema_field.type))
        else:
            value = constants.get(schema_field.name)
            columns.append(pa.array([value] * table.num_rows, schema_field.type))
    return pa.Table.from_arrays(columns, schema=BACKTEST_SCHEMA)


def backtest_scores(
    con: duckdb.DuckDBPyConnection,
    *,
    history: Any,
    scoring: Any,
    registry_dir: Path | str | None,
    batch_rows: int = BATCH_ROWS,
    threads: int = SCORING_THREADS,
) -> pa.Table:
    """Score every history row and every scoring row with the promoted model.

    Parameters
    ----------
    con:
        The warehouse connection (the dbt Python model's ``session``).
    history:
        ``fct_lead_training_set``: matured snapshots with ``converted`` and ``sample_weight``.
    scoring:
        ``fct_lead_scoring_set``: today's open leads.
    registry_dir:
        The registry (relative paths are relative to the dbt project).

    Returns
    -------
    pyarrow.Table
        :data:`BACKTEST_SCHEMA`, history rows first, each part ordered by (as_of_date,
        lead_id); no rows when no model is promoted.

    Raises
    ------
    MonitoringError
        When the model fails its integrity check, the tables lack a feature the model was
        trained on (or changed its kind), or the model returns NaN.
    """
    registry_path = resolve_registry(registry_dir)
    if registry.current(registry_path) is None:
        return BACKTEST_SCHEMA.empty_table()
    try:
        loaded = registry.load_current(registry_path)
        spec = FeatureSpec.from_dict(loaded.card["features"])
    except (registry.RegistryError, KeyError, ValueError) as error:
        raise MonitoringError(f"cannot replay the current model: {error}") from None
    session = export.inference_session(loaded.model_bytes, threads)
    parts = []
    for relation, is_scoring, keep in (
        (relation_sql(history), False, (*KEY_COLUMNS, LABEL_COLUMN, WEIGHT_COLUMN)),
        (relation_sql(scoring), True, KEY_COLUMNS),
    ):
        try:
            spec.check_columns(relation_columns(con, relation))
        except ValueError as error:
            raise MonitoringError(
                f"cannot replay model {loaded.version} on {relation}: {error}"
            ) from None
        for columns, probabilities in _iter_scored(con, session, spec, relation, keep, batch_rows):
            if np.isnan(probabilities).any():
                raise MonitoringError(
                    f"model {loaded.version} returned {int(np.isnan(probabilities).sum()):,} NaN "
                    "probabilities while replaying history"
                )
            scored = columns.append_column(
                "conversion_probability", pa.array(probabilities.astype(np.float64))
            )
            parts.append(
                _conform(scored, {"is_scoring_date": is_scoring, "model_version": loaded.version})
            )
    return pa.concat_tables(parts) if parts else BACKTEST_SCHEMA.empty_table()


# --- leadscore monitor ----------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    relation = con.sql(sql)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def read_state(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The monitoring state: the health row, the most drifted features, and the segments
    that fail the disparate-impact check."""
    health = _rows(con, f"select * from {HEALTH_TABLE}")
    if len(health) != 1:
        raise LookupError(f"{HEALTH_TABLE} holds {len(health)} rows, expected exactly one")
    return {
        "health": health[0],
        "drift": _rows(
            con,
            f"select feature_name, psi, ks, drift_status, most_shifted_bin from {DRIFT_TABLE} "
            "where feature_kind != 'score' order by psi desc nulls last, feature_name limit 5",
        ),
        "segments": _rows(
            con,
            f"select segment_type, segment_value, tier_a_rate_today, disparate_impact_ratio "
            f"from {SEGMENT_TABLE} where not passes_disparate_impact_check "
            "order by disparate_impact_ratio, segment_type, segment_value",
        ),
    }


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_state(state: Mapping[str, Any]) -> list[str]:
    """The monitoring state in a few printable lines."""
    health = state["health"]
    lines = [f"scoring date {health['scoring_date']}"]
    if not health["is_model_promoted"]:
        lines.append(f"model: none. {health['status_note']}")
    else:
        lines.append(
            f"model {health['model_version']} ({health['model_type']}): labels complete "
            f"{health['model_data_date']}, age {health['model_age_days']} days "
            f"(retrain after {health['max_model_age_days']})"
        )
        worst = state["drift"][0] if state["drift"] else None
        lines.append(
            f"drift vs its test window: {health['features_monitored']} features, "
            f"{health['features_drift_error']} error (PSI >= {health['drift_error_psi']}), "
            f"{health['features_drift_warn']} warn (PSI >= {health['drift_warn_psi']}); "
            + (
                f"worst {worst['feature_name']} PSI {_num(worst['psi'])} "
                f"({worst['most_shifted_bin']}); "
                if worst
                else ""
            )
            + f"score PSI {_num(health['score_psi'])}"
        )
        recent = (
            f"after training {_num(health['recent_roc_auc'])} on "
            f"{health['recent_positive_rows']} positive rows, drop {_num(health['auc_drop'])} "
            f"(limit {health['max_auc_drop']})"
            if health["is_auc_measurable"]
            else f"after training: not measurable yet ({health['recent_positive_rows'] or 0} "
            f"positive rows matured since the test window, need {health['min_positive_rows']})"
        )
        lines.append(
            f"ROC AUC: card test {_num(health['card_test_roc_auc'])}, backtest test "
            f"{_num(health['backtest_test_roc_auc'])}, {recent}"
        )
        if not health.get("is_published_by_monitored_model", True):
            lines.append(
                f"published scores (fct_lead_scores) come from {health.get('published_by')}, "
                f"not from {health['model_version']}: rebuild the scoring models"
            )
    segments = state["segments"]
    if segments:
        shown = ", ".join(
            f"{s['segment_type']}={s['segment_value']} {_num(s['disparate_impact_ratio'], 2)}"
            for s in segments[:4]
        )
        more = f" and {len(segments) - 4} more" if len(segments) > 4 else ""
        lines.append(
            f"fairness (warn): {len(segments)} segments below "
            f"{health['disparate_impact_min_ratio']} of the best tier-A rate: {shown}{more}"
        )
    else:
        lines.append("fairness: every judged segment passes the disparate-impact check")
    lines.append(
        f"RETRAIN: {health['retrain_reasons']}"
        if health["is_retrain_due"]
        else "ok: no retraining due"
    )
    return lines


def exit_code(state: Mapping[str, Any]) -> int:
    """1 when the health row says retraining is due, else 0."""
    return EXIT_RETRAIN_DUE if state["health"]["is_retrain_due"] else EXIT_OK


def _cmd_monitor(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    warehouse = Path(args.warehouse) if args.warehouse else settings.warehouse_path
    if not warehouse.exists():
        print(f"error: no warehouse at {warehouse}; run `leadscore run` first")
        return EXIT_UNREADABLE
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            state = read_state(con)
    except (duckdb.Error, LookupError) as error:
        print(f"error: cannot read the monitoring tables in {warehouse}: {error}")
        print("build them with `dbt build --select tag:monitoring` (or `leadscore run`)")
        return EXIT_UNREADABLE
    print(f"lead scoring monitor: {warehouse}")
    for line in format_state(state):
        print(f"  {line}")
    return exit_code(state)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``monitor`` sub-command."""
    parser = subparsers.add_parser(
        "monitor",
        help="print drift, backtest and fairness state; exit 1 when retraining is due",
        description="Reads the warehouse read-only. Exit codes: 0 healthy, 1 retraining due "
        "(drift error, AUC drop, model too old, or no model), 2 monitoring tables unreadable.",
    )
    parser.add_argument(
        "--warehouse",
        default=None,
        help="DuckDB file (default: LEAD_SCORING_DUCKDB_PATH or warehouse/lead_scoring.duckdb)",
    )
    parser.set_defaults(func=_cmd_monitor)
