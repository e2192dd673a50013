-- The values of the features the points table (seeds/lead_scoring_rules.csv) scores, one row
-- per lead, as-of date and feature, as text, for the rows of int_lead_rule_rows_selected. The
-- feature list is read from the seed when the model runs, so adding a rule on another column
-- needs no SQL change; a feature_name that is not a column of fct_lead_features fails the build
-- naming it. NULL values are dropped (a NULL matches no rule).
{%- set rules_relation = ref('lead_scoring_rules') -%}
{%- set features_relation = ref('fct_lead_features') -%}
{%- set rule_features = [] -%}
{%- if execute -%}
{%- set rules_query = 'select distinct feature_name from ' ~ rules_relation ~ ' order by 1' -%}
{%- set rule_features = run_query(rules_query).columns[0].values() | list -%}
{%- set feature_columns = adapter.get_columns_in_relation(features_relation) -%}
{%- set available = feature_columns | map(attribute='name') | map('lower') | list -%}
{%- for feature_name in rule_features if feature_name | lower not in available -%}
{{ exceptions.raise_compiler_error(
    "seeds/lead_scoring_rules.csv scores the feature '" ~ feature_name
    ~ "', which is not a column of fct_lead_features: fix its feature_name"
) }}
{%- endfor -%}
{%- endif %}

with rows_selected as (
    select
        lead_id,
        as_of_date
    from {{ ref('int_lead_rule_rows_selected') }}
),

features as (
    select
        features.lead_id,
        {%- for feature_name in rule_features %}
        cast(features.{{ adapter.quote(feature_name) }} as varchar) as {{ adapter.quote(feature_name) }},
        {%- endfor %}
        features.as_of_date
    from {{ features_relation }} as features
    inner join rows_selected
        on features.lead_id = rows_selected.lead_id
            and features.as_of_date = rows_selected.as_of_date
),

{%- if rule_features %}

feature_values as (
    select
        lead_id,
        as_of_date,
        feature_name,
        feature_value
    from features
    unpivot (
        feature_value for feature_name in (
            {%- for feature_name in rule_features %}
            {{ adapter.quote(feature_name) }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
    )
)

{%- else %}

feature_values as (
    select
        lead_id,
        as_of_date,
        cast(null as varchar) as feature_name,
        cast(null as varchar) as feature_value
    from features
    where false
)

{%- endif %}

select * from feature_values
