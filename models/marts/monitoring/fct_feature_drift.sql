-- Drift of every feature the current model reads, and of its score, between the model's test
-- window (the latest data it was shown to work on) and today's scoring set: the population
-- stability index over the card's bins, and for numeric features and the score a binned
-- Kolmogorov-Smirnov statistic (largest gap between the two cumulative distributions at the
-- bin edges, NULLs left out). The same two statistics against the card's own baseline (the
-- training window for features) are reported beside them. Empty when no model is promoted
-- (fct_model_health says so). One row per feature.
{%- set warn_psi = var('lead_scoring__drift_psi_warn') %}
{%- set error_psi = var('lead_scoring__drift_psi_error') %}

with drift_bins as (
    select * from {{ ref('fct_feature_drift_bins') }}
),

cumulated as (
    select
        feature_name,
        bin_index,
        sum(reference_share) over cumulative
        / nullif(sum(reference_share) over feature_bins, 0) as reference_cdf,
        sum(current_share) over cumulative
        / nullif(sum(current_share) over feature_bins, 0) as current_cdf,
        sum(card_share) over cumulative
        / nullif(sum(card_share) over feature_bins, 0) as card_cdf
    from drift_bins
    where feature_kind in ('numeric', 'score') and not is_null_bin
    window
        feature_bins as (partition by feature_name),
        cumulative as (
            partition by feature_name order by bin_index
            rows between unbounded preceding and current row
        )
),

ks_statistics as (
    select
        feature_name,
        max(abs(current_cdf - reference_cdf)) as ks,
        max(abs(current_cdf - card_cdf)) as ks_vs_card
    from cumulated
    group by feature_name
),

psi_by_feature as (
    select
        model_version,
        feature_name,
        feature_kind,
        card_window,
        any_value(reference_start) as reference_start,
        any_value(reference_end) as reference_end,
        cast(count(*) as integer) as bins,
        sum(reference_rows) as reference_rows,
        sum(current_rows) as current_rows,
        sum(reference_share) filter (where is_null_bin) as reference_null_share,
        sum(current_share) filter (where is_null_bin) as current_null_share,
        round(sum(psi_contribution), 6) as psi,
        round(sum(psi_contribution_vs_card), 6) as psi_vs_card,
        arg_max(bin_label, psi_contribution) as most_shifted_bin
    from drift_bins
    group by model_version, feature_name, feature_kind, card_window
),

feature_drift as (
    select
        psi_by_feature.model_version,
        psi_by_feature.feature_name,
        psi_by_feature.feature_kind,
        psi_by_feature.reference_start,
        psi_by_feature.reference_end,
        psi_by_feature.bins,
        psi_by_feature.reference_rows,
        psi_by_feature.current_rows,
        psi_by_feature.reference_null_share,
        psi_by_feature.current_null_share,
        psi_by_feature.psi,
        round(ks_statistics.ks, 6) as ks,
        psi_by_feature.most_shifted_bin,
        case
            when psi_by_feature.psi is null then 'no_reference'
            when psi_by_feature.psi >= {{ error_psi }} then 'error'
            when psi_by_feature.psi >= {{ warn_psi }} then 'warn'
            else 'ok'
        end as drift_status,
        psi_by_feature.card_window,
        psi_by_feature.psi_vs_card,
        round(ks_statistics.ks_vs_card, 6) as ks_vs_card
    from psi_by_feature
    left join ks_statistics on psi_by_feature.feature_name = ks_statistics.feature_name
)

select * from feature_drift
