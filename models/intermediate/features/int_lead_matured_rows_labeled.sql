-- Every matured history row: lead features as of a past snapshot date whose label horizon has
-- fully closed, for leads whose account had no open opportunity then, with the label. The
-- training set samples these rows; the scores are checked against the latest of them.
with features as (
    select * from {{ ref('fct_lead_features') }}
    where not is_scoring_date
),

labels as (
    select
        lead_id,
        as_of_date,
        converted,
        has_open_opportunity,
        is_matured
    from {{ ref('int_lead_labels_joined') }}
    where not is_scoring_date
),

matured_rows as (
    select
        features.* exclude (is_scoring_date),
        labels.converted
    from features
    inner join labels
        on features.lead_id = labels.lead_id
            and features.as_of_date = labels.as_of_date
    where
        labels.is_matured
        and not labels.has_open_opportunity
)

select * from matured_rows
