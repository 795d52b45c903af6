-- app_jobs tests 13: the batch API (add_jobs, get_jobs,
-- complete_claimed_jobs, fail_claimed_jobs).
-- Covers: add_jobs defaults, JSON nulls, keyed specs (replace, supersede,
-- a key repeated in one call), argument errors naming the spec, nothing
-- added when one spec is wrong; get_jobs order (priority, run_at, id),
-- batch size, future/failed/locked rows, task filter, at most one job per
-- named queue within a batch and across batches, a queue head ordered
-- among queue-less jobs, expired locks (of jobs, and of queues without a
-- running job); owner-guarded batch completion and
-- failure (other workers' and unlocked ids skipped, queues unlocked,
-- backoff, permanent failure, superseded jobs deleted); grants, pinned
-- search_path, no overload of the admin functions, named notation.
--
-- Run by tests/app_jobs.rs through common::run_sql_file, which sends
-- tests/sql/prelude.sql (the checks ok, eq and raises) and this file as one
-- batch; by hand: psql -v ON_ERROR_STOP=1 -X -q -f tests/sql/prelude.sql
-- -f THIS_FILE. Either way as a superuser, in a
-- database where pgpm-verify, pgpm-default-roles and pgpm-jobs are deployed.
-- Isolation: the whole file is ONE transaction that is rolled back at the
-- end.  It empties the app_jobs tables inside that transaction.
-- Plain SQL, no psql meta-commands; every failed expectation raises
-- "FAILED: ...".

BEGIN;
-- queue counts and unlocks are applied at commit (pgpm-jobs @0.7.0); this
-- file never commits, so apply them at the end of each statement instead
SET CONSTRAINTS ALL IMMEDIATE;

DELETE FROM app_jobs.jobs;
DELETE FROM app_jobs.scheduled_jobs;
DELETE FROM app_jobs.job_queues;
SET LOCAL app_jobs.job_expiry = '';

-- contract: privileges, search_path, no overloads of the new names
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOREACH f IN ARRAY ARRAY['app_jobs.add_jobs(jsonb)',
                           'app_jobs.get_jobs(text, text[], interval, integer)',
                           'app_jobs.complete_claimed_jobs(text, bigint[])',
                           'app_jobs.fail_claimed_jobs(text, bigint[], text)']::regprocedure[] LOOP
    PERFORM pg_temp.ok(NOT has_function_privilege('public', f, 'EXECUTE'), f || ': not executable by PUBLIC');
    PERFORM pg_temp.ok(NOT has_function_privilege('authenticated', f, 'EXECUTE'), f || ': not executable by authenticated');
    PERFORM pg_temp.ok(has_function_privilege('administrator', f, 'EXECUTE'), f || ': executable by administrator');
    PERFORM pg_temp.ok(EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) s WHERE p.oid = f AND s LIKE 'search\_path=%'), f || ': pinned search_path');
    PERFORM pg_temp.ok(NOT (SELECT prosecdef FROM pg_proc WHERE oid = f), f || ': SECURITY INVOKER');
  END LOOP;
  PERFORM pg_temp.eq((SELECT count(*) FROM pg_proc WHERE pronamespace = 'app_jobs'::regnamespace
                        AND proname IN ('add_jobs', 'get_jobs', 'complete_claimed_jobs', 'fail_claimed_jobs',
                                        'complete_jobs', 'permanently_fail_jobs', 'get_job', 'add_job')), 8::bigint,
                     'one function per name (no overloads)');
END;
$$;

-- add_jobs: defaults, nulls, one row per spec
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000013';
  n bigint;
  j app_jobs.jobs;
