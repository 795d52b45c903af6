#!/usr/bin/env bash
# Time `jobsctl deploy` of the embedded workspace into a fresh database next
# to `psql --single-transaction` applying the same deploy scripts (in the
# same order, their BEGIN/COMMIT lines dropped) into another fresh
# database, on the same server in the same run. Prints medians and the ratio.
#
#   scripts/bench-deploy-vs-psql.sh [ROUNDS] [JOBSCTL DEPLOY FLAGS...]
#   e.g. scripts/bench-deploy-vs-psql.sh 7 --tx all
#
# Uses the PG* / DATABASE_URL settings, or else the repository's dev
# cluster (`jobsctl dev start`, left running; `jobsctl dev stop` stops it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-7}"
shift || true
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
jobsctl="$root/target/release/jobsctl"
if [ -z "${DATABASE_URL:-}" ] && [ -z "${PGHOST:-}" ]; then
    "$jobsctl" dev start --quiet --data-dir "$root/.jobsctl/dev" >/dev/null
    eval "$("$jobsctl" dev env --data-dir "$root/.jobsctl/dev")"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The deploy scripts in deploy order, as one file for psql.
"$jobsctl" plan --format json > "$work/plan.json"
python3 - "$root" "$work/plan.json" > "$work/all.sql" <<'PY'
import json, sys
root, plan = sys.argv[1], json.load(open(sys.argv[2]))
for step in plan["steps"]:
    if step["step"] == "extension":
        print(f'CREATE EXTENSION IF NOT EXISTS "{step["name"]}";')
        continue
    for change in step["changes"]:
        for line in open(f'{root}/{change["deploy"]}', encoding="utf-8"):
            if line.strip().upper() not in ("BEGIN;", "COMMIT;"):
                sys.stdout.write(line)
PY

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: > "$work/jobsctl.times"; : > "$work/psql.times"
for i in $(seq "$rounds"); do
    for tool in jobsctl psql; do
        db="bench_${tool}_$$_$i"
        psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null
        start=$(now)
        if [ "$tool" = jobsctl ]; then
            "$jobsctl" deploy -d "dbname=$db" --format json "$@" >/dev/null 2>&1
        else
            psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$db" -f "$work/all.sql" >/dev/null 2>&1
        fi
        end=$(now)
        python3 -c "print($end - $start)" >> "$work/$tool.times"
        psql -X -q -d postgres -c "DROP DATABASE $db" >/dev/null
    done
done
j=$(median < "$work/jobsctl.times"); p=$(median < "$work/psql.times")
printf 'changes: %s   rounds: %s\n' "$(python3 -c 'import json,sys; print(sum(len(s.get("changes",[])) for s in json.load(open(sys.argv[1]))["steps"]))' "$work/plan.json")" "$rounds"
printf 'jobsctl deploy %s (median): %.3f s\n' "$*" "$j"
printf 'psql --single-transaction (median):   %.3f s\n' "$p"
printf 'ratio jobsctl / psql:                 %.2f\n' "$(python3 -c "print($j / $p)")"
