"""Write tables as CSV or Parquet (every column as text) with DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq

from leadscore.world import params as P
from leadscore.world.badrows import bad_vocabulary
from leadscore.world.table import Table, sql_string, to_arrow

FORMATS = ("csv", "parquet")


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection sized for a 2-core machine."""
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute("set memory_limit = '3GB'")
    con.execute("set preserve_insertion_order = true")
    return con


def _select_sql(table: Table, with_overrides: bool) -> str:
    """The SELECT list rendering every output column as text."""
    if not with_overrides:
        return ",\n".join(f"{expr} as {name}" for name, expr in table.select)
    vocab = "[" + ", ".join(sql_string(v) for v in bad_vocabulary(table.name)) + "]"
    parts = []
    for j, (name, expr) in enumerate(table.select):
        parts.append(f"case when bad_col = {j} then {vocab}[bad_val + 1] else {expr} end as {name}")
    return ",\n".join(parts)


def copy_rows(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    cols: dict[str, np.ndarray],
    path: Path,
    fmt: str,
    header: bool = True,
) -> None:
    """Render ``cols`` (source columns of ``table``) as text and write them to ``path``."""
    con.register("source_rows", to_arrow(table, cols))
    select = _select_sql(table, "bad_col" in cols)
    if fmt == "csv":
        options = f"format csv, header {str(header).lower()}, delimiter ','"
    else:
        options = "format parquet, compression zstd"
    con.execute(f"copy (select {select} from source_rows) to '{path}' ({options})")
    con.unregister("source_rows")


def append_ragged(
    con: duckdb.DuckDBPyConnection, table: Table, rows: dict[str, np.ndarray], path: Path
) -> None:
    """Append lines with one field too few (even rows) or too many (odd rows)."""
    if not rows or rows["id"].size == 0:
        return
    tmp = path.with_suffix(".ragged.tmp")
    copy_rows(con, table, rows, tmp, "csv", header=False)
    lines = tmp.read_text(encoding="utf-8").splitlines()
    tmp.unlink()
    out = [
        line.rsplit(",", 1)[0] if i % 2 == 0 else f"{line},{P.RAGGED_EXTRA_FIELD}"
        for i, line in enumerate(lines)
    ]
    with path.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(out) + "\n")


def append_unterminated_quote(path: Path, activity_id: str, lead_id: str, ts: str) -> None:
    """Append the one activity line whose quoted field never closes."""
    line = f"{activity_id},{lead_id},content_download,{P.UNTERMINATED_QUOTE_FIELD},{ts}\n"
    with path.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write(line)


def data_lines(path: Path, fmt: str) -> int:
    """Physical data lines of a CSV (header excluded), or rows of a Parquet file."""
    if fmt == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    newlines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            newlines += chunk.count(b"\n")
    return newlines - 1
