//! The two reference designs the bench measures `app_jobs` against, each in
//! its own schema of the throwaway bench database:
//!
//! * `bench_bare`: the "bare limit": a minimal table with one partial index,
//!   a single-statement `FOR UPDATE SKIP LOCKED` claim that deletes the row.
//!   No queues, no attempts, no lock holder: the least a PostgreSQL queue
//!   can do per job.
//! * `bench_naive`: the first-generation `app_jobs` design: one non-partial
//!   `(priority, run_at, id)` index, lock expiry as `locked_at IS NULL OR
//!   locked_at < now() - expiry`, a per-candidate `EXISTS ... FOR UPDATE
//!   SKIP LOCKED` on the queue row, and unconditional counter triggers on
//!   `job_queues`.

pub const BARE_SCHEMA: &str = r#"
CREATE SCHEMA bench_bare;
CREATE TABLE bench_bare.jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_identifier text NOT NULL,
  payload json NOT NULL DEFAULT '{}',
  priority int NOT NULL DEFAULT 0,
  run_at timestamptz NOT NULL DEFAULT now(),
  locked_at timestamptz
);
CREATE INDEX bench_bare_runnable_idx ON bench_bare.jobs (priority, run_at, id) WHERE locked_at IS NULL;
"#;

pub const NAIVE_SCHEMA: &str = r#"
CREATE SCHEMA bench_naive;
CREATE TABLE bench_naive.job_queues (
  queue_name text PRIMARY KEY,
  job_count int NOT NULL DEFAULT 0,
  locked_at timestamptz,
  locked_by text
);
CREATE TABLE bench_naive.jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue_name text,
  task_identifier text NOT NULL,
  payload json NOT NULL DEFAULT '{}',
  priority int NOT NULL DEFAULT 0,
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts int NOT NULL DEFAULT 0,
  max_attempts int NOT NULL DEFAULT 25,
  last_error text,
  locked_at timestamptz,
  locked_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bench_naive_jobs_order_idx ON bench_naive.jobs (priority, run_at, id);

CREATE FUNCTION bench_naive.tg_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.queue_name IS NOT NULL THEN
      INSERT INTO bench_naive.job_queues (queue_name, job_count) VALUES (NEW.queue_name, 1)
      ON CONFLICT (queue_name) DO UPDATE SET job_count = bench_naive.job_queues.job_count + 1;
    END IF;
    RETURN NEW;
  ELSE
    IF OLD.queue_name IS NOT NULL THEN
      UPDATE bench_naive.job_queues SET job_count = job_count - 1 WHERE queue_name = OLD.queue_name;
      DELETE FROM bench_naive.job_queues WHERE queue_name = OLD.queue_name AND job_count <= 0;
    END IF;
    RETURN OLD;
  END IF;
END $$;
CREATE TRIGGER count_insert AFTER INSERT ON bench_naive.jobs FOR EACH ROW EXECUTE FUNCTION bench_naive.tg_count();
CREATE TRIGGER count_delete AFTER DELETE ON bench_naive.jobs FOR EACH ROW EXECUTE FUNCTION bench_naive.tg_count();

CREATE FUNCTION bench_naive.add_job(identifier text, queue_name text DEFAULT NULL, run_at timestamptz DEFAULT now())
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  INSERT INTO bench_naive.jobs (task_identifier, queue_name, run_at) VALUES (identifier, queue_name, run_at)
  RETURNING id INTO v;
  PERFORM pg_notify('jobs:insert', json_build_object('task_identifier', identifier)::text);
  RETURN v;
END $$;

CREATE FUNCTION bench_naive.get_job(worker_id text, job_expiry interval DEFAULT '4 hours')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_id bigint; v_queue text;
BEGIN
  SELECT j.id, j.queue_name INTO v_id, v_queue
    FROM bench_naive.jobs j
   WHERE (j.locked_at IS NULL OR j.locked_at < now() - job_expiry)
     AND j.run_at <= now()
     AND j.attempts < j.max_attempts
     AND (j.queue_name IS NULL OR EXISTS (
           SELECT 1 FROM bench_naive.job_queues q
            WHERE q.queue_name = j.queue_name
              AND (q.locked_at IS NULL OR q.locked_at < now() - job_expiry)
              FOR UPDATE SKIP LOCKED))
   ORDER BY j.priority, j.run_at, j.id
   LIMIT 1
     FOR UPDATE SKIP LOCKED;
  IF v_id IS NULL THEN
    RETURN NULL;
  END IF;
  IF v_queue IS NOT NULL THEN
    UPDATE bench_naive.job_queues SET locked_at = now(), locked_by = worker_id WHERE queue_name = v_queue;
  END IF;
  UPDATE bench_naive.jobs SET attempts = attempts + 1, locked_at = now(), locked_by = worker_id, updated_at = now()
   WHERE id = v_id;
  RETURN v_id;
END $$;

CREATE FUNCTION bench_naive.complete_job(worker_id text, job_id bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_queue text; v_id bigint;
BEGIN
  DELETE FROM bench_naive.jobs WHERE id = job_id RETURNING id, queue_name INTO v_id, v_queue;
  IF v_queue IS NOT NULL THEN
    UPDATE bench_naive.job_queues SET locked_at = NULL, locked_by = NULL WHERE queue_name = v_queue AND locked_by = worker_id;
  END IF;
  RETURN v_id;
END $$;
"#;
