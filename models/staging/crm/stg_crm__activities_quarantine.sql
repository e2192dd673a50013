-- Lines of activities that cannot be used, kept as they arrived with every reason.
with checked as (
    select * from {{ ref('base_crm__activities') }}
),

quarantined as (
    select
        raw_line_number,
        activity_id,
        quarantine_reasons,
        raw_line
    from checked
    where len(quarantine_reasons) > 0
)

select * from quarantined
