begin;
select plan(3);
select ok(true, 'one');
select ok(true, 'two');
select * from finish();
rollback;
