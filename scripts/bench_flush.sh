#!/usr/bin/env bash
# Flushing benchmark of bufpool_ext: how fast the page cleaners write
# dirty pages, against the disk's own rate for the same writes (fio), and
# what bufpool_ext.doublewrite costs them.  Run by scripts/bench.sh, or
# alone:
#   BPX_SKIP_BUILD=1 bash scripts/bench_flush.sh
#
# Starts a throwaway cluster under tmp/bench_flush (port $BPX_FLUSH_PORT,
# socket in /tmp, no TCP) with 8 kB pages, a 512 MB pool in 2 instances
# served by 2 page cleaners, fsync ON (the common benchmark settings turn
# it off; here the fsyncs are part of what is measured), and the cleaners'
# pacing lifted (io_capacity_max 1000000, max_dirty_pages_pct 0) so a pass
# writes every dirty page at full speed.  A space of BPX_FLUSH_PAGES pages
# is created; then per repetition, for each case (the order of the cases
# alternates between repetitions, so a slow spell of the machine does not
# land on one case only):
#
#   cleaners, doublewrite on / off: with the cleaners paused, every page
#     of the space is made dirty (bufpool.write_page; the session sets
#     flush_log_at_commit = 0, the log writer makes the redo durable and
#     the write-ahead rule of each write round waits for it), then the
#     cleaners are resumed and the time from the reload to the moment
#     nothing is dirty and both cleaners are back asleep (their last
#     fsync done) is taken inside a backend that polls every 2 ms.
#   session flush(), doublewrite on / off: the same dirty pages written
#     by bufpool.flush() in one backend (the same write rounds), timed
#     around the call.
#
# The peer is fio (Debian's package): the same bytes, the same page size
# and the same queue depth as the cleaners (2 jobs, each one synchronous
# 8 kB pwrite at a time, sequential within its own file, as a flush-list
# batch of pages made dirty in page order is), then fsync; the median of
# BPX_FLUSH_FIO_REPS runs.  Targets: cleaners >= 80% of fio's rate (issue
# "flushing"), doublewrite on/off >= 0.80 (InnoDB's bar).
#
# Tables go to stdout and, with every run and the machine, to
# bench/results/flush.md and bench/results/flush.csv.  The server is
# stopped on exit.
#
#   BPX_FLUSH_PORT      port / socket number (default 5525)
#   BPX_FLUSH_PAGES     dirty pages per run (default 50000, 391 MB)
#   BPX_FLUSH_REPS      repetitions per case (default 5)
#   BPX_FLUSH_FIO_REPS  fio runs (default 3)
#   BPX_FLUSH_BATCH_PAGES  bufpool_ext.doublewrite_batch_pages (default 128)
#   BPX_SKIP_BUILD=1    do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_FLUSH_PORT:-5525}"
N_PAGES="${BPX_FLUSH_PAGES:-50000}"
REPS="${BPX_FLUSH_REPS:-5}"
FIO_REPS="${BPX_FLUSH_FIO_REPS:-3}"
BATCH="${BPX_FLUSH_BATCH_PAGES:-128}"
CLEANERS="${BPX_FLUSH_CLEANERS:-2}"
PAGE=8192
FIO_TARGET=0.80
DBLWR_TARGET=0.80
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/flush.md"
CSV="$RESULTS_DIR/flush.csv"

command -v fio >/dev/null || die "fio is not installed (make deps installs it)"
bench_prepare bench_flush

# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

# ---------------------------------------------------------------- fio peer
# On the same filesystem as the cluster, files the size of one cleaner's
# share, laid out (and overwritten once) before the timed runs.
FIO_DIR="$BENCH/fio"
rm -rf "$FIO_DIR"
mkdir -p "$FIO_DIR"
FIO_MB=$((N_PAGES * PAGE / CLEANERS / 1048576))
fio_run() { # fio_run [MB per job]: pages/s
    fio --name=peer --directory="$FIO_DIR" --numjobs="$CLEANERS" --size="${1:-$FIO_MB}m" \
        --bs="$PAGE" --rw=write --ioengine=psync --iodepth=1 --end_fsync=1 \
        --overwrite=1 --group_reporting --output-format=terse --terse-version=3 2>&1 |
        awk -F';' -v bs="$PAGE" '{ printf "%.0f", $48 * 1024 / bs }'   # write KiB/s -> pages/s
}
# fio_series MB WHAT: an untimed run (layout + first overwrite), then
# FIO_REPS runs of MB per job, one pages/s figure per line
fio_series() {
    local r v
    fio_run "$1" >/dev/null
    for ((r = 1; r <= FIO_REPS; r++)); do
        v=$(fio_run "$1")
        log "fio run $r$2: $v pages/s" >&2
        echo "$v"
    done
}
log "fio: $CLEANERS jobs x ${FIO_MB} MB, ${PAGE}-byte psync writes, fsync at the end"
mapfile -t FIO_RUNS < <(fio_series "$FIO_MB" "")
FIO_PPS=$(median "${FIO_RUNS[@]}")
# Doublewrite puts every page out twice.  The disk's rate for twice the
# bytes (same jobs, files twice the size) bounds what the cleaners can
# reach with doublewrite on when the disk is the limit.
log "fio, twice the bytes: $CLEANERS jobs x $((2 * FIO_MB)) MB"
mapfile -t FIO2_RUNS < <(fio_series $((2 * FIO_MB)) ", twice the bytes")
FIO2_PPS=$(median "${FIO2_RUNS[@]}")
rm -rf "$FIO_DIR"

