-- The dates features are computed as of: snapshots every cadence days back through
-- history, and the scoring date. A feature as of a date sees only rows strictly before that date.
{%- if var('lead_scoring__scoring_date') %}
{%- set scoring_date_expression = "cast('" ~ var('lead_scoring__scoring_date') ~ "' as date)" %}
{%- else %}
{%- set scoring_date_expression = "cast(date_trunc('day', last_event_at) as date) + 1" %}
{%- endif %}
{%- set cadence = var('lead_scoring__snapshot_cadence_days') %}
{%- set snapshot_grid_origin = '2000-01-03' %}
with activities as (
    select occurred_at from {{ ref('stg_crm__activities') }}
),

touchpoints as (
    select touched_at from {{ ref('stg_crm__touchpoints') }}
),

opportunities as (
    select created_at from {{ ref('stg_crm__opportunities') }}
),

last_events as (
    select max(occurred_at) as event_at from activities
    union all
    select max(touched_at) as event_at from touchpoints
    union all
    select max(created_at) as event_at from opportunities
),

last_event as (
    select max(event_at) as last_event_at
    from last_events
),

scoring_date as (
    select {{ scoring_date_expression }} as scoring_date
    from last_event
),

snapshot_indexes as (
    select unnest(range({{ var('lead_scoring__snapshot_count') }})) as snapshot_index
),

-- Snapshot dates lie on a fixed grid: every cadence days from a Monday (2000-01-03). The
-- newest is the last grid date before the scoring date; the others count back from it. A new
-- day of data adds a snapshot only when it reaches the next grid date, so the dates already
-- built stay put (the incremental feature models keep their rows). With the weekly cadence
-- these are the Mondays.
latest_snapshot as (
    select
        date '{{ snapshot_grid_origin }}'
        + cast(
            floor((scoring_date - 1 - date '{{ snapshot_grid_origin }}') / {{ cadence }}) * {{ cadence }}
            as integer
        ) as latest_snapshot_date
    from scoring_date
),

snapshot_dates as (
    select
        latest_snapshot_date - cast(snapshot_index * {{ cadence }} as integer) as as_of_date
    from latest_snapshot
    cross join snapshot_indexes
),

as_of_dates as (
    select
        snapshot_dates.as_of_date,
        false as is_scoring_date
    from snapshot_dates
    cross join scoring_date
    where snapshot_dates.as_of_date < scoring_date.scoring_date
    union all
    select
        scoring_date as as_of_date,
        true as is_scoring_date
    from scoring_date
)

select * from as_of_dates
