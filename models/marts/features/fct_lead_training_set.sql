-- The rows the model learns from: lead features as of past snapshot dates whose label horizon
-- has fully matured, for leads whose account had no open opportunity then. Non-converting
-- rows are sampled at lead_scoring__negative_sampling_rate (deterministically by lead and
-- date) and weighted by its inverse so totals stay unbiased.
{%- set sampling_rate = var('lead_scoring__negative_sampling_rate') %}

with matured_rows as (
    select * from {{ ref('int_lead_matured_rows_labeled') }}
),

training_rows as (
    select
        *,
        case when converted = 1 then 1.0 else 1.0 / {{ sampling_rate }} end as sample_weight
    from matured_rows
    -- Kept when converting, or when its hash falls under the sampling rate (1 keeps all).
    where
        converted = 1
        or md5_number(lead_id || '|' || cast(as_of_date as varchar)) % 1000000
        < {{ sampling_rate }} * 1000000
)

select * from training_rows
