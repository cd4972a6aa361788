#!/usr/bin/env bash
# Key-value benchmark: the example consumer examples/bufpool_kv (a B+tree on
# bufpool pages) against an ordinary PostgreSQL table (key text primary key,
# value bytea), same machine, same run, the same memory for each: a bufpool
# pool of BPX_KV_MEM_MB and shared_buffers of BPX_KV_MEM_MB (the other side
# gets 16 MB).  Run by scripts/bench.sh, or alone:
#   BPX_SKIP_BUILD=1 bash scripts/bench_kv.sh
#
# BPX_KV_KEYS keys ('key' and 7 digits) with 100-byte values are loaded
# into both (the store with flush_log_at_commit = 0 while it loads; the
# table with one INSERT ... SELECT, then VACUUM ANALYZE), the data about
# four times the memory by default.  Then pgbench custom scripts, for 1 and
# 4 clients, each run BPX_KV_SECONDS long, the two sides interleaved:
#
#   get       a random key read
#   get/put   9 reads to 1 put (a random key, a new 100-byte value)
#   put       puts only, durable: fsync = on, the store with
#             flush_log_at_commit = 1, the table with synchronous_commit on
#
# The table is tps of each and the ratio store / table (the target: at
# least 1 for get and put); it goes to stdout and bench/results/kv.md.
#
#   BPX_KV_PORT      port / socket number (default 5480)
#   BPX_KV_KEYS      keys (default 1000000)
#   BPX_KV_MEM_MB    memory of each side (default 32)
#   BPX_KV_SECONDS   seconds per run (default 20)
#   BPX_KV_CLIENTS   client counts (default "1 4")
#   BPX_KV_WORKLOADS workloads (default "get get/put put")
#   BPX_KV_PROFILE   1: perf record -a -g over every run at the largest
#                    client count; the top of each side's profile goes to
#                    bench/results/kv-profile.txt
#
# For the put runs each side's log traffic is measured too: bytes of redo
# (bufpool.redo_status) or of WAL (pg_current_wal_lsn) per put, and log
# fsyncs per put (bufpool.redo_status, pg_stat_wal).
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_KV_PORT:-5480}"
KEYS="${BPX_KV_KEYS:-1000000}"
MEM_MB="${BPX_KV_MEM_MB:-32}"
SECONDS_PER_RUN="${BPX_KV_SECONDS:-20}"
read -r -a CLIENTS <<<"${BPX_KV_CLIENTS:-1 4}"
read -r -a WORKLOADS <<<"${BPX_KV_WORKLOADS:-get get/put put}"
PROFILE="${BPX_KV_PROFILE:-0}"
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/kv.md"

bench_prepare bench_kv
. "$REPO/scripts/bench_server.sh"

bench_initdb bufpool_kv.conf
bench_write_conf bufpool_kv.conf <<EOF
bufpool_ext.size = '${MEM_MB}MB'
bufpool_ext.chunk_size = '16MB'
bufpool_ext.instances = 1
bufpool_ext.dump_at_shutdown = off
bufpool_ext.load_at_startup = off
shared_buffers = '${MEM_MB}MB'
max_worker_processes = 16
fsync = on
EOF
bench_start
q "CREATE EXTENSION bufpool_ext;" >/dev/null
bench_wait_ready
q "CREATE EXTENSION bufpool_kv;" >/dev/null
q "SELECT kv_create('b');" >/dev/null
q "CREATE TABLE kvt (key text PRIMARY KEY, value bytea);" >/dev/null

VALUE="convert_to(substr(repeat(md5(g::text), 4), 1, 100), 'UTF8')"
log "loading $KEYS keys into the store"
t0=$(date +%s)
q "SET bufpool_ext.flush_log_at_commit = 0;
   SELECT count(kv_put('b', 'key' || lpad(g::text, 7, '0'), $VALUE)) FROM generate_series(1, $KEYS) g;" >/dev/null
