-- The rows scored today: every open lead (its account has no open opportunity) with its
-- features as of the scoring date. Same feature columns as fct_lead_training_set.
with features as (
    select * from {{ ref('fct_lead_features') }}
    where is_scoring_date
),

labels as (
    select
        lead_id,
        has_open_opportunity
    from {{ ref('int_lead_labels_joined') }}
    where is_scoring_date
),

open_leads as (
    select features.* exclude (is_scoring_date)
    from features
    inner join labels on features.lead_id = labels.lead_id
    where not labels.has_open_opportunity
)

select * from open_leads
