#!/usr/bin/env bash
# make bench: hit-path benchmark of bufpool_ext against PostgreSQL's
# shared_buffers (test/modules/bufpool_test/bench.c), on a throwaway instance.
#
# deps + build + install, then initdb a cluster under tmp/bench (port
# $BPX_BENCH_PORT, socket in /tmp, no TCP), with an 8 kB bufpool page size
# (PostgreSQL's block size), a 1 GB pool and 1 GB of shared_buffers.  A
# bufpool space and a heap table of 100000 pages each are created; then
# for each case
#
#   hot      n_pages=1000    uniform
#   uniform  n_pages=100000  uniform
#   zipf     n_pages=100000  zipf (exponent 0.99)
#
# bufpool_test.bench_fetch and bufpool_test.bench_pg_fetch run in 1 backend and in
# 2 backends at once (different seeds, mean of the two), each measurement
# repeated BPX_BENCH_REPS times and the median kept.  n_ops is calibrated
# per case so one run of the slower side takes about BPX_BENCH_SECONDS.
# The whole set runs for each value of BPX_BENCH_INSTANCES
# (bufpool_ext.instances; the server is restarted in between).
#
# The table goes to stdout and to bench/results/hit_path.md with a
# description of the machine.  The server is stopped on exit.
#
# Then the online-resize benchmark runs on a server of its own
# (scripts/bench_resize.sh, bench/results/resize.md; its BPX_RESIZE_*
# settings are described there), the allocator benchmark
# (scripts/bench_alloc.sh, bench/results/alloc.md; BPX_ALLOC_*) and the
# flushing benchmark (scripts/bench_flush.sh, bench/results/flush.md;
# BPX_FLUSH_*), the memory-overhead figures (scripts/bench_memory.sh),
# the observability cost (scripts/bench_observe.sh; BPX_OBSERVE_*), the
# scan-resistance scenario with its trace (scripts/bench_scan.sh,
# bench/results/scan_resistance.md; BPX_SCAN_*) and the
# replacement-quality benchmark (scripts/bench_replacement.sh,
# bench/results/replacement.md and .png; BPX_REPL_*) and the warm-restart
# benchmark (scripts/bench_warm.sh, bench/results/warm.md; BPX_WARM_*) and
# the memory-governor benchmark (scripts/bench_governor.sh,
# bench/results/governor.md and governor_timeline.png; BPX_GOV_*; as root,
# in a memory cgroup it makes, skipped otherwise), the key-value
# benchmark (scripts/bench_kv.sh, bench/results/kv.md; BPX_KV_*) and the
# huge pages benchmark (scripts/bench_huge.sh, bench/results/huge_pages.md;
# BPX_HUGE_*; as root, skipped otherwise) and the compressed spaces
# benchmark (scripts/bench_zip.sh, bench/results/zip.md; BPX_ZIP_*; its
# I/O-bound half as root, in a memory cgroup it makes) and the size-class
# pools benchmark (scripts/bench_sc.sh, bench/results/size_classes.md;
# BPX_SC_*).
#
#   BPX_BENCH_PORT        port / socket number (default 5487)
#   BPX_BENCH_SECONDS     target seconds per run (default 2)
#   BPX_BENCH_REPS        repetitions per measurement (default 5)
#   BPX_BENCH_INSTANCES   bufpool_ext.instances values (default "1 2")
#   BPX_BENCH_HIT_ONLY=1  run the hit-path benchmark only (no other
#                         benchmark, no report)
#   BPX_SKIP_BUILD=1      do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_BENCH_PORT:-5487}"
TARGET_S="${BPX_BENCH_SECONDS:-2}"
REPS="${BPX_BENCH_REPS:-5}"
INSTANCES_LIST="${BPX_BENCH_INSTANCES:-1 2}"
N_PAGES=100000
CAL_OPS=2000000 # calibration run length
MIN_OPS=1000000
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/hit_path.md"

# name:n_pages:pattern
CASES=("hot:1000:uniform" "uniform:${N_PAGES}:uniform" "zipf:${N_PAGES}:zipf")

