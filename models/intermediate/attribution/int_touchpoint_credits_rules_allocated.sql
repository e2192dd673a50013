-- Rules-based credits of every touch on a conversion path, one column per model. Each model
-- gives every touch a raw weight, then divides by the path's total, so the credits of one
-- conversion sum to 1 whatever the path length or the configured weights.
{%- set half_life = var('lead_scoring__attribution_half_life_days') %}
{%- set position = var('lead_scoring__attribution_position_weights') %}
{%- set w_shaped = var('lead_scoring__attribution_w_shaped_weights') %}
{#- Weights as doubles: the credits are floating-point shares, never decimals. #}
{%- set position_first = 'cast(' ~ position.first ~ ' as double)' %}
{%- set position_middle = 'cast(' ~ position.middle ~ ' as double)' %}
{%- set position_last = 'cast(' ~ position.last ~ ' as double)' %}
{%- set w_first = 'cast(' ~ w_shaped.first ~ ' as double)' %}
{%- set w_lead_creation = 'cast(' ~ w_shaped.lead_creation ~ ' as double)' %}
{%- set w_opportunity_creation = 'cast(' ~ w_shaped.opportunity_creation ~ ' as double)' %}
{%- set w_rest = 'cast(' ~ w_shaped.rest ~ ' as double)' %}

with pathed_touchpoints as (
    select
        path_id,
        touchpoint_id,
        path_scope,
        opportunity_id,
        channel,
        touch_position,
        touch_count,
        days_before_path_end,
        is_lead_creation_touch
    from {{ ref('int_touchpoints_pathed') }}
    where is_conversion
),

touchpoints_with_roles as (
    select
        *,
        touch_position = 1 as is_first_touch,
        touch_position = touch_count as is_last_touch,
        -- W-shaped: touches holding none of the three milestone roles share the rest.
        touch_count - count(*) filter (
            where touch_position = 1 or touch_position = touch_count or is_lead_creation_touch
        ) over (partition by path_id) as unmilestoned_touch_count,
        min(days_before_path_end) over (partition by path_id) as nearest_days_before_path_end
    from pathed_touchpoints
),

touchpoints_weighted as (
    select
        *,
        cast(case when is_first_touch then 1 else 0 end as double) as first_touch_weight,
        cast(case when is_last_touch then 1 else 0 end as double) as last_touch_weight,
        cast(1 as double) as linear_weight,
        -- 2^(-days / half-life), rescaled so the nearest touch weighs 1 (the ratios, and so
        -- the credits, are unchanged; the weights can no longer all underflow to 0).
        pow(
            2.0,
            -(days_before_path_end - nearest_days_before_path_end) / {{ half_life }}
        ) as time_decay_weight,
        case when is_first_touch then {{ position_first }} else 0 end
        + case when is_last_touch then {{ position_last }} else 0 end
        + case
            when not is_first_touch and not is_last_touch
                then {{ position_middle }} / (touch_count - 2)
            else 0
        end as position_based_weight,
        case when is_first_touch then {{ w_first }} else 0 end
        + case when is_lead_creation_touch then {{ w_lead_creation }} else 0 end
        + case when is_last_touch then {{ w_opportunity_creation }} else 0 end
        + case
            when not is_first_touch and not is_last_touch and not is_lead_creation_touch
                then {{ w_rest }} / unmilestoned_touch_count
            else 0
        end as w_shaped_weight
    from touchpoints_with_roles
),

touchpoints_credited as (
    select
        path_id,
        touchpoint_id,
        path_scope,
        opportunity_id,
        channel,
        touch_position,
        touch_count,
        is_lead_creation_touch,
        first_touch_weight / sum(first_touch_weight) over path as first_touch_credit,
        last_touch_weight / sum(last_touch_weight) over path as last_touch_credit,
        linear_weight / sum(linear_weight) over path as linear_credit,
        time_decay_weight / sum(time_decay_weight) over path as time_decay_credit,
        position_based_weight / sum(position_based_weight) over path as position_based_credit,
        w_shaped_weight / sum(w_shaped_weight) over path as w_shaped_credit
    from touchpoints_weighted
    -- Ordered frames: the path's total is summed in touch order, so a rebuild reproduces
    -- every credit to the last bit.
    window path as (
        partition by path_id
        order by touch_position
        rows between unbounded preceding and unbounded following
    )
)

select * from touchpoints_credited
