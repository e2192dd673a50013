-- Data-driven credits of every touch on a conversion path: the Markov and Shapley models
-- give each channel a share (per path scope); a conversion's credit of 1 goes to the
-- channels on its path in proportion to their shares, and a channel's part is split evenly
-- over its touches on the path. A path whose channels all have a share of 0 falls back to
-- equal credit per touch, so the credits of one conversion always sum to 1.

with pathed_touchpoints as (
    select
        path_id,
        touchpoint_id,
        path_scope,
        opportunity_id,
        channel,
        touch_position,
        touch_count
    from {{ ref('int_touchpoints_pathed') }}
    where is_conversion
),

markov_shares as (
    select
        path_scope,
        channel,
        channel_share
    from {{ ref('int_attribution_markov_effects_solved') }}
),

shapley_shares as (
    select
        path_scope,
        channel,
        channel_share
    from {{ ref('int_attribution_shapley_values_computed') }}
),

touchpoints_with_shares as (
    select
        pathed_touchpoints.*,
        count(*) over (
            partition by pathed_touchpoints.path_id, pathed_touchpoints.channel
        ) as channel_touch_count,
        coalesce(markov_shares.channel_share, 0.0) as markov_channel_share,
        coalesce(shapley_shares.channel_share, 0.0) as shapley_channel_share
    from pathed_touchpoints
    left join markov_shares
        on pathed_touchpoints.path_scope = markov_shares.path_scope
            and pathed_touchpoints.channel = markov_shares.channel
    left join shapley_shares
        on pathed_touchpoints.path_scope = shapley_shares.path_scope
            and pathed_touchpoints.channel = shapley_shares.channel
),

touchpoints_with_path_shares as (
    select
        *,
        -- Sum of the shares of the distinct channels on the path: each channel's share is
        -- spread over its touches, then summed back.
        sum(markov_channel_share / channel_touch_count) over path as markov_path_share,
        sum(shapley_channel_share / channel_touch_count) over path as shapley_path_share
    from touchpoints_with_shares
    -- Ordered frames: summed in touch order, so a rebuild reproduces every credit exactly.
    window path as (
        partition by path_id
        order by touch_position
        rows between unbounded preceding and unbounded following
    )
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
        markov_channel_share,
        case
            when markov_path_share > 0
                then markov_channel_share / channel_touch_count / markov_path_share
            else 1.0 / touch_count
        end as markov_credit,
        shapley_channel_share,
        case
            when shapley_path_share > 0
                then shapley_channel_share / channel_touch_count / shapley_path_share
            else 1.0 / touch_count
        end as shapley_credit
    from touchpoints_with_path_shares
)

select * from touchpoints_credited
