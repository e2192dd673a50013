"""Feature discovery and the SQL packing shared by training and scoring."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest

from leadscore.features import (
    NON_FEATURE_COLUMNS,
    FeatureSpec,
    FeatureTypeError,
    category_counts,
    discover_features,
    learn_categories,
    packing_sql,
    read_packed,
    relation_columns,
)

NAN = np.nan


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """
        create table leads as
        select * from (values
            ('L1', 'A1', date '2024-01-01', 1, 1.0, 3, 0.5, true, 12.25::decimal(9, 2),
             'software', 'NA'),
            ('L2', null, date '2024-01-01', 0, 2.0, null, 1.5, false, null,
             'retail', null),
            ('L3', 'A2', date '2024-01-08', 0, 2.0, 7, null, null, 1.00::decimal(9, 2),
             null, 'EMEA'),
            ('L4', 'A3', date '2024-01-08', 1, 1.0, 0, -2.0, true, 0.50::decimal(9, 2),
             'space_mining', 'it''s complicated')
        ) as t (lead_id, account_id, as_of_date, converted, sample_weight, visits, score,
                is_free_mail, revenue, industry, region)
        """
    )
    return con


def test_discovery_takes_every_non_key_column(con: duckdb.DuckDBPyConnection) -> None:
    numeric, categorical = discover_features(relation_columns(con, "leads"))
    assert numeric == ["visits", "score", "is_free_mail", "revenue"]
    assert categorical == ["industry", "region"]
    assert not NON_FEATURE_COLUMNS & {*numeric, *categorical}


def test_unsupported_feature_type_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create table dated as select *, as_of_date - 3 as last_seen_date from leads")
    with pytest.raises(FeatureTypeError, match="last_seen_date"):
        discover_features(relation_columns(con, "dated"))


def test_packing_encodes_nulls_unknowns_and_spec_order(con: duckdb.DuckDBPyConnection) -> None:
    # The spec order differs from the table's on purpose: the packing follows the spec.
    spec = FeatureSpec(
        numeric=("score", "visits", "is_free_mail", "revenue"),
        categories={"region": ("EMEA", "NA", "it's complicated"), "industry": ("software",)},
    )
    keys, matrix = read_packed(con, spec, "leads", order_by=("lead_id",))
    assert keys.column("lead_id").to_pylist() == ["L1", "L2", "L3", "L4"]
    assert matrix.dtype == np.float32 and matrix.flags.c_contiguous
    expected = np.array(
        [
            # score visits free revenue | EMEA NA complicated | software
            [0.5, 3, 1, 12.25, 0, 1, 0, 1],
            [1.5, NAN, 0, NAN, 0, 0, 0, 0],  # NULL region -> zeros; unknown 'retail' -> zero
            [NAN, 7, NAN, 1.0, 1, 0, 0, 0],  # NULL industry -> zero
            [-2.0, 0, 1, 0.5, 0, 0, 1, 0],  # 'space_mining' is not in the spec -> zero
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(matrix, expected)
    assert spec.packed_names == (
        "score",
        "visits",
        "is_free_mail",
        "revenue",
        "region=EMEA",
        "region=NA",
        "region=it's complicated",
        "industry=software",
    )


def test_packing_reads_a_query_and_keeps_columns(con: duckdb.DuckDBPyConnection) -> None:
    spec = FeatureSpec(numeric=("visits",), categories={"industry": ("retail", "software")})
    sql = packing_sql(
        spec, "select * from leads where converted = 0", keep=("lead_id", "converted")
    )
    assert "float[3]" in sql
    keys, matrix = read_packed(con, spec, "select * from leads where converted = 0",
                               keep=("lead_id", "converted"), order_by=("lead_id",))  # fmt: skip
    assert keys.column_names == ["lead_id", "converted"]
    np.testing.assert_array_equal(matrix, np.array([[NAN, 1, 0], [7, 0, 0]], dtype=np.float32))


def test_categories_are_learned_on_the_window_with_a_minimum(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "create table many as select 'L' || i as lead_id, date '2024-01-01' as as_of_date, "
        "case when i < 30 then 'common' when i < 35 then 'rare' else null end as industry, "
        "2.0 as sample_weight from range(40) as r (i)"
    )
    counts = category_counts(con, "many", ["industry"], where="lead_id <> 'L0'")
    assert counts["industry"]["common"] == (29, 58.0)
    assert counts["industry"][None] == (5, 10.0)
    assert learn_categories(counts, min_rows=20) == {"industry": ("common",)}
    assert learn_categories(counts, min_rows=5) == {"industry": ("common", "rare")}


def test_spec_round_trips_and_checks_columns(con: duckdb.DuckDBPyConnection) -> None:
    spec = FeatureSpec(
        numeric=("visits", "score"),
        categories={"region": (), "industry": ("retail", "software")},
        types={"visits": "INTEGER"},
    )
    # Through JSON with sorted keys, as the registry writes cards: the order must survive.
    restored = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict(), sort_keys=True)))
    assert restored == spec and restored.packed_names == spec.packed_names
    assert list(restored.categories) == ["region", "industry"]
    assert [(name, cols.start, cols.stop) for name, cols in spec.groups()] == [
        ("visits", 0, 1),
        ("score", 1, 2),
        ("region", 2, 2),
        ("industry", 2, 4),
    ]
    spec.check_columns(relation_columns(con, "leads"))
    con.execute("create table changed as select * exclude (score) replace (cast(visits as "
                "varchar) as visits) from leads")  # fmt: skip
    with pytest.raises(
        FeatureTypeError, match=r"'visits' was numeric at training, is VARCHAR; 'score' is missing"
    ):
        spec.check_columns(relation_columns(con, "changed"))
