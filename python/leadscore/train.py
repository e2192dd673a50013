"""``leadscore train``: fit, calibrate, export, check and register the lead conversion model.

The steps (docs/training.md tells the story):

1. Read ``marts.fct_lead_training_set`` read-only. Every column except
   :data:`leadscore.features.NON_FEATURE_COLUMNS` is a feature.
2. Refuse to train below the data-sufficiency minimums (matured leads, converted leads).
3. Walk-forward split by ``as_of_date``: train on the earliest snapshots, validate on later
   ones, test on the latest, with a purge gap of at least the label horizon between windows.
4. Learn the one-hot categories on the training window, pack every row into one float32
   matrix in DuckDB (:func:`leadscore.features.packing_sql`) and read it through Arrow.
5. Fit a logistic regression and a HistGradientBoosting pipeline, with and without balanced
   class weights; keep the weighting only where it raises validation PR-AUC; pick the model
   on validation PR-AUC; calibrate it on the validation window (sigmoid or isotonic, by
   cross-fitted Brier).
6. Export to ONNX, check parity with sklearn on the test window, and only then register the
   model with its card (and promote it unless told not to).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from leadscore import card as model_card
from leadscore import export, registry
from leadscore.config import Settings
from leadscore.features import (
    FLOATING_TYPES,
    LABEL_COLUMN,
    WEIGHT_COLUMN,
    FeatureSpec,
    category_counts,
    discover_features,
    learn_categories,
    quote_identifier,
    quote_literal,
    read_packed,
    relation_columns,
)
from leadscore.metrics import evaluate, weighted_quantiles
from leadscore.rules import POINTS_SEED, PointsRule, features_used, load_points, rules_score

TRAINING_TABLE = "marts.fct_lead_training_set"
# Data sufficiency. These defaults match the dbt vars lead_scoring__min_training_leads and
# lead_scoring__min_training_conversions (dbt_project.yml); pass the same values to both.
DEFAULT_MIN_LEADS = 1000
DEFAULT_MIN_CONVERSIONS = 120
DEFAULT_HORIZON_DAYS = 90
DEFAULT_MIN_CATEGORY_ROWS = 20
# Each walk-forward window must hold at least this many positive rows to be evaluated.
MIN_WINDOW_POSITIVE_ROWS = 10
SEGMENT_COLUMNS: tuple[str, ...] = ("industry", "region", "lead_source")
CANONICAL_ORDER: tuple[str, ...] = ("as_of_date", "lead_id")
MODEL_TYPES: tuple[str, ...] = ("logistic_regression", "hist_gradient_boosting")
CLASS_WEIGHTINGS: tuple[str, ...] = ("none", "balanced")
CALIBRATION_METHODS: tuple[str, ...] = ("sigmoid", "isotonic")
CALIBRATION_FOLDS = 2
# Isotonic must beat sigmoid's cross-fitted Brier by this relative margin. Its plateaus tie
# many leads at one score (coarser ranking and deciles), so a gain within noise does not pay:
# on the demo world isotonic won validation Brier by 0.5% and then lost on test (Brier 0.0715
# vs 0.0693, PR-AUC 0.287 vs 0.316, four of nine decile cut-offs equal).
ISOTONIC_MIN_GAIN = 0.01
PERMUTATION_ROWS = 5000
PERMUTATION_REPEATS = 3
BASELINE_BINS = 10
CARD_SCHEMA_VERSION = 1
# Default threads for fitting (OpenMP) and for onnxruntime during training (`--threads`). One
# thread avoids the collapse measured on busy 2-core machines (HistGradientBoosting: 0.6 s on
# 1 thread, 33 s on 2 threads while other processes ran); the model is the same on either.
TRAINING_THREADS = 1


class InsufficientDataError(RuntimeError):
    """Too little matured data to train; ``report`` says what there is."""

    def __init__(self, message: str, report: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.report = dict(report)


class TrainingTableError(ValueError):
    """The training table breaks its contract (missing column, bad label, duplicate keys)."""


class Progress:
    """Plain progress lines with the elapsed time."""

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.verbose:
            print(f"[{time.perf_counter() - self.started:6.1f}s] {message}", flush=True)


# --- Walk-forward windows ----------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A set of consecutive snapshot dates."""

    name: str
    dates: tuple[date, ...]

    @property
    def start(self) -> date:
        return self.dates[0]

    @property
    def end(self) -> date:
        return self.dates[-1]

    def sql_condition(self, column: str = "as_of_date") -> str:
        return (
            f"{quote_identifier(column)} between date {quote_literal(self.start.isoformat())} "
            f"and date {quote_literal(self.end.isoformat())}"
        )


@dataclass(frozen=True)
class Windows:
    """Train, validation and test windows separated by purge gaps."""

    train: Window
    validation: Window
    test: Window
    gap_days: int

    def all(self) -> tuple[Window, Window, Window]:
        return (self.train, self.validation, self.test)

    def describe(self) -> list[str]:
        lines = [
            f"  {w.name:<10} {w.start} .. {w.end}  ({len(w.dates)} snapshots)" for w in self.all()
        ]
        lines.insert(1, f"  {'gap':<10} {(self.validation.start - self.train.end).days} days")
        lines.insert(3, f"  {'gap':<10} {(self.test.start - self.validation.end).days} days")
        return lines


