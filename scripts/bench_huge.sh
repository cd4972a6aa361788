#!/usr/bin/env bash
# Huge pages benchmark: the hit path on a 2 GiB pool with uniform access
# over all its pages, chunks in 2 MB huge pages (bufpool_ext.huge_pages =
# on, a hugetlbfs mount) against the same pool in 4 kB pages: two servers
# running at once, measured in alternation, the ratio taken within each
# round (this machine's speed changes by up to 2x from minute to minute,
# which a run of one side after the other would mistake for the effect);
# and the time of a grow per GiB each way (a huge page is zeroed at its
# first touch, a DSM segment is filled when made).
# Needs root: it reserves huge pages (vm.nr_hugepages) and mounts
# hugetlbfs, and puts both back at exit.  Run by scripts/bench.sh, or:
#   BPX_SKIP_BUILD=1 bash scripts/bench_huge.sh
#
# ns per fetch+release is bufpool_test.bench_fetch ('uniform', one
# backend); dTLB misses per fetch come from perf stat on that backend
# when the CPU's PMU counts them (a virtual machine often does not: then
# "n/a").  Writes bench/results/huge_pages.md.
#
#   BPX_HUGE_PORT     port of the huge-page server (default 5486; the other
#                     one: the next port)
#   BPX_HUGE_POOL_MB  pool size (default 2048)
#   BPX_HUGE_OPS      fetches per measurement (default 20000000)
#   BPX_HUGE_REPS     rounds (default 7)
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_HUGE_PORT:-5486}"
POOL_MB="${BPX_HUGE_POOL_MB:-2048}"
OPS="${BPX_HUGE_OPS:-20000000}"
REPS="${BPX_HUGE_REPS:-7}"
CHUNK_MB=128
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/huge_pages.md"

[ "$(id -u)" -eq 0 ] || die "bench_huge.sh needs root (vm.nr_hugepages, mount)"
bench_prepare bench_huge
. "$REPO/scripts/bench_server.sh"

# ---- huge pages: the pool, a grow of the same size, and some slack
HUGE_DIR="$BENCH/hugepages"
trap 'stop_server; huge_release' EXIT
huge_reserve $((POOL_MB / 2 + 64)) "$HUGE_DIR" || die "no huge pages for the benchmark"

bench_initdb bufpool_huge.conf
# the other server: a copy of the new cluster, on the next port
DATA_HUGE="$DATA"
DATA_NORMAL="$BENCH/data_normal"
PORT_HUGE="$PORT"
as_pg_in "$BENCH" cp -a "$DATA_HUGE" "$DATA_NORMAL"

