-- One row per conversion and path scope. A conversion is one opportunity, at its creation
-- (lead_scoring__attribution_conversion_event = 'created') or its win ('won'). Each is
-- attributed twice: to the touches of the lead that opened it (path_scope 'lead') and to
-- the touches of every contact of its account (path_scope 'account'). Its lookback window
-- starts lookback_days before it, but never before the same lead's / account's previous
-- conversion: consecutive conversions split a timeline into disjoint windows.
{%- set conversion_event = var('lead_scoring__attribution_conversion_event') %}
{%- if conversion_event not in ('created', 'won') %}
    {{ exceptions.raise_compiler_error(
        "lead_scoring__attribution_conversion_event must be 'created' or 'won', not '"
        ~ conversion_event ~ "'"
    ) }}
{%- endif %}
{%- set conversion_column = 'closed_at' if conversion_event == 'won' else 'created_at' %}

with opportunities as (
    select
        opportunity_id,
        account_id,
        lead_id,
        created_at,
        closed_at,
        amount,
        is_won
    from {{ ref('stg_crm__opportunities') }}
),

leads as (
    select
        lead_id,
        created_at
    from {{ ref('stg_crm__leads') }}
),

data_end as (
    select cast(as_of_date as timestamp) as data_end_at
    from {{ ref('int_as_of_dates') }}
    where is_scoring_date
),

conversions as (
    select
        opportunities.opportunity_id,
        opportunities.account_id,
        opportunities.lead_id,
        opportunities.{{ conversion_column }} as converted_at,
        opportunities.amount as opportunity_amount,
        leads.created_at as lead_created_at
    from opportunities
    left join leads on opportunities.lead_id = leads.lead_id
    {%- if conversion_event == 'won' %}
    where opportunities.is_won and opportunities.closed_at is not null
    {%- endif %}
),

conversions_before_data_end as (
    select conversions.*
    from conversions
    cross join data_end
    where conversions.converted_at < data_end.data_end_at
),

scoped_conversions as (
    select
        'lead' as path_scope,
        lead_id as entity_id,
        *
    from conversions_before_data_end
    where lead_id is not null
    union all
    select
        'account' as path_scope,
        account_id as entity_id,
        *
    from conversions_before_data_end
),

sequenced_conversions as (
    select
        *,
        lag(converted_at) over (
            partition by path_scope, entity_id order by converted_at, opportunity_id
        ) as previous_converted_at
    from scoped_conversions
),

windowed_conversions as (
    select
        path_scope || ':' || opportunity_id as path_id,
        path_scope,
        entity_id,
        opportunity_id,
        lead_id,
        account_id,
        converted_at,
        previous_converted_at,
        -- greatest() skips nulls: no previous conversion leaves the plain lookback.
        greatest(
            converted_at - to_days({{ var('lead_scoring__attribution_lookback_days') }}),
            previous_converted_at
        ) as window_start_at,
        -- A second conversion at the very same moment gets an empty window: the touches
        -- belong to the first (by opportunity_id) of the tied conversions.
        coalesce(previous_converted_at = converted_at, false) as is_tied_conversion,
        opportunity_amount,
        lead_created_at
    from sequenced_conversions
)

select * from windowed_conversions
