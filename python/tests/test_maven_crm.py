"""The Maven CRM export through staging: every raw line accounted for, every defect flagged.

Builds the ``maven_crm`` dataset into a temporary DuckDB file with ``dbt build`` and compares
the warehouse with counts taken independently from the raw CSV files (Python's ``csv``
module, not dbt). Each defect docs/maven_crm.md documents is checked three ways: the raw
count, the rows the warehouse quarantined or its warning test stored (``store_failures``,
schema ``dbt_test__audit``), and the number the documentation states.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator

import duckdb
import pytest
import yaml

from leadscore.config import PROJECT_ROOT, Settings
from leadscore.pipeline import DATASETS, build_warehouse

pytestmark = pytest.mark.dbt

RAW_DIR = (PROJECT_ROOT / DATASETS["maven_crm"]["lead_scoring__raw_path"]).resolve()
STAGING = PROJECT_ROOT / "models" / "staging" / "maven_crm"

# raw file -> staging entity (clean model stg_maven_crm__<entity>, plus its _quarantine).
ENTITIES = {
    "accounts.csv": "accounts",
    "sales_pipeline.csv": "opportunities",
    "sales_teams.csv": "sales_teams",
    "products.csv": "products",
}

# The counts docs/maven_crm.md states ("raw" = rows of the export, "clean" = rows of them
# that reach the clean staging model and are flagged there by a warning).
DOCUMENTED = {
    "sector_not_in_industries": 55,
    "sector_typo_technolgy": 12,
    "country_not_recognised": 2,
    "pipeline_account_empty_raw": 1425,
    "pipeline_account_empty_clean": 1088,
    "pipeline_engage_date_empty": 500,
    "pipeline_close_value_empty_raw": 2089,
    "pipeline_close_value_empty_clean": 1589,
    "pipeline_closed_without_value": 0,
    "pipeline_product_unknown_raw": 1480,
    "pipeline_product_unknown_clean": 1400,
    "pipeline_agent_unknown": 0,
    "pipeline_duplicate_groups_clean": 56,
}


def read_rows(name: str) -> list[dict[str, str]]:
    """The data rows of a raw file (csv handles its CRLF line endings)."""
    with (RAW_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def physical_data_lines(name: str) -> int:
    """Physical lines of a raw file less its header, counted from the bytes."""
    content = (RAW_DIR / name).read_bytes()
    lines = content.count(b"\n") + (0 if not content or content.endswith(b"\n") else 1)
    return lines - 1


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a fresh ``maven_crm`` build in a temporary folder."""
    if not RAW_DIR.is_dir():
        pytest.skip(f"the Maven CRM export is not at {RAW_DIR}")
    tmp = tmp_path_factory.mktemp("maven_crm")
    settings = Settings(
        project_dir=PROJECT_ROOT,
        warehouse_path=tmp / "maven.duckdb",
        registry_dir=tmp / "registry",
    )
    with pytest.MonkeyPatch.context() as patch:
        # Keep dbt's artefacts out of the shared target/ and logs/ folders.
        patch.setenv("DBT_TARGET_PATH", str(tmp / "target"))
        patch.setenv("DBT_LOG_PATH", str(tmp / "logs"))
        build_warehouse(settings, dataset="maven_crm", fresh=True)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        yield con


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single value a query returns."""
    return con.execute(sql).fetchall()[0][0]


def flagged(con: duckdb.DuckDBPyConnection, test_name: str) -> int:
    """Rows a warning test stored as failures (accepted_values stores counts per value)."""
    columns = [row[0] for row in con.execute(f"describe dbt_test__audit.{test_name}").fetchall()]
    if "n_records" in columns:
        return scalar(con, f"select coalesce(sum(n_records), 0) from dbt_test__audit.{test_name}")
    return scalar(con, f"select count(*) from dbt_test__audit.{test_name}")


@pytest.mark.parametrize(("file_name", "entity"), sorted(ENTITIES.items()))
def test_every_raw_line_is_clean_or_quarantined(
    warehouse: duckdb.DuckDBPyConnection, file_name: str, entity: str
) -> None:
    expected_lines = list(range(2, physical_data_lines(file_name) + 2))
    landed = warehouse.execute(
        f"select raw_line_number from staging.stg_maven_crm__{entity} "
        f"union all select raw_line_number from staging.stg_maven_crm__{entity}_quarantine "
        "order by 1"
    ).fetchall()
    assert [line for (line,) in landed] == expected_lines


def test_sectors_outside_the_industries_seed_are_flagged(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    with (PROJECT_ROOT / "seeds" / "industries.csv").open(newline="") as handle:
        labels = {row["industry_label"].lower() for row in csv.DictReader(handle)}
    sectors = Counter(row["sector"] for row in read_rows("accounts.csv"))
    raw_unknown = sum(n for sector, n in sectors.items() if sector.strip().lower() not in labels)
    assert raw_unknown == DOCUMENTED["sector_not_in_industries"]
    assert sectors["technolgy"] == DOCUMENTED["sector_typo_technolgy"]
    assert flagged(warehouse, "stg_maven_crm__accounts__industry_is_known") == raw_unknown
    assert (
        scalar(
            warehouse,
            "select count(*) from dbt_test__audit.stg_maven_crm__accounts__industry_is_known "
            "where industry_label = 'technolgy'",
        )
        == sectors["technolgy"]
    )


def test_unrecognised_countries_are_flagged(warehouse: duckdb.DuckDBPyConnection) -> None:
    properties = yaml.safe_load((STAGING / "stg_maven_crm__accounts.yml").read_text())
    (country,) = [c for c in properties["models"][0]["columns"] if c["name"] == "country"]
    (check,) = [t["accepted_values"] for t in country["data_tests"] if "accepted_values" in t]
    known = set(check["arguments"]["values"])
    offices = [row["office_location"] for row in read_rows("accounts.csv")]
    raw_unknown = sum(office not in known for office in offices)
    assert raw_unknown == DOCUMENTED["country_not_recognised"]
    assert flagged(warehouse, "stg_maven_crm__accounts__country_is_known") == raw_unknown


def test_deals_without_an_engage_date_are_quarantined(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    raw = sum(not row["engage_date"].strip() for row in read_rows("sales_pipeline.csv"))
    assert raw == DOCUMENTED["pipeline_engage_date_empty"]
    assert (
        scalar(
            warehouse,
            "select count(*) from staging.stg_maven_crm__opportunities_quarantine "
            "where list_contains(quarantine_reasons, 'missing_timestamp')",
        )
        == raw
    )
    assert (
        scalar(warehouse, "select count(*) from staging.stg_maven_crm__opportunities_quarantine")
        == raw
    )


def test_deals_without_an_account_are_kept_and_flagged(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    rows = read_rows("sales_pipeline.csv")
    raw = [row for row in rows if not row["account"].strip()]
    kept = [row for row in raw if row["engage_date"].strip()]
    assert len(raw) == DOCUMENTED["pipeline_account_empty_raw"]
    assert len(kept) == DOCUMENTED["pipeline_account_empty_clean"]
    assert flagged(warehouse, "stg_maven_crm__opportunities__account_id_is_present") == len(kept)
    # Every other non-empty account names a staged account.
    assert flagged(warehouse, "stg_maven_crm__opportunities__account_id_is_known") == 0


def test_deals_without_a_value_are_kept_and_flagged(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = read_rows("sales_pipeline.csv")
    raw = [row for row in rows if not row["close_value"].strip()]
    kept = [row for row in raw if row["engage_date"].strip()]
    closed = [row for row in raw if row["deal_stage"] in ("Won", "Lost")]
    assert len(raw) == DOCUMENTED["pipeline_close_value_empty_raw"]
    assert len(kept) == DOCUMENTED["pipeline_close_value_empty_clean"]
    assert len(closed) == DOCUMENTED["pipeline_closed_without_value"]
    assert flagged(warehouse, "stg_maven_crm__opportunities__amount_is_present") == len(kept)


def test_products_missing_from_the_catalogue_are_kept_and_flagged(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    catalogue = {row["product"] for row in read_rows("products.csv")}
    rows = read_rows("sales_pipeline.csv")
    raw = [row for row in rows if row["product"] not in catalogue]
    kept = [row for row in raw if row["engage_date"].strip()]
    assert {row["product"] for row in raw} == {"GTXPro"}
    assert len(raw) == DOCUMENTED["pipeline_product_unknown_raw"]
    assert len(kept) == DOCUMENTED["pipeline_product_unknown_clean"]
    assert flagged(warehouse, "stg_maven_crm__opportunities__product_is_known") == len(kept)
    # Flagged, not corrected: the exported name reaches the clean model unchanged.
    assert scalar(
        warehouse,
        "select count(*) from staging.stg_maven_crm__opportunities where product = 'GTXPro'",
    ) == len(kept)


def test_agents_missing_from_sales_teams_are_flagged(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    agents = {row["sales_agent"] for row in read_rows("sales_teams.csv")}
    rows = read_rows("sales_pipeline.csv")
    raw = [r for r in rows if r["engage_date"].strip() and r["sales_agent"] not in agents]
    assert len(raw) == DOCUMENTED["pipeline_agent_unknown"]
    assert flagged(warehouse, "stg_maven_crm__opportunities__sales_agent_is_known") == len(raw)


def test_possible_duplicate_deals_are_flagged(warehouse: duckdb.DuckDBPyConnection) -> None:
    fields = ["sales_agent", "product", "account", "deal_stage", "engage_date", "close_date"]
    groups = Counter(
        (*(row[f].strip() for f in fields), row["close_value"].strip())
        for row in read_rows("sales_pipeline.csv")
        if row["engage_date"].strip()
    )
    raw_groups = sum(n > 1 for n in groups.values())
    assert raw_groups == DOCUMENTED["pipeline_duplicate_groups_clean"]
    assert (
        flagged(warehouse, "stg_maven_crm__opportunities__possible_duplicate_deals") == raw_groups
    )


def test_nothing_is_dated_after_the_export(warehouse: duckdb.DuckDBPyConnection) -> None:
    extracted_on = DATASETS["maven_crm"]["lead_scoring__extracted_at"][:10]
    dates = [
        row[column]
        for row in read_rows("sales_pipeline.csv")
        for column in ("engage_date", "close_date")
        if row[column].strip()
    ]
    assert max(dates) < extracted_on
    assert (
        scalar(
            warehouse,
            "select count(*) from staging.stg_maven_crm__opportunities_quarantine "
            "where list_contains(quarantine_reasons, 'future_timestamp')",
        )
        == 0
    )


def test_revenue_is_converted_from_millions(warehouse: duckdb.DuckDBPyConnection) -> None:
    raw = {row["account"]: row["revenue"] for row in read_rows("accounts.csv")}
    staged = dict(
        warehouse.execute(
            "select account_id, annual_revenue from staging.stg_maven_crm__accounts"
        ).fetchall()
    )
    assert staged.keys() == raw.keys()
    assert all(float(staged[name]) == pytest.approx(float(raw[name]) * 1e6) for name in raw)