# use_side MODE: point the helpers (q, bench_start, stop_server, ...) at
# the server with huge_pages = MODE
use_side() {
    if [ "$1" = on ]; then
        DATA=$DATA_HUGE PORT=$PORT_HUGE LOGFILE="$BENCH/server.log"
    else
        DATA=$DATA_NORMAL PORT=$((PORT_HUGE + 1)) LOGFILE="$BENCH/server_normal.log"
    fi
    PG_CTL=("$PGBIN/pg_ctl" -D "$DATA")
    PSQL=("$PGBIN/psql" -X -q -At -h /tmp -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
}
stop_both() {
    use_side on
    stop_server
    use_side off
    stop_server
}
restore_huge() {
    stop_both
    huge_release
}
trap restore_huge EXIT

# start_side MODE SIZE_MB: (re)start that server with a pool of SIZE_MB
start_side() {
    use_side "$1"
    stop_server
    bench_write_conf bufpool_huge.conf <<EOF
bufpool_ext.size = '${2}MB'
bufpool_ext.max_size = '$((POOL_MB * 2))MB'
bufpool_ext.chunk_size = '${CHUNK_MB}MB'
bufpool_ext.instances = 1
bufpool_ext.huge_pages = $1
bufpool_ext.huge_page_dir = '$HUGE_DIR'
bufpool_ext.dump_at_shutdown = off
bufpool_ext.load_at_startup = off
shared_buffers = '16MB'
max_worker_processes = 16
EOF
    bench_start
    q "CREATE EXTENSION IF NOT EXISTS bufpool_ext; CREATE EXTENSION IF NOT EXISTS bufpool_test;" >/dev/null
    bench_wait_ready
}

declare -A SPACE=() NPAGES_OF=()
# fill MODE: a space of 95% of the pool's pages, every page written once
fill() {
    local pages n sid
    use_side "$1"
    pages=$(q "SELECT pages FROM bufpool.status();")
    n=$((pages * 95 / 100))
    sid=$(q "SELECT bufpool.create_space('huge', $n);")
    q "SELECT count(bufpool.write_page($sid, p, '\\x01'::bytea, 0)) FROM generate_series(0, $n - 1) p;" >/dev/null
    q "SELECT bufpool.flush();" >/dev/null
    SPACE[$1]=$sid
    NPAGES_OF[$1]=$n
}

# measure MODE: "ns_per_fetch dtlb_misses_per_fetch first_pass_ns"
measure() {
    local out="$BENCH/measure.out" perf_out="$BENCH/perf.out" bpid perf_pid ns misses first
    local sid=${SPACE[$1]} n=${NPAGES_OF[$1]}
    use_side "$1"
    rm -f "$perf_out"
    # a first pass maps every page into this backend (minor faults: one a
    # 4 kB page, one a 2 MB page), then the measured pass
    as_pg_in "$BENCH" "${PSQL[@]}" -c "SET application_name = 'bench_huge';" \
        -c "SELECT bufpool_test.bench_fetch($sid, $n, 'uniform', $((n * 16)));" \
        -c "SELECT bufpool_test.bench_fetch($sid, $n, 'uniform', $OPS);" >"$out" &
    local psql_pid=$!
    bpid=""
    for _ in $(seq 1 50); do
        bpid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'bench_huge';")
        [ -n "$bpid" ] && break
        sleep 0.05
    done
    perf_pid=""
    if [ -n "$bpid" ] && command -v perf >/dev/null; then
        perf stat -e dTLB-load-misses,dTLB-store-misses -x, -p "$bpid" -o "$perf_out" &
        perf_pid=$!
    fi
    wait "$psql_pid"
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
    fi
    ns=$(printf '%.1f' "$(tail -n 1 "$out")")
    first=$(printf '%.1f' "$(head -n 1 "$out")")
    misses=$(awk -F, -v n="$((OPS + n * 16))" '
        /dTLB-(load|store)-misses/ { if ($1 ~ /^[0-9]+$/) { s += $1; ok = 1 } else bad = 1 }
        END { if (ok && !bad) printf "%.3f", s / n; else print "n/a" }' "$perf_out" 2>/dev/null || echo n/a)
    echo "$ns ${misses:-n/a} $first"
}

# both servers up at once, each pool filled; then the measurements
# alternate between them (huge first in odd rounds, normal first in even
# ones), so a change of the machine's speed during the run falls on both
declare -A FILL_S=()
for mode in on off; do
    start_side "$mode" "$POOL_MB"
    kb=$(q "SELECT string_agg(DISTINCT page_size_kb::text, ',') FROM bufpool.chunks;")
    if [ "$mode" = on ]; then
        [ "$kb" = 2048 ] || die "huge_pages = on but the chunks have $kb kB pages"
    else
        [ "$kb" = 4 ] || die "huge_pages = off but the chunks have $kb kB pages"
    fi
    t0=$(date +%s.%N)
    fill "$mode"
    t1=$(date +%s.%N)
    FILL_S[$mode]=$(awk -v a="$t0" -v b="$t1" -v m="$POOL_MB" 'BEGIN { printf "%.2f", (b - a) / (m / 1024) }')
    log "huge_pages = $mode: chunks mapped with $kb kB pages, ${NPAGES_OF[$mode]} pages filled in ${FILL_S[$mode]} s per GiB"
done

declare -a NS_HUGE=() NS_NORMAL=() TLB_HUGE=() TLB_NORMAL=() FIRST_HUGE=() FIRST_NORMAL=() PAIR=()
for rep in $(seq 1 "$REPS"); do
    if [ $((rep % 2)) -eq 1 ]; then order="on off"; else order="off on"; fi
    declare -A this=()
    for mode in $order; do
        read -r ns tlb first <<<"$(measure "$mode")"
        this[$mode]=$ns
        log "round $rep, huge_pages = $mode: $ns ns per fetch+release (first pass in a new backend: $first), dTLB misses per fetch: $tlb"
        if [ "$mode" = on ]; then
            NS_HUGE+=("$ns"); TLB_HUGE+=("$tlb"); FIRST_HUGE+=("$first")
        else
            NS_NORMAL+=("$ns"); TLB_NORMAL+=("$tlb"); FIRST_NORMAL+=("$first")
        fi
    done
    PAIR+=("$(awk -v h="${this[on]}" -v n="${this[off]}" 'BEGIN { printf "%.2f", h / n }')")
    unset this
done
stop_both

# the median of dTLB figures, or n/a when the PMU gave none
tlb_median() {
    case " $* " in *" n/a "*) echo "n/a (this CPU's PMU does not count dTLB events)" ;; *) median "$@" ;; esac
}
NS_H=$(median "${NS_HUGE[@]}")
NS_N=$(median "${NS_NORMAL[@]}")
RATIO=$(median "${PAIR[@]}")
VERDICT=$(awk -v r="$RATIO" 'BEGIN { print (r <= 0.90 ? "PASS" : "FAIL") }')

