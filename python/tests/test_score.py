"""In-warehouse scoring: verification, batching, faithful reasons, rules fallback, tiers.

The fast tests build a small synthetic world in memory (training, scoring and history tables
shaped like the dbt ones), fit real sklearn pipelines, export them with
``leadscore.export.build_onnx`` and register them, then score through
``leadscore.score``. The ``dbt`` tests run ``dbt build`` on a copy of the demo warehouse.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from leadscore import account_scores, export, registry, score
from leadscore.config import PROJECT_ROOT, Settings
from leadscore.dbt import DbtError, run_dbt
from leadscore.features import (
    FeatureSpec,
    category_counts,
    discover_features,
    learn_categories,
    read_packed,
    relation_columns,
)
from leadscore.reasons import contributions, feature_groups, top_reasons

SCORING_DATE = date(2026, 1, 5)
# The scoring models (and their tests); other engineers' models downstream are not selected.
SCORING_MODELS = ("path:models/intermediate/scoring", "path:models/marts/scoring")
INDUSTRIES = ["software", "retail", "healthcare", "education"]
SENIORITIES = ["c_level", "vp", "director", "manager", "individual_contributor"]


# --- A small world --------------------------------------------------------------------------


def _lead_table(rng: np.random.Generator, n: int, prefix: str, as_of: date) -> dict:
    industry = rng.choice(INDUSTRIES, size=n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    industry[rng.random(n) < 0.05] = None
    seniority = rng.choice(SENIORITIES, size=n).astype(object)
    icp = rng.integers(0, 86, n).astype(float)
    icp[rng.random(n) < 0.1] = np.nan
    visits = rng.poisson(1.2, n)
    engagement = rng.gamma(1.0, 2.0, n)
    free_mail = rng.random(n) < 0.2
    logit = (
        -3.0
        + 0.5 * np.minimum(visits, 5)
        + 0.03 * (np.nan_to_num(icp, nan=40.0) - 40)
        + 0.15 * engagement
        - 1.0 * free_mail
        + np.where(industry == "software", 0.8, 0.0)
        + np.where(np.isin(seniority, ["c_level", "vp"]), 0.7, 0.0)
    )
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    return {
        "lead_id": [f"{prefix}{i:05d}" for i in range(n)],
        "account_id": [f"A{i % (n // 4):05d}" if i % 7 else None for i in range(n)],
        "as_of_date": [as_of] * n,
        "seniority": seniority.tolist(),
        "industry": industry.tolist(),
        "is_free_email": free_mail.tolist(),
        "icp_fit_score": [None if np.isnan(v) else int(v) for v in icp],
        "visits_7d": visits.astype(np.int32).tolist(),
        "engagement_index": engagement.tolist(),
        "converted": converted.astype(np.int32).tolist(),
    }


@dataclass(frozen=True)
class World:
    training: pa.Table
    scoring: pa.Table
    history: pa.Table


@pytest.fixture(scope="module")
def world() -> World:
    rng = np.random.default_rng(11)
    parts = [
        pa.table(_lead_table(rng, 1500, f"T{k}_", SCORING_DATE - timedelta(days=7 * (20 + k))))
        for k in range(4)
    ]
    training = pa.concat_tables(parts)
    training = training.append_column("sample_weight", pa.array([1.0] * training.num_rows))
    scoring = pa.table(_lead_table(rng, 2500, "L", SCORING_DATE)).drop_columns(["converted"])
    history = pa.table(_lead_table(rng, 1200, "H", SCORING_DATE - timedelta(days=91)))
    return World(training, scoring, history)


def _load(con: duckdb.DuckDBPyConnection, world: World) -> None:
    for name in ("training", "scoring", "history"):
        con.register(f"{name}_arrow", getattr(world, name))
        con.execute(
            f"create or replace table {name} as select * replace ("
            "cast(icp_fit_score as integer) as icp_fit_score, "
            f"cast(visits_7d as integer) as visits_7d) from {name}_arrow"
        )
        con.unregister(f"{name}_arrow")


@pytest.fixture()
def con(world: World) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    _load(connection, world)
    yield connection
    connection.close()


def _spec(con: duckdb.DuckDBPyConnection) -> FeatureSpec:
    typed = relation_columns(con, "training")
    numeric, categorical = discover_features(typed)
    counts = category_counts(con, "training", categorical)
    return FeatureSpec(
        numeric=tuple(numeric),
        categories=learn_categories(counts, 20),
        types={name: dtype for name, dtype in typed if name in {*numeric, *categorical}},
    )


def _pipeline(kind: str) -> Pipeline:
    if kind == "logistic_regression":
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(max_iter=2000)),
            ]
        )
    if kind == "hist_gradient_boosting":
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("model", HistGradientBoostingClassifier(max_iter=60, random_state=0)),
            ]
        )
    if kind == "no_imputer":
        return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())])
    raise ValueError(kind)


@dataclass(frozen=True)
class Registered:
    registry_dir: Path
    version: str
    pipeline: Pipeline
    spec: FeatureSpec


def _register(world: World, registry_dir: Path, kind: str) -> Registered:
    con = duckdb.connect()
    _load(con, world)
    spec = _spec(con)
    columns, X = read_packed(con, spec, "training", keep=("lead_id", "converted"))
    y = columns.column("converted").to_numpy()
    if kind == "no_imputer":
        X = np.nan_to_num(X, nan=0.0)
    pipeline = _pipeline(kind).fit(X, y)
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid").fit(X, y)
    model_bytes = export.build_onnx(calibrated, spec.n_features)
    card = {
        "features": spec.to_dict(),
        "horizon_days": 90,
        "model_type": kind,
        "data_hash": f"test-{kind}",
    }
    version, _ = registry.add_version(registry_dir, model_bytes, card)
    registry.promote(registry_dir, version)
    return Registered(registry_dir, version, pipeline, spec)


@pytest.fixture(scope="module")
def models(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Registered]:
    root = tmp_path_factory.mktemp("registries")
    return {
        kind: _register(world, root / kind, kind)
        for kind in ("logistic_regression", "hist_gradient_boosting", "no_imputer")
    }


def _score(con: duckdb.DuckDBPyConnection, registry_dir: Path, **kwargs) -> score.ScoringRun:
    arguments = {
        "scoring": "scoring",
        "history": "history",
        "training": "training",
        "registry_dir": registry_dir,
        "min_leads": 100,
        "min_conversions": 10,
        "horizon_days": 90,
        "log": lambda message: None,
        **kwargs,
    }
    return score.score_current(con, **arguments)


def _by_lead(table: pa.Table) -> dict[str, dict]:
    return {row["lead_id"]: row for row in table.to_pylist()}


# --- Verification ------------------------------------------------------------------------------


def test_a_model_scores_every_row_once(con, models) -> None:
    run = _score(con, models["hist_gradient_boosting"].registry_dir)
    table = run.table
    assert table.schema == score.OUTPUT_SCHEMA
    scoring = table.filter(table.column("is_scoring_date"))
    assert scoring.num_rows == 2500 and table.num_rows == 2500 + 1200
    assert len(set(scoring.column("lead_id").to_pylist())) == 2500
    p = table.column("conversion_probability").to_numpy()
    assert np.all((p > 0) & (p < 1))
    assert set(table.column("model_version").to_pylist()) == {"v0001"}
    assert not any(table.column("is_rules_fallback").to_pylist())
    # The history keeps its labels; the scoring rows have none.
    history = table.filter(pa.compute.invert(table.column("is_scoring_date")))
    assert history.column("converted").null_count == 0
    assert scoring.column("converted").null_count == 2500


def test_tampered_model_file_fails_naming_the_sha256(con, models, tmp_path: Path) -> None:
    registry_dir = tmp_path / "registry"
    shutil.copytree(models["hist_gradient_boosting"].registry_dir, registry_dir)
    model_file = registry_dir / "v0001" / registry.MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    model_file.write_bytes(bytes(data))
    with pytest.raises(score.ScoringInputError, match="sha256") as error:
        _score(con, registry_dir)
    assert "does not match" in str(error.value)


def test_renamed_column_fails_naming_the_column(con, models) -> None:
    con.execute("alter table scoring rename column visits_7d to visits_last_week")
    with pytest.raises(score.ScoringInputError) as error:
        _score(con, models["logistic_regression"].registry_dir)
    message = str(error.value)
    assert "'visits_7d' is missing from fct_lead_scoring_set" in message
    assert "visits_last_week" in message  # the unknown column is named as a likely rename


def test_changed_kind_fails_naming_the_column(con, models) -> None:
    con.execute("alter table scoring alter icp_fit_score type varchar")
    with pytest.raises(score.ScoringInputError, match="'icp_fit_score' is VARCHAR"):
        _score(con, models["logistic_regression"].registry_dir)


def test_widened_type_of_the_same_kind_is_only_noted(con, models) -> None:
    con.execute("alter table scoring alter visits_7d type bigint")
    run = _score(con, models["logistic_regression"].registry_dir)
    assert any("'visits_7d' was INTEGER" in note for note in run.reports[0].type_notes)


def test_nulls_where_the_model_has_no_imputer_fail(con, models) -> None:
    registered = models["no_imputer"]
    with pytest.raises(score.ScoringInputError) as error:
        _score(con, registered.registry_dir)
    message = str(error.value)
    assert "'icp_fit_score'" in message and "NULL/NaN" in message
    assert "cannot fill missing values" in message
    # Filled in SQL, the same data scores.
    con.execute("update scoring set icp_fit_score = coalesce(icp_fit_score, 0)")
    con.execute("update history set icp_fit_score = coalesce(icp_fit_score, 0)")
    assert _score(con, registered.registry_dir).table.num_rows == 3700


def test_nulls_are_filled_by_a_model_with_an_imputer(con, models) -> None:
    run = _score(con, models["logistic_regression"].registry_dir)
    assert run.reports[0].null_counts["icp_fit_score"] > 0


def test_nulls_are_counted_exactly_in_integer_and_floating_columns(con, models) -> None:
    con.execute("update scoring set visits_7d = null where lead_id in ('L00001', 'L00002')")
    con.execute("update scoring set engagement_index = 'nan'::double where lead_id = 'L00003'")
    con.execute("update scoring set engagement_index = null where lead_id = 'L00004'")
    types = dict(con.execute("select column_name, column_type from (describe scoring)").fetchall())
    assert types["visits_7d"] == "INTEGER" and types["engagement_index"] == "DOUBLE"
    run = _score(con, models["logistic_regression"].registry_dir)
    expected = con.execute(
        "select count(*) filter (where visits_7d is null), "
        "count(*) filter (where engagement_index is null or isnan(engagement_index)) from scoring"
    ).fetchall()[0]
    counts = run.reports[0].null_counts
    assert (counts["visits_7d"], counts["engagement_index"]) == expected
    assert expected[0] >= 2 and expected[1] >= 2


def test_infinite_values_fail_naming_the_column(con, models) -> None:
    con.execute("update scoring set engagement_index = 'infinity'::double where lead_id = 'L00003'")
    with pytest.raises(score.ScoringInputError, match="'engagement_index' has 1 infinite"):
        _score(con, models["logistic_regression"].registry_dir)


@pytest.mark.parametrize(
    ("values", "nan_rows"),
    [
        # A NaN hides a value beyond float32 from the column's largest value.
        (("'nan'::double", "1e39"), 1),
        (("-1e39",), 0),
        (("'-infinity'::double", "'nan'::double", "'nan'::double"), 2),
    ],
)
def test_out_of_range_values_are_found_beside_nans(con, models, values, nan_rows) -> None:
    before = con.execute(
        "select count(*) filter (where engagement_index is null) from scoring"
    ).fetchall()[0][0]
    for position, value in enumerate(values, start=1):
        con.execute(
            f"update scoring set engagement_index = {value} where lead_id = 'L0000{position}'"
        )
    out_of_range = len(values) - nan_rows
    with pytest.raises(
        score.ScoringInputError, match=f"'engagement_index' has {out_of_range} infinite"
    ):
        _score(con, models["logistic_regression"].registry_dir)
    model = score.load_current_model(models["logistic_regression"].registry_dir)
    report = score.inspect_inputs(con, "scoring", model.spec, model.version, "scoring")
    assert report.nonfinite_counts == {"engagement_index": out_of_range}
    assert report.null_counts.get("engagement_index", 0) == before + nan_rows


def test_unseen_categories_are_counted_and_marked(con, models) -> None:
    con.execute(
        "update scoring set industry = 'space_mining' where lead_id in ('L00001', 'L00002')"
    )
    con.execute("update scoring set seniority = 'intern' where lead_id = 'L00002'")
    run = _score(con, models["hist_gradient_boosting"].registry_dir)
    assert run.reports[0].unseen == {"industry": {"space_mining": 2}, "seniority": {"intern": 1}}
    rows = _by_lead(run.table.filter(run.table.column("is_scoring_date")))
    assert rows["L00001"]["unseen_categories"] == "industry=space_mining"
    assert rows["L00002"]["unseen_categories"] == "seniority=intern, industry=space_mining"
    assert rows["L00003"]["unseen_categories"] is None
    # An unseen category scores like an unknown one (all-zero one-hot), i.e. like NULL.
    con.execute("update scoring set industry = null where lead_id = 'L00001'")
    again = _by_lead(_score(con, models["hist_gradient_boosting"].registry_dir).table)
    assert again["L00001"]["conversion_probability"] == rows["L00001"]["conversion_probability"]


def test_model_horizon_must_match_the_label_horizon(con, models) -> None:
    with pytest.raises(score.ScoringInputError, match="within 90 days"):
        _score(con, models["logistic_regression"].registry_dir, horizon_days=60)


def test_card_and_model_of_different_widths_fail(models, tmp_path: Path) -> None:
    registered = models["logistic_regression"]
    model_bytes, card = registry.verify(registered.registry_dir, registered.version)
    narrower = FeatureSpec(
        numeric=registered.spec.numeric[:-1],
        categories=registered.spec.categories,
        types=registered.spec.types,
    )
    with pytest.raises(score.ScoringInputError, match="do not belong together"):
        score.model_from_bytes("v0001", model_bytes, {**card, "features": narrower.to_dict()})


# --- Batches and reasons -----------------------------------------------------------------------


def test_batch_scoring_equals_single_batch_scoring(con, models) -> None:
    model = score.load_current_model(models["hist_gradient_boosting"].registry_dir)
    whole = score.score_relation(con, model, "scoring", batch_rows=1_000_000)
    batched = score.score_relation(con, model, "scoring", batch_rows=97)
    assert whole.num_rows == batched.num_rows == 2500
    whole, batched = whole.sort_by("lead_id"), batched.sort_by("lead_id")
    assert whole.column("lead_id").equals(batched.column("lead_id"))
    # onnxruntime may add a tree ensemble's float32 terms in another order for another batch
    # size: the numbers agree to float precision, not bit for bit.
    for name in ("conversion_probability", *(f"reason_{k}_contribution" for k in (1, 2, 3))):
        left = whole.column(name).to_numpy(zero_copy_only=False).astype(float)
        right = batched.column(name).to_numpy(zero_copy_only=False).astype(float)
        np.testing.assert_allclose(left, right, atol=1e-6, equal_nan=True)
    amounts = np.column_stack(
        [
            np.nan_to_num(whole.column(f"reason_{k}_contribution").to_numpy(zero_copy_only=False))
            for k in (1, 2, 3)
        ]
        + [np.zeros(whole.num_rows)]
    )
    for k in (1, 2, 3):
        # Reasons are the same features, except where two contributions tie to float precision.
        clear = np.abs(amounts[:, k - 1] - amounts[:, k]) > 1e-5
        if k > 1:
            clear &= np.abs(amounts[:, k - 2] - amounts[:, k - 1]) > 1e-5
        left = np.array(whole.column(f"reason_{k}_feature").to_pylist(), dtype=object)
        right = np.array(batched.column(f"reason_{k}_feature").to_pylist(), dtype=object)
        assert clear.sum() > 1000
        assert (left[clear] == right[clear]).all()


def test_resetting_the_top_reason_lowers_the_probability_by_its_contribution(con, models) -> None:
    registered = models["hist_gradient_boosting"]
    before = _by_lead(_score(con, registered.registry_dir).table)
    explained = {
        lead: row
        for lead, row in before.items()
        if row["is_scoring_date"] and row["reason_1_feature"] is not None
    }
    assert len(explained) > 500
    # Reset each lead's top reason in SQL: NULL is the model's median for a numeric (its
    # imputer) and no category for a categorical (all-zero one-hot).
    by_feature: dict[str, list[str]] = {}
    for lead, row in explained.items():
        by_feature.setdefault(row["reason_1_feature"], []).append(lead)
    for feature, leads in by_feature.items():
        listed = ", ".join(f"'{lead}'" for lead in leads)
        con.execute(f'update scoring set "{feature}" = null where lead_id in ({listed})')
    after = _by_lead(_score(con, registered.registry_dir).table)
    drops = np.array(
        [
            before[lead]["conversion_probability"] - after[lead]["conversion_probability"]
            for lead in explained
        ]
    )
    expected = np.array([explained[lead]["reason_1_contribution"] for lead in explained])
    assert np.all(drops > 0)
    np.testing.assert_allclose(drops, expected, atol=1e-6)


def test_linear_model_reasons_rank_the_exact_linear_contributions(con, models) -> None:
    registered = models["logistic_regression"]
    model = score.load_current_model(registered.registry_dir)
    _, X = read_packed(con, registered.spec, "scoring")
    impute = registered.pipeline.named_steps["impute"]
    scale = registered.pipeline.named_steps["scale"]
    coef = registered.pipeline.named_steps["model"].coef_[0]
    filled = np.where(np.isnan(X), impute.statistics_, X)
    baseline = np.array(model.baseline, dtype=np.float64)
    groups = feature_groups(registered.spec)
    # Exact logit contributions: coefficient x (value - reset value) / scale, summed per group.
    exact = np.column_stack(
        [
            (coef[columns] * (filled[:, columns] - baseline[columns]) / scale.scale_[columns]).sum(
                axis=1
            )
            for _, columns in groups
        ]
    )
    p = model.predict(np.ascontiguousarray(X))
    measured = contributions(model.predict, np.array(X), groups, model.baseline, p)
    ranked_exact, _ = top_reasons(exact, min_contribution=1e-9)
    ranked_measured, _ = top_reasons(measured, min_contribution=1e-9)
    ordered = -np.sort(-exact, axis=1)
    clear = (np.abs(np.diff(ordered[:, :4], axis=1)) > 1e-4).all(axis=1)
    assert clear.sum() > 1000
    np.testing.assert_array_equal(ranked_exact[clear], ranked_measured[clear])
    # Same sign everywhere: the measured effect is positive exactly where the logit rises.
    visible = np.abs(exact) > 1e-4
    assert np.array_equal(exact[visible] > 0, measured[visible] > 0)


def test_reasons_at_scale_measure_the_most_important_groups(models) -> None:
    model = score.load_current_model(models["logistic_regression"].registry_dir)
    ranked = [{"feature": name} for name in ("industry", "visits_7d", "icp_fit_score")]
    scaled = dataclasses.replace(model, card={**model.card, "permutation_importance": ranked})
    every = [name for name, _ in feature_groups(model.spec)]
    assert [name for name, _ in scaled.reason_groups(1000, top_groups=2)] == every
    large = score.ALL_GROUPS_MAX_ROWS + 1
    assert [name for name, _ in scaled.reason_groups(large, top_groups=2)] == [
        "visits_7d",
        "industry",
    ]
    # Without importance in the card, every group is measured at any size.
    assert [name for name, _ in model.reason_groups(large, top_groups=2)] == every


def test_reason_values_read_like_the_row(con, models) -> None:
    run = _score(con, models["hist_gradient_boosting"].registry_dir)
    rows = _by_lead(run.table)
    source = {
        row["lead_id"]: row for row in con.sql("select * from scoring").to_arrow_table().to_pylist()
    }
    checked = 0
    for lead, row in rows.items():
        if not row["is_scoring_date"] or row["reason_1_feature"] is None:
            continue
        value = source[lead][row["reason_1_feature"]]
        text = row["reason_1_value"]
        if isinstance(value, bool):
            assert text == ("yes" if value else "no")
        elif isinstance(value, str):
            assert text == value.replace("_", " ")
        else:
            assert float(text) == pytest.approx(round(float(value), 2), abs=1e-6)
        checked += 1
    assert checked > 500


# --- Rules fallback -----------------------------------------------------------------------------


def test_no_model_means_rules_fallback_on_every_row(con, tmp_path: Path) -> None:
    run = _score(con, tmp_path / "empty_registry")
    table = run.table
    assert run.model_version is None and "no model is promoted" in run.fallback_reason
    assert table.schema == score.OUTPUT_SCHEMA
    assert table.num_rows == 3700
    assert all(table.column("is_rules_fallback").to_pylist())
    assert table.column("conversion_probability").null_count == 3700
    assert set(table.column("fallback_reason").to_pylist()) == {run.fallback_reason}


def test_too_little_data_means_rules_fallback(con, models) -> None:
    run = _score(con, models["logistic_regression"].registry_dir, min_conversions=10_000)
    assert "not enough matured data" in run.fallback_reason
    assert all(run.table.column("is_rules_fallback").to_pylist())


def test_a_tampered_model_fails_even_when_the_data_is_too_small(con, models, tmp_path) -> None:
    registry_dir = tmp_path / "registry"
    shutil.copytree(models["logistic_regression"].registry_dir, registry_dir)
    (registry_dir / "v0001" / registry.MODEL_FILE).write_bytes(b"not a model")
    with pytest.raises(score.ScoringInputError, match="sha256"):
        _score(con, registry_dir, min_conversions=10_000)


# --- Accounts -----------------------------------------------------------------------------------


def test_account_model_is_calibrated_on_account_outcomes_and_deterministic() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    best = rng.beta(1.2, 12, n)
    roles = rng.integers(0, 6, n)
    truth = 1 / (1 + np.exp(-(np.log(best / (1 - best)) + 0.4 * roles - 0.6)))
    opened = (rng.random(n) < truth).astype(np.int32)
    history = pa.table(
        {
            "account_id": [f"A{i}" for i in range(n)],
            "as_of_date": [date(2025, 9, 1) + timedelta(days=7 * (i % 4)) for i in range(n)],
            "is_scoring_date": [i >= 3000 for i in range(n)],
            "opened_opportunity": pa.array(
                [None if i >= 3000 else int(v) for i, v in enumerate(opened)], pa.int32()
            ),
            "max_lead_probability": best,
            "leads_above_base_rate": rng.integers(0, 4, n),
            "committee_engagement_score": rng.uniform(0, 100, n),
            "committee_roles_engaged": roles,
            "is_executive_engaged": rng.integers(0, 2, n),
            "contacts_engaged_30d": rng.integers(0, 8, n),
        }
    )
    con = duckdb.connect()
    con.register("inputs_arrow", history)
    con.execute("create table inputs as select * from inputs_arrow")
    first = account_scores.score_accounts(con, "inputs")
    second = account_scores.score_accounts(con, "select * from inputs")
    assert first.equals(second)
    assert first.num_rows == 1000
    p = first.column("opportunity_probability").to_numpy()
    # Calibrated: on the held-out accounts the mean probability matches the outcome rate.
    held_out = opened[3000:]
    assert abs(p.mean() - held_out.mean()) < 0.03
    # Committee roles carry real signal, so they show up as a reason.
    assert "committee_roles_engaged" in set(first.column("reason_1_feature").to_pylist())
    assert (
        "logistic regression on 3,000 account snapshots" in first.column("account_model")[0].as_py()
    )


# --- dbt ---------------------------------------------------------------------------------------


def _quick_model(warehouse: Path, registry_dir: Path) -> str:
    """A logistic model on the demo training set (a sample), registered like `leadscore train`."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        table = "marts.fct_lead_training_set"
        typed = relation_columns(con, table)
        numeric, categorical = discover_features(typed)
        spec = FeatureSpec(
            numeric=tuple(numeric),
            categories=learn_categories(category_counts(con, table, categorical), 20),
            types={name: dtype for name, dtype in typed if name in {*numeric, *categorical}},
        )
        sample = f"select * from {table} using sample 25000 rows (reservoir, 7)"
        columns, X = read_packed(con, spec, sample, keep=("lead_id", "converted"))
    y = columns.column("converted").to_numpy()
    pipeline = _pipeline("logistic_regression").fit(X, y)
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid").fit(X, y)
    card = {"features": spec.to_dict(), "horizon_days": 90, "data_hash": "demo-quick"}
    version, _ = registry.add_version(
        registry_dir, export.build_onnx(calibrated, spec.n_features), card
    )
    registry.promote(registry_dir, version)
    return version


