#!/usr/bin/env bash
# Huge pages benchmark: the hit path on a 2 GiB pool with uniform access
# over all its pages, chunks in 2 MB huge pages (bufpool_ext.huge_pages =
# on, a hugetlbfs mount) against the same pool in 4 kB pages, the two
# alternated in one run; and the time of a grow per GiB each way (a huge
# page is zeroed at its first touch, a DSM segment is filled when made).
# Needs root: it reserves huge pages (vm.nr_hugepages) and mounts
# hugetlbfs, and puts both back at exit.  Run by scripts/bench.sh, or:
#   BPX_SKIP_BUILD=1 bash scripts/bench_huge.sh
#
# ns per fetch+release is bufpool_test.bench_fetch ('uniform', one
# backend); dTLB misses per fetch come from perf stat on that backend
# when the CPU's PMU counts them (a virtual machine often does not: then
# "n/a").  Writes bench/results/huge_pages.md.
#
#   BPX_HUGE_PORT     port (default 5486)
#   BPX_HUGE_POOL_MB  pool size (default 2048)
#   BPX_HUGE_OPS      fetches per measurement (default 20000000)
#   BPX_HUGE_REPS     measurements per side (default 3, alternated)
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_HUGE_PORT:-5486}"
POOL_MB="${BPX_HUGE_POOL_MB:-2048}"
OPS="${BPX_HUGE_OPS:-20000000}"
REPS="${BPX_HUGE_REPS:-3}"
CHUNK_MB=128
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/huge_pages.md"

[ "$(id -u)" -eq 0 ] || die "bench_huge.sh needs root (vm.nr_hugepages, mount)"
bench_prepare bench_huge
. "$REPO/scripts/bench_server.sh"

# ---- huge pages: the pool, a grow of the same size, and some slack
HUGE_DIR="$BENCH/hugepages"
HUGE_OLD=$(cat /proc/sys/vm/nr_hugepages)
WANT=$((POOL_MB / 2 + POOL_MB / 2 + 64))
restore_huge() {
    stop_server
    if mountpoint -q "$HUGE_DIR" 2>/dev/null; then umount "$HUGE_DIR" || umount -l "$HUGE_DIR" || true; fi
    echo "$HUGE_OLD" >/proc/sys/vm/nr_hugepages || true
}
trap restore_huge EXIT
echo $((HUGE_OLD + WANT)) >/proc/sys/vm/nr_hugepages
GOT=$(($(cat /proc/sys/vm/nr_hugepages) - HUGE_OLD))
[ "$GOT" -ge "$WANT" ] || die "could reserve only $GOT of $WANT huge pages of 2 MB"
mkdir -p "$HUGE_DIR"
mount -t hugetlbfs -o "uid=$(id -u "$PG_OS_USER"),gid=$(id -g "$PG_OS_USER"),mode=0700,pagesize=2M" \
    bufpool_ext_bench "$HUGE_DIR"
log "reserved $GOT huge pages of 2 MB, hugetlbfs at $HUGE_DIR"

bench_initdb bufpool_huge.conf