def walk_forward_windows(
    dates: Sequence[date],
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    validation_days: int | None = None,
    test_days: int | None = None,
) -> Windows:
    """Split snapshot dates into train < validation < test, latest last.

    The test window is the latest ``test_days`` (default: the horizon) of matured snapshots;
    the validation window the ``validation_days`` before it; training everything earlier.
    Between train and validation, and between validation and test, the first date of the
    later window is at least ``horizon_days`` after the last date of the earlier one, so the
    label window of a training row (as_of_date, as_of_date + horizon] ends before any
    validation snapshot: labels cannot overlap.

    Raises
    ------
    InsufficientDataError
        When the dates do not span three windows and two gaps.
    """
    ordered = sorted(set(dates))
    test_days = test_days or horizon_days
    validation_days = validation_days or horizon_days
    gap = timedelta(days=horizon_days)
    needed = test_days + validation_days + 2 * horizon_days
    report = {
        "snapshots": len(ordered),
        "first": str(ordered[0]) if ordered else None,
        "last": str(ordered[-1]) if ordered else None,
        "needs_days_at_least": needed,
    }
    if not ordered:
        raise InsufficientDataError("the training table has no rows", report)
    test = [d for d in ordered if d > ordered[-1] - timedelta(days=test_days)]
    before_test = [d for d in ordered if d <= test[0] - gap]
    if not before_test:
        raise InsufficientDataError(
            f"no snapshot is {horizon_days} days before the test window; the data spans "
            f"{(ordered[-1] - ordered[0]).days} days, a walk-forward split needs more than "
            f"{needed}",
            report,
        )
    validation = [d for d in before_test if d > before_test[-1] - timedelta(days=validation_days)]
    train = [d for d in ordered if d <= validation[0] - gap]
    if not train:
        raise InsufficientDataError(
            f"no snapshot is {horizon_days} days before the validation window; the data spans "
            f"{(ordered[-1] - ordered[0]).days} days, a walk-forward split needs more than "
            f"{needed}",
            report,
        )
    return Windows(
        train=Window("train", tuple(train)),
        validation=Window("validation", tuple(validation)),
        test=Window("test", tuple(test)),
        gap_days=horizon_days,
    )


# --- Reading the warehouse ---------------------------------------------------------------


def sufficiency_report(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]
) -> dict[str, Any]:
    """Rows, matured leads, converted leads and dates; and the same per segment column.

    A lead counts once as a conversion however many snapshots see it converting.
    """
    row = con.sql(
        f"""
        select
            count(*) as row_count,
            count(distinct lead_id) as leads,
            count(distinct case when {LABEL_COLUMN} = 1 then lead_id end) as conversions,
            coalesce(sum(case when {LABEL_COLUMN} = 1 then 1 else 0 end), 0) as positive_rows,
            count(distinct as_of_date) as snapshots,
            cast(min(as_of_date) as varchar) as first_date,
            cast(max(as_of_date) as varchar) as last_date
        from {table}
        """
    ).fetchall()[0]
    report: dict[str, Any] = dict(
        zip(
            ("rows", "leads", "conversions", "positive_rows", "snapshots", "first", "last"),
            row,
            strict=True,
        )
    )
    segments: dict[str, list[dict[str, Any]]] = {}
    for segment in (name for name in SEGMENT_COLUMNS if name in columns):
        rows = con.sql(
            f"""
            select
                coalesce(cast({quote_identifier(segment)} as varchar), '(null)') as segment_value,
                count(distinct lead_id) as leads,
                count(distinct case when {LABEL_COLUMN} = 1 then lead_id end) as conversions
            from {table}
            group by all
            order by conversions desc, segment_value
            """
        ).fetchall()
        segments[segment] = [
            {"value": value, "leads": int(leads), "conversions": int(conversions)}
            for value, leads, conversions in rows
        ]
    report["segments"] = segments
    return report


def format_sufficiency(report: Mapping[str, Any]) -> list[str]:
    """The sufficiency report as printable lines."""
    lines = [
        f"  rows {report.get('rows', 0):,}, matured leads {report.get('leads', 0):,}, "
        f"converted leads {report.get('conversions', 0):,}, snapshots "
        f"{report.get('snapshots', 0)} ({report.get('first')} .. {report.get('last')})"
    ]
    for segment, values in report.get("segments", {}).items():
        lines.append(f"  conversions by {segment}:")
        lines += [
            f"    {entry['value']:<28} {entry['conversions']:>6} of {entry['leads']:>7} leads"
            for entry in values
        ]
    return lines


def check_table_contract(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str]
) -> None:
    """Required columns present, labels 0/1, weights positive, one row per lead and date."""
    missing = [
        c for c in ("lead_id", "as_of_date", LABEL_COLUMN, WEIGHT_COLUMN) if c not in columns
    ]
    if missing:
        raise TrainingTableError(f"{table} lacks the column(s) {', '.join(missing)}")
    bad_label, bad_weight, duplicates = con.sql(
        f"""
        select
            count(*) filter (where {LABEL_COLUMN} is null or {LABEL_COLUMN} not in (0, 1)),
            count(*) filter (where {WEIGHT_COLUMN} is null or not {WEIGHT_COLUMN} > 0),
            count(*) - count(distinct (lead_id, as_of_date))
        from {table}
        """
    ).fetchall()[0]
    problems = []
    if bad_label:
        problems.append(f"{bad_label} rows with {LABEL_COLUMN} not 0/1")
    if bad_weight:
        problems.append(f"{bad_weight} rows with {WEIGHT_COLUMN} null or <= 0")
    if duplicates:
        problems.append(f"{duplicates} duplicate (lead_id, as_of_date) rows")
    if problems:
        raise TrainingTableError(f"{table}: " + "; ".join(problems))


