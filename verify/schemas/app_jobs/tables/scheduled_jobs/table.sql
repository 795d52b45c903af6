-- Verify pgpm-jobs:schemas/app_jobs/tables/scheduled_jobs/table on pg

BEGIN;

SELECT verify_table('app_jobs.scheduled_jobs');
SELECT verify_constraint('app_jobs.scheduled_jobs', 'scheduled_jobs_pkey');
SELECT verify_constraint('app_jobs.scheduled_jobs', 'scheduled_jobs_max_attempts_check');
SELECT verify_constraint('app_jobs.scheduled_jobs', 'scheduled_jobs_lock_check');
SELECT verify_constraint('app_jobs.scheduled_jobs', 'scheduled_jobs_schedule_info_check');

DO $$
DECLARE
  expected text[] := ARRAY[
    'id bigint NOT NULL',
    'database_id uuid NOT NULL',
    'queue_name text',
    'task_identifier text NOT NULL',
    'payload json NOT NULL DEFAULT ''{}''::json',
    'priority integer NOT NULL DEFAULT 0',
    'max_attempts integer NOT NULL DEFAULT 25',
    'key text',
    'locked_at timestamp with time zone',
    'locked_by text',
    'schedule_info json NOT NULL',
    'last_scheduled timestamp with time zone',
    'last_scheduled_id bigint'];
  actual text[];
BEGIN
  SELECT array_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
                             CASE WHEN a.attnotnull THEN 'NOT NULL' END,
                             'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid))
                   ORDER BY a.attnum)
    INTO actual
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = 'app_jobs.scheduled_jobs'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
  IF actual[1:cardinality(expected)] IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'app_jobs.scheduled_jobs columns are %, expected %', actual, expected;
  END IF;
  IF pg_get_serial_sequence('app_jobs.scheduled_jobs', 'id') IS NULL THEN
    RAISE EXCEPTION 'app_jobs.scheduled_jobs.id has no sequence';
  END IF;
END;
$$;

ROLLBACK;
