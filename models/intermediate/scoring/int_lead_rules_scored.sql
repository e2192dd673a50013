-- The rules-based points score of each lead and as-of date of int_lead_rule_rows_selected,
-- from the points table in seeds/lead_scoring_rules.csv: for each feature, the points of the best
-- matching rule (rows of one feature act as bands), summed over features; and the reasons
-- of the positive rules, best first, with the lead's value in place of {value}.
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
        feature_value,
        try_cast(feature_value as double) as feature_number
    from {{ ref('int_lead_rule_features_unpivoted') }}
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
        feature_values.lead_id,
        feature_values.as_of_date,
        feature_values.feature_name,
        rules.rule_id,
        rules.points,
        replace(rules.reason, '{value}', feature_values.feature_value) as reason
    from feature_values
    inner join rules
        on feature_values.feature_name = rules.feature_name
    where
        case rules.condition
            when 'equals' then feature_values.feature_value = rules.threshold
            when 'at_least' then feature_values.feature_number >= rules.threshold_number
            when 'at_most' then feature_values.feature_number <= rules.threshold_number
            when 'is_true' then feature_values.feature_value = 'true'
            else false
        end
),

best_rule_per_feature as (
    select
        lead_id,
        as_of_date,
        feature_name,
        max(points) as points,
        first(reason order by points desc, rule_id asc) as reason,
        first(rule_id order by points desc, rule_id asc) as rule_id
    from matched_rules
    group by lead_id, as_of_date, feature_name
),

points_per_lead as (
    select
        lead_id,
        as_of_date,
        sum(points) as rules_points,
        list(reason order by points desc, rule_id asc) filter (where points > 0) as positive_reasons
    from best_rule_per_feature
    group by lead_id, as_of_date
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
