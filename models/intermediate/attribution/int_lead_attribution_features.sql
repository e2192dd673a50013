-- Attribution features per lead and as-of date, from touches strictly before the date.
-- Touches are rolled up to one row per lead and touch day with running totals; each spine
-- row then takes the running totals at its last touch day before the date and at its last
-- touch day before the date - 30 (two chained as-of joins), and 30-day counts are their
-- difference.
-- No spine row is ever joined to individual touches.
-- Incremental: builds only the as-of dates of as_of_date_is_to_build() (macros/features).
-- An incremental run of at most two dates (a new day) aggregates the touches before each
-- date directly instead (one hash aggregation per lead and date, no running totals and no
-- as-of joins): the same rows, as int_lead_engagement_windows does for activities.
{{ config(**incremental_by_as_of_date_config()) }}
{%- set half_life = var('lead_scoring__attribution_feature_half_life_days') %}
{%- set channels = var('lead_scoring__attribution_feature_channels') %}
{%- set channel_groups = channels + ['other'] %}
{%- set by_aggregation = builds_few_as_of_dates(ref('int_lead_as_of_dates')) %}

with spine as (
    select
        lead_id,
        as_of_date
    from {{ ref('int_lead_as_of_dates') }}
    where {{ as_of_date_is_to_build(ref('int_lead_as_of_dates')) }}
),

touchpoints as (
    select
        touchpoint_id,
        lead_id,
        channel,
        is_paid_channel,
        touched_at
    from {{ ref('stg_crm__touchpoints') }}
),

lead_first_touches as (
    select
        lead_id,
        min(touched_at) as first_touched_at,
        arg_min(channel, { 'touched_at': touched_at, 'touchpoint_id': touchpoint_id })
            as first_channel
    from touchpoints
    group by lead_id
),

