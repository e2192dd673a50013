-- Each account's size bands and ideal-customer-profile fit score (points from the
-- icp_criteria seed for its industry, employee band and region).
with accounts as (
    select
        account_id,
        industry,
        employee_count,
        annual_revenue,
        region
    from {{ ref('stg_crm__accounts') }}
),

icp_criteria as (
    select
        dimension,
        value,
        points
    from {{ ref('icp_criteria') }}
),

banded as (
    select
        account_id,
        industry,
        region,
        employee_count,
        annual_revenue,
        case
            when employee_count is null then 'unknown'
            when employee_count < 50 then '1-49'
            when employee_count < 200 then '50-199'
            when employee_count < 1000 then '200-999'
            when employee_count < 5000 then '1000-4999'
            else '5000+'
        end as employee_band,
        case
            when annual_revenue is null then 'unknown'
            when annual_revenue < 10000000 then '<10M'
            when annual_revenue < 50000000 then '10M-50M'
            when annual_revenue < 250000000 then '50M-250M'
            when annual_revenue < 1000000000 then '250M-1B'
            else '1B+'
        end as revenue_band
    from accounts
),

fit_scored as (
    select
        banded.*,
        coalesce(industry_points.points, 0)
        + coalesce(employee_points.points, 0)
        + coalesce(region_points.points, 0) as icp_fit_score
    from banded
    left join icp_criteria as industry_points
        on
            industry_points.dimension = 'industry'
            and banded.industry = industry_points.value
    left join icp_criteria as employee_points
        on
            employee_points.dimension = 'employee_band'
            and banded.employee_band = employee_points.value
    left join icp_criteria as region_points
        on
            region_points.dimension = 'region'
            and banded.region = region_points.value
)

select * from fit_scored
