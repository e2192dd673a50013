with checked as (
    select * from {{ ref('base_maven_crm__accounts') }}
),

clean as (
    select
        account_id,
        account_name,
        industry,
        industry_label,
        employee_count,
        annual_revenue,
        region,
        country,
        year_established,
        subsidiary_of,
        raw_line_number
    from checked
    where len(quarantine_reasons) = 0
)

select * from clean
