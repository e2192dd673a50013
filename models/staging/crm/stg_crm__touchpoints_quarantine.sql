-- Lines of touchpoints that cannot be used, kept as they arrived with every reason.
with checked as (
    select * from {{ ref('base_crm__touchpoints') }}
),

quarantined as (
    select
        raw_line_number,
        touchpoint_id,
        quarantine_reasons,
        raw_line
    from checked
    where len(quarantine_reasons) > 0
)

select * from quarantined