bench_prepare bench

# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

start_server() { # start_server INSTANCES (settings written on every start)
    log "bufpool_ext.instances = $1"
    bench_write_conf bufpool_bench.conf <<EOF
shared_buffers = '1GB'
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = '1h'
max_wal_size = '4GB'
bufpool_ext.size = '1024MB'
bufpool_ext.chunk_size = '128MB'
bufpool_ext.instances = $1
EOF
    bench_start
}

bench_initdb bufpool_bench.conf

first_instances=${INSTANCES_LIST%% *}
start_server "$first_instances"

# ---------------------------------------------------------------- data
log "creating the extension, a space of $N_PAGES pages and a table of $N_PAGES pages"
psql_q -c "CREATE EXTENSION bufpool_ext;" || { server_log_tail; die "CREATE EXTENSION bufpool_ext failed"; }
psql_q -c "CREATE EXTENSION bufpool_test;" || { server_log_tail; die "CREATE EXTENSION bufpool_test failed (the test module: make bench installs it)"; }
HAVE_PREWARM=0
if psql_q -c "CREATE EXTENSION pg_prewarm;" 2>/dev/null; then
    HAVE_PREWARM=1
else
    warn "pg_prewarm is not available; the warm phase of bench_pg_fetch loads the table"
fi
SPACE_ID=$(psql_q -c "SELECT bufpool.create_space('bench', $N_PAGES);") ||
    { server_log_tail; die "bufpool.create_space failed"; }
# One 7000-byte row per 8 kB page: plain storage (no compression, no
# TOAST) and fillfactor 10.  Created and filled in one transaction so
# wal_level = minimal skips WAL; the commit writes the table out.
psql_q -c "BEGIN;
CREATE TABLE bench_t (x int, pad char(7000)) WITH (fillfactor = 10);
ALTER TABLE bench_t ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO bench_t SELECT g, 'x' FROM generate_series(1, $N_PAGES) g;
COMMIT;"
psql_q -c "CHECKPOINT;"
TABLE_PAGES=$(psql_q -c "SELECT pg_relation_size('bench_t') / 8192;")
[ "$TABLE_PAGES" -ge "$N_PAGES" ] ||
    die "bench_t has $TABLE_PAGES pages, fewer than $N_PAGES"
log "space $SPACE_ID: $N_PAGES pages; bench_t: $TABLE_PAGES pages"

# ---------------------------------------------------------------- runs
bench_sql() { # bench_sql SIDE N_PAGES PATTERN N_OPS SEED
    case $1 in
        bufpool) echo "SELECT bufpool_test.bench_fetch($SPACE_ID, $2, '$3', $4, $5);" ;;
        postgres) echo "SELECT bufpool_test.bench_pg_fetch('bench_t', $2, '$3', $4, $5);" ;;
    esac
}

# measure SIDE BACKENDS N_PAGES PATTERN N_OPS: sets MEASURED to the mean
# ns/op of BACKENDS concurrent sessions (seeds 1..BACKENDS).
MEASURED=
measure() {
    local side=$1 nb=$2 n=$3 pat=$4 ops=$5 b rc=0
    local pids=()
    for ((b = 1; b <= nb; b++)); do
        psql_q -c "$(bench_sql "$side" "$n" "$pat" "$ops" "$b")" \
            >"$OUT/res.$b" 2>"$OUT/err.$b" &
        pids+=($!)
    done
    for b in "${!pids[@]}"; do
        wait "${pids[$b]}" || rc=1
    done
    if [ "$rc" -ne 0 ]; then
        for ((b = 1; b <= nb; b++)); do
            echo "---- session $b: $(bench_sql "$side" "$n" "$pat" "$ops" "$b")" >&2
            cat "$OUT/err.$b" >&2
        done
        server_log_tail 60
        die "$side benchmark failed ($nb backend(s), n_pages=$n, $pat)"
    fi
    MEASURED=$(cat "$OUT"/res.[0-9]* | awk -v nb="$nb" 'NR <= nb { s += $1 } END { printf "%.3f", s / nb }')
    rm -f "$OUT"/res.* "$OUT"/err.*
}