BEGIN
  SELECT count(*) INTO n FROM app_jobs.add_jobs(jsonb_build_array(
    jsonb_build_object('db_id', db, 'identifier', 'a'),
    jsonb_build_object('db_id', db, 'identifier', 'b', 'payload', jsonb_build_object('x', 1), 'priority', 3,
                       'max_attempts', 2, 'queue_name', 'q1', 'run_at', '2000-01-01T00:00:00Z'),
    jsonb_build_object('db_id', db, 'identifier', 'c', 'payload', NULL, 'priority', NULL, 'run_at', NULL,
                       'max_attempts', NULL, 'job_key', NULL, 'queue_name', NULL)));
  PERFORM pg_temp.eq(n, 3::bigint, 'add_jobs returns one row per spec');
  SELECT * INTO j FROM app_jobs.jobs WHERE task_identifier = 'a';
  PERFORM pg_temp.ok(j.payload::text = '{}' AND j.priority = 0 AND j.max_attempts = 25 AND j.queue_name IS NULL
                     AND j.run_at = now() AND j.attempts = 0 AND j.key IS NULL AND j.database_id = db, 'defaults');
  SELECT * INTO j FROM app_jobs.jobs WHERE task_identifier = 'b';
  PERFORM pg_temp.ok(j.payload::jsonb = '{"x": 1}' AND j.priority = 3 AND j.max_attempts = 2 AND j.queue_name = 'q1'
                     AND j.run_at = '2000-01-01T00:00:00Z', 'given values');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'q1'), 1, 'job_count kept by add_jobs');
  SELECT * INTO j FROM app_jobs.jobs WHERE task_identifier = 'c';
  PERFORM pg_temp.ok(j.payload::text = '{}' AND j.priority = 0 AND j.max_attempts = 25 AND j.run_at = now(), 'JSON nulls take the defaults');

  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.add_jobs('[]')), 0::bigint, 'empty array');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.add_jobs(NULL)), 0::bigint, 'NULL specs');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.add_jobs(specs := '[{"db_id": "d0000000-0000-0000-0000-000000000013", "identifier": "named"}]')), 1::bigint, 'named notation, untyped literal');

  -- errors name the spec; nothing is added
  n := (SELECT count(*) FROM app_jobs.jobs);
  CALL pg_temp.raises($q$SELECT app_jobs.add_jobs('{"a": 1}')$q$, 'app_jobs.add_jobs: specs must be a JSON array of objects, got object');
  CALL pg_temp.raises(format($q$SELECT app_jobs.add_jobs('[{"db_id": "%s", "identifier": "ok"}, 5]')$q$, db), 'app_jobs.add_jobs: spec 2 is a JSON number, expected an object');
  CALL pg_temp.raises(format($q$SELECT app_jobs.add_jobs('[{"db_id": "%s", "identifier": "ok"}, {"identifier": "x"}]')$q$, db), 'app_jobs.add_jobs: spec 2: db_id must not be NULL');
  CALL pg_temp.raises(format($q$SELECT app_jobs.add_jobs('[{"db_id": "%s"}]')$q$, db), 'app_jobs.add_jobs: spec 1: identifier (the task) must not be NULL');
  CALL pg_temp.raises(format($q$SELECT app_jobs.add_jobs('[{"db_id": "%s", "identifier": "x", "max_attempts": 0}]')$q$, db), 'app_jobs.add_jobs: spec 1: max_attempts must be at least 1, got 0');
  CALL pg_temp.raises(format($q$SELECT app_jobs.add_jobs('[{"db_id": "%s", "task_identifier": "x"}]')$q$, db), 'app_jobs.add_jobs: spec 1 has the unknown key "task_identifier"%');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), n, 'nothing added by failed calls');
END;
$$;

-- add_jobs with keys: replace pending, supersede running, repeated key
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000013';
  a bigint;
  r bigint;
  j app_jobs.jobs;
BEGIN
  DELETE FROM app_jobs.jobs;
  a := (SELECT id FROM app_jobs.add_jobs(jsonb_build_array(jsonb_build_object('db_id', db, 'identifier', 'k', 'job_key', 'K1', 'payload', '{"v": 1}'::jsonb))));
  PERFORM pg_temp.ok(a IS NOT NULL, 'keyed add');
  -- pending: replaced, same id; repeated key in one call: the last spec wins
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.add_jobs(jsonb_build_array(
    jsonb_build_object('db_id', db, 'identifier', 'k', 'job_key', 'K1', 'payload', '{"v": 2}'::jsonb),
    jsonb_build_object('db_id', db, 'identifier', 'k2', 'job_key', 'K1', 'payload', '{"v": 3}'::jsonb, 'priority', 4)))), 2::bigint, 'two rows for two specs');
  SELECT * INTO j FROM app_jobs.jobs WHERE key = 'K1';
  PERFORM pg_temp.ok(j.id = a AND j.payload::jsonb = '{"v": 3}' AND j.task_identifier = 'k2' AND j.priority = 4, 'pending keyed job replaced, last spec wins');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs), 1::bigint, 'one job per key');
  -- running: superseded, new job
  PERFORM pg_temp.eq((app_jobs.get_job('w-13')).id, a, 'claim the keyed job');
  r := (SELECT id FROM app_jobs.add_jobs(jsonb_build_array(jsonb_build_object('db_id', db, 'identifier', 'k', 'job_key', 'K1'))));
  PERFORM pg_temp.ok(r <> a, 'running key: new job');
  PERFORM pg_temp.ok((SELECT superseded AND key IS NULL FROM app_jobs.jobs WHERE id = a), 'running job superseded');
  DELETE FROM app_jobs.jobs;
