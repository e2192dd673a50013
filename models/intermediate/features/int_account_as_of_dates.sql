-- The account spine: every account and as-of date on which at least one of its leads is on
-- the lead spine.
-- Incremental: builds only the as-of dates of as_of_date_is_to_build() (macros/features).
{{ config(**incremental_by_as_of_date_config()) }}
with lead_as_of_dates as (
    select
        account_id,
        as_of_date,
        is_scoring_date
    from {{ ref('int_lead_as_of_dates') }}
    where
        account_id is not null
        and {{ as_of_date_is_to_build(ref('int_lead_as_of_dates')) }}
),

account_as_of_dates as (
    select distinct
        account_id,
        as_of_date,
        is_scoring_date
    from lead_as_of_dates
)

select * from account_as_of_dates
