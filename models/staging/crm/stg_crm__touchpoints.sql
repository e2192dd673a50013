with checked as (
    select * from {{ ref('base_crm__touchpoints') }}
),

channel_taxonomy as (
    select
        channel,
        bool_or(is_paid) as is_paid
    from {{ ref('channel_taxonomy') }}
    group by channel
),

clean as (
    select
        checked.touchpoint_id,
        checked.lead_id,
        checked.channel,
        checked.channel_label,
        coalesce(channel_taxonomy.is_paid, false) as is_paid_channel,
        checked.campaign,
        checked.touched_at,
        checked.raw_line_number
    from checked
    left join channel_taxonomy on checked.channel = channel_taxonomy.channel
    where len(checked.quarantine_reasons) = 0
)

select * from clean
