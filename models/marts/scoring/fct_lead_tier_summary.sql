-- One row per tier: how many leads it holds today against the team's weekly capacity, its
-- probability range, the conversions it is expected to bring (sum of calibrated
-- probabilities), and how the same cut performed on the latest matured snapshots: those rows
-- scored by the same model (or rules) and cut at the same probability floors.
with lead_scores as (
    select
        as_of_date,
        model_version,
        conversion_probability,
        tier
    from {{ ref('fct_lead_scores') }}
),

history as (
    select
        as_of_date,
        conversion_probability,
        converted
    from {{ ref('int_lead_scores_resolved') }}
    where not is_scoring_date
),

cutoffs as (
    select
        tier,
        tier_order,
        tier_action,
        cutoff_method,
        reps,
        weekly_capacity,
        tier_size
    from {{ ref('int_tier_cutoffs_solved') }}
    where entity_type = 'lead'
),

scoring_run as (
    select
        max(as_of_date) as as_of_date,
        max(model_version) as model_version
    from lead_scores
),

tiers_today as (
    select
        tier,
        count(*) as leads,
        min(conversion_probability) as min_probability,
        max(conversion_probability) as max_probability,
        sum(conversion_probability) as expected_conversions,
        avg(conversion_probability) as expected_conversion_rate
    from lead_scores
    group by tier
),

-- A history row falls in the best tier whose probability floor (today's lowest probability
-- in the tier) it reaches; tiers sharing a floor keep the best of them.
tier_floors as (
    select
        tiers_today.min_probability as floor_probability,
        min_by(cutoffs.tier, cutoffs.tier_order) as tier
    from tiers_today
    inner join cutoffs on tiers_today.tier = cutoffs.tier
    where tiers_today.min_probability is not null
    group by tiers_today.min_probability
),

history_tiered as (
    select
        history.as_of_date,
        history.converted,
        coalesce(tier_floors.tier, 'D') as tier
    from history
    asof left join tier_floors
        on history.conversion_probability >= tier_floors.floor_probability
),

tiers_history as (
    select
        tier,
        count(*) as history_rows,
        sum(converted) as history_conversions,
        avg(converted) as history_conversion_rate,
        min(as_of_date) as history_first_date,
        max(as_of_date) as history_last_date
    from history_tiered
    group by tier
),

tier_summary as (
    select
        cutoffs.tier,
        cutoffs.tier_order,
        cutoffs.tier_action,
        scoring_run.as_of_date,
        scoring_run.model_version,
        cutoffs.cutoff_method,
        cutoffs.reps,
        cutoffs.weekly_capacity,
        cutoffs.tier_size as planned_leads,
        cast(coalesce(tiers_today.leads, 0) as integer) as leads,
        tiers_today.min_probability,
        tiers_today.max_probability,
        coalesce(tiers_today.expected_conversions, 0) as expected_conversions,
        tiers_today.expected_conversion_rate,
        cast(coalesce(tiers_history.history_rows, 0) as integer) as history_rows,
        cast(coalesce(tiers_history.history_conversions, 0) as integer) as history_conversions,
        tiers_history.history_conversion_rate,
        tiers_history.history_first_date,
        tiers_history.history_last_date
    from cutoffs
    cross join scoring_run
    left join tiers_today on cutoffs.tier = tiers_today.tier
    left join tiers_history on cutoffs.tier = tiers_history.tier
)

select * from tier_summary
