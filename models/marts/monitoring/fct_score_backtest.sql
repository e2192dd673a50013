-- How the current model and the rules score would have done on every matured snapshot,
-- against what happened (fct_lead_backtest_outcomes): conversion rate, capture and lift per
-- tier and per decile, ROC AUC and calibration per month and per walk-forward window, for the
-- two scorers side by side. Every figure is weighted by sample_weight (population figures).
-- Rows up to the model's validation window are in sample, later ones out of sample; tiers,
-- deciles and months are split by that. One row per scorer, breakdown, bucket and period.
with outcomes as (
    select * from {{ ref('fct_lead_backtest_outcomes') }}
),

scored as (
    select
        'model' as scorer,
        as_of_date,
        as_of_month,
        model_window,
        is_out_of_sample,
        converted,
        sample_weight,
        model_probability as score,
        model_probability as predicted_probability,
        model_tier as tier,
        model_decile as decile
    from outcomes
    where model_probability is not null
    union all
    select
        'rules' as scorer,
        as_of_date,
        as_of_month,
        model_window,
        is_out_of_sample,
        converted,
        sample_weight,
        cast(rules_points as double) as score,
        rules_probability as predicted_probability,
        rules_tier as tier,
        rules_decile as decile
    from outcomes
),

periods as (
    select
        *,
        case
            when model_window in ('no_model', 'unknown') then model_window
            when is_out_of_sample then 'out_of_sample'
            else 'in_sample'
        end as sample_period
    from scored
),

sliced as (
    select
        'window' as breakdown,
        model_window as bucket,
        case model_window
            when 'train' then 1
            when 'train_validation_gap' then 2
            when 'validation' then 3
            when 'validation_test_gap' then 4
            when 'test' then 5
            when 'after_training' then 6
            else 0
        end as bucket_order,
        *
    from periods
    union all
    select
        'month' as breakdown,
        strftime(as_of_month, '%Y-%m') as bucket,
        cast(strftime(as_of_month, '%Y%m') as integer) as bucket_order,
        *
    from periods
    union all
    select
        'tier' as breakdown,
        tier as bucket,
        case tier when 'A' then 1 when 'B' then 2 when 'C' then 3 else 4 end as bucket_order,
        *
    from periods
    union all
    select
        'decile' as breakdown,
        cast(decile as varchar) as bucket,
        decile as bucket_order,
        *
    from periods
),

bucket_totals as (
    select
        scorer,
        breakdown,
        bucket,
        sample_period,
        any_value(bucket_order) as bucket_order,
        min(as_of_date) as first_as_of_date,
        max(as_of_date) as last_as_of_date,
        cast(count(distinct as_of_date) as integer) as snapshots,
        count(*) as row_count,
        cast(sum(converted) as bigint) as positive_rows,
        sum(sample_weight) as population,
        sum(sample_weight * converted) as conversions,
        sum(sample_weight * predicted_probability) as predicted_conversions
    from sliced
    group by scorer, breakdown, bucket, sample_period
),

-- ROC AUC per window and month: the Mann-Whitney statistic with weights, a tie between a
-- converting and a non-converting row counting one half (as sklearn's roc_auc_score).
score_groups as (
    select
        scorer,
        breakdown,
        bucket,
        sample_period,
        score,
        sum(sample_weight * converted) as positive_weight,
        sum(sample_weight * (1 - converted)) as negative_weight
    from sliced
    where breakdown in ('window', 'month')
    group by scorer, breakdown, bucket, sample_period, score
),

score_groups_cumulated as (
    select
        *,
        coalesce(sum(negative_weight) over (
            partition by scorer, breakdown, bucket, sample_period
            order by score
            rows between unbounded preceding and 1 preceding
        ), 0) as negative_weight_below
    from score_groups
),

roc_aucs as (
    select
        scorer,
        breakdown,
        bucket,
        sample_period,
        sum(positive_weight * (negative_weight_below + 0.5 * negative_weight))
        / nullif(sum(positive_weight) * sum(negative_weight), 0) as roc_auc
    from score_groups_cumulated
    group by scorer, breakdown, bucket, sample_period
),

-- Expected calibration error per window and month over the scorer's snapshot deciles:
-- sum over deciles of |observed - predicted conversions| / population.
decile_gaps as (
    select
        scorer,
        breakdown,
        bucket,
        sample_period,
        abs(sum(sample_weight * converted) - sum(sample_weight * predicted_probability))
            as absolute_gap,
        sum(sample_weight) as population
    from sliced
    where breakdown in ('window', 'month')
    group by scorer, breakdown, bucket, sample_period, decile
),

calibration_errors as (
    select
        scorer,
        breakdown,
        bucket,
        sample_period,
        sum(absolute_gap) / sum(population) as expected_calibration_error
    from decile_gaps
    group by scorer, breakdown, bucket, sample_period
),

score_backtest as (
    select
        bucket_totals.scorer,
        bucket_totals.breakdown,
        bucket_totals.bucket,
        bucket_totals.bucket_order,
        bucket_totals.sample_period,
        bucket_totals.first_as_of_date,
        bucket_totals.last_as_of_date,
        bucket_totals.snapshots,
        bucket_totals.row_count,
        bucket_totals.positive_rows,
        bucket_totals.population,
        bucket_totals.conversions,
        round(bucket_totals.conversions / bucket_totals.population, 6) as conversion_rate,
        round(bucket_totals.predicted_conversions / bucket_totals.population, 6)
            as mean_predicted,
        round(
            (bucket_totals.conversions - bucket_totals.predicted_conversions)
            / bucket_totals.population,
            6
        ) as calibration_gap,
        round(calibration_errors.expected_calibration_error, 6) as expected_calibration_error,
        round(roc_aucs.roc_auc, 6) as roc_auc,
        round(
            bucket_totals.population / sum(bucket_totals.population) over breakdown_period, 6
        ) as share_of_population,
        round(
            bucket_totals.conversions
            / nullif(sum(bucket_totals.conversions) over breakdown_period, 0),
            6
        ) as share_of_conversions,
        round(
            (bucket_totals.conversions / bucket_totals.population)
            / nullif(
                sum(bucket_totals.conversions) over breakdown_period
                / sum(bucket_totals.population) over breakdown_period,
                0
            ),
            6
        ) as lift
    from bucket_totals
    left join roc_aucs
        on
            bucket_totals.scorer = roc_aucs.scorer
            and bucket_totals.breakdown = roc_aucs.breakdown
            and bucket_totals.bucket = roc_aucs.bucket
            and bucket_totals.sample_period = roc_aucs.sample_period
    left join calibration_errors
        on
            bucket_totals.scorer = calibration_errors.scorer
            and bucket_totals.breakdown = calibration_errors.breakdown
            and bucket_totals.bucket = calibration_errors.bucket
            and bucket_totals.sample_period = calibration_errors.sample_period
    window breakdown_period as (
        partition by bucket_totals.scorer, bucket_totals.breakdown, bucket_totals.sample_period
    )
)

select * from score_backtest
