// The peers of `jobsctl bench --peers bench/peers`: installs graphile-worker
// and the upstream @pgpm/database-jobs (the versions pinned in
// package-lock.json, `npm ci` here) into the bench database and prints ONE
// JSON document on stdout that tells the bench, per peer design, what each
// scenario runs. Progress and errors go to stderr.
//
// The connection comes from libpq's PG* variables (node-postgres reads
// them; the bench sets them for the bench database).
//
// Nothing of the peers' SQL is copied here:
// * graphile-worker: its schema is installed by its own `runMigrations`; the
//   claim, complete and add-job statements are the text and parameters its
//   own JS functions (batchGetJobs, batchCompleteJobs, makeAddJob) send,
//   recorded by passing them a client that records each query.
// * upstream: the deploy scripts of @pgpm/verify and @pgpm/database-jobs are
//   read from node_modules and run in their pgpm.plan order; the schema
//   `app_jobs` is renamed `upstream_jobs` in the script text (the bench
//   database already has jobsctl's own `app_jobs`), @pgpm/verify goes into
//   its own schema `upstream_verify` (its unqualified functions would clash
//   with jobsctl's pgpm-verify in `public`); the role `administrator` its
//   grants name is created (NOLOGIN) when missing: the only stub.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pg from "pg";

const require = createRequire(import.meta.url);

// node-postgres has no `prefer`/`allow` (try TLS, fall back to plain).
if (["prefer", "allow"].includes(process.env.PGSSLMODE)) {
  delete process.env.PGSSLMODE;
}

const TENANT = "5b720132-17d5-424d-9bcb-ee7b17c13d43";
const WORKER = "<worker>"; // stands for the bench client's worker id
const JOB_ID = "<id>"; // stands for the id the previous step returned

const log = (msg) => process.stderr.write(`peers: ${msg}\n`);
const version = (pkg) =>
  JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")).version;

/** A recorded query as a bench step: its text and its parameters. */
function step(query) {
  const params = (query.values || []).map((v) => {
    if (v === WORKER) return "worker";
    if (v === JOB_ID) return "id";
    if (v === null || v === undefined) return { text: null };
    if (Array.isArray(v)) return { text: `{${v.join(",")}}` };
    return { text: String(v) };
  });
  return { sql: query.text, params };
}

/** A withPgClient that records every query; `real` also runs them. */
function recorder(real) {
  const queries = [];
  const run = async (fn) =>
    fn({
      query: async (q, values) => {
        const query = typeof q === "string" ? { text: q, values } : q;
        queries.push(query);
        return real ? real.query({ text: query.text, values: query.values }) : { rows: [{}] };
      },
    });
  run.withRetries = run;
  return { withPgClient: run, queries };
}

