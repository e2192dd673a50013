with checked as (
    select * from {{ ref('base_maven_crm__products') }}
),

clean as (
    select
        product,
        series,
        sales_price,
        raw_line_number
    from checked
    where len(quarantine_reasons) = 0
)

select * from clean
