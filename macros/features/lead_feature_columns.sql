{% macro lead_feature_columns(relation) -%}
    {#-
    The feature columns of a feature set: every column but the keys, the label and the
    weight (the same rule the training step applies), split by kind.
      relation: the training or scoring set relation.
    Returns: {"numeric": [names], "categorical": [names]} (empty lists while parsing).
    -#}
    {%- set non_features = ["lead_id", "account_id", "as_of_date", "converted", "sample_weight"] -%}
    {%- set kinds = {"numeric": [], "categorical": []} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in non_features -%}
                {%- if column.is_string() -%}
                    {%- do kinds.categorical.append(column.name | lower) -%}
                {%- else -%}
                    {%- do kinds.numeric.append(column.name | lower) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(kinds) }}
{%- endmacro %}
