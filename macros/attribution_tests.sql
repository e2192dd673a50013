{% test credits_sum_to_one(model, group_by, credit_column='credit', tolerance=1e-9) %}
{#-
Fails for every conversion whose credits do not sum to 1 (within `tolerance`).
  group_by: the columns that identify one conversion under one model, e.g.
    [path_scope, attribution_model, opportunity_id].
  credit_column: the column holding each touch's credit.
  tolerance: the largest acceptable |sum - 1|.
-#}
select
    {{ group_by | join(', ') }},
    count(*) as touch_count,
    sum({{ credit_column }}) as total_credit
from {{ model }}
group by {{ group_by | join(', ') }}
having
    sum({{ credit_column }}) is null
    or abs(sum({{ credit_column }}) - 1) > {{ tolerance }}
{% endtest %}


{% test attributed_conversions_reconcile(
    model, paths_model, attribution_models, tolerance=1e-6
) %}
{#-
Fails unless every attribution model credits, per path scope, exactly the conversions that
have at least one touch on their path, and their whole pipeline amount.
  model: a table with path_scope, attribution_model, attributed_conversions and
    attributed_pipeline_amount (summed here over every other column).
  paths_model: int_attribution_paths_aggregated (is_conversion, touch_count,
    opportunity_amount per path).
  attribution_models: the model names that must all be present.
  tolerance: relative tolerance of the comparison.
-#}
with touched_conversions as (
    select
        path_scope,
        count(*) as conversions,
        coalesce(sum(opportunity_amount), 0) as pipeline_amount
    from {{ paths_model }}
    where is_conversion and touch_count > 0
    group by path_scope
),

attribution_models as (
    select unnest([
        {%- for attribution_model in attribution_models %}
        '{{ attribution_model }}'{{ ',' if not loop.last }}
        {%- endfor %}
    ]) as attribution_model
),

expected as (
    select
        touched_conversions.path_scope,
        attribution_models.attribution_model,
        touched_conversions.conversions,
        touched_conversions.pipeline_amount
    from touched_conversions
    cross join attribution_models
),

attributed as (
    select
        path_scope,
        attribution_model,
        sum(attributed_conversions) as conversions,
        sum(attributed_pipeline_amount) as pipeline_amount
    from {{ model }}
    group by path_scope, attribution_model
),

compared as (
    select
        coalesce(expected.path_scope, attributed.path_scope) as path_scope,
        coalesce(expected.attribution_model, attributed.attribution_model) as attribution_model,
        expected.conversions as expected_conversions,
        attributed.conversions as attributed_conversions,
        expected.pipeline_amount as expected_pipeline_amount,
        attributed.pipeline_amount as attributed_pipeline_amount
    from expected
    full outer join attributed
        on expected.path_scope = attributed.path_scope
            and expected.attribution_model = attributed.attribution_model
)

select *
from compared
where
    expected_conversions is null
    or attributed_conversions is null
    or abs(attributed_conversions - expected_conversions)
    > {{ tolerance }} * greatest(expected_conversions, 1)
    or abs(attributed_pipeline_amount - expected_pipeline_amount)
    > {{ tolerance }} * greatest(expected_pipeline_amount, 1)
{% endtest %}
