-- public.jobs has the spec's 32 columns plus created_at, started_at, completed_at and
-- updated_at, each with the spec's type, default and nullability.
begin;
select plan(100);

select has_table('public', 'jobs', 'public.jobs exists');

-- type of every spec column
select col_type_is('public', 'jobs', 'id', 'uuid', 'id is uuid');
select col_type_is('public', 'jobs', 'video_id', 'uuid', 'video_id is uuid');
select col_type_is('public', 'jobs', 'user_id', 'uuid', 'user_id is uuid');
select col_type_is('public', 'jobs', 'job_type', 'text', 'job_type is text');
select col_type_is('public', 'jobs', 'status', 'text', 'status is text');
select col_type_is('public', 'jobs', 'error_message', 'text', 'error_message is text');
select col_type_is('public', 'jobs', 'attempts', 'integer', 'attempts is integer');
select col_type_is('public', 'jobs', 'max_attempts', 'integer', 'max_attempts is integer');
select col_type_is('public', 'jobs', 'metadata', 'jsonb', 'metadata is jsonb');
select col_type_is('public', 'jobs', 'project_id', 'uuid', 'project_id is uuid');
select col_type_is('public', 'jobs', 'image_id', 'uuid', 'image_id is uuid');
select col_type_is('public', 'jobs', 'format', 'text', 'format is text');
select col_type_is('public', 'jobs', 'quality', 'text', 'quality is text');
select col_type_is('public', 'jobs', 'model_type', 'text', 'model_type is text');
select col_type_is('public', 'jobs', 'prompt_test_id', 'uuid', 'prompt_test_id is uuid');
select col_type_is('public', 'jobs', 'test_metadata', 'jsonb', 'test_metadata is jsonb');
select col_type_is('public', 'jobs', 'moderation_status', 'text', 'moderation_status is text');
select col_type_is(
    'public', 'jobs', 'reviewed_at', 'timestamp with time zone', 'reviewed_at is timestamptz'
);
select col_type_is('public', 'jobs', 'reviewed_by', 'uuid', 'reviewed_by is uuid');
select col_type_is('public', 'jobs', 'review_notes', 'text', 'review_notes is text');
select col_type_is(
    'public', 'jobs', 'enhancement_strategy', 'character varying(50)',
    'enhancement_strategy is varchar(50)'
);
select col_type_is('public', 'jobs', 'original_prompt', 'text', 'original_prompt is text');
select col_type_is('public', 'jobs', 'enhanced_prompt', 'text', 'enhanced_prompt is text');
select col_type_is(
    'public', 'jobs', 'enhancement_time_ms', 'integer', 'enhancement_time_ms is integer'
);
select col_type_is(
    'public', 'jobs', 'quality_rating', 'numeric(6,2)', 'quality_rating is numeric(6,2)'
);
select col_type_is(
    'public', 'jobs', 'quality_improvement', 'numeric(9,2)',
    'quality_improvement is numeric(9,2)'
);
select col_type_is('public', 'jobs', 'compel_weights', 'jsonb', 'compel_weights is jsonb');
select col_type_is(
    'public', 'jobs', 'qwen_expansion_percentage', 'numeric(9,2)',
    'qwen_expansion_percentage is numeric(9,2), wider than the app''s numeric(5,2)'
);
select col_type_is('public', 'jobs', 'destination', 'text', 'destination is text');
select col_type_is(
    'public', 'jobs', 'workspace_session_id', 'uuid', 'workspace_session_id is uuid'
);
select col_type_is('public', 'jobs', 'template_name', 'text', 'template_name is text');
select col_type_is('public', 'jobs', 'api_model_id', 'uuid', 'api_model_id is uuid');
select col_type_is(
    'public', 'jobs', 'created_at', 'timestamp with time zone', 'created_at is timestamptz'
);
select col_type_is(
    'public', 'jobs', 'started_at', 'timestamp with time zone', 'started_at is timestamptz'
);
select col_type_is(
    'public', 'jobs', 'completed_at', 'timestamp with time zone', 'completed_at is timestamptz'
);
select col_type_is(
    'public', 'jobs', 'updated_at', 'timestamp with time zone', 'updated_at is timestamptz'
);

-- defaults
select col_default_is(
    'public', 'jobs', 'id', 'jobs_private.new_job_id()',
    'id defaults to a new uuid that orders by creation'
);
select col_default_is('public', 'jobs', 'status', 'queued', 'status defaults to queued');
select col_default_is('public', 'jobs', 'attempts', '0', 'attempts defaults to 0');
select col_default_is('public', 'jobs', 'max_attempts', '3', 'max_attempts defaults to 3');
select col_default_is('public', 'jobs', 'metadata', '{}', 'metadata defaults to {}');
select col_default_is(
    'public', 'jobs', 'moderation_status', 'pending', 'moderation_status defaults to pending'
);
select col_default_is(
    'public', 'jobs', 'destination', 'library', 'destination defaults to library'
);
select col_default_is('public', 'jobs', 'created_at', 'now()', 'created_at defaults to now()');
select col_default_is('public', 'jobs', 'updated_at', 'now()', 'updated_at defaults to now()');
select col_hasnt_default('public', 'jobs', 'user_id', 'user_id has no default');
select col_hasnt_default('public', 'jobs', 'job_type', 'job_type has no default');
select col_hasnt_default('public', 'jobs', 'started_at', 'started_at has no default');
select col_hasnt_default('public', 'jobs', 'completed_at', 'completed_at has no default');
select col_hasnt_default('public', 'jobs', 'image_id', 'image_id has no default');
select col_hasnt_default('public', 'jobs', 'video_id', 'video_id has no default');

