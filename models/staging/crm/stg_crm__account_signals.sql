with checked as (
    select * from {{ ref('base_crm__account_signals') }}
),

clean as (
    select
        signal_id,
        account_id,
        signal_type,
        signal_type_label,
        topic,
        signal_value,
        observed_at,
        raw_line_number
    from checked
    where len(quarantine_reasons) = 0
)

select * from clean
