{% test rows_match_raw_file(model, raw_file) %}
{#-
Nothing is lost at landing: fails unless the model has one row per data record of the raw
file, counted independently of the parser. For CSV that is the file's physical lines (line
feeds, plus a last line without one) less the header, so a quote that swallows a line
fails; for Parquet it is the file's row count.
  raw_file: the source() relation of the file.
-#}
with raw_records as (
    {%- if var('lead_scoring__raw_format') == 'csv' %}
    select
        length(content) - length(replace(content, chr(10), ''))
        + case when content = '' or suffix(content, chr(10)) then 0 else 1 end
        - 1 as raw_record_count
    from {{ raw_file }}
    {%- else %}
    select count(*) as raw_record_count from {{ raw_file }}
    {%- endif %}
),

landed as (
    select count(*) as landed_record_count from {{ model }}
)

select *
from raw_records
cross join landed
where raw_records.raw_record_count != landed.landed_record_count
{% endtest %}
