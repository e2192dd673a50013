-- The label for every lead spine row: did the lead's account open an opportunity (or, with
-- lead_scoring__label_event = won, open one that was won by the data end) within
-- lead_scoring__label_horizon_days from the as-of date, and had it an opportunity open at
-- that date (such rows are not open leads and are not trained on).
{%- set horizon = var('lead_scoring__label_horizon_days') %}

with spine as (
    select
        lead_id,
        account_id,
        as_of_date,
        is_scoring_date
    from {{ ref('int_lead_as_of_dates') }}
),

account_spine as (
    select
        account_id,
        as_of_date
    from {{ ref('int_account_as_of_dates') }}
),

opportunities as (
    select
        account_id,
        created_at,
        closed_at,
        is_won
    from {{ ref('stg_crm__opportunities') }}
),

data_end as (
    select as_of_date as scoring_date
    from {{ ref('int_as_of_dates') }}
    where is_scoring_date
),

account_outcomes as (
    select
        account_spine.account_id,
        account_spine.as_of_date,
        coalesce(bool_or(
            opportunities.created_at < account_spine.as_of_date
            and coalesce(opportunities.closed_at >= account_spine.as_of_date, true)
        ), false) as has_open_opportunity,
        coalesce(bool_or(
            opportunities.created_at >= account_spine.as_of_date
            {%- if var('lead_scoring__label_event') == 'won' %}
            and coalesce(opportunities.is_won, false)
            {%- endif %}
        ), false) as converted_in_horizon
    from account_spine
    left join opportunities
        on account_spine.account_id = opportunities.account_id
            and opportunities.created_at < account_spine.as_of_date + {{ horizon }}
    group by account_spine.account_id, account_spine.as_of_date
),

labelled as (
    select
        spine.lead_id,
        spine.account_id,
        spine.as_of_date,
        spine.is_scoring_date,
        coalesce(account_outcomes.has_open_opportunity, false) as has_open_opportunity,
        cast(coalesce(account_outcomes.converted_in_horizon, false) as integer) as converted,
        spine.as_of_date + {{ horizon }} <= data_end.scoring_date as is_matured
    from spine
    cross join data_end
    left join account_outcomes
        on spine.account_id = account_outcomes.account_id
            and spine.as_of_date = account_outcomes.as_of_date
)

select * from labelled
