-- First-order transition counts between channels, per path scope, over every path with at
-- least one touch: (start) -> first channel -> ... -> last channel -> (conversion) or
-- (null). The Markov model reads these counts, never the raw touches.
with pathed_touchpoints as (
    select
        path_id,
        path_scope,
        is_conversion,
        channel,
        touch_position,
        touch_count
    from {{ ref('int_touchpoints_pathed') }}
),

entering_transitions as (
    select
        path_scope,
        coalesce(
            lag(channel) over (partition by path_id order by touch_position),
            '(start)'
        ) as from_state,
        channel as to_state
    from pathed_touchpoints
),

exiting_transitions as (
    select
        path_scope,
        channel as from_state,
        case when is_conversion then '(conversion)' else '(null)' end as to_state
    from pathed_touchpoints
    where touch_position = touch_count
),

transitions as (
    select * from entering_transitions
    union all
    select * from exiting_transitions
),

transitions_aggregated as (
    select
        path_scope,
        from_state,
        to_state,
        count(*) as transition_count
    from transitions
    group by path_scope, from_state, to_state
)

select * from transitions_aggregated
