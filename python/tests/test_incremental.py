"""Incremental feature builds, proven on the demo world.

The spine-keyed feature models keep the as-of dates they hold and build only new dates and
the scoring date (macros/features/incremental_as_of_dates.sql). A build on a warehouse that
already holds them must give the same rows as a build from empty, whichever way the dates
move, and must really keep the history rows rather than rebuild them.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from leadscore.config import DEMO_WORLD, Settings
from leadscore.dbt import DbtError, run_dbt

pytestmark = pytest.mark.dbt

INCREMENTAL_MODELS = [
    "intermediate.int_lead_as_of_dates",
    "intermediate.int_account_as_of_dates",
    "intermediate.int_lead_engagement_windows",
    "intermediate.int_lead_attribution_features",
    "intermediate.int_account_signal_windows",
    "marts.fct_account_committee_features",
    "marts.fct_lead_features",
    "marts.fct_lead_training_set",
]
# Two scoring dates of the demo history, a Monday apart: the later one adds a weekly snapshot
# (2025-10-20), drops the oldest, and turns the earlier scoring date's rows into history.
EARLIER = "2025-10-15"
LATER = "2025-10-24"
# A history row the incremental build must keep as it is (it is not rebuilt).
MARKED_DATE = "2025-06-02"


def build_features(
    warehouse: Path,
    scoring_date: str,
    full_refresh: bool = False,
    select: str = "+fct_lead_training_set",
    extra_vars: dict[str, object] | None = None,
) -> None:
    settings = Settings.in_folder(warehouse.parent, warehouse.name)
    run_dbt(
        "build",
        settings,
        args=[
            "--select",
            select,
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            *(["--full-refresh"] if full_refresh else []),
        ],
        dbt_vars={"lead_scoring__scoring_date": scoring_date, **(extra_vars or {})},
    )


def differing_rows(
    built: Path, reference: Path, table: str, where: str = "true", columns: str = "*"
) -> int:
    """Rows in one table and not the other, both ways (``except all``), over ``columns``."""
    with duckdb.connect() as con:
        con.execute(f"attach '{built}' as built (read_only)")
        con.execute(f"attach '{reference}' as reference (read_only)")
        return int(
            con.execute(
                f"""
                select count(*) from (
                    (select {columns} from built.{table} where {where}
                     except all
                     select {columns} from reference.{table} where {where})
                    union all
                    (select {columns} from reference.{table} where {where}
                     except all
                     select {columns} from built.{table} where {where})
                )
                """
            ).fetchall()[0][0]
        )


def as_of_dates(warehouse: Path, table: str) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select distinct as_of_date from {table}").fetchall()
    return {str(row[0]) for row in rows}


AGGREGATION_MODELS = [
    "int_lead_as_of_dates",
    "int_lead_engagement_windows",
    "int_lead_attribution_features",
]


def built_by_aggregation(output: str, dates: int) -> list[str]:
    """The models whose log says they built ``dates`` as-of dates by aggregation."""
    return [
        model
        for model in AGGREGATION_MODELS
        if f"{model}: {dates} as-of date(s) to build, by aggregation" in output
    ]


def training_dates_built(output: str) -> set[str]:
    """The dates the training set's log says it built."""
    found = re.search(
        r"fct_lead_training_set: \d+ matured date\(s\) to build: ([^\n\x1b]*)", output
    )
    assert found, "the training set did not log the dates it built"
    return {date for date in found.group(1).strip().split(", ") if date}


