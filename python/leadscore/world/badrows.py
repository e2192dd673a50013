"""Inject known bad rows into the clean raw tables, one defect per row.

Bad rows are EXTRA rows: copies of real rows given a new key (so the clean data and the
ground truth are untouched), each with exactly one defect; duplicates are exact copies
(same key). They are spread through the file at random positions, except the CSV-only
``ragged_line`` and ``unterminated_quote`` lines, which are appended after the writer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from leadscore.world import params as P
from leadscore.world.sampling import seconds_in_day
from leadscore.world.table import Table

KINDS = (
    "missing_key",
    "duplicate_key",
    "bad_timestamp",
    "bad_number",
    "future_timestamp",
    "unknown_category",
    "ragged_line",
    "unterminated_quote",
)
CSV_ONLY = ("ragged_line", "unterminated_quote")
FUTURE_DAY = (dt.date(P.FUTURE_YEAR, 1, 1) - P.START_DATE).days


@dataclass(frozen=True)
class Defects:
    """Where the defects of one table go (output column names and source columns)."""

    ts_column: str
    ts_source: str
    number_columns: tuple[str, ...] = ()
    category_column: str | None = None
    unknown_value: str | None = None


DEFECTS = {
    "accounts": Defects(
        "created_at", "created", ("employee_count", "annual_revenue"), "industry",
        "Aerospace & Defense",
    ),
    "leads": Defects("created_at", "created", (), "lead_source", "Podcast"),
    "activities": Defects("occurred_at", "occurred", (), "activity_type", "chat_message"),
    "touchpoints": Defects("touched_at", "touched", (), "channel", "tiktok / paid_social"),
    "opportunities": Defects("created_at", "created", ("amount",)),
    "account_signals": Defects(
        "observed_at", "observed", ("signal_value",), "signal_type", "news_mention"
    ),
}  # fmt: skip


def kinds_for(table: str, fmt: str) -> tuple[str, ...]:
    """The bad-row kinds that apply to ``table`` in format ``fmt``."""
    defects = DEFECTS[table]
    out = []
    for kind in KINDS:
        if kind == "bad_number" and not defects.number_columns:
            continue
        if kind == "unknown_category" and defects.category_column is None:
            continue
        if kind in CSV_ONLY and fmt != "csv":
            continue
        if kind == "unterminated_quote" and table != "activities":
            continue
        out.append(kind)
    return tuple(out)


def planned_counts(n_clean: int, table: str, fmt: str) -> dict[str, int]:
    """How many bad rows of each kind ``table`` gets (none when it has no clean rows)."""
    if n_clean == 0:
        return {}
    per_kind = max(P.BAD_ROW_MIN, round(P.BAD_ROW_RATE * n_clean))
    return {k: 1 if k == "unterminated_quote" else per_kind for k in kinds_for(table, fmt)}


def new_key_count(n_clean: int, table: str, fmt: str) -> int:
    """Number of new keys the bad rows of ``table`` use (all kinds but duplicates)."""
    return sum(c for k, c in planned_counts(n_clean, table, fmt).items() if k != "duplicate_key")


def bad_vocabulary(table: str) -> list[str | None]:
    """Replacement values: empty key, bad timestamps, bad numbers, the unknown label."""
    return [None, *P.BAD_TIMESTAMPS, *P.BAD_NUMBERS, DEFECTS[table].unknown_value]


@dataclass
class Injected:
    """A table's rows in file order, with override columns, plus the appended lines."""

    cols: dict[str, np.ndarray]
    ragged: dict[str, np.ndarray]
    counts: dict[str, int]


def inject(rng: np.random.Generator, table: Table, fmt: str) -> Injected:
    """Add the planned bad rows to ``table``.

    Returns the source columns in file order with ``bad_col`` (output column to replace,
    -1 for none) and ``bad_val`` (index into ``bad_vocabulary``), and the ragged-line rows
    to append after the writer.
    """
    defects = DEFECTS[table.name]
    counts = planned_counts(table.n, table.name, fmt)
    next_id = table.n + 1
    parts: list[dict[str, np.ndarray]] = []
    ragged: dict[str, np.ndarray] = {}
    for kind, count in counts.items():
        if kind == "unterminated_quote":
            continue
        src = _sources(rng, table, kind, count)
        rows = table.take(src)
        rows["bad_col"] = np.full(count, -1, dtype=np.int8)
        rows["bad_val"] = np.zeros(count, dtype=np.int8)
        if kind != "duplicate_key":
            rows["id"] = np.arange(next_id, next_id + count, dtype=np.int64)
            next_id += count
        _apply(rng, table, defects, kind, rows)
        if kind == "ragged_line":
            ragged = rows
        else:
            parts.append(rows)
    clean = dict(table.cols)
    clean["bad_col"] = np.full(table.n, -1, dtype=np.int8)
    clean["bad_val"] = np.zeros(table.n, dtype=np.int8)
    return Injected(_interleave(rng, clean, parts), ragged, counts)


def _sources(rng: np.random.Generator, table: Table, kind: str, count: int) -> np.ndarray:
    """Rows to copy: any row, except where a copy would carry a second defect."""
    pool = np.arange(table.n)
    if kind == "unknown_category" and table.name == "activities":
        pool = np.flatnonzero(table.cols["page"] < 0)  # a chat_message has no page
    if kind == "future_timestamp" and table.name == "opportunities":
        still_open = np.flatnonzero(table.cols["closed"] == np.iinfo(np.int64).min)
        pool = still_open if still_open.size else pool
    return pool[rng.integers(0, pool.size, count)]


def _apply(rng: np.random.Generator, table: Table, defects: Defects, kind: str, rows: dict) -> None:
    """Give each copied row its one defect."""
    count = rows["id"].size
    j = np.arange(count)
    if kind == "missing_key":
        rows["bad_col"][:] = 0
    elif kind == "bad_timestamp":
        rows["bad_col"][:] = table.column_index(defects.ts_column)
        rows["bad_val"][:] = 1 + j % len(P.BAD_TIMESTAMPS)
    elif kind == "bad_number":
        targets = np.asarray([table.column_index(c) for c in defects.number_columns])
        rows["bad_col"][:] = targets[j % targets.size]
        rows["bad_val"][:] = 1 + len(P.BAD_TIMESTAMPS) + j % len(P.BAD_NUMBERS)
    elif kind == "unknown_category":
        rows["bad_col"][:] = table.column_index(defects.category_column)
        rows["bad_val"][:] = 1 + len(P.BAD_TIMESTAMPS) + len(P.BAD_NUMBERS)
    elif kind == "future_timestamp":
        day = FUTURE_DAY + rng.integers(0, 365, count)
        future = day * P.SECONDS_PER_DAY + seconds_in_day(rng, count)
        if "closed" in rows:  # keep a closed opportunity closed after it was created
            closed = rows["closed"] != np.iinfo(np.int64).min
            rows["closed"] = np.where(
                closed, future + (rows["closed"] - rows["created"]), rows["closed"]
            )
        rows[defects.ts_source] = future


def _interleave(
    rng: np.random.Generator, clean: dict[str, np.ndarray], parts: list[dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Insert the bad rows at random positions among the clean rows."""
    n_clean = clean["id"].size
    if not parts:
        return clean
    bad = {name: np.concatenate([p[name] for p in parts]) for name in clean}
    n_bad = bad["id"].size
    positions = np.sort(rng.integers(0, n_clean + 1, n_bad))
    order = np.insert(np.arange(n_clean), positions, n_clean + rng.permutation(n_bad))
    return {name: np.concatenate([clean[name], bad[name]])[order] for name in clean}
