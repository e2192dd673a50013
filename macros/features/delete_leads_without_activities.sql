{#-
    The post-hook of int_lead_activity_days_cumulated: deletes the rows of leads that no
    longer have any clean activity (their activities were removed from the export or are
    quarantined now). An incremental build rebuilds the leads whose activities changed, but a
    lead without activities has no rows to rebuild, so its old rows are deleted here.
-#}
{% macro delete_leads_without_activities() %}
    delete from {{ this }}
    where lead_id not in (select activities.lead_id from {{ ref('stg_crm__activities') }} as activities)
{% endmacro %}
