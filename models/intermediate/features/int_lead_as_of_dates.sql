-- The point-in-time spine: one row per lead and as-of date on which the lead already existed.
-- Historical snapshots keep leads active (an activity or touch) within
-- lead_scoring__active_within_days before the date; the scoring date keeps every lead.
-- Incremental: builds only the as-of dates of as_of_date_is_to_build() (macros/features).
-- A run of at most two dates (a new day) finds each lead's last event before a date by one
-- aggregation per lead and date; otherwise by an as-of join, which sorts every lead's event
-- days whatever the dates. The rows are the same.
{{ config(**incremental_by_as_of_date_config()) }}
{%- set active_within_days = var('lead_scoring__active_within_days') %}
{#- Dates before the first lead hold no row whichever way they are built. #}
{%- set by_aggregation = builds_few_as_of_dates(
    ref('int_as_of_dates'),
    where='dates.as_of_date > (select min(created_at) from ' ~ ref('stg_crm__leads') ~ ')',
) %}

with leads as (
    select
        lead_id,
        account_id,
        created_at
    from {{ ref('stg_crm__leads') }}
),

as_of_dates as (
    select
        as_of_date,
        is_scoring_date
    from {{ ref('int_as_of_dates') }}
    where {{ as_of_date_is_to_build(ref('int_as_of_dates')) }}
),

activity_days as (
    select
        lead_id,
        activity_date
    from {{ ref('int_lead_activity_days_cumulated') }}
),

touchpoints as (
    select
        lead_id,
        touched_at
    from {{ ref('stg_crm__touchpoints') }}
),

lead_events as (
    select
        lead_id,
        activity_date as event_date
    from activity_days
    union all
    select
        lead_id,
        cast(touched_at as date) as event_date
    from touchpoints
),

existing_leads as (
    select
        leads.lead_id,
        leads.account_id,
        as_of_dates.as_of_date,
        as_of_dates.is_scoring_date
    from leads
    inner join as_of_dates
        on leads.created_at < as_of_dates.as_of_date
),

{%- if by_aggregation %}

last_events as (
    select
        events.lead_id,
        as_of_dates.as_of_date,
        max(events.event_date) as last_event_date
    from lead_events as events
    inner join as_of_dates
        on events.event_date < as_of_dates.as_of_date
    group by events.lead_id, as_of_dates.as_of_date
),

with_last_event as (
    select
        existing_leads.*,
        last_events.last_event_date
    from existing_leads
    left join last_events
        on existing_leads.lead_id = last_events.lead_id
            and existing_leads.as_of_date = last_events.as_of_date
),
{%- else %}

-- Distinct: fewer rows for the as-of join to sort.
lead_event_days as (
    select distinct
        lead_id,
        event_date
    from lead_events
),

with_last_event as (
    select
        existing_leads.*,
        lead_event_days.event_date as last_event_date
    from existing_leads
    asof left join lead_event_days
        on existing_leads.lead_id = lead_event_days.lead_id
            and existing_leads.as_of_date > lead_event_days.event_date
),
{%- endif %}

lead_as_of_dates as (
    select
        lead_id,
        account_id,
        as_of_date,
        is_scoring_date
    from with_last_event
    {%- if active_within_days is not none %}
    where
        is_scoring_date
        or last_event_date >= as_of_date - {{ active_within_days }}
    {%- endif %}
)

select * from lead_as_of_dates
