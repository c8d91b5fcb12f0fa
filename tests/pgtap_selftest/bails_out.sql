begin;
select plan(2);
select ok(true, 'one');
select 'Bail out! fixture gives up';
select * from finish();
rollback;
