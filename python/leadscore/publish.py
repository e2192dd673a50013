"""Write-audit-publish: copy the BI-facing marts into a serving file, swapped in atomically.

DuckDB allows one writer or many readers of a file, never both. A BI tool that held the
working warehouse open would make every ``dbt build`` fail, and a build would break its
queries. So BI reads a separate file, ``warehouse/serving.duckdb`` by default
(``LEAD_SCORING_SERVING_PATH``), which only ``publish`` writes, and only after a build
passed (``leadscore run`` calls it last; ``leadscore publish`` does it by hand):

1. the models tagged ``serving`` in their ``.yml`` are listed with ``dbt ls``;
2. each is copied from the working warehouse (attached read-only) into a new temporary file
   beside the serving file, with a ``publish_manifest`` table that stamps the copy with a
   build id and records each table's row count and content checksum;
3. the temporary file is checkpointed, closed, fsynced and renamed over the serving file
   with :func:`os.replace` (atomic on one file system), and the folder is fsynced.

A reader that opened the old file keeps reading the old file; one that opens after the
rename sees only the new one. No reader ever sees half a publish, and a build that failed
never reaches the serving file, which keeps the previous publish.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from leadscore.config import Settings
from leadscore.dbt import DbtError, dbt_env, dbt_executable

SERVING_TAG = "serving"
MANIFEST_TABLE = "publish_manifest"


class PublishError(RuntimeError):
    """The serving file could not be written; the previous one is left as it was."""


class ServingMismatchError(RuntimeError):
    """A serving file whose tables do not match its own manifest."""


@dataclass(frozen=True)
class ServedTable:
    """One model copied into the serving file."""

    name: str
    schema: str

    @property
    def source(self) -> str:
        return f'source."{self.schema}"."{self.name}"'


@dataclass(frozen=True)
class PublishResult:
    """What one publish wrote."""

    build_id: str
    path: Path
    row_counts: dict[str, int]
    seconds: float


def new_build_id() -> str:
    """A sortable, unique id: UTC time to the second and a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def served_models(
    settings: Settings, dbt_vars: Mapping[str, Any] | None = None
) -> list[ServedTable]:
    """The enabled models tagged ``serving``, from ``dbt ls`` (the project is the source).

    Raises
    ------
    PublishError
        When ``dbt ls`` fails or lists no model.
    """
    cmd = [
        dbt_executable(),
        "--quiet",
        "ls",
        "--resource-type",
        "model",
        "--select",
        f"tag:{SERVING_TAG}",
        "--output",
        "json",
        "--output-keys",
        "name schema",
    ]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dict(dbt_vars))]
    result = subprocess.run(
        cmd,
        cwd=settings.project_dir,
        env=dbt_env(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PublishError(f"dbt ls failed (exit {result.returncode}):\n{result.stdout}")
    tables = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            node = json.loads(line)
            tables.append(ServedTable(name=node["name"], schema=node["schema"]))
    if not tables:
        raise PublishError(f"no model is tagged '{SERVING_TAG}': nothing to publish")
    return sorted(tables, key=lambda table: table.name)


def table_checksum(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, int]:
    """Row count and an order-independent checksum (xor of row hashes) of a relation."""
    count, checksum = con.execute(
        f"select count(*), coalesce(bit_xor(hash(t)), 0) from {relation} as t"
    ).fetchall()[0]
    return int(count), int(checksum)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _publish_lock(target: Path) -> Iterator[None]:
    """One publish at a time per serving file (readers are never locked out)."""
    lock_path = target.with_name(f".{target.name}.lock")
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(
    settings: Settings,
    tables: list[ServedTable] | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
    build_id: str | None = None,
) -> PublishResult:
    """Copy the serving models from the working warehouse and swap the serving file in.

    Parameters
    ----------
    settings:
        The working warehouse (read) and the serving file (replaced).
    tables:
        What to copy; by default the models tagged ``serving`` (:func:`served_models`).
    dbt_vars:
        The build's dbt vars, so ``dbt ls`` sees the same enabled models.
    build_id:
        The stamp of this publish; a new one by default.

    Raises
    ------
    PublishError
        When the warehouse is missing a served table or the copy fails; the serving file
        is then untouched.
    """
    started = time.perf_counter()
    build_id = build_id or new_build_id()
    tables = tables if tables is not None else served_models(settings, dbt_vars)
    warehouse = settings.warehouse_path
    if not warehouse.exists():
        raise PublishError(f"the warehouse {warehouse} does not exist: run a build first")
    target = settings.serving_file
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{build_id}.tmp")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    with _publish_lock(target):
        try:
            with duckdb.connect(str(temporary)) as con:
                con.execute("set enable_progress_bar = false")
                escaped = str(warehouse).replace("'", "''")
                con.execute(f"attach '{escaped}' as source (read_only)")
                present = {
                    (schema, name)
                    for schema, name in con.execute(
                        "select schema_name, table_name from duckdb_tables() "
                        "where database_name = 'source'"
                    ).fetchall()
                }
                missing = [t for t in tables if (t.schema, t.name) not in present]
                if missing:
                    names = ", ".join(f"{t.schema}.{t.name}" for t in missing)
                    raise PublishError(
                        f"the warehouse {warehouse} has no table {names}: the build did not "
                        "make it, so nothing was published"
                    )
                manifest = []
                for table in tables:
                    con.execute(f'create table main."{table.name}" as select * from {table.source}')
                    rows, checksum = table_checksum(con, f'main."{table.name}"')
                    counts[table.name] = rows
                    manifest.append(
                        (
                            build_id,
                            published_at,
                            table.name,
                            f"{table.schema}.{table.name}",
                            rows,
                            checksum,
                        )
                    )
                con.execute(
                    f"create table main.{MANIFEST_TABLE} (build_id varchar not null, "
                    "published_at timestamp not null, table_name varchar not null, "
                    "source_relation varchar not null, row_count bigint not null, "
                    "checksum ubigint not null)"
                )
                con.executemany(
                    f"insert into main.{MANIFEST_TABLE} values (?, ?, ?, ?, ?, ?)", manifest
                )
                con.execute("detach source")
                con.execute("checkpoint")
            _fsync(temporary)
            # A write-ahead log left by a writable connection would be replayed onto the
            # new file by the next reader: the serving file is only ever written here.
            target.with_name(f"{target.name}.wal").unlink(missing_ok=True)
            os.replace(temporary, target)
            _fsync(target.parent)
        except (duckdb.Error, OSError) as error:
            raise PublishError(f"publishing to {target} failed: {error}") from error
        finally:
            for leftover in (temporary, temporary.with_name(f"{temporary.name}.wal")):
                leftover.unlink(missing_ok=True)
    return PublishResult(
        build_id=build_id,
        path=target,
        row_counts=counts,
        seconds=time.perf_counter() - started,
    )


def verify_serving(path: Path) -> str:
    """Read a serving file the way BI should, check every table against its manifest, and
    return its build id.

    A fresh in-memory database attaches the file read-only: DuckDB's Python client caches
    one database per path while any connection to it is open, so ``duckdb.connect(path)``
    in a long-running process can keep returning a file a publish has since replaced,
    while an attach opens the file at the path now.

    Raises
    ------
    ServingMismatchError
        When the manifest holds more than one build id or a table's rows differ from it.
    """
    escaped = str(path).replace("'", "''")
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach '{escaped}' as serving (read_only)")
        manifest = con.execute(
            f"select build_id, table_name, row_count, checksum from serving.{MANIFEST_TABLE}"
        ).fetchall()
        build_ids = {row[0] for row in manifest}
        if len(build_ids) != 1:
            raise ServingMismatchError(f"{path} mixes build ids {sorted(build_ids)}")
        for _, name, rows, checksum in manifest:
            found = table_checksum(con, f'serving.main."{name}"')
            if found != (rows, checksum):
                raise ServingMismatchError(
                    f"{path}: {name} has {found[0]} rows (checksum {found[1]}), its manifest "
                    f"says {rows} ({checksum})"
                )
    return build_ids.pop()


def _cmd_publish(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.verify:
        try:
            build_id = verify_serving(settings.serving_file)
        except (duckdb.Error, ServingMismatchError) as error:
            print(f"error: {error}")
            return 1
        print(f"{settings.serving_file}: build {build_id}, every table matches its manifest")
        return 0
    try:
        result = publish(settings)
    except (PublishError, DbtError) as error:
        print(f"error: {error}")
        return 1
    print(f"published build {result.build_id} to {result.path} in {result.seconds:.1f}s")
    for name, rows in result.row_counts.items():
        print(f"  {name:<40} {rows:>10,} rows")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``publish`` sub-command."""
    parser = subparsers.add_parser(
        "publish",
        help="copy the BI-facing marts into the serving file (atomic swap)",
        description=(
            "Copy the models tagged 'serving' from the working warehouse into the serving "
            "file (LEAD_SCORING_SERVING_PATH, default warehouse/serving.duckdb), stamped "
            "with a build id. Run it only after a passing dbt build; `leadscore run` does."
        ),
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="check the serving file against its manifest instead of publishing",
    )
    parser.set_defaults(func=_cmd_publish)