# young_counters: "made_young gets" summed over the pool's instances
young_counters() {
    psql_q -c "SELECT sum(pages_made_young) || ' ' || sum(number_pages_get) FROM bufpool.stats;"
}

# run_all INSTANCES: every case; adds rows to ROWS and raw figures to RAW.
# The runs of one case are interleaved (repetition, then backends, then
# side) so that a slow spell of the machine hits both sides and both
# backend counts alike rather than one whole column.
ROWS=()
TROWS=()
RAW=()
run_all() {
    local inst=$1 c name n pat ops side nb r bp1 pg1 key cal_bp cal_pg y0 y1 young
    local -A vals res
    for c in "${CASES[@]}"; do
        IFS=: read -r name n pat <<<"$c"
        y0=$(young_counters)
        # calibration (also a warm-up): the slower side sets n_ops
        measure bufpool 1 "$n" "$pat" "$CAL_OPS"
        cal_bp=$MEASURED
        measure postgres 1 "$n" "$pat" "$CAL_OPS"
        cal_pg=$MEASURED
        ops=$(awk -v a="$cal_bp" -v b="$cal_pg" -v t="$TARGET_S" -v m="$MIN_OPS" \
            'BEGIN { x = (a > b ? a : b); o = t * 1e9 / x; o = int(o / 1e5) * 1e5; if (o < m) o = m; printf "%d", o }')
        log "instances=$inst $name: calibration bufpool $cal_bp, postgres $cal_pg ns/op -> n_ops $ops"
        vals=()
        for ((r = 1; r <= REPS; r++)); do
            for nb in 1 2; do
                for side in bufpool postgres; do
                    measure "$side" "$nb" "$n" "$pat" "$ops"
                    vals[$side.$nb]="${vals[$side.$nb]:-}${vals[$side.$nb]:+ }$MEASURED"
                done
            done
        done
        y1=$(young_counters)
        # hits that took lru_lock to make a block young, per 1000 gets
        young=$(awk -v a="$y0" -v b="$y1" 'BEGIN {
            split(a, x, " "); split(b, y, " ");
            g = y[2] - x[2]; printf "%.0f", (g > 0 ? 1000 * (y[1] - x[1]) / g : 0) }')
        for nb in 1 2; do
            for side in bufpool postgres; do
                key=$side.$nb
                # shellcheck disable=SC2086  # split the list of figures
                res[$key]=$(median ${vals[$key]})
                log "  $name, $nb backend(s), $side: ${vals[$key]} ns/op -> median ${res[$key]}"
                RAW+=("| $inst | $name | $nb | $side | ${vals[$key]} | ${res[$key]} |")
            done
            bp1=${res[bufpool.1]}
            pg1=${res[postgres.1]}
            if [ "$nb" = 1 ]; then
                TROWS+=("$(awk -v inst="$inst" -v name="$name" -v bp="$bp1" -v pg="$pg1" 'BEGIN {
                    x = bp / pg;
                    printf "| %d | %s | bufpool / postgres ns per op, 1 backend | <= 0.50 (stretch 0.30) | %.2f | %s |",
                        inst, name, x, (x <= 0.30 ? "PASS (stretch met)" : (x <= 0.50 ? "PASS" : "FAIL")) }')")
            else
                TROWS+=("$(awk -v inst="$inst" -v name="$name" -v a="${res[bufpool.$nb]}" -v b="$bp1" 'BEGIN {
                    x = a / b;
                    printf "| %d | %s | bufpool 2 backends / 1 backend ns per op | <= 1.30 | %.2f | %s |",
                        inst, name, x, (x <= 1.30 ? "PASS" : "FAIL") }')")
            fi
            ROWS+=("$(awk -v inst="$inst" -v name="$name" -v n="$n" -v pat="$pat" -v nb="$nb" -v ops="$ops" \
                -v bp="${res[bufpool.$nb]}" -v pg="${res[postgres.$nb]}" -v bp1="$bp1" -v pg1="$pg1" \
                -v young="$young" 'BEGIN {
                    if (nb == 1) { sb = "-"; sp = "-" }
                    else { sb = sprintf("%.2fx", bp / bp1); sp = sprintf("%.2fx", pg / pg1) }
                    printf "| %d | %s (%d pages, %s) | %d | %d | %.1f | %.1f | %.2f | %s | %s | %s |",
                        inst, name, n, pat, nb, ops, bp, pg, bp / pg, sb, sp, young
                }')")
        done
    done
}

