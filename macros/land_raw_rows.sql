{% macro land_raw_rows(source_relation, file_name, columns) -%}
    {#-
    Lands one raw file as text, one row per record, losing none.

    CSV: the file arrives as one text value (`read_text`) and is split on line feeds, so each
    physical line is one record whatever its quotes do; a trailing carriage return is
    dropped. Fields are split on commas outside double quotes and unquoted (`""` -> `"`),
    then picked by header name. A line with an odd number of quotes is flagged
    `unterminated_quote`, a line whose field count differs from the header's
    `wrong_field_count`. A header without one of `columns` fails the build.
    Parquet: one row per Parquet row, every column cast to text; `raw_line` is the row itself
    (a struct of every column with its Parquet type), written out as JSON only for the records
    kept in quarantine (`quarantined_raw_line`). JSON for every row, carried through the
    duplicate-key window, cost 42-56 s against 31-35 s for 23.7M activities (docs/benchmark.md).

    Arguments:
      source_relation: the `source()` relation of the raw file.
      file_name: the file's name, for error messages (e.g. 'accounts.csv').
      columns: the contract's column names, in contract order.

    Returns columns `raw_line_number` (physical line for CSV, header = line 1; row number
    for Parquet), `raw_line` (the record as it arrived: text for CSV, a struct for Parquet;
    the model's last select turns it to text with `quarantined_raw_line`), `parse_problem` (null when the
    record parsed), then one text column per contract column.
    -#}
    {%- if var('lead_scoring__raw_format') == 'csv' %}
    with raw_file as (
        select content from {{ source_relation }}
    ),

    physical_lines as (
        select
            unnest(generate_series(1, len(lines))) as raw_line_number,
            rtrim(unnest(lines), chr(13)) as raw_line
        from (
            select
                string_split(
                    case when suffix(content, chr(10)) then content[:-2] else content end,
                    chr(10)
                ) as lines
            from raw_file
        )
    ),

    split_lines as (
        select
            raw_line_number,
            raw_line,
            length(raw_line) - length(replace(raw_line, '"', '')) as quote_count,
            list_transform(
                case
                    when strpos(raw_line, '"') = 0 then string_split(raw_line, ',')
                    -- Every field follows a comma once one is put in front, so no match is
                    -- empty (an empty match would make the scan skip the next comma).
                    else regexp_extract_all(',' || raw_line, ',("(?:[^"]|"")*"|[^,"]*)', 1)
                end,
                lambda field: case
                    when length(field) >= 2 and prefix(field, '"') and suffix(field, '"')
                        then replace(field[2:-2], '""', '"')
                    else field
                end
            ) as fields
        from physical_lines
    ),

    header as (
        select list_transform(fields, lambda name: lower(trim(name))) as header_fields
        from split_lines
        where raw_line_number = 1
    ),

    records as (
        select
            split_lines.raw_line_number,
            split_lines.raw_line,
            case
                when split_lines.quote_count % 2 = 1 then 'unterminated_quote'
                when len(split_lines.fields) != len(header.header_fields) then 'wrong_field_count'
            end as parse_problem,
            {%- for column in columns %}
            case
                when list_position(header.header_fields, '{{ column }}') is null
                    then error('{{ file_name }} has no column "{{ column }}" in its header line')
                else split_lines.fields[list_position(header.header_fields, '{{ column }}')]
            end as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from split_lines
        cross join header
        where split_lines.raw_line_number > 1
    )

    select * from records
    {%- else %}
    with raw_rows as (
        select * from {{ source_relation }}
    ),

    records as (
        select
            row_number() over () as raw_line_number,
            raw_rows as raw_line,
            cast(null as varchar) as parse_problem,
            {%- for column in columns %}
            cast({{ column }} as varchar) as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from raw_rows
    )

    select * from records
    {%- endif %}
{%- endmacro %}


{% macro quarantined_raw_line(reasons='quarantine_reasons') -%}
    {#-
    The `raw_line` column of a base model's last select: the record as it arrived (as text;
    JSON of the row for Parquet) when it is quarantined, null when it is clean (a clean record
    is its typed columns and points back to the export by `raw_line_number`).
      reasons: the column holding the record's quarantine reasons.
    -#}
    case
        when len({{ reasons }}) > 0 then
            {%- if var('lead_scoring__raw_format') == 'csv' %} raw_line
            {%- else %} cast(to_json(raw_line) as varchar)
            {%- endif %}
    end as raw_line
{%- endmacro %}