def data_hash(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """sha256 over the sha256 of every row (all columns, names included) in canonical order."""
    order = ", ".join(quote_identifier(name) for name in CANONICAL_ORDER)
    digest = con.sql(
        f"select sha256(coalesce(string_agg(sha256(cast(t as varchar)), '' order by {order}), '')) "
        f"from {table} as t"
    ).fetchall()[0][0]
    return str(digest)


@dataclass
class TrainingData:
    """The packed training table, in canonical order, with its windows."""

    table_name: str
    spec: FeatureSpec
    columns: pa.Table
    matrix: np.ndarray
    y: np.ndarray
    w: np.ndarray
    windows: Windows
    masks: dict[str, np.ndarray]
    data_hash: str
    sufficiency: dict[str, Any]
    train_category_counts: dict[str, dict[str | None, tuple[int, float]]]
    min_category_rows: int

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mask = self.masks[name]
        return self.matrix[mask], self.y[mask], self.w[mask]


def load_training_data(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str = TRAINING_TABLE,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    min_leads: int = DEFAULT_MIN_LEADS,
    min_conversions: int = DEFAULT_MIN_CONVERSIONS,
    min_category_rows: int = DEFAULT_MIN_CATEGORY_ROWS,
    validation_days: int | None = None,
    test_days: int | None = None,
    progress: Progress | None = None,
    rule_points: Sequence[PointsRule] = (),
) -> TrainingData:
    """Check, split and pack the training table (steps 1-4 of the module docstring). The
    columns ``rule_points`` scores are kept beside the packed matrix."""
    progress = progress or Progress(False)
    typed_columns = relation_columns(con, table)
    names = [name for name, _ in typed_columns]
    check_table_contract(con, table, names)
    numeric, categorical = discover_features(typed_columns)
    report = sufficiency_report(con, table, names)
    report["required"] = {"leads": min_leads, "conversions": min_conversions}
    progress(f"sufficiency: {report['leads']:,} matured leads, {report['conversions']:,} converted")
    if report["leads"] < min_leads or report["conversions"] < min_conversions:
        raise InsufficientDataError(
            f"not enough matured data to train: {report['leads']:,} leads (need {min_leads:,}) "
            f"and {report['conversions']:,} converted leads (need {min_conversions:,})",
            report,
        )
    dates = [
        row[0] for row in con.sql(f"select distinct as_of_date from {table} order by 1").fetchall()
    ]
    windows = walk_forward_windows(dates, horizon_days, validation_days, test_days)
    counts = category_counts(con, table, categorical, where=windows.train.sql_condition())
    spec = FeatureSpec(
        numeric=tuple(numeric),
        categories=learn_categories(counts, min_category_rows),
        types={name: dtype for name, dtype in typed_columns if name in {*numeric, *categorical}},
    )
    keep = ["lead_id", "as_of_date", LABEL_COLUMN, WEIGHT_COLUMN]
    wanted = (*SEGMENT_COLUMNS, *features_used(names, rule_points))
    keep += [n for n in wanted if n in names and n not in keep]
    progress(f"packing {len(spec.raw_names)} feature columns into FLOAT[{spec.n_features}]")
    columns, matrix = read_packed(con, spec, table, keep=keep, order_by=CANONICAL_ORDER)
    y = columns.column(LABEL_COLUMN).to_numpy().astype(np.int64)
    w = columns.column(WEIGHT_COLUMN).to_numpy().astype(np.float64)
    as_of = columns.column("as_of_date").to_numpy()
    masks = {
        window.name: (as_of >= np.datetime64(window.start)) & (as_of <= np.datetime64(window.end))
        for window in windows.all()
    }
    short = {
        name: int(y[mask].sum())
        for name, mask in masks.items()
        if y[mask].sum() < MIN_WINDOW_POSITIVE_ROWS or (y[mask] == 0).sum() == 0
    }
    if short:
        report["windows"] = {w.name: [str(w.start), str(w.end)] for w in windows.all()}
        raise InsufficientDataError(
            "walk-forward windows with too few positive rows (need "
            f"{MIN_WINDOW_POSITIVE_ROWS} and some negatives): {short}",
            report,
        )
    progress(f"read {columns.num_rows:,} rows x {spec.n_features} packed features; hashing")
    return TrainingData(
        table_name=table,
        spec=spec,
        columns=columns,
        matrix=matrix,
        y=y,
        w=w,
        windows=windows,
        masks=masks,
        data_hash=data_hash(con, table),
        sufficiency=report,
        train_category_counts=counts,
        min_category_rows=min_category_rows,
    )


def read_oracle(
    con: duckdb.DuckDBPyConnection,
    oracle_table: str,
    data: TrainingData,
    column: str | None = None,
) -> np.ndarray:
    """The generator's true probabilities for the test rows, in canonical order.

    The oracle table is joined on ``lead_id`` (or, without one, ``account_id``) and, when it
    has one, ``as_of_date``. Its probability column is ``column``, else ``true_probability``,
    else its only numeric column besides the keys. Every test row must find exactly one value.
    """
    typed = relation_columns(con, oracle_table)
    names = [name for name, _ in typed]
    entity = next((k for k in ("lead_id", "account_id") if k in names), None)
    if entity is None:
        raise TrainingTableError(f"{oracle_table} has neither lead_id nor account_id")
    keys = [entity, *(["as_of_date"] if "as_of_date" in names else [])]
    if column is None:
        candidates = [
            name
            for name, dtype in typed
            if name not in {"lead_id", "account_id", "as_of_date"}
            and (dtype in FLOATING_TYPES or dtype.startswith("DECIMAL"))
        ]
        column = "true_probability" if "true_probability" in names else None
        if column is None and len(candidates) == 1:
            column = candidates[0]
        if column is None:
            raise TrainingTableError(
                f"{oracle_table}: say which column holds the true probability (--oracle-column)"
            )
    join = " and ".join(
        f"training.{quote_identifier(k)} = oracle.{quote_identifier(k)}" for k in keys
    )
    order = ", ".join(f"training.{quote_identifier(k)}" for k in CANONICAL_ORDER)
    sql = (
        f"select cast(oracle.{quote_identifier(column)} as double) as p "
        f"from {data.table_name} as training left join {oracle_table} as oracle on {join} "
        f"where training.{data.windows.test.sql_condition()} order by {order}"
    )
    values = con.sql(sql).arrow().read_all().column("p")
    expected = int(data.masks["test"].sum())
    if len(values) != expected or values.null_count:
        hint = " (rows without an account cannot join an account-level oracle)" * (
            entity == "account_id"
        )
        raise TrainingTableError(
            f"{oracle_table} must hold exactly one {column} per test row: got {len(values)} rows "
            f"for {expected} test rows, {values.null_count} without a value{hint}"
        )
    return values.to_numpy()


# --- Models -------------------------------------------------------------------------------


def make_pipeline(model_type: str, seed: int) -> Pipeline:
    """The sklearn pipeline for a model type; it carries all preprocessing after packing."""
    if model_type == "logistic_regression":
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=1.0, max_iter=2000)),
            ]
        )
    if model_type == "hist_gradient_boosting":
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                (
                    "model",
                    HistGradientBoostingClassifier(
                        learning_rate=0.05,
                        max_iter=200,
                        max_leaf_nodes=15,
                        min_samples_leaf=100,
                        l2_regularization=1.0,
                        early_stopping=False,
                        random_state=seed,
                    ),
                ),
            ]
        )
    raise ValueError(f"unknown model type {model_type!r}")