touchpoints_grouped as (
    select
        touchpoints.touchpoint_id,
        touchpoints.lead_id,
        touchpoints.channel,
        touchpoints.is_paid_channel,
        touchpoints.touched_at,
        cast(touchpoints.touched_at as date) as touch_date,
        case
            when touchpoints.channel in ({{ "'" ~ channels | join("', '") ~ "'" }})
                then touchpoints.channel
            else 'other'
        end as channel_group,
        -- 2^(days since the lead's first touch / half-life): summed up to a date and
        -- multiplied by 2^-(days from the first touch to that date / half-life), this is
        -- the touch count decayed to that date.
        pow(
            2.0,
            (epoch(touchpoints.touched_at) - epoch(lead_first_touches.first_touched_at))
            / 86400.0 / {{ half_life }}
        ) as decay_mass
    from touchpoints
    inner join lead_first_touches on touchpoints.lead_id = lead_first_touches.lead_id
),

{%- if by_aggregation %}

as_of_dates as (
    select distinct as_of_date from spine
),

-- Per lead and date, every touch before the date (a touch day before it is a touch before it).
touches_before as (
    select
        touchpoints_grouped.lead_id,
        as_of_dates.as_of_date,
        cast(count(*) as integer) as cumulative_touches,
        cast(count(*) filter (where touchpoints_grouped.is_paid_channel) as integer)
            as cumulative_paid_touches,
        cast(count(distinct touchpoints_grouped.channel) as integer) as cumulative_channels,
        cast(
            count(*) filter (
                where touchpoints_grouped.touch_date < as_of_dates.as_of_date - 30
            ) as integer
        ) as cumulative_touches_30d_before,
        arg_max(
            touchpoints_grouped.channel,
            {
                'touched_at': touchpoints_grouped.touched_at,
                'touchpoint_id': touchpoints_grouped.touchpoint_id
            }
        ) as last_channel,
        {%- for group in channel_groups %}
        coalesce(
            sum(touchpoints_grouped.decay_mass)
                filter (where touchpoints_grouped.channel_group = '{{ group }}'),
            0.0
        ) as cumulative_decay_mass_{{ group }}{{ "," if not loop.last }}
        {%- endfor %}
    from touchpoints_grouped
    inner join as_of_dates
        on touchpoints_grouped.touch_date < as_of_dates.as_of_date
    group by touchpoints_grouped.lead_id, as_of_dates.as_of_date
),

as_of_totals as (
    select
        spine.lead_id,
        spine.as_of_date,
        {%- for group in channel_groups %}
        touches_before.cumulative_decay_mass_{{ group }},
        {%- endfor %}
        touches_before.last_channel,
        coalesce(touches_before.cumulative_touches, 0) as cumulative_touches,
        coalesce(touches_before.cumulative_paid_touches, 0) as cumulative_paid_touches,
        coalesce(touches_before.cumulative_channels, 0) as cumulative_channels,
        coalesce(touches_before.cumulative_touches_30d_before, 0)
            as cumulative_touches_30d_before
    from spine
    left join touches_before
        on spine.lead_id = touches_before.lead_id
            and spine.as_of_date = touches_before.as_of_date
),
{%- else %}

lead_channel_first_dates as (
    select
        lead_id,
        min(touch_date) as touch_date
    from touchpoints_grouped
    group by lead_id, channel
),

new_channels_per_day as (
    select
        lead_id,
        touch_date,
        count(*) as new_channels
    from lead_channel_first_dates
    group by lead_id, touch_date
),

touch_days as (
    select
        lead_id,
        touch_date,
        count(*) filter (where is_paid_channel) as paid_touches,
        arg_max(channel, { 'touched_at': touched_at, 'touchpoint_id': touchpoint_id })
            as last_channel,
        {%- for group in channel_groups %}
        coalesce(sum(decay_mass) filter (where channel_group = '{{ group }}'), 0.0)
            as decay_mass_{{ group }},
        {%- endfor %}
        count(*) as touches
    from touchpoints_grouped
    group by lead_id, touch_date
),

touch_days_cumulated as (
    select
        touch_days.lead_id,
        touch_days.touch_date,
        touch_days.last_channel,
        -- integers, not the HUGEINT sum() gives: narrower rows for the as-of joins to sort.
        cast(sum(touch_days.touches) over lead_days as integer) as cumulative_touches,
        cast(sum(touch_days.paid_touches) over lead_days as integer) as cumulative_paid_touches,
        {%- for group in channel_groups %}
        sum(touch_days.decay_mass_{{ group }}) over lead_days
            as cumulative_decay_mass_{{ group }},
        {%- endfor %}
        cast(sum(coalesce(new_channels_per_day.new_channels, 0)) over lead_days as integer)
            as cumulative_channels
    from touch_days
    left join new_channels_per_day
        on touch_days.lead_id = new_channels_per_day.lead_id
            and touch_days.touch_date = new_channels_per_day.touch_date
    window lead_days as (
        partition by touch_days.lead_id
        order by touch_days.touch_date
        rows between unbounded preceding and current row
    )
),

-- The as-of joins are chained: the first brings the running totals at the last touch day
-- before the date, the second adds the touch count 30 days before; no join back by
-- (lead_id, touch_date) is needed.
as_of_totals_now as (
    select
        spine.lead_id,
        spine.as_of_date,
        {%- for group in channel_groups %}
        totals_now.cumulative_decay_mass_{{ group }},
        {%- endfor %}
        totals_now.last_channel,
        coalesce(totals_now.cumulative_touches, 0) as cumulative_touches,
        coalesce(totals_now.cumulative_paid_touches, 0) as cumulative_paid_touches,
        coalesce(totals_now.cumulative_channels, 0) as cumulative_channels
    from spine
    asof left join touch_days_cumulated as totals_now
        on spine.lead_id = totals_now.lead_id
            and spine.as_of_date > totals_now.touch_date
),

as_of_totals as (
    select
        as_of_totals_now.*,
        coalesce(totals_30d_before.cumulative_touches, 0) as cumulative_touches_30d_before
    from as_of_totals_now
    asof left join touch_days_cumulated as totals_30d_before
        on as_of_totals_now.lead_id = totals_30d_before.lead_id
            and as_of_totals_now.as_of_date - 30 > totals_30d_before.touch_date
),
{%- endif %}

-- Both plans: the lead's first touch, as of the date.
as_of_totals_with_first_touch as (
    select
        as_of_totals.*,
        -- Brings the masses (weighted from the lead's first touch) down to the as-of date.
        pow(
            2.0,
            -(
                epoch(cast(as_of_totals.as_of_date as timestamp))
                - epoch(lead_first_touches.first_touched_at)
            ) / 86400.0 / {{ half_life }}
        ) as decay_factor,
        case
            when lead_first_touches.first_touched_at < as_of_totals.as_of_date
                then lead_first_touches.first_channel
        end as first_channel
    from as_of_totals
    left join lead_first_touches on as_of_totals.lead_id = lead_first_touches.lead_id
),

lead_attribution_features as (
    select
        lead_id,
        as_of_date,
        cast(cumulative_touches as integer) as attr_touch_count,
        cast(cumulative_touches - cumulative_touches_30d_before as integer)
            as attr_touches_last_30d,
        cast(cumulative_channels as integer) as attr_distinct_channel_count,
        coalesce(first_channel, 'none') as attr_first_channel,
        coalesce(last_channel, 'none') as attr_last_channel,
        -- Rounded to 9 places: a running sum of doubles can differ in its last bits with the
        -- order rows are added in, and a rebuild must give the same features.
        {%- for group in channel_groups %}
        round(coalesce(cumulative_decay_mass_{{ group }} * decay_factor, 0.0), 9)
            as attr_decayed_touches_{{ group }},
        {%- endfor %}
        coalesce(cumulative_paid_touches / nullif(cumulative_touches, 0), 0.0)
            as attr_paid_touch_share
    from as_of_totals_with_first_touch
)

select * from lead_attribution_features
