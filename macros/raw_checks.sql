{#- Checks shared by the base models: each returns a quarantine reason or null. -#}

{% macro clean_text(column) -%}
    {#- Trimmed text, empty as null.  column: a text column or expression. -#}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{% macro timestamp_problem(column, required=true) -%}
    {#-
    Reason a raw timestamp cannot be kept, or null.
      column: the raw text column.
      required: when true an empty value is `missing_timestamp`; when false it is allowed.
    Values after `lead_scoring__extracted_at` (the moment of the export) are `future_timestamp`.
    -#}
    case
        when {{ clean_text(column) }} is null
            then {{ "'missing_timestamp'" if required else "null" }}
        when try_cast({{ clean_text(column) }} as timestamp) is null then 'bad_timestamp'
        when try_cast({{ clean_text(column) }} as timestamp)
            > cast('{{ var("lead_scoring__extracted_at") }}' as timestamp)
            then 'future_timestamp'
    end
{%- endmacro %}

{% macro number_problem(column, type='double') -%}
    {#-
    Reason a raw number cannot be kept (unparseable or negative), or null when it is fine or empty.
      column: the raw text column.  type: the SQL type it must cast to.
    -#}
    case
        when {{ clean_text(column) }} is null then null
        when try_cast({{ clean_text(column) }} as {{ type }}) is null then 'bad_number'
        when try_cast({{ clean_text(column) }} as {{ type }}) < 0 then 'bad_number'
    end
{%- endmacro %}

{% macro quarantine_reasons(problems) -%}
    {#-
    The list of reasons a landed record is quarantined (empty when it is clean).
      problems: SQL expressions that each yield a reason or null. A record that could not be
      parsed (`parse_problem`) keeps only that reason: its fields are not trustworthy.
    -#}
    case
        when parse_problem is not null then [parse_problem]
        else list_sort(list_distinct(list_filter(
            [{{ problems | join(", ") }}], lambda reason: reason is not null
        )))
    end
{%- endmacro %}

{% macro duplicate_key_reasons(reasons, key) -%}
    {#-
    Adds `duplicate_key` for every record whose key was seen before. Among records that share a
    key, the one kept is the earliest line that passes every other check; all others are
    quarantined as duplicates (with any other reasons they have).
      reasons: the column holding the reasons so far.  key: the key column.
    -#}
    case
        when {{ key }} is not null
            and row_number() over (
                partition by {{ key }} order by len({{ reasons }}) = 0 desc, raw_line_number
            ) > 1
            then list_append({{ reasons }}, 'duplicate_key')
        else {{ reasons }}
    end
{%- endmacro %}
