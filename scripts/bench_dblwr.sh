#!/usr/bin/env bash
# Doublewrite benchmark of bufpool_ext: what bufpool_ext.doublewrite costs
# the flushing of dirty pages.  Run by scripts/bench.sh, or alone:
#   BPX_SKIP_BUILD=1 bash scripts/bench_dblwr.sh
#
# Starts a throwaway cluster under tmp/bench_dblwr (port $BPX_DBLWR_PORT,
# socket in /tmp, no TCP) with 8 kB pages, a 512 MB pool in one instance,
# the page cleaners paused and fsync ON (the common benchmark settings
# turn it off; here the fsyncs are what is measured).  A space of
# BPX_DBLWR_PAGES pages is created; then, per repetition and per mode
# (doublewrite on, off; the order alternates between repetitions so a
# slow spell of the machine does not land on one mode only):
#
#   1. bufpool_ext.doublewrite is set by ALTER SYSTEM + reload;
#   2. every page of the space is written (bufpool.write_page): dirty;
#   3. bufpool.flush() writes and fsyncs them all; its duration is taken
#      inside the backend (clock_timestamp around the call) -> pages/s.
#
# bufpool.flush() goes through the same write rounds as the page
# cleaners' flush-list batches (bp_flush_blocks; the cleaners use their
# own doublewrite region, a session one of the shared ones).  The figure
# is the median of the repetitions per mode; the ratio on/off is the
# issue's target (doublewrite costs at most 20%: ratio >= 0.80).  With
# BPX_DBLWR_BATCH_PAGES set to several values (bufpool_ext.
# doublewrite_batch_pages, a startup setting) the whole set runs for each,
# restarting the server in between.
#
# Tables go to stdout and, with every run and the machine, to
# bench/results/dblwr.md.  The server is stopped on exit.
#
#   BPX_DBLWR_PORT         port / socket number (default 5525)
#   BPX_DBLWR_PAGES        dirty pages per flush (default 50000, 391 MB)
#   BPX_DBLWR_REPS         repetitions per mode (default 3)
#   BPX_DBLWR_BATCH_PAGES  doublewrite_batch_pages values (default "128")
#   BPX_SKIP_BUILD=1       do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_DBLWR_PORT:-5525}"
N_PAGES="${BPX_DBLWR_PAGES:-50000}"
REPS="${BPX_DBLWR_REPS:-3}"
BATCH_LIST="${BPX_DBLWR_BATCH_PAGES:-128}"
RATIO_MIN=0.80
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/dblwr.md"

if [ "${BPX_SKIP_BUILD:-0}" != 1 ]; then
    bash "$REPO/scripts/build.sh"
fi

BENCH=$(pick_scratch_dir "$REPO/tmp/bench_dblwr" /tmp/bufpool_ext-bench_dblwr)
# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

