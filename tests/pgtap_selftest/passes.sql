begin;
select plan(2);
select ok(true, 'true is ok');
select is(1 + 1, 2, 'arithmetic works');
select * from finish();
rollback;