# ---------------------------------------------------------------- server
bench_initdb bufpool_flush.conf
bench_write_conf bufpool_flush.conf <<EOF
fsync = on
bufpool_ext.size = '512MB'
bufpool_ext.chunk_size = '64MB'
bufpool_ext.instances = $CLEANERS
bufpool_ext.page_cleaners = $CLEANERS
bufpool_ext.io_capacity = 1000000
bufpool_ext.io_capacity_max = 1000000
bufpool_ext.max_dirty_pages_pct = 0
bufpool_ext.max_dirty_pages_pct_lwm = 0
bufpool_ext.doublewrite_batch_pages = $BATCH
EOF
bench_start
q "CREATE EXTENSION bufpool_ext;" >/dev/null
q "CREATE EXTENSION bufpool_test;" >/dev/null
bench_wait_ready
# The cleaners are paused between cases (the test module's fault point
# page-cleaner-pass): each case dirties the whole space first, then the
# cleaners case resumes them and times their flush of it (run_case).
q "SELECT bufpool_test.fault_attach('page-cleaner-pass', 'skip');" >/dev/null
SPACE_ID=$(q "SELECT bufpool.create_space('flush_bench', $N_PAGES);")

# Both timing functions return: pages written, seconds, doublewrite
# writes, doublewrite fdatasyncs (deltas of bufpool.doublewrite).
q "CREATE FUNCTION bench_session_flush() RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
    n bigint;
    w0 bigint; s0 bigint;
BEGIN
    SELECT writes, dblwr_syncs INTO w0, s0 FROM bufpool.doublewrite;
    t0 := clock_timestamp();
    n := bufpool.flush();
    RETURN n || ' ' || extract(epoch FROM clock_timestamp() - t0) || ' ' ||
        (SELECT (writes - w0) || ' ' || (dblwr_syncs - s0) FROM bufpool.doublewrite);
END \$\$;" >/dev/null
# Resuming the cleaners starts the clock; the reload wakes them at once
# (SIGHUP sets their latches), as a pass would start on its own.  Done when nothing is dirty and every cleaner is
# asleep again (wait event Extension: its latch; its file I/O shows as IO).
q "CREATE FUNCTION bench_cleaner_flush(n_dirty bigint) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
    t1 timestamptz;
    w0 bigint; s0 bigint;
    dirty bigint;
BEGIN
    SELECT writes, dblwr_syncs INTO w0, s0 FROM bufpool.doublewrite;
    t0 := clock_timestamp();
    PERFORM bufpool_test.fault_detach('page-cleaner-pass');
    PERFORM pg_reload_conf();
    FOR i IN 1 .. 60000 LOOP
        PERFORM pg_sleep(0.002);
        PERFORM pg_stat_clear_snapshot();
        SELECT sum(modified_database_pages) INTO dirty FROM bufpool.stats;
        IF dirty = 0 AND NOT EXISTS (
                SELECT 1 FROM pg_stat_activity
                WHERE backend_type LIKE '%page cleaner%'
                  AND wait_event_type IS DISTINCT FROM 'Extension') THEN
            t1 := clock_timestamp();
            RETURN n_dirty || ' ' || extract(epoch FROM t1 - t0) || ' ' ||
                (SELECT (writes - w0) || ' ' || (dblwr_syncs - s0) FROM bufpool.doublewrite);
        END IF;
    END LOOP;
    RAISE EXCEPTION 'the page cleaners did not write % dirty pages within 120 s (% still dirty)', n_dirty, dirty;
