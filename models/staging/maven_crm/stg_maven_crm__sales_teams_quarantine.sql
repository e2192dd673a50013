-- Lines of Maven's sales_teams.csv that cannot be used, kept as they arrived with every reason.
with checked as (
    select * from {{ ref('base_maven_crm__sales_teams') }}
),

quarantined as (
    select
        raw_line_number,
        sales_agent,
        quarantine_reasons,
        raw_line
    from checked
    where len(quarantine_reasons) > 0
)

select * from quarantined