def matured_dates(warehouse: Path, scoring_date: str) -> set[str]:
    """The snapshot dates whose label horizon (90 days) has closed by the scoring date."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select as_of_date from intermediate.int_as_of_dates "
            "where not is_scoring_date and as_of_date + 90 <= cast(? as date)",
            [scoring_date],
        ).fetchall()
    return {str(row[0]) for row in rows}


def test_incremental_builds_equal_builds_from_empty(tmp_path: Path, capfd):
    incremental = tmp_path / "incremental" / "warehouse.duckdb"
    earlier = tmp_path / "earlier" / "warehouse.duckdb"
    later = tmp_path / "later" / "warehouse.duckdb"
    for path in (incremental, earlier, later):
        path.parent.mkdir()

    build_features(incremental, EARLIER)
    shutil.copy(incremental, earlier)  # the earlier date built from empty
    build_features(later, LATER)
    # From empty, the spine, engagement windows and attribution features take the as-of joins ...
    assert "by aggregation" not in capfd.readouterr().out
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
    # ... and a run of two dates (the new snapshot and the scoring date) the aggregation;
    # the training set builds the newly matured date and the latest one it held.
    output = capfd.readouterr().out
    assert built_by_aggregation(output, 2) == AGGREGATION_MODELS
    # Matured dates it did not hold (a new one, and old ones without rows) and the latest it held.
    held = as_of_dates(earlier, "marts.fct_lead_training_set")
    assert training_dates_built(output) == (matured_dates(later, LATER) - held) | {max(held)}
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
    output = capfd.readouterr().out
    assert built_by_aggregation(output, 1) == AGGREGATION_MODELS
    # Going back matures no date: it builds the dates without rows only, and the post-hook
    # deletes the one matured at the later date.
    assert training_dates_built(output) == matured_dates(earlier, EARLIER) - held
    for table in INCREMENTAL_MODELS:
        where = unmarked if table == "marts.fct_lead_features" else "true"
        assert differing_rows(incremental, earlier, table, where) == 0, table

    # A full refresh rebuilds history, the marked row included.
    build_features(incremental, EARLIER, full_refresh=True)
    assert differing_rows(incremental, earlier, "marts.fct_lead_features") == 0

    # Another sampling rate changes every training row: the incremental build rebuilds every
    # date by itself and equals the training set built from empty with that rate.
    half = {"lead_scoring__negative_sampling_rate": 0.5}
    build_features(incremental, EARLIER, select="fct_lead_training_set", extra_vars=half)
    assert "rebuilding every date" in capfd.readouterr().out
    build_features(
        earlier, EARLIER, full_refresh=True, select="fct_lead_training_set", extra_vars=half
    )
    assert differing_rows(incremental, earlier, "marts.fct_lead_training_set") == 0
    with duckdb.connect(str(incremental), read_only=True) as con:
        weights = con.execute(
            "select distinct sample_weight from marts.fct_lead_training_set where converted = 0"
        ).fetchall()
    assert weights == [(2.0,)]


# --- The daily running totals: incremental by lead ------------------------------------------

RUNNING_TOTALS = "intermediate.int_lead_activity_days_cumulated"
# A lead with activities only in the earlier export: the later build must delete its rows.
GONE_LEAD = "LD999999"


def iso_day(text: str) -> str:
    """The ISO day a timestamp text starts with, or an empty string when it is not a date."""
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return ""


def earlier_export(source: Path, target: Path) -> dict[str, str]:
    """The demo world as an earlier export: what the later (real) one changes.

    The earlier ``activities.csv`` lacks the last day (a new day arrives), lacks one older
    activity (a late row arrives), reads another older activity as a different type (a row
    rewritten), and has an activity of a lead that the later export does not have.

    Returns the lead of each change (``late``, ``rewritten``) and the last day.
    """
    target.mkdir()
    for path in source.iterdir():
        if path.is_file() and path.name != "activities.csv":
            shutil.copy(path, target / path.name)
    header, *lines = (source / "activities.csv").read_text(encoding="utf-8").splitlines()
    fields = [line.split(",") for line in lines]
    # The last day before the export time (later timestamps are injected bad rows).
    extracted_on = json.loads((source / "manifest.json").read_text())["extracted_at"][:10]
    last_day = max(
        day for day in (iso_day(row[4]) for row in fields if len(row) == 5) if day < extracted_on
    )
    late = next(i for i, row in enumerate(fields) if len(row) == 5 and row[4].startswith("2024-0"))
    rewritten = next(
        i
        for i, row in enumerate(fields)
        if len(row) == 5
        and row[2] == "web_visit"
        and row[4].startswith("2025-03")
        and row[1] != fields[late][1]
    )
    kept = []
    for i, row in enumerate(fields):
        if i == late or (len(row) == 5 and row[4].startswith(last_day)):
            continue
        if i == rewritten:
            row = [row[0], row[1], "email_open", "", row[4]]
        kept.append(",".join(row))
    kept.append(f"AV999999,{GONE_LEAD},web_visit,pricing,2024-06-03 10:00:00")
    (target / "activities.csv").write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    return {"late": fields[late][1], "rewritten": fields[rewritten][1], "last_day": last_day}


def build_running_totals(
    warehouse: Path, raw_path: Path, extra_vars: dict[str, object] | None = None
) -> None:
    """``dbt build`` of the running totals and what they read, then the running totals' tests."""
    settings = Settings.in_folder(warehouse.parent, warehouse.name)
    dbt_vars = {"lead_scoring__raw_path": str(raw_path), **(extra_vars or {})}
    run_dbt(
        "build",
        settings,
        args=[
            "--select",
            "+int_lead_activity_days_cumulated",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
        ],
        dbt_vars=dbt_vars,
    )
    run_dbt(
        "test", settings, args=["--select", "int_lead_activity_days_cumulated"], dbt_vars=dbt_vars
    )