END \$\$;" >/dev/null

N_CLEANERS=$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE '%page cleaner%';")
[ "$N_CLEANERS" -eq "$CLEANERS" ] || die "expected $CLEANERS page cleaners in pg_stat_activity, found $N_CLEANERS"

set_conf() { # set_conf NAME VALUE: ALTER SYSTEM + reload, wait until it shows
    q "ALTER SYSTEM SET $1 = $2;" >/dev/null
    q "SELECT pg_reload_conf();" >/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(q "SHOW $1;")" = "$2" ] && return 0
        sleep 0.1
    done
    die "$1 did not become $2"
}

dirty_all() {
    q "SET bufpool_ext.flush_log_at_commit = 0;
       SELECT count(bufpool.write_page($SPACE_ID, p, convert_to('flush bench ' || p || ' ' || clock_timestamp(), 'UTF8'), 0))
       FROM generate_series(0, $N_PAGES - 1) p;" >/dev/null
}

# run_case CASE (cleaners-on, cleaners-off, session-on, session-off)
OUT=
run_case() {
    local who=${1%-*} mode=${1#*-}
    set_conf bufpool_ext.doublewrite "$mode"
    dirty_all
    if [ "$who" = cleaners ]; then
        # a cleaner starts a full pass at most once a second: let the
        # second since the last case's pass run out, or its pass waits
        sleep 1.1
        OUT=$(q "SELECT bench_cleaner_flush($N_PAGES);")
        q "SELECT bufpool_test.fault_attach('page-cleaner-pass', 'skip');" >/dev/null
    else
        OUT=$(q "SELECT bench_session_flush();")
    fi
}

# untimed: the space's file blocks allocated, every page flushed once
set_conf bufpool_ext.doublewrite on
dirty_all
q "SELECT bufpool.flush();" >/dev/null

CASES=(cleaners-on cleaners-off session-on session-off)
declare -A PPS=() DW=()
RAW=()
CSV_ROWS=()
T0=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= REPS; r++)); do
    if ((r % 2)); then order=("${CASES[@]}"); else order=(session-off session-on cleaners-off cleaners-on); fi
    for c in "${order[@]}"; do
        run_case "$c"
        read -r n secs writes dsyncs <<<"$OUT"
        [ "$n" -eq "$N_PAGES" ] || die "$c wrote $n pages, expected $N_PAGES"
        pps=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
        log "repetition $r, $c: $n pages in ${secs}s = $pps pages/s ($writes doublewrite writes, $dsyncs fdatasyncs)"
        PPS[$c]="${PPS[$c]:-}${PPS[$c]:+ }$pps"
        DW[$c]="$writes"
        RAW+=("| $r | $c | $n | $secs | $pps | $writes | $dsyncs |")
        CSV_ROWS+=("run,$r,$c,$n,$secs,$pps,$writes,$dsyncs")
    done
done
ELAPSED=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A MED=()
for c in "${CASES[@]}"; do
    # shellcheck disable=SC2086  # split the list of figures
    MED[$c]=$(median ${PPS[$c]})
done
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { print (x >= t ? "PASS" : "FAIL") }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

R_ON_FIO=$(ratio "${MED[cleaners-on]}" "$FIO_PPS")
R_OFF_FIO=$(ratio "${MED[cleaners-off]}" "$FIO_PPS")
R_CL_DW=$(ratio "${MED[cleaners-on]}" "${MED[cleaners-off]}")
R_SE_DW=$(ratio "${MED[session-on]}" "${MED[session-off]}")
# best on/off the disk allows: on writes 2 pages per page, at most the
# disk's rate for twice the bytes, so on <= FIO2 / 2; the bound is that
# over what off reached (1.00 if off is so slow the disk is not the limit)
DW_BOUND_PPS=$(awk -v f="$FIO2_PPS" 'BEGIN { printf "%.0f", f / 2 }')
R_DW_BOUND=$(awk -v b="$DW_BOUND_PPS" -v off="${MED[cleaners-off]}" 'BEGIN { x = b / off; printf "%.2f", (x > 1 ? 1 : x) }')

