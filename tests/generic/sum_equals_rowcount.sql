{% test sum_equals_rowcount(model, column_name, compare_model) %}
{#-
Fails unless the sum of `column_name` over `model` equals the rows of `compare_model`: a
roll-up of `compare_model` with a count per row has counted every row once.
  column_name: the count column of the roll-up.
  compare_model: the relation rolled up, e.g. ref('stg_crm__activities').
-#}
with counts as (
    select
        (select coalesce(sum({{ column_name }}), 0) from {{ model }}) as rolled_up_rows,
        (select count(*) from {{ compare_model }}) as compare_rows
)

select * from counts where rolled_up_rows != compare_rows
{% endtest %}