# start_side MODE SIZE_MB: (re)start the server with huge_pages = MODE
start_side() {
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

# fill: a space of 95% of the pool's pages, every page written once
fill() {
    local pages
    pages=$(q "SELECT pages FROM bufpool.status();")
    NPAGES=$((pages * 95 / 100))
    q "SELECT bufpool.drop_space(space_id) FROM bufpool.spaces WHERE name = 'huge';" >/dev/null
    SPACE_ID=$(q "SELECT bufpool.create_space('huge', $NPAGES);")
    q "SELECT count(bufpool.write_page($SPACE_ID, p, '\\x01'::bytea, 0)) FROM generate_series(0, $NPAGES - 1) p;" >/dev/null
    q "SELECT bufpool.flush();" >/dev/null
}

# measure: "ns_per_fetch dtlb_misses_per_fetch" for the filled space
measure() {
    local out="$BENCH/measure.out" perf_out="$BENCH/perf.out" bpid perf_pid ns misses
    as_pg_in "$BENCH" "${PSQL[@]}" -c "SET application_name = 'bench_huge';" \
        -c "SELECT pg_sleep(0.5);" \
        -c "SELECT bufpool_test.bench_fetch($SPACE_ID, $NPAGES, 'uniform', $OPS);" >"$out" &
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
    ns=$(tail -n 1 "$out")
    misses=$(awk -F, -v n="$OPS" '
        /dTLB-(load|store)-misses/ { if ($1 ~ /^[0-9]+$/) { s += $1; ok = 1 } else bad = 1 }
        END { if (ok && !bad) printf "%.3f", s / n; else print "n/a" }' "$perf_out" 2>/dev/null || echo n/a)
    echo "$ns ${misses:-n/a}"
}

declare -a NS_HUGE=() NS_NORMAL=() TLB_HUGE=() TLB_NORMAL=()
for rep in $(seq 1 "$REPS"); do
    for mode in on off; do
        start_side "$mode" "$POOL_MB"
        kb=$(q "SELECT string_agg(DISTINCT page_size_kb::text, ',') FROM bufpool.chunks;")
        fill
        read -r ns tlb <<<"$(measure)"
        log "rep $rep, huge_pages = $mode (chunks mapped with $kb kB pages): $ns ns per fetch+release, dTLB misses per fetch: $tlb"
        if [ "$mode" = on ]; then
            [ "$kb" = 2048 ] || die "huge_pages = on but the chunks have $kb kB pages"
            NS_HUGE+=("$ns"); TLB_HUGE+=("$tlb")
        else
            NS_NORMAL+=("$ns"); TLB_NORMAL+=("$tlb")
        fi
    done
done
# the median of dTLB figures, or n/a when the PMU gave none
tlb_median() {
    case " $* " in *" n/a "*) echo "n/a (this CPU's PMU does not count dTLB events)" ;; *) median "$@" ;; esac
}
NS_H=$(median "${NS_HUGE[@]}")
NS_N=$(median "${NS_NORMAL[@]}")
RATIO=$(awk -v h="$NS_H" -v n="$NS_N" 'BEGIN { printf "%.2f", h / n }')

# ---- grow time per GiB, each way: from one chunk to POOL_MB
declare -A GROW=()
for mode in on off; do
    start_side "$mode" "$CHUNK_MB"
    t0=$(date +%s.%N)
    phase=$(q "SELECT phase FROM bufpool.resize('${POOL_MB}MB');")
    t1=$(date +%s.%N)
    [ "$phase" = complete ] || die "the grow with huge_pages = $mode ended $phase"
    GROW[$mode]=$(awk -v a="$t0" -v b="$t1" -v g="$(((POOL_MB - CHUNK_MB)))" 'BEGIN { printf "%.3f", (b - a) / (g / 1024) }')
    log "grow by $((POOL_MB - CHUNK_MB)) MB with huge_pages = $mode: ${GROW[$mode]} s per GiB"
done
stop_server

mkdir -p "$RESULTS_DIR"
{
    echo "# Huge pages: hit path and grow"
    echo
    echo "Written by scripts/bench_huge.sh on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    machine_md
    echo
    echo "A ${POOL_MB} MB pool of ${CHUNK_MB} MB chunks, one instance, a space of 95% of its pages,"
    echo "every page resident; bufpool_test.bench_fetch, uniform over the space, $OPS"
    echo "fetch+release pairs in one backend; the two sides alternated, $REPS runs each, medians."
    echo
    echo "| chunks in | ns per fetch+release | dTLB misses per fetch | runs (ns) |"
    echo "|---|---|---|---|"
    echo "| 2 MB huge pages | $NS_H | $(tlb_median "${TLB_HUGE[@]}") | ${NS_HUGE[*]} |"
    echo "| 4 kB pages | $NS_N | $(tlb_median "${TLB_NORMAL[@]}") | ${NS_NORMAL[*]} |"
    echo
    echo "huge / normal: **$RATIO** (the target: at most 0.90)."
    echo
    echo "Grow from ${CHUNK_MB} MB to ${POOL_MB} MB: ${GROW[on]} s per GiB in huge pages, ${GROW[off]} s per GiB"
    echo "in 4 kB pages (a DSM segment is filled when it is made; a huge page is zeroed at its first touch, which"
    echo "the grow's writing of the control blocks does for their pages only)."
} | tee "$RESULTS"
log "results written to $RESULTS"
