-- One row per path: every conversion (also those with no touch in their window, which no
-- model can credit) and every open (non-converting) path, with its ordered channels.
with conversions as (
    select
        path_id,
        path_scope,
        entity_id,
        opportunity_id,
        converted_at,
        window_start_at,
        opportunity_amount
    from {{ ref('int_attribution_conversions_identified') }}
),

pathed_touchpoints as (
    select
        path_id,
        path_scope,
        entity_id,
        is_conversion,
        channel,
        touched_at,
        touch_position,
        path_end_at
    from {{ ref('int_touchpoints_pathed') }}
),

touch_summaries as (
    select
        path_id,
        any_value(path_scope) as path_scope,
        any_value(entity_id) as entity_id,
        bool_or(is_conversion) as is_conversion,
        any_value(path_end_at) as path_end_at,
        cast(count(*) as integer) as touch_count,
        list(channel order by touch_position) as channel_path,
        list_sort(list_distinct(list(channel))) as channel_set,
        arg_min(channel, touch_position) as first_channel,
        arg_max(channel, touch_position) as last_channel,
        min(touched_at) as first_touched_at,
        max(touched_at) as last_touched_at
    from pathed_touchpoints
    group by path_id
),

conversion_paths as (
    select
        conversions.path_id,
        conversions.path_scope,
        conversions.entity_id,
        true as is_conversion,
        conversions.opportunity_id,
        conversions.converted_at,
        conversions.converted_at as path_end_at,
        conversions.opportunity_amount,
        coalesce(touch_summaries.touch_count, 0) as touch_count,
        touch_summaries.channel_path,
        touch_summaries.channel_set,
        touch_summaries.first_channel,
        touch_summaries.last_channel,
        touch_summaries.first_touched_at,
        touch_summaries.last_touched_at
    from conversions
    left join touch_summaries on conversions.path_id = touch_summaries.path_id
),

open_paths as (
    select
        path_id,
        path_scope,
        entity_id,
        false as is_conversion,
        cast(null as varchar) as opportunity_id,
        cast(null as timestamp) as converted_at,
        path_end_at,
        cast(null as decimal(18, 2)) as opportunity_amount,
        touch_count,
        channel_path,
        channel_set,
        first_channel,
        last_channel,
        first_touched_at,
        last_touched_at
    from touch_summaries
    where not is_conversion
),

paths as (
    select * from conversion_paths
    union all
    select * from open_paths
)

select * from paths
