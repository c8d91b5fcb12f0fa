-- plpgsql, not sql: a SQL function with a SET clause is never inlined and runs its statement
-- through a new executor on every call (once per asset of a page); in plpgsql the body is one
-- simple expression, evaluated without one. library_items writes the same object out in its
-- query instead (a call per asset of its page of 50 was its largest cost: bench/README.md).
create function jobs_private.asset_json(asset public.images_videos, job public.jobs)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return jsonb_build_object(
        'asset_id', asset.id, 'job_id', job.id, 'asset_index', asset.asset_index,
        'type', asset.asset_type, 'bucket', asset.bucket, 'file_path', asset.file_path,
        'file_name', asset.file_name, 'thumbnail_path', asset.thumbnail_path,
        'job_type', job.job_type, 'model_type', job.model_type, 'quality', job.quality,
        'format', job.format, 'created_at', asset.created_at,
        'metadata', (job.metadata - 'job_id') || asset.metadata || jsonb_strip_nulls(jsonb_build_object(
            'job_id', job.metadata -> 'job_id', 'model_type', job.model_type,
            'quality', job.quality, 'enhancement_strategy', job.enhancement_strategy,
            'enhanced_prompt', job.enhanced_prompt, 'original_prompt', job.original_prompt,
            'template_name', job.template_name
        ))
    );
end;
$$;
comment on function jobs_private.asset_json(public.images_videos, public.jobs) is
'One output asset as the app shows it: storage bucket, model type, format and the metadata enriched from its job (what the app''s AssetService derived).';
revoke all on function jobs_private.asset_json(public.images_videos, public.jobs)
from public, anon, authenticated, service_role;
grant execute on function jobs_private.asset_json(public.images_videos, public.jobs)
to authenticated;
