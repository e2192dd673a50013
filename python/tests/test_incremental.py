"""Incremental feature builds, proven on the demo world.

The spine-keyed feature models keep the as-of dates they hold and build only new dates and
the scoring date (macros/features/incremental_as_of_dates.sql). A build on a warehouse that
already holds them must give the same rows as a build from empty, whichever way the dates
move, and must really keep the history rows rather than rebuild them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from leadscore.config import Settings
from leadscore.dbt import run_dbt

pytestmark = pytest.mark.dbt

INCREMENTAL_MODELS = [
    "intermediate.int_lead_as_of_dates",
    "intermediate.int_account_as_of_dates",
    "intermediate.int_lead_engagement_windows",
    "intermediate.int_lead_attribution_features",
    "intermediate.int_account_signal_windows",
    "marts.fct_account_committee_features",
    "marts.fct_lead_features",
]
# Two scoring dates of the demo history, a Monday apart: the later one adds a weekly snapshot
# (2025-10-20), drops the oldest, and turns the earlier scoring date's rows into history.
EARLIER = "2025-10-15"
LATER = "2025-10-24"
# A history row the incremental build must keep as it is (it is not rebuilt).
MARKED_DATE = "2025-06-02"


def build_features(warehouse: Path, scoring_date: str, full_refresh: bool = False) -> None:
    settings = Settings.in_folder(warehouse.parent, warehouse.name)
    run_dbt(
        "build",
        settings,
        args=[
            "--select",
            "+fct_lead_features",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            *(["--full-refresh"] if full_refresh else []),
        ],
        dbt_vars={"lead_scoring__scoring_date": scoring_date},
    )


def differing_rows(built: Path, reference: Path, table: str, where: str = "true") -> int:
    """Rows in one table and not the other, both ways (``except all``)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{built}' as built (read_only)")
        con.execute(f"attach '{reference}' as reference (read_only)")
        return int(
            con.execute(
                f"""
                select count(*) from (
                    (select * from built.{table} where {where}
                     except all
                     select * from reference.{table} where {where})
                    union all
                    (select * from reference.{table} where {where}
                     except all
                     select * from built.{table} where {where})
                )
                """
            ).fetchall()[0][0]
        )


def as_of_dates(warehouse: Path, table: str) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select distinct as_of_date from {table}").fetchall()
    return {str(row[0]) for row in rows}


def test_incremental_builds_equal_builds_from_empty(tmp_path: Path):
    incremental = tmp_path / "incremental" / "warehouse.duckdb"
    earlier = tmp_path / "earlier" / "warehouse.duckdb"
    later = tmp_path / "later" / "warehouse.duckdb"
    for path in (incremental, earlier, later):
        path.parent.mkdir()

    build_features(incremental, EARLIER)
    shutil.copy(incremental, earlier)  # the earlier date built from empty
    build_features(later, LATER)
    assert as_of_dates(later, "marts.fct_lead_features") - as_of_dates(
        earlier, "marts.fct_lead_features"
    ) == {"2025-10-20", LATER}

    # Mark one history row: an incremental build keeps it, a rebuild would restore it.
    with duckdb.connect(str(incremental)) as con:
        marked_lead = con.execute(
            "select min(lead_id) from marts.fct_lead_features where as_of_date = ?",
            [MARKED_DATE],
        ).fetchall()[0][0]
        marked = con.execute(
            "update marts.fct_lead_features set engagement_index = -1 "
            "where as_of_date = ? and lead_id = ?",
            [MARKED_DATE, marked_lead],
        ).fetchall()[0][0]
    assert marked == 1

    build_features(incremental, LATER)
    unmarked = f"not (as_of_date = date '{MARKED_DATE}' and lead_id = '{marked_lead}')"
    with duckdb.connect(str(incremental), read_only=True) as con:
        kept = con.execute(
            f"select engagement_index from marts.fct_lead_features where not ({unmarked})"
        ).fetchall()
    assert kept == [(-1,)], "the incremental build rebuilt a history date it already held"
    for table in INCREMENTAL_MODELS:
        where = unmarked if table == "marts.fct_lead_features" else "true"
        assert differing_rows(incremental, later, table, where) == 0, table
    # The previous scoring date is history now: its rows were rebuilt, not kept.
    with duckdb.connect(str(incremental), read_only=True) as con:
        scoring_dates = con.execute(
            "select distinct as_of_date from marts.fct_lead_features where is_scoring_date"
        ).fetchall()
    assert [str(row[0]) for row in scoring_dates] == [LATER]

    # Back to the earlier date (a backtest on the same warehouse): later dates are deleted.
    build_features(incremental, EARLIER)
    for table in INCREMENTAL_MODELS:
        where = unmarked if table == "marts.fct_lead_features" else "true"
        assert differing_rows(incremental, earlier, table, where) == 0, table

    # A full refresh rebuilds history, the marked row included.
    build_features(incremental, EARLIER, full_refresh=True)
    assert differing_rows(incremental, earlier, "marts.fct_lead_features") == 0