T0=$SECONDS
for inst in $INSTANCES_LIST; do
    if [ "$inst" != "$first_instances" ]; then
        log "restarting with bufpool_ext.instances = $inst"
        stop_server
        start_server "$inst"
    fi
    if [ "$HAVE_PREWARM" = 1 ]; then
        psql_q -c "SELECT pg_prewarm('bench_t');" >/dev/null
    fi
    run_all "$inst"
done
ELAPSED=$((SECONDS - T0))

HEADER="| instances | case | backends | n_ops per backend | bufpool ns/op | postgres ns/op | bufpool/postgres | bufpool 2 vs 1 | postgres 2 vs 1 | bufpool made young per 1000 gets |
|---|---|---|---|---|---|---|---|---|---|"
TABLE=$(printf '%s\n' "$HEADER" "${ROWS[@]}")

echo
echo "$TABLE"
echo

# ---------------------------------------------------------------- instructions
# Both loops counted by callgrind on the last server configuration:
# instructions inside bp_bench_fetch_loop / bp_bench_pg_fetch_loop (the
# timed loops, with what they call) per fetch+release, 1 backend.  These
# repeat exactly from run to run; the times above do not.
CG_OPS="${BPX_BENCH_CG_OPS:-1000000}"
ITABLE="valgrind is not installed (make deps installs it): no instruction counts."
if command -v valgrind >/dev/null; then
    stop_server
    log "instruction counts (postmaster under callgrind, bufpool_ext.instances = $inst)"
    callgrind_start "$PGBIN" "$BENCH/callgrind" bp_bench_fetch_loop bp_bench_pg_fetch_loop
    bench_wait_ready
    IROWS=()
    for c in "${CASES[@]}"; do
        IFS=: read -r name n pat <<<"$c"
        ib=$(callgrind_per_op "$BENCH/callgrind" "$CG_OPS" "$(bench_sql bufpool "$n" "$pat" "$CG_OPS" 1 | sed 's/;$//')")
        ip=$(callgrind_per_op "$BENCH/callgrind" "$CG_OPS" "$(bench_sql postgres "$n" "$pat" "$CG_OPS" 1 | sed 's/;$//')")
        log "  $name: bufpool $ib, postgres $ip instructions per fetch+release"
        IROWS+=("$(awk -v name="$name" -v n="$n" -v pat="$pat" -v a="$ib" -v b="$ip" 'BEGIN {
            printf "| %s (%d pages, %s) | %.2f | %.2f | %.2f |", name, n, pat, a, b, a / b }')")
    done
    stop_server
    wait
    ITABLE=$(printf '%s\n' \
        "| case | bufpool instructions/op | postgres instructions/op | bufpool / postgres |" \
        "|---|---|---|---|" "${IROWS[@]}")
    echo "$ITABLE"
    echo
fi

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Hit path: bufpool_ext against PostgreSQL shared_buffers

