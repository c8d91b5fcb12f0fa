create function public.get_job(job_id uuid)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return (
        select to_jsonb(j) - 'lease_token' - 'locked_by' || jsonb_build_object(
            'assets', coalesce((
                select jsonb_agg(jobs_private.asset_json(iv, j) order by iv.asset_index)
                from public.images_videos as iv
                where iv.job_id = j.id
            ), '[]')
        )
        from public.jobs as j
        where j.id = get_job.job_id
    );
end;
$$;
comment on function public.get_job(uuid) is
'One job of the signed-in user (admins: any) with its outputs (assets with bucket, model type and enriched metadata); null when there is no such job for this user.';
revoke all on function public.get_job(uuid) from public, anon, authenticated, service_role;
grant execute on function public.get_job(uuid) to authenticated;
