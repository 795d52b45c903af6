#!/usr/bin/env bash
# Start a throwaway PostgreSQL for local use unless one is configured, and
# print the `export` lines that point libpq clients (and jobsctl) at it.
#
#   eval "$(scripts/local-postgres.sh)"
#
# Data lives in .jobsctl/pg under the repository (delete it to start over).
# As root, the server runs as the `postgres` user (PostgreSQL refuses root).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ -n "${DATABASE_URL:-}" ] || [ -n "${PGHOST:-}" ]; then
    exit 0  # already configured: nothing to start
fi

bindir="$(pg_config --bindir 2>/dev/null || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "error: no PostgreSQL server binaries found (apt-get install postgresql)" >&2
    exit 2
fi

dir="$root/.jobsctl/pg"
port="${JOBSCTL_LOCAL_PORT:-54329}"
as_server() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir/socket"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
    as_server "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
fi
if ! as_server "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_server "$bindir/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
        -o "-p $port -k $dir/socket -c listen_addresses=''" start >/dev/null
fi
echo "export PGHOST='$dir/socket' PGPORT='$port' PGUSER='postgres' PGDATABASE='${PGDATABASE:-jobs}'"
