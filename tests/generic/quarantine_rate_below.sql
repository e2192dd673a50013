{% test quarantine_rate_below(model, max_rate) %}
{#-
Fails when the share of landed rows that are quarantined exceeds `max_rate`. Declared twice
per source: at `lead_scoring__quarantine_warn_rate` with severity warn, and at
`lead_scoring__quarantine_error_rate` as an error.
  model: the base model (every landed row, with `quarantine_reasons`).
  max_rate: the largest acceptable share, 0 to 1.
-#}
with rates as (
    select
        count(*) as landed_rows,
        count(*) filter (where len(quarantine_reasons) > 0) as quarantined_rows,
        count(*) filter (where len(quarantine_reasons) > 0) / greatest(count(*), 1) as quarantine_rate
    from {{ model }}
)

select * from rates where quarantine_rate > {{ max_rate }}
{% endtest %}