async function graphile(client, pool) {
  const gw = require("graphile-worker");
  const { processSharedOptions } = require("graphile-worker/dist/lib.js");
  const { batchGetJobs } = require("graphile-worker/dist/sql/getJobs.js");
  const { batchCompleteJobs } = require("graphile-worker/dist/sql/completeJobs.js");
  const { makeAddJob } = require("graphile-worker/dist/helpers.js");
  log(`graphile-worker ${version("graphile-worker")}: runMigrations`);
  await gw.runMigrations({ pgPool: pool, logger: new gw.Logger(() => () => {}) });
  const options = processSharedOptions({ pgPool: pool });
  const schema = options.escapedWorkerSchema;

  // The claim: batchGetJobs with one task (`bench`) and a batch of one, as
  // the runner calls it by default; run for real (it registers the task and
  // finds nothing to claim), recorded.
  const claim = recorder(client);
  await batchGetJobs(options, claim.withPgClient, { bench: async () => {} }, WORKER, null, 1);
  const claimQuery = claim.queries.at(-1);
  if (!/_private_jobs/.test(claimQuery.text)) {
    throw new Error(`graphile-worker: the last query of batchGetJobs is not the claim: ${claimQuery.text}`);
  }
  // The completion of a job without a queue (all jobs the bench claims).
  const complete = recorder(null);
  await batchCompleteJobs(options, complete.withPgClient, WORKER, [{ id: JOB_ID, job_queue_id: null }]);
  // The enqueue: WorkerUtils.addJob("bench", {}), keyless.
  const add = recorder(null);
  await makeAddJob(options, add.withPgClient)("bench", {});

  const spec = (name, queue, runAt, n) =>
    `SELECT count(*) FROM ${schema}.add_jobs(ARRAY(SELECT ROW('bench', '{}'::json, ${queue}, ${runAt}, NULL, NULL, NULL, NULL)::${schema}.job_spec FROM generate_series(1, ${n}) AS n))`;
  const clear = `TRUNCATE ${schema}._private_jobs, ${schema}._private_job_queues`;
  const vacuum = [`VACUUM ANALYZE ${schema}._private_jobs`, `VACUUM ANALYZE ${schema}._private_job_queues`];
  const remaining = `SELECT count(*) FROM ${schema}._private_jobs WHERE locked_at IS NULL AND job_queue_id IS NULL`;
  const claimComplete = [step(claimQuery), step(complete.queries[0])];
  return {
    name: "graphile-worker",
    version: version("graphile-worker"),
    session_setup: [],
    claim_note:
      "two statements per job, each its own transaction, as graphile-worker sends them: batchGetJobs (batch of 1) then batchCompleteJobs; buf/claim counts the claim statement only",
    scenarios: {
      burndown: {
        setup: [clear, spec("bench", "NULL", "now() - interval '1 hour' + n * interval '1 microsecond'", "$BACKLOG"), ...vacuum],
        steps: claimComplete,
        remaining,
      },
      stuck: {
        setup: [
          clear,
          spec("bench", "'stuck-' || (n % 2)", "now() - interval '2 hours' + n * interval '1 microsecond'", "$STUCK"),
          // its own way to lock a queue: what batchGetJobs does to the job
          // and its queue, by a worker that never finishes
          `UPDATE ${schema}._private_jobs SET locked_at = now(), locked_by = 'stuck-worker', attempts = 1 WHERE id IN (SELECT min(id) FROM ${schema}._private_jobs WHERE job_queue_id IS NOT NULL GROUP BY job_queue_id)`,
          `UPDATE ${schema}._private_job_queues SET locked_at = now(), locked_by = 'stuck-worker'`,
          spec("bench", "NULL", "now() - interval '1 hour' + n * interval '1 microsecond'", "$BACKLOG"),
          ...vacuum,
        ],
        steps: claimComplete,
        remaining,
      },
      enqueue: { setup: [clear, ...vacuum], steps: [step(add.queries[0])] },
    },
  };
}

