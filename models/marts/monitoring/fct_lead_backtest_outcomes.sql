-- Every matured historical row (fct_lead_training_set) with what happened and what each
-- scorer said: the current model's probability (replayed, fct_lead_backtest_scores) and the
-- rules points score (int_lead_rules_scored, with its calibrated band rate), each with the
-- tier it would have got that week and its decile within the snapshot. Tiers follow the rule
-- of int_tier_cutoffs_solved applied to each snapshot: A, B and C hold the weekly capacity of
-- seeds/sales_capacity.csv (or the cumulative percentages of lead_scoring__tier_percent_cutoffs)
-- in score order, D the rest. model_window places the row against the model's walk-forward
-- windows: rows after its validation window are out of sample. One row per lead and as-of date.
{%- set percent_cutoffs = var('lead_scoring__tier_percent_cutoffs') %}

with training_set as (
    select
        lead_id,
        account_id,
        as_of_date,
        converted,
        sample_weight,
        industry,
        region,
        employee_band,
        lead_source
    from {{ ref('fct_lead_training_set') }}
),

monitored_model as (
    select
        model_version,
        train_end,
        validation_start,
        validation_end,
        test_start,
        test_end
    from {{ ref('fct_monitored_model') }}
),

model_scores as (
    select
        lead_id,
        as_of_date,
        model_version,
        conversion_probability
    from {{ ref('fct_lead_backtest_scores') }}
    where not is_scoring_date
),

rules_scores as (
    select
        lead_id,
        as_of_date,
        rules_points,
        rules_band
    from {{ ref('int_lead_rules_scored') }}
),

rules_bands as (
    select
        rules_band,
        conversion_rate
    from {{ ref('int_lead_rules_bands_calibrated') }}
),

sales_capacity as (
    select
        tier,
        weekly_leads
    from {{ ref('sales_capacity') }}
),

lowest_band as (
    select min_by(conversion_rate, rules_band) as lowest_band_rate
    from rules_bands
),

tier_last_positions as (
    select
        coalesce(sum(weekly_leads) filter (where tier = 'A'), 0) as a_last_position,
        coalesce(sum(weekly_leads) filter (where tier in ('A', 'B')), 0) as b_last_position,
        coalesce(sum(weekly_leads) filter (where tier in ('A', 'B', 'C')), 0) as c_last_position
    from sales_capacity
),

-- The rules score's calibrated rate, looked up like int_lead_scores_resolved does: the band
-- at or below the row's band, else the lowest band.
rules_probabilities as (
    select
        rules_scores.lead_id,
        rules_scores.as_of_date,
        rules_scores.rules_points,
        coalesce(rules_bands.conversion_rate, lowest_band.lowest_band_rate) as rules_probability
    from rules_scores
    asof left join rules_bands
        on rules_scores.rules_band >= rules_bands.rules_band
    cross join lowest_band
),

backtest_rows as (
    select
        training_set.lead_id,
        training_set.account_id,
        training_set.as_of_date,
        cast(date_trunc('month', training_set.as_of_date) as date) as as_of_month,
        training_set.converted,
        cast(training_set.sample_weight as double) as sample_weight,
        training_set.industry,
        training_set.region,
        training_set.employee_band,
        training_set.lead_source,
        monitored_model.model_version,
        case
            when monitored_model.model_version is null then 'no_model'
            when monitored_model.test_end is null then 'unknown'
            when training_set.as_of_date <= monitored_model.train_end then 'train'
            when training_set.as_of_date < monitored_model.validation_start
                then 'train_validation_gap'
            when training_set.as_of_date <= monitored_model.validation_end then 'validation'
            when training_set.as_of_date < monitored_model.test_start then 'validation_test_gap'
            when training_set.as_of_date <= monitored_model.test_end then 'test'
            else 'after_training'
        end as model_window,
        coalesce(training_set.as_of_date > monitored_model.validation_end, false)
            as is_out_of_sample,
        model_scores.conversion_probability as model_probability,
        coalesce(rules_probabilities.rules_points, 0) as rules_points,
        rules_probabilities.rules_probability
    from training_set
    cross join monitored_model
    left join model_scores
        on
            training_set.lead_id = model_scores.lead_id
            and training_set.as_of_date = model_scores.as_of_date
            and monitored_model.model_version = model_scores.model_version
    left join rules_probabilities
        on
            training_set.lead_id = rules_probabilities.lead_id
            and training_set.as_of_date = rules_probabilities.as_of_date
),

