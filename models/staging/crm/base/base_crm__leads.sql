-- Every line of leads.csv, typed, with the reasons (if any) it cannot be used.
with landed as (
    {{ land_raw_rows(
        source('crm', 'leads'), 'leads.csv',
        ['lead_id', 'account_id', 'email', 'first_name', 'last_name', 'job_title',
         'lead_source', 'created_at']
    ) }}
),

lead_sources as (
    select
        lead_source_label,
        lead_source
    from {{ ref('lead_sources') }}
),

typed as (
    select
        landed.raw_line_number,
        landed.raw_line,
        landed.parse_problem,
        {{ clean_text('landed.lead_id') }} as lead_id,
        {{ clean_text('landed.account_id') }} as account_id,
        lower({{ clean_text('landed.email') }}) as email,
        {{ clean_text('landed.first_name') }} as first_name,
        {{ clean_text('landed.last_name') }} as last_name,
        {{ clean_text('landed.job_title') }} as job_title,
        {{ clean_text('landed.lead_source') }} as lead_source_label,
        coalesce(lead_sources.lead_source, 'unknown') as lead_source,
        try_cast({{ clean_text('landed.created_at') }} as timestamp) as created_at,
        {{ quarantine_reasons([
            missing_value_problem('landed.lead_id', 'missing_key'),
            timestamp_problem('landed.created_at'),
        ]) }} as problems
    from landed
    left join lead_sources
        on lower({{ clean_text('landed.lead_source') }}) = lower(lead_sources.lead_source_label)
),

checked as (
    select
        *,
        {{ duplicate_key_reasons('problems', 'lead_id') }} as quarantine_reasons
    from typed
)

-- raw_line is kept for quarantined records only: a clean record is its typed columns
-- (23.7M activity lines: 47 s against 57 s with every line kept; docs/benchmark.md).
select
    * exclude (problems)
    replace ({{ quarantined_raw_line('quarantine_reasons') }})
from checked
