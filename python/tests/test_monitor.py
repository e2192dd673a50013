"""Monitoring: PSI and KS by hand, the card's bins, the replay of the current model, the CLI.

The fast tests check the statistics on distributions worked out by hand, the model card's
baseline turned into bins, and the replay of a small registered model over history. The
``dbt`` test trains a real model on a copy of the demo warehouse, builds the monitoring
models, holds the warehouse's PSI and replayed AUC to numpy and the card, and checks that
``leadscore monitor`` exits 0 on the clean demo and 1 once a feature drifts.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score

from leadscore import cli, export, monitor, registry, train
from leadscore.config import PROJECT_ROOT, Settings
from leadscore.dbt import DbtError, run_dbt
from leadscore.features import FeatureSpec, read_packed
from leadscore.pipeline import DATASETS

# --- PSI and KS on hand-computed distributions ------------------------------------------------


def test_psi_by_hand() -> None:
    # (0.3 - 0.5) ln(0.3 / 0.5) + 0 + (0.4 - 0.2) ln(0.4 / 0.2) = 0.102165 + 0.138629
    assert monitor.psi([0.5, 0.3, 0.2], [0.3, 0.3, 0.4]) == pytest.approx(0.2407946, abs=1e-7)
    assert monitor.psi([0.25, 0.25, 0.5], [0.25, 0.25, 0.5]) == 0.0
    # PSI is symmetric in its two arguments.
    assert monitor.psi([0.3, 0.3, 0.4], [0.5, 0.3, 0.2]) == pytest.approx(0.2407946, abs=1e-7)


def test_psi_floors_empty_bins_at_epsilon() -> None:
    # Today fills a bin the reference never saw: (0.5 - 1e-4) ln(0.5 / 1e-4) + (0.5 - 1) ln(0.5).
    expected = (0.5 - 1e-4) * math.log(0.5 / 1e-4) + (0.5 - 1.0) * math.log(0.5)
    assert monitor.psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(expected)
    assert monitor.psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(4.604318, abs=1e-6)
    # A bin empty on both sides adds nothing.
    assert monitor.psi([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0
    with pytest.raises(ValueError, match="same bins"):
        monitor.psi([0.5, 0.5], [1.0])


def test_binned_ks_by_hand() -> None:
    # Cumulative (0.5, 0.8, 1.0) against (0.3, 0.6, 1.0).
    assert monitor.binned_ks([0.5, 0.3, 0.2], [0.3, 0.3, 0.4]) == pytest.approx(0.2)
    # Each side is normalised over its own non-null total (NULL shares are left out).
    assert monitor.binned_ks([0.2, 0.2], [0.4, 0.4]) == pytest.approx(0.0)
    assert monitor.binned_ks([0.1, 0.0, 0.0, 0.9], [0.0, 0.0, 0.9, 0.1]) == pytest.approx(0.8)
    assert math.isnan(monitor.binned_ks([0.0, 0.0], [0.5, 0.5]))


def test_numeric_shares_bin_like_the_card() -> None:
    # Edges (10, 20): x < 10, 10 <= x < 20, x >= 20, then NULL; an edge value goes up.
    shares = monitor.numeric_shares([5.0, 10.0, np.nan, 20.0, 25.0], [10.0, 20.0])
    assert shares.tolist() == pytest.approx([0.2, 0.2, 0.4, 0.2])
    weighted = monitor.numeric_shares([5.0, 10.0, np.nan], [10.0, 20.0], weights=[1, 1, 2])
    assert weighted.tolist() == pytest.approx([0.25, 0.25, 0.0, 0.5])
    # numpy's searchsorted(side="right") is the card's rule; the shares agree with it.
    values = np.random.default_rng(0).normal(size=1000)
    edges = np.quantile(values, [0.25, 0.5, 0.75])
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=4) / 1000
    assert monitor.numeric_shares(values, edges)[:4].tolist() == pytest.approx(counts.tolist())


def test_categorical_shares_keep_other_and_null() -> None:
    shares = monitor.categorical_shares(["a", "b", "zz", None, "a"], ["a", "b"])
    assert shares.tolist() == pytest.approx([0.4, 0.2, 0.2, 0.2])


# --- The card's baseline as bins ----------------------------------------------------------------


def _card() -> dict:
    return {
        "version": "v0007",
        "model_type": "logistic_regression",
        "calibration": {"method": "sigmoid"},
        "horizon_days": 28,
        "features": {
            "numeric": ["x", "flag"],
            "categorical": [{"name": "c", "categories": ["a", "b"]}],
            "n_packed": 4,
        },
        "training_window": {
            "train": {"start": "2024-01-01", "end": "2024-03-25"},
            "validation": {"start": "2024-04-22", "end": "2024-05-13"},
            "test": {"start": "2024-06-10", "end": "2024-07-01", "rows": 300, "positive_rows": 30},
        },
        "metrics": {"test": {"roc_auc": 0.81, "pr_auc": 0.4}, "rules_test": {"roc_auc": 0.7}},
        "baseline": {
            "features_window": "train",
            "features": {
                "x": {"kind": "numeric", "edges": [10.0, 20.0], "shares": [0.3, 0.3, 0.3],
                      "null_share": 0.1},
                "flag": {"kind": "numeric", "edges": [], "shares": [1.0], "null_share": 0.0},
                "c": {"kind": "categorical", "shares": {"b": 0.5, "a": 0.3},
                      "other_share": 0.15, "null_share": 0.05},
            },
            "score": {"window": "test", "kind": "numeric", "edges": [0.1], "shares": [0.6, 0.4],
                      "null_share": 0.0},
        },
    }  # fmt: skip


def test_baseline_bins_from_the_card() -> None:
    table = monitor.baseline_bins("v0007", _card())
    assert table.schema == monitor.BASELINE_BINS_SCHEMA
    rows = {(r["feature_name"], r["bin_index"]): r for r in table.to_pylist()}
    assert len(rows) == 4 + 2 + 4 + 3  # x: 3 value bins + null; flag; c: 2 kept + other + null
    assert [rows["x", i]["bin_label"] for i in range(4)] == ["< 10", "[10, 20)", ">= 20", "(null)"]
    assert (rows["x", 0]["lower_edge"], rows["x", 0]["upper_edge"]) == (None, 10.0)
    assert (rows["x", 1]["lower_edge"], rows["x", 1]["upper_edge"]) == (10.0, 20.0)
    assert rows["x", 3]["is_null_bin"] and rows["x", 3]["card_share"] == 0.1
    assert rows["flag", 0]["bin_label"] == "all values" and rows["flag", 1]["is_null_bin"]
    # Categories in sorted order, then (other) and (null).
    assert [rows["c", i]["category"] for i in range(4)] == ["a", "b", None, None]
    assert [rows["c", i]["card_share"] for i in range(4)] == [0.3, 0.5, 0.15, 0.05]
    assert rows["c", 2]["is_other_bin"] and rows["c", 3]["is_null_bin"]
    score = rows[monitor.SCORE_FEATURE, 1]
    assert score["feature_kind"] == "score" and score["card_window"] == "test"
    assert score["card_share"] == 0.4 and rows["x", 0]["card_window"] == "train"
    # Every feature's shares sum to 1, as the card's do.
    totals: dict[str, float] = {}
    for (name, _), row in rows.items():
        totals[name] = totals.get(name, 0.0) + row["card_share"]
    assert totals == pytest.approx(dict.fromkeys(totals, 1.0))


def test_baseline_bins_refuse_a_malformed_distribution() -> None:
    card = _card()
    card["baseline"]["features"]["x"]["shares"] = [0.5, 0.5]
    with pytest.raises(monitor.MonitoringError, match="'x' has 2 edges but 2 shares"):
        monitor.baseline_bins("v0007", card)


def test_monitored_model_row() -> None:
    row = monitor.monitored_model("v0007", _card(), "monitoring model v0007", "reg").to_pylist()
    assert len(row) == 1
    assert row[0]["test_end"] == date(2024, 7, 1)
    # Labels of the last test snapshot are complete one horizon later.
    assert row[0]["model_data_date"] == date(2024, 7, 1) + timedelta(days=28)
    assert row[0]["card_test_roc_auc"] == 0.81 and row[0]["raw_features"] == 3
    empty = monitor.monitored_model(None, None, "no model", "reg").to_pylist()[0]
    assert empty["is_model_promoted"] is False and empty["model_version"] is None
    assert empty["status_note"] == "no model" and empty["test_end"] is None


def test_no_promoted_model_means_empty_tables(tmp_path: Path) -> None:
    assert monitor.baseline_bins_table(tmp_path / "registry").num_rows == 0
    row = monitor.monitored_model_table(tmp_path / "registry").to_pylist()[0]
    assert not row["is_model_promoted"] and "no model is promoted" in row["status_note"]


# --- Replaying a registered model over history --------------------------------------------------

SPEC = FeatureSpec(numeric=("x", "flag"), categories={"c": ("a", "b")})


def _history(con: duckdb.DuckDBPyConnection, rows: int = 600, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, rows)
    flag = rng.random(rows) < 0.3
    c = rng.choice(["a", "b", "z"], size=rows).astype(object)
    c[rng.random(rows) < 0.1] = None
    logit = -1.5 + 1.2 * x + 0.8 * flag + 0.6 * (c == "a")
    converted = (rng.random(rows) < 1 / (1 + np.exp(-logit.astype(float)))).astype(np.int32)
    dates = [date(2024, 1, 1) + timedelta(days=7 * int(k)) for k in rng.integers(0, 20, rows)]
    missing = rng.random(rows) < 0.05
    table = pa.table(
        {
            "lead_id": [f"L{k:04d}" for k in range(rows)],
            "account_id": [f"A{k % 50:03d}" for k in range(rows)],
            "as_of_date": dates,
            "converted": converted,
            "sample_weight": np.ones(rows),
            "x": pa.array(x, mask=missing),
            "flag": flag,
            "c": c.tolist(),
        }
    )
    con.register("history_arrow", table)
    con.execute("create table history as select * from history_arrow")
    con.execute(
        "create table scoring as select lead_id, account_id, date '2024-07-01' as as_of_date, "
        "x + 0.5 as x, flag, c from history where as_of_date = date '2024-01-01'"
    )


def _register(con: duckdb.DuckDBPyConnection, registry_dir: Path) -> tuple[str, object]:
    columns, X = read_packed(con, SPEC, "history", keep=("lead_id", "converted"))
    y = columns.column("converted").to_numpy()
    pipeline = train.make_pipeline("logistic_regression", seed=0).fit(X, y)
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method="sigmoid").fit(X, y)
    card = {**_card(), "features": SPEC.to_dict(), "data_hash": "test-monitor"}
    version, _ = registry.add_version(
        registry_dir, export.build_onnx(calibrated, SPEC.n_features), card
    )
    registry.promote(registry_dir, version)
    return version, calibrated


def test_backtest_scores_replay_the_current_model(tmp_path: Path) -> None:
    con = duckdb.connect()
    _history(con)
    version, calibrated = _register(con, tmp_path / "registry")
    table = monitor.backtest_scores(
        con,
        history=con.table("history"),
        scoring="scoring",
        registry_dir=tmp_path / "registry",
        batch_rows=128,  # several Arrow batches
    )
    assert table.schema == monitor.BACKTEST_SCHEMA
    history_rows = con.sql("select count(*) from history").fetchall()[0][0]
    scoring_rows = con.sql("select count(*) from scoring").fetchall()[0][0]
    assert table.num_rows == history_rows + scoring_rows
    is_scoring = table.column("is_scoring_date").to_numpy(zero_copy_only=False)
    assert not is_scoring[:history_rows].any() and is_scoring[history_rows:].all()
    assert set(table.column("model_version").to_pylist()) == {version}
    # History rows keep their label and weight, in (as_of_date, lead_id) order.
    history = table.slice(0, history_rows)
    dates, leads = history.column("as_of_date").to_pylist(), history.column("lead_id").to_pylist()
    assert list(zip(dates, leads, strict=True)) == sorted(zip(dates, leads, strict=True))
    assert history.column("converted").null_count == 0
    assert table.slice(history_rows).column("converted").null_count == scoring_rows
    # Each probability is the registered model's (sklearn parity, row by row).
    _, X = read_packed(con, SPEC, "history", keep=("lead_id",), order_by=("as_of_date", "lead_id"))
    expected = calibrated.predict_proba(X)[:, 1]
    got = history.column("conversion_probability").to_numpy()
    assert np.abs(got - expected).max() < 1e-5


def test_backtest_scores_without_a_model_are_empty(tmp_path: Path) -> None:
    con = duckdb.connect()
    _history(con)
    table = monitor.backtest_scores(
        con, history="history", scoring="scoring", registry_dir=tmp_path / "none"
    )
    assert table.num_rows == 0 and table.schema == monitor.BACKTEST_SCHEMA


def test_backtest_scores_refuse_a_missing_feature_and_a_tampered_model(tmp_path: Path) -> None:
    con = duckdb.connect()
    _history(con)
    registry_dir = tmp_path / "registry"
    version, _ = _register(con, registry_dir)
    con.execute("alter table scoring rename column flag to is_flagged")
    with pytest.raises(monitor.MonitoringError, match="'flag' is missing"):
        monitor.backtest_scores(
            con, history="history", scoring="scoring", registry_dir=registry_dir
        )
    model_file = registry_dir / version / registry.MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[50] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(monitor.MonitoringError, match="sha256"):
        monitor.backtest_scores(
            con, history="history", scoring="history", registry_dir=registry_dir
        )


# --- The command ----------------------------------------------------------------------------------


def _state(**health: object) -> dict:
    base = {
        "scoring_date": date(2026, 1, 1),
        "is_model_promoted": True,
        "status_note": "monitoring model v0001",
        "model_version": "v0001",
        "model_type": "hist_gradient_boosting",
        "model_data_date": date(2025, 12, 28),
        "model_age_days": 4,
        "max_model_age_days": 90,
        "features_monitored": 72,
        "features_drift_error": 0,
        "features_drift_warn": 0,
        "drift_error_psi": 0.25,
        "drift_warn_psi": 0.1,
        "score_psi": 0.02,
        "card_test_roc_auc": 0.788,
        "backtest_test_roc_auc": 0.788,
        "recent_roc_auc": None,
        "recent_positive_rows": 0,
        "min_positive_rows": 30,
        "is_auc_measurable": False,
        "auc_drop": None,
        "max_auc_drop": 0.05,
        "disparate_impact_min_ratio": 0.8,
        "published_by": "v0001",
        "is_published_by_monitored_model": True,
        "is_retrain_due": False,
        "retrain_reasons": None,
    }
    return {"health": {**base, **health}, "drift": [], "segments": []}


def test_format_state_and_exit_code() -> None:
    healthy = _state()
    lines = monitor.format_state(healthy)
    assert lines[-1] == "ok: no retraining due" and monitor.exit_code(healthy) == 0
    assert "age 4 days (retrain after 90)" in lines[1]
    assert "not measurable yet" in lines[3]
    due = _state(is_retrain_due=True, retrain_reasons="the model is 120 days old (limit 90)")
    assert monitor.format_state(due)[-1] == "RETRAIN: the model is 120 days old (limit 90)"
    assert monitor.exit_code(due) == 1
    nothing = _state(is_model_promoted=False, is_retrain_due=True, status_note="no model")
    assert monitor.format_state(nothing)[1] == "model: none. no model"
    stale = _state(published_by="rules:abc", is_published_by_monitored_model=False)
    assert "come from rules:abc, not from v0001" in monitor.format_state(stale)[4]
    assert len(monitor.format_state(healthy)) == len(monitor.format_state(stale)) - 1


def test_monitor_command_without_a_warehouse(tmp_path: Path, capsys) -> None:
    code = cli.main(["monitor", "--warehouse", str(tmp_path / "missing.duckdb")])
    assert code == monitor.EXIT_UNREADABLE
    assert "no warehouse" in capsys.readouterr().out


def test_monitor_command_without_monitoring_tables(tmp_path: Path, capsys) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    assert cli.main(["monitor", "--warehouse", str(path)]) == monitor.EXIT_UNREADABLE
    assert "cannot read the monitoring tables" in capsys.readouterr().out


# --- End to end on the demo warehouse ------------------------------------------------------------


@pytest.fixture(scope="module")
def monitored_demo(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the demo warehouse and a model trained on it by ``leadscore train``."""
    root = tmp_path_factory.mktemp("monitoring")
    clean = root / "clean.duckdb"
    shutil.copyfile(demo_warehouse, clean)
    registry_dir = root / "registry"
    settings = Settings(project_dir=PROJECT_ROOT, warehouse_path=clean, registry_dir=registry_dir)
    train.train_and_register(settings, horizon_days=90, verbose=False)
    return {"root": root, "clean": clean, "registry": registry_dir}


