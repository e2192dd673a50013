-- Lines of Maven's accounts.csv that cannot be used, kept as they arrived with every reason.
with checked as (
    select * from {{ ref('base_maven_crm__accounts') }}
),

quarantined as (
    select
        raw_line_number,
        account_id,
        quarantine_reasons,
        raw_line
    from checked
    where len(quarantine_reasons) > 0
)

select * from quarantined
