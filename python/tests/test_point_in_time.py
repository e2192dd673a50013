"""Point-in-time guarantees of the feature tables, proven on the demo world.

- Leakage: features as of dates up to T are identical whether or not the raw data holds
  rows dated at or after T (appended activities, touches, signals, opportunities, a lead).
- Labels: every training label equals the outcome the generator recorded for the world.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from leadscore.config import DEMO_WORLD, Settings
from leadscore.dbt import run_dbt

pytestmark = pytest.mark.dbt

CUTOFF = "2025-06-02"  # a Monday inside the demo history
TIMESTAMP_COLUMNS = {
    "activities": ("activity_id", "occurred_at"),
    "touchpoints": ("touchpoint_id", "touched_at"),
    "account_signals": ("signal_id", "observed_at"),
    "opportunities": ("opportunity_id", "created_at"),
    "leads": ("lead_id", "created_at"),
}
FUTURE_TIMES = [
    f"{CUTOFF} 00:00:00",
    "2025-06-02 00:00:01",
    "2025-06-09 12:00:00",
    "2025-09-01 08:00:00",
]


def append_future_rows(raw_dir: Path, rows_per_time: int = 40) -> int:
    """Append copies of clean rows re-keyed and re-dated to at or after the cutoff."""
    appended = 0
    for table, (key, stamp) in TIMESTAMP_COLUMNS.items():
        path = raw_dir / f"{table}.csv"
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames
            assert fields is not None
            donors = [
                row
                for row in reader
                if None not in row
                and None not in row.values()  # skip the ragged lines
                and row[key]
                and row[stamp].startswith("2025-0")
            ]
        assert donors, table
        new_rows = []
        for t_index, when in enumerate(FUTURE_TIMES):
            for d_index, donor in enumerate(donors[:rows_per_time]):
                row = dict(donor, **{key: f"FUTURE-{t_index}-{d_index}-{donor[key]}", stamp: when})
                if table == "opportunities":
                    row.update(closed_at="", is_won="", stage="Prospecting")
                new_rows.append(row)
        with path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=fields, lineterminator="\n").writerows(new_rows)
        appended += len(new_rows)
    return appended


def build_features(raw_dir: Path, warehouse_dir: Path) -> Path:
    settings = Settings.in_folder(warehouse_dir)
    run_dbt(
        "build",
        settings,
        # Models and seeds only: the point here is the data, and tests on staging models
        # reach models outside this selection.
        args=[
            "--select",
            "+fct_lead_features",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
        ],
        dbt_vars={"lead_scoring__raw_path": str(raw_dir), "lead_scoring__scoring_date": CUTOFF},
    )
    return settings.warehouse_path


def test_rows_at_or_after_the_as_of_date_change_no_feature(tmp_path: Path):
    raw_dir = tmp_path / "raw"
    shutil.copytree(DEMO_WORLD, raw_dir, ignore=shutil.ignore_patterns("ground_truth"))
    before = build_features(raw_dir, tmp_path / "before")
    assert append_future_rows(raw_dir) > 0
    after = build_features(raw_dir, tmp_path / "after")

    con = duckdb.connect()
    con.execute(f"attach '{before}' as before (read_only)")
    con.execute(f"attach '{after}' as after (read_only)")
    # The appended rows really landed in the second build...
    landed = con.execute(
        "select count(*) from after.staging.stg_crm__activities where activity_id like 'FUTURE-%'"
    ).fetchall()[0][0]
    assert landed > 0
    # ...and no feature row as of the cutoff or earlier differs, in either direction.
    where = f"as_of_date <= date '{CUTOFF}'"
    rows = con.execute(
        f"select count(*) from before.marts.fct_lead_features where {where}"
    ).fetchall()[0][0]
    changed = con.execute(
        f"""
        select count(*) from (
            (select * from before.marts.fct_lead_features where {where}
             except all
             select * from after.marts.fct_lead_features where {where})
            union all
            (select * from after.marts.fct_lead_features where {where}
             except all
             select * from before.marts.fct_lead_features where {where})
        )
        """
    ).fetchall()[0][0]
    assert rows > 10_000
    assert changed == 0


def test_training_labels_equal_the_worlds_recorded_outcomes(demo_con: duckdb.DuckDBPyConnection):
    truth = DEMO_WORLD / "ground_truth" / "account_truth.csv"
    result = demo_con.execute(
        f"""
        with truth as (select * from read_csv('{truth}'))
        select
            count(*) as training_rows,
            count(truth.account_id) as rows_with_truth,
            count(*) filter (where training.account_id is null) as rows_without_account,
            count(*) filter (where training.account_id is null and training.converted = 1)
                as converted_without_account,
            count(*) filter (
                where truth.account_id is not null
                and training.converted != cast(truth.opened_within_90d as integer)
            ) as label_mismatches,
            count(*) filter (where truth.has_open_opportunity) as open_in_truth,
            count(*) filter (where not truth.is_matured) as unmatured_in_truth
        from marts.fct_lead_training_set as training
        left join truth
            on training.account_id = truth.account_id and training.as_of_date = truth.as_of_date
        """
    ).fetchall()[0]
    rows, with_truth, without_account, converted_without_account, mismatches, open_, unmatured = (
        result
    )
    assert rows > 10_000
    assert with_truth + without_account == rows  # every account row found its truth
    assert converted_without_account == 0
    assert mismatches == 0
    assert open_ == 0
    assert unmatured == 0