def class_weighted(y: np.ndarray, w: np.ndarray, weighting: str) -> np.ndarray:
    """Sample weights times balanced class weights (total weight / (2 x class weight))."""
    if weighting == "none":
        return w
    total = w.sum()
    positive = w[y == 1].sum()
    factors = np.where(y == 1, total / (2 * positive), total / (2 * (total - positive)))
    return w * factors


def lead_folds(lead_ids: pa.ChunkedArray | pa.Array, folds: int, seed: int) -> np.ndarray:
    """Fold number per row, every row of a lead in the same fold (seeded)."""
    encoded = (
        pc.dictionary_encode(lead_ids).combine_chunks()
        if isinstance(lead_ids, pa.ChunkedArray)
        else pc.dictionary_encode(lead_ids)
    )
    dictionary = encoded.dictionary.to_numpy(zero_copy_only=False)
    rank = np.argsort(np.argsort(dictionary, kind="stable"), kind="stable")
    rng = np.random.default_rng(seed)
    fold_of_sorted = rng.permutation(len(dictionary)) % folds
    return fold_of_sorted[rank][encoded.indices.to_numpy()]


class PrecomputedScores(ClassifierMixin, BaseEstimator):
    """A binary classifier whose decision value is its input's first column.

    Calibrating it on a column of a model's own decision values gives the same calibrator as
    calibrating the frozen model on the rows themselves (``CalibratedClassifierCV`` reads
    ``decision_function`` of both), without predicting the rows again.
    """

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> PrecomputedScores:
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X)[:, 0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(np.int64)]


def fit_calibrated(
    model: BaseEstimator, method: str, X: np.ndarray, y: np.ndarray, w: np.ndarray
) -> CalibratedClassifierCV:
    """Calibrate a fitted pipeline on (X, y, w) without refitting it."""
    with warnings.catch_warnings():
        # The weights are meant for the calibrator only: the frozen model is not refitted.
        warnings.filterwarnings("ignore", message="Since FrozenEstimator does not appear")
        return CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(
            X, y, sample_weight=w
        )


def cross_fitted_brier(
    scores: np.ndarray, method: str, y: np.ndarray, w: np.ndarray, folds: np.ndarray
) -> float:
    """Brier of a calibration method fitted on the other folds, scored on each held-out fold.

    ``scores`` are the model's ``decision_function`` on the rows, computed once: the same
    calibrators as calibrating the frozen model fold by fold (:class:`PrecomputedScores`),
    without predicting every row twice per method.
    """
    column = np.asarray(scores).reshape(-1, 1)
    stand_in = PrecomputedScores().fit(column, y)
    predicted = np.empty(len(y))
    for fold in np.unique(folds):
        held = folds == fold
        calibrated = fit_calibrated(stand_in, method, column[~held], y[~held], w[~held])
        predicted[held] = calibrated.predict_proba(column[held])[:, 1]
    return float(brier_score_loss(y, predicted, sample_weight=w))


