{#-
    Fails an incremental build, in words, when the table it would add to lacks columns the
    build reads from it (a warehouse built by an older version of the model): without this
    the build stops on DuckDB's "column not found". It does nothing on a build from empty, so
    call it once at the top of the model:
    `{% do require_incremental_columns(['activities', 'activities_fingerprint']) %}`.
-#}
{% macro require_incremental_columns(columns) %}
    {%- if execute and is_incremental() %}
        {%- set held = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list %}
        {%- set missing = [] %}
        {%- for column in columns if column | lower not in held %}
            {%- do missing.append(column) %}
        {%- endfor %}
        {%- if missing %}
            {{ exceptions.raise_compiler_error(
                this ~ " was built by an older version of " ~ model.name ~ " and has no column "
                ~ missing | join(", ") ~ ", which its incremental build reads. Rebuild it once: "
                ~ "dbt build --full-refresh --select " ~ model.name ~ "+ (or leadscore build --fresh)."
            ) }}
        {%- endif %}
    {%- endif %}
{% endmacro %}
