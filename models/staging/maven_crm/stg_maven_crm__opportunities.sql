with checked as (
    select * from {{ ref('base_maven_crm__opportunities') }}
),

clean as (
    select
        opportunity_id,
        account_id,
        created_at,
        closed_at,
        stage,
        stage_label,
        amount,
        is_won,
        closed_at is not null as is_closed,
        sales_agent,
        product,
        raw_line_number
    from checked
    where len(quarantine_reasons) = 0
)

select * from clean
