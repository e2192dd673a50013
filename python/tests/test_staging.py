"""The staging layer against the demo world: every raw line is accounted for, and every bad
row the generator injected is quarantined (or mapped to `unknown`) for its own reason."""

from __future__ import annotations

import json

import duckdb
import pytest

from leadscore.config import DEMO_WORLD

pytestmark = pytest.mark.dbt

KEYS = {
    "accounts": "account_id",
    "leads": "lead_id",
    "activities": "activity_id",
    "touchpoints": "touchpoint_id",
    "opportunities": "opportunity_id",
    "account_signals": "signal_id",
}
# Where each table's injected unknown categories land (mapped, not quarantined).
CATEGORY_COLUMNS = {
    "accounts": "industry",
    "leads": "lead_source",
    "activities": "activity_type",
    "touchpoints": "channel",
    "account_signals": "signal_type",
}
# The generator's name for a defect -> the quarantine reason staging gives it.
REASONS = {
    "missing_key": "missing_key",
    "duplicate_key": "duplicate_key",
    "bad_timestamp": "bad_timestamp",
    "bad_number": "bad_number",
    "future_timestamp": "future_timestamp",
    "ragged_line": "wrong_field_count",
    "unterminated_quote": "unterminated_quote",
}


def manifest() -> dict:
    return json.loads((DEMO_WORLD / "manifest.json").read_text())


def physical_data_lines(table: str) -> int:
    """Data lines of the raw file, counted as bytes, independently of any CSV parser."""
    content = (DEMO_WORLD / f"{table}.csv").read_bytes()
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    return lines - 1


@pytest.mark.parametrize("table", sorted(KEYS))
def test_every_line_is_clean_or_quarantined(demo_con: duckdb.DuckDBPyConnection, table: str):
    def count(relation: str) -> int:
        return demo_con.execute(f"select count(*) from {relation}").fetchall()[0][0]

    landed = count(f"staging.base_crm__{table}")
    clean = count(f"staging.stg_crm__{table}")
    quarantined = count(f"staging.stg_crm__{table}_quarantine")
    assert landed == physical_data_lines(table) == manifest()["tables"][table]["data_lines"]
    assert landed == clean + quarantined


@pytest.mark.parametrize("table", sorted(KEYS))
def test_injected_bad_rows_are_found_for_their_reason(
    demo_con: duckdb.DuckDBPyConnection, table: str
):
    recorded = manifest()["tables"][table]["bad_rows"]
    found = dict(
        demo_con.execute(
            f"select reason, count(*) from staging.stg_crm__{table}_quarantine, "
            "unnest(quarantine_reasons) as reasons(reason) group by reason"
        ).fetchall()
    )
    expected = {REASONS[kind]: n for kind, n in recorded.items() if kind in REASONS and n}
    assert found == expected
    # One defect per injected row: no row collects two reasons.
    multi = demo_con.execute(
        f"select count(*) from staging.stg_crm__{table}_quarantine "
        "where len(quarantine_reasons) > 1"
    ).fetchall()[0][0]
    assert multi == 0


@pytest.mark.parametrize("table", sorted(CATEGORY_COLUMNS))
def test_unknown_categories_are_kept_as_unknown(demo_con: duckdb.DuckDBPyConnection, table: str):
    recorded = manifest()["tables"][table]["bad_rows"].get("unknown_category", 0)
    column = CATEGORY_COLUMNS[table]
    unknown = demo_con.execute(
        f"select count(*) from staging.stg_crm__{table} where {column} = 'unknown'"
    ).fetchall()[0][0]
    assert recorded > 0
    assert unknown == recorded
