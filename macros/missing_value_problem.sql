{% macro missing_value_problem(column, reason) -%}
    {#-
    `reason` when a required raw text value is empty, else null.
      column: the raw text column.  reason: e.g. 'missing_key' or 'missing_reference'.
    -#}
    case when {{ clean_text(column) }} is null then '{{ reason }}' end
{%- endmacro %}
