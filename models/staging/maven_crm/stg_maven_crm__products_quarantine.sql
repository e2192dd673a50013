-- Lines of Maven's products.csv that cannot be used, kept as they arrived with every reason.
with checked as (
    select * from {{ ref('base_maven_crm__products') }}
),

quarantined as (
    select
        raw_line_number,
        product,
        quarantine_reasons,
        raw_line
    from checked
    where len(quarantine_reasons) > 0
)

select * from quarantined
