-- Every line of accounts.csv, typed, with the reasons (if any) it cannot be used.
with landed as (
    {{ land_raw_rows(
        source('crm', 'accounts'), 'accounts.csv',
        ['account_id', 'account_name', 'domain', 'industry', 'employee_count',
         'annual_revenue', 'region', 'country', 'created_at']
    ) }}
),

industries as (
    select
        industry_label,
        industry
    from {{ ref('industries') }}
),

typed as (
    select
        landed.raw_line_number,
        landed.raw_line,
        landed.parse_problem,
        {{ clean_text('landed.account_id') }} as account_id,
        {{ clean_text('landed.account_name') }} as account_name,
        lower({{ clean_text('landed.domain') }}) as domain,
        {{ clean_text('landed.industry') }} as industry_label,
        coalesce(industries.industry, 'unknown') as industry,
        try_cast({{ clean_text('landed.employee_count') }} as bigint) as employee_count,
        try_cast({{ clean_text('landed.annual_revenue') }} as decimal(18, 2)) as annual_revenue,
        case
            when upper(trim(landed.region)) in ('NA', 'EMEA', 'APAC', 'LATAM')
                then upper(trim(landed.region))
            else 'unknown'
        end as region,
        {{ clean_text('landed.country') }} as country,
        try_cast({{ clean_text('landed.created_at') }} as timestamp) as created_at,
        {{ quarantine_reasons([
            missing_value_problem('landed.account_id', 'missing_key'),
            number_problem('landed.employee_count', 'bigint'),
            number_problem('landed.annual_revenue', 'decimal(18, 2)'),
            timestamp_problem('landed.created_at'),
        ]) }} as problems
    from landed
    left join industries
        on lower({{ clean_text('landed.industry') }}) = lower(industries.industry_label)
),

checked as (
    select
        *,
        {{ duplicate_key_reasons('problems', 'account_id') }} as quarantine_reasons
    from typed
)

-- raw_line is kept for quarantined records only: a clean record is its typed columns
-- (23.7M activity lines: 47 s against 57 s with every line kept; docs/benchmark.md).
select
    * exclude (problems)
    replace ({{ quarantined_raw_line('quarantine_reasons') }})
from checked
