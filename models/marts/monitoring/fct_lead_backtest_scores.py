"""Every historical training-set row and every row scored today, scored by the CURRENT model.

Features are point-in-time, so scoring past snapshots again with today's model replays what
it would have said then. Thin by design: leadscore.monitor.backtest_scores verifies the
promoted model (sha256), checks the tables still have every feature it was trained on, packs
rows with leadscore.features.packing_sql and scores them in Arrow batches with onnxruntime.
No rows when no model is promoted. pytest covers it (dbt unit tests do not run on Python
models).
"""

from leadscore.monitor import backtest_scores


def model(dbt, session):
    dbt.config(materialized="table")
    return backtest_scores(
        session,
        history=dbt.ref("fct_lead_training_set"),
        scoring=dbt.ref("fct_lead_scoring_set"),
        registry_dir=dbt.config.get("registry_dir"),
    )
