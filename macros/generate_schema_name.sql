{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Models land in the schema their folder names (staging, intermediate, marts,
        reference) rather than `<target schema>_<folder>`, so BI sees stable names. -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