@pytest.fixture(scope="module")
def dbt_env(
    demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("scoring_dbt")
    registry_dir = root / "registry"
    _quick_model(demo_warehouse, registry_dir)
    yield {"root": root, "registry": registry_dir, "warehouse": demo_warehouse}


def _build(
    env: dict[str, Path],
    name: str,
    registry_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    warehouse = env["root"] / f"{name}.duckdb"
    shutil.copyfile(env["warehouse"], warehouse)
    monkeypatch.setenv("LEAD_SCORING_REGISTRY", str(registry_dir))
    monkeypatch.setenv("DBT_TARGET_PATH", str(env["root"] / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(env["root"] / "logs"))
    return Settings(project_dir=PROJECT_ROOT, warehouse_path=warehouse, registry_dir=registry_dir)


@pytest.mark.dbt
def test_dbt_build_scores_with_tiers_sized_to_capacity(dbt_env, monkeypatch) -> None:
    settings = _build(dbt_env, "scored", dbt_env["registry"], monkeypatch)
    run_dbt("build", settings, ["--select", *SCORING_MODELS])
    with open(PROJECT_ROOT / "seeds" / "sales_capacity.csv") as handle:
        capacity: dict[str, int] = {}
        for row in csv.DictReader(handle):
            capacity[row["tier"]] = capacity.get(row["tier"], 0) + int(row["weekly_leads"])
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        leads = con.sql("select count(*) from marts.fct_lead_scores").fetchall()[0][0]
        counts = dict(
            con.sql("select tier, count(*) from marts.fct_lead_scores group by 1").fetchall()
        )
        versions = con.sql(
            "select distinct model_version, is_rules_fallback from marts.fct_lead_scores"
        ).fetchall()
        ranges = con.sql(
            "select tier, min(conversion_probability), max(conversion_probability) "
            "from marts.fct_lead_scores group by 1 order by 1"
        ).fetchall()
        summary = con.sql(
            "select tier, leads, expected_conversions, history_conversion_rate "
            "from marts.fct_lead_tier_summary order by tier"
        ).fetchall()
        accounts = con.sql(
            "select count(*), count(*) filter (where tier = 'A'), "
            "count(*) filter (where reason_1 is null) from marts.fct_account_scores"
        ).fetchall()[0]
    assert versions == [("v0001", False)]
    # A, B and C hold exactly the weekly capacity (the demo has more leads than that).
    expected_a = min(capacity["A"], leads)
    expected_b = min(capacity["B"], leads - expected_a)
    assert counts["A"] == expected_a and counts["B"] == expected_b
    assert counts.get("C", 0) == min(capacity.get("C", 0), leads - expected_a - expected_b)
    assert sum(counts.values()) == leads
    # Tiers are cut on probability: every A lead is at least as likely as every B lead, ...
    for (_, lower_min, _), (_, _, next_max) in itertools.pairwise(ranges):
        assert lower_min >= next_max
    # The top tier converted more often in the history than the bottom one.
    rates = {tier: rate for tier, _, _, rate in summary}
    assert rates["A"] > rates["D"]
    assert accounts[1] == min(capacity["A"], accounts[0])


@pytest.mark.dbt
def test_dbt_build_fails_on_a_tampered_model(dbt_env, monkeypatch, capfd) -> None:
    registry_dir = dbt_env["root"] / "tampered_registry"
    shutil.copytree(dbt_env["registry"], registry_dir)
    model_file = registry_dir / "v0001" / registry.MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[100] ^= 0xFF
    model_file.write_bytes(bytes(data))
    settings = _build(dbt_env, "tampered", registry_dir, monkeypatch)
    with pytest.raises(DbtError):
        run_dbt("build", settings, ["--select", "int_lead_scores_computed"])
    output = capfd.readouterr().out
    assert "model integrity check failed" in output and "sha256" in output


@pytest.mark.dbt
def test_dbt_build_fails_on_a_renamed_scoring_column(dbt_env, monkeypatch, capfd) -> None:
    settings = _build(dbt_env, "renamed", dbt_env["registry"], monkeypatch)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            "alter table marts.fct_lead_scoring_set rename column web_visits_7d to web_visits_week"
        )
    with pytest.raises(DbtError):
        run_dbt("build", settings, ["--select", "int_lead_scores_computed"])
    output = capfd.readouterr().out
    assert "'web_visits_7d' is missing from fct_lead_scoring_set" in output
    assert "web_visits_week" in output


@pytest.mark.dbt
def test_dbt_build_without_a_model_scores_with_the_rules(dbt_env, monkeypatch) -> None:
    settings = _build(dbt_env, "rules", dbt_env["root"] / "no_registry", monkeypatch)
    run_dbt("build", settings, ["--select", *SCORING_MODELS])
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        versions = con.sql(
            "select distinct model_version, is_rules_fallback from marts.fct_lead_scores"
        ).fetchall()
        missing = con.sql(
            "select count(*) from marts.fct_lead_scores where conversion_probability is null"
        ).fetchall()[0][0]
        bands = con.sql(
            "select count(distinct conversion_probability), corr(rules_points, "
            "conversion_probability) from marts.fct_lead_scores"
        ).fetchall()[0]
    assert len(versions) == 1 and versions[0][0].startswith("rules:") and versions[0][1]
    assert missing == 0
    # Probabilities are the bands' calibrated rates: few values, rising with the points.
    assert 3 <= bands[0] <= 20 and bands[1] > 0.5