def _build_monitoring(env: dict, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEAD_SCORING_REGISTRY", str(env["registry"]))
    monkeypatch.setenv("DBT_TARGET_PATH", str(env["root"] / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(env["root"] / "logs"))
    settings = Settings(
        project_dir=PROJECT_ROOT, warehouse_path=warehouse, registry_dir=env["registry"]
    )
    run_dbt("build", settings, ["--select", "tag:monitoring"], dbt_vars=DATASETS["crm"])


def _fetch(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


@pytest.mark.dbt
def test_monitor_on_the_demo_then_with_injected_drift(monitored_demo, monkeypatch, capsys) -> None:
    env = monitored_demo
    _build_monitoring(env, env["clean"], monkeypatch)
    card = registry.load_current(env["registry"]).card
    drift = dict(_fetch(env["clean"], "select feature_name, psi from marts.fct_feature_drift"))
    # Every feature the model reads, and its score, is monitored; nothing drifts on the clean
    # demo (today is one quarter after the model's test window).
    n_features = len(card["features"]["numeric"]) + len(card["features"]["categorical"])
    assert len(drift) == n_features + 1
    assert max(drift.values()) < 0.1

    # The warehouse bins today's values as numpy does with the card's edges, and its PSI is
    # the numpy PSI of the bins' shares.
    ages = [
        a for (a,) in _fetch(env["clean"], "select lead_age_days from marts.fct_lead_scoring_set")
    ]
    edges = card["baseline"]["features"]["lead_age_days"]["edges"]
    shares = _fetch(
        env["clean"],
        "select current_share from marts.fct_feature_drift_bins "
        "where feature_name = 'lead_age_days' order by bin_index",
    )
    expected_shares = monitor.numeric_shares(np.array(ages, dtype=np.float64), edges)
    assert [s for (s,) in shares] == pytest.approx(expected_shares.tolist())
    bins: dict[str, tuple[list[float], list[float]]] = {}
    for name, reference, current in _fetch(
        env["clean"],
        "select feature_name, reference_share, current_share "
        "from marts.fct_feature_drift_bins order by feature_name, bin_index",
    ):
        bins.setdefault(name, ([], []))[0].append(reference)
        bins[name][1].append(current)
    for name, (reference, current) in bins.items():
        assert drift[name] == pytest.approx(monitor.psi(reference, current), abs=1e-5), name

    # Replayed on its test window, the model reproduces the card's test AUC; the SQL AUC is
    # sklearn's.
    window = card["training_window"]["test"]
    y, p, w = zip(
        *_fetch(
            env["clean"],
            "select converted, conversion_probability, sample_weight "
            "from marts.fct_lead_backtest_scores "
            f"where as_of_date between date '{window['start']}' and date '{window['end']}'",
        ),
        strict=True,
    )
    (test_auc,) = _fetch(
        env["clean"],
        "select roc_auc from marts.fct_score_backtest "
        "where scorer = 'model' and breakdown = 'window' and bucket = 'test'",
    )[0]
    assert test_auc == pytest.approx(roc_auc_score(y, p, sample_weight=w), abs=1e-6)
    assert test_auc == pytest.approx(card["metrics"]["test"]["roc_auc"], abs=1e-5)

    capsys.readouterr()
    assert cli.main(["monitor", "--warehouse", str(env["clean"])]) == 0
    out = capsys.readouterr().out
    assert "ok: no retraining due" in out and " 0 error" in out

    # A year passes for every lead scored today: lead_age_days drifts. The build fails on the
    # drift error test, and the monitor says retraining is due and names the feature.
    drifted = env["root"] / "drifted.duckdb"
    shutil.copyfile(env["clean"], drifted)
    with duckdb.connect(str(drifted)) as con:
        con.execute("update marts.fct_lead_scoring_set set lead_age_days = lead_age_days + 365")
    with pytest.raises(DbtError):
        _build_monitoring(env, drifted, monkeypatch)
    capsys.readouterr()
    assert cli.main(["monitor", "--warehouse", str(drifted)]) == 1
    out = capsys.readouterr().out
    assert "RETRAIN" in out and "lead_age_days" in out
    status = dict(_fetch(drifted, "select feature_name, drift_status from marts.fct_feature_drift"))
    assert status["lead_age_days"] == "error" and status["industry"] == "ok"
    ((is_due, reasons),) = _fetch(
        drifted, "select is_retrain_due, retrain_reasons from marts.fct_model_health"
    )
    assert is_due and "worst lead_age_days" in reasons
