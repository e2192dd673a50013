{% test unique_combination_of_columns(model, combination_of_columns) %}
{#-
Fails for every combination of `combination_of_columns` that occurs more than once.
  combination_of_columns: the list of columns that together form the grain.
-#}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