/** The changes of a pgpm package's plan, in order. */
function planChanges(dir) {
  return readFileSync(join(dir, "pgpm.plan"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^[%@#]/.test(l))
    .map((l) => l.split(/\s+/)[0]);
}

async function upstream(client) {
  const dir = dirname(require.resolve("@pgpm/database-jobs/package.json"));
  const verifyDir = dirname(require.resolve("@pgpm/verify/package.json"));
  const v = version("@pgpm/database-jobs");
  log(`@pgpm/database-jobs ${v}: deploy (app_jobs -> upstream_jobs)`);
  // native extensions of its control file's `requires`
  const control = readFileSync(join(dir, "pgpm-database-jobs.control"), "utf8");
  const requires = (control.match(/^requires\s*=\s*'([^']*)'/m) || [, ""])[1].split(",").map((s) => s.trim());
  for (const ext of requires.filter((e) => e && !e.startsWith("pgpm-"))) {
    await client.query(`CREATE EXTENSION IF NOT EXISTS "${ext}"`);
  }
  // the stub: the role its grants name
  await client.query(
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'administrator') THEN CREATE ROLE administrator NOLOGIN; END IF; END $$`
  );
  // @pgpm/verify (a plan dependency), in its own schema
  await client.query(`CREATE SCHEMA upstream_verify`);
  await client.query(`SET search_path = upstream_verify, public`);
  for (const change of planChanges(verifyDir)) {
    await client.query(readFileSync(join(verifyDir, "deploy", `${change}.sql`), "utf8"));
  }
  await client.query(`RESET search_path`);
  for (const change of planChanges(dir)) {
    const sql = readFileSync(join(dir, "deploy", `${change}.sql`), "utf8").replace(/\bapp_jobs\b/g, "upstream_jobs");
    try {
      await client.query(sql);
    } catch (e) {
      throw new Error(`@pgpm/database-jobs ${change}: ${e.message}`);
    }
  }
  const s = "upstream_jobs";
  const clear = `TRUNCATE ${s}.jobs, ${s}.job_queues`;
  const vacuum = [`VACUUM ANALYZE ${s}.jobs`, `VACUUM ANALYZE ${s}.job_queues`];
  // queue_name defaults to a random uuid in its table: NULL is explicit
  const insert = (queue, runAt, n) =>
    `INSERT INTO ${s}.jobs (database_id, task_identifier, run_at, queue_name) SELECT '${TENANT}', 'bench', ${runAt}, ${queue} FROM generate_series(1, ${n}) AS n`;
  const claimComplete = [
    {
      sql: `SELECT c.id FROM ${s}.get_job($1) AS g CROSS JOIN LATERAL ${s}.complete_job($1, g.id) AS c`,
      params: ["worker"],
    },
  ];
  const remaining = `SELECT count(*) FROM ${s}.jobs WHERE locked_at IS NULL AND queue_name IS NULL`;
  return {
    name: "upstream",
    version: v,
    session_setup: [],
    claim_note: "one statement per job: its get_job and complete_job in one SELECT (one transaction), as app_jobs is measured",
    scenarios: {
      burndown: {
        setup: [clear, insert("NULL", "now() - interval '1 hour' + n * interval '1 microsecond'", "$BACKLOG"), ...vacuum],
        steps: claimComplete,
        remaining,
      },
      stuck: {
        setup: [
          clear,
          insert("'stuck-' || (n % 2)", "now() - interval '2 hours' + n * interval '1 microsecond'", "$STUCK"),
          // its own way to lock a queue: what get_job does, by a worker
          // that never finishes
          `UPDATE ${s}.jobs SET locked_at = now(), locked_by = 'stuck-worker', attempts = 1 WHERE id IN (SELECT min(id) FROM ${s}.jobs WHERE queue_name IS NOT NULL GROUP BY queue_name)`,
          `UPDATE ${s}.job_queues SET locked_at = now(), locked_by = 'stuck-worker'`,
          insert("NULL", "now() - interval '1 hour' + n * interval '1 microsecond'", "$BACKLOG"),
          ...vacuum,
        ],
        steps: claimComplete,
        remaining,
      },
      enqueue: {
        setup: [clear, ...vacuum],
        steps: [{ sql: `SELECT id FROM ${s}.add_job($1::uuid, $2::text)`, params: [{ text: TENANT }, { text: "bench" }] }],
      },
    },
  };
}

const pool = new pg.Pool({ max: 4 });
pool.on("error", (e) => log(`pool: ${e.message}`));
pool.on("connect", (c) => c.on("error", (e) => log(`client: ${e.message}`)));
const client = await pool.connect();
try {
  const designs = [await graphile(client, pool), await upstream(client)];
  process.stdout.write(JSON.stringify({ node: process.version, designs }, null, 1) + "\n");
} catch (e) {
  process.stderr.write(`peers: ${e.stack || e}\n`);
  process.exitCode = 1;
} finally {
  client.release();
  await pool.end();
}
