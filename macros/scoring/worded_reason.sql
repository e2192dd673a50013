{% macro worded_reason(feature, value, template) -%}
    {#-
    A reason as a salesperson reads it: the feature's template from
    seeds/feature_reason_templates.csv with `{value}` filled in, or "<feature name>: <value>"
    when the feature has no template.
      feature: the reason's feature column.  value: its value column (text).
      template: the alias of the templates relation joined on that feature.
    -#}
    coalesce(
        replace({{ template }}.template, '{value}', {{ value }}),
        replace({{ feature }}, '_', ' ') || ': ' || {{ value }}
    )
{%- endmacro %}
