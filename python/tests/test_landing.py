"""Landing raw CSV lines and Parquet rows through the real dbt models: awkward but legal lines
parse, broken records are quarantined for their reason with the record as it arrived, and a
header without a contract column fails the build with the file and column named."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from leadscore.config import DEMO_WORLD, Settings
from leadscore.dbt import DbtError, run_dbt

pytestmark = pytest.mark.dbt

HEADER = ",".join(
    [
        "account_id",
        "account_name",
        "domain",
        "industry",
        "employee_count",
        "annual_revenue",
        "region",
        "country",
        "created_at",
    ]
)
LINES = [
    # (line, expected reasons, expected account_name when clean)
    (
        'A1,"Northwind, Inc.",northwind.com,Software,120,1000000,NA,US,2024-01-01 00:00:00',
        [],
        "Northwind, Inc.",
    ),
    ('A2,"He said ""hi""",x.com,Retail,5,,EMEA,FR,2024-01-02', [], 'He said "hi"'),
    (',"Empty, key",x.com,Retail,5,,EMEA,FR,2024-01-02', ["missing_key"], None),
    ('A3,"never closed,x.com,Retail,5,,EMEA,FR,2024-01-02', ["unterminated_quote"], None),
    ("A4,too,few", ["wrong_field_count"], None),
    ("", ["wrong_field_count"], None),
    ("A5,Plain,p.com,Software,7,8,NA,US,2024-01-03\r", [], "Plain"),
    ("A6,Bad,b.com,Software,1.2.3,$12k,NA,US,2031-01-01", ["bad_number", "future_timestamp"], None),
    ("A1,Again,a.com,Software,1,1,NA,US,2024-01-01", ["duplicate_key"], None),
]


def build_staging(raw_dir: Path, warehouse_dir: Path, raw_format: str = "csv") -> Path:
    settings = Settings.in_folder(warehouse_dir)
    run_dbt(
        "build",
        settings,
        args=[
            "--select",
            "stg_crm__accounts",
            "stg_crm__accounts_quarantine",
            "+base_crm__accounts",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
        ],
        dbt_vars={"lead_scoring__raw_path": str(raw_dir), "lead_scoring__raw_format": raw_format},
    )
    return settings.warehouse_path


def raw_folder(tmp_path: Path, accounts_csv: str) -> Path:
    raw_dir = tmp_path / "raw"
    shutil.copytree(DEMO_WORLD, raw_dir, ignore=shutil.ignore_patterns("ground_truth"))
    (raw_dir / "accounts.csv").write_text(accounts_csv, newline="")
    return raw_dir


def test_lines_land_parse_or_are_quarantined_for_their_reason(tmp_path: Path):
    content = "\n".join([HEADER, *(line for line, _, _ in LINES)]) + "\n"
    warehouse = build_staging(raw_folder(tmp_path, content), tmp_path)
    con = duckdb.connect(str(warehouse), read_only=True)
    landed = con.execute(
        "select raw_line_number, quarantine_reasons, account_name, raw_line "
        "from staging.base_crm__accounts order by raw_line_number"
    ).fetchall()
    assert len(landed) == len(LINES)
    for (line_number, reasons, name, raw_line), (line, want_reasons, want_name) in zip(
        landed, LINES, strict=True
    ):
        assert reasons == sorted(want_reasons), (line_number, line)
        if want_reasons:
            # A quarantined line is kept exactly as it arrived, to be fixed at the source.
            assert raw_line == line, (line_number, line)
        else:
            # A clean line is its typed columns; its text is not kept twice.
            assert name == want_name
            assert raw_line is None, (line_number, line)
    clean = con.execute("select count(*) from staging.stg_crm__accounts").fetchall()[0][0]
    quarantined = con.execute(
        "select count(*) from staging.stg_crm__accounts_quarantine"
    ).fetchall()[0][0]
    assert clean == sum(1 for _, reasons, _ in LINES if not reasons)
    assert clean + quarantined == len(LINES)


def test_a_header_without_a_contract_column_fails_the_build_naming_it(tmp_path: Path, capfd):
    content = HEADER.replace("created_at", "created") + "\n" + LINES[0][0] + "\n"
    with pytest.raises(DbtError):
        build_staging(raw_folder(tmp_path, content), tmp_path)
    assert 'accounts.csv has no column "created_at" in its header line' in capfd.readouterr().out


def test_parquet_rows_land_and_a_quarantined_row_keeps_every_column_as_json(tmp_path: Path):
    # The CSV lines that split into the header's fields, as a Parquet file with one column
    # beyond the contract and one typed column: the quarantined rows keep both, as JSON.
    content = "\n".join([HEADER, *(line for line, _, _ in LINES)]) + "\n"
    csv_path = tmp_path / "accounts.csv"
    csv_path.write_text(content, newline="")
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    parquet_path = raw_dir / "accounts.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select *, row_number() over () as export_row
                from read_csv('{csv_path}', all_varchar = true, header = true,
                              ignore_errors = true, strict_mode = false)
            ) to '{parquet_path}' (format parquet)
            """
        )
        rows = con.execute(
            f"select row_number() over () as n, cast(to_json(r) as varchar) "
            f"from read_parquet('{parquet_path}') as r"
        ).fetchall()
    expected = {n: json_text for n, json_text in rows}
    warehouse = build_staging(raw_dir, tmp_path / "warehouse", raw_format="parquet")
    con = duckdb.connect(str(warehouse), read_only=True)
    landed = con.execute(
        "select raw_line_number, quarantine_reasons, raw_line "
        "from staging.base_crm__accounts order by raw_line_number"
    ).fetchall()
    assert [n for n, _, _ in landed] == sorted(expected)
    quarantined = [(n, raw_line) for n, reasons, raw_line in landed if reasons]
    assert quarantined, "the file holds broken rows"
    for n, raw_line in quarantined:
        assert raw_line == expected[n]
        assert '"export_row":' in raw_line
    assert all(raw_line is None for _, reasons, raw_line in landed if not reasons)
    counts = con.execute(
        "select (select count(*) from staging.stg_crm__accounts), "
        "(select count(*) from staging.stg_crm__accounts_quarantine)"
    ).fetchall()[0]
    assert counts == (len(landed) - len(quarantined), len(quarantined))
