"""Tests of ``leadscore generate``: determinism, manifest, bad rows and ground truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from leadscore.cli import main
from leadscore.generate import generate_world
from leadscore.world import params as P

N_LEADS = 2000
SEED = 7
RAW_TABLES = (
    "accounts",
    "leads",
    "activities",
    "touchpoints",
    "opportunities",
    "account_signals",
)
TIMESTAMP_COLUMN = {
    "accounts": "created_at",
    "leads": "created_at",
    "activities": "occurred_at",
    "touchpoints": "touched_at",
    "opportunities": "created_at",
    "account_signals": "observed_at",
}
NUMBER_COLUMNS = {
    "accounts": ("employee_count", "annual_revenue"),
    "opportunities": ("amount",),
    "account_signals": ("signal_value",),
}
CATEGORY_COLUMN = {
    "accounts": ("industry", set(P.INDUSTRIES)),
    "leads": ("lead_source", set(P.LEAD_SOURCES)),
    "activities": ("activity_type", set(P.ACTIVITY_TYPES)),
    "touchpoints": ("channel", set(P.RAW_CHANNELS)),
    "account_signals": (
        "signal_type",
        {"intent_surge", "funding_round", "hiring_surge", "technology_install"},
    ),
}
EXTRACTED_AT = dt.datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A small CSV world shared by the tests of this module."""
    out = tmp_path_factory.mktemp("world")
    return out, generate_world(N_LEADS, SEED, out, "csv")


