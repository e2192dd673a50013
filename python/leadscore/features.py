"""Feature columns of the dbt feature tables, and the SQL that packs them into one tensor.

The training table (``marts.fct_lead_training_set``) and the scoring table
(``marts.fct_lead_scoring_set``) hold one row per lead and as-of date. Every column that is
not in :data:`NON_FEATURE_COLUMNS` is a feature: numeric columns (integers, decimals,
floats, booleans) and categorical columns (``varchar``). Adding a column in SQL is all it
takes to add a feature; nothing in Python names a feature.

The model never sees those columns one by one. :func:`packing_sql` turns them into ONE
``FLOAT[n]`` array column in DuckDB: numerics cast to ``float`` with NULL as NaN, and each
categorical one-hot encoded against the categories learned on the training window (a value
not in the list, or NULL, encodes as all zeros). :func:`read_packed` reads that column through
Arrow into a float32 matrix. Training, scoring and the tests all pack with this one function,
driven by a :class:`FeatureSpec` that the model card stores.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

KEY_COLUMNS: tuple[str, ...] = ("lead_id", "account_id", "as_of_date")
LABEL_COLUMN = "converted"
WEIGHT_COLUMN = "sample_weight"
# The one place that says which columns are not features. Everything else is.
NON_FEATURE_COLUMNS: frozenset[str] = frozenset((*KEY_COLUMNS, LABEL_COLUMN, WEIGHT_COLUMN))
# The name of the packed array column and of the ONNX model's single input.
PACKED_COLUMN = "features"

_NUMERIC_TYPE = re.compile(
    r"^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT"
    r"|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$"
)
_CATEGORICAL_TYPE = re.compile(r"^VARCHAR$")
# The numeric types that can hold NaN and infinity.
FLOATING_TYPES: tuple[str, ...] = ("FLOAT", "DOUBLE")


class FeatureTypeError(ValueError):
    """A feature column has a type the packing cannot encode, or changed type since training."""


def quote_identifier(name: str) -> str:
    """Quote a column name for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for DuckDB SQL."""
    return "'" + value.replace("'", "''") + "'"


def feature_kind(duckdb_type: str) -> str:
    """``numeric`` or ``categorical`` for a DuckDB column type.

    Raises
    ------
    FeatureTypeError
        For any other type (dates, timestamps, lists, ...): derive a number or a label from
        it in SQL instead.
    """
    if _NUMERIC_TYPE.match(duckdb_type):
        return "numeric"
    if _CATEGORICAL_TYPE.match(duckdb_type):
        return "categorical"
    raise FeatureTypeError(
        f"feature columns must be numeric or varchar, got {duckdb_type}; derive a number "
        "(e.g. days since) or a label from it in SQL"
    )


def relation_columns(con: duckdb.DuckDBPyConnection, relation_sql: str) -> list[tuple[str, str]]:
    """The (name, DuckDB type) of every column of a table name or a ``select``."""
    rel = con.sql(f"select * from {_as_from_item(relation_sql)} limit 0")
    return [(name, str(dtype)) for name, dtype in zip(rel.columns, rel.types, strict=True)]


def discover_features(columns: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Split a table's columns into (numeric, categorical) feature names, in table order.

    Raises
    ------
    FeatureTypeError
        When a feature column has an unsupported type, or there is no feature at all.
    """
    numeric: list[str] = []
    categorical: list[str] = []
    for name, dtype in columns:
        if name in NON_FEATURE_COLUMNS:
            continue
        try:
            kind = feature_kind(dtype)
        except FeatureTypeError as error:
            raise FeatureTypeError(f"column {name!r}: {error}") from None
        (numeric if kind == "numeric" else categorical).append(name)
    if not numeric and not categorical:
        raise FeatureTypeError("the table has no feature columns")
    return numeric, categorical


