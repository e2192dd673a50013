-- What the account model reads, per account and as-of date (the scoring date and the matured
-- history): its scored leads (best probability, how many beat the history's conversion rate,
-- the top lead) and its buying-committee features, with the account's outcome on history
-- rows (it opened an opportunity within the horizon).
with lead_scores as (
    select
        lead_id,
        account_id,
        as_of_date,
        is_scoring_date,
        converted,
        model_version,
        is_rules_fallback,
        conversion_probability
    from {{ ref('int_lead_scores_resolved') }}
),

committee as (
    select
        account_id,
        as_of_date,
        committee_engagement_score,
        committee_roles_engaged,
        is_executive_engaged,
        contacts_engaged_30d
    from {{ ref('fct_account_committee_features') }}
),

history_rate as (
    select avg(converted) as history_conversion_rate
    from lead_scores
    where not is_scoring_date
),

account_leads as (
    select
        lead_scores.account_id,
        lead_scores.as_of_date,
        lead_scores.is_scoring_date,
        any_value(lead_scores.model_version) as model_version,
        bool_or(lead_scores.is_rules_fallback) as is_rules_fallback,
        count(*) as scored_leads,
        max(lead_scores.conversion_probability) as max_lead_probability,
        count(*) filter (
            where lead_scores.conversion_probability >= history_rate.history_conversion_rate
        ) as leads_above_base_rate,
        first(
            lead_scores.lead_id
            order by lead_scores.conversion_probability desc nulls last, lead_scores.lead_id asc
        ) as top_lead_id,
        max(lead_scores.converted) as opened_opportunity
    from lead_scores
    cross join history_rate
    where lead_scores.account_id is not null
    group by lead_scores.account_id, lead_scores.as_of_date, lead_scores.is_scoring_date
),

inputs_joined as (
    select
        account_leads.account_id,
        account_leads.as_of_date,
        account_leads.is_scoring_date,
        account_leads.model_version,
        account_leads.is_rules_fallback,
        account_leads.scored_leads,
        account_leads.max_lead_probability,
        account_leads.leads_above_base_rate,
        account_leads.top_lead_id,
        coalesce(committee.committee_engagement_score, 0) as committee_engagement_score,
        coalesce(committee.committee_roles_engaged, 0) as committee_roles_engaged,
        cast(coalesce(committee.is_executive_engaged, false) as integer) as is_executive_engaged,
        coalesce(committee.contacts_engaged_30d, 0) as contacts_engaged_30d,
        account_leads.opened_opportunity
    from account_leads
    left join committee
        on account_leads.account_id = committee.account_id
            and account_leads.as_of_date = committee.as_of_date
)

select * from inputs_joined