def _digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _lines(path: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, records parsed one physical line at a time, and the raw lines."""
    raw = path.read_text(encoding="utf-8").split("\n")
    assert raw[-1] == "", "file must end with a newline"
    raw = raw[1:-1]
    header = next(csv.reader([path.open(encoding="utf-8").readline()]))
    return header, [next(csv.reader([line])) for line in raw], raw


def _parses(text: str) -> dt.datetime | None:
    """A strict ``YYYY-MM-DD HH:MM:SS`` parse, or None."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def test_same_seed_gives_identical_files(world: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = world
    generate_world(N_LEADS, SEED, tmp_path / "again", "csv")
    assert _digests(tmp_path / "again") == _digests(out)


def test_other_seed_differs(world: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = world
    generate_world(N_LEADS, SEED + 1, tmp_path / "other", "csv")
    mine, theirs = _digests(out), _digests(tmp_path / "other")
    assert mine["activities.csv"] != theirs["activities.csv"]
    assert mine["ground_truth/account_truth.csv"] != theirs["ground_truth/account_truth.csv"]


def test_manifest_reconciles_with_files(world: tuple[Path, dict]) -> None:
    out, manifest = world
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == SEED and manifest["leads"] == N_LEADS
    assert manifest["extracted_at"] == "2026-01-01 00:00:00"
    for table in RAW_TABLES:
        entry = manifest["tables"][table]
        data = (out / f"{table}.csv").read_bytes()
        assert b"\r" not in data
        assert data.count(b"\n") - 1 == entry["data_lines"]
        assert entry["data_lines"] == entry["clean_rows"] + sum(entry["bad_rows"].values())
    assert manifest["tables"]["leads"]["clean_rows"] == N_LEADS
    assert manifest["tables"]["activities"]["bad_rows"]["unterminated_quote"] == 1
    assert sum(e["bad_rows"].get("unterminated_quote", 0) for e in manifest["tables"].values()) == 1


def test_header_follows_raw_contract(world: tuple[Path, dict]) -> None:
    out, _ = world
    expected = {
        "accounts": "account_id,account_name,domain,industry,employee_count,annual_revenue,"
        "region,country,created_at",
        "leads": "lead_id,account_id,email,first_name,last_name,job_title,lead_source,created_at",
        "activities": "activity_id,lead_id,activity_type,page_category,occurred_at",
        "touchpoints": "touchpoint_id,lead_id,channel,campaign,touched_at",
        "opportunities": "opportunity_id,account_id,lead_id,created_at,closed_at,stage,amount,"
        "is_won",
        "account_signals": "signal_id,account_id,signal_type,topic,signal_value,observed_at",
    }
    for table, header in expected.items():
        assert (out / f"{table}.csv").open().readline() == header + "\n"


@pytest.mark.parametrize("table", RAW_TABLES)
def test_bad_rows_are_found_in_the_file(world: tuple[Path, dict], table: str) -> None:
    out, manifest = world
    bad = manifest["tables"][table]["bad_rows"]
    header, records, raw = _lines(out / f"{table}.csv")
    unterminated = [line for line in raw if line.count('"') % 2 == 1]
    assert len(unterminated) == bad.get("unterminated_quote", 0)
    ragged = [r for r, line in zip(records, raw, strict=True) if len(r) != len(header)]
    ragged = [r for r in ragged if r not in [next(csv.reader([u])) for u in unterminated]]
    assert len(ragged) == bad["ragged_line"]
    rows = [
        dict(zip(header, r, strict=True))
        for r, line in zip(records, raw, strict=True)
        if len(r) == len(header) and line.count('"') % 2 == 0
    ]
    key = header[0]
    assert sum(1 for r in rows if r[key] == "") == bad["missing_key"]
    key_counts = Counter(r[key] for r in rows if r[key])
    assert sum(c - 1 for c in key_counts.values()) == bad["duplicate_key"]
    by_key: dict[str, set[tuple]] = {}
    for r in rows:
        by_key.setdefault(r[key], set()).add(tuple(r.values()))
    assert all(len(v) == 1 for k, v in by_key.items() if k and key_counts[k] > 1)
    stamps = [r[TIMESTAMP_COLUMN[table]] for r in rows]
    parsed = [_parses(s) for s in stamps]
    assert sum(1 for p in parsed if p is None) == bad["bad_timestamp"]
    assert sum(1 for p in parsed if p is not None and p >= EXTRACTED_AT) == bad["future_timestamp"]
    if table in NUMBER_COLUMNS:
        wrong = 0
        for r in rows:
            for column in NUMBER_COLUMNS[table]:
                try:
                    float(r[column])
                except ValueError:
                    wrong += 1
        assert wrong == bad["bad_number"]
    else:
        assert "bad_number" not in bad
    if table in CATEGORY_COLUMN:
        column, vocabulary = CATEGORY_COLUMN[table]
        unknown = [r[column] for r in rows if r[column] not in vocabulary]
        assert len(unknown) == bad["unknown_category"]
        assert len(set(unknown)) == 1
    else:
        assert "unknown_category" not in bad


def test_injected_rows_reference_real_keys(world: tuple[Path, dict]) -> None:
    out, _ = world
    con = duckdb.connect()
    opts = "all_varchar = true, strict_mode = false, null_padding = true, ignore_errors = true"
    for table in RAW_TABLES:
        con.execute(f"create view {table} as select * from read_csv('{out}/{table}.csv', {opts})")
    orphans = con.sql(
        """
        select
            (select count(*) from leads where account_id not in
                (select account_id from accounts where account_id is not null)),
            (select count(*) from activities
                where lead_id not in (select lead_id from leads where lead_id is not null)),
            (select count(*) from touchpoints
                where lead_id not in (select lead_id from leads where lead_id is not null)),
            (select count(*) from account_signals where account_id
                not in (select account_id from accounts where account_id is not null))
        """
    ).fetchall()[0]
    assert orphans == (0, 0, 0, 0)


def test_conversion_rate_in_band(world: tuple[Path, dict]) -> None:
    out, manifest = world
    con = duckdb.connect()
    rate = con.sql(
        f"""
        with leads as (
            select distinct raw.lead_id, raw.account_id,
                strptime(raw.created_at, '%Y-%m-%d %H:%M:%S') as created_at
            from read_csv('{out}/ground_truth/lead_roles.csv', all_varchar = true) as roles
            inner join read_csv('{out}/leads.csv', all_varchar = true, strict_mode = false,
                null_padding = true) as raw
                on roles.lead_id = raw.lead_id
        ),
        truth as (
            select * from read_csv('{out}/ground_truth/account_truth.csv', all_varchar = true)
            where is_matured = 'true' and has_open_opportunity = 'false'
        )
        select avg(case when truth.opened_within_90d = 'true' then 1.0 else 0.0 end)
        from leads
        inner join truth
            on leads.account_id = truth.account_id
            and leads.created_at < cast(truth.as_of_date as date)
        """
    ).fetchall()[0][0]
    assert 0.04 <= rate <= 0.15
    assert rate == pytest.approx(manifest["world"]["conversion_rate_account_leads"], abs=1e-6)


def test_true_probability_is_informative(world: tuple[Path, dict]) -> None:
    out, _ = world
    con = duckdb.connect()
    rows = dict(
        con.sql(
            f"""
            select opened_within_90d, avg(cast(p_open_90d as double))
            from read_csv('{out}/ground_truth/account_truth.csv', all_varchar = true)
            where is_matured = 'true'
            group by 1
            """
        ).fetchall()
    )
    bounds = con.sql(
        f"""
        select min(cast(p_open_90d as double)), max(cast(p_open_90d as double)), count(*)
        from read_csv('{out}/ground_truth/account_truth.csv', all_varchar = true)
        """
    ).fetchall()[0]
    assert bounds[0] >= 0.0 and bounds[1] <= 1.0
    assert bounds[2] == (N_LEADS // 8) * 104
    assert rows["true"] > 2 * rows["false"]


def test_realized_outcome_matches_opportunities(world: tuple[Path, dict]) -> None:
    out, _ = world
    con = duckdb.connect()
    mismatches = con.sql(
        f"""
        with opps as (
            select distinct opportunity_id, account_id, cast(created_at as timestamp) as created_at
            from read_csv('{out}/opportunities.csv', all_varchar = true, strict_mode = false,
                null_padding = true, ignore_errors = true)
            where opportunity_id is not null
                and try_strptime(created_at, '%Y-%m-%d %H:%M:%S') < timestamp '2026-01-01'
                and try_cast(amount as double) is not null
        ),
        truth as (
            select account_id, cast(as_of_date as date) as as_of, opened_within_90d
            from read_csv('{out}/ground_truth/account_truth.csv', all_varchar = true)
        ),
        realized as (
            select truth.account_id, truth.as_of, truth.opened_within_90d,
                count(opps.opportunity_id) > 0 as opened
            from truth
            left join opps
                on truth.account_id = opps.account_id
                and opps.created_at >= truth.as_of
                and opps.created_at < truth.as_of + interval 90 day
            group by all
        )
        select count(*) from realized where cast(opened as varchar) <> opened_within_90d
        """
    ).fetchall()[0][0]
    assert mismatches == 0


def test_lead_roles_match_titles(world: tuple[Path, dict]) -> None:
    out, _ = world
    roles = {
        r["lead_id"]: r["true_committee_role"]
        for r in csv.DictReader((out / "ground_truth" / "lead_roles.csv").open())
    }
    _, records, _ = _lines(out / "leads.csv")
    prefixes = {
        "champion": ("director of", "head of", "senior director,"),
        "decision_maker": ("vp of", "vice president,", "svp"),
    }
    for r in records:
        if len(r) != 8 or r[0] not in roles or roles[r[0]] not in prefixes:
            continue
        title = " ".join(r[5].lower().split())
        assert title.startswith(prefixes[roles[r[0]]]), (r, roles[r[0]])


def test_parquet_world_is_all_text_and_deterministic(tmp_path: Path) -> None:
    manifest = generate_world(1500, 3, tmp_path, "parquet")
    generate_world(1500, 3, tmp_path / "again", "parquet")
    assert _digests(tmp_path / "again") == {
        k: v for k, v in _digests(tmp_path).items() if not k.startswith("again/")
    }
    con = duckdb.connect()
    for table in RAW_TABLES:
        entry = manifest["tables"][table]
        assert "ragged_line" not in entry["bad_rows"]
        types = {
            t for _, t, *_ in con.sql(f"describe from '{tmp_path}/{table}.parquet'").fetchall()
        }
        assert types == {"VARCHAR"}
        rows = con.sql(f"select count(*) from '{tmp_path}/{table}.parquet'").fetchall()[0][0]
        assert rows == entry["data_lines"] == entry["clean_rows"] + sum(entry["bad_rows"].values())
    assert (tmp_path / "ground_truth" / "account_truth.parquet").exists()


def test_cli_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli_world"
    code = main(["generate", "--leads", "400", "--seed", "11", "--out", str(out)])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["leads"] == 400 and manifest["format"] == "csv"
    assert "conversion rate" in capsys.readouterr().out
