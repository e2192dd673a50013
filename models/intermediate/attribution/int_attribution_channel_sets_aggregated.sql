-- Paths and conversions per set of distinct channels, per path scope, over every path with
-- at least one touch. The Shapley model reads these counts, never the raw touches.
with paths as (
    select
        path_scope,
        is_conversion,
        channel_set
    from {{ ref('int_attribution_paths_aggregated') }}
    where touch_count > 0
),

channel_sets_aggregated as (
    select
        path_scope,
        array_to_string(channel_set, ' + ') as channel_set_key,
        any_value(channel_set) as channel_set,
        cast(len(any_value(channel_set)) as integer) as channel_count,
        count(*) as path_count,
        count(*) filter (where is_conversion) as conversion_count
    from paths
    group by path_scope, array_to_string(channel_set, ' + ')
)

select * from channel_sets_aggregated
