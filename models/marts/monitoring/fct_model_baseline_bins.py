"""The current model card's drift baseline as bins: one row per feature (and score) and bin.

Thin by design: leadscore.monitor.baseline_bins_table turns the card's `baseline` into rows
(numeric decile edges, kept categories, `(other)`, `(null)`); no rows when no model is
promoted. pytest covers it (dbt unit tests do not run on Python models).
"""

from leadscore.monitor import baseline_bins_table


def model(dbt, session):
    dbt.config(materialized="table")
    return baseline_bins_table(dbt.config.get("registry_dir"))
