-- One row per touch, attribution model and path scope on a conversion path: the touch's
-- credit (a share of one conversion) and the pipeline it is credited with.
with pathed_touchpoints as (
    select
        path_id,
        touchpoint_id,
        path_scope,
        opportunity_id,
        lead_id,
        channel,
        is_paid_channel,
        touched_at,
        touch_position,
        touch_count,
        is_lead_creation_touch
    from {{ ref('int_touchpoints_pathed') }}
    where is_conversion
),

conversions as (
    select
        path_id,
        account_id,
        converted_at,
        opportunity_amount
    from {{ ref('int_attribution_conversions_identified') }}
),

rules_based_credits as (
    select
        path_id,
        touchpoint_id,
        first_touch_credit,
        last_touch_credit,
        linear_credit,
        time_decay_credit,
        position_based_credit,
        w_shaped_credit
    from {{ ref('int_touchpoint_credits_rules_allocated') }}
),

data_driven_credits as (
    select
        path_id,
        touchpoint_id,
        markov_credit,
        shapley_credit
    from {{ ref('int_touchpoint_credits_data_driven_allocated') }}
),

attribution_models as (
    select model_names.attribution_model
    from (
        values
        ('first_touch'), ('last_touch'), ('linear'), ('time_decay'),
        ('position_based'), ('w_shaped'), ('markov'), ('shapley')
    ) as model_names (attribution_model)
),

touchpoints_with_credits as (
    select
        pathed_touchpoints.*,
        conversions.account_id,
        conversions.converted_at,
        conversions.opportunity_amount,
        rules_based_credits.first_touch_credit,
        rules_based_credits.last_touch_credit,
        rules_based_credits.linear_credit,
        rules_based_credits.time_decay_credit,
        rules_based_credits.position_based_credit,
        rules_based_credits.w_shaped_credit,
        data_driven_credits.markov_credit,
        data_driven_credits.shapley_credit
    from pathed_touchpoints
    inner join conversions on pathed_touchpoints.path_id = conversions.path_id
    inner join rules_based_credits
        on pathed_touchpoints.path_id = rules_based_credits.path_id
            and pathed_touchpoints.touchpoint_id = rules_based_credits.touchpoint_id
    inner join data_driven_credits
        on pathed_touchpoints.path_id = data_driven_credits.path_id
            and pathed_touchpoints.touchpoint_id = data_driven_credits.touchpoint_id
),

touchpoint_attributions as (
    select
        touchpoints_with_credits.*,
        attribution_models.attribution_model,
        case attribution_models.attribution_model
            when 'first_touch' then touchpoints_with_credits.first_touch_credit
            when 'last_touch' then touchpoints_with_credits.last_touch_credit
            when 'linear' then touchpoints_with_credits.linear_credit
            when 'time_decay' then touchpoints_with_credits.time_decay_credit
            when 'position_based' then touchpoints_with_credits.position_based_credit
            when 'w_shaped' then touchpoints_with_credits.w_shaped_credit
            when 'markov' then touchpoints_with_credits.markov_credit
            when 'shapley' then touchpoints_with_credits.shapley_credit
        end as credit
    from touchpoints_with_credits
    cross join attribution_models
),

contracted as (
    select
        cast(touchpoint_id as varchar) as touchpoint_id,
        cast(path_scope as varchar) as path_scope,
        cast(attribution_model as varchar) as attribution_model,
        cast(opportunity_id as varchar) as opportunity_id,
        cast(account_id as varchar) as account_id,
        cast(lead_id as varchar) as lead_id,
        cast(channel as varchar) as channel,
        cast(is_paid_channel as boolean) as is_paid_channel,
        cast(touched_at as timestamp) as touched_at,
        cast(converted_at as timestamp) as converted_at,
        cast(touch_position as integer) as touch_position,
        cast(touch_count as integer) as touch_count,
        cast(is_lead_creation_touch as boolean) as is_lead_creation_touch,
        cast(credit as double) as credit,
        cast(opportunity_amount as decimal(18, 2)) as opportunity_amount,
        cast(credit * opportunity_amount as double) as attributed_pipeline_amount
    from touchpoint_attributions
)

select * from contracted
