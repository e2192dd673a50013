-- Today's score of every account with an open lead: the probability that it opens an
-- opportunity within the label horizon (calibrated on account outcomes by
-- int_account_scores_computed), a capacity-sized tier, its buying-committee coverage and
-- gaps, its top lead, and up to three reasons in plain words.
with computed as (
    select * from {{ ref('int_account_scores_computed') }}
),

inputs as (
    select
        account_id,
        as_of_date,
        model_version,
        is_rules_fallback,
        scored_leads,
        max_lead_probability,
        top_lead_id,
        contacts_engaged_30d,
        committee_roles_engaged
    from {{ ref('int_account_score_inputs_joined') }}
    where is_scoring_date
),

committee as (
    select
        account_id,
        as_of_date,
        committee_roles_total,
        committee_roles_covered,
        committee_roles_missing
    from {{ ref('fct_account_committee_features') }}
    where is_scoring_date
),

committee_roles as (
    select
        committee_role,
        priority
    from {{ ref('committee_roles') }}
),

lead_scores as (
    select
        lead_id,
        reason_1
    from {{ ref('fct_lead_scores') }}
),

templates as (
    select
        feature_name,
        template
    from {{ ref('feature_reason_templates') }}
),

cutoffs as (
    select
        tier,
        tier_action,
        first_rank,
        last_rank
    from {{ ref('int_tier_cutoffs_solved') }}
    where entity_type = 'account'
),

committee_gaps as (
    select
        committee.account_id,
        string_agg(
            'no ' || replace(committee_roles.committee_role, '_', ' ') || ' engaged',
            '; ' order by committee_roles.priority
        ) as committee_gap
    from committee
    inner join committee_roles
        on list_contains(committee.committee_roles_missing, committee_roles.committee_role)
    group by committee.account_id
),

reasons_worded as (
    select
        computed.account_id,
        {{ worded_reason(
            'computed.reason_1_feature', 'computed.reason_1_value', 'template_1'
        ) }} as reason_1,
        {{ worded_reason(
            'computed.reason_2_feature', 'computed.reason_2_value', 'template_2'
        ) }} as reason_2,
        {{ worded_reason(
            'computed.reason_3_feature', 'computed.reason_3_value', 'template_3'
        ) }} as reason_3
    from computed
    left join templates as template_1
        on computed.reason_1_feature = template_1.feature_name
    left join templates as template_2
        on computed.reason_2_feature = template_2.feature_name
    left join templates as template_3
        on computed.reason_3_feature = template_3.feature_name
),

ranked as (
    select
        inputs.*,
        computed.opportunity_probability,
        computed.account_model,
        row_number() over (
            order by
                computed.opportunity_probability desc nulls last,
                inputs.max_lead_probability desc nulls last,
                inputs.account_id asc
        ) as priority_rank
    from inputs
    inner join computed
        on inputs.account_id = computed.account_id
            and inputs.as_of_date = computed.as_of_date
),

account_scores_final as (
    select
        ranked.account_id,
        ranked.as_of_date,
        cast(ranked.as_of_date as timestamp) as scored_at,
        ranked.model_version,
        ranked.is_rules_fallback,
        ranked.opportunity_probability,
        cutoffs.tier,
        cutoffs.tier_action,
        cast(ranked.priority_rank as integer) as priority_rank,
        cast(ranked.scored_leads as integer) as scored_leads,
        cast(ranked.contacts_engaged_30d as integer) as contacts_engaged_30d,
        cast(ranked.committee_roles_engaged as integer) as committee_roles_engaged,
        committee.committee_roles_total,
        committee.committee_roles_covered,
        committee.committee_roles_missing,
        committee_gaps.committee_gap,
        ranked.top_lead_id,
        ranked.max_lead_probability as top_lead_probability,
        lead_scores.reason_1 as top_lead_reason,
        reasons_worded.reason_1,
        reasons_worded.reason_2,
        reasons_worded.reason_3,
        ranked.account_model
    from ranked
    inner join cutoffs
        on ranked.priority_rank between cutoffs.first_rank and cutoffs.last_rank
    left join committee
        on ranked.account_id = committee.account_id
            and ranked.as_of_date = committee.as_of_date
    left join committee_gaps on ranked.account_id = committee_gaps.account_id
    left join lead_scores on ranked.top_lead_id = lead_scores.lead_id
    left join reasons_worded on ranked.account_id = reasons_worded.account_id
)

select * from account_scores_final
