-- The rules-based points score of each lead and as-of date of int_lead_rule_rows_selected,
-- from the points table in seeds/lead_scoring_rules.csv: for each feature, the points of the best
-- matching rule (rows of one feature act as bands), summed over features; and the reasons
-- of the positive rules, best first, with the lead's value in place of {value}.
-- The best rule depends only on a feature's value, so it is found once per distinct value
-- (653 at 1M leads, against 27M lead values) and joined to every lead's values, instead of
-- matching and ranking the rules for each of them.
{{ config(materialized='table') }}
{%- set band_width = 10 %}

with leads as (
    select
        lead_id,
        as_of_date
    from {{ ref('int_lead_rule_rows_selected') }}
),

feature_values as (
    select
        lead_id,
        as_of_date,
        feature_name,
        feature_value
    from {{ ref('int_lead_rule_features_unpivoted') }}
),

distinct_values as (
    select distinct
        feature_name,
        feature_value,
        try_cast(feature_value as double) as feature_number
    from feature_values
),

rules as (
    select
        rule_id,
        feature_name,
        condition,
        threshold,
        try_cast(threshold as double) as threshold_number,
        points,
        reason
    from {{ ref('lead_scoring_rules') }}
),

matched_rules as (
    select
        distinct_values.feature_name,
        distinct_values.feature_value,
        rules.rule_id,
        rules.points,
        replace(rules.reason, '{value}', distinct_values.feature_value) as reason
    from distinct_values
    inner join rules
        on distinct_values.feature_name = rules.feature_name
    where
        case rules.condition
            when 'equals' then distinct_values.feature_value = rules.threshold
            when 'at_least' then distinct_values.feature_number >= rules.threshold_number
            when 'at_most' then distinct_values.feature_number <= rules.threshold_number
            when 'is_true' then distinct_values.feature_value = 'true'
            else false
        end
),

best_rule_per_value as (
    select
        feature_name,
        feature_value,
        rule_id,
        points,
        reason
    from matched_rules
    qualify
        row_number() over (
            partition by feature_name, feature_value order by points desc, rule_id asc
        ) = 1
),

-- A lead's reasons are ordered best first: more points, then the lower rule_id. As one
-- integer, so the top three are kept per lead without sorting each lead's rows.
best_rule_per_value_ranked as (
    select
        *,
        dense_rank() over (order by points desc, rule_id asc) as reason_rank
    from best_rule_per_value
),

points_per_lead as (
    select
        feature_values.lead_id,
        feature_values.as_of_date,
        sum(best.points) as rules_points,
        arg_min(best.reason, best.reason_rank, 3) filter (where best.points > 0) as positive_reasons
    from feature_values
    inner join best_rule_per_value_ranked as best
        on feature_values.feature_name = best.feature_name
            and feature_values.feature_value = best.feature_value
    group by feature_values.lead_id, feature_values.as_of_date
),

rules_scored as (
    select
        leads.lead_id,
        leads.as_of_date,
        cast(coalesce(points_per_lead.rules_points, 0) as integer) as rules_points,
        cast(
            floor(coalesce(points_per_lead.rules_points, 0) / {{ band_width }}) * {{ band_width }}
            as integer
        ) as rules_band,
        points_per_lead.positive_reasons[1] as rules_reason_1,
        points_per_lead.positive_reasons[2] as rules_reason_2,
        points_per_lead.positive_reasons[3] as rules_reason_3
    from leads
    left join points_per_lead
        on leads.lead_id = points_per_lead.lead_id
            and leads.as_of_date = points_per_lead.as_of_date
)

select * from rules_scored
