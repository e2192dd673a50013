"""How fast scoring is: the dbt Python model's path against sklearn on pandas and a lower bound.

Run against a built warehouse with a promoted model::

    LEAD_SCORING_DUCKDB_PATH=... LEAD_SCORING_REGISTRY=... python -m leadscore.scoring_benchmark

It measures, on the same rows (``marts.fct_lead_scoring_set`` by default), best of
``repeats`` runs (the lower bound and the scoring path take turns, see
:func:`best_of_interleaved`):

- ``lower_bound``: read the packed ``FLOAT[n]`` matrix from DuckDB through Arrow
  (:func:`leadscore.features.read_packed`) and call onnxruntime once per batch; nothing else;
- ``scoring_path``: what ``int_lead_scores_computed`` does for those rows without reasons:
  the input checks (:func:`leadscore.score.inspect_inputs`) and
  :func:`leadscore.score.score_relation` in batches;
- ``scoring_path_with_reasons``: the same with reasons (one re-score per feature group);
- ``sklearn_pandas``: the conventional route: ``.df()`` of the raw columns into pandas and
  ``predict_proba`` of an sklearn pipeline (one-hot ``ColumnTransformer`` + the card's model
  type and parameters, fitted beforehand on a sample of the training table; fitting is not
  timed).

Not a unit test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import duckdb
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from leadscore import export, score
from leadscore.config import Settings
from leadscore.features import read_packed

TRAINING_TABLE = "marts.fct_lead_training_set"
SCORING_TABLE = "marts.fct_lead_scoring_set"


def best_of_interleaved(repeats: int, runs: Mapping[str, Callable[[], Any]]) -> dict[str, float]:
    """The best time of each route over ``repeats`` rounds. Every round runs each route once,
    in the opposite order to the round before, so that a slow spell of a shared machine falls
    on the routes of a ratio alike instead of on all the runs of one of them."""
    names = list(runs)
    timings: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(repeats):
        for name in names if round_number % 2 == 0 else names[::-1]:
            started = time.perf_counter()
            runs[name]()
            timings[name].append(time.perf_counter() - started)
    return {name: min(values) for name, values in timings.items()}


def sklearn_pipeline(model: score.ScoringModel) -> Pipeline:
    """The card's model type and parameters behind a one-hot ColumnTransformer on raw columns."""
    spec = model.spec
    params = dict(model.card.get("model_params") or {})
    encode = ColumnTransformer(
        [
            ("numeric", "passthrough", list(spec.numeric)),
            (
                "categorical",
                OneHotEncoder(
                    categories=[list(values) for values in spec.categories.values()],
                    handle_unknown="ignore",
                    sparse_output=False,
                ),
                list(spec.categorical),
            ),
        ]
    )
    steps: list[tuple[str, Any]] = [
        ("encode", encode),
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
    ]
    if model.card.get("model_type") == "logistic_regression":
        known = LogisticRegression().get_params()
        steps += [("scale", StandardScaler())]
        steps += [("model", LogisticRegression(**{k: v for k, v in params.items() if k in known}))]
    else:
        known = HistGradientBoostingClassifier().get_params()
        kept = {k: v for k, v in params.items() if k in known}
        steps += [("model", HistGradientBoostingClassifier(**kept))]
    return Pipeline(steps)


def _frame_for_sklearn(
    con: duckdb.DuckDBPyConnection, relation: str, spec_numeric: list[str], columns: list[str]
) -> Any:
    """Raw columns as pandas, the way a pandas scoring job reads them: numbers as float64
    (NULL -> NaN), text with NULL as a placeholder category."""
    listed = ", ".join(f'"{name}"' for name in columns)
    frame = con.sql(f"select {listed} from {relation}").df()
    numeric = [name for name in columns if name in spec_numeric]
    frame[numeric] = frame[numeric].astype("float64")
    text = [name for name in columns if name not in spec_numeric and name != "converted"]
    frame[text] = frame[text].fillna("(null)")
    return frame


def benchmark(
    con: duckdb.DuckDBPyConnection,
    model: score.ScoringModel,
    relation: str = SCORING_TABLE,
    training: str = TRAINING_TABLE,
    repeats: int = 3,
    fit_rows: int = 50_000,
    batch_rows: int = score.BATCH_ROWS,
    with_reasons: bool = True,
) -> dict[str, Any]:
    """Rows per second of each route (see the module docstring)."""
    rows = con.sql(f"select count(*) from {relation}").fetchall()[0][0]

    def lower_bound() -> None:
        _, matrix = read_packed(con, model.spec, relation, keep=())
        for start in range(0, len(matrix), batch_rows):
            model.session.run(
                [export.PROBABILITIES], {export.INPUT_NAME: matrix[start : start + batch_rows]}
            )

    def scoring_path(reasons: bool) -> None:
        report = score.inspect_inputs(con, relation, model.spec, model.version, relation)
        score.check_inputs(report, model)
        score.score_relation(
            con, model, relation, with_reasons=reasons, batch_rows=batch_rows, rows_hint=rows
        )

    raw_columns = list(model.spec.raw_names)
    sample = f"select * from {training} using sample {fit_rows} rows (reservoir, 7)"
    numeric = list(model.spec.numeric)
    fit_frame = _frame_for_sklearn(con, f"({sample})", numeric, [*raw_columns, "converted"])
    pipeline = sklearn_pipeline(model).fit(fit_frame[raw_columns], fit_frame["converted"])

    def sklearn_pandas() -> None:
        frame = _frame_for_sklearn(con, relation, numeric, raw_columns)
        pipeline.predict_proba(frame)

    seconds = best_of_interleaved(
        repeats, {"lower_bound": lower_bound, "scoring_path": lambda: scoring_path(False)}
    )
    seconds.update(best_of_interleaved(repeats, {"sklearn_pandas": sklearn_pandas}))
    if with_reasons:
        seconds.update(
            best_of_interleaved(1, {"scoring_path_with_reasons": lambda: scoring_path(True)})
        )
    groups = len(model.reason_groups(rows))
    return {
        "rows": rows,
        "packed_features": model.spec.n_features,
        "model_type": model.card.get("model_type"),
        "reason_groups": groups,
        "threads": score.SCORING_THREADS,
        "batch_rows": batch_rows,
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "rows_per_second": {
            name: round(rows / value) if value > 0 else None for name, value in seconds.items()
        },
        "sklearn_over_scoring_path": round(seconds["sklearn_pandas"] / seconds["scoring_path"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relation", default=SCORING_TABLE)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-reasons", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        model = score.load_current_model(settings.registry_dir)
        result = benchmark(
            con, model, args.relation, repeats=args.repeats, with_reasons=not args.no_reasons
        )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
