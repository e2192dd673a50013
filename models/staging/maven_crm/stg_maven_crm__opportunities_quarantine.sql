-- Lines of Maven's sales_pipeline.csv that cannot be used, kept as they arrived with every reason.
with checked as (
    select * from {{ ref('base_maven_crm__opportunities') }}
),

quarantined as (
    select
        raw_line_number,
        opportunity_id,
        quarantine_reasons,
        raw_line
    from checked
    where len(quarantine_reasons) > 0
)

select * from quarantined
