-- Every line of Maven's accounts.csv, typed onto our accounts contract, with the reasons (if any)
-- it cannot be used.
with landed as (
    {{ land_raw_rows(
        source('maven_crm', 'accounts'), 'accounts.csv',
        ['account', 'sector', 'year_established', 'revenue', 'employees', 'office_location',
         'subsidiary_of']
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
        {{ clean_text('landed.account') }} as account_id,
        {{ clean_text('landed.account') }} as account_name,
        {{ clean_text('landed.sector') }} as industry_label,
        coalesce(industries.industry, 'unknown') as industry,
        try_cast({{ clean_text('landed.employees') }} as bigint) as employee_count,
        -- Maven states revenue in millions of USD; the contract's annual_revenue is in USD.
        cast(
            try_cast({{ clean_text('landed.revenue') }} as decimal(18, 2)) * 1000000
            as decimal(18, 2)
        ) as annual_revenue,
        'unknown' as region,
        {{ clean_text('landed.office_location') }} as country,
        try_cast({{ clean_text('landed.year_established') }} as integer) as year_established,
        {{ clean_text('landed.subsidiary_of') }} as subsidiary_of,
        {{ quarantine_reasons([
            missing_value_problem('landed.account', 'missing_key'),
            number_problem('landed.employees', 'bigint'),
            number_problem('landed.revenue', 'decimal(18, 2)'),
            number_problem('landed.year_established', 'integer'),
        ]) }} as problems
    from landed
    left join industries
        on lower({{ clean_text('landed.sector') }}) = lower(industries.industry_label)
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
