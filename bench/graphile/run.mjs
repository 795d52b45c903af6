// graphile-worker's own runner with one no-op task (`bench`), the reference
// of `jobsctl bench --scenario worker`. The connection comes from libpq's
// PG* variables (node-postgres reads them). BENCH_CONCURRENCY is the
// runner's `concurrentJobs`; BENCH_BATCHED=1 turns on graphile-worker's
// own batching (local queue of concurrency + 1 jobs, completions batched
// for 10 ms), which is off by default. Stops on SIGTERM/SIGINT.
import { run } from "graphile-worker";
import pg from "pg";

// node-postgres has no `prefer`/`allow` (try TLS, fall back to plain): it
// would insist on TLS, so those modes connect without it, as libpq does
// on a unix socket or a server without TLS.
if (["prefer", "allow"].includes(process.env.PGSSLMODE)) {
  delete process.env.PGSSLMODE;
}

const concurrency = Number(process.env.BENCH_CONCURRENCY || "4");
const batched = process.env.BENCH_BATCHED === "1";
const pgPool = new pg.Pool({ max: Math.max(10, concurrency + 2) });
pgPool.on("error", (error) => console.error(`pool: ${error.message}`));

const worker = { concurrentJobs: concurrency };
if (batched) {
  worker.localQueue = { size: concurrency + 1 };
  worker.completeJobBatchDelay = 10;
  worker.failJobBatchDelay = 10;
}

const runner = await run({
  pgPool,
  preset: { worker },
  taskList: { bench: async () => {} },
});
await runner.promise;
await pgPool.end();