END;
$$;

-- get_jobs: order, batch size, what is never claimed
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000013';
  ids bigint[];
  got bigint[];
  fut bigint; failed bigint; other bigint; locked bigint;
BEGIN
  DELETE FROM app_jobs.jobs;
  DELETE FROM app_jobs.job_queues;
  -- six due queue-less jobs: expected order p0 (older first), p1, p5
  ids := ARRAY[
    (app_jobs.add_job(db, 't', run_at := now() - interval '1 minute', priority := 5)).id,  -- 6th
    (app_jobs.add_job(db, 't', run_at := now() - interval '3 minutes')).id,                -- 2nd
    (app_jobs.add_job(db, 't', run_at := now() - interval '4 minutes')).id,                -- 1st
    (app_jobs.add_job(db, 't', run_at := now() - interval '1 minute')).id,                 -- 3rd
    (app_jobs.add_job(db, 't', run_at := now() - interval '9 minutes', priority := 1)).id, -- 5th
    (app_jobs.add_job(db, 't', run_at := now() - interval '1 minute')).id];                -- 4th
  fut := (app_jobs.add_job(db, 't', run_at := now() + interval '1 hour', priority := -1)).id;
  failed := (app_jobs.add_job(db, 't', max_attempts := 1, priority := -1)).id;
  UPDATE app_jobs.jobs SET attempts = 1 WHERE id = failed;
  other := (app_jobs.add_job(db, 'other', priority := -1)).id;
  locked := (app_jobs.add_job(db, 't', priority := -1)).id;
  UPDATE app_jobs.jobs SET locked_at = now(), locked_by = 'w-x', attempts = 1 WHERE id = locked;

  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-13', ARRAY['t'], batch_size := 4) ORDER BY priority, run_at, id);
  PERFORM pg_temp.eq(got, ARRAY[ids[3], ids[2], ids[4], ids[6]], 'first batch: the first four in order');
  PERFORM pg_temp.ok((SELECT bool_and(locked_by = 'w-13' AND locked_at = now() AND attempts = 1 AND updated_at = now())
                        FROM app_jobs.jobs WHERE id = ANY (got)), 'claimed rows locked, attempts counted');
  got := ARRAY(SELECT id FROM app_jobs.get_jobs(worker_id := 'w-13', task_identifiers := '{t}', batch_size := 10) ORDER BY priority, run_at, id);
  PERFORM pg_temp.eq(got, ARRAY[ids[5], ids[1]], 'second batch: the rest, never future/failed/locked/other task');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w-13', '{t}')), 0::bigint, 'nothing left: zero rows');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w-13', '{}')), 0::bigint, 'empty task list: none');
  PERFORM pg_temp.eq((SELECT array_agg(id) FROM app_jobs.get_jobs('w-13')), ARRAY[other], 'NULL task list: any task');

  CALL pg_temp.raises($q$SELECT app_jobs.get_jobs(NULL)$q$, 'INVALID_WORKER_ID');
  CALL pg_temp.raises($q$SELECT app_jobs.get_jobs('w', batch_size := 0)$q$, 'app_jobs.get_jobs: batch_size must be at least 1, got 0');
  CALL pg_temp.raises($q$SELECT app_jobs.get_jobs('w', batch_size := NULL)$q$, 'app_jobs.get_jobs: batch_size must be at least 1, got NULL');

  -- expired lock: recovered and claimable again
  UPDATE app_jobs.jobs SET locked_at = now() - interval '2 hours' WHERE id = locked;
  PERFORM pg_temp.eq((SELECT array_agg(id) FROM app_jobs.get_jobs('w-13', job_expiry := '1 hour')), ARRAY[locked], 'expired lock recovered and claimed');
  PERFORM pg_temp.ok((SELECT last_error LIKE 'lock of worker w-x%expired' AND attempts = 2 FROM app_jobs.jobs WHERE id = locked), 'recovery recorded');
