"""Model scores and reasons for every open lead, and for the latest matured snapshots.

Thin by design: leadscore.score.score_current verifies the promoted model (sha256, ONNX
signature, the scoring table's columns, types and values) and fails the build with a message
naming the column and the problem; it scores in batches with onnxruntime from the shared
packing SQL and measures reasons through the model. With no model promoted, or too little
matured data, every row is flagged is_rules_fallback and the SQL models score it with the
points table. pytest covers the logic (dbt unit tests do not run on Python models).
"""

from leadscore.score import score_current


def model(dbt, session):
    dbt.config(materialized="table")
    run = score_current(
        session,
        scoring=dbt.ref("fct_lead_scoring_set"),
        history=dbt.ref("int_lead_matured_snapshots_selected"),
        training=dbt.ref("fct_lead_training_set"),
        registry_dir=dbt.config.get("registry_dir"),
        min_leads=int(dbt.config.get("min_training_leads")),
        min_conversions=int(dbt.config.get("min_training_conversions")),
        horizon_days=int(dbt.config.get("label_horizon_days")),
    )
    return run.table
