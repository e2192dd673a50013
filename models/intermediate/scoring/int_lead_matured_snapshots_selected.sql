-- The history the scores are checked against: every open lead (its account had no open
-- opportunity) on the latest matured snapshots, the as-of dates within one label horizon of
-- the last date whose outcome is fully known, with its features and label. Unsampled (unlike
-- fct_lead_training_set with lead_scoring__negative_sampling_rate < 1), so rates and counts
-- are the population's. These are also the test window of `leadscore train`: the model did
-- not learn from them.
{{ config(materialized='table') }}
{%- set horizon = var('lead_scoring__label_horizon_days') %}

with matured_rows as (
    select * from {{ ref('int_lead_matured_rows_labeled') }}
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
