{% test rows_reconcile(model, clean_model, quarantine_model) %}
{#-
Every landed row is either clean or quarantined: fails unless
rows(model) = rows(clean_model) + rows(quarantine_model).
  model: the base model holding every landed row.
  clean_model / quarantine_model: the two staging models it splits into.
-#}
with counts as (
    select
        (select count(*) from {{ model }}) as landed_rows,
        (select count(*) from {{ clean_model }}) as clean_rows,
        (select count(*) from {{ quarantine_model }}) as quarantined_rows
)

select * from counts where landed_rows != clean_rows + quarantined_rows
{% endtest %}
