-- Every line of opportunities.csv, typed, with the reasons (if any) it cannot be used.
with landed as (
    {{ land_raw_rows(
        source('crm', 'opportunities'), 'opportunities.csv',
        ['opportunity_id', 'account_id', 'lead_id', 'created_at', 'closed_at', 'stage',
         'amount', 'is_won']
    ) }}
),

opportunity_stages as (
    select
        stage_label,
        stage
    from {{ ref('opportunity_stages') }}
),

typed as (
    select
        landed.raw_line_number,
        landed.raw_line,
        landed.parse_problem,
        {{ clean_text('landed.opportunity_id') }} as opportunity_id,
        {{ clean_text('landed.account_id') }} as account_id,
        {{ clean_text('landed.lead_id') }} as lead_id,
        try_cast({{ clean_text('landed.created_at') }} as timestamp) as created_at,
        try_cast({{ clean_text('landed.closed_at') }} as timestamp) as closed_at,
        {{ clean_text('landed.stage') }} as stage_label,
        coalesce(opportunity_stages.stage, 'unknown') as stage,
        try_cast({{ clean_text('landed.amount') }} as decimal(18, 2)) as amount,
        try_cast({{ clean_text('landed.is_won') }} as boolean) as is_won,
        {{ quarantine_reasons([
            missing_value_problem('landed.opportunity_id', 'missing_key'),
            missing_value_problem('landed.account_id', 'missing_reference'),
            timestamp_problem('landed.created_at'),
            timestamp_problem('landed.closed_at', required=false),
            number_problem('landed.amount', 'decimal(18, 2)'),
            "case when " ~ clean_text('landed.is_won') ~ " is not null and try_cast("
                ~ clean_text('landed.is_won') ~ " as boolean) is null then 'bad_boolean' end",
            "case when try_cast(" ~ clean_text('landed.closed_at') ~ " as timestamp) < try_cast("
                ~ clean_text('landed.created_at') ~ " as timestamp) then 'closed_before_created' end",
        ]) }} as problems
    from landed
    left join opportunity_stages
        on lower({{ clean_text('landed.stage') }}) = lower(opportunity_stages.stage_label)
),

checked as (
    select
        *,
        {{ duplicate_key_reasons('problems', 'opportunity_id') }} as quarantine_reasons
    from typed
)

-- raw_line is kept for quarantined records only: a clean record is its typed columns
-- (23.7M activity lines: 47 s against 57 s with every line kept; docs/benchmark.md).
select
    * exclude (problems)
    replace ({{ quarantined_raw_line('quarantine_reasons') }})
from checked
