-- Every line of activities.csv, typed, with the reasons (if any) it cannot be used.
with landed as (
    {{ land_raw_rows(
        source('crm', 'activities'), 'activities.csv',
        ['activity_id', 'lead_id', 'activity_type', 'page_category', 'occurred_at']
    ) }}
),

activity_types as (
    select activity_type from {{ ref('activity_types') }}
),

page_categories as (
    select page_category from {{ ref('page_categories') }}
),

typed as (
    select
        landed.raw_line_number,
        landed.raw_line,
        landed.parse_problem,
        {{ clean_text('landed.activity_id') }} as activity_id,
        {{ clean_text('landed.lead_id') }} as lead_id,
        lower({{ clean_text('landed.activity_type') }}) as activity_type_label,
        coalesce(activity_types.activity_type, 'unknown') as activity_type,
        case
            when {{ clean_text('landed.page_category') }} is null then null
            else coalesce(page_categories.page_category, 'unknown')
        end as page_category,
        try_cast({{ clean_text('landed.occurred_at') }} as timestamp) as occurred_at,
        {{ quarantine_reasons([
            missing_value_problem('landed.activity_id', 'missing_key'),
            missing_value_problem('landed.lead_id', 'missing_reference'),
            timestamp_problem('landed.occurred_at'),
        ]) }} as problems
    from landed
    left join activity_types
        on lower({{ clean_text('landed.activity_type') }}) = activity_types.activity_type
    left join page_categories
        on lower({{ clean_text('landed.page_category') }}) = page_categories.page_category
),

checked as (
    select
        *,
        {{ duplicate_key_reasons('problems', 'activity_id') }} as quarantine_reasons
    from typed
)

-- raw_line is kept for quarantined records only: a clean record is its typed columns
-- (23.7M activity lines: 47 s against 57 s with every line kept; docs/benchmark.md).
select
    * exclude (problems)
    replace ({{ quarantined_raw_line('quarantine_reasons') }})
from checked
