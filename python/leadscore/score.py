"""Scoring in the warehouse: verify the current model, score every open lead, explain each score.

The dbt Python model ``int_lead_scores_computed`` is a thin wrapper around
:func:`score_current`, which:

1. decides between the model and the rules fallback: with no model promoted in the registry,
   or fewer matured leads / converted leads in the training table than the sufficiency
   minimums, every row is returned flagged ``is_rules_fallback`` (the SQL models score them
   with the points table in ``seeds/lead_scoring_rules.csv``);
2. otherwise loads the current model and **verifies** it before scoring anything, failing with
   a message that names the column and the problem (:class:`ScoringInputError`):

   - model.onnx's sha256 against its card and ``current.json`` (a changed file is refused);
   - the ONNX signature (one float input ``features`` of the card's packed width, output
     ``probabilities``) against the card's :class:`~leadscore.features.FeatureSpec`;
   - the scoring table's columns against the spec: every feature present, with the same
     kind (numeric / categorical); exact type changes within a kind are reported;
   - the values: no NULL/NaN in a numeric column the model cannot fill (it can only fill
     them when its graph starts with an imputer), no infinite or out-of-float32-range number
     anywhere; categorical values without a one-hot slot (unseen at training) are counted,
     reported, and marked per row in ``unseen_categories``;
   - the model's label horizon against ``lead_scoring__label_horizon_days``;
3. scores ``fct_lead_scoring_set`` and the latest matured snapshots (for the tiers'
   historical conversion rates and the account model) with onnxruntime: rows are packed
   into one ``FLOAT[n]`` column in DuckDB by :func:`leadscore.features.packing_sql`, read
   through Arrow in batches of :data:`BATCH_ROWS`, scored with :data:`SCORING_THREADS`
   intra-op threads; no Python loop over rows;
4. measures each scored lead's reasons through the model (:mod:`leadscore.reasons`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import onnx
import onnxruntime as ort
import pyarrow as pa

from leadscore import export, registry
from leadscore.config import Settings
from leadscore.features import (
    FLOATING_TYPES,
    PACKED_COLUMN,
    FeatureSpec,
    FeatureTypeError,
    category_counts,
    feature_kind,
    packed_matrix,
    packing_sql,
    quote_identifier,
    relation_columns,
)
from leadscore.reasons import (
    REASONS_PER_LEAD,
    contributions,
    feature_groups,
    reason_values,
    top_reasons,
    unseen_category_labels,
)

BATCH_ROWS = 200_000
SCORING_THREADS = export.SCORING_THREADS
# Above this many rows, reasons are measured for the most important feature groups only
# (permutation importance in the card): one re-score per group is the cost of reasons.
ALL_GROUPS_MAX_ROWS = 250_000
TOP_GROUPS_AT_SCALE = 12
FLOAT32_MAX = float(np.finfo(np.float32).max)
KEY_COLUMNS: tuple[str, ...] = ("lead_id", "account_id", "as_of_date")
LABEL_COLUMN = "converted"

OUTPUT_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("account_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("is_scoring_date", pa.bool_()),
        ("converted", pa.int32()),
        ("is_rules_fallback", pa.bool_()),
        ("fallback_reason", pa.string()),
        ("model_version", pa.string()),
        ("conversion_probability", pa.float64()),
        *(
            field
            for k in range(1, REASONS_PER_LEAD + 1)
            for field in (
                (f"reason_{k}_feature", pa.string()),
                (f"reason_{k}_value", pa.string()),
                (f"reason_{k}_contribution", pa.float64()),
            )
        ),
        ("unseen_categories", pa.string()),
    ]
)


class ScoringInputError(ValueError):
    """The model or the data cannot be scored; the message says which column and why."""


Log = Callable[[str], None]


def _print(message: str) -> None:
    print(f"[leadscore.score] {message}", flush=True)


# --- The model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringModel:
    """A verified registered model, ready to score.

    Attributes
    ----------
    version, model_sha256:
        Registry version and the checked sha256 of model.onnx.
    card:
        The model card.
    spec:
        The packed input layout the model was trained on.
    session:
        The onnxruntime session.
    nan_tolerant:
        Per packed column, whether the model fills a NaN itself (an imputer first in the graph).
    baseline:
        Per packed column, the reset value used to measure reasons: the model's imputer value
        (the training median) for numerics, 0 for one-hot columns.
    """

    version: str
    model_sha256: str
    card: Mapping[str, Any]
    spec: FeatureSpec
    session: ort.InferenceSession
    nan_tolerant: np.ndarray
    baseline: np.ndarray

    @property
    def horizon_days(self) -> int | None:
        value = self.card.get("horizon_days")
        return None if value is None else int(value)

    def training_null_share(self) -> dict[str, float]:
        """Share of NULL per numeric feature in the training window (the card's baseline)."""
        features = self.card.get("baseline", {}).get("features", {})
        return {
            name: float(features[name].get("null_share", 0.0))
            for name in self.spec.numeric
            if name in features
        }

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """P(converted=1) of a packed float32 matrix (one onnxruntime call)."""
        out = self.session.run([export.PROBABILITIES], {export.INPUT_NAME: matrix})[0]
        return out[:, export.POSITIVE_COLUMN].astype(np.float64)

    def reason_groups(
        self, rows: int, top_groups: int = TOP_GROUPS_AT_SCALE
    ) -> list[tuple[str, slice]]:
        """The feature groups whose contributions are measured for ``rows`` rows.

        Every group up to :data:`ALL_GROUPS_MAX_ROWS` rows; beyond, the ``top_groups`` most
        important by the card's permutation importance (every group when the card has none).
        Each group costs one re-score of the rows not at its baseline.
        """
        groups = feature_groups(self.spec)
        importance = self.card.get("permutation_importance") or []
        if rows <= ALL_GROUPS_MAX_ROWS or not importance:
            return groups
        ranked = [row["feature"] for row in importance]
        keep = set(ranked[:top_groups])
        return [group for group in groups if group[0] in keep]


def has_current_model(registry_dir: Path) -> bool:
    """Whether a model has been promoted in the registry."""
    return registry.current(registry_dir) is not None


def _single_input(graph: onnx.GraphProto) -> onnx.ValueInfoProto:
    initializers = {init.name for init in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(value.name for value in inputs)
        raise ScoringInputError(
            f"the model takes {len(inputs)} inputs ({names}); scoring feeds exactly one, "
            f"{export.INPUT_NAME!r}, the packed FLOAT[n] of leadscore.features.packing_sql"
        )
    return inputs[0]


def check_onnx_signature(model: onnx.ModelProto, spec: FeatureSpec, version: str) -> None:
    """The ONNX graph takes one float ``features`` [None, n] input with n = the spec's width
    and gives ``probabilities`` [None, 2].

    Raises
    ------
    ScoringInputError
        Naming what differs.
    """
    graph = model.graph
    value = _single_input(graph)
    tensor = value.type.tensor_type
    if value.name != export.INPUT_NAME or tensor.elem_type != onnx.TensorProto.FLOAT:
        raise ScoringInputError(
            f"model {version} takes input {value.name!r} of type "
            f"{onnx.TensorProto.DataType.Name(tensor.elem_type)}; scoring feeds "
            f"{export.INPUT_NAME!r} as float32"
        )
    dims = [dim.dim_value if dim.HasField("dim_value") else None for dim in tensor.shape.dim]
    if len(dims) != 2 or dims[1] != spec.n_features:
        raise ScoringInputError(
            f"model {version} expects input shape {dims}, but its card's feature spec packs "
            f"{spec.n_features} values per row: model.onnx and card.json do not belong together"
        )
    outputs = {out.name: out for out in graph.output}
    if export.PROBABILITIES not in outputs:
        raise ScoringInputError(
            f"model {version} has no {export.PROBABILITIES!r} output "
            f"(outputs: {', '.join(outputs)})"
        )
    out_dims = outputs[export.PROBABILITIES].type.tensor_type.shape.dim
    if len(out_dims) == 2 and out_dims[1].HasField("dim_value") and out_dims[1].dim_value != 2:
        raise ScoringInputError(
            f"model {version}: {export.PROBABILITIES!r} has {out_dims[1].dim_value} columns, "
            "expected 2 (column 1 = P(converted=1))"
        )


def _imputer_values(model: onnx.ModelProto, n_features: int) -> np.ndarray | None:
    """The imputed value of every input column when the graph starts with an Imputer that
    replaces NaN, else None."""
    for node in model.graph.node:
        if export.INPUT_NAME not in node.input:
            continue
        if node.op_type != "Imputer":
            return None
        attributes = {attribute.name: attribute for attribute in node.attribute}
        replaced = attributes.get("replaced_value_float")
        if replaced is not None and not math.isnan(replaced.f):
            return None
        values = np.asarray(attributes["imputed_value_floats"].floats, dtype=np.float32)
        if len(values) == 1:
            values = np.full(n_features, values[0], dtype=np.float32)
        return values if len(values) == n_features else None
    return None


def _median_from_distribution(distribution: Mapping[str, Any] | None) -> float:
    """Approximate median from a card baseline (quantile edges and bin shares)."""
    if not distribution or not distribution.get("edges"):
        return 0.0
    edges = distribution["edges"]
    shares = np.asarray(distribution["shares"], dtype=np.float64)
    if shares.sum() <= 0:
        return 0.0
    cumulative = np.cumsum(shares) / shares.sum()
    index = int(np.searchsorted(cumulative, 0.5, side="left"))
    return float(edges[max(index - 1, 0)] if index < len(shares) else edges[-1])


def model_baseline(
    model: onnx.ModelProto, spec: FeatureSpec, card: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """(reset value, NaN tolerated) per packed column.

    Numerics reset to the imputer's value (the training median the model itself uses for a
    missing value); without an imputer, to the median approximated from the card's baseline
    distribution. One-hot columns reset to 0. NaN is tolerated only where an imputer fills it.
    """
    imputed = _imputer_values(model, spec.n_features)
    baseline = np.zeros(spec.n_features, dtype=np.float32)
    distributions = card.get("baseline", {}).get("features", {})
    for position, name in enumerate(spec.numeric):
        baseline[position] = (
            imputed[position]
            if imputed is not None
            else _median_from_distribution(distributions.get(name))
        )
    tolerant = np.full(spec.n_features, imputed is not None)
    return baseline, tolerant


def model_from_bytes(
    version: str,
    model_bytes: bytes,
    card: Mapping[str, Any],
    threads: int = SCORING_THREADS,
) -> ScoringModel:
    """Check an already sha256-verified model against its card and open a session."""
    try:
        spec = FeatureSpec.from_dict(card["features"])
    except (KeyError, TypeError, ValueError) as error:
        raise ScoringInputError(
            f"model {version}: its card has no usable feature spec ({error})"
        ) from None
    proto = onnx.load_from_string(model_bytes)
    check_onnx_signature(proto, spec, version)
    baseline, tolerant = model_baseline(proto, spec, card)
    return ScoringModel(
        version=version,
        model_sha256=str(card.get("model_sha256", export.sha256_hex(model_bytes))),
        card=card,
        spec=spec,
        session=export.inference_session(model_bytes, threads),
        nan_tolerant=tolerant,
        baseline=baseline,
    )


def load_current_model(registry_dir: Path, threads: int = SCORING_THREADS) -> ScoringModel:
    """The promoted model, verified (sha256, signature) and ready to score.

    Raises
    ------
    ScoringInputError
        When the model file changed after registration (sha256 mismatch), nothing is
        promoted, or the model does not match its card.
    """
    try:
        loaded = registry.load_current(registry_dir)
    except registry.RegistryError as error:
        raise ScoringInputError(
            f"model integrity check failed in the registry {registry_dir}: {error}. The "
            "model file is not the one that was registered; re-register it with "
            "`leadscore train`, or promote a verified version with `leadscore promote`"
        ) from None
    return model_from_bytes(loaded.version, loaded.model_bytes, loaded.card, threads)


# --- The data ---------------------------------------------------------------------------------


def relation_sql(relation: Any) -> str:
    """SQL for a table name, a query, or a DuckDB relation (e.g. ``dbt.ref(...)``)."""
    if isinstance(relation, duckdb.DuckDBPyRelation):
        return relation.sql_query()
    return str(relation)


@dataclass
class InputReport:
    """What the checks found in one relation."""

    relation: str
    rows: int
    null_counts: dict[str, int] = field(default_factory=dict)
    nonfinite_counts: dict[str, int] = field(default_factory=dict)
    unseen: dict[str, dict[str, int]] = field(default_factory=dict)
    type_notes: list[str] = field(default_factory=list)

    @property
    def unseen_rows(self) -> dict[str, int]:
        """Rows per categorical column whose value has no one-hot slot."""
        return {name: sum(values.values()) for name, values in self.unseen.items() if values}

    def lines(self, training_null_share: Mapping[str, float] | None = None) -> list[str]:
        """A printable summary. NULLs are listed by column only where the training window had
        none (``training_null_share``); elsewhere they are counted in one line."""
        shares = training_null_share or {}
        lines = [f"{self.relation}: {self.rows:,} rows"]
        lines += [f"  type change: {note}" for note in self.type_notes]
        new_nulls = {
            name: count for name, count in self.null_counts.items() if shares.get(name, 1.0) == 0
        }
        if self.null_counts:
            lines.append(
                f"  {len(self.null_counts)} numeric columns have NULL/NaN values; the model fills "
                "them with its training median"
            )
        lines += [
            f"  {name}: {count:,} NULL/NaN values, none in the training window"
            for name, count in sorted(new_nulls.items())
        ]
        for name, values in sorted(self.unseen.items()):
            shown = ", ".join(
                f"{value!r} ({rows:,})" for value, rows in sorted(values.items())[:10]
            )
            more = f" and {len(values) - 10} more" if len(values) > 10 else ""
            lines.append(
                f"  {name}: {sum(values.values()):,} rows with categories unseen at training, "
                f"scored as unknown: {shown}{more}"
            )
        return lines


def check_columns(
    columns: Sequence[tuple[str, str]], spec: FeatureSpec, version: str, relation_name: str
) -> list[str]:
    """Every spec column present with the kind the model was trained on.

    Returns
    -------
    list[str]
        Notes on exact type changes within a kind (e.g. INTEGER -> BIGINT), which score fine.

    Raises
    ------
    ScoringInputError
        Naming every missing column (and the columns the model does not know, in case one
        was renamed) and every column whose kind changed.
    """
    available = dict(columns)
    problems: list[str] = []
    notes: list[str] = []
    missing = []
    for name in spec.raw_names:
        expected = "categorical" if name in spec.categories else "numeric"
        trained_type = spec.types.get(name, expected)
        if name not in available:
            missing.append(name)
            problems.append(
                f"column {name!r} is missing from {relation_name}, but model {version} was "
                f"trained on it ({trained_type})"
            )
            continue
        try:
            kind: str | None = feature_kind(available[name])
        except FeatureTypeError:
            kind = None
        if kind != expected:
            problems.append(
                f"column {name!r} is {available[name]} in {relation_name}, but model {version} "
                f"was trained on it as a {expected} column ({trained_type})"
            )
        elif name in spec.types and spec.types[name] != available[name]:
            notes.append(f"{name!r} was {spec.types[name]} at training, is {available[name]}")
    if problems:
        known = {*spec.raw_names, *KEY_COLUMNS, LABEL_COLUMN, "sample_weight"}
        unknown = [name for name, _ in columns if name not in known]
        hint = (
            f" Columns the model does not know: {', '.join(unknown)} (was one renamed?)."
            if missing and unknown
            else ""
        )
        raise ScoringInputError(
            f"cannot score {relation_name} with model {version}: "
            + "; ".join(problems)
            + "."
            + hint
            + " Restore the column(s) in SQL, or retrain (`leadscore train`) so the model "
            "matches the table."
        )
    return notes


def _from_item(relation: str) -> str:
    """A table name as is; a query wrapped in parentheses."""
    text = relation.strip()
    if text.lower().startswith(("select", "with", "from", "(")):
        return f"({text}) as source"
    return text


def _value_counts_sql(relation: str, spec: FeatureSpec, types: Mapping[str, str]) -> str:
    """One aggregate query over every numeric spec column: ``count(*)``, then per column its
    non-NULL rows, and for a floating column also its largest and smallest value.

    Plain aggregates, which DuckDB answers from validity masks and min/max kernels: a third of
    the time of one filtered count per column. DuckDB orders NaN above every number, so a NaN
    largest value means the column has NaN; only such columns, and those beyond the float32
    range, are counted exactly (:func:`_exact_counts_sql`).
    """
    aggregates = ["count(*)"]
    for name in spec.numeric:
        column = quote_identifier(name)
        aggregates.append(f"count({column})")
        if types[name] in FLOATING_TYPES:
            aggregates += [f"max({column})", f"min({column})"]
    select = ",\n    ".join(aggregates)
    return f"select\n    {select}\nfrom {_from_item(relation)}"


def _exact_counts_sql(relation: str, names: Sequence[str]) -> str:
    """NaN and non-finite (infinite or beyond float32) counts of some floating columns."""
    aggregates = []
    for name in names:
        column = quote_identifier(name)
        aggregates.append(f"count(*) filter (where isnan({column}))")
        # NaN is kept out of the range test, since DuckDB orders it above every number.
        aggregates.append(
            f"count(*) filter (where isinf({column}) or (not isnan({column}) "
            f"and abs(cast({column} as double)) > {FLOAT32_MAX!r}))"
        )
    select = ",\n    ".join(aggregates)
    return f"select\n    {select}\nfrom {_from_item(relation)}"


def _value_counts(
    con: duckdb.DuckDBPyConnection, relation: str, spec: FeatureSpec, types: Mapping[str, str]
) -> tuple[int, dict[str, int], dict[str, int]]:
    """(rows, NULL/NaN count per numeric column, non-finite count per floating column), with
    only the non-zero counts kept."""
    values = iter(con.sql(_value_counts_sql(relation, spec, types)).fetchall()[0])
    rows = int(next(values))
    nulls: dict[str, int] = {}
    suspect: list[str] = []
    for name in spec.numeric:
        nulls[name] = rows - int(next(values))
        if types[name] in FLOATING_TYPES:
            largest, smallest = next(values), next(values)
            if largest is not None and (
                math.isnan(largest) or abs(largest) > FLOAT32_MAX or abs(smallest) > FLOAT32_MAX
            ):
                suspect.append(name)
    nonfinite: dict[str, int] = {}
    if suspect:
        exact = iter(con.sql(_exact_counts_sql(relation, suspect)).fetchall()[0])
        for name in suspect:
            nulls[name] += int(next(exact))
            nonfinite[name] = int(next(exact))
    return (
        rows,
        {name: count for name, count in nulls.items() if count},
        {name: count for name, count in nonfinite.items() if count},
    )


def inspect_inputs(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    spec: FeatureSpec,
    version: str,
    relation_name: str,
) -> InputReport:
    """Check the columns (:func:`check_columns`) and count NULL/NaN, non-finite values and
    unseen categories, in one pass per kind of count."""
    columns = relation_columns(con, relation)
    notes = check_columns(columns, spec, version, relation_name)
    rows, nulls, nonfinite = _value_counts(con, relation, spec, dict(columns))
    report = InputReport(
        relation=relation_name,
        rows=rows,
        null_counts=nulls,
        nonfinite_counts=nonfinite,
        type_notes=notes,
    )
    for name, values in category_counts(con, relation, list(spec.categorical)).items():
        kept = set(spec.categories[name])
        unseen = {
            value: rows
            for value, (rows, _) in values.items()
            if value is not None and value not in kept
        }
        if unseen:
            report.unseen[name] = unseen
    return report


def check_inputs(report: InputReport, model: ScoringModel) -> None:
    """Refuse values the model cannot take.

    Raises
    ------
    ScoringInputError
        For a NULL/NaN in a numeric column the model cannot fill, or an infinite or
        out-of-float32-range value anywhere.
    """
    problems = []
    for name, count in sorted(report.nonfinite_counts.items()):
        problems.append(
            f"column {name!r} has {count:,} infinite or out-of-range values (beyond float32); "
            "a probability cannot be computed from them"
        )
    for name, count in sorted(report.null_counts.items()):
        position = model.spec.numeric.index(name)
        if not model.nan_tolerant[position]:
            problems.append(
                f"column {name!r} has {count:,} empty (NULL/NaN) values, and model "
                f"{model.version} cannot fill missing values (it has no imputer); fill them in "
                "SQL (e.g. coalesce) or retrain"
            )
    if problems:
        raise ScoringInputError(
            f"cannot score {report.relation} with model {model.version}: " + "; ".join(problems)
        )


def training_sufficiency(con: duckdb.DuckDBPyConnection, training: str) -> tuple[int, int]:
    """(matured leads, converted leads) in the training table, counted like ``leadscore
    train`` does: distinct leads, and distinct leads with a ``converted = 1`` row."""
    leads, conversions = con.sql(
        "select count(distinct lead_id), "
        f"count(distinct lead_id) filter (where {LABEL_COLUMN} = 1) from {_from_item(training)}"
    ).fetchall()[0]
    return int(leads), int(conversions)


# --- Scoring ------------------------------------------------------------------------------------


def iter_packed(
    con: duckdb.DuckDBPyConnection,
    spec: FeatureSpec,
    relation: str,
    keep: Sequence[str],
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """(kept columns, packed float32 matrix) per batch of at most ``batch_rows`` rows, read
    through Arrow from :func:`leadscore.features.packing_sql`."""
    reader = con.sql(packing_sql(spec, relation, keep)).to_arrow_reader(batch_rows)
    for batch in reader:
        if batch.num_rows == 0:
            continue
        table = pa.Table.from_batches([batch])
        yield table.drop_columns([PACKED_COLUMN]), packed_matrix(table, spec.n_features)


def score_relation(
    con: duckdb.DuckDBPyConnection,
    model: ScoringModel,
    relation: str,
    keep: Sequence[str] = KEY_COLUMNS,
    with_reasons: bool = True,
    batch_rows: int = BATCH_ROWS,
    rows_hint: int | None = None,
    top_groups: int = TOP_GROUPS_AT_SCALE,
) -> pa.Table:
    """Score every row of a relation: ``keep`` columns, ``conversion_probability`` and, with
    ``with_reasons``, the top three reasons and ``unseen_categories``.

    Raises
    ------
    ScoringInputError
        When the model returns a NaN probability.
    """
    groups = model.reason_groups(rows_hint or 0, top_groups) if with_reasons else []
    # The raw categories are read only to name unseen ones beside the reasons.
    categorical = (
        [name for name in model.spec.categorical if name not in keep] if with_reasons else []
    )
    parts: list[pa.Table] = []
    for columns, matrix in iter_packed(
        con, model.spec, relation, [*keep, *categorical], batch_rows
    ):
        p = model.predict(matrix)
        if np.isnan(p).any():
            raise ScoringInputError(
                f"model {model.version} returned {int(np.isnan(p).sum()):,} NaN probabilities"
            )
        out = {name: columns.column(name) for name in keep}
        out["conversion_probability"] = pa.array(p)
        if with_reasons:
            contribution = contributions(model.predict, matrix, groups, model.baseline, p)
            positions, amounts = top_reasons(contribution)
            names = np.array([name for name, _ in groups] + [None], dtype=object)
            for k in range(REASONS_PER_LEAD):
                out[f"reason_{k + 1}_feature"] = pa.array(names[positions[:, k]], pa.string())
                out[f"reason_{k + 1}_value"] = reason_values(
                    matrix, model.spec, groups, positions[:, k]
                )
                out[f"reason_{k + 1}_contribution"] = pa.array(
                    amounts[:, k], mask=np.isnan(amounts[:, k])
                )
            out["unseen_categories"] = unseen_category_labels(columns, model.spec)
        parts.append(pa.table(out))
    if not parts:
        return _empty_scores(keep, with_reasons)
    return pa.concat_tables(parts)


def _empty_scores(keep: Sequence[str], with_reasons: bool) -> pa.Table:
    names = [*keep, "conversion_probability"]
    if with_reasons:
        names += [
            f"reason_{k}_{part}"
            for k in range(1, REASONS_PER_LEAD + 1)
            for part in ("feature", "value", "contribution")
        ]
        names.append("unseen_categories")
    schema = pa.schema([OUTPUT_SCHEMA.field(name) for name in names])
    return schema.empty_table()


def _conform(table: pa.Table, constants: Mapping[str, Any]) -> pa.Table:
    """Add constant and missing columns and cast to :data:`OUTPUT_SCHEMA`."""
    columns = []
    for schema_field in OUTPUT_SCHEMA:
        if schema_field.name in table.column_names:
            column = table.column(schema_field.name).cast(schema_field.type)
        else:
            value = constants.get(schema_field.name)
            column = pa.array([value] * table.num_rows, schema_field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=OUTPUT_SCHEMA)


def rules_fallback_table(
    con: duckdb.DuckDBPyConnection, scoring: str, history: str, reason: str
) -> pa.Table:
    """Every scoring and history row, flagged for the rules fallback (no probability)."""
    tables = []
    for relation, is_scoring, keep in (
        (scoring, True, KEY_COLUMNS),
        (history, False, (*KEY_COLUMNS, LABEL_COLUMN)),
    ):
        select = ", ".join(quote_identifier(name) for name in keep)
        table = con.sql(f"select {select} from {_from_item(relation)}").arrow().read_all()
        tables.append(
            _conform(
                table,
                {
                    "is_scoring_date": is_scoring,
                    "is_rules_fallback": True,
                    "fallback_reason": reason,
                },
            )
        )
    return pa.concat_tables(tables)


@dataclass
class ScoringRun:
    """What :func:`score_current` decided and measured."""

    table: pa.Table
    model_version: str | None
    fallback_reason: str | None
    reports: list[InputReport] = field(default_factory=list)
    seconds: float = 0.0


def score_current(
    con: duckdb.DuckDBPyConnection,
    *,
    scoring: Any,
    history: Any,
    training: Any,
    registry_dir: Path | str,
    min_leads: int,
    min_conversions: int,
    horizon_days: int | None = None,
    batch_rows: int = BATCH_ROWS,
    threads: int = SCORING_THREADS,
    top_groups: int = TOP_GROUPS_AT_SCALE,
    log: Log = _print,
) -> ScoringRun:
    """Verify the current model and score the scoring set (with reasons) and the history rows.

    Parameters
    ----------
    con:
        The warehouse connection (in dbt: the Python model's ``session``).
    scoring:
        ``marts.fct_lead_scoring_set`` (table name, query or DuckDB relation).
    history:
        The latest matured snapshots with their ``converted`` label
        (``int_lead_matured_snapshots_selected``).
    training:
        ``marts.fct_lead_training_set``, for the data-sufficiency check.
    registry_dir:
        The model registry; relative paths are relative to the dbt project.
    min_leads, min_conversions:
        The sufficiency minimums (dbt vars ``lead_scoring__min_training_leads`` /
        ``..._conversions``): below either, the rules fallback scores.
    horizon_days:
        ``lead_scoring__label_horizon_days``; the model must predict the same horizon.
    batch_rows, threads:
        Rows per onnxruntime call (100k-250k is the sweet spot) and intra-op threads.
    top_groups:
        Above :data:`ALL_GROUPS_MAX_ROWS` scoring rows, reasons are measured for this many
        feature groups, the most important first (see :meth:`ScoringModel.reason_groups`).

    Returns
    -------
    ScoringRun
        ``table`` follows :data:`OUTPUT_SCHEMA`: one row per scoring row
        (``is_scoring_date``) and history row.

    Raises
    ------
    ScoringInputError
        When the model or the data fail verification (see the module docstring).
    """
    started = time.perf_counter()
    registry_path = Path(registry_dir)
    if not registry_path.is_absolute():
        registry_path = Settings.from_env().project_dir / registry_path
    scoring_sql, history_sql = relation_sql(scoring), relation_sql(history)
    leads, conversions = training_sufficiency(con, relation_sql(training))
    if not has_current_model(registry_path):
        reason = f"no model is promoted in {registry_path} (run `leadscore train`)"
        log(f"rules fallback: {reason}")
        table = rules_fallback_table(con, scoring_sql, history_sql, reason)
        return ScoringRun(table, None, reason, seconds=time.perf_counter() - started)
    model = load_current_model(registry_path, threads)
    if leads < min_leads or conversions < min_conversions:
        reason = (
            f"not enough matured data for model {model.version}: {leads:,} matured leads "
            f"(need {min_leads:,}) and {conversions:,} converted leads (need {min_conversions:,})"
        )
        log(f"rules fallback: {reason}")
        table = rules_fallback_table(con, scoring_sql, history_sql, reason)
        return ScoringRun(table, None, reason, seconds=time.perf_counter() - started)
    if horizon_days is not None and model.horizon_days not in (None, horizon_days):
        raise ScoringInputError(
            f"model {model.version} predicts conversion within {model.horizon_days} days, but "
            f"lead_scoring__label_horizon_days is {horizon_days}: retrain with "
            f"`leadscore train --horizon-days {horizon_days}` or set the var back"
        )
    reports = []
    for relation, name in (
        (scoring_sql, "fct_lead_scoring_set"),
        (history_sql, "the matured history snapshots"),
    ):
        report = inspect_inputs(con, relation, model.spec, model.version, name)
        check_inputs(report, model)
        reports.append(report)
        for line in report.lines(model.training_null_share()):
            log(line)
    verified = time.perf_counter()
    scored = score_relation(
        con,
        model,
        scoring_sql,
        KEY_COLUMNS,
        True,
        batch_rows,
        rows_hint=reports[0].rows,
        top_groups=top_groups,
    )
    scored_at = time.perf_counter()
    past = score_relation(con, model, history_sql, (*KEY_COLUMNS, LABEL_COLUMN), False, batch_rows)
    constants = {"is_rules_fallback": False, "model_version": model.version}
    table = pa.concat_tables(
        [
            _conform(scored, {**constants, "is_scoring_date": True}),
            _conform(past, {**constants, "is_scoring_date": False}),
        ]
    )
    seconds = time.perf_counter() - started
    log(
        f"model {model.version}: verified in {verified - started:.2f}s, scored "
        f"{scored.num_rows:,} leads with reasons in {scored_at - verified:.2f}s and "
        f"{past.num_rows:,} history rows in {time.perf_counter() - scored_at:.2f}s"
    )
    return ScoringRun(table, model.version, None, reports, seconds)
