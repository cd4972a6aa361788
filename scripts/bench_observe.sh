#!/usr/bin/env bash
# Observability-cost benchmark of bufpool_ext: the hit path (fetch +
# release) of the normal build against a build without instrumentation.
# Run by scripts/bench.sh, or alone:
#   BPX_SKIP_BUILD=1 bash scripts/bench_observe.sh
#
# The variant is the same source compiled with -DBP_NO_INSTRUMENTATION
# (COPT): the hit path then neither finds nor bumps its per-backend
# counters in shared memory (number_pages_get; the rarer LRU counters of
# a hit land in a process-local dummy) and memory accounting
# (bp_mem_alloc / bp_mem_free) does nothing.  It is built in a scratch
# copy of the tree and installed into a private copy of the PostgreSQL
# installation under the scratch directory (PostgreSQL finds its library
# and share directories relative to its binaries), never into the
# system's.
#
# One cluster (port $BPX_OBSERVE_PORT, 8 kB pages, 256 MB pool, 1
# instance) is started alternately by the system's installation (normal
# build) and by the private copy (variant); each start runs
# bufpool_test.bench_fetch on a hot set of 1000 pages (uniform) and on 10000
# pages (Zipf), in 1 backend, BPX_OBSERVE_REPS starts of each build,
# interleaved.  The figure per build and case is the median ns/op; the
# cost is normal / variant - 1 (target: under 2%).
#
# Tables go to stdout and to bench/results/observe.md (+ observe.csv).
#
#   BPX_OBSERVE_PORT   port / socket number (default 5492)
#   BPX_OBSERVE_REPS   starts of each build (default 9)
#   BPX_OBSERVE_OPS    fetch+release pairs per run (default 20000000)
#   BPX_SKIP_BUILD=1   do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_OBSERVE_PORT:-5492}"
REPS="${BPX_OBSERVE_REPS:-9}"
OPS="${BPX_OBSERVE_OPS:-20000000}"
TARGET_PCT=2
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/observe.md"
CSV="$RESULTS_DIR/observe.csv"
CASES=("hot:1000:uniform" "zipf:10000:zipf")

bench_prepare bench_observe

SYS_PGBIN=$PGBIN
# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

# ---------------------------------------------------------------- variant
ROOT="$BENCH/pgroot"
VAR_SRC="$BENCH/variant-src"
log "building the variant (-DBP_NO_INSTRUMENTATION) in $VAR_SRC"
rm -rf "$ROOT" "$VAR_SRC"
mkdir -p "$VAR_SRC" "$ROOT/usr/lib/postgresql" "$ROOT/usr/share/postgresql"
cp -a "$REPO/Makefile" "$REPO/bufpool_ext.control" "$REPO/src" "$REPO/include" "$REPO/sql" "$VAR_SRC/"
find "$VAR_SRC/src" -name '*.o' -delete
make -C "$VAR_SRC" -j2 PG_CONFIG="$PG_CONFIG_BIN" COPT=-DBP_NO_INSTRUMENTATION >"$BENCH/variant-build.log" 2>&1 ||
    { tail -30 "$BENCH/variant-build.log" >&2; die "the variant build failed"; }
SYS_PKGLIB=$("$PG_CONFIG_BIN" --pkglibdir)
SYS_SHARE=$("$PG_CONFIG_BIN" --sharedir)
cp -a "$(dirname "$SYS_PGBIN")" "$ROOT/usr/lib/postgresql/"
cp -a "$SYS_SHARE" "$ROOT/usr/share/postgresql/"
ROOT_PKGLIB="$ROOT${SYS_PKGLIB}"
[ -d "$ROOT_PKGLIB" ] || die "no $ROOT_PKGLIB in the private copy"
cp "$VAR_SRC/bufpool_ext.so" "$ROOT_PKGLIB/bufpool_ext.so"
chmod -R a+rX "$ROOT"
VAR_PGBIN="$ROOT$SYS_PGBIN"
cmp -s "$SYS_PKGLIB/bufpool_ext.so" "$ROOT_PKGLIB/bufpool_ext.so" &&
    die "the variant library is identical to the installed one"

