-- Performance and fairness by segment: industry, region, company size (employee_band) and
-- lead source. Today's tier-A rate per segment (fct_lead_scores, what sales acts on) and the
-- disparate-impact ratio to the segment with the best tier-A rate (the 80% rule); and, on the
-- backtest's out-of-sample rows (after the model's validation window), each segment's
-- conversion rate, ROC AUC and capture of the model and of the rules score, and the model's
-- tier-A rate. One row per segment type and value.
{%- set min_ratio = var('lead_scoring__disparate_impact_min_ratio') %}
{%- set min_leads = var('lead_scoring__fairness_min_segment_leads') %}
{%- set segment_types = ['industry', 'region', 'employee_band', 'lead_source'] %}

with lead_scores as (
    select
        lead_id,
        tier
    from {{ ref('fct_lead_scores') }}
),

scoring_set as (
    select
        lead_id,
        {{ segment_types | join(',\n        ') }}
    from {{ ref('fct_lead_scoring_set') }}
),

outcomes as (
    select
        as_of_date,
        converted,
        sample_weight,
        model_probability,
        model_tier,
        model_decile,
        rules_points,
        rules_decile,
        {{ segment_types | join(',\n        ') }}
    from {{ ref('fct_lead_backtest_outcomes') }}
    where is_out_of_sample
),

