create function public.asset_info(asset_id uuid)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return (
        select jobs_private.asset_json(iv, j)
        from public.images_videos as iv
        inner join public.jobs as j on j.id = iv.job_id
        where iv.id = asset_info.asset_id
    );
end;
$$;
comment on function public.asset_info(uuid) is
'An output asset of the signed-in user with its storage bucket, model type, format and metadata enriched from its job; null when there is no such asset for this user. For all assets of a job use get_job.';
revoke all on function public.asset_info(uuid) from public, anon, authenticated, service_role;
grant execute on function public.asset_info(uuid) to authenticated;
