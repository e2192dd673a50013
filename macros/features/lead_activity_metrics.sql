{% macro lead_activity_metrics() -%}
    {#-
    The lead activity metrics, defined once. Each is a count of a lead's activities per day
    (`condition` is a SQL filter over stg_crm__activities joined to the page_categories
    seed), cumulated per lead, and windowed as of each date over the `windows` listed
    (days before the as-of date, end exclusive). `total` means everything before the date.
    Add a metric here and it flows through int_lead_activity_days_cumulated and
    int_lead_engagement_windows; then name its columns in fct_lead_features.

    Returns: an ordered dict  metric name -> {condition, windows}.
    -#}
    {{ return({
        "web_visits": {"condition": "activity_type = 'web_visit'", "windows": [7, 30, 90]},
        "high_intent_visits": {"condition": "activity_type = 'web_visit' and is_high_intent_page", "windows": [7, 30, 90]},
        "pricing_visits": {"condition": "activity_type = 'web_visit' and page_category = 'pricing'", "windows": [7, 30]},
        "demo_visits": {"condition": "activity_type = 'web_visit' and page_category = 'demo'", "windows": [30]},
        "contact_visits": {"condition": "activity_type = 'web_visit' and page_category = 'contact'", "windows": [30]},
        "docs_visits": {"condition": "activity_type = 'web_visit' and page_category = 'docs'", "windows": [30]},
        "blog_visits": {"condition": "activity_type = 'web_visit' and page_category = 'blog'", "windows": [30]},
        "careers_visits": {"condition": "activity_type = 'web_visit' and page_category = 'careers'", "windows": [30]},
        "content_downloads": {"condition": "activity_type = 'content_download'", "windows": [30, 90]},
        "webinar_registrations": {"condition": "activity_type = 'webinar_registration'", "windows": [90]},
        "webinar_attendances": {"condition": "activity_type = 'webinar_attendance'", "windows": [90]},
        "form_fills": {"condition": "activity_type = 'form_fill'", "windows": [30, 90]},
        "email_sends": {"condition": "activity_type = 'email_send'", "windows": [30, 90]},
        "email_opens": {"condition": "activity_type = 'email_open'", "windows": [30, 90]},
        "email_clicks": {"condition": "activity_type = 'email_click'", "windows": [30, 90]},
        "email_bounces": {"condition": "activity_type = 'email_bounce'", "windows": [90]},
        "unsubscribes": {"condition": "activity_type = 'unsubscribe'", "windows": ["total"]},
        "engagements": {"condition": "is_engagement", "windows": [7, 28, 30, 90, "total"]},
    }) }}
{%- endmacro %}

{% macro lead_activity_windows() -%}
    {#- The distinct numeric windows (days) used by lead_activity_metrics(), ascending. -#}
    {%- set windows = [] -%}
    {%- for metric in lead_activity_metrics().values() -%}
        {%- for window in metric.windows -%}
            {%- if window != "total" and window not in windows -%}{%- do windows.append(window) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(windows | sort) }}
{%- endmacro %}