-- not null: the required columns and every column with a default
select col_not_null('public', 'jobs', 'id', 'id is not null');
select col_not_null('public', 'jobs', 'user_id', 'user_id is not null (every job has an owner)');
select col_not_null('public', 'jobs', 'job_type', 'job_type is not null');
select col_not_null('public', 'jobs', 'status', 'status is not null');
select col_not_null('public', 'jobs', 'attempts', 'attempts is not null');
select col_not_null('public', 'jobs', 'max_attempts', 'max_attempts is not null');
select col_not_null('public', 'jobs', 'metadata', 'metadata is not null');
select col_not_null('public', 'jobs', 'moderation_status', 'moderation_status is not null');
select col_not_null('public', 'jobs', 'destination', 'destination is not null');
select col_not_null('public', 'jobs', 'created_at', 'created_at is not null');
select col_not_null('public', 'jobs', 'updated_at', 'updated_at is not null');

-- nullable: the spec's optional columns
select col_is_null('public', 'jobs', 'video_id', 'video_id is nullable');
select col_is_null('public', 'jobs', 'error_message', 'error_message is nullable');
select col_is_null('public', 'jobs', 'project_id', 'project_id is nullable');
select col_is_null('public', 'jobs', 'image_id', 'image_id is nullable');
select col_is_null('public', 'jobs', 'format', 'format is nullable');
select col_is_null('public', 'jobs', 'quality', 'quality is nullable');
select col_is_null('public', 'jobs', 'model_type', 'model_type is nullable');
select col_is_null('public', 'jobs', 'prompt_test_id', 'prompt_test_id is nullable');
select col_is_null('public', 'jobs', 'test_metadata', 'test_metadata is nullable');
select col_is_null('public', 'jobs', 'reviewed_at', 'reviewed_at is nullable');
select col_is_null('public', 'jobs', 'reviewed_by', 'reviewed_by is nullable');
select col_is_null('public', 'jobs', 'review_notes', 'review_notes is nullable');
select col_is_null('public', 'jobs', 'enhancement_strategy', 'enhancement_strategy is nullable');
select col_is_null('public', 'jobs', 'original_prompt', 'original_prompt is nullable');
select col_is_null('public', 'jobs', 'enhanced_prompt', 'enhanced_prompt is nullable');
select col_is_null('public', 'jobs', 'enhancement_time_ms', 'enhancement_time_ms is nullable');
select col_is_null('public', 'jobs', 'quality_rating', 'quality_rating is nullable');
select col_is_null('public', 'jobs', 'quality_improvement', 'quality_improvement is nullable');
select col_is_null('public', 'jobs', 'compel_weights', 'compel_weights is nullable');
select col_is_null(
    'public', 'jobs', 'qwen_expansion_percentage', 'qwen_expansion_percentage is nullable'
);
select col_is_null('public', 'jobs', 'workspace_session_id', 'workspace_session_id is nullable');
select col_is_null('public', 'jobs', 'template_name', 'template_name is nullable');
select col_is_null('public', 'jobs', 'api_model_id', 'api_model_id is nullable');
select col_is_null('public', 'jobs', 'started_at', 'started_at is nullable');
select col_is_null('public', 'jobs', 'completed_at', 'completed_at is nullable');

-- keys and references
select col_is_pk('public', 'jobs', 'id', 'id is the primary key');
select fk_ok('public', 'jobs', 'user_id', 'public', 'profiles', 'id', 'user_id -> profiles');
select fk_ok(
    'public', 'jobs', 'job_type', 'public', 'job_types', 'job_type', 'job_type -> job_types'
);
select fk_ok('public', 'jobs', 'video_id', 'public', 'videos', 'id', 'video_id -> videos');
select fk_ok(
    'public', 'jobs', 'image_id', 'public', 'images_videos', 'id', 'image_id -> images_videos'
);
select fk_ok('public', 'jobs', 'project_id', 'public', 'projects', 'id', 'project_id -> projects');
select fk_ok(
    'public', 'jobs', 'prompt_test_id', 'public', 'prompt_tests', 'id',
    'prompt_test_id -> prompt_tests'
);
select fk_ok(
    'public', 'jobs', 'api_model_id', 'public', 'api_models', 'id', 'api_model_id -> api_models'
);
select fk_ok(
    'public', 'jobs', 'reviewed_by', 'public', 'profiles', 'id', 'reviewed_by -> profiles'
);

-- a bare insert gets the spec's defaults
select tests.clear_authentication();
select set_config('t.owner', tests.create_user('defaults@example.com')::text, true) is not null;
insert into public.jobs (user_id, job_type)
values (current_setting('t.owner')::uuid, 'sdxl_image_fast');

select results_eq(
    $$select status, attempts, max_attempts, moderation_status, destination
    from public.jobs where user_id = current_setting('t.owner')::uuid$$,
    $$values ('queued'::text, 0, 3, 'pending'::text, 'library'::text)$$,
    'a bare insert is queued, 0/3 attempts, pending moderation, library destination'
);

select is(
    (
        select metadata ->> 'job_id'
        from public.jobs
        where user_id = current_setting('t.owner')::uuid
    ),
    (select id::text from public.jobs where user_id = current_setting('t.owner')::uuid),
    'a single job''s group id metadata.job_id is its own id'
);

select is(
    (select count(*)::int from public.jobs where user_id = current_setting('t.owner')::uuid),
    1, 'exactly one job was inserted'
);

select * from finish();
rollback;
