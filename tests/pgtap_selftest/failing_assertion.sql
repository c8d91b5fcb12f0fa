begin;
select plan(2);
select ok(true, 'this one passes');
select is(1 + 1, 3, 'this one fails on purpose');
select * from finish();
rollback;
