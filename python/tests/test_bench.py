"""The benchmark harness's pure parts: measuring a command, the last-day cut, the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from leadscore import bench, scoring_benchmark


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_run_measured_reports_exit_code_log_and_the_child_peak_memory(tmp_path: Path) -> None:
    # 200 MiB touched page by page: resident, so ru_maxrss must see at least that.
    code = (
        "import sys; b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); "
        "print('allocated'); sys.exit(3)"
    )
    measured = bench.run_measured(_python(code), tmp_path / "logs" / "run.log")
    assert measured.exit_code == 3
    assert measured.peak_rss_gib >= 200 / 1024
    assert measured.seconds > 0
    assert (tmp_path / "logs" / "run.log").read_text().strip() == "allocated"
    stage = bench.stage_from("work", measured)
    assert stage.status == "failed"
    assert stage.tail == ["allocated"]


def test_run_measured_counts_a_grandchild_memory(tmp_path: Path) -> None:
    inner = "b = bytearray(150 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    outer = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {inner!r}])"
    measured = bench.run_measured(_python(outer), tmp_path / "run.log")
    assert measured.exit_code == 0
    assert measured.peak_rss_gib >= 150 / 1024


def test_run_measured_separates_stdout_and_survives_a_missing_command(tmp_path: Path) -> None:
    code = "import json, sys; print(json.dumps({'a': 1})); print('noise', file=sys.stderr)"
    measured = bench.run_measured(
        _python(code), tmp_path / "run.log", stdout_path=tmp_path / "out.json"
    )
    assert measured.exit_code == 0
    assert json.loads((tmp_path / "out.json").read_text()) == {"a": 1}
    assert "noise" in (tmp_path / "run.log").read_text()

    missing = bench.run_measured(["/nonexistent/leadscore-bench-cmd"], tmp_path / "missing.log")
    assert missing.exit_code == 127
    assert bench.stage_from("publish", missing).status == "failed: command not found"


def test_run_measured_kills_a_command_past_its_timeout(tmp_path: Path) -> None:
    measured = bench.run_measured(
        _python("import time; time.sleep(30)"), tmp_path / "run.log", timeout=0.5
    )
    assert measured.timed_out
    assert measured.seconds < 20
    assert bench.stage_from("slow", measured).status == "failed: timed out"


def test_run_measured_kills_a_command_over_its_memory_limit(tmp_path: Path) -> None:
    code = (
        "import time; b = bytearray(400 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); "
        "time.sleep(30)"
    )
    measured = bench.run_measured(
        _python(code), tmp_path / "run.log", memory_limit_gib=0.25, sample_seconds=0.1
    )
    assert measured.over_memory and not measured.timed_out
    assert measured.seconds < 20
    assert measured.peak_tree_rss_gib > 0.25
    assert bench.stage_from("big", measured).status == "failed: over the memory limit"


def test_an_unknown_subcommand_reads_as_command_not_found(tmp_path: Path) -> None:
    code = (
        "import sys; print(\"leadscore: error: argument COMMAND: invalid choice: 'publish'\", "
        "file=sys.stderr); sys.exit(2)"
    )
    measured = bench.run_measured(_python(code), tmp_path / "run.log")
    assert bench.stage_from("publish", measured).status == "failed: command not found"
    # ... while exit 2 of train (too little data) is a recorded, non-failing outcome.
    train = bench.stage_from("train", measured, ok_codes={2: "insufficient data"})
    assert train.status == "insufficient data" and train.ok


def _write_world(folder: Path) -> None:
    """A tiny Parquet world: every column text, the last day 2025-12-31, one bad date."""
    folder.mkdir()
    con = duckdb.connect()
    tables = {
        "accounts": "select * from (values ('AC1', '2024-01-01 10:00:00'), "
        "('AC2', '2025-12-31 08:00:00')) t(account_id, created_at)",
        "leads": "select * from (values ('LD1', 'AC1', '2024-02-01 10:00:00'), "
        "('LD2', 'AC2', '2025-12-31 09:00:00')) t(lead_id, account_id, created_at)",
        "activities": "select * from (values ('A1', 'LD1', '2025-12-30 23:59:59'), "
        "('A2', 'LD1', '2025-12-31 00:00:00'), ('A3', 'LD2', '2025-12-31 12:00:00'), "
        "('A4', 'LD1', 'not a date'), ('A5', 'LD1', '2026-03-01 00:00:00')) "
        "t(activity_id, lead_id, occurred_at)",
        "touchpoints": "select * from (values ('T1', 'LD1', '2025-12-31 01:00:00'), "
        "('T2', 'LD1', '2025-06-01 01:00:00')) t(touchpoint_id, lead_id, touched_at)",
        "opportunities": "select * from (values "
        "('O1', 'AC1', '2025-11-01 00:00:00', '2025-12-31 10:00:00', 'Closed Won', 'true'), "
        "('O2', 'AC1', '2025-12-31 11:00:00', null, 'Prospecting', null), "
        "('O3', 'AC1', '2025-01-01 00:00:00', '2025-02-01 00:00:00', 'Closed Lost', 'false')) "
        "t(opportunity_id, account_id, created_at, closed_at, stage, is_won)",
        "account_signals": "select * from (values ('S1', 'AC1', '2025-12-29 00:00:00')) "
        "t(signal_id, account_id, observed_at)",
    }
    for name, query in tables.items():
        con.execute(f"copy ({query}) to '{folder / f'{name}.parquet'}' (format parquet)")
    con.close()
    manifest = {"leads": 2, "seed": 1, "format": "parquet", "extracted_at": "2026-01-01 00:00:00"}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_cut_last_day_removes_the_last_day_and_reopens_its_closes(tmp_path: Path) -> None:
    _write_world(tmp_path / "world")
    cut = bench.cut_last_day(tmp_path / "world", tmp_path / "cut")
    # The future-dated activity (2026-03-01) is not the last day: the export time bounds it.
    assert cut["day"] == "2025-12-31"
    con = duckdb.connect()

    def rows(table: str) -> list[tuple]:
        return con.execute(
            f"select * from '{tmp_path / 'cut' / f'{table}.parquet'}' order by 1"
        ).fetchall()

    assert [r[0] for r in rows("activities")] == ["A1", "A4", "A5"]
    assert [r[0] for r in rows("leads")] == ["LD1"]
    assert [r[0] for r in rows("accounts")] == ["AC1"]
    assert [r[0] for r in rows("touchpoints")] == ["T2"]
    assert rows("account_signals") == [("S1", "AC1", "2025-12-29 00:00:00")]
    assert rows("opportunities") == [
        ("O1", "AC1", "2025-11-01 00:00:00", None, bench.REOPENED_STAGE, None),
        ("O3", "AC1", "2025-01-01 00:00:00", "2025-02-01 00:00:00", "Closed Lost", "false"),
    ]
    assert cut["tables"]["activities"] == {"rows": 5, "removed": 2}
    assert cut["tables"]["opportunities"] == {"rows": 3, "removed": 1, "reopened": 1}
    # Every column stays text, like the generator writes it.
    types = con.execute(
        f"select distinct column_type from (describe select * from "
        f"'{tmp_path / 'cut' / 'opportunities.parquet'}')"
    ).fetchall()
    assert types == [("VARCHAR",)]
    written = json.loads((tmp_path / "cut" / "manifest.json").read_text())
    assert written["leads"] == 2 and written["bench_cut"]["day"] == "2025-12-31"


def test_manifest_matches_needs_leads_seed_and_format(tmp_path: Path) -> None:
    _write_world(tmp_path / "world")
    assert bench.manifest_matches(tmp_path / "world", 2, 1)
    assert not bench.manifest_matches(tmp_path / "world", 3, 1)
    assert not bench.manifest_matches(tmp_path / "world", 2, 42)
    assert not bench.manifest_matches(tmp_path / "world", 2, 1, fmt="csv")
    assert not bench.manifest_matches(tmp_path / "nowhere", 2, 1)


def test_parse_scales() -> None:
    assert bench.parse_scales("1,0.1,0.3") == (0.1, 0.3, 1.0)
    for bad in ("", "0", "a,1", "-1"):
        with pytest.raises(Exception, match="scales"):
            bench.parse_scales(bad)


def test_read_run_results_and_slowest_models(tmp_path: Path) -> None:
    results = {
        "results": [
            {"unique_id": "model.p.fast", "execution_time": 1.0, "status": "success"},
            {"unique_id": "test.p.not_null_x.abc", "execution_time": 99.0, "status": "pass"},
            {"unique_id": "model.p.slow", "execution_time": 5.5, "status": "success"},
            {"unique_id": "seed.p.ref", "execution_time": 2.0, "status": "success"},
        ]
    }
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    nodes = bench.read_run_results(tmp_path / "run_results.json", "features")
    assert [n["name"] for n in bench.slowest_models(nodes, 2)] == ["slow", "ref"]
    assert all(n["stage"] == "features" for n in nodes)
    assert bench.read_run_results(tmp_path / "missing.json", "score") == []


def _stage(name: str, seconds: float, peak: float, status: str = "ok") -> dict:
    return {"name": name, "status": status, "seconds": seconds, "peak_rss_gib": peak}


def _scale(leads: int, seconds: float, complete: bool = True) -> dict:
    return {
        "scale": leads / 1_000_000,
        "leads": leads,
        "world": {"dir": f"w/{leads}", "status": "reused", "counts": {"leads": leads}},
        "stages": [_stage("features", seconds * 0.8, 1.5), _stage("train", seconds * 0.2, 0.5)],
        "pipeline": {"complete": complete, "seconds": seconds, "peak_gib": 1.5},
        "row_counts": {"marts.fct_lead_features": leads * 7},
        "slowest_models": [{"name": "fct_x", "stage": "features", "seconds": 3.25, "status": "ok"}],
        "scoring_benchmark": {
            "status": "ok",
            "repeats": 2,
            "scoring_vs_lower_bound": 0.95,
            "scoring_vs_sklearn": 2.5,
            "result": {"rows": 10, "seconds": {"lower_bound": 1.0}, "rows_per_second": {}},
        },
    }


def test_growth_and_checks_judge_each_target() -> None:
    scales = [_scale(100_000, 30.0), _scale(1_000_000, 400.0)]
    grown = bench.growth(scales)
    assert grown["data_ratio"] == 10.0
    assert grown["time_ratio"] == pytest.approx(13.333, abs=1e-3)
    assert grown["limit"] == 11.0
    report = {"targets": bench.TARGETS, "scales": scales, "growth": grown, "incremental": {}}
    results = {(row["target"], row["scope"]): row["result"] for row in bench.checks(report)}
    assert results[("pipeline seconds", "100,000 leads")] == "PASS"
    assert results[("pipeline seconds", "1,000,000 leads")] == "MISS"
    assert results[("scoring path / lower bound", "100,000 leads")] == "PASS"
    assert results[("scoring path / sklearn", "100,000 leads")] == "MISS"
    assert results[("time ratio", "100,000 -> 1,000,000 leads")] == "MISS"

    incomplete = [_scale(100_000, 30.0), _scale(1_000_000, 40.0, complete=False)]
    partial = bench.growth(incomplete)
    assert partial["status"] == "incomplete" and partial["time_ratio"] is None
    assert partial["per_stage_time_ratio"] == {"features": 1.33, "train": 1.33}
    assert bench.growth(incomplete[:1])["status"].startswith("n/a")
    report = {"targets": bench.TARGETS, "scales": incomplete, "growth": bench.growth(incomplete)}
    rows = bench.checks(report)
    assert next(r["result"] for r in rows if r["scope"] == "1,000,000 leads") == "n/a"


def test_render_markdown_carries_the_json_numbers() -> None:
    scales = [_scale(100_000, 30.0), _scale(1_000_000, 250.0)]
    report = {
        "started_at": "2026-01-01T00:00:00+00:00",
        "seconds": 1234.5,
        "command": ["python", "-m", "leadscore.bench"],
        "machine": {"nproc": 2, "memory_gib": 23.4, "versions": {"duckdb": "2.0.1"}},
        "targets": bench.TARGETS,
        "scales": scales,
        "growth": bench.growth(scales),
        "incremental": {
            "status": "ok",
            "leads": 100_000,
            "cut": {"day": "2025-12-31", "tables": {"activities": {"rows": 9, "removed": 4}}},
            "base_build": {"seconds": 20.0},
            "rebuild_seconds": 19.5,
            "full_features_seconds": 24.0,
            "fraction": 0.8125,
            "as_of_dates_differing_from_full_build": {"marts.fct_a": 0, "marts.fct_b": 3},
            "rebuild_slowest_models": [{"name": "fct_a", "seconds": 2.5}],
        },
    }
    report["checks"] = bench.checks(report)
    text = bench.render_markdown(json.loads(json.dumps(report)))
    assert "| features | ok | 200.00 | 1.50 |" in text
    assert "| marts.fct_lead_features | 7,000,000 |" in text
    assert "| fct_x | features | 3.25 | ok |" in text
    assert "**0.812** of a full build" in text
    assert "**8.33x** time" in text
    assert "**different rows on 3 table-dates** (marts.fct_a 0, marts.fct_b 3)" in text
    assert "- `fct_a` 2.5 s" in text
    assert "| rebuild after a new day / full features | 100,000 leads | 0.81 | <= 0.1 | MISS |" in (
        text
    )
    assert "| pipeline seconds | 1,000,000 leads | 250.00 | <= 300 | PASS |" in text
    assert "| 2 | 23.40 |" in text


def test_write_profile_sets_the_memory_limit_and_keeps_the_rest(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "profiles.yml").write_text(
        "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('X', 'w.duckdb') }}\"\n"
        "      settings:\n        preserve_insertion_order: true\n"
    )
    folder = bench.write_profile(tmp_path / "profiles", project, "3GB")
    written = yaml.safe_load((folder / "profiles.yml").read_text())
    dev = written["p"]["outputs"]["dev"]
    assert dev["settings"] == {"preserve_insertion_order": True, "memory_limit": "3GB"}
    assert dev["path"] == "{{ env_var('X', 'w.duckdb') }}"
    assert written["p"]["target"] == "dev"


def test_dbt_threads_are_one_from_half_a_million_leads_unless_given() -> None:
    args = bench.build_parser().parse_args([])
    options = bench.options_from(args, bench.PROJECT_ROOT)
    assert options.dbt_threads is None
    assert options.dbt_threads_for(100_000) == 2
    assert options.dbt_threads_for(499_999) == 2
    assert options.dbt_threads_for(500_000) == 1
    assert options.dbt_threads_for(1_000_000) == 1
    given = bench.options_from(
        bench.build_parser().parse_args(["--dbt-threads", "2"]), bench.PROJECT_ROOT
    )
    assert given.dbt_threads_for(1_000_000) == 2


def test_the_dbt_threads_reach_dbt_through_the_project_profile(tmp_path: Path) -> None:
    # The real profile and dbt: the bench's environment sets LEAD_SCORING_DBT_THREADS, which
    # profiles.yml reads; without it the profile's default of 2 applies.
    import subprocess

    project = bench.PROJECT_ROOT
    seen = {}
    for threads in (1, None):
        env = bench.scale_env(tmp_path / f"scale_{threads}", project, dbt_threads=threads)
        if threads is None:
            env.pop("LEAD_SCORING_DBT_THREADS", None)
        else:
            assert env["LEAD_SCORING_DBT_THREADS"] == "1"
        (tmp_path / f"scale_{threads}").mkdir()
        run = subprocess.run(
            [bench.dbt_executable(), "seed", "--select", "activity_types"],
            env=env,
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        seen[threads] = [line for line in run.stdout.splitlines() if "Concurrency" in line]
    assert "Concurrency: 1 threads" in seen[1][0]
    assert "Concurrency: 2 threads" in seen[None][0]


def test_scoring_routes_take_turns_and_keep_their_best_time(monkeypatch) -> None:
    clock = iter(range(1000))
    monkeypatch.setattr(scoring_benchmark.time, "perf_counter", lambda: next(clock))
    calls: list[str] = []
    # Each call advances the clock once more inside the run: the lower bound's rounds take
    # 2, 2, 2 ticks; the scoring path's first round takes 3, then 2.
    slow = iter([True, False, False])

    def lower_bound() -> None:
        calls.append("lower_bound")
        next(clock)

    def scoring_path() -> None:
        calls.append("scoring_path")
        next(clock)
        if next(slow):
            next(clock)

    best = scoring_benchmark.best_of_interleaved(
        3, {"lower_bound": lower_bound, "scoring_path": scoring_path}
    )
    assert calls == [
        "lower_bound",
        "scoring_path",
        "scoring_path",
        "lower_bound",
        "lower_bound",
        "scoring_path",
    ]
    assert best == {"lower_bound": 2, "scoring_path": 2}


def test_incremental_tables_and_as_of_dates_differing(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    node = {"resource_type": "model", "schema": "marts", "config": {"enabled": True}}
    manifest.write_text(
        json.dumps(
            {
                "nodes": {
                    "model.p.fct_b": {
                        **node,
                        "name": "fct_b",
                        "config": {"materialized": "incremental", "unique_key": "as_of_date"},
                    },
                    "model.p.fct_a": {
                        **node,
                        "name": "fct_a",
                        "config": {"materialized": "incremental", "unique_key": "as_of_date"},
                    },
                    "model.p.int_by_lead": {
                        **node,
                        "name": "int_by_lead",
                        "config": {"materialized": "incremental", "unique_key": "lead_id"},
                    },
                    "model.p.fct_t": {**node, "name": "fct_t", "config": {"materialized": "table"}},
                    "test.p.t": {
                        "resource_type": "test",
                        "schema": "marts",
                        "name": "t",
                        "config": {},
                    },
                }
            }
        )
    )
    assert bench.incremental_tables(manifest) == ["marts.fct_a", "marts.fct_b"]

    # fct_a: the same rows in another order. fct_b: on 2025-01-06 a value changed, on
    # 2025-01-13 a row is doubled, on 2025-01-20 nothing differs, 2025-01-27 is only built.
    sides = {
        "built": (
            [("2025-01-06", 2), ("2025-01-06", 1)],
            [
                ("2025-01-06", 5),
                ("2025-01-13", 1),
                ("2025-01-13", 1),
                ("2025-01-20", 7),
                ("2025-01-27", 1),
            ],
        ),
        "reference": (
            [("2025-01-06", 1), ("2025-01-06", 2)],
            [("2025-01-06", 6), ("2025-01-13", 1), ("2025-01-20", 7)],
        ),
    }
    for name, (rows_a, rows_b) in sides.items():
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            con.execute("create schema marts")
            for table, rows in (("fct_a", rows_a), ("fct_b", rows_b)):
                con.execute(f"create table marts.{table} (as_of_date date, x integer)")
                con.executemany(f"insert into marts.{table} values (?, ?)", rows)
    differing = bench.as_of_dates_differing(
        tmp_path / "built.duckdb", tmp_path / "reference.duckdb", ["marts.fct_a", "marts.fct_b"]
    )
    assert differing == {"marts.fct_a": 0, "marts.fct_b": 3}
