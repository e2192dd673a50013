-- Attributed conversions and pipeline per channel, attribution model, path scope and
-- conversion month: the table BI reads. Rows exist only where a model credited the channel.
with touchpoint_attributions as (
    select
        path_scope,
        attribution_model,
        channel,
        opportunity_id,
        converted_at,
        credit,
        attributed_pipeline_amount
    from {{ ref('fct_touchpoint_attributions') }}
),

channel_attributions as (
    select
        cast(date_trunc('month', converted_at) as date) as conversion_month,
        channel,
        attribution_model,
        path_scope,
        -- Rounded: a sum of doubles can differ in its last bits with the order rows arrive
        -- in, and a rebuild must give the same table.
        round(sum(credit), 9) as attributed_conversions,
        round(sum(attributed_pipeline_amount), 6) as attributed_pipeline_amount,
        count(*) as touchpoint_count,
        count(distinct opportunity_id) as touched_conversion_count
    from touchpoint_attributions
    group by
        cast(date_trunc('month', converted_at) as date),
        channel,
        attribution_model,
        path_scope
),

contracted as (
    select
        cast(conversion_month as date) as conversion_month,
        cast(channel as varchar) as channel,
        cast(attribution_model as varchar) as attribution_model,
        cast(path_scope as varchar) as path_scope,
        cast(attributed_conversions as double) as attributed_conversions,
        cast(attributed_pipeline_amount as double) as attributed_pipeline_amount,
        cast(touchpoint_count as bigint) as touchpoint_count,
        cast(touched_conversion_count as bigint) as touched_conversion_count
    from channel_attributions
)

select * from contracted
