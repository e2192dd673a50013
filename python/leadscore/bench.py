"""The benchmark harness behind ``make bench``: the whole pipeline at growing world sizes.

For each scale (a fraction of ``--leads-at-1x``, default 0.1, 0.3 and 1 of 1,000,000 leads)
it generates (or reuses) a synthetic world in Parquet, then runs the pipeline of
``leadscore run`` split into stages, each in its own subprocess so that its wall time and its
peak memory are measured alone:

``features``
    ``dbt build --exclude tag:scoring+ tag:monitoring``: staging, features, attribution;
``train``
    ``leadscore train``: fit, calibrate, export to ONNX, register and promote;
``score``
    ``dbt build --select tag:scoring+``: scoring and everything downstream of it (the
    monitoring models included);
``monitoring``
    ``dbt build --select tag:monitoring --exclude tag:scoring+``: monitoring models not yet
    built (none, today);
``publish``
    ``leadscore publish``: copy the BI-facing marts into the serving file.

Then it measures scoring throughput (:mod:`leadscore.scoring_benchmark`), the rebuild of the
features stage after one new day of data, and how time grows with data. Every scale has its
own warehouse, registry, serving file, dbt target and log folders under ``OUT/<leads>/``;
worlds live under ``build/bench/worlds/<leads>/``. The report is ``OUT/report.json`` and
``OUT/report.md`` (rendered from the JSON). See ``docs/benchmark.md``.

Run it with ``python -m leadscore.bench`` (``--help`` lists the options). A stage that fails
is recorded (exit code, last lines of its log) and the bench goes on with what can still run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import duckdb

from leadscore.config import PROJECT_ROOT, project_vars
from leadscore.dbt import dbt_executable
from leadscore.world.badrows import DEFECTS

DEFAULT_SCALES: tuple[float, ...] = (0.1, 0.3, 1.0)
DEFAULT_LEADS_AT_1X = 1_000_000
DEFAULT_SEED = 42
DEFAULT_OUT = Path("build/bench")
DEFAULT_WORLDS = Path("build/bench/worlds")
# A 1M-lead Parquet world generated earlier; reused when its manifest matches.
DEFAULT_WORLD_DIR_1M = Path("build/scoring/world_1m")
WORLD_FORMAT = "parquet"
TAIL_LINES = 25
SLOWEST_MODELS = 15
GIB = 1024**3

# What the bench is measured against (docs/benchmark.md). The pipeline targets are stated for
# the 1x world (1,000,000 leads); smaller scales are checked against them for reference.
TARGETS: dict[str, float] = {
    "pipeline_seconds": 300.0,
    "peak_rss_gib": 8.0,
    "scoring_vs_lower_bound": 0.9,
    "scoring_vs_sklearn": 3.0,
    "incremental_fraction": 0.10,
    # time(large) / time(small) may be at most this times data(large) / data(small):
    # 10x data in at most 11x time.
    "growth_slack": 1.1,
}

# Threads of the train stage: it runs alone, so both cores of the reference machine are free.
DEFAULT_TRAIN_THREADS = 2
# dbt threads of the dbt stages (LEAD_SCORING_DBT_THREADS) when --dbt-threads is not given:
# 1 from this many leads, else the profile's 2. At 1M leads two models side by side share
# DuckDB's memory limit and both cores, and spill: the features stage took 542 s on dbt's 2
# threads against 470 s on 1. At 100k most nodes are small and 2 threads hide dbt's own time
# per node: 56 s against 76 s (docs/benchmark.md).
ONE_DBT_THREAD_FROM_LEADS = 500_000
PIPELINE_STAGES: tuple[str, ...] = ("features", "train", "score", "monitoring", "publish")
DBT_STAGE_ARGS: dict[str, list[str]] = {
    "features": ["--exclude", "tag:scoring+", "tag:monitoring"],
    "score": ["--select", "tag:scoring+"],
    "monitoring": ["--select", "tag:monitoring", "--exclude", "tag:scoring+"],
}

# The column that dates each raw row, for the "one day later" world: the generator's own
# (world.badrows.DEFECTS). Opportunities closed on the cut day are reopened (closed_at, is_won
# empty, an open stage) rather than removed.
EVENT_DATE_COLUMNS: dict[str, str] = {table: where.ts_column for table, where in DEFECTS.items()}
RAW_TABLES: tuple[str, ...] = tuple(EVENT_DATE_COLUMNS)
REOPENED_STAGE = "Negotiation"

# Row counts read from each scale's warehouse after the pipeline (missing ones are null).
ROW_COUNT_TABLES: tuple[str, ...] = (
    "staging.stg_crm__leads",
    "staging.stg_crm__activities",
    "staging.stg_crm__touchpoints",
    "intermediate.int_as_of_dates",
    "intermediate.int_lead_as_of_dates",
    "marts.fct_lead_features",
    "marts.fct_lead_training_set",
    "marts.fct_lead_scoring_set",
    "marts.fct_account_committee_features",
    "marts.fct_lead_scores",
    "marts.fct_account_scores",
)
PACKAGES: tuple[str, ...] = (
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "onnxruntime",
    "scikit-learn",
    "numpy",
    "pyarrow",
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --- Running one measured command ----------------------------------------------------------


@dataclass
class Measured:
    """What one subprocess took.

    Attributes
    ----------
    command:
        The argv that ran.
    exit_code:
        The exit code (negative: killed by that signal; 127: the command was not found).
    seconds:
        Wall time from start to exit.
    peak_rss_gib:
        ``ru_maxrss`` from ``wait4``: the largest resident set of the child or any descendant
        it waited for (the peak of one process, not a sum).
    peak_tree_rss_gib:
        The largest sum of resident sets over every process of the child's session, sampled
        every ``sample_seconds`` (0 when it ended before the first sample).
    log:
        The file holding its stderr (and stdout unless that went elsewhere).
    timed_out:
        It was killed for exceeding its time limit.
    over_memory:
        It was killed for exceeding its memory limit (sampled process-tree RSS).
    not_found:
        The executable does not exist.
    """

    command: list[str]
    exit_code: int
    seconds: float
    peak_rss_gib: float
    peak_tree_rss_gib: float
    log: str
    timed_out: bool = False
    over_memory: bool = False
    not_found: bool = False

    @property
    def peak_gib(self) -> float:
        """The larger of the two peak measures."""
        return max(self.peak_rss_gib, self.peak_tree_rss_gib)


def session_rss_bytes(session_id: int) -> int:
    """Sum of the resident set sizes of every process in a session (read from ``/proc``).

    Parameters
    ----------
    session_id:
        The session id; a child started with ``start_new_session=True`` leads a session
        whose id is its pid, and its descendants inherit it.

    Returns
    -------
    int
        Bytes; 0 where ``/proc`` cannot be read.
    """
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        # Fields after the command name (which may hold spaces): state ppid pgrp session ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 21 and int(fields[3]) == session_id:
            total += int(fields[21]) * page
    return total


def log_tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last ``lines`` non-empty lines of a log, without terminal colour codes."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    kept = [_ANSI.sub("", line).rstrip() for line in text.splitlines()]
    return [line for line in kept if line.strip()][-lines:]


def run_measured(
    command: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    stdout_path: Path | None = None,
    memory_limit_gib: float | None = None,
    sample_seconds: float = 0.5,
) -> Measured:
    """Run a command to completion, measuring its wall time and peak memory.

    The child leads its own session, so its whole process tree can be sampled and, past
    ``timeout``, killed. It is reaped with :func:`os.wait4`, whose ``ru_maxrss`` covers the
    child and every descendant it waited for.

    Parameters
    ----------
    command:
        The argv.
    log_path:
        Where stderr (and stdout, unless ``stdout_path`` is given) goes.
    env, cwd:
        The child's environment and working folder.
    timeout:
        Seconds after which the process group is killed (``None``: no limit).
    stdout_path:
        A separate file for stdout (e.g. a command printing JSON).
    memory_limit_gib:
        The process group is killed when the sampled resident memory of its session exceeds
        this (``None``: no limit); a spike shorter than ``sample_seconds`` can pass unseen.
    sample_seconds:
        How often the process tree's resident memory is summed.

    Returns
    -------
    Measured
        Exit code, seconds, both peaks; a missing executable gives exit code 127.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [str(part) for part in command]
    with log_path.open("wb") as log:
        out: IO[bytes] | None = stdout_path.open("wb") if stdout_path else None
        try:
            started = time.perf_counter()
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out if out is not None else log,
                    stderr=log,
                    env=dict(env) if env is not None else None,
                    cwd=cwd,
                    start_new_session=True,
                )
            except (FileNotFoundError, PermissionError) as error:
                log.write(f"command not found: {error}\n".encode())
                return Measured(argv, 127, 0.0, 0.0, 0.0, str(log_path), not_found=True)
            reaped: dict[str, Any] = {}
            done = threading.Event()

            def reap() -> None:
                _, status, usage = os.wait4(process.pid, 0)
                reaped.update(status=status, usage=usage, ended=time.perf_counter())
                done.set()

            reaper = threading.Thread(target=reap, daemon=True)
            reaper.start()
            peak_tree = 0
            timed_out = over_memory = False
            try:
                while not done.wait(sample_seconds):
                    rss = session_rss_bytes(process.pid)
                    peak_tree = max(peak_tree, rss)
                    late = timeout is not None and time.perf_counter() - started > timeout
                    large = memory_limit_gib is not None and rss > memory_limit_gib * GIB
                    if (late or large) and not (timed_out or over_memory):
                        timed_out, over_memory = late, large and not late
                        _kill_group(process.pid)
            except BaseException:
                _kill_group(process.pid)
                raise
            reaper.join()
        finally:
            if out is not None:
                out.close()
    exit_code = os.waitstatus_to_exitcode(reaped["status"])
    # Popen did not reap it; tell it so that it never waits on the pid again.
    process.returncode = exit_code
    return Measured(
        command=argv,
        exit_code=exit_code,
        seconds=reaped["ended"] - started,
        peak_rss_gib=reaped["usage"].ru_maxrss * 1024 / GIB,  # ru_maxrss is in KiB on Linux
        peak_tree_rss_gib=peak_tree / GIB,
        log=str(log_path),
        timed_out=timed_out,
        over_memory=over_memory,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# --- Stages --------------------------------------------------------------------------------


@dataclass
class StageResult:
    """One stage of one scale, as it goes into the report."""

    name: str
    status: str
    seconds: float | None = None
    peak_rss_gib: float | None = None
    peak_tree_rss_gib: float | None = None
    exit_code: int | None = None
    command: list[str] = field(default_factory=list)
    log: str | None = None
    tail: list[str] = field(default_factory=list)
    note: str | None = None
    # The machine's 1-minute load average when the stage ended (other jobs slow it down).
    load_at_end: float | None = None

    @property
    def ok(self) -> bool:
        """It ran and its result can be used (a train stage short of data counts as ok)."""
        return self.status in ("ok", "insufficient data")

    def to_dict(self) -> dict[str, Any]:
        """The report's form, numbers rounded."""
        row = asdict(self)
        for key in ("seconds", "peak_rss_gib", "peak_tree_rss_gib"):
            if row[key] is not None:
                row[key] = round(row[key], 3)
        return row


def stage_from(
    name: str, measured: Measured, ok_codes: Mapping[int, str] | None = None
) -> StageResult:
    """Turn a measured run into a stage result, reading the log's tail on failure.

    Parameters
    ----------
    name:
        The stage name.
    measured:
        The run.
    ok_codes:
        Exit codes other than 0 that are not failures, with the status to record
        (``leadscore train`` exits 2 when the data is too thin to train).
    """
    tail: list[str] = []
    if measured.not_found:
        status = "failed: command not found"
        tail = log_tail(Path(measured.log))
    elif measured.timed_out:
        status = "failed: timed out"
        tail = log_tail(Path(measured.log))
    elif measured.over_memory:
        status = "failed: over the memory limit"
        tail = log_tail(Path(measured.log))
    elif measured.exit_code == 0:
        status = "ok"
    elif ok_codes and measured.exit_code in ok_codes:
        status = ok_codes[measured.exit_code]
        tail = log_tail(Path(measured.log), 5)
    else:
        tail = log_tail(Path(measured.log))
        unknown = any("invalid choice" in line for line in tail)
        status = "failed: command not found" if unknown else "failed"
        if measured.exit_code < 0:
            status = f"failed: killed by signal {-measured.exit_code}"
    return StageResult(
        name=name,
        status=status,
        seconds=measured.seconds,
        peak_rss_gib=measured.peak_rss_gib,
        peak_tree_rss_gib=measured.peak_tree_rss_gib,
        exit_code=measured.exit_code,
        command=measured.command,
        log=measured.log,
        tail=tail,
        load_at_end=round(os.getloadavg()[0], 2),
    )


def skipped(name: str, reason: str) -> StageResult:
    """A stage that did not run because something it needs failed."""
    return StageResult(name=name, status=f"skipped: {reason}")


def leadscore_command() -> list[str]:
    """The ``leadscore`` CLI installed beside this Python (or the module)."""
    candidate = Path(sys.executable).with_name("leadscore")
    return [str(candidate)] if candidate.exists() else [sys.executable, "-m", "leadscore.cli"]


def dbt_command(stage: str, dbt_vars: Mapping[str, Any]) -> list[str]:
    """``dbt build`` with the stage's selection and the world's vars."""
    return [dbt_executable(), "build", *DBT_STAGE_ARGS[stage], "--vars", json.dumps(dict(dbt_vars))]


def read_run_results(path: Path, stage: str) -> list[dict[str, Any]]:
    """Every node of a dbt ``run_results.json`` with its execution time and the stage.

    Parameters
    ----------
    path:
        The ``run_results.json``.
    stage:
        The bench stage that ran it (recorded on each node).

    Returns
    -------
    list of dict
        ``unique_id``, ``name``, ``resource_type``, ``status``, ``seconds``, ``stage``;
        empty when the file is missing or unreadable.
    """
    try:
        results = json.loads(path.read_text(encoding="utf-8")).get("results") or []
    except (OSError, ValueError):
        return []
    nodes = []
    for result in results:
        unique_id = str(result.get("unique_id", ""))
        parts = unique_id.split(".")
        nodes.append(
            {
                "unique_id": unique_id,
                "name": parts[2] if len(parts) > 2 else unique_id,
                "resource_type": parts[0] if parts else "",
                "status": result.get("status"),
                "seconds": round(float(result.get("execution_time") or 0.0), 3),
                "stage": stage,
            }
        )
    return nodes


def slowest_models(nodes: Sequence[Mapping[str, Any]], top: int = SLOWEST_MODELS) -> list[dict]:
    """The ``top`` slowest model (and seed) nodes, slowest first."""
    models = [dict(node) for node in nodes if node.get("resource_type") in ("model", "seed")]
    models.sort(key=lambda node: (-float(node["seconds"]), str(node["unique_id"])))
    return models[:top]


def model_tags(manifest_path: Path) -> dict[str, list[str]]:
    """``unique_id`` -> tags of every node in a dbt ``manifest.json`` (empty when missing)."""
    try:
        nodes = json.loads(manifest_path.read_text(encoding="utf-8")).get("nodes") or {}
    except (OSError, ValueError):
        return {}
    return {uid: list(node.get("tags") or []) for uid, node in nodes.items()}


# --- Worlds --------------------------------------------------------------------------------


def read_manifest(world_dir: Path) -> dict[str, Any] | None:
    """The world's ``manifest.json``, or None when missing or unreadable."""
    try:
        return json.loads((world_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def manifest_matches(world_dir: Path, leads: int, seed: int, fmt: str = WORLD_FORMAT) -> bool:
    """Whether ``world_dir`` holds a finished world with these leads, seed and format."""
    manifest = read_manifest(world_dir)
    return (
        manifest is not None
        and manifest.get("leads") == leads
        and manifest.get("seed") == seed
        and manifest.get("format", fmt) == fmt
    )


def world_counts(manifest: Mapping[str, Any] | None) -> dict[str, int | None]:
    """Clean rows per raw table from a world manifest."""
    tables = (manifest or {}).get("tables") or {}
    return {name: (tables.get(name) or {}).get("clean_rows") for name in RAW_TABLES}


def ground_truth_readable(world_dir: Path, project_dir: Path, fmt: str = WORLD_FORMAT) -> bool:
    """Whether the project's ground-truth source can read this world's ground truth.

    The source's ``external_location`` names the file extension it reads (``{name}.csv``) or
    takes it from a var; the world must hold ``ground_truth/account_truth.<that extension>``.
    """
    sources = project_dir / "models" / "staging" / "ground_truth" / "_ground_truth__sources.yml"
    try:
        text = sources.read_text(encoding="utf-8")
    except OSError:
        return False
    match = re.search(r"\{name\}\.([A-Za-z]+)", text)
    extension = match.group(1) if match else fmt
    return (world_dir / "ground_truth" / f"account_truth.{extension}").exists()


def last_event_date(con: duckdb.DuckDBPyConnection, world_dir: Path, extracted_at: str) -> str:
    """The last calendar day with a validly dated event before the export time.

    Parameters
    ----------
    con:
        Any DuckDB connection.
    world_dir:
        A Parquet world.
    extracted_at:
        The export time; rows dated at or after it (injected future timestamps) are ignored.

    Returns
    -------
    str
        ISO date.
    """
    parts = []
    for table in ("activities", "touchpoints", "opportunities", "account_signals"):
        column = EVENT_DATE_COLUMNS[table]
        parts.append(
            f"select max(try_cast({column} as timestamp)) as last_at "
            f"from read_parquet('{world_dir / f'{table}.parquet'}') "
            f"where try_cast({column} as timestamp) < timestamp '{extracted_at}'"
        )
    query = f"select max(last_at)::date from ({' union all '.join(parts)})"
    value = con.execute(query).fetchone()
    if value is None or value[0] is None:
        raise ValueError(f"no dated event in {world_dir}")
    return value[0].isoformat()


def cut_last_day(source: Path, target: Path, day: str | None = None) -> dict[str, Any]:
    """Copy a Parquet world without its last day of data: the world as of one day earlier.

    Rows dated on ``day`` (see :data:`EVENT_DATE_COLUMNS`) are removed from every raw
    table; opportunities closed on that day are reopened (``closed_at`` and ``is_won``
    emptied, stage set to an open one). Rows whose date cannot be read, and rows dated after
    the export time, stay as they are (staging quarantines them either way). The ground truth
    is not copied.

    Parameters
    ----------
    source:
        The full world (Parquet, with ``manifest.json``).
    target:
        The folder to write; created, its raw files overwritten.
    day:
        The day to remove (default: :func:`last_event_date`).

    Returns
    -------
    dict
        ``day`` and, per table, ``rows`` before and ``removed`` (and ``reopened`` for
        opportunities); also written into ``target/manifest.json`` under ``bench_cut``.
    """
    manifest = read_manifest(source) or {}
    extracted_at = str(manifest.get("extracted_at") or "9999-12-31 00:00:00")
    target.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("set threads = 2")
        con.execute("set memory_limit = '3GB'")
        con.execute("set preserve_insertion_order = true")
        cut_day = day or last_event_date(con, source, extracted_at)
        tables: dict[str, dict[str, int]] = {}
        for table, column in EVENT_DATE_COLUMNS.items():
            path = source / f"{table}.parquet"
            on_day = f"try_cast({column} as timestamp)::date = date '{cut_day}'"
            select, reopened = "*", "0"
            if table == "opportunities":
                closed = f"try_cast(closed_at as timestamp)::date = date '{cut_day}'"
                select = (
                    f"* replace (case when {closed} then null else closed_at end as closed_at, "
                    f"case when {closed} then '{REOPENED_STAGE}' else stage end as stage, "
                    f"case when {closed} then null else is_won end as is_won)"
                )
                # Kept opportunities closed on the cut day, counted in the same scan.
                reopened = f"count(*) filter (where not coalesce({on_day}, false) and {closed})"
            relation = f"read_parquet('{path}')"
            rows, removed, reopened_rows = con.execute(
                f"select count(*), count(*) filter (where {on_day}), {reopened} from {relation}"
            ).fetchone() or (0, 0, 0)
            entry = {"rows": int(rows), "removed": int(removed)}
            if table == "opportunities":
                entry["reopened"] = int(reopened_rows)
            con.execute(
                f"copy (select {select} from {relation} where not coalesce({on_day}, false)) "
                f"to '{target / f'{table}.parquet'}' (format parquet, compression zstd)"
            )
            tables[table] = entry
    finally:
        con.close()
    cut = {"source": str(source), "day": cut_day, "tables": tables}
    written = {**manifest, "bench_cut": cut}
    (target / "manifest.json").write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")
    return cut


# --- Warehouse facts -----------------------------------------------------------------------


def count_rows(warehouse: Path, tables: Sequence[str] = ROW_COUNT_TABLES) -> dict[str, int | None]:
    """Row counts of ``tables`` in a warehouse opened read-only (null when a table is absent)."""
    counts: dict[str, int | None] = dict.fromkeys(tables)
    if not warehouse.exists():
        return counts
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return counts
    try:
        for table in tables:
            try:
                row = con.execute(f"select count(*) from {table}").fetchone()
                counts[table] = int(row[0]) if row else None
            except duckdb.Error:
                counts[table] = None
    finally:
        con.close()
    return counts


def machine_facts() -> dict[str, Any]:
    """Cores, memory, load and the versions of the packages that do the work."""
    memory_kib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "memory_gib": round(memory_kib * 1024 / GIB, 1) if memory_kib else None,
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


# --- One scale -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchOptions:
    """The parsed command line, resolved against the project folder."""

    project_dir: Path
    scales: tuple[float, ...]
    leads_at_1x: int
    seed: int
    out: Path
    worlds: Path
    world_dir_1m: Path | None
    extra_vars: dict[str, Any]
    ground_truth: str
    incremental: bool
    incremental_scale: float | None
    scoring_benchmark: bool
    scoring_repeats: int | None
    stage_timeout: float | None
    duckdb_memory_limit: str | None = None
    stage_memory_limit: float | None = None
    train_threads: int = DEFAULT_TRAIN_THREADS
    dbt_threads: int | None = None

    def leads(self, scale: float) -> int:
        """Leads at a scale."""
        return round(scale * self.leads_at_1x)

    def dbt_threads_for(self, leads: int) -> int:
        """dbt's threads at ``leads``: ``dbt_threads``, else 1 from ONE_DBT_THREAD_FROM_LEADS."""
        if self.dbt_threads is not None:
            return self.dbt_threads
        return 1 if leads >= ONE_DBT_THREAD_FROM_LEADS else 2


def run_stage_process(
    command: Sequence[str],
    log_path: Path,
    env: Mapping[str, str],
    options: BenchOptions,
    stdout_path: Path | None = None,
) -> Measured:
    """:func:`run_measured` in the project folder, with the bench's timeout and memory guard."""
    return run_measured(
        command,
        log_path,
        env=env,
        cwd=options.project_dir,
        timeout=options.stage_timeout,
        memory_limit_gib=options.stage_memory_limit,
        stdout_path=stdout_path,
    )


def scale_env(
    root: Path,
    project_dir: Path,
    profiles_dir: Path | None = None,
    dbt_threads: int | None = None,
) -> dict[str, str]:
    """The environment of every stage of one scale: its own files and folders.

    Parameters
    ----------
    root:
        The scale's folder (warehouse, registry, serving file, dbt target and logs).
    project_dir:
        The dbt project.
    profiles_dir:
        Where ``profiles.yml`` is (default: the project's own).
    dbt_threads:
        dbt's threads (``LEAD_SCORING_DBT_THREADS``, read by ``profiles.yml``); default the
        environment's, else the profile's 2.
    """
    threads = {} if dbt_threads is None else {"LEAD_SCORING_DBT_THREADS": str(dbt_threads)}
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(profiles_dir or project_dir),
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        "PYTHONHASHSEED": "0",
        "LEAD_SCORING_DUCKDB_PATH": str(root / "warehouse.duckdb"),
        "LEAD_SCORING_REGISTRY": str(root / "registry"),
        "LEAD_SCORING_SERVING_PATH": str(root / "serving.duckdb"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs" / "dbt"),
        **threads,
    }


def write_profile(folder: Path, project_dir: Path, memory_limit: str) -> Path:
    """A copy of the project's ``profiles.yml`` with DuckDB's ``memory_limit`` set.

    DuckDB's default limit is 80% of the machine's memory; ``--duckdb-memory-limit`` caps the
    dbt stages instead (the Python stages open DuckDB with its defaults).

    Returns
    -------
    Path
        The folder to pass as ``DBT_PROFILES_DIR``.
    """
    import yaml

    profiles = yaml.safe_load((project_dir / "profiles.yml").read_text(encoding="utf-8"))
    for profile in profiles.values():
        if isinstance(profile, dict):
            for output in (profile.get("outputs") or {}).values():
                output.setdefault("settings", {})["memory_limit"] = memory_limit
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(profiles, sort_keys=False, width=1000)
    (folder / "profiles.yml").write_text(text, encoding="utf-8")
    return folder


def _profiles_for(options: BenchOptions, root: Path) -> Path | None:
    if not options.duckdb_memory_limit:
        return None
    return write_profile(root / "profiles", options.project_dir, options.duckdb_memory_limit)


def world_vars(
    world_dir: Path, ground_truth: bool, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The dbt vars that point the project at a generated Parquet world."""
    dbt_vars: dict[str, Any] = {
        "lead_scoring__dataset": "crm",
        "lead_scoring__raw_path": str(world_dir),
        "lead_scoring__raw_format": WORLD_FORMAT,
    }
    if ground_truth:
        dbt_vars["lead_scoring__ground_truth_path"] = str(world_dir / "ground_truth")
    return {**dbt_vars, **(extra or {})}


def ensure_world(options: BenchOptions, leads: int) -> dict[str, Any]:
    """Generate the world for ``leads`` or reuse a matching one.

    Returns
    -------
    dict
        ``dir``, ``status`` (``reused`` / ``generated`` / ``failed``), ``seconds`` (generation
        only), peaks, and the manifest's counts.
    """
    candidates = [options.worlds / str(leads)]
    if options.world_dir_1m is not None:
        candidates.insert(0, options.world_dir_1m)
    for candidate in candidates:
        if manifest_matches(candidate, leads, options.seed):
            manifest = read_manifest(candidate)
            return {
                "dir": str(candidate),
                "status": "reused",
                "seconds": None,
                "counts": world_counts(manifest),
                "extracted_at": (manifest or {}).get("extracted_at"),
            }
    world_dir = options.worlds / str(leads)
    if world_dir.exists():
        shutil.rmtree(world_dir)
    command = [
        *leadscore_command(),
        "generate",
        "--leads",
        str(leads),
        "--format",
        WORLD_FORMAT,
        "--out",
        str(world_dir),
        "--seed",
        str(options.seed),
    ]
    print(f"[bench] generating {leads:,} leads into {world_dir}", flush=True)
    measured = run_stage_process(
        command,
        options.worlds / f"generate_{leads}.log",
        scale_env(options.out / str(leads), options.project_dir),
        options,
    )
    stage = stage_from("generate", measured)
    manifest = read_manifest(world_dir) if stage.ok else None
    return {
        "dir": str(world_dir),
        "status": "generated" if manifest else "failed",
        "seconds": round(measured.seconds, 3),
        "peak_rss_gib": round(measured.peak_gib, 3),
        "log": measured.log,
        "tail": stage.tail,
        "counts": world_counts(manifest),
        "extracted_at": (manifest or {}).get("extracted_at"),
    }


def _reset_dir(root: Path, keep: Sequence[str] = ()) -> None:
    """Empty a bench folder (only bench output lives there), keeping the named entries."""
    if root.exists():
        for entry in root.iterdir():
            if entry.name in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    root.mkdir(parents=True, exist_ok=True)


def run_dbt_stage(
    stage: str,
    root: Path,
    env: Mapping[str, str],
    dbt_vars: Mapping[str, Any],
    options: BenchOptions,
    label: str | None = None,
) -> tuple[StageResult, list[dict[str, Any]]]:
    """Run one ``dbt build`` stage; keep its ``run_results.json`` as ``run_results/<label>``."""
    name = label or stage
    target = Path(env["DBT_TARGET_PATH"])
    (target / "run_results.json").unlink(missing_ok=True)
    print(f"[bench]   {name} ...", flush=True)
    measured = run_stage_process(
        dbt_command(stage, dbt_vars),
        root / "logs" / f"{name}.log",
        env,
        options,
    )
    result = stage_from(name, measured)
    kept = root / "run_results" / f"{name}.json"
    kept.parent.mkdir(parents=True, exist_ok=True)
    if (target / "run_results.json").exists():
        shutil.copyfile(target / "run_results.json", kept)
    nodes = read_run_results(kept, name)
    built = sum(1 for node in nodes if node["resource_type"] in ("model", "seed"))
    result.note = f"{built} models/seeds, {len(nodes) - built} tests/other nodes"
    _print_stage(result)
    return result, nodes


def _print_stage(result: StageResult) -> None:
    seconds = "-" if result.seconds is None else f"{result.seconds:.1f}s"
    peak = "-" if result.peak_rss_gib is None else f"{result.peak_rss_gib:.2f} GiB"
    print(f"[bench]   {result.name}: {result.status} in {seconds}, peak {peak}", flush=True)


def _training_args(
    dbt_vars: Mapping[str, Any], project_dir: Path, oracle: bool, threads: int
) -> list[str]:
    merged = {**project_vars(project_dir), **dbt_vars}
    args = [
        "--threads",
        str(threads),
        "--horizon-days",
        str(int(merged["lead_scoring__label_horizon_days"])),
        "--min-leads",
        str(int(merged["lead_scoring__min_training_leads"])),
        "--min-conversions",
        str(int(merged["lead_scoring__min_training_conversions"])),
    ]
    if oracle:
        args += ["--oracle-table", "marts.fct_lead_true_probabilities"]
    return args


def run_scoring_benchmark(
    root: Path, env: Mapping[str, str], options: BenchOptions, leads: int
) -> dict[str, Any]:
    """Run :mod:`leadscore.scoring_benchmark` (no reasons) and derive the target ratios."""
    repeats = options.scoring_repeats or (2 if leads < 500_000 else 1)
    command = [
        sys.executable,
        "-m",
        "leadscore.scoring_benchmark",
        "--repeats",
        str(repeats),
        "--no-reasons",
    ]
    print(f"[bench]   scoring benchmark (repeats {repeats}) ...", flush=True)
    output = root / "logs" / "scoring_benchmark.json"
    measured = run_stage_process(
        command,
        root / "logs" / "scoring_benchmark.log",
        env,
        options,
        stdout_path=output,
    )
    stage = stage_from("scoring_benchmark", measured)
    summary: dict[str, Any] = {
        "status": stage.status,
        "repeats": repeats,
        "seconds": round(measured.seconds, 3),
        "peak_rss_gib": round(measured.peak_gib, 3),
        "log": measured.log,
    }
    if not stage.ok:
        summary["tail"] = stage.tail
        return summary
    try:
        result = json.loads(output.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        summary.update(status="failed: unreadable output", tail=[str(error)])
        return summary
    summary.update(scoring_ratios(result))
    summary["result"] = result
    print(
        f"[bench]   scoring: {summary['scoring_vs_lower_bound']} of the lower bound, "
        f"{summary['scoring_vs_sklearn']}x sklearn",
        flush=True,
    )
    return summary


def scoring_ratios(result: Mapping[str, Any]) -> dict[str, float | None]:
    """Throughput ratios from a :func:`leadscore.scoring_benchmark.benchmark` result.

    Returns
    -------
    dict
        ``scoring_vs_lower_bound``: rows/s of the scoring path over rows/s of the lower bound
        (= lower-bound seconds / scoring seconds); ``scoring_vs_sklearn``: rows/s of the
        scoring path over rows/s of sklearn on pandas.
    """
    seconds = result.get("seconds") or {}
    scoring = seconds.get("scoring_path")

    def ratio(other: str) -> float | None:
        value = seconds.get(other)
        if not scoring or value is None:
            return None
        return round(float(value) / float(scoring), 3)

    return {
        "scoring_vs_lower_bound": ratio("lower_bound"),
        "scoring_vs_sklearn": ratio("sklearn_pandas"),
    }


def run_scale(options: BenchOptions, scale: float) -> dict[str, Any]:
    """Everything the bench measures at one scale except the incremental rebuild."""
    leads = options.leads(scale)
    root = options.out / str(leads)
    print(f"[bench] scale {scale:g}: {leads:,} leads", flush=True)
    entry: dict[str, Any] = {
        "scale": scale,
        "leads": leads,
        "dir": str(root),
        "dbt_threads": options.dbt_threads_for(leads),
    }
    world = ensure_world(options, leads)
    entry["world"] = world
    _reset_dir(root)
    threads = options.dbt_threads_for(leads)
    env = scale_env(root, options.project_dir, _profiles_for(options, root), threads)
    entry["paths"] = {
        key: env[key]
        for key in (
            "LEAD_SCORING_DUCKDB_PATH",
            "LEAD_SCORING_REGISTRY",
            "LEAD_SCORING_SERVING_PATH",
            "DBT_PROFILES_DIR",
            "DBT_TARGET_PATH",
            "DBT_LOG_PATH",
        )
    }
    stages: list[StageResult] = []
    nodes: list[dict[str, Any]] = []
    if world["status"] == "failed":
        stages = [skipped(name, "world generation failed") for name in PIPELINE_STAGES]
        entry.update(_scale_summary(stages, nodes, {}))
        return entry
    world_dir = Path(world["dir"])
    truth = _ground_truth_choice(options, world_dir)
    entry["ground_truth"] = truth
    if options.ground_truth == "auto" and not truth:
        entry["ground_truth_note"] = (
            "off: the ground-truth source cannot read this world's ground-truth files "
            "(models/staging/ground_truth reads another format)"
        )
    dbt_vars = world_vars(world_dir, truth, options.extra_vars)
    entry["dbt_vars"] = dbt_vars

    features, found = run_dbt_stage("features", root, env, dbt_vars, options)
    stages.append(features)
    nodes += found
    if features.ok:
        print("[bench]   train ...", flush=True)
        command = [
            *leadscore_command(),
            "train",
            *_training_args(dbt_vars, options.project_dir, truth, options.train_threads),
        ]
        measured = run_stage_process(
            command,
            root / "logs" / "train.log",
            env,
            options,
        )
        train = stage_from("train", measured, ok_codes={2: "insufficient data"})
        if train.status == "insufficient data":
            train.note = "too little data to train: scoring uses the rules fallback"
        _print_stage(train)
        stages.append(train)
        score, found = run_dbt_stage("score", root, env, dbt_vars, options)
        stages.append(score)
        nodes += found
    else:
        stages += [skipped("train", "features failed"), skipped("score", "features failed")]
        score = stages[-1]
    if score.ok:
        monitoring, found = run_dbt_stage("monitoring", root, env, dbt_vars, options)
        if not found and monitoring.ok:
            monitoring.note = (
                "nothing left to build: every tag:monitoring model is downstream of "
                "tag:scoring and ran in the score stage"
            )
        stages.append(monitoring)
        nodes += found
        print("[bench]   publish ...", flush=True)
        measured = run_stage_process(
            [*leadscore_command(), "publish"],
            root / "logs" / "publish.log",
            env,
            options,
        )
        publish = stage_from("publish", measured)
        _print_stage(publish)
        stages.append(publish)
    else:
        stages += [skipped("monitoring", "score failed"), skipped("publish", "score failed")]

    tags = model_tags(Path(env["DBT_TARGET_PATH"]) / "manifest.json")
    for node in nodes:
        node["tags"] = tags.get(node["unique_id"], [])
    entry.update(_scale_summary(stages, nodes, count_rows(root / "warehouse.duckdb")))

    promoted = (root / "registry" / "current.json").exists()
    if not options.scoring_benchmark:
        entry["scoring_benchmark"] = {"status": "skipped: --no-scoring-benchmark"}
    elif not promoted:
        entry["scoring_benchmark"] = {"status": "skipped: no promoted model"}
    else:
        entry["scoring_benchmark"] = run_scoring_benchmark(root, env, options, leads)
    return entry


def _ground_truth_choice(options: BenchOptions, world_dir: Path) -> bool:
    if options.ground_truth == "on":
        return True
    if options.ground_truth == "off":
        return False
    return ground_truth_readable(world_dir, options.project_dir)


def _scale_summary(
    stages: Sequence[StageResult],
    nodes: Sequence[Mapping[str, Any]],
    row_counts: Mapping[str, int | None],
) -> dict[str, Any]:
    complete = all(stage.ok for stage in stages) and len(stages) == len(PIPELINE_STAGES)
    ran = [stage for stage in stages if stage.seconds is not None]
    peaks = [max(s.peak_rss_gib or 0.0, s.peak_tree_rss_gib or 0.0) for s in ran]
    monitoring = [
        {"name": node["name"], "seconds": node["seconds"], "stage": node["stage"]}
        for node in nodes
        if node.get("resource_type") == "model" and "monitoring" in (node.get("tags") or [])
    ]
    return {
        "stages": [stage.to_dict() for stage in stages],
        "pipeline": {
            "complete": complete,
            "failed_stages": [stage.name for stage in stages if not stage.ok],
            "seconds": round(sum(stage.seconds or 0.0 for stage in ran), 3),
            "peak_gib": round(max(peaks), 3) if peaks else None,
        },
        "row_counts": dict(row_counts),
        "slowest_models": slowest_models(nodes),
        "monitoring_models": monitoring,
        "dbt_nodes": len(nodes),
    }


# --- Incremental rebuild -------------------------------------------------------------------


def run_incremental(options: BenchOptions, scale_entry: Mapping[str, Any]) -> dict[str, Any]:
    """Build features on the world minus its last day, then rebuild them on the full world.

    Both builds go to one warehouse of their own (``OUT/<leads>/incremental/``); the rebuild's
    wall time over the scale's full ``features`` stage is the incremental fraction.
    """
    leads = int(scale_entry["leads"])
    result: dict[str, Any] = {"scale": scale_entry["scale"], "leads": leads}
    world = scale_entry.get("world") or {}
    full_features = next(
        (s for s in scale_entry.get("stages", []) if s["name"] == "features"), None
    )
    if world.get("status") == "failed" or not full_features or full_features["status"] != "ok":
        result["status"] = "skipped: the scale's features stage did not succeed"
        return result
    root = options.out / str(leads) / "incremental"
    _reset_dir(root)
    world_dir = Path(world["dir"])
    cut_dir = options.worlds / f"{leads}_minus_last_day"
    print(f"[bench] incremental at {leads:,} leads: cutting the last day", flush=True)
    started = time.perf_counter()
    try:
        cut = cut_last_day(world_dir, cut_dir)
    except (duckdb.Error, OSError, ValueError) as error:
        result.update(status=f"failed: cutting the last day: {error}")
        return result
    result["cut"] = {**cut, "seconds": round(time.perf_counter() - started, 3), "dir": str(cut_dir)}
    threads = options.dbt_threads_for(leads)
    env = scale_env(root, options.project_dir, _profiles_for(options, root), threads)
    truth = bool(scale_entry.get("ground_truth"))
    full_vars = world_vars(world_dir, truth, options.extra_vars)
    # The ground truth stays the full world's: it is not part of what a new day changes.
    cut_vars = {**full_vars, "lead_scoring__raw_path": str(cut_dir)}
    base, _ = run_dbt_stage(
        "features", root, env, cut_vars, options, label="features_minus_last_day"
    )
    result["base_build"] = base.to_dict()
    if not base.ok:
        result["status"] = "failed: features on the cut world"
        return result
    rebuild, nodes = run_dbt_stage(
        "features", root, env, full_vars, options, label="features_after_new_day"
    )
    result["rebuild"] = rebuild.to_dict()
    result["rebuild_slowest_models"] = slowest_models(nodes, 5)
    if not rebuild.ok:
        result["status"] = "failed: the rebuild"
        return result
    # The rebuild must give what a build from empty gives: compare its incremental models with
    # the scale's own warehouse (the full world, from empty).
    tables = incremental_tables(root / "target" / "manifest.json")
    try:
        result["as_of_dates_differing_from_full_build"] = as_of_dates_differing(
            root / "warehouse.duckdb", options.out / str(leads) / "warehouse.duckdb", tables
        )
    except duckdb.Error as error:
        result["as_of_dates_differing_from_full_build"] = {"error": str(error)}
    full_seconds = float(full_features["seconds"])
    result["status"] = "ok"
    result["full_features_seconds"] = full_seconds
    result["rebuild_seconds"] = round(rebuild.seconds or 0.0, 3)
    result["fraction"] = round((rebuild.seconds or 0.0) / full_seconds, 3) if full_seconds else None
    return result


def incremental_tables(manifest_path: Path) -> list[str]:
    """``schema.table`` of every incremental model keyed by ``as_of_date`` in a dbt
    ``manifest.json``, sorted.

    The running totals, incremental by lead, are left out: their weighted running sum of
    doubles may differ in the last bits from a build from empty (``test_incremental.py``
    proves every other column equal, and that sum within 1e-12).
    """
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("materialized") == "incremental"
        and node["config"].get("unique_key") == "as_of_date"
        and node["config"].get("enabled", True)
    )


def as_of_dates_differing(built: Path, reference: Path, tables: Sequence[str]) -> dict[str, int]:
    """Per table, how many as-of dates hold different rows in the two warehouses.

    Each side's rows of a date are summarised by their count and the sum of their row hashes
    (a multiset fingerprint: any changed, missing or extra row changes it, bar a 64-bit hash
    collision). One scan per table: at 1M leads the seven feature tables take about 30 s; an
    exact ``except all`` both ways took about 20 minutes.
    """
    con = duckdb.connect()
    try:
        con.execute("set threads = 2")
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{built}' as built (read_only)")
        con.execute(f"attach '{reference}' as reference (read_only)")
        differing = {}
        for table in tables:
            sides = {
                side: f"""
                    select as_of_date, count(*) as row_count, sum(hash(t)::hugeint) as row_hashes
                    from {side}.{table} as t
                    group by as_of_date
                """
                for side in ("built", "reference")
            }
            differing[table] = int(
                con.execute(
                    f"""
                    with built_dates as ({sides["built"]}),
                    reference_dates as ({sides["reference"]})
                    select count(*)
                    from built_dates
                    full join reference_dates using (as_of_date)
                    where built_dates.row_count is distinct from reference_dates.row_count
                        or built_dates.row_hashes is distinct from reference_dates.row_hashes
                    """
                ).fetchall()[0][0]
            )
        return differing
    finally:
        con.close()


# --- Growth and checks ---------------------------------------------------------------------


def growth(scales: Sequence[Mapping[str, Any]], slack: float = TARGETS["growth_slack"]) -> dict:
    """How time grew from the smallest to the largest scale.

    Returns
    -------
    dict
        ``status`` (``ok``; ``incomplete`` when either pipeline did not complete, so only
        the stages that succeeded at both scales have a ratio; ``n/a: ...``), their leads,
        ``data_ratio``, ``time_ratio`` of the pipelines (null unless both are complete),
        ``limit`` (= slack x data ratio) and ``per_stage_time_ratio``.
    """
    ordered = sorted(scales, key=lambda s: s["leads"])
    if len(ordered) < 2 or ordered[0]["leads"] == ordered[-1]["leads"]:
        return {"status": "n/a: needs two scales"}
    small, large = ordered[0], ordered[-1]
    data_ratio = large["leads"] / small["leads"]
    both = all((s.get("pipeline") or {}).get("complete") for s in (small, large))
    small_s = (small.get("pipeline") or {}).get("seconds")
    large_s = (large.get("pipeline") or {}).get("seconds")
    time_ratio = round(large_s / small_s, 3) if both and small_s else None
    done = {stage["name"]: stage for stage in small.get("stages") or [] if stage["status"] == "ok"}
    per_stage = {}
    for stage in large.get("stages") or []:
        before = (done.get(stage["name"]) or {}).get("seconds")
        if before and stage["status"] == "ok" and stage.get("seconds") is not None:
            per_stage[stage["name"]] = round(stage["seconds"] / before, 2)
    return {
        "status": "ok" if both else "incomplete",
        "small_leads": small["leads"],
        "large_leads": large["leads"],
        "small_seconds": small_s if both else None,
        "large_seconds": large_s if both else None,
        "data_ratio": round(data_ratio, 3),
        "time_ratio": time_ratio,
        "limit": round(slack * data_ratio, 3),
        "per_stage_time_ratio": per_stage,
    }


def _check(
    name: str, scope: str, value: float | None, op: str, limit: float | None
) -> dict[str, Any]:
    if value is None or limit is None:
        result = "n/a"
    elif op == "<=":
        result = "PASS" if value <= limit else "MISS"
    else:
        result = "PASS" if value >= limit else "MISS"
    return {
        "target": name,
        "scope": scope,
        "value": value,
        "op": op,
        "limit": limit,
        "result": result,
    }


def checks(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every target against what was measured: PASS, MISS or n/a (not measured)."""
    targets = report.get("targets") or TARGETS
    rows = []
    for entry in report.get("scales") or []:
        scope = f"{entry['leads']:,} leads"
        pipeline = entry.get("pipeline") or {}
        seconds = pipeline.get("seconds") if pipeline.get("complete") else None
        rows.append(_check("pipeline seconds", scope, seconds, "<=", targets["pipeline_seconds"]))
        rows.append(
            _check("peak GiB", scope, pipeline.get("peak_gib"), "<=", targets["peak_rss_gib"])
        )
        scoring = entry.get("scoring_benchmark") or {}
        rows.append(
            _check(
                "scoring path / lower bound",
                scope,
                scoring.get("scoring_vs_lower_bound"),
                ">=",
                targets["scoring_vs_lower_bound"],
            )
        )
        rows.append(
            _check(
                "scoring path / sklearn",
                scope,
                scoring.get("scoring_vs_sklearn"),
                ">=",
                targets["scoring_vs_sklearn"],
            )
        )
    incremental = report.get("incremental") or {}
    if incremental:
        scope = f"{incremental.get('leads', 0):,} leads"
        rows.append(
            _check(
                "rebuild after a new day / full features",
                scope,
                incremental.get("fraction"),
                "<=",
                targets["incremental_fraction"],
            )
        )
    grown = report.get("growth") or {}
    if "limit" in grown:
        scope = f"{grown['small_leads']:,} -> {grown['large_leads']:,} leads"
        rows.append(_check("time ratio", scope, grown.get("time_ratio"), "<=", grown["limit"]))
    else:
        rows.append(_check("time ratio", "two scales", None, "<=", None))
    return rows


# --- Rendering -----------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return lines


def render_markdown(report: Mapping[str, Any]) -> str:
    """The markdown report, rendered from the JSON report (the same numbers, no others)."""
    lines = ["# Benchmark report", ""]
    lines.append(f"Run at {report.get('started_at')} ({_fmt(report.get('seconds'), 0)} s in all).")
    lines.append(f"Command: `{' '.join(report.get('command') or [])}`")
    settings = report.get("settings") or {}
    if settings:
        lines.append("")
        lines.append(
            f"Settings: seed {settings.get('seed')}, extra dbt vars "
            f"`{json.dumps(settings.get('extra_vars') or {})}`, ground truth "
            f"{settings.get('ground_truth')}, DuckDB memory limit of the dbt stages "
            f"{settings.get('duckdb_memory_limit') or 'the profile default (80% of memory)'}, "
            f"stage memory limit {_fmt(settings.get('stage_memory_limit_gib'), 1)} GiB, "
            f"training threads {settings.get('train_threads', 1)}, "
            f"dbt threads {settings.get('dbt_threads') or _AUTO_DBT_THREADS}."
        )
    lines.append("")
    machine = report.get("machine") or {}
    versions = machine.get("versions") or {}
    lines += ["## Machine", ""]
    lines += _table(
        ["nproc", "memory GiB", "load at start", "CPU", "python", *versions],
        [
            [
                machine.get("nproc"),
                machine.get("memory_gib"),
                " / ".join(str(v) for v in machine.get("load_average_at_start") or []),
                machine.get("cpu_model"),
                machine.get("python"),
                *versions.values(),
            ]
        ],
    )
    slack = (report.get("targets") or TARGETS).get("growth_slack", TARGETS["growth_slack"])
    lines += ["", "## Targets", ""]
    lines += _table(
        ["target", "scope", "measured", "limit", "result"],
        [
            [
                row["target"],
                row["scope"],
                row["value"],
                f"{row['op']} {slack:g} x data ratio"
                if row["limit"] is None
                else f"{row['op']} {row['limit']:g}",
                row["result"],
            ]
            for row in report.get("checks") or []
        ],
    )
    lines.append("")
    lines.append(
        "The pipeline targets (5 minutes, 8 GiB) are stated for the 1x world; smaller scales "
        "are checked against them for reference. Pipeline = every stage after generation."
    )
    for entry in report.get("scales") or []:
        lines += ["", *_render_scale(entry)]
    lines += ["", *_render_incremental(report.get("incremental") or {})]
    lines += ["", *_render_growth(report.get("growth") or {})]
    return "\n".join(lines) + "\n"


def _render_scale(entry: Mapping[str, Any]) -> list[str]:
    lines = [f"## {entry['leads']:,} leads (scale {entry['scale']:g})", ""]
    world = entry.get("world") or {}
    counts = world.get("counts") or {}
    generated = "reused" if world.get("status") == "reused" else world.get("status")
    if world.get("seconds") is not None:
        generated = f"{generated} in {_fmt(world['seconds'], 1)} s"
    truth = entry.get("ground_truth_note") or ("on" if entry.get("ground_truth") else "off")
    threads = entry.get("dbt_threads")
    threads_note = f"; dbt threads {threads}" if threads is not None else ""
    lines.append(f"World `{world.get('dir')}`: {generated}; ground truth {truth}{threads_note}.")
    lines.append("")
    lines += _table(list(counts), [list(counts.values())])
    lines += ["", "### Stages", ""]
    stage_rows = [
        [
            stage["name"],
            stage["status"],
            stage.get("seconds"),
            stage.get("peak_rss_gib"),
            stage.get("peak_tree_rss_gib"),
            stage.get("load_at_end"),
            stage.get("note"),
        ]
        for stage in entry.get("stages") or []
    ]
    pipeline = entry.get("pipeline") or {}
    stage_rows.append(
        [
            "**pipeline**",
            "complete" if pipeline.get("complete") else "incomplete",
            pipeline.get("seconds"),
            pipeline.get("peak_gib"),
            None,
            None,
            ", ".join(pipeline.get("failed_stages") or []) or None,
        ]
    )
    lines += _table(
        ["stage", "status", "seconds", "peak RSS GiB", "peak tree GiB (sampled)", "load", "note"],
        stage_rows,
    )
    for stage in entry.get("stages") or []:
        if stage.get("tail") and not str(stage["status"]).startswith("ok"):
            lines += [
                "",
                f"`{stage['name']}` ({stage['status']}, exit {stage.get('exit_code')}, "
                f"log `{stage.get('log')}`), last lines:",
                "",
                "```",
            ]
            lines += list(stage["tail"])
            lines.append("```")
    lines += ["", "### Row counts", ""]
    lines += _table(["table", "rows"], list((entry.get("row_counts") or {}).items()))
    lines += ["", "### Slowest models", ""]
    lines += _table(
        ["model", "stage", "seconds", "status"],
        [
            [m["name"], m["stage"], m["seconds"], m["status"]]
            for m in entry.get("slowest_models") or []
        ],
    )
    monitoring = entry.get("monitoring_models") or []
    if monitoring:
        lines += [
            "",
            "Monitoring models: "
            + ", ".join(f"{m['name']} {m['seconds']:.1f} s ({m['stage']})" for m in monitoring)
            + ".",
        ]
    lines += ["", "### Scoring throughput", ""]
    scoring = entry.get("scoring_benchmark") or {}
    result = scoring.get("result") or {}
    if result:
        seconds = result.get("seconds") or {}
        per_second = result.get("rows_per_second") or {}
        lines.append(
            f"{_fmt(result.get('rows'))} rows, {result.get('model_type')}, "
            f"{result.get('packed_features')} packed features, best of {scoring.get('repeats')}; "
            f"scoring path / lower bound {_fmt(scoring.get('scoring_vs_lower_bound'))}, "
            f"scoring path / sklearn {_fmt(scoring.get('scoring_vs_sklearn'))}."
        )
        lines.append("")
        lines += _table(
            ["route", "seconds", "rows/s"],
            [[name, seconds[name], per_second.get(name)] for name in seconds],
        )
    else:
        lines.append(f"Not measured: {scoring.get('status')}.")
        if scoring.get("tail"):
            lines += ["", "```", *scoring["tail"], "```"]
    return lines


def _render_incremental(incremental: Mapping[str, Any]) -> list[str]:
    lines = ["## Rebuild after one new day", ""]
    if not incremental:
        return [*lines, "Not measured."]
    if incremental.get("status") != "ok":
        lines.append(f"At {incremental.get('leads', 0):,} leads: {incremental.get('status')}.")
        for key in ("base_build", "rebuild"):
            stage = incremental.get(key) or {}
            if stage.get("tail"):
                lines += ["", f"`{stage['name']}` last lines:", "", "```", *stage["tail"], "```"]
        return lines
    cut = incremental.get("cut") or {}
    tables = cut.get("tables") or {}
    removed = ", ".join(f"{name} {values['removed']:,}" for name, values in tables.items())
    reopened = (tables.get("opportunities") or {}).get("reopened")
    base_seconds = (incremental.get("base_build") or {}).get("seconds")
    lines.append(
        f"At {incremental['leads']:,} leads: the world without {cut.get('day')} (rows removed: "
        f"{removed}; opportunities reopened: {_fmt(reopened)}) was "
        f"built into its own warehouse in {_fmt(base_seconds, 1)} s; "
        f"the features stage on the full world then took "
        f"{_fmt(incremental.get('rebuild_seconds'), 1)} s against "
        f"{_fmt(incremental.get('full_features_seconds'), 1)} s from empty: "
        f"**{_fmt(incremental.get('fraction'), 3)}** of a full build."
    )
    differing = incremental.get("as_of_dates_differing_from_full_build")
    if differing:
        if "error" in differing:
            lines += ["", f"Comparing the rebuild with the full build failed: {differing['error']}"]
        else:
            total = sum(differing.values())
            verdict = (
                "the same rows on every as-of date"
                if total == 0
                else f"**different rows on {total:,} table-dates**"
            )
            lines += [
                "",
                f"The rebuild's incremental models against the scale's build from empty: "
                f"{verdict} ({', '.join(f'{t} {n:,}' for t, n in differing.items())}).",
            ]
    slowest = incremental.get("rebuild_slowest_models") or []
    if slowest:
        lines += ["", "Slowest models of the rebuild:", ""]
        lines += [f"- `{m['name']}` {_fmt(m['seconds'], 1)} s" for m in slowest]
    return lines


def _render_growth(grown: Mapping[str, Any]) -> list[str]:
    lines = ["## Growth", ""]
    if "limit" not in grown:
        return [*lines, f"{grown.get('status', 'n/a')}."]
    head = (
        f"{grown['small_leads']:,} -> {grown['large_leads']:,} leads "
        f"({_fmt(grown['data_ratio'])}x data): "
    )
    if grown.get("time_ratio") is None:
        lines.append(
            head + "no pipeline ratio (a pipeline did not complete); the stages that succeeded "
            "at both scales are below."
        )
    else:
        lines.append(
            head + f"pipeline {_fmt(grown['small_seconds'], 1)} s -> "
            f"{_fmt(grown['large_seconds'], 1)} s, **{_fmt(grown['time_ratio'])}x** time "
            f"(limit {_fmt(grown['limit'])}x)."
        )
    per_stage = grown.get("per_stage_time_ratio") or {}
    if per_stage:
        lines += ["", *_table(["stage", "time ratio"], list(per_stage.items()))]
    return lines


# --- Command line --------------------------------------------------------------------------


def parse_scales(text: str) -> tuple[float, ...]:
    """``"0.1,0.3,1"`` -> ``(0.1, 0.3, 1.0)``, sorted, each above zero.

    Raises
    ------
    argparse.ArgumentTypeError
        On an empty list, a non-number or a scale not above zero.
    """
    try:
        scales = tuple(sorted({float(part) for part in text.split(",") if part.strip()}))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"scales must be numbers: {text!r}") from error
    if not scales or scales[0] <= 0:
        raise argparse.ArgumentTypeError(f"scales must be above zero: {text!r}")
    return scales


_AUTO_DBT_THREADS = f"1 from {ONE_DBT_THREAD_FROM_LEADS:,} leads, else 2"


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m leadscore.bench`` parser."""
    parser = argparse.ArgumentParser(
        prog="python -m leadscore.bench",
        description="Benchmark the whole pipeline at growing world sizes (docs/benchmark.md).",
    )
    parser.add_argument(
        "--scales",
        type=parse_scales,
        default=DEFAULT_SCALES,
        help="comma-separated fractions of --leads-at-1x (default 0.1,0.3,1)",
    )
    parser.add_argument("--leads-at-1x", type=int, default=DEFAULT_LEADS_AT_1X)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="world seed (default 42)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="report and per-scale folder (build/bench)"
    )
    parser.add_argument(
        "--worlds", type=Path, default=DEFAULT_WORLDS, help="world folders (build/bench/worlds)"
    )
    parser.add_argument(
        "--world-dir-1m",
        default=str(DEFAULT_WORLD_DIR_1M),
        help="an existing Parquet world reused when its manifest has the scale's leads and seed "
        "(default build/scoring/world_1m; '' to never use it)",
    )
    parser.add_argument(
        "--vars",
        default="{}",
        help="extra dbt vars as JSON/YAML, e.g. '{lead_scoring__snapshot_count: 8}'",
    )
    parser.add_argument(
        "--ground-truth",
        choices=("auto", "on", "off"),
        default="auto",
        help="set lead_scoring__ground_truth_path (auto: when the ground-truth source can "
        "read the world's files)",
    )
    parser.add_argument(
        "--incremental-scale",
        type=float,
        default=None,
        help="scale of the one-new-day rebuild (default: the largest scale)",
    )
    parser.add_argument("--no-incremental", action="store_true", help="skip the rebuild")
    parser.add_argument(
        "--no-scoring-benchmark", action="store_true", help="skip the scoring throughput"
    )
    parser.add_argument(
        "--scoring-repeats",
        type=int,
        default=None,
        help="best-of runs of the scoring benchmark (default 2, 1 from 500,000 leads)",
    )
    parser.add_argument(
        "--stage-timeout",
        type=float,
        default=None,
        help="kill a stage after this many seconds (default: no limit)",
    )
    parser.add_argument(
        "--stage-memory-limit",
        type=float,
        default=None,
        help="kill a stage whose processes together exceed this many GiB (sampled; default "
        "3/4 of the machine's memory, so that the kernel's OOM killer never picks another "
        "job; 0: no limit)",
    )
    parser.add_argument(
        "--train-threads",
        type=int,
        default=DEFAULT_TRAIN_THREADS,
        help="`leadscore train --threads` (default %(default)s: the train stage runs alone, so "
        "both cores of the reference machine are free)",
    )
    parser.add_argument(
        "--dbt-threads",
        type=int,
        default=None,
        help=f"dbt threads of the dbt stages (default: {_AUTO_DBT_THREADS}; at 1M leads two "
        "heavy models side by side spill past the memory limit)",
    )
    parser.add_argument(
        "--duckdb-memory-limit",
        default=None,
        help="DuckDB memory_limit of the dbt stages, e.g. 4GB (default: the project profile, "
        "i.e. DuckDB's 80%% of memory)",
    )
    return parser


def options_from(args: argparse.Namespace, project_dir: Path) -> BenchOptions:
    """Resolve the parsed arguments against the project folder."""
    import yaml

    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else project_dir / path

    extra = yaml.safe_load(args.vars) or {}
    if not isinstance(extra, dict):
        raise SystemExit(f"--vars must be a mapping, got {args.vars!r}")
    incremental_scale = args.incremental_scale
    if incremental_scale is not None and incremental_scale not in args.scales:
        raise SystemExit(f"--incremental-scale {incremental_scale:g} is not one of --scales")
    return BenchOptions(
        project_dir=project_dir,
        scales=tuple(args.scales),
        leads_at_1x=args.leads_at_1x,
        seed=args.seed,
        out=resolve(args.out),
        worlds=resolve(args.worlds),
        world_dir_1m=resolve(Path(args.world_dir_1m)) if args.world_dir_1m else None,
        extra_vars=dict(extra),
        ground_truth=args.ground_truth,
        incremental=not args.no_incremental,
        incremental_scale=incremental_scale,
        scoring_benchmark=not args.no_scoring_benchmark,
        scoring_repeats=args.scoring_repeats,
        stage_timeout=args.stage_timeout,
        duckdb_memory_limit=args.duckdb_memory_limit,
        train_threads=args.train_threads,
        dbt_threads=args.dbt_threads,
        stage_memory_limit=default_memory_guard()
        if args.stage_memory_limit is None
        else (args.stage_memory_limit or None),
    )


def default_memory_guard() -> float | None:
    """3/4 of the machine's memory in GiB (None when ``/proc/meminfo`` cannot be read)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(0.75 * int(line.split()[1]) * 1024 / GIB, 1)
    except (OSError, ValueError):
        pass
    return None


def write_report(report: Mapping[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.md`` (rendered from the JSON) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    text = json.dumps(report, indent=2, default=str) + "\n"
    json_path.write_text(text, encoding="utf-8")
    md_path.write_text(render_markdown(json.loads(text)), encoding="utf-8")
    return json_path, md_path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; the exit code is 0 when it ran, whatever the targets say."""
    args = build_parser().parse_args(argv)
    project_dir = Path(os.environ.get("DBT_PROJECT_DIR", PROJECT_ROOT)).resolve()
    options = options_from(args, project_dir)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    report: dict[str, Any] = {
        "started_at": started_at,
        "command": [
            "python",
            "-m",
            "leadscore.bench",
            *(argv if argv is not None else sys.argv[1:]),
        ],
        "project_dir": str(project_dir),
        "machine": machine_facts(),
        "settings": {
            "scales": list(options.scales),
            "leads_at_1x": options.leads_at_1x,
            "seed": options.seed,
            "extra_vars": options.extra_vars,
            "ground_truth": options.ground_truth,
            "stage_timeout": options.stage_timeout,
            "duckdb_memory_limit": options.duckdb_memory_limit,
            "stage_memory_limit_gib": options.stage_memory_limit,
            "train_threads": options.train_threads,
            "dbt_threads": options.dbt_threads,
        },
        "targets": dict(TARGETS),
        "scales": [],
    }
    for scale in options.scales:
        report["scales"].append(run_scale(options, scale))
        _finish(report, started)
        write_report(report, options.out)
    if options.incremental:
        scale = options.incremental_scale or max(options.scales)
        entry = next(s for s in report["scales"] if s["scale"] == scale)
        report["incremental"] = run_incremental(options, entry)
    _finish(report, started)
    json_path, md_path = write_report(report, options.out)
    print(f"[bench] report: {md_path} and {json_path}", flush=True)
    for row in report["checks"]:
        print(
            f"[bench]   {row['result']:<4} {row['target']} ({row['scope']}): {_fmt(row['value'])}"
        )
    return 0


def _finish(report: dict[str, Any], started: float) -> None:
    report["growth"] = growth(report["scales"], report["targets"]["growth_slack"])
    report["checks"] = checks(report)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]


if __name__ == "__main__":
    raise SystemExit(main())