END;
$$;

-- get_jobs and named queues: one job per queue within a batch and across batches
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000013';
  q1 bigint[]; q2 bigint[]; free bigint[];
  got bigint[];
  r app_jobs.jobs;
BEGIN
  DELETE FROM app_jobs.jobs;
  DELETE FROM app_jobs.job_queues;
  q1 := ARRAY(SELECT (app_jobs.add_job(db, 't', queue_name := 'q1', run_at := now() - n * interval '1 minute')).id FROM generate_series(10, 1, -1) n);
  q2 := ARRAY(SELECT (app_jobs.add_job(db, 't', queue_name := 'q2', run_at := now() - n * interval '1 minute', priority := 2)).id FROM generate_series(10, 1, -1) n);
  free := ARRAY(SELECT (app_jobs.add_job(db, 't', run_at := now() - n * interval '1 minute', priority := 1)).id FROM generate_series(3, 1, -1) n);

  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-a', batch_size := 50) ORDER BY id);
  PERFORM pg_temp.eq(got, (SELECT array_agg(x ORDER BY x) FROM unnest(ARRAY[q1[1], q2[1]] || free) x), 'one head per queue plus all queue-less jobs');
  PERFORM pg_temp.ok((SELECT locked_by = 'w-a' AND locked_at = now() FROM app_jobs.job_queues WHERE queue_name = 'q1'), 'queue q1 locked by the batch');
  PERFORM pg_temp.ok((SELECT locked_by = 'w-a' FROM app_jobs.job_queues WHERE queue_name = 'q2'), 'queue q2 locked by the batch');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w-b', batch_size := 50)), 0::bigint, 'another worker: both queues busy');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w-a', batch_size := 50)), 0::bigint, 'same worker: its queues are busy too');

  -- complete_claimed_jobs: other worker's call changes nothing
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.complete_claimed_jobs('w-b', got)), 0::bigint, 'not the holder: nothing completed');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE id = ANY (got) AND locked_by = 'w-a'), 5::bigint, 'still held by w-a');
  -- the holder completes them (plus an unknown id and NULL, skipped)
  PERFORM pg_temp.eq((SELECT array_agg(id ORDER BY id) FROM app_jobs.complete_claimed_jobs('w-a', got || ARRAY[-1, NULL]::bigint[])), got, 'holder completes its jobs');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE id = ANY (got)), 0::bigint, 'completed jobs deleted');
  PERFORM pg_temp.ok((SELECT bool_and(locked_at IS NULL AND locked_by IS NULL) FROM app_jobs.job_queues), 'queues unlocked');
  PERFORM pg_temp.eq((SELECT job_count FROM app_jobs.job_queues WHERE queue_name = 'q1'), 9, 'job_count exact');

  -- next batch: the next heads, in order: q1 (p0) before q2 (p2)
  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-b', batch_size := 1));
  PERFORM pg_temp.eq(got, ARRAY[q1[2]], 'batch of one: q1 head first');
  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-b', batch_size := 5));
  PERFORM pg_temp.eq(got, ARRAY[q2[2]], 'then only q2 head (q1 busy)');

  -- fail_claimed_jobs: holder only, backoff, queues unlocked
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.fail_claimed_jobs('w-a', ARRAY[q1[2], q2[2]], 'x')), 0::bigint, 'not the holder: nothing failed');
  FOR r IN SELECT * FROM app_jobs.fail_claimed_jobs('w-b', ARRAY[q1[2], q2[2]], 'boom') LOOP
    PERFORM pg_temp.ok(r.last_error = 'boom' AND r.locked_at IS NULL AND r.locked_by IS NULL
                       AND r.run_at = now() + exp(1::double precision) * interval '1 second', 'failed row: error, unlocked, backoff');
  END LOOP;
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.jobs WHERE id IN (q1[2], q2[2]) AND last_error = 'boom' AND locked_at IS NULL), 2::bigint, 'both failed');
  PERFORM pg_temp.ok((SELECT bool_and(locked_at IS NULL) FROM app_jobs.job_queues), 'queues unlocked by fail');
  CALL pg_temp.raises($q$SELECT app_jobs.fail_claimed_jobs(NULL, '{1}', 'x')$q$, 'INVALID_WORKER_ID');
  CALL pg_temp.raises($q$SELECT app_jobs.complete_claimed_jobs(NULL, '{1}')$q$, 'INVALID_WORKER_ID');

  -- an orphaned queue lock (no running job) expires like a job lock
  UPDATE app_jobs.jobs SET run_at = now() - interval '1 second' WHERE id IN (q1[2], q2[2]);
  UPDATE app_jobs.job_queues SET locked_by = 'ghost', locked_at = now() - interval '1 hour';
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w-c', batch_size := 5)), 0::bigint, 'queue locks younger than job_expiry hold');
  UPDATE app_jobs.job_queues SET locked_at = now() - interval '5 hours' WHERE queue_name = 'q1';
  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-c', batch_size := 5));
  -- (q1[2] now runs after q1[3], which heads q1)
  PERFORM pg_temp.eq(got, ARRAY[q1[3]], 'the expired queue lock is taken over, the younger one holds');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'q1'), 'w-c', 'q1 now locked by the new worker');
  PERFORM pg_temp.eq((SELECT locked_by FROM app_jobs.job_queues WHERE queue_name = 'q2'), 'ghost', 'q2 still locked');
