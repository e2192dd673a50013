-- Every line of Maven's sales_pipeline.csv, typed onto our opportunities contract, with the
-- reasons (if any) it cannot be used.
with landed as (
    {{ land_raw_rows(
        source('maven_crm', 'sales_pipeline'), 'sales_pipeline.csv',
        ['opportunity_id', 'sales_agent', 'product', 'account', 'deal_stage', 'engage_date',
         'close_date', 'close_value']
    ) }}
),

deal_stages as (
    select
        stage_label,
        stage,
        is_won
    from {{ ref('maven_crm_deal_stages') }}
),

typed as (
    select
        landed.raw_line_number,
        landed.raw_line,
        landed.parse_problem,
        {{ clean_text('landed.opportunity_id') }} as opportunity_id,
        -- Empty on open deals not yet tied to a company: kept (flagged by a warning), not
        -- quarantined; see docs/maven_crm.md.
        {{ clean_text('landed.account') }} as account_id,
        try_cast({{ clean_text('landed.engage_date') }} as timestamp) as created_at,
        try_cast({{ clean_text('landed.close_date') }} as timestamp) as closed_at,
        {{ clean_text('landed.deal_stage') }} as stage_label,
        coalesce(deal_stages.stage, 'unknown') as stage,
        try_cast({{ clean_text('landed.close_value') }} as decimal(18, 2)) as amount,
        deal_stages.is_won,
        {{ clean_text('landed.sales_agent') }} as sales_agent,
        {{ clean_text('landed.product') }} as product,
        {{ quarantine_reasons([
            missing_value_problem('landed.opportunity_id', 'missing_key'),
            timestamp_problem('landed.engage_date'),
            timestamp_problem('landed.close_date', required=false),
            number_problem('landed.close_value', 'decimal(18, 2)'),
            "case when try_cast(" ~ clean_text('landed.close_date') ~ " as timestamp)"
                ~ " < try_cast(" ~ clean_text('landed.engage_date') ~ " as timestamp)"
                ~ " then 'closed_before_created' end",
        ]) }} as problems
    from landed
    left join deal_stages
        on lower({{ clean_text('landed.deal_stage') }}) = lower(deal_stages.stage_label)
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