def choose_calibration(brier: Mapping[str, float]) -> str:
    """Sigmoid, unless isotonic's Brier is lower by more than :data:`ISOTONIC_MIN_GAIN`."""
    if "isotonic" in brier and brier["isotonic"] < brier["sigmoid"] * (1 - ISOTONIC_MIN_GAIN):
        return "isotonic"
    return "sigmoid"


def grouped_permutation_importance(
    predict: Any,
    spec: FeatureSpec,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    seed: int,
    max_rows: int = PERMUTATION_ROWS,
    repeats: int = PERMUTATION_REPEATS,
) -> list[dict[str, Any]]:
    """Drop in weighted PR-AUC when one SQL feature (all its packed columns together) is
    shuffled, on at most ``max_rows`` rows."""
    rng = np.random.default_rng(seed)
    if len(y) > max_rows:
        rows = np.sort(rng.choice(len(y), size=max_rows, replace=False))
        X, y, w = X[rows], y[rows], w[rows]
    baseline = average_precision_score(y, predict(X), sample_weight=w)
    results = []
    for name, columns in spec.groups():
        drops = []
        if columns.stop > columns.start:
            for _ in range(repeats):
                shuffled = X.copy()
                shuffled[:, columns] = X[rng.permutation(len(y))][:, columns]
                drops.append(
                    baseline - average_precision_score(y, predict(shuffled), sample_weight=w)
                )
        results.append(
            {
                "feature": name,
                "packed_columns": columns.stop - columns.start,
                "importance_mean": round(float(np.mean(drops)) if drops else 0.0, 6),
                "importance_std": round(float(np.std(drops)) if drops else 0.0, 6),
            }
        )
    return sorted(results, key=lambda row: (-row["importance_mean"], row["feature"]))


# --- Card pieces ---------------------------------------------------------------------------


def numeric_distribution(values: np.ndarray, w: np.ndarray, bins: int = BASELINE_BINS) -> dict:
    """Weighted quantile bin edges, the share of all rows per bin, and the NULL share.

    Bin i holds ``edges[i-1] <= x < edges[i]`` (bin 0 below ``edges[0]``, the last bin at or
    above ``edges[-1]``), i.e. ``numpy.searchsorted(edges, x, side="right")``.
    """
    values = np.asarray(values, dtype=np.float64)
    null = np.isnan(values)
    total = w.sum()
    edges = np.unique(weighted_quantiles(values, w, np.arange(1, bins) / bins))
    edges = edges[~np.isnan(edges)]
    index = np.searchsorted(edges, values[~null], side="right")
    shares = np.bincount(index, weights=w[~null], minlength=len(edges) + 1) / total
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "shares": [round(float(s), 6) for s in shares],
        "null_share": round(float(w[null].sum() / total), 6),
    }


def categorical_distribution(
    counts: Mapping[str | None, tuple[int, float]], kept: Sequence[str]
) -> dict:
    """Weighted share per kept category, of all other values together, and of NULL."""
    total = sum(weight for _, weight in counts.values()) or 1.0
    null = counts.get(None, (0, 0.0))[1]
    shares = {value: round(counts.get(value, (0, 0.0))[1] / total, 6) for value in kept}
    other = total - null - sum(counts.get(value, (0, 0.0))[1] for value in kept)
    return {
        "kind": "categorical",
        "shares": shares,
        "other_share": round(other / total, 6),
        "null_share": round(null / total, 6),
    }


def segment_metrics(
    columns: pa.Table, y: np.ndarray, w: np.ndarray, p: np.ndarray
) -> list[dict[str, Any]]:
    """Test-window metrics per value of each segment column present."""
    results = []
    for segment in (name for name in SEGMENT_COLUMNS if name in columns.column_names):
        values = pc.fill_null(pc.cast(columns.column(segment), pa.string()), "(null)")
        for value in sorted(set(pc.unique(values).to_pylist())):
            mask = np.asarray(pc.equal(values, value).to_numpy(zero_copy_only=False), dtype=bool)
            metrics = evaluate(y[mask], p[mask], w[mask])
            positives = int(y[mask].sum())
            enough = positives >= 5 and positives < mask.sum()
            results.append(
                {
                    "segment": segment,
                    "value": value,
                    "rows": int(mask.sum()),
                    "positive_rows": positives,
                    "observed_rate": round(float((w * y)[mask].sum() / w[mask].sum()), 6),
                    "mean_predicted": round(float((w * p)[mask].sum() / w[mask].sum()), 6),
                    "roc_auc": metrics["roc_auc"] if enough else None,
                    "pr_auc": metrics["pr_auc"] if enough else None,
                }
            )
    return results


def rules_probabilities(
    data: TrainingData, points: Sequence[PointsRule]
) -> tuple[np.ndarray, dict[str, Any]]:
    """The points score (``points``, :func:`leadscore.rules.load_points`) on the test rows,
    mapped to a probability by a weighted logistic fit of the label on the points over the
    validation rows."""
    validation = data.columns.filter(pa.array(data.masks["validation"]))
    test = data.columns.filter(pa.array(data.masks["test"]))
    points_validation = rules_score(validation, points).reshape(-1, 1)
    points_test = rules_score(test, points).reshape(-1, 1)
    mask = data.masks["validation"]
    mapping = LogisticRegression(C=1e6, max_iter=1000).fit(
        points_validation, data.y[mask], sample_weight=data.w[mask]
    )
    info = {
        "features_used": features_used(data.columns.column_names, points),
        "points": [list(rule) for rule in points],
        "probability_mapping": "logistic fit of the label on the points, validation window",
    }
    return mapping.predict_proba(points_test)[:, 1], info