Written by \`make bench\` (scripts/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)

## What is measured

\`bufpool_test.bench_fetch\` times \`bp_page_fetch\` + \`bp_page_release\` of one page
of a bufpool space; \`bufpool_test.bench_pg_fetch\` times \`ReadBufferExtended\` +
\`ReleaseBuffer\` of one block of a heap table (test/modules/bufpool_test/bench.c).  Both pin and
unpin one page by number in a C loop, no SQL per page, page contents
neither locked nor read, over the same precomputed trace of page numbers
(uniform, or Zipf with exponent 0.99 over a fixed scattering of ranks).
Every page of the trace is fetched once before the clock starts, so only
hits are timed.  Figures are nanoseconds per fetch+release; for 2
backends, two sessions run at once with different seeds and the figure
is the mean of the two.  Each figure is the median of $REPS runs; n_ops is
calibrated per case so that a run of the slower side takes about
${TARGET_S} s.  The runs of a case are interleaved (each repetition runs
1 then 2 backends, bufpool then postgres), so a slow spell of the
machine does not land on one column only.  "2 vs 1" is the 2-backend
figure divided by the 1-backend figure of the same side (1.00x = no
slowdown).  "made young per 1000 gets" is bufpool.stats'
pages_made_young over number_pages_get for the whole case (calibration
and warm phases included): the share of hits that took the instance's
lru_lock to move an old block to the head of the LRU (InnoDB's
make-young after old_blocks_time).  An instance holding fewer than 512
pages has no old sublist (BP_LRU_OLD_MIN_LEN), so none of its hits do.

Settings: bufpool_ext.page_size = 8192, bufpool_ext.size = 1024MB,
bufpool_ext.chunk_size = 128MB, the other bufpool_ext settings at their
defaults (page cleaners running, old_blocks_pct 37, old_blocks_time
1000 ms, lru_boundary access); shared_buffers = 1GB,
max_parallel_workers_per_gather = 0, autovacuum = off, fsync = off.
Space and table: $N_PAGES pages each (table bench_t: one 7000-byte row per
page, $TABLE_PAGES pages).  Total run time: ${ELAPSED} s.

## Results

$TABLE

## Instructions (valgrind)

Each loop once more, 1 backend, $CG_OPS fetch+release pairs, with the
postmaster under \`valgrind --tool=callgrind\` counting only inside the
timed loop (bufpool_ext.instances = $inst).  Not a target (the target is
on time), but a figure that does not move between runs: what each side
executes per hit, whatever its memory stalls.

$ITABLE

## Targets

| instances | case | measure | target | measured | result |
|---|---|---|---|---|---|
$(printf '%s\n' "${TROWS[@]}")

## Every run (ns/op, in run order within a case)

| instances | case | backends | side | runs | median |
|---|---|---|---|---|---|
$(printf '%s\n' "${RAW[@]}")
EOF
log "results written to $RESULTS (benchmark time ${ELAPSED} s)"
if [[ "${BPX_BENCH_HIT_ONLY:-0}" == 1 ]]; then
    exit 0
fi

# ---------------------------------------------------------------- resize
# The online-resize benchmark starts its own server: stop this one first.
stop_server
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_resize.sh"

# ---------------------------------------------------------------- allocators
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_alloc.sh"

# ---------------------------------------------------------------- durability
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_redo.sh"

# ---------------------------------------------------------------- flushing
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_flush.sh"

# ---------------------------------------------------------------- memory overhead
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_memory.sh"

# ---------------------------------------------------------------- observability cost
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_observe.sh"

# ---------------------------------------------------------------- replacement quality
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_replacement.sh"

# ---------------------------------------------------------------- scan resistance
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_scan.sh"

# ---------------------------------------------------------------- warm restart
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_warm.sh"

# ---------------------------------------------------------------- memory governor
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_governor.sh"

# ---------------------------------------------------------------- key-value store
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_kv.sh"

# ---------------------------------------------------------------- huge pages
if [ "$(id -u)" -eq 0 ]; then
    BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_huge.sh"
else
    log "huge pages benchmark skipped: it needs root (vm.nr_hugepages, a hugetlbfs mount)"
fi

# ---------------------------------------------------------------- compressed spaces
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_zip.sh"

# ---------------------------------------------------------------- size-class pools
BPX_SKIP_BUILD=1 bash "$REPO/scripts/bench_sc.sh"

# ---------------------------------------------------------------- the report
bash "$REPO/scripts/bench_report.sh"
log "make bench took $((SECONDS / 60)) min $((SECONDS % 60)) s in all"

