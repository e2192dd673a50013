{#-
    Incremental point-in-time models: the spine-keyed models keep the rows of as-of dates they
    already hold and build only the dates whose inputs may have changed.

    A feature as of a date sees only rows strictly before it, so once a snapshot date is built
    a new day of data cannot change its rows. Each run builds:
      - the scoring date (always: it moves with the data);
      - every date not in the table yet (a new snapshot, or a date the table never had);
      - every date on or after the latest date the table holds, less
        lead_scoring__rebuild_lookback_days (the previous scoring date, which may now be a
        snapshot, and late data within the lookback).
    Rows of those dates are replaced (delete+insert on as_of_date); rows of dates that left
    the spine are deleted after the insert (delete_as_of_dates_dropped). Data that arrives
    later than the lookback, a change of feature logic, or a var that changes existing rows
    (lead_scoring__active_within_days, half-lives, windows) needs `dbt build --full-refresh`
    (or `leadscore build --fresh`).
-#}

{#-
    The config of those models. DuckDB plans an ASOF join as a nested loop when it expects at
    most asof_loop_join_threshold (64) rows on the left; it once estimated a spine at ~20 rows,
    and the nested loop then cost spine x days (35 s instead of 1.5 s at the demo size). A
    spine filtered to a few dates is estimated small too, so the sort-merge ASOF join is
    always planned in these models.
-#}
{% macro incremental_by_as_of_date_config() %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'as_of_date',
        'on_schema_change': 'fail',
        'pre_hook': ["set asof_loop_join_threshold = 0"],
        'post_hook': ["{{ delete_as_of_dates_dropped() }}", "reset asof_loop_join_threshold"],
    }) }}
{% endmacro %}


{#-
    The filter of a model's spine: `where {{ as_of_date_is_to_build(ref('int_lead_as_of_dates')) }}`.
    `spine` is the relation the model reads its as-of dates from (with is_scoring_date); a
    build from empty (and a unit test) builds every date, so the filter is then `true`.
    `column` is the as-of date column the filter is on (qualified when the query needs it).
-#}
{% macro as_of_date_is_to_build(spine, column='as_of_date') %}
    {%- if is_incremental() -%}
    {%- set lookback = var('lead_scoring__rebuild_lookback_days') -%}
    {{ column }} in (
        select distinct dates.as_of_date
        from {{ spine }} as dates
        where
            dates.is_scoring_date
            or dates.as_of_date not in (select distinct built.as_of_date from {{ this }} as built)
            or dates.as_of_date >= (select max(built.as_of_date) from {{ this }} as built) - {{ lookback }}
    )
    {%- else -%}
    true
    {%- endif -%}
{% endmacro %}


{% macro delete_as_of_dates_dropped() %}
    delete from {{ this }}
    where as_of_date not in (select as_of_date from {{ ref('int_as_of_dates') }})
{% endmacro %}


{#-
    The as-of dates of `spine` this run builds (as_of_date_is_to_build), as ISO date strings,
    for a model whose best plan depends on them; none when it builds every date (from empty, or
    at parse time). `where` narrows them (a condition on `dates`, the spine's rows).
-#}
{% macro as_of_dates_to_build(spine, where='true') %}
    {%- if execute and is_incremental() -%}
    {%- set found = run_query(
        "select distinct cast(dates.as_of_date as varchar) from " ~ spine ~ " as dates"
        ~ " where (" ~ where ~ ") and " ~ as_of_date_is_to_build(spine, 'dates.as_of_date')
        ~ " order by 1"
    ) -%}
    {{ return(found.columns[0].values() | list) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{#-
    Whether this run builds at most two as-of dates of `spine` (a new day: the scoring date,
    perhaps a new snapshot), when a model's aggregation per lead and date beats its as-of joins,
    which sort every lead's history whatever the dates. Says so in the dbt log when it does.
    `where` leaves out dates that cost nothing either way (a condition on `dates`, as in
    as_of_dates_to_build), such as dates before the first lead.
-#}
{% macro builds_few_as_of_dates(spine, where='true') %}
    {%- set dates = as_of_dates_to_build(spine, where) -%}
    {%- if dates is not none and dates | length <= 2 -%}
    {{ log(this.identifier ~ ": " ~ dates | length ~ " as-of date(s) to build, by aggregation", info=True) }}
    {{ return(true) }}
    {%- endif -%}
    {{ return(false) }}
{% endmacro %}


{#-
    The condition that a row of int_as_of_dates (aliased `dates`) is a matured snapshot: its
    label horizon has closed by the scoring date.
-#}
{% macro as_of_date_is_matured(dates='dates') %}
    not {{ dates }}.is_scoring_date
    and {{ dates }}.as_of_date + {{ var('lead_scoring__label_horizon_days') }} <= (
        select scoring.as_of_date from {{ ref('int_as_of_dates') }} as scoring
        where scoring.is_scoring_date
    )
{%- endmacro %}


{#-
    The definition an incremental model's rows were built with (its table comment, written by
    `record_definition`), or none when the table does not exist or holds none.
-#}
{% macro held_definition() %}
    {%- if execute and is_incremental() -%}
    {%- set found = run_query(
        "select comment from duckdb_tables() where database_name = '" ~ this.database
        ~ "' and schema_name = '" ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "'"
    ) -%}
    {%- if found.rows | length > 0 -%}
    {{ return(found.columns[0].values()[0]) }}
    {%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{#- A post-hook: records `definition` (text) as the table's comment, for held_definition. -#}
{% macro record_definition(definition) %}
    comment on table {{ this }} is '{{ definition | replace("'", "''") }}'
{% endmacro %}


{#-
    A post-hook of fct_lead_training_set: deletes the dates that are no longer matured (as_of_date
    + the label horizon after the scoring date, as after a build at an earlier scoring date) or
    no longer in the spine.
-#}
{% macro delete_dates_not_matured() %}
    delete from {{ this }}
    where as_of_date not in (
        select dates.as_of_date
        from {{ ref('int_as_of_dates') }} as dates
        where {{ as_of_date_is_matured('dates') }}
    )
{% endmacro %}
