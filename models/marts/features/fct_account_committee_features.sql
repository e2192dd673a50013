-- Buying-committee coverage and engagement per account and as-of date: who of the account's
-- contacts engaged in the 30 days before the date, which committee roles (committee_roles
-- seed) they cover, how senior and broad they are, plus the account's recent intent.
-- Incremental: builds only the as-of dates of as_of_date_is_to_build() (macros/features).
{{ config(**incremental_by_as_of_date_config()) }}
{%- set scale = var('lead_scoring__committee_engagement_scale') %}

with account_spine as (
    select
        account_id,
        as_of_date,
        is_scoring_date
    from {{ ref('int_account_as_of_dates') }}
    where {{ as_of_date_is_to_build(ref('int_account_as_of_dates')) }}
),

lead_windows as (
    select
        lead_id,
        as_of_date,
        engagements_30d,
        engagement_index,
        first_engagement_date
    from {{ ref('int_lead_engagement_windows') }}
    where {{ as_of_date_is_to_build(ref('int_account_as_of_dates')) }}
),

leads as (
    select
        lead_id,
        account_id,
        seniority,
        department,
        committee_role,
        created_at
    from {{ ref('stg_crm__leads') }}
    where account_id is not null
),

committee_roles as (
    select committee_role from {{ ref('committee_roles') }}
),

signal_windows as (
    select * from {{ ref('int_account_signal_windows') }}
),

all_roles as (
    select list(committee_role order by committee_role) as roles from committee_roles
),

lead_states as (
    select
        leads.account_id,
        lead_windows.as_of_date,
        leads.seniority,
        leads.department,
        leads.committee_role,
        lead_windows.engagement_index,
        lead_windows.engagements_30d > 0 as is_engaged,
        lead_windows.first_engagement_date >= lead_windows.as_of_date - 14 as is_newly_engaged
    from lead_windows
    inner join leads on lead_windows.lead_id = leads.lead_id
),

engagement_by_account as (
    select
        account_id,
        as_of_date,
        count(*) filter (where is_engaged) as contacts_engaged_30d,
        list(distinct committee_role) filter (
            where is_engaged and committee_role != 'none'
        ) as roles_engaged,
        count(*) filter (where is_engaged and seniority = 'c_level') as c_level_contacts_engaged,
        count(*) filter (where is_engaged and seniority = 'vp') as vp_contacts_engaged,
        count(*) filter (where is_engaged and seniority = 'director') as director_contacts_engaged,
        count(*) filter (where is_engaged and seniority = 'manager') as manager_contacts_engaged,
        count(*) filter (
            where is_engaged and seniority = 'individual_contributor'
        ) as individual_contributor_contacts_engaged,
        count(distinct department) filter (
            where is_engaged and department != 'unknown'
        ) as departments_engaged,
        count(*) filter (where is_newly_engaged) as newly_engaged_contacts_14d,
        sum(engagement_index) as committee_engagement_total
    from lead_states
    group by account_id, as_of_date
),

contacts_created_by_day as (
    select
        account_id,
        cast(created_at as date) as created_date,
        count(*) as contacts_created
    from leads
    group by account_id, created_date
),

contacts_cumulated as (
    select
        account_id,
        created_date,
        sum(contacts_created) over (
            partition by account_id order by created_date
            rows between unbounded preceding and current row
        ) as contacts_known
    from contacts_created_by_day
),

contacts_known as (
    select
        account_spine.account_id,
        account_spine.as_of_date,
        coalesce(contacts_cumulated.contacts_known, 0) as contacts_known
    from account_spine
    asof left join contacts_cumulated
        on account_spine.account_id = contacts_cumulated.account_id
            and account_spine.as_of_date > contacts_cumulated.created_date
),

committee_features as (
    select
        account_spine.account_id,
        account_spine.as_of_date,
        account_spine.is_scoring_date,
        cast(contacts_known.contacts_known as integer) as contacts_known,
        cast(coalesce(engagement_by_account.contacts_engaged_30d, 0) as integer)
            as contacts_engaged_30d,
        cast(len(coalesce(engagement_by_account.roles_engaged, [])) as integer)
            as committee_roles_engaged,
        cast(len(all_roles.roles) as integer) as committee_roles_total,
        round(
            100.0 * len(coalesce(engagement_by_account.roles_engaged, [])) / len(all_roles.roles), 1
        ) as committee_role_completeness_pct,
        list_sort(coalesce(engagement_by_account.roles_engaged, [])) as committee_roles_covered,
        list_filter(
            all_roles.roles,
            lambda role: not list_contains(coalesce(engagement_by_account.roles_engaged, []), role)
        ) as committee_roles_missing,
        cast(coalesce(engagement_by_account.c_level_contacts_engaged, 0) as integer)
            as c_level_contacts_engaged,
        cast(coalesce(engagement_by_account.vp_contacts_engaged, 0) as integer)
            as vp_contacts_engaged,
        cast(coalesce(engagement_by_account.director_contacts_engaged, 0) as integer)
            as director_contacts_engaged,
        cast(coalesce(engagement_by_account.manager_contacts_engaged, 0) as integer)
            as manager_contacts_engaged,
        cast(coalesce(engagement_by_account.individual_contributor_contacts_engaged, 0) as integer)
            as individual_contributor_contacts_engaged,
        coalesce(
            engagement_by_account.c_level_contacts_engaged + engagement_by_account.vp_contacts_engaged,
            0
        ) > 0 as is_executive_engaged,
        cast(coalesce(engagement_by_account.departments_engaged, 0) as integer) as departments_engaged,
        round(
            100 * (1 - exp(-coalesce(engagement_by_account.committee_engagement_total, 0) / {{ scale }})),
            2
        ) as committee_engagement_score,
        cast(coalesce(engagement_by_account.newly_engaged_contacts_14d, 0) as integer)
            as newly_engaged_contacts_14d,
        signal_windows.intent_surges_recent,
        signal_windows.intent_score_recent_avg,
        signal_windows.hiring_surges_recent,
        signal_windows.funding_rounds_365d,
        signal_windows.technology_installs_total,
        signal_windows.days_since_last_signal
    from account_spine
    cross join all_roles
    inner join contacts_known
        on account_spine.account_id = contacts_known.account_id
            and account_spine.as_of_date = contacts_known.as_of_date
    inner join signal_windows
        on account_spine.account_id = signal_windows.account_id
            and account_spine.as_of_date = signal_windows.as_of_date
    left join engagement_by_account
        on account_spine.account_id = engagement_by_account.account_id
            and account_spine.as_of_date = engagement_by_account.as_of_date
)

select * from committee_features
