-- Each lead's activities rolled up to one row per active day, with running totals, so any
-- window as of any date is a difference of two running totals (found with as-of joins).
-- Incremental by lead: a build on a warehouse that holds the table rebuilds only the leads
-- whose activities changed (a new day, late or removed rows, a changed seed), found by a
-- per-lead count and fingerprint of their classified activities; every other lead keeps its
-- rows. A lead is rebuilt whole, with the same SQL as a build from empty, so its rows are the
-- same. Leads left without any activity are deleted by the post-hook. A change of the metrics
-- (lead_activity_metrics) or of the half-life changes every fingerprint, so every lead is
-- rebuilt by itself; a change of this SQL needs --full-refresh.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='lead_id',
    on_schema_change='fail',
    post_hook=["{{ delete_leads_without_activities() }}"],
) }}
{%- set metrics = lead_activity_metrics() %}
{%- set half_life = var('lead_scoring__engagement_half_life_days') %}
{#- What the rows are computed with besides the activities: in every fingerprint. #}
{%- set definition_key = local_md5(tojson({'metrics': metrics, 'half_life': half_life})) %}
{%- do require_incremental_columns(['activities', 'activities_fingerprint']) %}

with activities as (
    select
        lead_id,
        activity_type,
        page_category,
        occurred_at
    from {{ ref('stg_crm__activities') }}
),

activity_types as (
    select
        activity_type,
        is_negative
    from {{ ref('activity_types') }}
),

page_categories as (
    select
        page_category,
        is_high_intent
    from {{ ref('page_categories') }}
),

classified_activities as (
    select
        activities.lead_id,
        activities.activity_type,
        activities.page_category,
        cast(activities.occurred_at as date) as activity_date,
        coalesce(page_categories.is_high_intent, false) as is_high_intent_page,
        -- An engagement is anything the lead did: not a send, not a negative signal.
        activities.activity_type != 'email_send'
        and not coalesce(activity_types.is_negative, false) as is_engagement
    from activities
    left join activity_types on activities.activity_type = activity_types.activity_type
    left join page_categories on activities.page_category = page_categories.page_category
),

fingerprinted_activities as (
    select
        *,
        -- Everything a row of this table is computed from, hashed: summed per lead, a change
        -- to any of a lead's activities (or to its classification, or to the definitions)
        -- changes the lead's sum.
        hash(
            lead_id,
            activity_date,
            activity_type,
            page_category,
            is_high_intent_page,
            is_engagement,
            '{{ definition_key }}'
        ) as activity_fingerprint
    from classified_activities
),

{%- if is_incremental() %}

staged_leads as (
    select
        lead_id,
        count(*) as activities,
        sum(activity_fingerprint) as activities_fingerprint
    from fingerprinted_activities
    group by lead_id
),

held_leads as (
    select
        lead_id,
        sum(activities) as activities,
        sum(activities_fingerprint) as activities_fingerprint
    from {{ this }}
    group by lead_id
),

leads_to_build as (
    select staged_leads.lead_id
    from staged_leads
    left join held_leads on staged_leads.lead_id = held_leads.lead_id
    where
        held_leads.lead_id is null
        or staged_leads.activities != held_leads.activities
        or staged_leads.activities_fingerprint != held_leads.activities_fingerprint
),

activities_to_build as (
    select fingerprinted_activities.*
    from fingerprinted_activities
    semi join leads_to_build on fingerprinted_activities.lead_id = leads_to_build.lead_id
),
{%- else %}

activities_to_build as (
    select * from fingerprinted_activities
),
{%- endif %}

activity_days as (
    select
        lead_id,
        activity_date,
        {%- for name, metric in metrics.items() %}
        count(*) filter (where {{ metric.condition }}) as {{ name }},
        {%- endfor %}
        count(*) as activities,
        sum(activity_fingerprint) as activities_fingerprint
    from activities_to_build
    group by lead_id, activity_date
),

activity_days_with_firsts as (
    select
        *,
        min(activity_date) over (partition by lead_id) as first_activity_date,
        min(activity_date) filter (where engagements > 0) over (
            partition by lead_id
        ) as first_engagement_date
    from activity_days
),

cumulated as (
    select
        lead_id,
        activity_date,
        first_activity_date,
        first_engagement_date,
        max(activity_date) filter (where engagements > 0) over lead_days as last_engagement_date,
        {%- for name in metrics %}
        -- integer, not the HUGEINT sum() gives: a quarter of the width the as-of joins sort.
        cast(sum({{ name }}) over lead_days as integer) as cumulative_{{ name }},
        {%- endfor %}
        -- Engagements weighted by 2^(days since the lead's first activity / half-life): as of
        -- a date, times 2^-(days from the first activity to that date / half-life), this is
        -- the engagement decayed to that date.
        sum(
            engagements * pow(2.0, (activity_date - first_activity_date) / {{ half_life }})
        ) over lead_days as cumulative_weighted_engagements,
        -- This day's own activities and fingerprint: what the incremental build compares.
        cast(activities as integer) as activities,
        activities_fingerprint
    from activity_days_with_firsts
    window lead_days as (
        partition by lead_id order by activity_date rows between unbounded preceding and current row
    )
)

select * from cumulated