def git_commit(project_dir: Path) -> tuple[str | None, bool | None]:
    """The checked-out commit and whether tracked files differ from it (read-only git)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        commit = subprocess.run(
            ["git", "-C", str(project_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(project_dir), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit or None, bool(status.strip())


def _simple_params(estimator: Any) -> dict[str, Any]:
    return {
        key: value
        for key, value in sorted(estimator.get_params(deep=False).items())
        if value is None or isinstance(value, bool | int | float | str)
    }


# --- The whole step -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    """What ``train_and_register`` did."""

    version: str
    promoted: bool
    created: bool
    metrics: dict[str, dict[str, float | None]]
    model_type: str
    calibration: str
    registry_dir: Path
    windows: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def card_path(self) -> Path:
        return self.registry_dir / self.version / registry.CARD_FILE


def train_and_register(
    settings: Settings,
    *,
    seed: int = 0,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    min_leads: int = DEFAULT_MIN_LEADS,
    min_conversions: int = DEFAULT_MIN_CONVERSIONS,
    min_category_rows: int = DEFAULT_MIN_CATEGORY_ROWS,
    validation_days: int | None = None,
    test_days: int | None = None,
    table: str = TRAINING_TABLE,
    oracle_table: str | None = None,
    oracle_column: str | None = None,
    promote: bool = True,
    verbose: bool = True,
    threads: int = TRAINING_THREADS,
) -> TrainResult:
    """Train, calibrate, export, parity-check, register and (optionally) promote a model.

    Parameters
    ----------
    settings:
        Where the warehouse (read-only) and the registry are.
    seed:
        Seeds the models, the calibration folds and permutation importance.
    horizon_days:
        The label horizon, and the purge gap between walk-forward windows.
    min_leads, min_conversions:
        Data sufficiency: matured leads and converted leads needed to train (same meaning
        as the dbt vars ``lead_scoring__min_training_leads`` / ``..._conversions``).
    min_category_rows:
        A categorical value gets a one-hot slot when it has this many training-window rows.
    validation_days, test_days:
        Window lengths (default: the horizon).
    table:
        The training table.
    oracle_table, oracle_column:
        Optional table of the generator's true probabilities; adds ``metrics.oracle_test``.
    promote:
        Make the new version current (it has passed parity by then).
    threads:
        OpenMP threads for fitting and onnxruntime threads for the checks (default 1; see
        :data:`TRAINING_THREADS`). Use 2 only on an otherwise idle 2-core machine. The ONNX
        model is byte for byte the same on one or two threads; onnxruntime's probabilities
        can differ in the last float32 digit (at 1M leads the card's decile cut-offs moved
        by 4.5e-8, its metrics not at all).

    Raises
    ------
    InsufficientDataError
        Below the sufficiency minimums, or when the windows lack positives.
    leadscore.export.ParityError
        When the ONNX model disagrees with sklearn; nothing is registered.
    """
    with threadpool_limits(limits=threads):
        return _train_and_register(
            settings,
            seed=seed,
            horizon_days=horizon_days,
            min_leads=min_leads,
            min_conversions=min_conversions,
            min_category_rows=min_category_rows,
            validation_days=validation_days,
            test_days=test_days,
            table=table,
            oracle_table=oracle_table,
            oracle_column=oracle_column,
            promote=promote,
            verbose=verbose,
            threads=threads,
        )


def _train_and_register(
    settings: Settings,
    *,
    seed: int,
    horizon_days: int,
    min_leads: int,
    min_conversions: int,
    min_category_rows: int,
    validation_days: int | None,
    test_days: int | None,
    table: str,
    oracle_table: str | None,
    oracle_column: str | None,
    promote: bool,
    verbose: bool,
    threads: int,
) -> TrainResult:
    progress = Progress(verbose)
    points = load_points(settings.project_dir / POINTS_SEED)
    progress(f"reading {table} from {settings.warehouse_path} (read-only)")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        data = load_training_data(
            con,
            table=table,
            horizon_days=horizon_days,
            min_leads=min_leads,
            min_conversions=min_conversions,
            min_category_rows=min_category_rows,
            validation_days=validation_days,
            test_days=test_days,
            progress=progress,
            rule_points=points,
        )
        oracle = read_oracle(con, oracle_table, data, oracle_column) if oracle_table else None
    if verbose:
        print(f"walk-forward windows (purge gap >= {horizon_days} days):")
        print("\n".join(data.windows.describe()))
    X_train, y_train, w_train = data.part("train")
    X_val, y_val, w_val = data.part("validation")
    X_test, y_test, w_test = data.part("test")

    # Model and class weighting, chosen on validation PR-AUC.
    candidates: list[dict[str, Any]] = []
    fitted: dict[tuple[str, str], Pipeline] = {}
    validation_scores: dict[tuple[str, str], np.ndarray] = {}
    for model_type in MODEL_TYPES:
        for weighting in CLASS_WEIGHTINGS:
            pipeline = make_pipeline(model_type, seed)
            pipeline.fit(
                X_train, y_train, model__sample_weight=class_weighted(y_train, w_train, weighting)
            )
            # Decision values rank rows as the probabilities do (a monotone link), and the
            # calibration step below reuses them instead of predicting the window again.
            decision = pipeline.decision_function(X_val)
            score = average_precision_score(y_val, decision, sample_weight=w_val)
            fitted[model_type, weighting] = pipeline
            validation_scores[model_type, weighting] = decision
            candidates.append(
                {
                    "model_type": model_type,
                    "class_weighting": weighting,
                    "validation_pr_auc": round(float(score), 6),
                    "kept": False,
                }
            )
            progress(
                f"fitted {model_type} (class weighting {weighting}): validation PR-AUC {score:.4f}"
            )
    best_per_type = []
    for model_type in MODEL_TYPES:
        none, balanced = (c for c in candidates if c["model_type"] == model_type)
        best_per_type.append(
            balanced if balanced["validation_pr_auc"] > none["validation_pr_auc"] else none
        )
    chosen = max(best_per_type, key=lambda c: c["validation_pr_auc"])
    chosen["kept"] = True
    model = fitted[chosen["model_type"], chosen["class_weighting"]]

    # Calibration on the validation window, chosen on cross-fitted Brier.
    folds = lead_folds(
        data.columns.column("lead_id").filter(pa.array(data.masks["validation"])),
        CALIBRATION_FOLDS,
        seed,
    )
    decision = validation_scores[chosen["model_type"], chosen["class_weighting"]]
    brier = {
        m: round(cross_fitted_brier(decision, m, y_val, w_val, folds), 6)
        for m in CALIBRATION_METHODS
    }
    method = choose_calibration(brier)
    progress(f"calibration cross-fitted Brier {brier}: {method}")
    metadata = {
        "leadscore.packed_features": export.to_json_metadata(list(data.spec.packed_names)),
        "leadscore.model_type": chosen["model_type"],
    }
    note = ""
    while True:
        calibrated = fit_calibrated(model, method, X_val, y_val, w_val)
        progress(f"exporting {chosen['model_type']} + {method} calibration to ONNX")
        model_bytes = export.build_onnx(calibrated, data.spec.n_features, metadata)
        session = export.inference_session(model_bytes, threads=threads)
        p_test = export.onnx_probabilities(session, X_test)
        cutoffs = export.decile_cutoffs(p_test, w_test)
        parity = export.parity_report(calibrated.predict_proba(X_test)[:, 1], p_test, cutoffs)
        progress(
            f"parity on {parity['rows']:,} test rows: max |dp| {parity['max_abs_diff']:.2e}, "
            f"{parity['rows_beyond_tolerance']} beyond {parity['tolerance']}"
        )
        if parity["passed"] or method == "sigmoid":
            break
        note = (
            f"isotonic had the lower Brier but failed ONNX parity "
            f"(max |dp| {parity['max_abs_diff']:.2e}); sigmoid used instead"
        )
        method = "sigmoid"
    export.check_parity(parity)

    # Evaluation.
    p_val = export.onnx_probabilities(session, X_val)
    metrics: dict[str, dict[str, float | None]] = {
        "validation": evaluate(y_val, p_val, w_val),
        "test": evaluate(y_test, p_test, w_test),
    }
    p_rules, rules_info = rules_probabilities(data, points)
    metrics["rules_test"] = evaluate(y_test, p_rules, w_test)
    scores = {"model": p_test.astype(np.float64), "rules": p_rules}
    if oracle is not None:
        metrics["oracle_test"] = evaluate(y_test, oracle, w_test)
        scores["oracle"] = oracle
    progress(
        f"test PR-AUC {metrics['test']['pr_auc']}, ROC AUC {metrics['test']['roc_auc']}, "
        f"lift@10 {metrics['test']['lift_at_10']} (rules PR-AUC {metrics['rules_test']['pr_auc']})"
    )
    progress(f"permutation importance on <= {PERMUTATION_ROWS:,} validation rows")
    importance = grouped_permutation_importance(
        lambda X: export.onnx_probabilities(session, X), data.spec, X_val, y_val, w_val, seed
    )
    test_columns = data.columns.filter(pa.array(data.masks["test"]))
    commit, dirty = git_commit(settings.project_dir)
    card: dict[str, Any] = {
        "card_schema_version": CARD_SCHEMA_VERSION,
        "model_type": chosen["model_type"],
        "model_params": _simple_params(model.steps[-1][1]),
        "class_weighting": chosen["class_weighting"],
        "selection": {"metric": "validation pr_auc", "candidates": candidates},
        "calibration": {
            "method": method,
            "fitted_on": "validation",
            "cross_fitted_brier": brier,
            "folds": CALIBRATION_FOLDS,
            "rule": f"isotonic only if its Brier is over {ISOTONIC_MIN_GAIN:.0%} lower, and "
            "only if it passes ONNX parity",
            "note": note,
        },
        "git_commit": commit,
        "git_dirty": dirty,
        "seed": seed,
        "threads": threads,
        "horizon_days": horizon_days,
        "source_table": table,
        "data_hash": data.data_hash,
        "data": {
            k: data.sufficiency[k]
            for k in ("rows", "leads", "conversions", "positive_rows", "snapshots")
        },
        "sufficiency": data.sufficiency,
        "training_window": {
            **{
                window.name: {
                    "start": str(window.start),
                    "end": str(window.end),
                    "snapshots": len(window.dates),
                    "rows": int(data.masks[window.name].sum()),
                    "positive_rows": int(data.y[data.masks[window.name]].sum()),
                }
                for window in data.windows.all()
            },
            "purge_gap_days": horizon_days,
        },
        "features": {**data.spec.to_dict(), "min_category_rows": min_category_rows},
        "onnx": {
            "input": export.INPUT_NAME,
            "input_shape": [None, data.spec.n_features],
            "outputs": [export.LABEL, export.PROBABILITIES],
            "positive_class": export.POSITIVE_CLASS_DOC,
            "opset": export.TARGET_OPSET,
        },
        "parity": parity,
        "thresholds": {
            "window": "test",
            "scores": "ONNX P(converted=1)",
            "decile_cutoffs": cutoffs,
            "rule": "decile 1 (top) is score >= decile_cutoffs[0]; decile d is "
            "decile_cutoffs[d-1] <= score < decile_cutoffs[d-2]; decile 10 is below "
            "decile_cutoffs[8]",
        },
        "baseline": {
            "features_window": "train",
            "weighted_by": WEIGHT_COLUMN,
            "binning": "bin i holds edges[i-1] <= x < edges[i] (numpy.searchsorted(edges, x, "
            "side='right')); shares are of all rows, NULL rows count in null_share only",
            "features": {
                **{
                    name: numeric_distribution(X_train[:, position], w_train)
                    for position, name in enumerate(data.spec.numeric)
                },
                **{
                    name: categorical_distribution(data.train_category_counts[name], kept)
                    for name, kept in data.spec.categories.items()
                },
            },
            "score": {"window": "test", **numeric_distribution(p_test, w_test)},
        },
        "metrics": metrics,
        "rules": rules_info,
        "oracle": {"table": oracle_table} if oracle_table else None,
        "permutation_importance": importance,
        "segments": segment_metrics(test_columns, y_test, w_test, p_test.astype(np.float64)),
    }
    progress("rendering the model card")
    plots = model_card.render_plots(model_card.TestCurves(y_test, w_test, scores), importance)
    version, created = registry.add_version(
        settings.registry_dir,
        model_bytes,
        card,
        render_html=lambda full: model_card.render_html(full, plots),
    )
    progress(f"{'registered' if created else 'identical to'} {version} in {settings.registry_dir}")
    if promote:
        registry.promote(settings.registry_dir, version)
        progress(f"promoted {version} to current")
    return TrainResult(
        version=version,
        promoted=promote,
        created=created,
        metrics=metrics,
        model_type=chosen["model_type"],
        calibration=method,
        registry_dir=settings.registry_dir,
        windows={w.name: (str(w.start), str(w.end)) for w in data.windows.all()},
    )


# --- CLI ------------------------------------------------------------------------------------


def _cmd_train(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        result = train_and_register(
            settings,
            seed=args.seed,
            horizon_days=args.horizon_days,
            min_leads=args.min_leads,
            min_conversions=args.min_conversions,
            min_category_rows=args.min_category_rows,
            validation_days=args.validation_days,
            test_days=args.test_days,
            table=args.table,
            oracle_table=args.oracle_table,
            oracle_column=args.oracle_column,
            promote=not args.no_promote,
            threads=args.threads,
        )
    except InsufficientDataError as error:
        print(f"error: {error}; refusing to train")
        print("\n".join(format_sufficiency(error.report)))
        return 2
    except export.ParityError as error:
        print(f"error: {error}")
        return 3
    except (TrainingTableError, duckdb.Error) as error:
        print(f"error: {error}")
        return 1
    print(f"\nmodel {result.version}: {result.model_type} + {result.calibration} calibration")
    for name, values in result.metrics.items():
        shown = ", ".join(f"{k} {'-' if v is None else f'{v:.4f}'}" for k, v in values.items())
        print(f"  {name:<12} {shown}")
    state = "promoted to current" if result.promoted else "not promoted (--no-promote)"
    print(f"  {state}; card: {result.card_path.with_suffix('.html')}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` sub-command."""
    parser = subparsers.add_parser(
        "train", help="train, calibrate, export to ONNX and register the lead conversion model"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--horizon-days",
        type=int,
        default=DEFAULT_HORIZON_DAYS,
        help="label horizon and purge gap between windows (default %(default)s)",
    )
    parser.add_argument(
        "--min-leads",
        type=int,
        default=DEFAULT_MIN_LEADS,
        help="matured leads needed to train; = dbt var lead_scoring__min_training_leads "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--min-conversions",
        type=int,
        default=DEFAULT_MIN_CONVERSIONS,
        help="converted leads needed to train; = dbt var lead_scoring__min_training_conversions "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--min-category-rows",
        type=int,
        default=DEFAULT_MIN_CATEGORY_ROWS,
        help="training-window rows a category needs for its own one-hot slot (default %(default)s)",
    )
    parser.add_argument("--validation-days", type=int, default=None, help="default: the horizon")
    parser.add_argument("--test-days", type=int, default=None, help="default: the horizon")
    parser.add_argument(
        "--table", default=TRAINING_TABLE, help="training table (default %(default)s)"
    )
    parser.add_argument(
        "--oracle-table",
        default=None,
        help="table of the generator's true probabilities (adds metrics.oracle_test)",
    )
    parser.add_argument("--oracle-column", default=None, help="its probability column")
    parser.add_argument("--no-promote", action="store_true", help="register without promoting")
    parser.add_argument(
        "--threads",
        type=int,
        default=TRAINING_THREADS,
        help="threads for fitting; 2 on an otherwise idle 2-core machine, 1 when other work "
        "runs beside it (default %(default)s)",
    )
    parser.set_defaults(func=_cmd_train)
