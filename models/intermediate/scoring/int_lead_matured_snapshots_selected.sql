-- The history the scores are checked against: every open lead (its account had no open
-- opportunity) on the latest matured snapshots, the as-of dates within one label horizon of
-- the last date whose outcome is fully known, with its features and label. Unsampled (unlike
-- fct_lead_training_set with lead_scoring__negative_sampling_rate < 1), so rates and counts
-- are the population's. These are also the test window of `leadscore train`: the model did
-- not learn from them.
{{ config(materialized='table') }}
{%- set horizon = var('lead_scoring__label_horizon_days') %}

with features as (
    select * from {{ ref('fct_lead_features') }}
    where not is_scoring_date
),

labels as (
    select
        lead_id,
        as_of_date,
        converted,
        has_open_opportunity,
        is_matured
    from {{ ref('int_lead_labels_joined') }}
    where not is_scoring_date
),

matured_rows as (
    select
        features.* exclude (is_scoring_date),
        labels.converted
    from features
    inner join labels
        on features.lead_id = labels.lead_id
            and features.as_of_date = labels.as_of_date
    where
        labels.is_matured
        and not labels.has_open_opportunity
),

latest_matured as (
    select max(as_of_date) as last_matured_date from matured_rows
),

snapshots_selected as (
    select matured_rows.*
    from matured_rows
    cross join latest_matured
    where matured_rows.as_of_date > latest_matured.last_matured_date - {{ horizon }}
)

select * from snapshots_selected
