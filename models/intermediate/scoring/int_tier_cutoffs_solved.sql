-- How many of today's scored leads (and accounts) each tier holds, as ranges of their rank by
-- probability: A (call now) the top as many as the A rows of seeds/sales_capacity.csv add up
-- to, then B (sequence) and C (nurture) likewise, D (no touch) the rest. With
-- lead_scoring__tier_percent_cutoffs (e.g. {A: 5, B: 15, C: 40}) the cut-offs are cumulative
-- percentages of the scored population instead (rounded up).
{%- set percent_cutoffs = var('lead_scoring__tier_percent_cutoffs') -%}
{%- set method = 'capacity' if percent_cutoffs is none else 'percent' -%}
{%- set cutoffs = percent_cutoffs or {} -%}
{%- set a_percent = cutoffs.get('A', 0) -%}
{%- set b_percent = cutoffs.get('B', a_percent) -%}
{%- set c_percent = cutoffs.get('C', b_percent) -%}
{%- if not (0 <= a_percent <= b_percent <= c_percent <= 100) -%}
{{ exceptions.raise_compiler_error(
    'lead_scoring__tier_percent_cutoffs must be cumulative percentages with '
    ~ '0 <= A <= B <= C <= 100, got ' ~ percent_cutoffs
) }}
{%- endif %}

with scored as (
    select
        lead_id,
        account_id
    from {{ ref('int_lead_scores_resolved') }}
    where is_scoring_date
),

capacity as (
    select
        tier,
        count(distinct rep) as reps,
        sum(weekly_leads) as weekly_capacity
    from {{ ref('sales_capacity') }}
    where tier != 'D'
    group by tier
),

populations as (
    select
        'lead' as entity_type,
        count(*) as scored_count
    from scored
    union all
    select
        'account' as entity_type,
        count(distinct account_id) as scored_count
    from scored
),

tiers as (
    select
        tier_definitions.tier,
        tier_definitions.tier_order,
        tier_definitions.tier_action,
        tier_definitions.cumulative_percent
    from (
        values
        ('A', 1, 'call now', {{ a_percent }}),
        ('B', 2, 'sequence', {{ b_percent }}),
        ('C', 3, 'nurture', {{ c_percent }}),
        ('D', 4, 'no touch', 100)
    ) as tier_definitions (tier, tier_order, tier_action, cumulative_percent)
),

tier_capacity as (
    select
        populations.entity_type,
        populations.scored_count,
        tiers.tier,
        tiers.tier_order,
        tiers.tier_action,
        tiers.cumulative_percent,
        '{{ method }}' as cutoff_method,
        cast(coalesce(capacity.reps, 0) as integer) as reps,
        cast(coalesce(capacity.weekly_capacity, 0) as integer) as weekly_capacity
    from populations
    cross join tiers
    left join capacity on tiers.tier = capacity.tier
),

tier_capacity_cumulated as (
    select
        *,
        sum(weekly_capacity) over (
            partition by entity_type order by tier_order
            rows between unbounded preceding and current row
        ) as cumulative_capacity
    from tier_capacity
),

tier_last_ranks as (
    select
        *,
        least(
            scored_count,
            case
                when tier = 'D' then scored_count
                when cutoff_method = 'percent' then ceil(scored_count * cumulative_percent / 100.0)
                else cumulative_capacity
            end
        ) as last_rank
    from tier_capacity_cumulated
),

cutoffs_solved as (
    select
        entity_type,
        tier,
        tier_order,
        tier_action,
        cutoff_method,
        reps,
        weekly_capacity,
        cast(scored_count as integer) as scored_count,
        cast(
            coalesce(
                lag(last_rank) over (partition by entity_type order by tier_order), 0
            ) + 1 as integer
        ) as first_rank,
        cast(last_rank as integer) as last_rank,
        cast(
            last_rank - coalesce(
                lag(last_rank) over (partition by entity_type order by tier_order), 0
            ) as integer
        ) as tier_size
    from tier_last_ranks
)

select * from cutoffs_solved
