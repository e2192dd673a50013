-- md5_mod_million() gives md5_number(key) % 1000000 (the training set's sampling bucket):
-- fails with every key of 100,000 lead-and-date keys, and the edge keys, where they differ.
with keys as (
    select
        'LD' || lpad(cast(t.i as varchar), 7, '0') || '|'
        || cast(date '2024-01-01' + cast(t.i % 731 as integer) as varchar) as sample_key
    from range(100000) as t (i)
    union all
    select edges.edge_key
    from (values (''), ('a'), ('|'), ('é')) as edges (edge_key)
)

select
    sample_key,
    {{ md5_mod_million('sample_key') }} as md5_mod_million,
    md5_number(sample_key) % 1000000 as md5_number_mod
from keys
where {{ md5_mod_million('sample_key') }} != md5_number(sample_key) % 1000000
