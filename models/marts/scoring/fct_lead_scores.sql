-- Today's score of every open lead, for sales and BI: the calibrated probability that the
-- lead's account opens an opportunity within the label horizon, a 1-100 score, its
-- percentile, a capacity-sized tier, and up to three reasons in plain words.
with scores as (
    select
        lead_id,
        account_id,
        as_of_date,
        model_version,
        is_rules_fallback,
        fallback_reason,
        conversion_probability,
        rules_points,
        reason_1,
        reason_2,
        reason_3,
        unseen_categories
    from {{ ref('int_lead_scores_resolved') }}
    where is_scoring_date
),

history as (
    select conversion_probability
    from {{ ref('int_lead_scores_resolved') }}
    where not is_scoring_date and conversion_probability is not null
),

cutoffs as (
    select
        tier,
        tier_action,
        first_rank,
        last_rank
    from {{ ref('int_tier_cutoffs_solved') }}
    where entity_type = 'lead'
),

history_size as (
    select count(*) as history_rows from history
),

history_cdf as (
    select distinct
        conversion_probability,
        cume_dist() over (order by conversion_probability) as share_at_or_below
    from history
),

ranked as (
    select
        *,
        row_number() over (
            order by conversion_probability desc nulls last, rules_points desc, lead_id asc
        ) as priority_rank,
        100 * percent_rank() over (
            order by conversion_probability asc nulls first
        ) as percentile_today
    from scores
),

with_history_share as (
    select
        ranked.*,
        history_cdf.share_at_or_below
    from ranked
    asof left join history_cdf
        on ranked.conversion_probability >= history_cdf.conversion_probability
),

lead_scores as (
    select
        with_history_share.lead_id,
        with_history_share.account_id,
        with_history_share.as_of_date,
        cast(with_history_share.as_of_date as timestamp) as scored_at,
        with_history_share.model_version,
        with_history_share.is_rules_fallback,
        with_history_share.conversion_probability,
        cast(greatest(1, least(100, ceil(
            case
                when history_size.history_rows > 0
                    then 100 * coalesce(with_history_share.share_at_or_below, 0)
                else with_history_share.percentile_today
            end
        ))) as integer) as score,
        round(with_history_share.percentile_today, 2) as percentile,
        cutoffs.tier,
        cutoffs.tier_action,
        cast(with_history_share.priority_rank as integer) as priority_rank,
        with_history_share.reason_1,
        with_history_share.reason_2,
        with_history_share.reason_3,
        with_history_share.rules_points,
        with_history_share.unseen_categories,
        with_history_share.fallback_reason
    from with_history_share
    cross join history_size
    inner join cutoffs
        on with_history_share.priority_rank between cutoffs.first_rank and cutoffs.last_rank
)

select * from lead_scores
