"""The training step end to end on a synthetic warehouse, and its building blocks."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import onnx
import pyarrow as pa
import pytest
from onnx import numpy_helper
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from training_support import TEST_HORIZON_DAYS, make_training_warehouse, settings_for

from leadscore import cli, export, registry, train
from leadscore.config import PROJECT_ROOT
from leadscore.features import FeatureSpec, read_packed
from leadscore.metrics import METRIC_KEYS, evaluate, expected_calibration_error, top_fraction
from leadscore.rules import POINTS_SEED, PointsRule, load_points, rules_score

ORACLE = "marts.fct_lead_oracle"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_training_warehouse(tmp_path_factory.mktemp("warehouse") / "train.duckdb")


@pytest.fixture(scope="module")
def trained(warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    settings = settings_for(warehouse, tmp_path_factory.mktemp("registry"))
    result = train.train_and_register(
        settings, seed=0, horizon_days=TEST_HORIZON_DAYS, oracle_table=ORACLE, verbose=False
    )
    return settings, result


def test_card_has_every_metric_and_the_contract(trained) -> None:
    settings, result = trained
    card = json.loads(result.card_path.read_text())
    assert set(card["metrics"]) == {"validation", "test", "rules_test", "oracle_test"}
    for values in card["metrics"].values():
        assert sorted(values) == sorted(METRIC_KEYS)
        assert all(isinstance(value, float) for value in values.values())
    assert card["version"] == result.version and result.promoted
    assert registry.current(settings.registry_dir)["version"] == result.version
    assert card["model_sha256"] == export.sha256_hex(
        (settings.registry_dir / result.version / "model.onnx").read_bytes()
    )
    assert card["parity"]["passed"] and card["parity"]["max_abs_diff"] < 1e-3
    assert card["calibration"]["method"] in ("sigmoid", "isotonic")
    assert len(card["thresholds"]["decile_cutoffs"]) == 9
    assert len(card["data_hash"]) == 64
    # The rare industry (2 leads) gets no slot; NULL never does.
    categories = {e["name"]: e["categories"] for e in card["features"]["categorical"]}
    assert "software" in categories["industry"] and "space_mining" not in categories["industry"]
    assert card["baseline"]["features"]["industry"]["other_share"] > 0
    assert {"industry", "region", "lead_source"} <= set(card["sufficiency"]["segments"])
    html = (settings.registry_dir / result.version / "card.html").read_text()
    assert html.count("data:image/png;base64,") == 6
    assert f"Lead conversion model {result.version}" in html


def test_the_model_learns_the_signal(trained) -> None:
    _, result = trained
    test, rules, oracle = (result.metrics[k] for k in ("test", "rules_test", "oracle_test"))
    # The synthetic label has real signal: the model must beat the points table and come
    # close to the true probabilities it was drawn from.
    assert test["roc_auc"] > 0.8
    assert test["pr_auc"] > rules["pr_auc"]
    assert test["pr_auc"] > 0.75 * oracle["pr_auc"]
    assert test["ece"] < 0.02


def test_windows_in_the_card_respect_the_purge_gap(trained) -> None:
    _, result = trained
    card = json.loads(result.card_path.read_text())
    window = {k: card["training_window"][k] for k in ("train", "validation", "test")}
    day = date.fromisoformat
    assert day(window["validation"]["start"]) - day(window["train"]["end"]) >= timedelta(
        days=TEST_HORIZON_DAYS
    )
    assert day(window["test"]["start"]) - day(window["validation"]["end"]) >= timedelta(
        days=TEST_HORIZON_DAYS
    )


def test_onnx_model_scores_the_packed_rows(trained) -> None:
    settings, _ = trained
    loaded = registry.load_current(settings.registry_dir)
    spec = FeatureSpec.from_dict(loaded.card["features"])
    session = export.inference_session(loaded.model_bytes)
    (model_input,) = session.get_inputs()
    assert model_input.name == "features" and model_input.shape[1] == spec.n_features
    assert [o.name for o in session.get_outputs()] == ["label", "probabilities"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        _, matrix = read_packed(con, spec, "marts.fct_lead_training_set")
    label, probabilities = session.run(None, {"features": matrix})
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(label, (probabilities[:, 1] > 0.5).astype(np.int64))


def test_training_is_reproducible(trained, tmp_path: Path) -> None:
    settings, first = trained
    again = settings_for(settings.warehouse_path, tmp_path / "registry")
    # Two threads fit the same model as one (the first run used the default, one).
    second = train.train_and_register(
        again, seed=0, horizon_days=TEST_HORIZON_DAYS, promote=False, verbose=False, threads=2
    )
    first_bytes = (settings.registry_dir / first.version / "model.onnx").read_bytes()
    second_bytes = (again.registry_dir / second.version / "model.onnx").read_bytes()
    assert first_bytes == second_bytes
    assert second.metrics["test"] == first.metrics["test"]
    assert registry.current(again.registry_dir) is None  # promote=False
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        spec = FeatureSpec.from_dict(registry.read_card(again.registry_dir, "v0001")["features"])
        _, matrix = read_packed(con, spec, "marts.fct_lead_training_set")
    np.testing.assert_array_equal(
        export.onnx_probabilities(first_bytes, matrix),
        export.onnx_probabilities(second_bytes, matrix),
    )
    # Registering the identical model again reuses the version.
    _, created = registry.add_version(
        again.registry_dir, second_bytes, registry.read_card(again.registry_dir, "v0001")
    )
    assert not created and registry.versions(again.registry_dir) == ["v0001"]


def test_a_model_failing_parity_is_never_registered(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_build = export.build_onnx

    def tampered_build(calibrated, n_features, metadata=None):
        return tamper(real_build(calibrated, n_features, metadata))

    monkeypatch.setattr(export, "build_onnx", tampered_build)
    settings = settings_for(warehouse, tmp_path / "registry")
    with pytest.raises(export.ParityError, match="parity check failed"):
        train.train_and_register(settings, horizon_days=TEST_HORIZON_DAYS, verbose=False)
    assert registry.versions(settings.registry_dir) == []
    assert registry.current(settings.registry_dir) is None


def tamper(model_bytes: bytes) -> bytes:
    """Shift the calibration a little (sigmoid intercept or isotonic levels): a subtly
    wrong model."""
    model = onnx.load_from_string(model_bytes)
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name in ("cal_b", "cal_y"):
            shifted = numpy_helper.to_array(tensor) + 0.05
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(shifted, tensor.name))
            return model.SerializeToString()
    raise AssertionError("no calibration parameters found")


def test_isotonic_failing_parity_falls_back_to_sigmoid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = make_training_warehouse(tmp_path / "small.duckdb", n_leads=700, n_snapshots=24)
    real_build = export.build_onnx

    def build_with_broken_isotonic(calibrated, n_features, metadata=None):
        model_bytes = real_build(calibrated, n_features, metadata)
        method = export.calibration_parts(calibrated).method
        return tamper(model_bytes) if method == "isotonic" else model_bytes

    monkeypatch.setattr(train, "choose_calibration", lambda brier: "isotonic")
    monkeypatch.setattr(export, "build_onnx", build_with_broken_isotonic)
    settings = settings_for(small, tmp_path / "registry")
    result = train.train_and_register(
        settings,
        horizon_days=TEST_HORIZON_DAYS,
        min_leads=100,
        min_conversions=20,
        verbose=False,
    )
    card = registry.read_card(settings.registry_dir, result.version)
    assert result.calibration == card["calibration"]["method"] == "sigmoid"
    assert "failed ONNX parity" in card["calibration"]["note"]
    assert card["parity"]["passed"]


def test_isotonic_needs_a_clear_brier_gain() -> None:
    assert train.choose_calibration({"sigmoid": 0.0540, "isotonic": 0.0538}) == "sigmoid"
    assert train.choose_calibration({"sigmoid": 0.0540, "isotonic": 0.0530}) == "isotonic"
    assert train.choose_calibration({"sigmoid": 0.0540, "isotonic": 0.0560}) == "sigmoid"


@pytest.mark.parametrize("model_type", train.MODEL_TYPES)
@pytest.mark.parametrize("method", train.CALIBRATION_METHODS)
def test_cross_fitted_brier_from_decision_values_matches_calibrating_the_model(
    model_type: str, method: str
) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(5000, 4)).astype(np.float32)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(1.5 * X[:, 0] - X[:, 1] - 2)))).astype(int)
    w = rng.uniform(0.5, 2.0, size=5000)
    model = train.make_pipeline(model_type, seed=0).fit(X[:2000], y[:2000])
    X_val, y_val, w_val = X[2000:], y[2000:], w[2000:]
    folds = rng.integers(0, train.CALIBRATION_FOLDS, size=len(y_val))
    # Independently: calibrate the frozen model on the rows of the other fold, then score
    # the held-out rows through it.
    predicted = np.empty(len(y_val))
    for fold in range(train.CALIBRATION_FOLDS):
        held = folds == fold
        calibrated = train.fit_calibrated(model, method, X_val[~held], y_val[~held], w_val[~held])
        predicted[held] = calibrated.predict_proba(X_val[held])[:, 1]
    expected = float(np.average((predicted - y_val) ** 2, weights=w_val))
    got = train.cross_fitted_brier(model.decision_function(X_val), method, y_val, w_val, folds)
    assert got == pytest.approx(expected, rel=1e-12, abs=0)
    # A method fitted on shuffled scores is worse: the scores are really used.
    shuffled = rng.permutation(model.decision_function(X_val))
    assert train.cross_fitted_brier(shuffled, method, y_val, w_val, folds) > got


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_export_parity_and_tamper_detection(method: str) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6000, 5)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (rng.random(6000) < 1 / (1 + np.exp(-(2 * np.nan_to_num(X[:, 0]) - 2)))).astype(int)
    model = train.make_pipeline("logistic_regression", seed=0)
    assert isinstance(model, Pipeline) and isinstance(model[1], StandardScaler)
    model.fit(X[:3000], y[:3000])
    calibrated = train.fit_calibrated(model, method, X[3000:4500], y[3000:4500], np.ones(1500))
    model_bytes = export.build_onnx(calibrated, 5)
    p_sklearn = calibrated.predict_proba(X[4500:])[:, 1]
    p_onnx = export.onnx_probabilities(model_bytes, X[4500:])
    cutoffs = export.decile_cutoffs(p_onnx)
    report = export.parity_report(p_sklearn, p_onnx, cutoffs)
    assert report["passed"], report
    if method == "sigmoid":
        bad = export.parity_report(
            p_sklearn, export.onnx_probabilities(tamper(model_bytes), X[4500:]), cutoffs
        )
        assert not bad["passed"] and bad["rows_beyond_tolerance"] > 0
        with pytest.raises(export.ParityError):
            export.check_parity(bad)


def test_insufficient_data_is_refused_with_a_report(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    settings = settings_for(warehouse, tmp_path / "registry")
    with pytest.raises(train.InsufficientDataError) as refused:
        train.train_and_register(settings, min_conversions=100_000, verbose=False)
    assert refused.value.report["conversions"] < 100_000
    assert not settings.registry_dir.exists()
    monkeypatch.setenv("LEAD_SCORING_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("LEAD_SCORING_REGISTRY", str(settings.registry_dir))
    assert cli.main(["train", "--min-leads", "5000"]) == 2
    out = capsys.readouterr().out
    assert "refusing to train" in out and "need 5,000" in out
    assert "conversions by industry" in out and "conversions by lead_source" in out


def test_short_history_is_refused(warehouse: Path, tmp_path: Path) -> None:
    # 30 weekly snapshots cannot hold a 90-day test, two 90-day gaps and a validation window.
    with pytest.raises(train.InsufficientDataError, match="walk-forward split needs"):
        train.train_and_register(settings_for(warehouse, tmp_path), verbose=False)


@pytest.mark.parametrize("horizon", [28, 90])
def test_walk_forward_windows_never_overlap(horizon: int) -> None:
    dates = [date(2023, 1, 2) + timedelta(weeks=k) for k in range(104)]
    windows = train.walk_forward_windows(dates, horizon_days=horizon)
    train_w, validation, test = windows.all()
    assert test.end == dates[-1]
    assert train_w.start == dates[0]
    assert (validation.start - train_w.end).days >= horizon
    assert (test.start - validation.end).days >= horizon
    # Each window's labels (as_of_date, as_of_date + horizon] end before the next begins.
    assert train_w.end + timedelta(days=horizon) <= validation.start
    assert validation.end + timedelta(days=horizon) <= test.start
    assert not set(train_w.dates) & set(validation.dates)
    assert not set(validation.dates) & set(test.dates)
    assert (test.end - test.start).days < horizon
    # The gap is not wider than one snapshot beyond the horizon: no data is wasted.
    assert (validation.start - train_w.end).days < horizon + 7


def test_adding_a_feature_column_reaches_the_onnx_input(trained, tmp_path: Path) -> None:
    _, base = trained
    base_card = json.loads(base.card_path.read_text())
    wider = make_training_warehouse(tmp_path / "wider.duckdb", extra_columns=True)
    settings = settings_for(wider, tmp_path / "registry")
    result = train.train_and_register(settings, horizon_days=TEST_HORIZON_DAYS, verbose=False)
    card = registry.read_card(settings.registry_dir, result.version)
    packed = card["features"]["packed"]
    assert "webinar_attended_90d" in card["features"]["numeric"]
    categories = {e["name"]: e["categories"] for e in card["features"]["categorical"]}
    assert "webinar_attended_90d" in packed and "department=it" in packed
    departments = len(categories["department"])
    assert card["features"]["n_packed"] == base_card["features"]["n_packed"] + 1 + departments
    session = export.inference_session(
        (settings.registry_dir / result.version / "model.onnx").read_bytes()
    )
    assert session.get_inputs()[0].shape[1] == card["features"]["n_packed"]
    importance = {row["feature"] for row in card["permutation_importance"]}
    assert {"webinar_attended_90d", "department"} <= importance
    assert "webinar_attended_90d" in card["baseline"]["features"]


def test_rules_score_takes_the_best_band_per_feature() -> None:
    table = pa.table(
        {
            "seniority": ["vp", None, "student"],
            "visits": [5, 1, None],
            "opted_out": [True, None, False],
            "ignored": [1, 2, 3],
        }
    )
    points = (
        PointsRule("seniority", "equals", "vp", 20),
        PointsRule("visits", "at_least", 3, 25),
        PointsRule("visits", "at_least", 1, 10),
        PointsRule("visits", "at_least", 10, -5),
        PointsRule("opted_out", "is_true", None, -20),
        PointsRule("missing_feature", "at_least", 0, 100),
    )
    np.testing.assert_array_equal(rules_score(table, points), [25.0, 10.0, 0.0])


def test_points_table_is_the_seed(tmp_path: Path) -> None:
    points = load_points(PROJECT_ROOT / POINTS_SEED)
    seed_rows = (PROJECT_ROOT / POINTS_SEED).read_text().strip().splitlines()[1:]
    assert len(points) == len(seed_rows)
    numeric = [rule for rule in points if rule.condition in {"at_least", "at_most"}]
    assert numeric and all(isinstance(rule.value, float) for rule in numeric)
    assert all(rule.value is None for rule in points if rule.condition == "is_true")
    bad = tmp_path / "rules.csv"
    bad.write_text(
        "rule_id,feature_name,condition,threshold,points,reason\n"
        "1,seniority,equals,vp,20,VP\n"
        "2,icp_fit_score,at_least,high,5,fit\n"
    )
    with pytest.raises(ValueError, match="rule 2 \\(at_least\\) needs a numeric threshold"):
        load_points(bad)
    bad.write_text("rule_id,feature_name,condition,threshold,points,reason\n3,x,between,1,5,r\n")
    with pytest.raises(ValueError, match="rule 3 has unknown condition 'between'"):
        load_points(bad)


def test_training_rules_baseline_agrees_with_the_sql_rules_score(
    demo_con: duckdb.DuckDBPyConnection,
) -> None:
    """The training step's rules baseline (rules.py on the seed) gives every training row of
    the demo warehouse the points int_lead_rules_scored gave it in SQL."""
    points = load_points(PROJECT_ROOT / POINTS_SEED)
    table = demo_con.sql(
        "select training.*, scored.rules_points from marts.fct_lead_training_set as training "
        "inner join intermediate.int_lead_rules_scored as scored using (lead_id, as_of_date) "
        "order by lead_id, as_of_date"
    ).to_arrow_table()
    training_rows = demo_con.sql("select count(*) from marts.fct_lead_training_set").fetchall()
    assert table.num_rows == training_rows[0][0] > 10_000
    expected = table.column("rules_points").to_numpy().astype(np.float64)
    assert len(set(expected.tolist())) > 10
    np.testing.assert_array_equal(rules_score(table, points), expected)


def test_top_k_metrics_split_ties_and_ece_bins() -> None:
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0], dtype=float)
    score = np.array([9, 5, 5, 5, 5, 1, 1, 1, 1, 1], dtype=float)
    # Top 30% = the 9 plus two of the four tied 5s (one of which converts): expected 1.5.
    positives, weight = top_fraction(y, score, None, 0.3)
    assert weight == pytest.approx(3.0) and positives == pytest.approx(1.5)
    p = np.full(1000, 0.2)
    y_cal = (np.arange(1000) % 5 == 0).astype(float)
    assert expected_calibration_error(y_cal, p, None) == pytest.approx(0.0, abs=1e-12)
    metrics = evaluate(y_cal, np.where(y_cal == 1, 0.9, 0.1))
    assert metrics["roc_auc"] == 1.0 and metrics["capture_at_20"] == pytest.approx(1.0)
    assert metrics["lift_at_10"] == pytest.approx(5.0)


def test_class_weighting_balances_the_weight() -> None:
    y = np.array([1, 0, 0, 0])
    w = np.array([1.0, 2.0, 2.0, 2.0])
    balanced = train.class_weighted(y, w, "balanced")
    assert balanced[y == 1].sum() == pytest.approx(balanced[y == 0].sum())
    assert balanced.sum() == pytest.approx(w.sum())
    np.testing.assert_array_equal(train.class_weighted(y, w, "none"), w)