TABLE=$(cat <<EOF
| measure | bufpool_ext, pages/s | peer | peer, pages/s | ratio | target | verdict |
|---|---|---|---|---|---|---|
| page cleaners, doublewrite on (default) | ${MED[cleaners-on]} | fio, same writes | $FIO_PPS | $R_ON_FIO | >= $FIO_TARGET | $(verdict "$R_ON_FIO" "$FIO_TARGET") |
| page cleaners, doublewrite off | ${MED[cleaners-off]} | fio, same writes | $FIO_PPS | $R_OFF_FIO | >= $FIO_TARGET | $(verdict "$R_OFF_FIO" "$FIO_TARGET") |
| page cleaners: doublewrite cost | ${MED[cleaners-on]} | cleaners, doublewrite off | ${MED[cleaners-off]} | $R_CL_DW | >= $DBLWR_TARGET | $(verdict "$R_CL_DW" "$DBLWR_TARGET") |
| page cleaners: best doublewrite on/off the disk allows | $DW_BOUND_PPS (fio, twice the bytes, / 2) | cleaners, doublewrite off | ${MED[cleaners-off]} | $R_DW_BOUND | - | - |
| one session's flush(): doublewrite cost | ${MED[session-on]} | flush(), doublewrite off | ${MED[session-off]} | $R_SE_DW | >= $DBLWR_TARGET | $(verdict "$R_SE_DW" "$DBLWR_TARGET") |
EOF
)
echo
echo "$TABLE"
echo

mkdir -p "$RESULTS_DIR"
{
    echo "kind,repetition,case,pages,seconds,pages_per_s,dblwr_writes,dblwr_fdatasyncs"
    printf '%s\n' "${CSV_ROWS[@]}"
    for ((r = 0; r < ${#FIO_RUNS[@]}; r++)); do
        echo "fio,$((r + 1)),fio,,,${FIO_RUNS[$r]},,"
    done
    for ((r = 0; r < ${#FIO2_RUNS[@]}; r++)); do
        echo "fio,$((r + 1)),fio-twice-the-bytes,,,${FIO2_RUNS[$r]},,"
    done
} >"$CSV"
cat >"$RESULTS" <<EOF
# Flushing: page cleaners against the disk, and the cost of doublewrite

Written by scripts/bench_flush.sh (\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)
- Load average before / after: $LOAD_BEFORE / $LOAD_AFTER
- fio: $(fio --version)

## What is measured

$N_PAGES pages of a bufpool space (8 kB pages, $((N_PAGES * PAGE / 1048576)) MB) are
made dirty with \`bufpool.write_page\` while the page cleaners are paused.

- **Page cleaners**: the $CLEANERS cleaners (one per instance) are resumed
  with their pacing lifted (io_capacity_max = 1000000,
  max_dirty_pages_pct = 0), so one pass writes every dirty page of its
  instance in flush-list order and fsyncs.  The time runs from the
  configuration reload that resumes them to the moment nothing is dirty
  and both are asleep again, polled every 2 ms by a backend.
- **Session flush()**: \`bufpool.flush()\` in one backend writes the same
  pages through the same write rounds, timed around the call.
- **Doublewrite on** (the default): each round of at most
  doublewrite_batch_pages ($BATCH) pages is written to the writer's region of
  \`bufpool_ext/doublewrite\` and fdatasynced, then written in place, and
  the data files are fsynced before the region is used again.  **Off**:
  written in place, fsync at the end of the pass.
- **fio** (the peer): $CLEANERS jobs, each writing ${FIO_MB} MB with ${PAGE}-byte
  synchronous pwrites (psync, queue depth 1 per job, as each cleaner
  writes one page at a time), sequentially in its own file, then fsync;
  on the same filesystem, files laid out and overwritten once first.
  Median of $FIO_REPS runs: $(printf '%s ' "${FIO_RUNS[@]}")pages/s.
- **fio, twice the bytes**: the same jobs with files twice the size, the
  bytes the cleaners put out with doublewrite on (every page goes to the
  doublewrite file and in place).  Median of $FIO_REPS runs:
  $(printf '%s ' "${FIO2_RUNS[@]}")pages/s.  Half of it is the most the
  cleaners can write with doublewrite on when the disk is the limit; the
  row "best doublewrite on/off the disk allows" sets it against the
  cleaners' rate with doublewrite off.  When that bound is below the
  target, no doublewrite scheme that writes every page twice can meet the
  target on this disk: the cleaners alone already use most of its rate.

Cases alternate in order between repetitions; each figure is the median
of $REPS.  Settings: fsync = on, 512 MB pool in $CLEANERS instances,
bufpool_ext.page_cleaners = $CLEANERS.  Benchmark time: ${ELAPSED} s.

## Results

$TABLE

## Every run

| repetition | case | pages | seconds | pages/s | doublewrite writes | doublewrite fdatasyncs |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${RAW[@]}")
EOF
log "results written to $RESULTS and $CSV (benchmark time ${ELAPSED} s)"
