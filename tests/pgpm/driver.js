#!/usr/bin/env node
// pgpm's engine as a long-lived child of tests/pgpm_differential.rs.
//
// Reads one JSON request per line on stdin:
//   {"id": 1, "action": "deploy" | "revert" | "verify",
//    "workspace": "/abs/path", "target": "module" | "module:change" | null,
//    "database": "name"}
// and runs what the pgpm CLI runs for `pgpm <action> [--package target]` in
// that workspace: `new PgpmPackage(workspace)[action](options, target, true)`
// (recursive, per-change path, one transaction per module), against the
// server named by PGHOST, PGPORT, PGUSER and PGPASSWORD, in `database`.
//
// Answers one line per request on stdout, prefixed with MARK:
//   {"id": 1, "ok": true | false, "error": "...", "log": "..."}
// where `log` is everything pgpm printed (stdout and stderr) meanwhile.
// Connection pools are closed after each request, so that the test can
// drop its databases and a long run does not collect idle connections.
'use strict';

const path = require('path');
const readline = require('readline');

const MARK = '@@pgpm-driver@@ ';
const here = __dirname;
const fromCore = (name) =>
    require(require.resolve(name, { paths: [path.dirname(require.resolve('@pgpmjs/core', { paths: [here] }))] }));

// Quiet by default; the captured log still holds warnings and errors.
process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'warn';
const { PgpmPackage } = require(require.resolve('@pgpmjs/core', { paths: [here] }));
const { pgpmDefaults } = fromCore('@pgpmjs/types');
const { teardownPgPools } = fromCore('pg-cache');

const realStdoutWrite = process.stdout.write.bind(process.stdout);
let captured = null;
const capture = (original) =>
    function (chunk, encoding, callback) {
        if (captured !== null) {
            captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
            if (typeof encoding === 'function') encoding();
            else if (typeof callback === 'function') callback();
            return true;
        }
        return original(chunk, encoding, callback);
    };
process.stdout.write = capture(realStdoutWrite);
process.stderr.write = capture(process.stderr.write.bind(process.stderr));

function options(database) {
    return {
        pg: {
            host: process.env.PGHOST || 'localhost',
            port: Number(process.env.PGPORT || 5432),
            user: process.env.PGUSER || 'postgres',
            password: process.env.PGPASSWORD || '',
            database,
        },
        db: { ...pgpmDefaults.db },
        // The CLI's defaults: per-change deploy, one transaction per module,
        // dependencies from the plan, hashes of the files' content.
        deployment: { ...pgpmDefaults.deployment, useTx: true, fast: false, bundled: false, usePlan: true, logOnly: false },
    };
}

function describe(error) {
    if (!(error instanceof Error)) return String(error);
    let text = error.message || String(error);
    if (error.code) text += ` [${error.code}]`;
    return text;
}

async function handle(request) {
    const { action, workspace, target, database } = request;
    if (!['deploy', 'revert', 'verify'].includes(action)) {
        throw new Error(`unknown action ${JSON.stringify(action)}`);
    }
    const project = new PgpmPackage(workspace);
    await project[action](options(database), target || undefined, true);
}

async function main() {
    const lines = readline.createInterface({ input: process.stdin, terminal: false });
    for await (const line of lines) {
        if (!line.trim()) continue;
        let request;
        let answer;
        captured = [];
        try {
            request = JSON.parse(line);
            await handle(request);
            answer = { ok: true };
        } catch (error) {
            answer = { ok: false, error: describe(error) };
        }
        try {
            await teardownPgPools();
        } catch (error) {
            captured.push(`teardownPgPools: ${describe(error)}\n`);
        }
        answer.log = captured.join('');
        answer.id = request ? request.id : null;
        captured = null;
        realStdoutWrite(MARK + JSON.stringify(answer) + '\n');
    }
}

process.on('unhandledRejection', (error) => {
    realStdoutWrite(MARK + JSON.stringify({ id: null, ok: false, error: `unhandled rejection: ${describe(error)}`, log: '' }) + '\n');
});

main().then(
    () => process.exit(0),
    (error) => {
        realStdoutWrite(MARK + JSON.stringify({ id: null, ok: false, error: `driver: ${describe(error)}`, log: '' }) + '\n');
        process.exit(1);
    }
);
