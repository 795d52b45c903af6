#!/usr/bin/env bash
# app_jobs next to its peers, graphile-worker and the upstream
# @pgpm/database-jobs (both from npm, pinned in bench/peers/package-lock.json),
# and the bare limit, in the scenarios of issue 16: burndown (claim+complete,
# one job per transaction, 50,000 due jobs), enqueue (keyless add_job) and
# stuck (the burndown behind two named queues whose running job never
# finishes), with 4 and then 8 clients. See docs/performance.md, "Peers in
# the bench".
#
#   scripts/bench-peers.sh [-d URL] [more jobsctl bench options, e.g. --format json]
#
# Without -d: DATABASE_URL / PG* when set, else the running dev cluster
# (`jobsctl dev start`; this script starts nothing). Buffers per claim need
# pg_stat_statements in shared_preload_libraries (else the bench falls back
# to EXPLAIN, which peers' multi-parameter claims do not get); on the dev
# cluster:
#   psql -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
#   jobsctl dev stop && jobsctl dev start
# Needs node (>= 18) and npm; runs `npm ci` in bench/peers when its
# node_modules is missing or older than the lock file.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobsctl="${JOBSCTL:-$root/target/release/jobsctl}"
peers="$root/bench/peers"
if [ ! -x "$jobsctl" ]; then
  echo "bench-peers: no $jobsctl; run cargo build --release (or set JOBSCTL)" >&2
  exit 2
fi
if [ ! -f "$peers/node_modules/.package-lock.json" ] ||
  [ "$peers/package-lock.json" -nt "$peers/node_modules/.package-lock.json" ]; then
  echo "bench-peers: npm ci in $peers" >&2
  (cd "$peers" && npm ci --no-audit --no-fund >&2)
fi
connection=()
if [ "${1:-}" = "-d" ]; then
  connection=(-d "$2")
  shift 2
elif [ -z "${DATABASE_URL:-}" ] && [ -z "${PGHOST:-}" ]; then
  if ! env_lines="$("$jobsctl" dev env)"; then
    echo "bench-peers: no -d URL, no DATABASE_URL/PGHOST and no dev cluster: start one with \`jobsctl dev start\`" >&2
    exit 2
  fi
  eval "$env_lines"
fi
for clients in 4 8; do
  "$jobsctl" bench "${connection[@]}" --peers "$peers" \
    --scenario burndown --scenario enqueue --scenario stuck \
    --clients "$clients" "$@"
done
