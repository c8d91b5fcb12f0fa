-- purge_finished_jobs deletes one bounded batch per call, oldest first; the default cutoff is
-- settings.purge_failed_after (30 days); bad arguments are 22023.
begin;
select plan(6);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- Five cancelled jobs that finished 40..44 days ago, one cancelled 20 days ago.
insert into public.jobs (id, user_id, job_type, metadata)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    '{"prompt": "p"}' as metadata
from generate_series(1, 6) as i;
update public.jobs set status = 'cancelled' where user_id = current_setting('t.alice')::uuid;
update public.jobs
set
    completed_at = case when id = '00000000-0000-0000-0000-000000000006'
            then now() - interval '20 days'
        else now() - make_interval(days => 45 - right(id::text, 1)::integer)
    end
where user_id = current_setting('t.alice')::uuid;

select tests.authenticate_as(tests.create_user('admin@example.com', true));
select is(public.purge_finished_jobs(batch_size := 2), 2, 'the first batch deletes two');
select results_eq(
    $$select right(j.id::text, 1) from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid order by j.id$$,
    $$values ('3'), ('4'), ('5'), ('6')$$,
    'the two oldest went first'
);
select is(public.purge_finished_jobs(batch_size := 2), 2, 'the second batch deletes two');
select is(
    public.purge_finished_jobs(batch_size := 2), 1,
    'the third deletes the last one older than 30 days, not the 20-day-old job'
);
select throws_ok(
    $$select public.purge_finished_jobs(batch_size := 0)$$, '22023', null,
    'batch_size 0 is 22023'
);
select throws_ok(
    $$select public.purge_finished_jobs(older_than := interval '-1 day')$$, '22023', null,
    'a negative age is 22023'
);
select tests.clear_authentication();

select * from finish();
rollback;
