-- Every monitored feature (and the model's score) over the current model card's drift bins, in
-- three populations: the card's own baseline (training window for features, test window for
-- the score), the model's test window recomputed from the warehouse (the reference the drift
-- tests compare with), and today's scoring set. Values are binned as the card bins them:
-- numerics cast to float32 like the packed model input, lower_edge <= x < upper_edge, NULL and
-- NaN in their own bin; categoricals into their kept category, `(other)` or `(null)`.
-- Reference rows are weighted by sample_weight, as the card is. One row per feature and bin.
{%- set features = lead_feature_columns(ref('fct_lead_scoring_set')) %}

with baseline_bins as (
    select * from {{ ref('fct_model_baseline_bins') }}
),

monitored_model as (
    select
        model_version,
        test_start,
        test_end
    from {{ ref('fct_monitored_model') }}
    where model_version is not null
),

-- The scoring set's columns are only read while the model runs, not while dbt parses.
scoring_set as ( -- noqa: ST03
    select * from {{ ref('fct_lead_scoring_set') }}
),

training_set as ( -- noqa: ST03
    select * from {{ ref('fct_lead_training_set') }}
),

backtest_scores as (
    select
        as_of_date,
        is_scoring_date,
        sample_weight,
        model_version,
        conversion_probability
    from {{ ref('fct_lead_backtest_scores') }}
),

population_rows as (
    select
        'reference' as population,
        {%- for name in features.numeric %}
        cast(cast(training_set.{{ name }} as float) as double) as {{ name }},
        {%- endfor %}
        {%- for name in features.categorical %}
        cast(training_set.{{ name }} as varchar) as {{ name }},
        {%- endfor %}
        cast(training_set.sample_weight as double) as row_weight
    from training_set
    inner join monitored_model
        on training_set.as_of_date between monitored_model.test_start and monitored_model.test_end
    union all
    select
        'current' as population,
        {%- for name in features.numeric %}
        cast(cast(scoring_set.{{ name }} as float) as double) as {{ name }},
        {%- endfor %}
        {%- for name in features.categorical %}
        cast(scoring_set.{{ name }} as varchar) as {{ name }},
        {%- endfor %}
        1.0 as row_weight
    from scoring_set
    cross join monitored_model
),

score_rows as (
    select
        case when backtest_scores.is_scoring_date then 'current' else 'reference' end
            as population,
        coalesce(backtest_scores.sample_weight, 1.0) as row_weight,
        cast(cast(backtest_scores.conversion_probability as float) as double) as feature_value
    from backtest_scores
    inner join monitored_model
        on
            backtest_scores.model_version = monitored_model.model_version
            and (
                backtest_scores.is_scoring_date
                or backtest_scores.as_of_date
                between monitored_model.test_start and monitored_model.test_end
            )
),

population_sizes as (
    select
        population,
        'feature' as size_of,
        sum(row_weight) as population_weight
    from population_rows
    group by population
    union all
    select
        population,
        'score' as size_of,
        sum(row_weight) as population_weight
    from score_rows
    group by population
),

numeric_values as (
    {%- if features.numeric %}
    select
        population,
        row_weight,
        feature_name,
        feature_value
    from (
        select
            population,
            row_weight,
            {{ features.numeric | join(',\n            ') }}
        from population_rows
    ) unpivot include nulls (
        feature_value for feature_name in ({{ features.numeric | join(', ') }})
    )
    union all
    {%- endif %}
    select
        population,
        row_weight,
        -- the score is monitored under this name (leadscore.monitor.SCORE_FEATURE)
        'conversion_probability' as feature_name,
        feature_value
    from score_rows
),

numeric_value_counts as (
    select
        population,
        feature_name,
        case when not isnan(feature_value) then feature_value end as feature_value,
        count(*) as row_count,
        sum(row_weight) as weight
    from numeric_values
    group by all
),

numeric_binned as (
    select
        numeric_value_counts.population,
        baseline_bins.feature_name,
        baseline_bins.bin_index,
        sum(numeric_value_counts.row_count) as row_count,
        sum(numeric_value_counts.weight) as weight
    from numeric_value_counts
    inner join baseline_bins
        on
            numeric_value_counts.feature_name = baseline_bins.feature_name
            and baseline_bins.feature_kind in ('numeric', 'score')
            and case
                when numeric_value_counts.feature_value is null then baseline_bins.is_null_bin
                else
                    not baseline_bins.is_null_bin
                    and numeric_value_counts.feature_value
                    >= coalesce(baseline_bins.lower_edge, cast('-infinity' as double))
                    and numeric_value_counts.feature_value
                    < coalesce(baseline_bins.upper_edge, cast('infinity' as double))
            end
    group by all
),