END;
$$;

-- a queue head among queue-less jobs keeps the global order within a batch
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000013';
  a bigint; h bigint; b bigint; h2 bigint;
  got bigint[];
BEGIN
  DELETE FROM app_jobs.jobs;
  DELETE FROM app_jobs.job_queues;
  a := (app_jobs.add_job(db, 't', run_at := now() - interval '3 minutes')).id;
  h := (app_jobs.add_job(db, 't', queue_name := 'q', run_at := now() - interval '2 minutes')).id;
  h2 := (app_jobs.add_job(db, 't', queue_name := 'q', run_at := now() - interval '2 minutes')).id;
  b := (app_jobs.add_job(db, 't', run_at := now() - interval '1 minute')).id;
  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-o', batch_size := 2));
  PERFORM pg_temp.eq((SELECT array_agg(x ORDER BY x) FROM unnest(got) x), ARRAY[a, h], 'batch of 2 = first two by (priority, run_at, id)');
  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-o', batch_size := 5));
  PERFORM pg_temp.eq(got, ARRAY[b], 'then the rest, but not the second job of the busy queue');
END;
$$;

-- fail_claimed_jobs: permanent failure, superseded job deleted, NULL message
DO $$
DECLARE
  db constant uuid := 'd0000000-0000-0000-0000-000000000013';
  a bigint; s bigint;
  got bigint[];
BEGIN
  DELETE FROM app_jobs.jobs;
  DELETE FROM app_jobs.job_queues;
  a := (app_jobs.add_job(db, 't', max_attempts := 1)).id;
  s := (app_jobs.add_job(db, 't', job_key := 'S')).id;
  got := ARRAY(SELECT id FROM app_jobs.get_jobs('w-f', batch_size := 5) ORDER BY id);
  PERFORM pg_temp.eq(got, ARRAY[a, s], 'both claimed');
  PERFORM app_jobs.add_job(db, 't', job_key := 'S', run_at := now() + interval '1 day');  -- supersedes s
  PERFORM pg_temp.eq((SELECT array_agg(id ORDER BY id) FROM app_jobs.fail_claimed_jobs('w-f', got, NULL)), got, 'both reported failed');
  PERFORM pg_temp.ok((SELECT attempts >= max_attempts AND locked_at IS NULL AND last_error = 'fail_claimed_jobs: no error message'
                        FROM app_jobs.jobs WHERE id = a), 'permanently failed, NULL message recorded');
  PERFORM pg_temp.ok(NOT EXISTS (SELECT 1 FROM app_jobs.jobs WHERE id = s), 'superseded job deleted');
  PERFORM pg_temp.eq((SELECT count(*) FROM app_jobs.get_jobs('w-f')), 0::bigint, 'permanently failed job never claimed');
END;
$$;

ROLLBACK;
