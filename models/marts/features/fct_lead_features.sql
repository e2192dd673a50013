-- Every lead feature as of every spine date, from rows strictly before that date: who the
-- lead is, their account's fit, what they did over 7/30/90 days, momentum, and their
-- account's buying committee and signals. One row per lead and as-of date.
-- Incremental: builds only the as-of dates of as_of_date_is_to_build() (macros/features).
{{ config(**incremental_by_as_of_date_config()) }}
{%- set silence_days = var('lead_scoring__silence_days') %}

with spine as (
    select
        lead_id,
        account_id,
        as_of_date,
        is_scoring_date
    from {{ ref('int_lead_as_of_dates') }}
    where {{ as_of_date_is_to_build(ref('int_lead_as_of_dates')) }}
),

leads as (
    select
        lead_id,
        email_domain,
        seniority,
        department,
        committee_role,
        lead_source,
        created_at
    from {{ ref('stg_crm__leads') }}
),

free_email_domains as (
    select email_domain from {{ ref('free_email_domains') }}
),

accounts as (
    select
        account_id,
        industry,
        employee_band,
        revenue_band,
        region,
        icp_fit_score
    from {{ ref('int_accounts_fit_scored') }}
),

lead_windows as (
    select * from {{ ref('int_lead_engagement_windows') }}
    where {{ as_of_date_is_to_build(ref('int_lead_as_of_dates')) }}
),

committees as (
    select * exclude (is_scoring_date, committee_roles_covered, committee_roles_missing)
    from {{ ref('fct_account_committee_features') }}
    where {{ as_of_date_is_to_build(ref('int_lead_as_of_dates')) }}
),

attribution_features as (
    select * from {{ ref('int_lead_attribution_features') }}
    where {{ as_of_date_is_to_build(ref('int_lead_as_of_dates')) }}
),

touch_dates as (
    select
        lead_id,
        min(touched_at) as first_touched_at
    from {{ ref('stg_crm__touchpoints') }}
    group by lead_id
),

features as (
    select
        spine.lead_id,
        spine.account_id,
        spine.as_of_date,
        spine.is_scoring_date,

        -- who the lead is
        leads.seniority,
        leads.department,
        leads.committee_role,
        leads.lead_source,
        free_email_domains.email_domain is not null as is_free_email,
        spine.account_id is not null as has_account,

        -- the account's fit
        coalesce(accounts.industry, 'none') as industry,
        coalesce(accounts.employee_band, 'none') as employee_band,
        coalesce(accounts.revenue_band, 'none') as revenue_band,
        coalesce(accounts.region, 'none') as region,
        accounts.icp_fit_score,

        -- time
        spine.as_of_date - cast(leads.created_at as date) as lead_age_days,
        spine.as_of_date - lead_windows.last_activity_date as days_since_last_activity,
        spine.as_of_date - lead_windows.last_engagement_date as days_since_last_engagement,
        case
            when touch_dates.first_touched_at < spine.as_of_date
                then spine.as_of_date - cast(touch_dates.first_touched_at as date)
        end as days_since_first_touch,
        coalesce(
            spine.as_of_date - lead_windows.last_engagement_date >= {{ silence_days }}, true
        ) as is_silent,

        -- behaviour over windows (lead_activity_metrics)
        lead_windows.* exclude (
            lead_id, as_of_date, last_activity_date, first_activity_date,
            first_engagement_date, last_engagement_date, engagements_28d, unsubscribes_total,
            engagement_index
        ),
        lead_windows.unsubscribes_total > 0 as has_unsubscribed,
        coalesce(lead_windows.email_opens_90d / nullif(lead_windows.email_sends_90d, 0), 0)
            as email_open_rate_90d,
        coalesce(lead_windows.email_clicks_90d / nullif(lead_windows.email_opens_90d, 0), 0)
            as email_click_rate_90d,

        -- momentum: the last 7 days against the 21 before them, and decayed engagement
        lead_windows.engagements_28d - lead_windows.engagements_7d as engagements_prior_21d,
        round(
            lead_windows.engagements_7d / 7.0
            - (lead_windows.engagements_28d - lead_windows.engagements_7d) / 21.0,
            6
        ) as engagement_momentum,
        round(lead_windows.engagement_index, 6) as engagement_index,

        -- the account's buying committee and signals
        committees.* exclude (account_id, as_of_date),

        -- marketing touches: channels, recency and decayed channel mix (attribution)
        attribution_features.* exclude (lead_id, as_of_date)
    from spine
    inner join leads on spine.lead_id = leads.lead_id
    inner join lead_windows
        on spine.lead_id = lead_windows.lead_id
            and spine.as_of_date = lead_windows.as_of_date
    left join free_email_domains on leads.email_domain = free_email_domains.email_domain
    left join accounts on spine.account_id = accounts.account_id
    left join touch_dates on spine.lead_id = touch_dates.lead_id
    left join committees
        on spine.account_id = committees.account_id
            and spine.as_of_date = committees.as_of_date
    left join attribution_features
        on spine.lead_id = attribution_features.lead_id
            and spine.as_of_date = attribution_features.as_of_date
)

select * from features
