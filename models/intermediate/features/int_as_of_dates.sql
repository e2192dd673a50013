-- The dates features are computed as of: weekly snapshots back through history, and the
-- scoring date. A feature as of a date sees only rows strictly before that date.
with activities as (
    select occurred_at from {{ ref('stg_crm__activities') }}
),

touchpoints as (
    select touched_at from {{ ref('stg_crm__touchpoints') }}
),

opportunities as (
    select created_at from {{ ref('stg_crm__opportunities') }}
),

last_event as (
    select
        max(event_at) as last_event_at
    from (
        select max(occurred_at) as event_at from activities
        union all
        select max(touched_at) from touchpoints
        union all
        select max(created_at) from opportunities
    )
),

scoring_date as (
    select
        {%- if var('lead_scoring__scoring_date') %}
        cast('{{ var("lead_scoring__scoring_date") }}' as date) as scoring_date
        {%- else %}
        cast(date_trunc('day', last_event_at) as date) + 1 as scoring_date
        {%- endif %}
    from last_event
),

snapshot_dates as (
    select
        cast(
            date_trunc('week', scoring_date - 1)
            - to_days(cast(snapshot_index * {{ var('lead_scoring__snapshot_cadence_days') }} as integer))
            as date
        ) as as_of_date
    from scoring_date
    cross join range({{ var('lead_scoring__snapshot_count') }}) as snapshots (snapshot_index)
),

as_of_dates as (
    select as_of_date, false as is_scoring_date from snapshot_dates
    where as_of_date < (select scoring_date from scoring_date)
    union all
    select scoring_date, true from scoring_date
)

select * from as_of_dates
