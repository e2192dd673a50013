-- The monitoring verdict in one row, the row `leadscore monitor` prints: which model scores
-- today and how old it is (from the day its training labels were complete to the data's
-- scoring date, never the clock), how far today's features and score drifted from its test
-- window, how its ROC AUC on snapshots matured since it was trained compares with the card's
-- test AUC, how many segments fail the disparate-impact check, whether today's published
-- scores (fct_lead_scores) come from the monitored model, and whether retraining is due:
-- no model, a drift error, an AUC drop beyond lead_scoring__retrain_auc_drop, or an age beyond
-- lead_scoring__retrain_max_model_age_days. One row per scoring date.
{%- set max_age_days = var('lead_scoring__retrain_max_model_age_days') %}
{%- set max_auc_drop = var('lead_scoring__retrain_auc_drop') %}
{%- set min_positives = var('lead_scoring__monitoring_min_positives') %}
{%- set warn_psi = var('lead_scoring__drift_psi_warn') %}
{%- set error_psi = var('lead_scoring__drift_psi_error') %}

with monitored_model as (
    select
        model_version,
        is_model_promoted,
        status_note,
        model_type,
        model_data_date,
        card_test_roc_auc
    from {{ ref('fct_monitored_model') }}
),

scoring_set as (
    select as_of_date
    from {{ ref('fct_lead_scoring_set') }}
),

-- From the bins, not fct_feature_drift: a drift error fails fct_feature_drift's test, and dbt
-- skips the children of a failed test, which would leave this verdict stale.
feature_drift_bins as (
    select
        feature_name,
        feature_kind,
        psi_contribution
    from {{ ref('fct_feature_drift_bins') }}
),

score_backtest as (
    select
        bucket,
        first_as_of_date,
        last_as_of_date,
        positive_rows,
        row_count,
        roc_auc,
        scorer
    from {{ ref('fct_score_backtest') }}
    where breakdown = 'window'
),

segment_performance as (
    select passes_disparate_impact_check
    from {{ ref('fct_segment_performance') }}
),

lead_scores as (
    select model_version
    from {{ ref('fct_lead_scores') }}
),

published as (
    select string_agg(distinct model_version, ', ' order by model_version) as published_by
    from lead_scores
),

scoring_dates as (
    select
        max(as_of_date) as scoring_date,
        count(*) as scored_leads
    from scoring_set
),

feature_psi as (
    select
        feature_name,
        feature_kind,
        round(sum(psi_contribution), 6) as psi
    from feature_drift_bins
    group by feature_name, feature_kind
),

drift_summary as (
    select
        cast(count(*) filter (where feature_kind != 'score') as integer) as features_monitored,
        cast(count(*) filter (
            where feature_kind != 'score' and psi >= {{ warn_psi }} and psi < {{ error_psi }}
        ) as integer) as features_drift_warn,
        cast(count(*) filter (
            where feature_kind != 'score' and psi >= {{ error_psi }}
        ) as integer) as features_drift_error,
        arg_max(feature_name, psi) filter (where feature_kind != 'score') as worst_drift_feature,
        max(psi) filter (where feature_kind != 'score') as worst_drift_psi,
        max(psi) filter (where feature_kind = 'score') as score_psi,
        coalesce(bool_or(psi >= {{ error_psi }}), false) as has_drift_error
    from feature_psi
),

backtest_summary as (
    select
        max(roc_auc) filter (where scorer = 'model' and bucket = 'test') as backtest_test_roc_auc,
        max(roc_auc) filter (where scorer = 'model' and bucket = 'after_training')
            as recent_roc_auc,
        max(roc_auc) filter (where scorer = 'rules' and bucket = 'after_training')
            as recent_rules_roc_auc,
        cast(coalesce(max(positive_rows) filter (
            where scorer = 'model' and bucket = 'after_training'
        ), 0) as bigint) as recent_positive_rows,
        min(first_as_of_date) filter (where scorer = 'model' and bucket = 'after_training')
            as recent_first_date,
        max(last_as_of_date) filter (where scorer = 'model' and bucket = 'after_training')
            as recent_last_date
    from score_backtest
),

