#!/usr/bin/env bash
# EXPLAIN (ANALYZE, BUFFERS) of the claim for the largest bench scenario:
# get_jobs (batch 50) and get_job against 50,000 due jobs, 100,000 future
# jobs and 20,000 jobs behind two locked named queues, every nested
# statement shown (auto_explain). Runs in a throwaway database on the
# server the PG* / DATABASE_URL settings name, in a transaction that is
# rolled back; prints the plans on stdout (used in docs/performance.md).
#
#   scripts/explain-claim.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobsctl="${JOBSCTL:-$root/target/release/jobsctl}"
db="jobsctl_explain_$$"
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
"$jobsctl" deploy -q -d "dbname=$db" >&2
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL' 2>&1 | sed -e 's/^psql:<stdin>:[0-9]*: //' -e 's/^LOG:  //'
\set tenant '''5b720132-17d5-424d-9bcb-ee7b17c13d43'''
-- the stuck jobs first in (priority, run_at, id) order, their queues locked
INSERT INTO app_jobs.jobs (database_id, task_identifier, run_at, queue_name)
SELECT :tenant, 'bench', now() - interval '2 hours' + n * interval '1 microsecond', 'stuck-' || (n % 2)
  FROM generate_series(1, 20000) AS n;
UPDATE app_jobs.jobs SET locked_at = now(), locked_by = 'stuck-worker', attempts = 1
 WHERE id IN (SELECT min(id) FROM app_jobs.jobs WHERE queue_name IS NOT NULL GROUP BY queue_name);
UPDATE app_jobs.job_queues SET locked_at = now(), locked_by = 'stuck-worker';
INSERT INTO app_jobs.jobs (database_id, task_identifier, run_at)
SELECT :tenant, 'bench', now() - interval '1 hour' + n * interval '1 microsecond' FROM generate_series(1, 50000) AS n;
INSERT INTO app_jobs.jobs (database_id, task_identifier, run_at)
SELECT :tenant, 'bench', now() + interval '1 day' + n * interval '1 millisecond' FROM generate_series(1, 100000) AS n;
VACUUM ANALYZE app_jobs.jobs;
VACUUM ANALYZE app_jobs.job_queues;
SELECT 'jobs: ' || count(*) || ', job_queues pages: ' || (SELECT relpages FROM pg_class WHERE oid = 'app_jobs.job_queues'::regclass) AS "table sizes" FROM app_jobs.jobs;
BEGIN;
-- warm the plan caches first, as a running worker's are
SELECT count(*) AS "warm-up" FROM app_jobs.get_jobs('warm-up', batch_size := 50);
SELECT count(*) AS "warm-up" FROM app_jobs.get_job('warm-up');
LOAD 'auto_explain';
SET LOCAL auto_explain.log_min_duration = 0;
SET LOCAL auto_explain.log_analyze = on;
SET LOCAL auto_explain.log_buffers = on;
SET LOCAL auto_explain.log_timing = off;
SET LOCAL auto_explain.log_nested_statements = on;
SET LOCAL client_min_messages = log;
SELECT '---- get_jobs(batch_size := 50) ----' AS claim;
EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) SELECT * FROM app_jobs.get_jobs('explain-worker', batch_size := 50);
SELECT '---- get_job ----' AS claim;
EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) SELECT * FROM app_jobs.get_job('explain-worker');
ROLLBACK;
SQL
