create trigger jobs_before_insert_trg
before insert on public.jobs
for each row execute function jobs_private.jobs_before_insert();

create trigger jobs_before_update_trg
before update on public.jobs
for each row execute function jobs_private.jobs_before_update();

create trigger profiles_touch_updated_at_trg
before update on public.profiles
for each row execute function jobs_private.touch_updated_at();
