with checked as (
    select * from {{ ref('base_maven_crm__sales_teams') }}
),

clean as (
    select
        sales_agent,
        manager,
        regional_office,
        raw_line_number
    from checked
    where len(quarantine_reasons) = 0
)

select * from clean
