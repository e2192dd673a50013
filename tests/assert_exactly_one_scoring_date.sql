-- Features are computed as of exactly one scoring date: fails when int_as_of_dates has none
-- or several.
select count(*) filter (where is_scoring_date) as scoring_dates
from {{ ref('int_as_of_dates') }}
having count(*) filter (where is_scoring_date) != 1