-- Positions in each snapshot's call list (cumulative weight in score order, ties broken like
-- fct_lead_scores), and for the deciles the share of the snapshot's weight ranked above the
-- middle of each group of tied scores.
positioned as (
    select
        *,
        sum(sample_weight) over (partition by as_of_date) as snapshot_weight,
        sum(sample_weight) over (
            partition by as_of_date
            order by model_probability desc nulls last, rules_points desc, lead_id asc
            rows between unbounded preceding and current row
        ) as model_position,
        sum(sample_weight) over (
            partition by as_of_date
            order by rules_points desc, lead_id asc
            rows between unbounded preceding and current row
        ) as rules_position,
        (
            sum(sample_weight) over (
                partition by as_of_date
                order by model_probability desc nulls last
                range between unbounded preceding and current row
            ) - sum(sample_weight) over (partition by as_of_date, model_probability) / 2
        ) / sum(sample_weight) over (partition by as_of_date) as model_tie_share,
        (
            sum(sample_weight) over (
                partition by as_of_date
                order by rules_points desc
                range between unbounded preceding and current row
            ) - sum(sample_weight) over (partition by as_of_date, rules_points) / 2
        ) / sum(sample_weight) over (partition by as_of_date) as rules_tie_share
    from backtest_rows
),

tiered as (
    select
        positioned.lead_id,
        positioned.account_id,
        positioned.as_of_date,
        positioned.as_of_month,
        positioned.converted,
        positioned.sample_weight,
        positioned.industry,
        positioned.region,
        positioned.employee_band,
        positioned.lead_source,
        positioned.model_version,
        positioned.model_window,
        positioned.is_out_of_sample,
        positioned.model_probability,
        {%- for scorer in ['model', 'rules'] %}
        case
            {%- if scorer == 'model' %}
            when positioned.model_probability is null then null
            {%- endif %}
            {%- if percent_cutoffs is none %}
            when positioned.{{ scorer }}_position <= tier_last_positions.a_last_position then 'A'
            when positioned.{{ scorer }}_position <= tier_last_positions.b_last_position then 'B'
            when positioned.{{ scorer }}_position <= tier_last_positions.c_last_position then 'C'
            {%- else %}
            {%- set a_percent = percent_cutoffs.get('A', 0) %}
            {%- set b_percent = percent_cutoffs.get('B', a_percent) %}
            {%- set c_percent = percent_cutoffs.get('C', b_percent) %}
            when positioned.{{ scorer }}_position
                <= ceil(positioned.snapshot_weight * {{ a_percent }} / 100.0) then 'A'
            when positioned.{{ scorer }}_position
                <= ceil(positioned.snapshot_weight * {{ b_percent }} / 100.0) then 'B'
            when positioned.{{ scorer }}_position
                <= ceil(positioned.snapshot_weight * {{ c_percent }} / 100.0) then 'C'
            {%- endif %}
            else 'D'
        end as {{ scorer }}_tier,
        {%- endfor %}
        case
            when positioned.model_probability is not null
                then cast(least(10, floor(10 * positioned.model_tie_share) + 1) as integer)
        end as model_decile,
        positioned.rules_points,
        positioned.rules_probability,
        cast(least(10, floor(10 * positioned.rules_tie_share) + 1) as integer) as rules_decile
    from positioned
    cross join tier_last_positions
)

select * from tiered
