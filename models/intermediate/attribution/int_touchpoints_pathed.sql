-- Every touch placed on at most one path per scope, in order. A touch belongs to the first
-- conversion of its lead (scope 'lead') or its lead's account (scope 'account') strictly
-- after it, if that conversion is within the lookback window; a touch after the entity's
-- last conversion belongs to its open (non-converting) path when it falls within the
-- lookback window before the data end. Windows are never longer than the lookback, so
-- touches and conversions are matched on (scope, entity, lookback-long time bucket): a
-- conversion serves its own bucket and the one before. The join then costs touches x the
-- entity's conversions within two lookbacks, not touches x all its conversions.
{%- set lookback_days = var('lead_scoring__attribution_lookback_days') %}
{%- set bucket_seconds = lookback_days * 86400 %}

with touchpoints as (
    select
        touchpoint_id,
        lead_id,
        channel,
        is_paid_channel,
        touched_at
    from {{ ref('stg_crm__touchpoints') }}
),

leads as (
    select
        lead_id,
        account_id,
        created_at
    from {{ ref('stg_crm__leads') }}
),

conversions as (
    select
        path_id,
        path_scope,
        entity_id,
        opportunity_id,
        converted_at,
        window_start_at,
        lead_created_at
    from {{ ref('int_attribution_conversions_identified') }}
),

data_end as (
    select cast(as_of_date as timestamp) as data_end_at
    from {{ ref('int_as_of_dates') }}
    where is_scoring_date
),

touchpoints_with_leads as (
    select
        touchpoints.*,
        leads.account_id,
        leads.created_at as lead_created_at,
        cast(floor(epoch(touchpoints.touched_at) / {{ bucket_seconds }}) as bigint)
            as time_bucket
    from touchpoints
    left join leads on touchpoints.lead_id = leads.lead_id
    cross join data_end
    where touchpoints.touched_at < data_end.data_end_at
),

scoped_touchpoints as (
    select
        'lead' as path_scope,
        lead_id as entity_id,
        *
    from touchpoints_with_leads
    union all
    select
        'account' as path_scope,
        account_id as entity_id,
        *
    from touchpoints_with_leads
    where account_id is not null
),

conversion_buckets as (
    select
        *,
        unnest([
            cast(floor(epoch(converted_at) / {{ bucket_seconds }}) as bigint),
            cast(floor(epoch(converted_at) / {{ bucket_seconds }}) as bigint) - 1
        ]) as time_bucket
    from conversions
),

touchpoints_on_conversion_paths as (
    select
        conversion_buckets.path_id,
        scoped_touchpoints.touchpoint_id,
        scoped_touchpoints.path_scope,
        scoped_touchpoints.entity_id,
        true as is_conversion,
        conversion_buckets.opportunity_id,
        scoped_touchpoints.lead_id,
        scoped_touchpoints.account_id,
        scoped_touchpoints.channel,
        scoped_touchpoints.is_paid_channel,
        scoped_touchpoints.touched_at,
        conversion_buckets.converted_at as path_end_at,
        scoped_touchpoints.lead_created_at,
        conversion_buckets.lead_created_at as converting_lead_created_at
    from scoped_touchpoints
    inner join conversion_buckets
        on scoped_touchpoints.path_scope = conversion_buckets.path_scope
            and scoped_touchpoints.entity_id = conversion_buckets.entity_id
            and scoped_touchpoints.time_bucket = conversion_buckets.time_bucket
    where
        scoped_touchpoints.touched_at >= conversion_buckets.window_start_at
        and scoped_touchpoints.touched_at < conversion_buckets.converted_at
),

last_conversions as (
    select
        path_scope,
        entity_id,
        max(converted_at) as last_converted_at
    from conversions
    group by path_scope, entity_id
),

touchpoints_on_open_paths as (
    select
        scoped_touchpoints.path_scope || ':open:' || scoped_touchpoints.entity_id as path_id,
        scoped_touchpoints.touchpoint_id,
        scoped_touchpoints.path_scope,
        scoped_touchpoints.entity_id,
        false as is_conversion,
        cast(null as varchar) as opportunity_id,
        scoped_touchpoints.lead_id,
        scoped_touchpoints.account_id,
        scoped_touchpoints.channel,
        scoped_touchpoints.is_paid_channel,
        scoped_touchpoints.touched_at,
        data_end.data_end_at as path_end_at,
        scoped_touchpoints.lead_created_at,
        cast(null as timestamp) as converting_lead_created_at
    from scoped_touchpoints
    left join last_conversions
        on scoped_touchpoints.path_scope = last_conversions.path_scope
            and scoped_touchpoints.entity_id = last_conversions.entity_id
    cross join data_end
    where
        scoped_touchpoints.touched_at >= data_end.data_end_at - to_days({{ lookback_days }})
        and (
            last_conversions.last_converted_at is null
            or scoped_touchpoints.touched_at >= last_conversions.last_converted_at
        )
),

touchpoints_in_windows as (
    select * from touchpoints_on_conversion_paths
    union all
    select * from touchpoints_on_open_paths
),

-- The lead-creation milestone: the converting lead's creation, or (an account conversion
-- without a lead, or an open path) the earliest creation among the path's leads.
path_milestones as (
    select
        path_id,
        coalesce(
            any_value(converting_lead_created_at), min(lead_created_at)
        ) as milestone_lead_created_at
    from touchpoints_in_windows
    group by path_id
),

touchpoints_ordered as (
    select
        touchpoints_in_windows.path_id,
        touchpoints_in_windows.touchpoint_id,
        touchpoints_in_windows.path_scope,
        touchpoints_in_windows.entity_id,
        touchpoints_in_windows.is_conversion,
        touchpoints_in_windows.opportunity_id,
        touchpoints_in_windows.lead_id,
        touchpoints_in_windows.account_id,
        touchpoints_in_windows.channel,
        touchpoints_in_windows.is_paid_channel,
        touchpoints_in_windows.touched_at,
        touchpoints_in_windows.path_end_at,
        cast(row_number() over (
            partition by touchpoints_in_windows.path_id
            order by touchpoints_in_windows.touched_at, touchpoints_in_windows.touchpoint_id
        ) as integer) as touch_position,
        cast(count(*) over (partition by touchpoints_in_windows.path_id) as integer)
            as touch_count,
        (
            epoch(touchpoints_in_windows.path_end_at)
            - epoch(touchpoints_in_windows.touched_at)
        ) / 86400.0 as days_before_path_end,
        path_milestones.milestone_lead_created_at,
        -- The touch closest to the milestone; on a tie the earlier one.
        row_number() over (
            partition by touchpoints_in_windows.path_id
            order by
                abs(
                    epoch(touchpoints_in_windows.touched_at)
                    - epoch(path_milestones.milestone_lead_created_at)
                ),
                touchpoints_in_windows.touched_at,
                touchpoints_in_windows.touchpoint_id
        ) = 1 as is_lead_creation_touch
    from touchpoints_in_windows
    inner join path_milestones on touchpoints_in_windows.path_id = path_milestones.path_id
)

select * from touchpoints_ordered