fairness_summary as (
    select
        cast(count(*) filter (where not passes_disparate_impact_check) as integer)
            as segments_failing_disparate_impact
    from segment_performance
),

measured as (
    select
        scoring_dates.scoring_date,
        scoring_dates.scored_leads,
        monitored_model.model_version,
        monitored_model.is_model_promoted,
        monitored_model.status_note,
        monitored_model.model_type,
        monitored_model.model_data_date,
        cast(scoring_dates.scoring_date - monitored_model.model_data_date as integer)
            as model_age_days,
        cast({{ max_age_days }} as integer) as max_model_age_days,
        coalesce(drift_summary.features_monitored, 0) as features_monitored,
        coalesce(drift_summary.features_drift_warn, 0) as features_drift_warn,
        coalesce(drift_summary.features_drift_error, 0) as features_drift_error,
        drift_summary.worst_drift_feature,
        drift_summary.worst_drift_psi,
        drift_summary.score_psi,
        cast({{ warn_psi }} as double) as drift_warn_psi,
        cast({{ error_psi }} as double) as drift_error_psi,
        coalesce(drift_summary.has_drift_error, false) as has_drift_error,
        monitored_model.card_test_roc_auc,
        backtest_summary.backtest_test_roc_auc,
        backtest_summary.recent_roc_auc,
        backtest_summary.recent_rules_roc_auc,
        backtest_summary.recent_positive_rows,
        backtest_summary.recent_first_date,
        backtest_summary.recent_last_date,
        cast({{ min_positives }} as integer) as min_positive_rows,
        cast({{ max_auc_drop }} as double) as max_auc_drop,
        cast({{ var('lead_scoring__disparate_impact_min_ratio') }} as double)
            as disparate_impact_min_ratio,
        coalesce(fairness_summary.segments_failing_disparate_impact, 0)
            as segments_failing_disparate_impact,
        published.published_by,
        coalesce(published.published_by = monitored_model.model_version, false)
            as is_published_by_monitored_model
    from monitored_model
    cross join scoring_dates
    cross join drift_summary
    cross join backtest_summary
    cross join fairness_summary
    cross join published
),

judged as (
    select
        *,
        coalesce(model_age_days > max_model_age_days, false) as is_model_stale,
        recent_roc_auc is not null and recent_positive_rows >= min_positive_rows
            as is_auc_measurable,
        round(card_test_roc_auc - recent_roc_auc, 6) as auc_drop
    from measured
),

flagged as (
    select
        *,
        coalesce(is_auc_measurable and auc_drop > max_auc_drop, false) as is_auc_degraded
    from judged
),

worded as (
    select
        *,
        not is_model_promoted or has_drift_error or is_model_stale or is_auc_degraded
            as is_retrain_due,
        printf('the score drifts (PSI %.3f)', score_psi) as score_drift_text,
        printf(
            '%d feature(s) drift beyond PSI %g, worst %s (PSI %.3f)',
            features_drift_error, drift_error_psi, worst_drift_feature, worst_drift_psi
        ) as feature_drift_text,
        printf(
            'ROC AUC %.3f since training is %.3f below the card test AUC %.3f',
            recent_roc_auc, auc_drop, card_test_roc_auc
        ) as auc_drop_text,
        printf('the model is %d days old (limit %d)', model_age_days, max_model_age_days)
            as model_age_text
    from flagged
),

health as (
    select
        * exclude (score_drift_text, feature_drift_text, auc_drop_text, model_age_text),
        nullif(concat_ws(
            '; ',
            case when not is_model_promoted then 'no model is promoted' end,
            case when score_psi >= drift_error_psi then score_drift_text end,
            case when features_drift_error > 0 then feature_drift_text end,
            case when is_auc_degraded then auc_drop_text end,
            case when is_model_stale then model_age_text end
        ), '') as retrain_reasons
    from worded
)

select * from health
