#!/usr/bin/env bash
# Durability benchmark of bufpool_ext (the redo log, src/redo/redo.c), run by
# scripts/bench.sh or alone:  BPX_SKIP_BUILD=1 bash scripts/bench_redo.sh
#
# In one run, on one throwaway cluster with fsync = on:
#
#   1. pg_test_fsync: the disk's fdatasync rate (one 8 kB write per sync);
#   2. durable writes per second: pgbench clients (1, 2, 4, 8) calling
#      bufpool.write_page on random pages with
#      bufpool_ext.flush_log_at_commit = 1 (each returns only when its redo
#      is fsynced; concurrent ones share fsyncs: group commit);
#   3. PostgreSQL's own durable single-row UPDATE rate at the same client
#      counts (pgbench, synchronous_commit = on, a 10000-row table);
#   4. recovery time per GiB of redo: write BPX_REDO_RECOVERY_MB of redo
#      with the page cleaners paused and no checkpoint, stop the server
#      with -m immediate (a crash), start it and read the recovery's time
#      from bufpool.redo_status.
#
# Each rate is the median of BPX_REDO_REPS runs of BPX_REDO_SECONDS
# seconds, bufpool and PostgreSQL interleaved.  The issue's target: with 8
# clients bufpool's durable writes reach at least PostgreSQL's UPDATE
# rate.  Results go to stdout and bench/results/redo.md.
#
#   BPX_REDO_PORT         port / socket number (default 5489)
#   BPX_REDO_REPS         repetitions (default 3)
#   BPX_REDO_SECONDS      seconds per pgbench run (default 8)
#   BPX_REDO_RECOVERY_MB  redo written for the recovery measurement (default 512)
#   BPX_SKIP_BUILD=1      do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_REDO_PORT:-5489}"
REPS="${BPX_REDO_REPS:-3}"
SECONDS_PER_RUN="${BPX_REDO_SECONDS:-8}"
RECOVERY_MB="${BPX_REDO_RECOVERY_MB:-512}"
CLIENTS=(1 2 4 8)
N_PAGES=10000
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/redo.md"

bench_prepare bench_redo
command -v "$PGBIN/pgbench" >/dev/null || die "pgbench not found in $PGBIN"

# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

T0=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

bench_initdb bufpool_bench_redo.conf
# fsync on: this benchmark is about durable writes (the common settings turn it off)
bench_write_conf bufpool_bench_redo.conf <<EOF
fsync = on
synchronous_commit = on
max_connections = 40
bufpool_ext.size = '256MB'
bufpool_ext.chunk_size = '64MB'
bufpool_ext.flush_log_at_commit = 1
bufpool_ext.log_file_size = '2048MB'
bufpool_ext.checkpoint_timeout = '1d'
EOF
bench_start

q "CREATE EXTENSION bufpool_ext;" >/dev/null
SPACE_ID=$(q "SELECT bufpool.create_space('bench_redo', $N_PAGES);")
q "CREATE TABLE durable (id int PRIMARY KEY, v bigint NOT NULL);
   INSERT INTO durable SELECT g, 0 FROM generate_series(1, $N_PAGES) g;" >/dev/null
q "VACUUM ANALYZE durable;" >/dev/null
# every page once, so the runs measure writes, not first reads
q "SELECT count(bufpool.write_page($SPACE_ID, g, '\\x00'::bytea, 0)) FROM generate_series(0, $N_PAGES - 1) g;" >/dev/null
q "SELECT bufpool.flush();" >/dev/null
q "SELECT bufpool.checkpoint();" >/dev/null

as_pg_in "$BENCH" tee "$OUT/bp_write.sql" >/dev/null <<EOF
\\set p random(0, $((N_PAGES - 1)))
SELECT bufpool.write_page($SPACE_ID, :p, '\\x0102030405060708'::bytea, 0);
EOF
as_pg_in "$BENCH" tee "$OUT/pg_update.sql" >/dev/null <<EOF
\\set id random(1, $N_PAGES)
UPDATE durable SET v = v + 1 WHERE id = :id;
EOF

