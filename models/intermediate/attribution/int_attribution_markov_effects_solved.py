"""Markov removal effects per path scope and channel, solved exactly from transition counts.

Thin by design: the warehouse aggregates the paths to transition counts
(int_attribution_transitions_aggregated); leadscore.attribution solves the absorbing chain
(pytest covers it, since dbt unit tests do not run on Python models).
"""

from leadscore.attribution import markov_removal_effects_frame


def model(dbt, session):
    dbt.config(materialized="table")
    transitions = dbt.ref("int_attribution_transitions_aggregated").df()
    return markov_removal_effects_frame(transitions)
