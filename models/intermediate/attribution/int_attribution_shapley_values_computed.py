"""Exact Shapley values per path scope and channel, from paths counted per channel set.

Thin by design: the warehouse aggregates the paths to channel-set counts
(int_attribution_channel_sets_aggregated); leadscore.attribution computes the coalition game
and its Shapley values (pytest covers it, since dbt unit tests do not run on Python models).
The characteristic function comes from lead_scoring__attribution_shapley_value through the
model's meta config (see the .yml).
"""

from leadscore.attribution import shapley_values_frame


def model(dbt, session):
    dbt.config(materialized="table")
    value = dbt.config.meta_get("shapley_value")
    channel_sets = dbt.ref("int_attribution_channel_sets_aggregated").df()
    return shapley_values_frame(channel_sets, value=value)
