-- Every line of touchpoints.csv, typed, with the reasons (if any) it cannot be used.
with landed as (
    {{ land_raw_rows(
        source('crm', 'touchpoints'), 'touchpoints.csv',
        ['touchpoint_id', 'lead_id', 'channel', 'campaign', 'touched_at']
    ) }}
),

channel_taxonomy as (
    select
        raw_channel,
        channel
    from {{ ref('channel_taxonomy') }}
),

typed as (
    select
        landed.raw_line_number,
        landed.raw_line,
        landed.parse_problem,
        {{ clean_text('landed.touchpoint_id') }} as touchpoint_id,
        {{ clean_text('landed.lead_id') }} as lead_id,
        {{ clean_text('landed.channel') }} as channel_label,
        coalesce(channel_taxonomy.channel, 'unknown') as channel,
        {{ clean_text('landed.campaign') }} as campaign,
        try_cast({{ clean_text('landed.touched_at') }} as timestamp) as touched_at,
        {{ quarantine_reasons([
            missing_value_problem('landed.touchpoint_id', 'missing_key'),
            missing_value_problem('landed.lead_id', 'missing_reference'),
            timestamp_problem('landed.touched_at'),
        ]) }} as problems
    from landed
    left join channel_taxonomy
        on lower({{ clean_text('landed.channel') }}) = lower(channel_taxonomy.raw_channel)
),

checked as (
    select
        *,
        {{ duplicate_key_reasons('problems', 'touchpoint_id') }} as quarantine_reasons
    from typed
)

-- raw_line is kept for quarantined records only: a clean record is its typed columns
-- (23.7M activity lines: 47 s against 57 s with every line kept; docs/benchmark.md).
select
    * exclude (problems)
    replace ({{ quarantined_raw_line('quarantine_reasons') }})
from checked