q "SELECT bufpool.checkpoint();" >/dev/null
KV_LOAD_S=$(($(date +%s) - t0))
log "loading $KEYS keys into the table"
t0=$(date +%s)
q "INSERT INTO kvt SELECT 'key' || lpad(g::text, 7, '0'), $VALUE FROM generate_series(1, $KEYS) g;" >/dev/null
q "VACUUM ANALYZE kvt;" >/dev/null
q "CHECKPOINT;" >/dev/null
PG_LOAD_S=$(($(date +%s) - t0))
KV_BYTES=$(q "SELECT (SELECT size_pages FROM bufpool.spaces WHERE name = 'kv_b') * 8192;")
PG_BYTES=$(q "SELECT pg_total_relation_size('kvt');")
KV_CHECK=$(q "SELECT kv_check('b');")
log "store: $((KV_BYTES / 1048576)) MB in $KV_LOAD_S s (check: $KV_CHECK keys); table: $((PG_BYTES / 1048576)) MB in $PG_LOAD_S s; memory ${MEM_MB} MB each"

# the pgbench scripts
for side in kv pg; do
    if [ $side = kv ]; then
        GET="SELECT length(kv_get('b', 'key' || lpad(:k::text, 7, '0')));"
        PUT="SELECT kv_put('b', 'key' || lpad(:k::text, 7, '0'), convert_to(substr(repeat(md5(random()::text), 4), 1, 100), 'UTF8'));"
    else
        GET="SELECT length(value) FROM kvt WHERE key = 'key' || lpad(:k::text, 7, '0');"
        PUT="INSERT INTO kvt VALUES ('key' || lpad(:k::text, 7, '0'), convert_to(substr(repeat(md5(random()::text), 4), 1, 100), 'UTF8')) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;"
    fi
    printf '\\set k random(1, %d)\n%s\n' "$KEYS" "$GET" | as_pg_in "$BENCH" tee "$BENCH/$side-get.sql" >/dev/null
    printf '\\set k random(1, %d)\n%s\n' "$KEYS" "$PUT" | as_pg_in "$BENCH" tee "$BENCH/$side-put.sql" >/dev/null
done

# log_counters SIDE: bytes of log and log fsyncs so far
log_counters() {
    if [ "$1" = kv ]; then
        q "SELECT bytes || ' ' || fsyncs FROM bufpool.redo_status;"
    else
        q "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn || ' ' || wal_sync FROM pg_stat_wal;"
    fi
}

# run SIDE WORKLOAD CLIENTS: "tps transactions"
run() {
    local side=$1 work=$2 c=$3 files=()
    case $work in
        get) files=(-f "$BENCH/$side-get.sql") ;;
        get/put) files=(-f "$BENCH/$side-get.sql@9" -f "$BENCH/$side-put.sql@1") ;;
        put) files=(-f "$BENCH/$side-put.sql") ;;
    esac
    as_pg_in "$BENCH" env PGOPTIONS="-c bufpool_ext.flush_log_at_commit=1 -c synchronous_commit=on" \
        "$PGBIN/pgbench" -n -h /tmp -p "$PORT" -U postgres -c "$c" -j "$c" -T "$SECONDS_PER_RUN" \
        "${files[@]}" postgres 2>/dev/null |
        awk '/^number of transactions actually processed/ { n = $NF }
             /^tps = / { t = $3 } END { printf "%.0f %d", t, n }'
}

# profile SIDE WORKLOAD CLIENTS: run, with perf record -a -g around it
PROFILE_OUT="$RESULTS_DIR/kv-profile.txt"
profile_run() {
    local data="$BENCH/perf-$1-${2//\//-}-$3.data" res
    as_root perf record -q -a -g -o "$data" -- sleep "$SECONDS_PER_RUN" >/dev/null 2>&1 &
    local perf_pid=$!
    res=$(run "$1" "$2" "$3")
    wait "$perf_pid" || true
    {
        echo "## $1, $2, $3 clients: ${res%% *} tps"
        echo
        echo "Samples by where they fell (the server processes split by module):"
        echo
        echo "| where | % of samples |"
        echo "|---|---|"
        as_root perf report -i "$data" --no-children --sort comm,dso --stdio -g none \
            --percent-limit 0 2>/dev/null | awk '
            /^ *[0-9.]+%/ {
                pct = $1; sub(/%/, "", pct); comm = $2; dso = $3
                if (comm == "swapper") k = "idle (no process on the CPU)"
                else if (comm == "pgbench") k = "pgbench"
                else if (comm == "postgres") {
                    if (dso == "[kernel.kallsyms]") k = "server: kernel (syscalls, I/O, scheduling)"
                    else if (dso == "postgres") k = "server: postgres"
                    else if (dso ~ /bufpool_ext/) k = "server: bufpool_ext.so"
                    else if (dso ~ /bufpool_kv/) k = "server: bufpool_kv.so"
                    else k = "server: libc and other libraries"
                } else k = "other processes (kernel workers, ...)"
                sum[k] += pct
            }
            END { for (k in sum) printf "| %s | %.1f |\n", k, sum[k] }' | sort -t'|' -k3 -rn
        echo
        echo "The server's busiest functions:"
        echo
        echo '```'
        as_root perf report -i "$data" --no-children --comms postgres --sort dso,symbol --stdio -g none \
            --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/[ -]*$//' | head -15
        echo '```'
        echo
    } >>"$PROFILE_OUT"
    as_root rm -f "$data"
    echo "$res"
}