# ---------------------------------------------------------------- cluster
bench_initdb bufpool_observe.conf
bench_write_conf bufpool_observe.conf <<EOF
bufpool_ext.size = '256MB'
bufpool_ext.chunk_size = '64MB'
bufpool_ext.instances = 1
EOF

start_build() { # start_build normal|variant
    local bin=$SYS_PGBIN
    [ "$1" = variant ] && bin=$VAR_PGBIN
    PG_CTL=("$bin/pg_ctl" -D "$DATA")
    bench_start
}

start_build normal
q "CREATE EXTENSION bufpool_ext;" >/dev/null
q "CREATE EXTENSION bufpool_test;" >/dev/null
bench_wait_ready
SPACE_ID=$(q "SELECT bufpool.create_space('observe', 10000);")
stop_server

declare -A VALS=()
RAW=()
CSV_ROWS=()
T0=$SECONDS
for ((r = 1; r <= REPS; r++)); do
    if ((r % 2)); then builds="normal variant"; else builds="variant normal"; fi
    for build in $builds; do
        start_build "$build"
        bench_wait_ready
        for c in "${CASES[@]}"; do
            IFS=: read -r name n pat <<<"$c"
            # a first run warms the pages and the code, not counted
            q "SELECT bufpool_test.bench_fetch($SPACE_ID, $n, '$pat', 2000000, 1);" >/dev/null
            ns=$(q "SELECT round(bufpool_test.bench_fetch($SPACE_ID, $n, '$pat', $OPS, 1)::numeric, 2);")
            VALS[$build.$name]="${VALS[$build.$name]:-}${VALS[$build.$name]:+ }$ns"
            RAW+=("| $r | $build | $name | $ns |")
            CSV_ROWS+=("$r,$build,$name,$n,$pat,$OPS,$ns")
            log "start $r, $build build, $name: $ns ns/op"
        done
        stop_server
    done
done
ELAPSED=$((SECONDS - T0))

# ---------------------------------------------------------------- instructions
# The same loop counted by callgrind: instructions executed inside
# bp_bench_fetch_loop (the timed loop of bench_fetch, with its callees)
# per fetch + release.  The count is the same from run to run, whatever
# else the machine does, so it shows the instrumentation's own share
# without the noise of the timings.  Each build's postmaster runs under
# valgrind (its backends are forked, so followed); one backend per case.
CG_OPS="${BPX_OBSERVE_CG_OPS:-1000000}"
CGDIR="$BENCH/callgrind"
declare -A IR=()
CG_VERSION=none
if command -v valgrind >/dev/null; then
    CG_VERSION=$(valgrind --version)
    for build in normal variant; do
        bin=$SYS_PGBIN
        [ "$build" = variant ] && bin=$VAR_PGBIN
        PG_CTL=("$bin/pg_ctl" -D "$DATA")
        log "instruction counts, $build build (postmaster under callgrind)"
        callgrind_start "$bin" "$CGDIR/$build" bp_bench_fetch_loop
        bench_wait_ready
        for c in "${CASES[@]}"; do
            IFS=: read -r name n pat <<<"$c"
            IR[$build.$name]=$(callgrind_per_op "$CGDIR/$build" "$CG_OPS" \
                "SELECT bufpool_test.bench_fetch($SPACE_ID, $n, '$pat', $CG_OPS, 1)")
            log "  $name: ${IR[$build.$name]} instructions per fetch + release"
        done
        stop_server
        wait
    done
else
    log "valgrind is not installed: no instruction counts (make deps installs it)"
fi