start_server() { # start_server BATCH_PAGES
    log "bufpool_ext.doublewrite_batch_pages = $1"
    bench_write_conf bufpool_dblwr.conf <<EOF
fsync = on
bufpool_ext.size = '512MB'
bufpool_ext.chunk_size = '64MB'
bufpool_ext.instances = 1
bufpool_ext.doublewrite_batch_pages = $1
EOF
    bench_start
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

bench_initdb bufpool_dblwr.conf
first_batch=${BATCH_LIST%% *}
start_server "$first_batch"
q "CREATE EXTENSION bufpool_ext;" >/dev/null
SPACE_ID=$(q "SELECT bufpool.create_space('dblwr_bench', $N_PAGES);")
# flush() timed inside the backend, with the doublewrite counters around it
q "CREATE FUNCTION bench_flush() RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
    n bigint;
    w0 bigint; s0 bigint; d0 bigint;
    w1 bigint; s1 bigint; d1 bigint;
BEGIN
    SELECT writes, dblwr_syncs, data_syncs INTO w0, s0, d0 FROM bufpool.doublewrite;
    t0 := clock_timestamp();
    n := bufpool.flush();
    RETURN n || ' ' || extract(epoch FROM clock_timestamp() - t0) || ' ' ||
        (SELECT (writes - w0) || ' ' || (dblwr_syncs - s0) || ' ' || (data_syncs - d0)
         FROM bufpool.doublewrite);
END \$\$;" >/dev/null

set_mode() { # set_mode on|off, then wait until new sessions see it
    q "ALTER SYSTEM SET bufpool_ext.doublewrite = $1;" >/dev/null
    q "SELECT pg_reload_conf();" >/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(q "SHOW bufpool_ext.doublewrite;")" = "$1" ] && return 0
        sleep 0.1
    done
    die "bufpool_ext.doublewrite did not become $1"
}

dirty_all() {
    q "SELECT count(bufpool.write_page($SPACE_ID, p, convert_to('bench ' || p || ' ' || clock_timestamp(), 'UTF8'), 0))
       FROM generate_series(0, $N_PAGES - 1) p;" >/dev/null
}

ROWS=()
RAW=()
T0=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for batch in $BATCH_LIST; do
    if [ "$batch" != "$first_batch" ]; then
        stop_server
        start_server "$batch"
    fi
    declare -A PPS=() WRITES=() SYNCS=()
    # a first flush of every page (file blocks allocated), not timed
    set_mode on
    dirty_all
    q "SELECT bufpool.flush();" >/dev/null
    for ((r = 1; r <= REPS; r++)); do
        if ((r % 2)); then order="on off"; else order="off on"; fi
        for mode in $order; do
            set_mode "$mode"
            dirty_all
            out=$(q "SELECT bench_flush();")
            read -r n secs writes dsyncs datasyncs <<<"$out"
            [ "$n" -eq "$N_PAGES" ] || die "flush wrote $n pages, expected $N_PAGES"
            pps=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
            log "batch $batch, repetition $r, doublewrite $mode: $n pages in ${secs}s = $pps pages/s ($writes doublewrite writes, $dsyncs doublewrite fdatasyncs, $datasyncs data-file sync rounds)"
            PPS[$mode]="${PPS[$mode]:-}${PPS[$mode]:+ }$pps"
            WRITES[$mode]=$writes
            SYNCS[$mode]="$dsyncs + $datasyncs"
            RAW+=("| $batch | $r | $mode | $n | $secs | $pps | $writes | $dsyncs | $datasyncs |")
        done
    done
    # shellcheck disable=SC2086  # split the list of figures
    on=$(median ${PPS[on]})
    # shellcheck disable=SC2086
    off=$(median ${PPS[off]})
    ROWS+=("$(awk -v b="$batch" -v on="$on" -v off="$off" -v ron="${PPS[on]}" -v roff="${PPS[off]}" \
        -v w="${WRITES[on]}" -v n="$N_PAGES" -v lim="$RATIO_MIN" 'BEGIN {
            x = on / off;
            printf "| %s | %d | %d | %.2f | %s | %.0f | %s | %s |", b, on, off, x,
                (x >= lim ? "PASS" : "FAIL"), (w > 0 ? n / w : 0), ron, roff }')")
done
ELAPSED=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

TABLE=$(printf '%s\n' \
    "| batch pages | doublewrite on, pages/s | off, pages/s | on / off | target >= $RATIO_MIN | pages per doublewrite write | runs on | runs off |" \
    "|---|---|---|---|---|---|---|---|" "${ROWS[@]}")
echo
echo "$TABLE"
echo

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Doublewrite: cost on flushing

Written by scripts/bench_dblwr.sh (\`make bench\`) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)
- Load average before / after: $LOAD_BEFORE / $LOAD_AFTER

## What is measured

$N_PAGES pages of a bufpool space (8 kB pages, $((N_PAGES * 8 / 1024)) MB) are
made dirty with \`bufpool.write_page\`, then \`bufpool.flush()\` writes and
fsyncs them; its duration is taken in the backend around the call.
Pages per second = pages / duration.  With doublewrite on, each round of
at most doublewrite_batch_pages pages is copied, written to a region of
\`bufpool_ext/doublewrite\` and fdatasynced, written in place, and the
data file is fsynced before the region is reused; with it off, the
pages are written in place and the data file fsynced once at the end.
The two modes alternate (on/off, then off/on, ...), $REPS runs each; the
figure is the median.  Settings: fsync = on, 512 MB pool, 1 instance,
page cleaners paused (\`bufpool.flush()\` runs the same write rounds as
their flush-list batches), the space's blocks allocated by an untimed
first flush.  Total run time: ${ELAPSED} s.

## Results

$TABLE

## Every run

| batch pages | repetition | doublewrite | pages | seconds | pages/s | doublewrite writes | doublewrite fdatasyncs | data-file sync rounds |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${RAW[@]}")
EOF
log "results written to $RESULTS (benchmark time ${ELAPSED} s)"
