-- One score per lead and as-of date, for the scoring date and the matured history: the
-- model's probability (int_lead_scores_computed) or, on rows it flags for the rules fallback,
-- the rules score's calibrated band rate (int_lead_rules_bands_calibrated); with up to three
-- reasons in words and the version of whatever scored the row.
{{ config(materialized='table') }}

with computed as (
    select * from {{ ref('int_lead_scores_computed') }}
),

rules_scores as (
    select
        lead_id,
        as_of_date,
        rules_points,
        rules_band,
        rules_reason_1,
        rules_reason_2,
        rules_reason_3
    from {{ ref('int_lead_rules_scored') }}
),

rules_bands as (
    select
        rules_band,
        conversion_rate
    from {{ ref('int_lead_rules_bands_calibrated') }}
),

rules as (
    select
        rule_id,
        concat_ws('|', rule_id, feature_name, condition, coalesce(threshold, ''), points, reason)
            as rule_text
    from {{ ref('lead_scoring_rules') }}
),

templates as (
    select
        feature_name,
        template
    from {{ ref('feature_reason_templates') }}
),

rules_version as (
    select
        'rules:' || left(sha256(string_agg(rule_text, chr(10) order by rule_id)), 12)
            as rules_version
    from rules
),

lowest_band as (
    select min_by(conversion_rate, rules_band) as lowest_band_rate
    from rules_bands
),

rules_probabilities as (
    select
        rules_scores.*,
        coalesce(rules_bands.conversion_rate, lowest_band.lowest_band_rate) as rules_probability
    from rules_scores
    asof left join rules_bands
        on rules_scores.rules_band >= rules_bands.rules_band
    left join lowest_band on true
),

model_reasons_worded as (
    select
        computed.lead_id,
        computed.as_of_date,
        {{ worded_reason(
            'computed.reason_1_feature', 'computed.reason_1_value', 'template_1'
        ) }} as model_reason_1,
        {{ worded_reason(
            'computed.reason_2_feature', 'computed.reason_2_value', 'template_2'
        ) }} as model_reason_2,
        {{ worded_reason(
            'computed.reason_3_feature', 'computed.reason_3_value', 'template_3'
        ) }} as model_reason_3
    from computed
    left join templates as template_1
        on computed.reason_1_feature = template_1.feature_name
    left join templates as template_2
        on computed.reason_2_feature = template_2.feature_name
    left join templates as template_3
        on computed.reason_3_feature = template_3.feature_name
),

scores_resolved as (
    select
        computed.lead_id,
        computed.account_id,
        computed.as_of_date,
        computed.is_scoring_date,
        computed.converted,
        computed.is_rules_fallback,
        computed.fallback_reason,
        case
            when computed.is_rules_fallback then rules_version.rules_version
            else computed.model_version
        end as model_version,
        case
            when computed.is_rules_fallback then rules_probabilities.rules_probability
            else computed.conversion_probability
        end as conversion_probability,
        rules_probabilities.rules_points,
        rules_probabilities.rules_probability,
        case
            when computed.is_rules_fallback then rules_probabilities.rules_reason_1
            else model_reasons_worded.model_reason_1
        end as reason_1,
        case
            when computed.is_rules_fallback then rules_probabilities.rules_reason_2
            else model_reasons_worded.model_reason_2
        end as reason_2,
        case
            when computed.is_rules_fallback then rules_probabilities.rules_reason_3
            else model_reasons_worded.model_reason_3
        end as reason_3,
        computed.unseen_categories
    from computed
    cross join rules_version
    left join rules_probabilities
        on computed.lead_id = rules_probabilities.lead_id
            and computed.as_of_date = rules_probabilities.as_of_date
    left join model_reasons_worded
        on computed.lead_id = model_reasons_worded.lead_id
            and computed.as_of_date = model_reasons_worded.as_of_date
)

select * from scores_resolved