ROWS=()
LOGROWS=()
if [ "$PROFILE" = 1 ]; then
    mkdir -p "$RESULTS_DIR"
    { echo "# Profiles of scripts/bench_kv.sh (perf record -a -g, $(date -u '+%Y-%m-%d %H:%M UTC'))"; echo; } >"$PROFILE_OUT"
fi
MAXC=${CLIENTS[-1]}
for work in "${WORKLOADS[@]}"; do
    for c in "${CLIENTS[@]}"; do
        declare -A tps=() n=() logb=() syncs=()
        for side in kv pg; do
            read -r b0 s0 <<<"$(log_counters $side)"
            if [ "$PROFILE" = 1 ] && [ "$c" = "$MAXC" ]; then
                read -r tps[$side] n[$side] <<<"$(profile_run $side "$work" "$c")"
            else
                read -r tps[$side] n[$side] <<<"$(run $side "$work" "$c")"
            fi
            read -r b1 s1 <<<"$(log_counters $side)"
            logb[$side]=$((b1 - b0))
            syncs[$side]=$((s1 - s0))
        done
        kv=${tps[kv]} pg=${tps[pg]}
        ratio=$(awk -v a="$kv" -v b="$pg" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        log "$work, $c client(s): store $kv tps, table $pg tps, ratio $ratio"
        ROWS+=("| $work | $c | $kv | $pg | $ratio |")
        if [ "$work" = put ]; then
            LOGROWS+=("$(awk -v c="$c" -v bk="${logb[kv]}" -v sk="${syncs[kv]}" -v nk="${n[kv]}" \
                -v bp="${logb[pg]}" -v sp="${syncs[pg]}" -v np="${n[pg]}" 'BEGIN {
                    printf "| %d | %.0f | %.0f | %.2f | %.2f |", c, bk / nk, bp / np, sk / nk, sp / np }')")
        fi
        unset tps n logb syncs
    done
done
KV_CHECK_AFTER=$(q "SELECT kv_check('b');")

mkdir -p "$RESULTS_DIR"
{
    echo "# Key-value store (examples/bufpool_kv) against a PostgreSQL table"
    echo
    echo "Written by scripts/bench_kv.sh on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    machine_md
    echo
    echo "$KEYS keys of 10 bytes with 100-byte values; the store $((KV_BYTES / 1048576)) MB on disk,"
    echo "the table with its index $((PG_BYTES / 1048576)) MB; memory ${MEM_MB} MB each (bufpool_ext.size,"
    echo "shared_buffers); ${SECONDS_PER_RUN} s a run, one run each, the sides interleaved; fsync on."
    echo "The store's check after the runs: $KV_CHECK_AFTER keys."
    echo
    echo "| workload | clients | store tps | table tps | store / table |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    if [ ${#LOGROWS[@]} -gt 0 ]; then
        echo
        echo "Log traffic of the put runs, per put: bytes of redo (store) or WAL (table),"
        echo "and log fsyncs (fewer than one: commits shared an fsync)."
        echo
        echo "| clients | store redo bytes | table WAL bytes | store fsyncs | table fsyncs |"
        echo "|---|---|---|---|---|"
        printf '%s\n' "${LOGROWS[@]}"
    fi
} | tee "$RESULTS"
log "results written to $RESULTS"