ROWS=()
for c in "${CASES[@]}"; do
    IFS=: read -r name n pat <<<"$c"
    # shellcheck disable=SC2086  # split the list of figures
    a=$(median ${VALS[normal.$name]})
    # shellcheck disable=SC2086
    b=$(median ${VALS[variant.$name]})
    ROWS+=("$(awk -v name="$name" -v n="$n" -v pat="$pat" -v a="$a" -v b="$b" -v t="$TARGET_PCT" \
        -v ra="${VALS[normal.$name]}" -v rb="${VALS[variant.$name]}" 'BEGIN {
            pct = 100 * (a / b - 1);
            printf "| %s (%d pages, %s) | %.2f | %.2f | %+.1f%% | < %d%% | %s | %s | %s |",
                name, n, pat, a, b, pct, t, (pct < t ? "PASS" : "FAIL"), ra, rb }')")
done
TABLE=$(printf '%s\n' \
    "| case | with instrumentation, ns/op | without, ns/op | cost | target | verdict | runs with | runs without |" \
    "|---|---|---|---|---|---|---|---|" "${ROWS[@]}")
echo
echo "$TABLE"
echo
IROWS=()
for c in "${CASES[@]}"; do
    IFS=: read -r name n pat <<<"$c"
    if [ -n "${IR[normal.$name]:-}" ]; then
        IROWS+=("$(awk -v name="$name" -v n="$n" -v pat="$pat" -v a="${IR[normal.$name]}" \
            -v b="${IR[variant.$name]}" -v t="$TARGET_PCT" 'BEGIN {
                pct = 100 * (a / b - 1);
                printf "| %s (%d pages, %s) | %.2f | %.2f | %+.1f%% | < %d%% | %s |",
                    name, n, pat, a, b, pct, t, (pct < t ? "PASS" : "FAIL") }')")
    else
        IROWS+=("| $name ($n pages, $pat) | - | - | - | < ${TARGET_PCT}% | not measured (no valgrind) |")
    fi
done
ITABLE=$(printf '%s\n' \
    "| case | with instrumentation, instructions/op | without, instructions/op | cost | target | verdict |" \
    "|---|---|---|---|---|---|" "${IROWS[@]}")
echo "$ITABLE"
echo

mkdir -p "$RESULTS_DIR"
{
    echo "start,build,case,n_pages,pattern,n_ops,ns_per_op"
    printf '%s\n' "${CSV_ROWS[@]}"
} >"$CSV"
cat >"$RESULTS" <<EOF
# Observability cost: the hit path with and without instrumentation

Written by scripts/bench_observe.sh (\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)

## What is measured

\`bufpool_test.bench_fetch\` (fetch + release of one page in a C loop, hits
only, $OPS pairs per run) in two builds of the same source: the
installed one, and one compiled with \`-DBP_NO_INSTRUMENTATION\`, in which
the hit path neither finds nor bumps its per-backend counters in shared
memory and memory accounting (\`bp_mem_alloc\` / \`bp_mem_free\`, which the
hit path does not call anyway) does nothing.  One cluster, started
alternately by each build ($REPS starts each, interleaved); each start
runs every case once after an untimed warm-up run.  Figures are medians
of ns per fetch + release; cost = with / without - 1.  Instrumentation
is the per-backend counters and the heat sampling of hot-page detection
(src/pool/heat.c); the variant has neither.  Settings: 8 kB pages, 256 MB
pool, 1 instance, page cleaners running (the default).  Benchmark time:
${ELAPSED} s.

Instruction counts: the postmaster of each build runs once more under
\`valgrind --tool=callgrind\` ($CG_VERSION), collecting only inside
\`bp_bench_fetch_loop\` (the timed loop of \`bench_fetch\` and what it
calls); one backend per case runs $CG_OPS pairs after the same untimed
warm-up, and its count is divided by $CG_OPS.  Unlike the timings these
counts repeat exactly from run to run; they leave out what instructions
do not show (cache misses on the counters, whose cache line is the
backend's own).

## Results

Time:

$TABLE

Instructions (valgrind):

$ITABLE

## Every run

| start | build | case | ns/op |
|---|---|---|---|
$(printf '%s\n' "${RAW[@]}")
EOF
log "results written to $RESULTS and $CSV (benchmark time ${ELAPSED} s)"
