with account_truth as (
    select * from {{ source('ground_truth', 'account_truth') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(as_of_date as date) as as_of_date,
        cast(p_open_90d as double) as true_probability,
        cast(has_open_opportunity as boolean) as has_open_opportunity,
        cast(opened_within_90d as boolean) as opened_within_90d,
        cast(is_matured as boolean) as is_matured
    from account_truth
)

select * from renamed