def test_running_totals_rebuild_only_changed_leads_and_equal_a_build_from_empty(
    tmp_path: Path, demo_warehouse: Path
):
    changed = earlier_export(DEMO_WORLD, tmp_path / "earlier_world")
    warehouse = tmp_path / "incremental" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    build_running_totals(warehouse, tmp_path / "earlier_world")

    with duckdb.connect(str(warehouse)) as con:
        assert con.execute(
            f"select count(*) from {RUNNING_TOTALS} where lead_id = ?", [GONE_LEAD]
        ).fetchall() == [(1,)]
        # Mark the first row of every lead the later export does not change (in the build
        # from empty: no activity on the last day, neither the late nor the rewritten row):
        # the incremental build must keep every marked row, not rebuild it.
        con.execute(f"attach '{demo_warehouse}' as reference (read_only)")
        marked = con.execute(
            f"""
            update {RUNNING_TOTALS} set cumulative_weighted_engagements = -1
            where activity_date = first_activity_date
                and lead_id in (
                    select lead_id from reference.{RUNNING_TOTALS}
                    where lead_id not in (?, ?)
                    group by lead_id
                    having max(activity_date) < ?
                )
            """,
            [changed["late"], changed["rewritten"], changed["last_day"]],
        ).fetchall()[0][0]
        held_before = con.execute(f"select count(*) from {RUNNING_TOTALS}").fetchall()[0][0]
    assert marked > 0

    build_running_totals(warehouse, DEMO_WORLD)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        kept, gone, held_after = con.execute(
            f"""
            select
                count(*) filter (where cumulative_weighted_engagements = -1),
                count(*) filter (where lead_id = ?),
                count(*)
            from {RUNNING_TOTALS}
            """,
            [GONE_LEAD],
        ).fetchall()[0]
    assert kept == marked, "the incremental build rebuilt leads whose activities did not change"
    assert held_after != held_before
    assert gone == 0, "the lead without activities kept its rows"
    # Everything else is what the build from empty of the later export holds: the new day,
    # the late row and the rewritten row are in, the lead without activities is gone. The
    # weighted running sum of doubles is compared apart: DuckDB adds a window's doubles in
    # blocks that depend on where the lead's rows lie in the table, so a rebuilt lead's sum
    # may differ from the build from empty in the last bits (the downstream engagement_index
    # is rounded to 9 places for that reason).
    exact_columns = "* exclude (cumulative_weighted_engagements)"
    assert differing_rows(warehouse, demo_warehouse, RUNNING_TOTALS, columns=exact_columns) == 0
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as built (read_only)")
        con.execute(f"attach '{demo_warehouse}' as reference (read_only)")
        worst = con.execute(
            f"""
            select max(
                abs(
                    built.cumulative_weighted_engagements
                    - reference.cumulative_weighted_engagements
                )
                / greatest(abs(reference.cumulative_weighted_engagements), 1)
            )
            from built.{RUNNING_TOTALS} as built
            join reference.{RUNNING_TOTALS} as reference using (lead_id, activity_date)
            where built.cumulative_weighted_engagements != -1
            """
        ).fetchall()[0][0]
    assert worst < 1e-12


def test_running_totals_rebuild_every_lead_on_a_new_half_life_and_refuse_an_old_table(
    tmp_path: Path, capfd
):
    warehouse = tmp_path / "incremental" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    build_running_totals(warehouse, DEMO_WORLD)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"update {RUNNING_TOTALS} set cumulative_weighted_engagements = -1")

    # The same activities, another half-life: every row is computed with the new one.
    half_life = 5
    build_running_totals(
        warehouse, DEMO_WORLD, {"lead_scoring__engagement_half_life_days": half_life}
    )
    with duckdb.connect(str(warehouse)) as con:
        stale, worst = con.execute(
            f"""
            with days as (
                select
                    *,
                    cumulative_weighted_engagements - coalesce(
                        lag(cumulative_weighted_engagements) over lead_days, 0
                    ) as weighted_engagements,
                    cumulative_engagements
                    - coalesce(lag(cumulative_engagements) over lead_days, 0) as engagements
                from {RUNNING_TOTALS}
                window lead_days as (partition by lead_id order by activity_date)
            )
            select
                count(*) filter (where cumulative_weighted_engagements = -1),
                max(
                    abs(
                        weighted_engagements
                        - engagements
                        * pow(2.0, (activity_date - first_activity_date) / {half_life})
                    )
                    / greatest(abs(cumulative_weighted_engagements), 1)
                )
            from days
            """
        ).fetchall()[0]
        assert stale == 0, "a lead kept rows computed with the old half-life"
        assert worst < 1e-9

        # A table built before the incremental build's columns existed: told, in words.
        con.execute(f"alter table {RUNNING_TOTALS} drop column activities_fingerprint")
    capfd.readouterr()
    with pytest.raises(DbtError):
        build_running_totals(warehouse, DEMO_WORLD)
    out = capfd.readouterr().out
    assert "has no column activities_fingerprint" in out
    assert "dbt build --full-refresh --select int_lead_activity_days_cumulated+" in out
