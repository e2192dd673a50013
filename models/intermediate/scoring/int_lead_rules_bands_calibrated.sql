{%- set prior_weight = 50 -%}
{%- set min_band_rows = 200 -%}
-- The rules score as a calibrated probability: the conversion rate of the training rows
-- (fct_lead_training_set, weighted by sample_weight) per band of 10 points. The extreme bands
-- are widened until each holds at least {{ min_band_rows }} training rows (a handful of leads
-- with 95 points say little about 95 points), and each band's rate is shrunk towards the
-- overall rate as if it had {{ prior_weight }} more rows at that rate. A lead takes the rate
-- of the band its points fall in; points below the lowest band take the lowest band's rate
-- (int_lead_scores_resolved).

with training_rows as (
    select
        lead_id,
        as_of_date,
        converted,
        sample_weight
    from {{ ref('fct_lead_training_set') }}
),

rules_scores as (
    select
        lead_id,
        as_of_date,
        rules_band
    from {{ ref('int_lead_rules_scored') }}
),

training_scored as (
    select
        rules_scores.rules_band,
        training_rows.converted,
        training_rows.sample_weight
    from training_rows
    inner join rules_scores
        on training_rows.lead_id = rules_scores.lead_id
            and training_rows.as_of_date = rules_scores.as_of_date
),

raw_band_rows as (
    select
        rules_band,
        count(*) as training_rows
    from training_scored
    group by rules_band
),

cumulative_band_rows as (
    select
        rules_band,
        sum(training_rows) over (
            order by rules_band rows between unbounded preceding and current row
        ) as rows_from_bottom,
        sum(training_rows) over (
            order by rules_band desc rows between unbounded preceding and current row
        ) as rows_from_top
    from raw_band_rows
),

band_limits as (
    select
        coalesce(
            min(rules_band) filter (where rows_from_bottom >= {{ min_band_rows }}),
            min(rules_band)
        ) as lowest_band,
        coalesce(
            max(rules_band) filter (where rows_from_top >= {{ min_band_rows }}),
            max(rules_band)
        ) as highest_band
    from cumulative_band_rows
),

band_outcomes as (
    select
        least(
            greatest(training_scored.rules_band, band_limits.lowest_band),
            greatest(band_limits.highest_band, band_limits.lowest_band)
        ) as rules_band,
        count(*) as training_rows,
        sum(training_scored.sample_weight) as training_weight,
        sum(training_scored.sample_weight * training_scored.converted) as training_conversions
    from training_scored
    cross join band_limits
    group by all
),

overall as (
    select sum(training_conversions) / sum(training_weight) as overall_rate
    from band_outcomes
),

bands_calibrated as (
    select
        band_outcomes.rules_band,
        lead(band_outcomes.rules_band) over (order by band_outcomes.rules_band) - 1
            as rules_band_max_points,
        band_outcomes.training_rows,
        band_outcomes.training_weight,
        band_outcomes.training_conversions,
        band_outcomes.training_conversions / band_outcomes.training_weight as observed_rate,
        overall.overall_rate,
        (band_outcomes.training_conversions + {{ prior_weight }} * overall.overall_rate)
        / (band_outcomes.training_weight + {{ prior_weight }}) as conversion_rate
    from band_outcomes
    cross join overall
)

select * from bands_calibrated
