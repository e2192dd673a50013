-- Each feature's ROC AUC on its own against the label over the training set. A feature that
-- alone separates converters almost perfectly is more likely leaking the outcome than
-- predicting it. Numeric features rank by value (nulls lowest, ties at their average rank);
-- categorical features rank by their category's conversion rate in the same rows.
{%- set features = lead_feature_columns(ref('fct_lead_training_set')) %}

-- Above lead_scoring__leakage_screen_max_rows training rows, a deterministic sample by
-- (lead, as-of date) hash keeps about that many, so the screen's cost stays bounded at scale.
with all_training_rows as (
    select * from {{ ref('fct_lead_training_set') }}
),

sampling as (
    select
        least(
            1.0, {{ var('lead_scoring__leakage_screen_max_rows') }} / greatest(count(*), 1)
        ) as keep_share
    from all_training_rows
),

-- training_set is unused only while parsing, before the training set exists.
training_set as ( -- noqa: ST03
    select all_training_rows.*
    from all_training_rows
    cross join sampling
    where
        sampling.keep_share >= 1.0
        or hash(all_training_rows.lead_id, all_training_rows.as_of_date) % 1000000
        < sampling.keep_share * 1000000
),

numeric_values as (
    {%- if features.numeric %}
    select
        feature_name,
        feature_value,
        converted
    from (
        select
            converted,
            {%- for name in features.numeric %}
            cast({{ name }} as double) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
        from training_set
    ) unpivot include nulls (
        feature_value for feature_name in ({{ features.numeric | join(", ") }})
    )
    {%- else %}
    select
        null::varchar as feature_name,
        null::double as feature_value,
        null::integer as converted
    where false
    {%- endif %}
),

-- A categorical feature's value is its category's conversion rate, so each category is one
-- group: one aggregation per feature instead of a window over every training row (at 1M
-- leads the ten windows were most of the screen's time; docs/benchmark.md).
category_rates as (
    {%- for name in features.categorical %}
    select
        '{{ name }}' as feature_name,
        avg(converted) as feature_value,
        count(*) as row_count,
        sum(converted) as positive_count
    from training_set
    group by {{ name }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not features.categorical %}
    select
        null::varchar as feature_name,
        null::double as feature_value,
        null::bigint as row_count,
        null::hugeint as positive_count
    where false
    {%- endif %}
),

-- Rows per distinct value; categories with the same rate are one value (tied ranks).
value_counts as (
    select
        feature_name,
        feature_value,
        count(*) as row_count,
        sum(converted) as positive_count
    from numeric_values
    group by feature_name, feature_value
    union all
    select
        feature_name,
        feature_value,
        cast(sum(row_count) as bigint) as row_count,
        sum(positive_count) as positive_count
    from category_rates
    group by feature_name, feature_value
),

ranked as (
    select
        feature_name,
        row_count,
        positive_count,
        sum(row_count) over (
            partition by feature_name order by feature_value asc nulls first
            rows between unbounded preceding and current row
        ) - row_count + (row_count + 1) / 2.0 as average_rank
    from value_counts
),

auc_by_feature as (
    select
        feature_name,
        sum(positive_count) as positives,
        sum(row_count) - sum(positive_count) as negatives,
        (
            sum(positive_count * average_rank)
            - sum(positive_count) * (sum(positive_count) + 1) / 2.0
        ) / nullif(sum(positive_count) * (sum(row_count) - sum(positive_count)), 0) as roc_auc
    from ranked
    group by feature_name
),

screened as (
    select
        feature_name,
        case
            when feature_name in ({{ "'" ~ features.categorical | join("', '") ~ "'" }}) then 'categorical'
            else 'numeric'
        end as feature_kind,
        cast(positives as bigint) as positives,
        cast(negatives as bigint) as negatives,
        round(roc_auc, 6) as roc_auc,
        round(greatest(roc_auc, 1 - roc_auc), 6) as separating_auc,
        greatest(roc_auc, 1 - roc_auc) > {{ var('lead_scoring__leakage_auc_threshold') }}
            as is_probable_leakage
    from auc_by_feature
)

select * from screened