# run_pgbench SCRIPT CLIENTS: transactions per second
run_pgbench() {
    local script=$1 c=$2 j
    j=$(( c < 2 ? c : 2 ))
    as_pg_in "$BENCH" "$PGBIN/pgbench" -n -h /tmp -p "$PORT" -U postgres -c "$c" -j "$j" \
        -T "$SECONDS_PER_RUN" -f "$OUT/$script" postgres 2>&1 |
        awk '/^tps = / { printf "%.1f\n", $3; found = 1 } END { if (!found) exit 1 }' ||
        { server_log_tail; die "pgbench $script with $c clients failed"; }
}

# ---------------------------------------------------------------- the disk
log "pg_test_fsync on the data directory"
FSYNC_OUT=$(as_pg_in "$BENCH" "$PGBIN/pg_test_fsync" -s 3 -f "$DATA/pg_test_fsync.tmp" 2>&1 || true)
FDATASYNC=$(awk '/one 8kB write/ { s = 1 } s && /^[[:space:]]+fdatasync[[:space:]]/ { print $2; exit }' <<<"$FSYNC_OUT")
FDATASYNC=${FDATASYNC:-n/a}
log "fdatasync: $FDATASYNC ops/s"

# ---------------------------------------------------------------- write rates
declare -A BP PG
RAW=()
for rep in $(seq 1 "$REPS"); do
    for c in "${CLIENTS[@]}"; do
        b=$(run_pgbench bp_write.sql "$c")
        p=$(run_pgbench pg_update.sql "$c")
        BP[$c]="${BP[$c]:-} $b"
        PG[$c]="${PG[$c]:-} $p"
        RAW+=("| $rep | $c | $b | $p |")
        log "repetition $rep, $c client(s): bufpool $b writes/s, PostgreSQL $p updates/s"
    done
done
REDO_STATS=$(q "SELECT format('%s records, %s fsyncs (%s records per fsync), %s log writes',
    records, fsyncs, round(records::numeric / greatest(fsyncs, 1), 2), writes) FROM bufpool.redo_status;")

TABLE=""
TARGET_LINE=""
for c in "${CLIENTS[@]}"; do
    # shellcheck disable=SC2086
    b=$(median ${BP[$c]})
    # shellcheck disable=SC2086
    p=$(median ${PG[$c]})
    ratio=$(awk -v b="$b" -v p="$p" 'BEGIN { printf "%.2f", b / p }')
    vs_fsync=$(awk -v b="$b" -v f="$FDATASYNC" 'BEGIN { if (f + 0 > 0) printf "%.2f", b / f; else print "n/a" }')
    TABLE+="| $c | $b | $p | ${ratio}x | $vs_fsync |"$'\n'
    if [ "$c" = 8 ]; then
        verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 1.0 ? "PASS" : "FAIL") }')
        TARGET_LINE="With 8 clients bufpool's durable writes are ${ratio}x PostgreSQL's durable UPDATE rate (target >= 1.0x): $verdict"
    fi
done

# ---------------------------------------------------------------- recovery
log "recovery: writing $RECOVERY_MB MB of redo with no checkpoint"
# The page cleaners are paused while the redo is written: what is timed is
# recovery applying that much redo to pages that still need it, not pages
# the cleaners wrote meanwhile.  (The durable-write rates above ran with
# them working; after the crash they start as always.)
q "CREATE EXTENSION IF NOT EXISTS bufpool_test;" >/dev/null
q "SELECT bufpool_test.fault_attach('page-cleaner-pass', 'skip');" >/dev/null
q "ALTER SYSTEM SET bufpool_ext.flush_log_at_commit = 0;" >/dev/null
q "SELECT pg_reload_conf();" >/dev/null
PAYLOAD=4000
N_WRITES=$(( RECOVERY_MB * 1024 * 1024 / (PAYLOAD + 40) ))
q "SELECT bufpool.checkpoint();" >/dev/null
as_pg_in "$BENCH" tee "$OUT/bp_big.sql" >/dev/null <<EOF
\\set p random(0, $((N_PAGES - 1)))
SELECT bufpool.write_page($SPACE_ID, :p, decode(repeat('ab', $PAYLOAD), 'hex'), 0);
EOF
as_pg_in "$BENCH" "$PGBIN/pgbench" -n -h /tmp -p "$PORT" -U postgres -c 2 -j 2 \
    -t $(( N_WRITES / 2 )) -f "$OUT/bp_big.sql" postgres >/dev/null 2>&1 ||
    { server_log_tail; die "writing redo failed"; }
