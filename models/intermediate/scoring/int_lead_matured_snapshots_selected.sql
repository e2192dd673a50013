-- The history the scores are checked against: every open lead (its account had no open
-- opportunity) on the latest matured snapshots, the as-of dates within one label horizon of
-- the last date whose outcome is fully known, with its features and label. Unsampled (unlike
-- fct_lead_training_set with lead_scoring__negative_sampling_rate < 1), so rates and counts
-- are the population's. These are also the test window of `leadscore train`: the model did
-- not learn from them.
-- The dates are chosen from the labels alone (a few dozen dates) and joined to the matured
-- rows, so DuckDB reads only those dates' feature rows instead of every matured row twice,
-- once for the last date and once for the filter.
{{ config(materialized='table') }}
{%- set horizon = var('lead_scoring__label_horizon_days') %}

with matured_rows as (
    select * from {{ ref('int_lead_matured_rows_labeled') }}
),

-- The same rows' dates as int_lead_matured_rows_labeled: matured, open leads, history only.
matured_dates as (
    select distinct as_of_date
    from {{ ref('int_lead_labels_joined') }}
    where
        not is_scoring_date
        and is_matured
        and not has_open_opportunity
),

latest_matured as (
    select max(as_of_date) as last_matured_date from matured_dates
),

selected_dates as (
    select matured_dates.as_of_date
    from matured_dates
    cross join latest_matured
    where matured_dates.as_of_date > latest_matured.last_matured_date - {{ horizon }}
),

snapshots_selected as (
    select matured_rows.*
    from matured_rows
    inner join selected_dates
        on matured_rows.as_of_date = selected_dates.as_of_date
)

select * from snapshots_selected