@dataclass(frozen=True)
class FeatureSpec:
    """The feature layout a model was trained on: which columns, in which order, encoded how.

    Parameters
    ----------
    numeric:
        Numeric feature names, in packed order.
    categories:
        Categorical feature name -> the categories that get a one-hot slot, in packed order.
    types:
        The DuckDB type of every raw feature column on the training table.
    """

    numeric: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]
    types: Mapping[str, str] = field(default_factory=dict)

    @property
    def categorical(self) -> tuple[str, ...]:
        """Categorical feature names, in packed order."""
        return tuple(self.categories)

    @property
    def raw_names(self) -> tuple[str, ...]:
        """Every SQL feature column the spec reads."""
        return (*self.numeric, *self.categorical)

    @property
    def packed_names(self) -> tuple[str, ...]:
        """One name per packed slot: numerics by name, then ``column=category`` slots."""
        return (
            *self.numeric,
            *(f"{name}={value}" for name, values in self.categories.items() for value in values),
        )

    @property
    def n_features(self) -> int:
        """Width of the packed ``FLOAT[n]`` array, i.e. the ONNX input's second dimension."""
        return len(self.numeric) + sum(len(values) for values in self.categories.values())

    def groups(self) -> Iterator[tuple[str, slice]]:
        """(SQL feature name, slice of packed columns) pairs; a categorical with no kept
        category has an empty slice."""
        for position, name in enumerate(self.numeric):
            yield name, slice(position, position + 1)
        start = len(self.numeric)
        for name, values in self.categories.items():
            yield name, slice(start, start + len(values))
            start += len(values)

    def check_columns(self, columns: Sequence[tuple[str, str]]) -> None:
        """Check that a table still has every spec column with a compatible type.

        Raises
        ------
        FeatureTypeError
            Naming every missing column or changed kind.
        """
        available = dict(columns)
        problems = []
        for name in self.raw_names:
            if name not in available:
                problems.append(f"{name!r} is missing")
                continue
            expected = "numeric" if name in self.numeric else "categorical"
            try:
                kind = feature_kind(available[name])
            except FeatureTypeError:
                kind = available[name]
            if kind != expected:
                problems.append(f"{name!r} was {expected} at training, is {available[name]}")
        if problems:
            raise FeatureTypeError("feature columns do not match the model: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (stored in the model card)."""
        # Categoricals are a list, not an object: JSON writers may sort object keys, and the
        # packed order must survive a round trip.
        return {
            "numeric": list(self.numeric),
            "categorical": [
                {"name": name, "categories": list(values)}
                for name, values in self.categories.items()
            ],
            "types": dict(self.types),
            "packed": list(self.packed_names),
            "n_packed": self.n_features,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """Rebuild a spec from :meth:`to_dict` output (e.g. a model card's ``features``)."""
        spec = cls(
            numeric=tuple(data["numeric"]),
            categories={entry["name"]: tuple(entry["categories"]) for entry in data["categorical"]},
            types=dict(data.get("types", {})),
        )
        if "packed" in data and list(spec.packed_names) != list(data["packed"]):
            raise ValueError("the card's packed names do not match its numeric/categorical lists")
        return spec


def _as_from_item(relation_sql: str) -> str:
    """A table name as is; a query wrapped in parentheses."""
    text = relation_sql.strip()
    if re.match(r"^(select|with|from|values|\()", text, flags=re.IGNORECASE):
        return f"({text}) as packed_source"
    return text


def category_counts_sql(
    relation_sql: str,
    categorical: Sequence[str],
    where: str | None = None,
    weight_sql: str = "1.0",
) -> str:
    """SQL giving (feature_name, feature_value, row_count, weight) for each categorical value,
    NULL included, over the rows matching ``where``; weight is ``sum(<weight_sql>)``."""
    condition = f"where {where}" if where else ""
    parts = [
        f"select {quote_literal(name)} as feature_name, "
        f"cast({quote_identifier(name)} as varchar) as feature_value, "
        "count(*) as row_count, sum(row_weight) as weight "
        "from source group by all"
        for name in categorical
    ]
    return (
        f"with source as (select *, {weight_sql} as row_weight from {_as_from_item(relation_sql)} "
        f"{condition})\n" + "\nunion all\n".join(parts)
    )


def category_counts(
    con: duckdb.DuckDBPyConnection,
    relation_sql: str,
    categorical: Sequence[str],
    where: str | None = None,
) -> dict[str, dict[str | None, tuple[int, float]]]:
    """Rows and weight per value (``None`` for NULL) of each categorical column."""
    if not categorical:
        return {}
    columns = {name for name, _ in relation_columns(con, relation_sql)}
    weight = f"cast({WEIGHT_COLUMN} as double)" if WEIGHT_COLUMN in columns else "1.0"
    sql = category_counts_sql(relation_sql, categorical, where, weight)
    counts: dict[str, dict[str | None, tuple[int, float]]] = {name: {} for name in categorical}
    for name, value, rows, total in con.sql(sql).fetchall():
        counts[name][value] = (int(rows), float(total))
    return counts


def learn_categories(
    counts: Mapping[str, Mapping[str | None, tuple[int, float]]], min_rows: int
) -> dict[str, tuple[str, ...]]:
    """Keep the categories with at least ``min_rows`` rows (sorted); NULL never gets a slot."""
    return {
        name: tuple(
            sorted(
                value
                for value, (rows, _) in values.items()
                if value is not None and rows >= min_rows
            )
        )
        for name, values in counts.items()
    }


def packing_sql(
    spec: FeatureSpec,
    relation_sql: str,
    keep: Sequence[str] = KEY_COLUMNS,
    order_by: Sequence[str] = (),
) -> str:
    """SQL that packs a relation's features into one ``FLOAT[n]`` column named ``features``.

    Parameters
    ----------
    spec:
        The layout: numeric columns become ``cast(x as float)`` (NULL -> NaN), each categorical
        becomes one 0/1 slot per category in ``spec.categories`` (any other value, and NULL,
        encode as all zeros, like ``OneHotEncoder(handle_unknown="ignore")``).
    relation_sql:
        A table name (``marts.fct_lead_scoring_set``) or a ``select``.
    keep:
        Columns passed through before ``features`` (keys, label, weight, ...).
    order_by:
        Columns to order the output by (for a canonical row order).

    Returns
    -------
    str
        ``select <keep>, cast([...] as float[n]) as features from <relation> [order by ...]``.
    """
    if spec.n_features == 0:
        raise FeatureTypeError("the feature spec packs no column")
    slots = [
        f"coalesce(cast({quote_identifier(name)} as float), cast('nan' as float))"
        for name in spec.numeric
    ]
    slots += [
        f"cast(coalesce({quote_identifier(name)} = {quote_literal(value)}, false) as float)"
        for name, values in spec.categories.items()
        for value in values
    ]
    select_list = [quote_identifier(name) for name in keep]
    select_list.append(
        "cast([\n        "
        + ",\n        ".join(slots)
        + f"\n    ] as float[{spec.n_features}]) as {PACKED_COLUMN}"
    )
    sql = "select\n    " + ",\n    ".join(select_list) + f"\nfrom {_as_from_item(relation_sql)}"
    if order_by:
        sql += "\norder by " + ", ".join(quote_identifier(name) for name in order_by)
    return sql


def packed_matrix(table: pa.Table, n_features: int) -> np.ndarray:
    """The ``features`` column of an Arrow table as a C-contiguous float32 (rows, n) matrix."""
    column = table.column(PACKED_COLUMN)
    if column.null_count:
        raise ValueError("the packed features column has NULL rows")
    if table.num_rows == 0:
        return np.empty((0, n_features), dtype=np.float32)
    flat = [chunk.flatten().to_numpy(zero_copy_only=False) for chunk in column.chunks]
    matrix = np.concatenate(flat) if len(flat) > 1 else flat[0]
    return np.ascontiguousarray(matrix.reshape(-1, n_features), dtype=np.float32)


def read_packed(
    con: duckdb.DuckDBPyConnection,
    spec: FeatureSpec,
    relation_sql: str,
    keep: Sequence[str] = KEY_COLUMNS,
    order_by: Sequence[str] = (),
) -> tuple[pa.Table, np.ndarray]:
    """Run :func:`packing_sql` and read it through Arrow.

    Returns
    -------
    (pyarrow.Table, numpy.ndarray)
        The ``keep`` columns, and the float32 feature matrix of shape (rows, n_features).
    """
    table = con.sql(packing_sql(spec, relation_sql, keep, order_by)).arrow().read_all()
    matrix = packed_matrix(table, spec.n_features)
    return table.drop_columns([PACKED_COLUMN]), matrix
