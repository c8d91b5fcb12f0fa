-- Setup statements print rows that are not TAP; some look like a plan to a lax parser
-- ("1fb2..." or "10.5" start with "1" and a character). They must not count as plans.
begin;
select plan(1);
select '1fb2431e-0000-4000-8000-000000000000'::uuid;
select 10.5;
select ok(true, 'one real test');
select * from finish();
rollback;
