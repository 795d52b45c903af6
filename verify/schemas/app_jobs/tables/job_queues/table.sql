-- Verify pgpm-jobs:schemas/app_jobs/tables/job_queues/table on pg

BEGIN;

SELECT verify_table('app_jobs.job_queues');
SELECT verify_constraint('app_jobs.job_queues', 'job_queues_pkey');
SELECT verify_constraint('app_jobs.job_queues', 'job_queues_lock_check');

-- The contract fixes names, order and types of the leading columns.
DO $$
DECLARE
  expected text[] := ARRAY['queue_name text NOT NULL', 'job_count integer NOT NULL DEFAULT 0',
                           'locked_at timestamp with time zone', 'locked_by text'];
  actual text[];
BEGIN
  SELECT array_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
                             CASE WHEN a.attnotnull THEN 'NOT NULL' END,
                             'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid))
                   ORDER BY a.attnum)
    INTO actual
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = 'app_jobs.job_queues'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
  IF actual[1:cardinality(expected)] IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'app_jobs.job_queues columns are %, expected %', actual, expected;
  END IF;
END;
$$;

ROLLBACK;
