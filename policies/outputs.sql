-- images_videos and videos: written only by job_callback and the service role; users read and
-- delete their own (deleting an asset unlinks it from its job), admins read all.

-- jobsdb:unless-app-table public.images_videos
alter table public.images_videos enable row level security;
revoke all on table public.images_videos
from public, anon, authenticated, service_role, jobs_worker;
grant select, delete on table public.images_videos to authenticated;
grant select, insert, update, delete on table public.images_videos to service_role;

create policy "Users can view their own outputs and admins all outputs"
on public.images_videos for select to authenticated
using (
    user_id between (select jobs_private.visible_user_id_bound(false))
    and (select jobs_private.visible_user_id_bound(true))
);

create policy "Users can delete their own outputs"
on public.images_videos for delete to authenticated
using ((select auth.uid()) = user_id);
-- jobsdb:end

-- jobsdb:unless-app-table public.videos
alter table public.videos enable row level security;
revoke all on table public.videos from public, anon, authenticated, service_role, jobs_worker;
grant select, delete on table public.videos to authenticated;
grant select, insert, update, delete on table public.videos to service_role;

create policy "Users can view their own videos and admins all videos"
on public.videos for select to authenticated
using (
    user_id between (select jobs_private.visible_user_id_bound(false))
    and (select jobs_private.visible_user_id_bound(true))
);

create policy "Users can delete their own videos"
on public.videos for delete to authenticated
using ((select auth.uid()) = user_id);
-- jobsdb:end