AGE=$(q "SELECT checkpoint_age FROM bufpool.redo_status;")
q "SELECT pg_sleep(1.5);" >/dev/null    # the log writer writes and fsyncs it
log "stopping with -m immediate at checkpoint age $AGE bytes"
as_pg_in "$BENCH" "${PG_CTL[@]}" -m immediate -w stop >/dev/null
bench_start
bench_wait_ready
q "ALTER SYSTEM RESET bufpool_ext.flush_log_at_commit;" >/dev/null
q "SELECT pg_reload_conf();" >/dev/null
REC=$(q "SELECT format('%s|%s|%s|%s|%s', recovery_end_lsn - recovery_start_lsn, recovery_records,
    recovery_applied, recovery_pages, round(recovery_ms::numeric, 1)) FROM bufpool.redo_status;")
IFS='|' read -r REC_BYTES REC_RECORDS REC_APPLIED REC_PAGES REC_MS <<<"$REC"
REC_S_PER_GIB=$(awk -v b="$REC_BYTES" -v ms="$REC_MS" 'BEGIN { if (b > 0) printf "%.2f", (ms / 1000) / (b / 1073741824); else print "n/a" }')
log "recovery: $REC_BYTES bytes of redo, $REC_RECORDS records, $REC_APPLIED applied, $REC_PAGES pages in $REC_MS ms: $REC_S_PER_GIB s/GiB"

T1=$(date +%s)
ELAPSED=$((T1 - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

TITLE="| clients | bufpool durable writes/s | PostgreSQL durable UPDATEs/s | bufpool vs PostgreSQL | bufpool writes per fdatasync of pg_test_fsync |
|---|---|---|---|---|"
echo
echo "$TITLE"
printf '%s' "$TABLE"
echo
echo "$TARGET_LINE"
echo "Recovery: $REC_S_PER_GIB s per GiB of redo"

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Durable writes and recovery

Written by \`make bench\` (scripts/bench_redo.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)
- Data directory: $BENCH/data ($(df -T "$BENCH" | awk 'NR == 2 { print $2 }'))
- Load average (1, 5, 15 min) when the measurements began: $LOAD_BEFORE; when they ended: $LOAD_AFTER

## What is measured

One cluster with \`fsync = on\`. pgbench runs $SECONDS_PER_RUN s per case with
1, 2, 4 and 8 clients (-j 2 from 2 clients up):

- **bufpool**: \`SELECT bufpool.write_page(space, random page of $N_PAGES, 8 bytes, 0)\`
  with \`bufpool_ext.flush_log_at_commit = 1\`: each call returns only when its
  redo record is fsynced (group commit lets concurrent calls share one fsync).
- **PostgreSQL**: \`UPDATE durable SET v = v + 1 WHERE id = random 1..$N_PAGES\`
  with \`synchronous_commit = on\` (each commit waits for its WAL fsync).
- **pg_test_fsync**: fdatasync of one 8 kB write, on the same file system: $FDATASYNC ops/s.

Each figure is the median of $REPS repetitions, the two sides interleaved.
Total run time: ${ELAPSED} s.

## Results

$TITLE
$(printf '%s' "$TABLE")

$TARGET_LINE

Redo log over the whole run: $REDO_STATS.

## Recovery

$RECOVERY_MB MB of redo were written (${PAYLOAD}-byte changes, $N_WRITES of them, with the page
cleaners paused and no checkpoint), then the server was stopped with
\`pg_ctl -m immediate\` and started again. Recovery read $REC_BYTES bytes of redo
($REC_RECORDS records; $REC_APPLIED applied, $REC_PAGES pages written back and fsynced)
in $REC_MS ms: **$REC_S_PER_GIB s per GiB of redo**.

## Every run

| repetition | clients | bufpool writes/s | PostgreSQL UPDATEs/s |
|---|---|---|---|
$(printf '%s\n' "${RAW[@]}")
EOF
log "results written to $RESULTS (benchmark time ${ELAPSED} s)"
