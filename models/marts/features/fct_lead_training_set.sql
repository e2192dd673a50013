-- The rows the model learns from: lead features as of past snapshot dates whose label horizon
-- has fully matured, for leads whose account had no open opportunity then. Non-converting
-- rows are sampled at lead_scoring__negative_sampling_rate (deterministically by lead and
-- date) and weighted by its inverse so totals stay unbiased.
{%- set sampling_rate = var('lead_scoring__negative_sampling_rate') %}

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

training_rows as (
    select
        features.* exclude (is_scoring_date),
        labels.converted,
        case when labels.converted = 1 then 1.0 else 1.0 / {{ sampling_rate }} end as sample_weight
    from features
    inner join labels
        on features.lead_id = labels.lead_id
            and features.as_of_date = labels.as_of_date
    where
        labels.is_matured
        and not labels.has_open_opportunity
        -- Kept when converting, or when its hash falls under the sampling rate (1 keeps all).
        and (
            labels.converted = 1
            or md5_number(features.lead_id || '|' || cast(features.as_of_date as varchar)) % 1000000
            < {{ sampling_rate }} * 1000000
        )
)

select * from training_rows