today_segments as (
    {%- for segment_type in segment_types %}
    select
        '{{ segment_type }}' as segment_type,
        coalesce(scoring_set.{{ segment_type }}, '(null)') as segment_value,
        lead_scores.tier
    from lead_scores
    inner join scoring_set on lead_scores.lead_id = scoring_set.lead_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

today_tiers as (
    select
        segment_type,
        segment_value,
        count(*) as scored_leads_today,
        count(*) filter (where tier = 'A') as tier_a_leads_today,
        count(*) filter (where tier = 'A') / count(*) as tier_a_rate_today
    from today_segments
    group by segment_type, segment_value
),

backtest_segments as (
    {%- for segment_type in segment_types %}
    select
        '{{ segment_type }}' as segment_type,
        coalesce({{ segment_type }}, '(null)') as segment_value,
        outcomes.*
    from outcomes
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

backtest_totals as (
    select
        segment_type,
        segment_value,
        count(*) as backtest_rows,
        cast(sum(converted) as bigint) as backtest_positive_rows,
        sum(sample_weight) as backtest_population,
        sum(sample_weight * converted) / sum(sample_weight) as backtest_conversion_rate,
        sum(sample_weight) filter (where model_tier = 'A')
        / nullif(sum(sample_weight) filter (where model_probability is not null), 0)
            as backtest_model_tier_a_rate,
        sum(sample_weight * converted) filter (where model_decile <= 2)
        / nullif(sum(sample_weight * converted) filter (where model_probability is not null), 0)
            as model_capture_at_20,
        sum(sample_weight * converted) filter (where rules_decile <= 2)
        / nullif(sum(sample_weight * converted), 0) as rules_capture_at_20
    from backtest_segments
    group by segment_type, segment_value
),

-- ROC AUC within each segment, for both scorers (weighted Mann-Whitney, ties count one half).
score_groups as (
    select
        segment_type,
        segment_value,
        'model' as scorer,
        model_probability as score,
        sum(sample_weight * converted) as positive_weight,
        sum(sample_weight * (1 - converted)) as negative_weight
    from backtest_segments
    where model_probability is not null
    group by segment_type, segment_value, model_probability
    union all
    select
        segment_type,
        segment_value,
        'rules' as scorer,
        cast(rules_points as double) as score,
        sum(sample_weight * converted) as positive_weight,
        sum(sample_weight * (1 - converted)) as negative_weight
    from backtest_segments
    group by segment_type, segment_value, rules_points
),

score_groups_cumulated as (
    select
        *,
        coalesce(sum(negative_weight) over (
            partition by segment_type, segment_value, scorer
            order by score
            rows between unbounded preceding and 1 preceding
        ), 0) as negative_weight_below
    from score_groups
),

roc_aucs as (
    select
        segment_type,
        segment_value,
        sum(positive_weight * (negative_weight_below + 0.5 * negative_weight))
        filter (where scorer = 'model')
        / nullif(
            sum(positive_weight) filter (where scorer = 'model')
            * sum(negative_weight) filter (where scorer = 'model'),
            0
        ) as model_roc_auc,
        sum(positive_weight * (negative_weight_below + 0.5 * negative_weight))
        filter (where scorer = 'rules')
        / nullif(
            sum(positive_weight) filter (where scorer = 'rules')
            * sum(negative_weight) filter (where scorer = 'rules'),
            0
        ) as rules_roc_auc
    from score_groups_cumulated
    group by segment_type, segment_value
),

segments as (
    select
        segment_type,
        segment_value
    from today_tiers
    union
    select
        segment_type,
        segment_value
    from backtest_totals
),

joined as (
    select
        segments.segment_type,
        segments.segment_value,
        cast(coalesce(today_tiers.scored_leads_today, 0) as bigint) as scored_leads_today,
        cast(coalesce(today_tiers.tier_a_leads_today, 0) as bigint) as tier_a_leads_today,
        round(today_tiers.tier_a_rate_today, 6) as tier_a_rate_today,
        coalesce(today_tiers.scored_leads_today, 0) >= {{ min_leads }} as is_judged,
        cast(coalesce(backtest_totals.backtest_rows, 0) as bigint) as backtest_rows,
        cast(coalesce(backtest_totals.backtest_positive_rows, 0) as bigint)
            as backtest_positive_rows,
        backtest_totals.backtest_population,
        round(backtest_totals.backtest_conversion_rate, 6) as backtest_conversion_rate,
        round(backtest_totals.backtest_model_tier_a_rate, 6) as backtest_model_tier_a_rate,
        round(roc_aucs.model_roc_auc, 6) as model_roc_auc,
        round(roc_aucs.rules_roc_auc, 6) as rules_roc_auc,
        round(backtest_totals.model_capture_at_20, 6) as model_capture_at_20,
        round(backtest_totals.rules_capture_at_20, 6) as rules_capture_at_20
    from segments
    left join today_tiers
        on
            segments.segment_type = today_tiers.segment_type
            and segments.segment_value = today_tiers.segment_value
    left join backtest_totals
        on
            segments.segment_type = backtest_totals.segment_type
            and segments.segment_value = backtest_totals.segment_value
    left join roc_aucs
        on
            segments.segment_type = roc_aucs.segment_type
            and segments.segment_value = roc_aucs.segment_value
),

-- The reference of the 80% rule: among the segments of a type with enough leads today, the
-- best tier-A rate (ties go to the larger segment, then the name).
best_segments as (
    select
        segment_type,
        arg_max(
            segment_value, (tier_a_rate_today, scored_leads_today, segment_value)
        ) as best_segment_value,
        max(tier_a_rate_today) as best_tier_a_rate_today
    from joined
    where is_judged
    group by segment_type
),

segment_performance as (
    select
        joined.segment_type,
        joined.segment_value,
        joined.scored_leads_today,
        joined.tier_a_leads_today,
        joined.tier_a_rate_today,
        joined.is_judged,
        best_segments.best_segment_value,
        best_segments.best_tier_a_rate_today,
        case
            when joined.is_judged and best_segments.best_tier_a_rate_today > 0
                then round(joined.tier_a_rate_today / best_segments.best_tier_a_rate_today, 6)
        end as disparate_impact_ratio,
        coalesce(
            not joined.is_judged
            or best_segments.best_tier_a_rate_today = 0
            or joined.tier_a_rate_today
            >= {{ min_ratio }} * best_segments.best_tier_a_rate_today,
            true
        ) as passes_disparate_impact_check,
        joined.backtest_rows,
        joined.backtest_positive_rows,
        joined.backtest_population,
        joined.backtest_conversion_rate,
        round(
            joined.backtest_conversion_rate / nullif(best_backtest.backtest_conversion_rate, 0), 6
        ) as conversion_rate_ratio,
        joined.backtest_model_tier_a_rate,
        joined.model_roc_auc,
        joined.rules_roc_auc,
        joined.model_capture_at_20,
        joined.rules_capture_at_20
    from joined
    left join best_segments on joined.segment_type = best_segments.segment_type
    left join joined as best_backtest
        on
            best_segments.segment_type = best_backtest.segment_type
            and best_segments.best_segment_value = best_backtest.segment_value
)

select * from segment_performance
