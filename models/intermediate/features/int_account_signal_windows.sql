-- Account signals as of each account spine date, from running totals per account and day
-- (as-of joins): recent intent surges and hiring, funding in the last year, installs ever.
-- Incremental: builds only the as-of dates of as_of_date_is_to_build() (macros/features).
{{ config(**incremental_by_as_of_date_config()) }}
{%- set lookback = var('lead_scoring__signal_lookback_days') %}

with spine as (
    select
        account_id,
        as_of_date
    from {{ ref('int_account_as_of_dates') }}
    where {{ as_of_date_is_to_build(ref('int_account_as_of_dates')) }}
),

signals as (
    select
        account_id,
        signal_type,
        signal_value,
        observed_at
    from {{ ref('stg_crm__account_signals') }}
),

signal_days as (
    select
        account_id,
        cast(observed_at as date) as signal_date,
        count(*) filter (where signal_type = 'intent_surge') as intent_surges,
        coalesce(sum(signal_value) filter (where signal_type = 'intent_surge'), 0) as intent_score,
        count(*) filter (where signal_type = 'hiring_surge') as hiring_surges,
        count(*) filter (where signal_type = 'funding_round') as funding_rounds,
        count(*) filter (where signal_type = 'technology_install') as technology_installs
    from signals
    group by account_id, signal_date
),

cumulated as (
    select
        account_id,
        signal_date,
        sum(intent_surges) over account_days as intent_surges,
        sum(intent_score) over account_days as intent_score,
        sum(hiring_surges) over account_days as hiring_surges,
        sum(funding_rounds) over account_days as funding_rounds,
        sum(technology_installs) over account_days as technology_installs
    from signal_days
    window account_days as (
        partition by account_id order by signal_date rows between unbounded preceding and current row
    )
),

as_of_totals as (
    select
        spine.account_id,
        spine.as_of_date,
        cumulated.signal_date as last_signal_date,
        coalesce(cumulated.intent_surges, 0) as intent_surges,
        coalesce(cumulated.intent_score, 0) as intent_score,
        coalesce(cumulated.hiring_surges, 0) as hiring_surges,
        coalesce(cumulated.funding_rounds, 0) as funding_rounds,
        coalesce(cumulated.technology_installs, 0) as technology_installs
    from spine
    asof left join cumulated
        on spine.account_id = cumulated.account_id
            and spine.as_of_date > cumulated.signal_date
),

totals_before_lookback as (
    select
        spine.account_id,
        spine.as_of_date,
        coalesce(cumulated.intent_surges, 0) as intent_surges,
        coalesce(cumulated.intent_score, 0) as intent_score,
        coalesce(cumulated.hiring_surges, 0) as hiring_surges
    from spine
    asof left join cumulated
        on spine.account_id = cumulated.account_id
            and spine.as_of_date - {{ lookback }} > cumulated.signal_date
),

totals_before_year as (
    select
        spine.account_id,
        spine.as_of_date,
        coalesce(cumulated.funding_rounds, 0) as funding_rounds
    from spine
    asof left join cumulated
        on spine.account_id = cumulated.account_id
            and spine.as_of_date - 365 > cumulated.signal_date
),

windowed as (
    select
        as_of_totals.account_id,
        as_of_totals.as_of_date,
        cast(
            as_of_totals.intent_surges - totals_before_lookback.intent_surges as integer
        ) as intent_surges_recent,
        coalesce(
            (as_of_totals.intent_score - totals_before_lookback.intent_score)
            / nullif(as_of_totals.intent_surges - totals_before_lookback.intent_surges, 0),
            0
        ) as intent_score_recent_avg,
        cast(
            as_of_totals.hiring_surges - totals_before_lookback.hiring_surges as integer
        ) as hiring_surges_recent,
        cast(
            as_of_totals.funding_rounds - totals_before_year.funding_rounds as integer
        ) as funding_rounds_365d,
        cast(as_of_totals.technology_installs as integer) as technology_installs_total,
        as_of_totals.as_of_date - as_of_totals.last_signal_date as days_since_last_signal
    from as_of_totals
    inner join totals_before_lookback
        on as_of_totals.account_id = totals_before_lookback.account_id
            and as_of_totals.as_of_date = totals_before_lookback.as_of_date
    inner join totals_before_year
        on as_of_totals.account_id = totals_before_year.account_id
            and as_of_totals.as_of_date = totals_before_year.as_of_date
)

select * from windowed
