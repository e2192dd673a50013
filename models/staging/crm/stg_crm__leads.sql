with checked as (
    select * from {{ ref('base_crm__leads') }}
),

job_title_rules as (
    select
        dimension,
        priority,
        pattern,
        value
    from {{ ref('job_title_rules') }}
),

committee_roles as (
    select
        committee_role,
        priority,
        seniority,
        department
    from {{ ref('committee_roles') }}
),

clean_leads as (
    select * from checked
    where len(quarantine_reasons) = 0
),

distinct_titles as (
    select distinct lower(regexp_replace(trim(job_title), '\s+', ' ', 'g')) as normalized_title
    from clean_leads
    where job_title is not null
),

title_rule_matches as (
    select
        distinct_titles.normalized_title,
        job_title_rules.dimension,
        job_title_rules.value,
        row_number() over (
            partition by distinct_titles.normalized_title, job_title_rules.dimension
            order by job_title_rules.priority
        ) as match_rank
    from distinct_titles
    inner join job_title_rules
        on regexp_matches(distinct_titles.normalized_title, job_title_rules.pattern)
),

classified_titles as (
    select
        distinct_titles.normalized_title,
        coalesce(seniority_match.value, 'unknown') as seniority,
        coalesce(department_match.value, 'unknown') as department
    from distinct_titles
    left join title_rule_matches as seniority_match
        on distinct_titles.normalized_title = seniority_match.normalized_title
            and seniority_match.dimension = 'seniority'
            and seniority_match.match_rank = 1
    left join title_rule_matches as department_match
        on distinct_titles.normalized_title = department_match.normalized_title
            and department_match.dimension = 'department'
            and department_match.match_rank = 1
),

titles_with_roles as (
    select
        classified_titles.normalized_title,
        classified_titles.seniority,
        classified_titles.department,
        coalesce(
            arg_min(committee_roles.committee_role, committee_roles.priority), 'none'
        ) as committee_role
    from classified_titles
    left join committee_roles
        on (committee_roles.seniority is null or classified_titles.seniority = committee_roles.seniority)
            and (
                committee_roles.department is null
                or classified_titles.department = committee_roles.department
            )
    group by all
),

clean as (
    select
        clean_leads.lead_id,
        clean_leads.account_id,
        clean_leads.email,
        split_part(clean_leads.email, '@', 2) as email_domain,
        clean_leads.first_name,
        clean_leads.last_name,
        clean_leads.job_title,
        coalesce(titles_with_roles.seniority, 'unknown') as seniority,
        coalesce(titles_with_roles.department, 'unknown') as department,
        coalesce(titles_with_roles.committee_role, 'none') as committee_role,
        clean_leads.lead_source,
        clean_leads.lead_source_label,
        clean_leads.created_at,
        clean_leads.raw_line_number
    from clean_leads
    left join titles_with_roles
        on lower(regexp_replace(trim(clean_leads.job_title), '\s+', ' ', 'g'))
            = titles_with_roles.normalized_title
)

select * from clean
