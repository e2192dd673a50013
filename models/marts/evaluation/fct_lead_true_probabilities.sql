-- The synthetic world's true conversion probability for every training and scoring row, so
-- models can be measured against the best possible answer. A lead's truth is its account's;
-- leads without an account never convert (0).
with training_rows as (
    select
        lead_id,
        account_id,
        as_of_date
    from {{ ref('fct_lead_training_set') }}
),

account_outcomes as (
    select
        account_id,
        as_of_date,
        true_probability
    from {{ ref('stg_ground_truth__account_outcomes') }}
),

lead_truth as (
    select
        training_rows.lead_id,
        training_rows.as_of_date,
        case
            when training_rows.account_id is null then 0.0
            else account_outcomes.true_probability
        end as true_probability
    from training_rows
    left join account_outcomes
        on training_rows.account_id = account_outcomes.account_id
            and training_rows.as_of_date = account_outcomes.as_of_date
)

select * from lead_truth
