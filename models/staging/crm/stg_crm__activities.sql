with checked as (
    select * from {{ ref('base_crm__activities') }}
),

clean as (
    select
        activity_id,
        lead_id,
        activity_type,
        activity_type_label,
        page_category,
        occurred_at,
        raw_line_number
    from checked
    where len(quarantine_reasons) = 0
)

select * from clean