categorical_value_counts as (
    {%- if features.categorical %}
    select
        population,
        feature_name,
        feature_value,
        count(*) as row_count,
        sum(row_weight) as weight
    from (
        select
            population,
            row_weight,
            {{ features.categorical | join(',\n            ') }}
        from population_rows
    ) unpivot include nulls (
        feature_value for feature_name in ({{ features.categorical | join(', ') }})
    )
    group by all
    {%- else %}
    select
        cast(null as varchar) as population,
        cast(null as varchar) as feature_name,
        cast(null as varchar) as feature_value,
        cast(null as bigint) as row_count,
        cast(null as double) as weight
    where false
    {%- endif %}
),

categorical_catch_all_bins as (
    select
        feature_name,
        max(bin_index) filter (where is_other_bin) as other_bin_index,
        max(bin_index) filter (where is_null_bin) as null_bin_index
    from baseline_bins
    where feature_kind = 'categorical'
    group by feature_name
),

categorical_binned as (
    select
        categorical_value_counts.population,
        categorical_value_counts.feature_name,
        coalesce(
            kept_bins.bin_index,
            case
                when categorical_value_counts.feature_value is null
                    then categorical_catch_all_bins.null_bin_index
                else categorical_catch_all_bins.other_bin_index
            end
        ) as bin_index,
        sum(categorical_value_counts.row_count) as row_count,
        sum(categorical_value_counts.weight) as weight
    from categorical_value_counts
    inner join categorical_catch_all_bins
        on categorical_value_counts.feature_name = categorical_catch_all_bins.feature_name
    left join baseline_bins as kept_bins
        on
            categorical_value_counts.feature_name = kept_bins.feature_name
            and kept_bins.feature_kind = 'categorical'
            and categorical_value_counts.feature_value = kept_bins.category
    group by all
),

binned as (
    select * from numeric_binned
    union all
    select * from categorical_binned
),

bins_compared as (
    select
        baseline_bins.model_version,
        baseline_bins.feature_name,
        baseline_bins.feature_kind,
        baseline_bins.bin_index,
        baseline_bins.bin_label,
        baseline_bins.lower_edge,
        baseline_bins.upper_edge,
        baseline_bins.category,
        baseline_bins.is_null_bin,
        baseline_bins.is_other_bin,
        baseline_bins.card_window,
        baseline_bins.card_share,
        monitored_model.test_start as reference_start,
        monitored_model.test_end as reference_end,
        cast(coalesce(reference_bins.row_count, 0) as bigint) as reference_rows,
        coalesce(reference_bins.weight, 0) / reference_sizes.population_weight
            as reference_share,
        cast(coalesce(current_bins.row_count, 0) as bigint) as current_rows,
        coalesce(current_bins.weight, 0) / current_sizes.population_weight as current_share
    from baseline_bins
    inner join monitored_model on baseline_bins.model_version = monitored_model.model_version
    left join population_sizes as reference_sizes
        on
            reference_sizes.population = 'reference'
            and reference_sizes.size_of
            = case when baseline_bins.feature_kind = 'score' then 'score' else 'feature' end
    left join population_sizes as current_sizes
        on
            current_sizes.population = 'current'
            and current_sizes.size_of
            = case when baseline_bins.feature_kind = 'score' then 'score' else 'feature' end
    left join binned as reference_bins
        on
            reference_bins.population = 'reference'
            and baseline_bins.feature_name = reference_bins.feature_name
            and baseline_bins.bin_index = reference_bins.bin_index
    left join binned as current_bins
        on
            current_bins.population = 'current'
            and baseline_bins.feature_name = current_bins.feature_name
            and baseline_bins.bin_index = current_bins.bin_index
),

-- PSI terms with every share floored at 1e-4 (monitor.PSI_EPSILON): an empty bin is rare,
-- not infinitely surprising, and a bin empty on both sides adds nothing.
psi_terms as (
    select
        *,
        round(
            (greatest(current_share, 1e-4) - greatest(reference_share, 1e-4))
            * ln(greatest(current_share, 1e-4) / greatest(reference_share, 1e-4)),
            10
        ) as psi_contribution,
        round(
            (greatest(current_share, 1e-4) - greatest(card_share, 1e-4))
            * ln(greatest(current_share, 1e-4) / greatest(card_share, 1e-4)),
            10
        ) as psi_contribution_vs_card
    from bins_compared
)

select * from psi_terms
