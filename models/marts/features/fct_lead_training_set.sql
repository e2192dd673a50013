-- The rows the model learns from: lead features as of past snapshot dates whose label horizon
-- has fully matured, for leads whose account had no open opportunity then. Non-converting
-- rows are sampled at lead_scoring__negative_sampling_rate (deterministically by lead and
-- date) and weighted by its inverse so totals stay unbiased.
-- Incremental by as_of_date: a matured date's rows cannot change with a new day (its features
-- see only rows before the date, its label only opportunities within its closed horizon), so
-- a run builds only the matured dates of as_of_date_is_to_build() (macros/features): the
-- newly matured ones and the latest it holds, less the lookback. The horizon, the label event
-- and the sampling rate change every row; the table's comment records them, and a run with
-- other values rebuilds every date. Dates no longer matured (an earlier scoring date) or no
-- longer in the spine are deleted.
{%- set sampling_rate = var('lead_scoring__negative_sampling_rate') %}
{%- set horizon = var('lead_scoring__label_horizon_days') %}
{%- set definition = tojson({
    'label_horizon_days': horizon,
    'label_event': var('lead_scoring__label_event'),
    'negative_sampling_rate': sampling_rate,
}) %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='fail',
    post_hook=[
        "{{ delete_dates_not_matured() }}",
        "{{ record_definition('" ~ definition ~ "') }}",
    ],
) }}
{%- set rebuild_all = held_definition() != definition %}
{%- set dates_to_build = none if rebuild_all else as_of_dates_to_build(
    ref('int_as_of_dates'),
    where=as_of_date_is_matured('dates'),
) %}
{%- if execute and is_incremental() %}
{%- if rebuild_all %}
{{ log(this.identifier ~ ": built with another label horizon, label event or sampling rate; rebuilding every date", info=True) }}
{%- else %}
{{ log(this.identifier ~ ": " ~ dates_to_build | length ~ " matured date(s) to build: " ~ dates_to_build | join(", "), info=True) }}
{%- endif %}
{%- endif %}

with matured_rows as (
    select * from {{ ref('int_lead_matured_rows_labeled') }}
    {%- if dates_to_build is not none %}
    -- The dates as literals: the scan of fct_lead_features reads only their rows.
    where as_of_date in (
        {%- for date in dates_to_build %}date '{{ date }}'{{ ", " if not loop.last }}{% endfor -%}
        {%- if not dates_to_build %}null{% endif -%}
    )
    {%- endif %}
),

training_rows as (
    select
        *,
        case when converted = 1 then 1.0 else 1.0 / {{ sampling_rate }} end as sample_weight
    from matured_rows
    -- Kept when converting, or when its hash falls under the sampling rate (1 keeps all).
    where
        converted = 1
        or {{ md5_mod_million("lead_id || '|' || cast(as_of_date as varchar)") }}
        < {{ sampling_rate }} * 1000000
)

select * from training_rows
