"""A raw table in numeric form, and how each of its text columns is rendered in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from leadscore.world import params as P

NULL_TS = np.iinfo(np.int64).min  # marks an empty timestamp in a seconds column
EPOCH_S = int(np.datetime64(P.START_DATE.isoformat(), "s").astype(np.int64))


@dataclass
class Table:
    """Source columns of one table plus the SQL that renders each output column as text.

    ``cols`` always holds an ``id`` column (the numeric key). Columns named in ``dicts``
    hold indexes into a vocabulary (negative for empty); columns in ``ts_cols`` hold
    seconds since 2024-01-01 (``NULL_TS`` for empty). ``select`` lists the output columns
    in raw-contract order as ``(name, SQL expression over the source columns)``.
    """

    name: str
    cols: dict[str, np.ndarray]
    select: list[tuple[str, str]]
    dicts: dict[str, list[str]] = field(default_factory=dict)
    ts_cols: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.cols["id"].size)

    def take(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """Copies of the source columns at row positions ``idx``."""
        return {name: col[idx] for name, col in self.cols.items()}

    def column_index(self, name: str) -> int:
        """Position of output column ``name``."""
        return [c for c, _ in self.select].index(name)


def to_arrow(table: Table, cols: dict[str, np.ndarray]) -> pa.Table:
    """Arrow view of numeric source columns: dictionaries and timestamps typed."""
    arrays = {}
    for name, col in cols.items():
        if name in table.dicts:
            idx = pa.array(col.astype(np.int32), mask=col < 0)
            arrays[name] = pa.DictionaryArray.from_arrays(idx, pa.array(table.dicts[name]))
        elif name in table.ts_cols:
            stamps = (np.where(col == NULL_TS, 0, col) + EPOCH_S).astype("datetime64[s]")
            arrays[name] = pa.array(stamps, mask=col == NULL_TS)
        else:
            arrays[name] = pa.array(col)
    return pa.table(arrays)


def key_sql(column: str, prefix: str, width: int) -> str:
    """SQL rendering an integer key as ``<prefix><zero-padded number>`` (empty if < 0)."""
    return (
        f"case when {column} >= 0 then '{prefix}' || lpad(cast({column} as varchar), {width}, '0')"
        " end"
    )


def ts_sql(column: str) -> str:
    """SQL rendering a timestamp as ``YYYY-MM-DD HH:MM:SS``."""
    return f"strftime({column}, '%Y-%m-%d %H:%M:%S')"


def date_sql(column: str) -> str:
    """SQL rendering a day number (days since 2024-01-01) as ``YYYY-MM-DD``."""
    return f"strftime(date '{P.START_DATE.isoformat()}' + cast({column} as integer), '%Y-%m-%d')"


def sql_string(value: str | None) -> str:
    """A SQL string literal (or ``null``)."""
    if value is None:
        return "null"
    return "'" + value.replace("'", "''") + "'"
