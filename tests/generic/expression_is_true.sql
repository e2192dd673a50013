{% test expression_is_true(model, expression, column_name=none, where=none) %}
{#-
Fails for every row where `expression` is not true.
  expression: a SQL boolean expression over the model's columns.
  column_name: set when declared on a column (the expression still names it).
  where: an optional filter; the built-in `where` config works too.
-#}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where %} and ({{ where }}){% endif %}
{% endtest %}