# ---- grow time per GiB, each way: from one chunk to POOL_MB
declare -A GROW=()
for mode in on off; do
    start_side "$mode" "$CHUNK_MB"
    t0=$(date +%s.%N)
    phase=$(q "SELECT phase FROM bufpool.resize('${POOL_MB}MB');")
    t1=$(date +%s.%N)
    [ "$phase" = complete ] || die "the grow with huge_pages = $mode ended $phase"
    GROW[$mode]=$(awk -v a="$t0" -v b="$t1" -v g="$((POOL_MB - CHUNK_MB))" 'BEGIN { printf "%.3f", (b - a) / (g / 1024) }')
    log "grow by $((POOL_MB - CHUNK_MB)) MB with huge_pages = $mode: ${GROW[$mode]} s per GiB"
    stop_server
done

mkdir -p "$RESULTS_DIR"
{
    echo "# Huge pages: hit path and grow"
    echo
    echo "Written by scripts/bench_huge.sh on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    machine_md
    echo
    echo "Two servers at once, each with a ${POOL_MB} MB pool of ${CHUNK_MB} MB chunks (one instance), one in"
    echo "2 MB huge pages, one in 4 kB pages; in each a space of 95% of the pool's pages, every page"
    echo "resident.  bufpool_test.bench_fetch, uniform over the space, $OPS fetch+release pairs in one"
    echo "backend, after a first pass of 16 times the space's pages that maps every page in that"
    echo "backend (reported too).  $REPS rounds; each round measures both servers, alternating which"
    echo "goes first, and its ratio huge / normal is taken within the round."
    echo
    echo "| chunks in | ns per fetch+release (median) | dTLB misses per fetch | rounds (ns) | first pass (ns, median) |"
    echo "|---|---|---|---|---|"
    echo "| 2 MB huge pages | $NS_H | $(tlb_median "${TLB_HUGE[@]}") | ${NS_HUGE[*]} | $(median "${FIRST_HUGE[@]}") |"
    echo "| 4 kB pages | $NS_N | $(tlb_median "${TLB_NORMAL[@]}") | ${NS_NORMAL[*]} | $(median "${FIRST_NORMAL[@]}") |"
    echo
    echo "Ratio huge / normal per round: ${PAIR[*]}."
    echo
    echo "- huge / normal, median of the rounds: $RATIO (the target: at most 0.90): $VERDICT"
    echo
    echo "Grow from ${CHUNK_MB} MB to ${POOL_MB} MB: ${GROW[on]} s per GiB in huge pages, ${GROW[off]} s per GiB"
    echo "in 4 kB pages.  A DSM segment is filled when it is made, inside the grow; a huge page is zeroed at"
    echo "its first touch, which the grow does only for the control blocks' pages: the rest of that cost"
    echo "comes with the first writes.  Filling the new pools (every page of the space written once,"
    echo "through SQL) took ${FILL_S[on]} s per GiB in huge pages and ${FILL_S[off]} s in 4 kB pages."
} | tee "$RESULTS"
log "results written to $RESULTS"
