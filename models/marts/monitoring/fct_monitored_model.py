"""The model being monitored: one row from the current model card, or why there is none.

Thin by design: leadscore.monitor.monitored_model_table reads the promoted version's
card.json (the registry is the `registry_dir` config: env LEAD_SCORING_REGISTRY, else
the var lead_scoring__registry_dir). pytest covers it (dbt unit tests do not run on Python
models).
"""

from leadscore.monitor import monitored_model_table


def model(dbt, session):
    dbt.config(materialized="table")
    return monitored_model_table(dbt.config.get("registry_dir"))
