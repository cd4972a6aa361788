#!/usr/bin/env bash
# Memory-governor benchmark of bufpool_ext (src/workers/governor.c): what
# the governor does against a real memory hog in a real memory cgroup,
# how fast the memory goes back to the kernel, what that costs page
# fetches, and what the governor costs the hit path.  Run by
# scripts/bench.sh, or alone (as root):
#   BPX_SKIP_BUILD=1 bash scripts/bench_governor.sh
#
# Needs root, as make bench: it makes a memory cgroup under its own
# (cgroup v1 memory hierarchy, or v2 with the memory controller), as
# scripts/test.sh does for TAP 025_memory_governor, named
# bufpool_ext_bench_governor, with a limit of BPX_GOV_LIMIT_MB, and
# starts the cluster (port $BPX_GOV_PORT, socket in /tmp, no TCP) inside
# it: 8 kB pages, a pool of BPX_GOV_POOL_MB in 64 MB chunks, 1 instance,
# memory_governor = on, min_size 64 MB, regrow_delay 2 s, the bands and
# PSI thresholds at their defaults.  Without root or without a memory
# cgroup it says why and exits 0 (results file untouched).
#
#  1. Governor on.  A space larger than the pool is read through it (the
#     pool full), a hot set of 4000 pages read, then the working set of
#     the cgroup (usage - total_inactive_file, as the governor computes
#     it) is taken as ws0.  A sampler (outside the cgroup, every 150 ms)
#     writes the cgroup's limit, usage, working set, the hog's RSS, PSI
#     some/full avg10 (/proc/pressure/memory on v1: the machine's), the
#     OOM-kill count and bufpool.memory_pressure's level and pool size.
#     One session runs bufpool_test.bench_cold_timeline over the hot set
#     (Zipf, every fetch+release timed, misses counted, 50 ms windows) the
#     whole time.
#     A perl hog in the cgroup grows 32 MB every 200 ms to 88% of the
#     limit minus ws0 (danger band: the governor shrinks a step at a
#     time), holds 10 s, grows to 96 MB more than the limit leaves
#     (emergency: straight to min_size), holds 5 s, exits; the pool then
#     grows back to its configured size.
#  2. Governor off (reload), pool full again, the same hog: expect an OOM
#     kill in the cgroup; what was killed comes from the kernel log, the
#     hog's exit status and the server log; a server that crash-restarts
#     or dies is waited for / restarted, the run does not hang.
#  3. Hit-path cost: the postmaster under valgrind --tool=callgrind
#     (outside the cgroup), instructions inside bp_bench_fetch_loop per
#     fetch+release (bench_fetch, 1000 pages, uniform) with
#     memory_governor off, on (level normal) and on with the level raised
#     by bufpool_ext.memory_limit (no shrink: min_size = pool size).
#
# Figures: per danger episode (the governor's level at danger or above),
# the time from the governor's sample that first saw danger to the pool
# at its shrink target (the last shrink of the episode finished: its
# chunks unmapped and unlinked, the memory back with the kernel) and to
# the working set back under the danger band for good, against the
# target 2 s + 0.5 s per GiB released; the fetch p99 of the 50 ms windows
# overlapping a governor shrink against the windows overlapping no
# resize (target at most 2x); the instructions per hit with the governor
# on and off (target: no difference).  Tables go to stdout and
# bench/results/governor.md; the timeline to governor_timeline.csv
# (+ governor_events.csv, governor_fetch.csv) and governor_timeline.png
# (gnuplot).  On exit the hog, the server and the cgroup are removed.
#
#   BPX_GOV_PORT       port / socket number (default 5481)
#   BPX_GOV_LIMIT_MB   the cgroup's memory limit (default 1536: the
#                      working set with the full pool, ~535 MB, at 35%,
#                      below the attention band; the governor grows the
#                      pool back only at normal, so a grow step that
#                      lands the working set at 50% or more stops it)
#   BPX_GOV_POOL_MB    bufpool_ext.size (default 512, a multiple of 64)
#   BPX_GOV_CG_OPS     fetch+release pairs counted by callgrind (default
#                      1000000; 0: no instruction counts)
#   BPX_GOV_KILL_MANAGER=1  in the control run, make the pool manager the
#                      OOM killer's first choice (oom_score_adj 1000)
#                      rather than the hog: a check that the run survives
#                      a crash restart of the server, not a benchmark
#   BPX_SKIP_BUILD=1   do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_GOV_PORT:-5481}"
LIMIT_MB="${BPX_GOV_LIMIT_MB:-1536}"
POOL_MB="${BPX_GOV_POOL_MB:-512}"
CG_OPS="${BPX_GOV_CG_OPS:-1000000}"
KILL_MANAGER="${BPX_GOV_KILL_MANAGER:-0}"
CHUNK_MB=64
MIN_MB=64
REGROW_S=2
HOT_PAGES=4000
FILL_PAGES=$((POOL_MB * 1048576 / 8192 + 8192))
SAMPLE_MS=150
WINDOW_MS=50
LEAD_S=4              # steady state before the hog
HOG_STEP_MB=32
HOG_STEP_MS=200
DANGER_FILL_PCT=88    # phase 1: the hog takes the working set here
HOLD1_S=10
OVER_MB=96            # phase 2: this much more than the limit leaves
HOLD2_S=5
DANGER_PCT=85         # bufpool_ext.memory_danger_pct (default)
# targets of the issue
RELEASE_S=2
RELEASE_S_PER_GIB=0.5
P99_RATIO_MAX=2.0
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/governor.md"
TL_CSV="$RESULTS_DIR/governor_timeline.csv"
EV_CSV="$RESULTS_DIR/governor_events.csv"
FETCH_CSV="$RESULTS_DIR/governor_fetch.csv"
PNG="$RESULTS_DIR/governor_timeline.png"

# ---------------------------------------------------------------- the cgroup
[ "$(id -u)" -eq 0 ] || {
    log "bench_governor: skipped: it must run as root (to make a memory cgroup), as make bench does"
    exit 0
}
CG=""
cg_v1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
cg_v2=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
if [ -n "$cg_v1" ] && [ -f "/sys/fs/cgroup/memory$cg_v1/memory.limit_in_bytes" ]; then
    CG="/sys/fs/cgroup/memory${cg_v1%/}/bufpool_ext_bench_governor"
    CG_KIND="cgroup v1"
elif [ -n "$cg_v2" ] && grep -qw memory "/sys/fs/cgroup$cg_v2/cgroup.controllers" 2>/dev/null; then
    CG="/sys/fs/cgroup${cg_v2%/}/bufpool_ext_bench_governor"
    CG_KIND="cgroup v2"
fi
[ -n "$CG" ] || {
    log "bench_governor: skipped: no memory cgroup to make one under (neither a cgroup v1 memory hierarchy nor a v2 one with the memory controller)"
    exit 0
}
if [ "$CG_KIND" = "cgroup v1" ]; then
    F_LIMIT=memory.limit_in_bytes F_USAGE=memory.usage_in_bytes F_INACT=total_inactive_file
    F_OOM=memory.oom_control PSI_FILE=/proc/pressure/memory
else
    F_LIMIT=memory.max F_USAGE=memory.current F_INACT=inactive_file
    F_OOM=memory.events PSI_FILE="$CG/memory.pressure"
fi

# cg_remove: kill (by pid) what is left in the cgroup -- only this script's
# server and hog run there -- and remove it
cg_remove() {
    local i pids
    [ -d "$CG" ] || return 0
    for i in $(seq 1 50); do
        pids=$(cat "$CG/cgroup.procs" 2>/dev/null || true)
        [ -z "$pids" ] && break
        # shellcheck disable=SC2086  # one pid per word
        kill -9 $pids 2>/dev/null || true
        sleep 0.1
    done
    rmdir "$CG" 2>/dev/null || warn "could not remove $CG"
}
bench_prepare bench_governor
# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

# in_cgroup CMD...: CMD with this process image moved into the cgroup first
in_cgroup() { # it execs: run it in a subshell
    exec sh -c 'echo $$ > "$1/cgroup.procs" || exit 97; shift; exec "$@"' sh "$CG" "$@"
}

HOG_PID=""
SAMPLER_PID=""
FETCH_PID=""
cleanup() {
    local p
    for p in $SAMPLER_PID $FETCH_PID; do kill "$p" 2>/dev/null || true; done
    touch "$OUT/stop.on" "$OUT/stop.off" 2>/dev/null || true
    if [ -n "$HOG_PID" ]; then kill -9 "$HOG_PID" 2>/dev/null || true; fi
    if [ -s "$OUT/hog.pid" ]; then kill -9 "$(cat "$OUT/hog.pid")" 2>/dev/null || true; fi
    stop_server
    cg_remove
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cg_remove
mkdir "$CG" 2>/dev/null || {
    log "bench_governor: skipped: cannot make the memory cgroup $CG"
    exit 0
}
echo $((LIMIT_MB * 1048576)) >"$CG/$F_LIMIT" || { rmdir "$CG"; die "cannot set $CG/$F_LIMIT"; }


PSQL_ROOT=("$PGBIN/psql" -X -q -At -h /tmp -p "$PORT" -U postgres -d postgres)

# ---------------------------------------------------------------- cluster
bench_initdb bufpool_governor.conf
write_conf() { # write_conf SIZE_MB MIN_MB: the server's settings
    bench_write_conf bufpool_governor.conf <<EOF
shared_buffers = '16MB'
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = '1h'
bufpool_ext.size = '${1}MB'
bufpool_ext.chunk_size = '${CHUNK_MB}MB'
bufpool_ext.instances = 1
bufpool_ext.memory_governor = on
bufpool_ext.min_size = '${2}MB'
bufpool_ext.regrow_delay = '${REGROW_S}s'
bufpool_ext.load_at_startup = off
bufpool_ext.dump_at_shutdown = off
EOF
}
write_conf "$POOL_MB" "$MIN_MB"
cg_start() {
    log "starting the server in $CG (port $PORT, log: $LOGFILE)"
    (cd "$BENCH" && in_cgroup runuser -u "$PG_OS_USER" -- "${PG_CTL[@]}" -l "$LOGFILE" -w -t 120 start >/dev/null) ||
        { server_log_tail; die "the benchmark server did not start"; }
}
cg_start
q "CREATE EXTENSION bufpool_ext;" >/dev/null
q "CREATE EXTENSION bufpool_test;" >/dev/null
bench_wait_ready
q "CREATE TABLE fetch_windows (run text, window_start timestamptz, ops bigint, hits bigint, mean_ns float8,
    p50_ns float8, p99_ns float8, p999_ns float8, max_ns float8);
CREATE TABLE gov_log AS SELECT 'on'::text AS run, * FROM bufpool.memory_governor_log LIMIT 0;" >/dev/null
FILL_ID=$(q "SELECT bufpool.create_space('governor_fill', $FILL_PAGES);")
HOT_ID=$(q "SELECT bufpool.create_space('governor_hot', $HOT_PAGES);")
SRC=$(q "SELECT source || ' ' || source_path FROM bufpool.memory_pressure;")
log "the governor reads: $SRC"
case "$SRC" in
    "$CG_KIND $CG"*) ;;
    *) die "the server does not read its cgroup $CG ($SRC)" ;;
esac

mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
cg_ws() { # the cgroup's working set in bytes
    local u i k v
    read -r u <"$CG/$F_USAGE"
    while read -r k v; do [ "$k" = "$F_INACT" ] && i=$v; done <"$CG/memory.stat"
    echo $((u - ${i:-0}))
}
oom_kills() { awk '/^oom_kill / { print $2 }' "$CG/$F_OOM"; }
pool_mb() { q "SELECT current_size / 1048576 FROM bufpool.memory_pressure;"; }

fill() { # every page of the fill space, then the hot set, through the pool
    q "SELECT count(*) FROM generate_series(0, $FILL_PAGES - 1) g, LATERAL bufpool.fetch_page($FILL_ID, g) f;" >/dev/null
    q "SELECT count(*) FROM generate_series(0, $HOT_PAGES - 1) g, LATERAL bufpool.fetch_page($HOT_ID, g) f;" >/dev/null
}

# sampler RUN: every SAMPLE_MS until $OUT/stop.RUN exists, one line of
# $OUT/samples.RUN: epoch, limit, usage, inactive file, hog RSS kB, OOM
# kills, PSI some avg10, full avg10, then bufpool.memory_pressure's mode,
# level, pool MB, the governor's working set MB (empty if the server does
# not answer); bufpool.resize_status rows go to $OUT/resizes.RUN
sampler() {
    local run=$1 stop="$OUT/stop.$1" f="$OUT/samples.$1" t0 lim use inact k v a rss oom some full hp out row dt
    local q1="SELECT concat_ws(',', mode, level, current_size / 1048576, round(working_set / 1048576.0, 1)) FROM bufpool.memory_pressure"
    local q2="SELECT concat_ws(',', 'R', resize_id, source, from_size, to_size, extract(epoch FROM started), extract(epoch FROM finished), phase) FROM bufpool.resize_status WHERE NOT is_current"
    : >"$f"
    : >"$OUT/resizes.$run"
    while [ ! -e "$stop" ]; do
        t0=${EPOCHREALTIME/./}
        read -r lim <"$CG/$F_LIMIT"
        read -r use <"$CG/$F_USAGE"
        inact=0
        while read -r k v; do [ "$k" = "$F_INACT" ] && inact=$v; done <"$CG/memory.stat"
        oom=0
        while read -r k v; do [ "$k" = oom_kill ] && oom=$v; done <"$CG/$F_OOM"
        some="" full=""
        while read -r k a _; do
            case $k in some) some=${a#avg10=} ;; full) full=${a#avg10=} ;; esac
        done <"$PSI_FILE"
        rss=0
        hp=$(cat "$OUT/hog.pid" 2>/dev/null || true)
        if [ -n "$hp" ] && [ -r "/proc/$hp/status" ]; then
            while read -r k v _; do [ "$k" = VmRSS: ] && rss=$v; done <"/proc/$hp/status" 2>/dev/null || true
        fi
        out=$(timeout 2 "${PSQL_ROOT[@]}" -c "$q1" -c "$q2" 2>/dev/null || true)
        row=$(printf '%s\n' "$out" | grep -v '^R,' | head -n 1 || true)
        [ -n "$row" ] || row=",,,"
        printf '%s\n' "$out" | grep '^R,' >>"$OUT/resizes.$run" || true
        echo "${t0:0:-6}.${t0: -6},$lim,$use,$inact,$rss,$oom,$some,$full,$row" >>"$f"
        dt=$((SAMPLE_MS * 1000 - (${EPOCHREALTIME/./} - t0)))
        [ "$dt" -gt 0 ] && sleep "$(printf '0.%06d' "$dt")"
    done
}

# the hog: grows HOG_STEP_MB every HOG_STEP_MS to each MB:HOLD_S target
# of its plan and holds it; its pid in $OUT/hog.pid, a line per step on stdout
# shellcheck disable=SC2016  # perl, not shell
HOG_PL='use Time::HiRes qw(time sleep);
my ($pidfile, $step, $ms, @plan) = @ARGV;
open my $f, ">", $pidfile or die "$pidfile: $!"; print $f "$$\n"; close $f;
$| = 1; my @m; my $have = 0;
for my $p (@plan) {
    my ($to, $hold) = split /:/, $p;
    while ($have + $step <= $to) {
        my $s = "x" x ($step << 20); push @m, \$s; $have += $step;
        printf "%.3f grow %d\n", time, $have; sleep($ms / 1000);
    }
    printf "%.3f hold %d\n", time, $have; sleep($hold);
}
printf "%.3f done %d\n", time, $have;'

start_hog() { # start_hog RUN: HOG_PID = a subshell waiting for the hog
    rm -f "$OUT/hog.pid"
    # the subshell exits with the hog's status: the "Killed" notice of an
    # OOM kill goes to the hog's output, not to this script's stderr
    (
        sh -c 'echo $$ > "$1/cgroup.procs" || exit 97; shift; exec "$@"' sh "$CG" \
            setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups \
            perl -e "$HOG_PL" "$OUT/hog.pid" "$HOG_STEP_MB" "$HOG_STEP_MS" \
            "$HOG1_MB:$HOLD1_S" "$HOG2_MB:$HOLD2_S"
        exit $?
    ) >"$OUT/hog.$1" 2>&1 &
    HOG_PID=$!
}

hog_last() { # the hog's last line of progress, without its time
    grep -E '^[0-9.]+ (grow|hold|done) ' "$OUT/hog.$1" | tail -n 1 | cut -d' ' -f2-
}

# wait_hog SECONDS: wait for the hog to end; HOG_RC = its exit status
wait_hog() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        kill -0 "$HOG_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$HOG_PID" 2>/dev/null; then
        warn "the hog still runs after $1 s: killed"
        kill -9 "$(cat "$OUT/hog.pid")" 2>/dev/null || true
    fi
    HOG_RC=0
    wait "$HOG_PID" || HOG_RC=$?
    HOG_PID=""
    rm -f "$OUT/hog.pid"
}

# server_up SECONDS: wait until the pool answers "ready"; false if not
server_up() {
    local i
    for ((i = 0; i < $1 * 5; i++)); do
        [ "$(timeout 2 "${PSQL_ROOT[@]}" -c "SELECT state FROM bufpool.status();" 2>/dev/null)" = ready ] && return 0
        sleep 0.2
    done
    return 1
}

declare -A T0 HOGRC OOMD VICTIMS SERVER_AFTER HOG_LAST
DMESG_OK=1
dmesg >/dev/null 2>&1 || DMESG_OK=0
oom_lines() { # the kernel's OOM-kill lines for the cgroup
    [ "$DMESG_OK" = 1 ] || return 0
    dmesg 2>/dev/null | grep -E "oom-kill:.*bufpool_ext_bench_governor" || true
}

T_BEGIN=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# ---------------------------------------------------------------- 1. governor on
log "1. governor on: limit $LIMIT_MB MB, pool $POOL_MB MB"
fill
sleep 2
WS0_MB=$(mb "$(cg_ws)")
HOG1_MB=$(((LIMIT_MB * DANGER_FILL_PCT / 100 - WS0_MB) / HOG_STEP_MB * HOG_STEP_MB))
HOG2_MB=$(((LIMIT_MB - WS0_MB + OVER_MB + HOG_STEP_MB - 1) / HOG_STEP_MB * HOG_STEP_MB))
[ "$HOG1_MB" -ge "$HOG_STEP_MB" ] || die "the working set with the pool full ($WS0_MB MB) leaves no room below ${DANGER_FILL_PCT}% of $LIMIT_MB MB: raise BPX_GOV_LIMIT_MB"
WS0_PCT=$((WS0_MB * 100 / LIMIT_MB))
[ "$WS0_PCT" -lt 50 ] || warn "the working set with the pool full is ${WS0_PCT}% of the limit, in the attention band: the pool may not grow back fully (the governor grows only at normal, and a grow step that takes the working set to 50% stops it)"
log "  working set with the pool full: $WS0_MB MB (${WS0_PCT}%); hog: $HOG1_MB MB for ${HOLD1_S} s, then $HOG2_MB MB for ${HOLD2_S} s"
# the fetcher's length: lead, hog, regrow (a 10% step every regrow_delay
# from min_size), a tail
N_GROW=$(((POOL_MB - MIN_MB + CHUNK_MB - 1) / CHUNK_MB))
HOG_S=$(((HOG2_MB / HOG_STEP_MB) * HOG_STEP_MS / 1000 + HOLD1_S + HOLD2_S + 1))
DUR_S=$((LEAD_S + HOG_S + 4 + REGROW_S + N_GROW * REGROW_S + 3))
KILLS0=$(oom_kills)
NOOM0=$(oom_lines | wc -l)
sampler on &
SAMPLER_PID=$!
"${PSQL_ROOT[@]}" -v ON_ERROR_STOP=1 -c "INSERT INTO fetch_windows SELECT 'on', * FROM
    bufpool_test.bench_cold_timeline($HOT_ID, $HOT_PAGES, 'zipf', $((DUR_S * 1000)), $WINDOW_MS, 1);" \
    >"$OUT/fetch.on" 2>&1 &
FETCH_PID=$!
sleep "$LEAD_S"
T0[on]=$EPOCHREALTIME
start_hog on
wait_hog 120
HOGRC[on]=$HOG_RC
HOG_LAST[on]=$(hog_last on)
log "  hog: exit status $HOG_RC, last line: ${HOG_LAST[on]}"
# the pool grows back, the fetcher ends
for ((i = 0; i < 600; i++)); do
    kill -0 "$FETCH_PID" 2>/dev/null || [ "$(pool_mb)" -lt "$POOL_MB" ] || break
    sleep 0.1
done
FETCH_RC=0
wait "$FETCH_PID" || FETCH_RC=$?
FETCH_PID=""
[ "$FETCH_RC" -eq 0 ] || { cat "$OUT/fetch.on" >&2; warn "the fetching session failed"; }
sleep 1
touch "$OUT/stop.on"
wait "$SAMPLER_PID" || true
SAMPLER_PID=""
OOMD[on]=$(($(oom_kills) - KILLS0))
VICTIMS[on]=$(oom_lines | tail -n +$((NOOM0 + 1)) | sed -E 's/.*task=([^,]*),pid=([0-9]*).*/\1 (pid \2)/' | paste -sd, -)
POOL_END_ON=$(pool_mb)
q "INSERT INTO gov_log SELECT 'on', * FROM bufpool.memory_governor_log;" >/dev/null
SIGKILLED_ON=$(grep -c 'terminated by signal 9' "$LOGFILE" || true)
log "  OOM kills in the cgroup: ${OOMD[on]}; pool at the end: $POOL_END_ON MB; server processes killed: $SIGKILLED_ON"

# ---------------------------------------------------------------- 2. governor off
log "2. governor off (control): the same hog"
q "ALTER SYSTEM SET bufpool_ext.memory_governor = off;" >/dev/null
q "SELECT pg_reload_conf();" >/dev/null
for ((i = 0; i < 50; i++)); do
    [ "$(q "SELECT mode FROM bufpool.memory_pressure;")" = off ] && break
    sleep 0.1
done
if [ "$(pool_mb)" -lt "$POOL_MB" ]; then
    q "SELECT resize_id FROM bufpool.resize('${POOL_MB}MB');" >/dev/null
fi
fill
sleep 2
WS0_OFF_MB=$(mb "$(cg_ws)")
log "  working set with the pool full: $WS0_OFF_MB MB"
KILLS0=$(oom_kills)
NOOM0=$(oom_lines | wc -l)
SIG0=$(grep -c 'terminated by signal 9' "$LOGFILE" || true)
sampler off &
SAMPLER_PID=$!
sleep "$LEAD_S"
T0[off]=$EPOCHREALTIME
if [ "$KILL_MANAGER" = 1 ]; then
    MANAGER_PID=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'bufpool_ext pool manager';")
    echo 1000 >"/proc/$MANAGER_PID/oom_score_adj"
    log "  the pool manager (pid $MANAGER_PID) is the OOM killer's first choice (BPX_GOV_KILL_MANAGER=1)"
fi
start_hog off
wait_hog 120
HOGRC[off]=$HOG_RC
HOG_LAST[off]=$(hog_last off)
log "  hog: exit status $HOG_RC, last line: ${HOG_LAST[off]}"
SERVER_AFTER[off]="up"
if ! server_up 60; then
    if as_pg_in "$BENCH" "${PG_CTL[@]}" status >/dev/null 2>&1; then
        SERVER_AFTER[off]="running but the pool not ready after 60 s (restarted for the analysis)"
    else
        SERVER_AFTER[off]="down (restarted for the analysis)"
    fi
fi
sleep 2
touch "$OUT/stop.off"
wait "$SAMPLER_PID" || true
SAMPLER_PID=""
OOMD[off]=$(($(oom_kills) - KILLS0))
VICTIMS[off]=$(oom_lines | tail -n +$((NOOM0 + 1)) | sed -E 's/.*task=([^,]*),pid=([0-9]*).*/\1 (pid \2)/' | paste -sd, -)
SIGKILLED_OFF=$(($(grep -c 'terminated by signal 9' "$LOGFILE" || true) - SIG0))
CRASH_OFF=$(grep -c 'all server processes terminated; reinitializing' "$LOGFILE" || true)
log "  OOM kills in the cgroup: ${OOMD[off]} (${VICTIMS[off]:-victim not in the kernel log}); server: ${SERVER_AFTER[off]}; server processes killed by signal 9: $SIGKILLED_OFF"
if [ "${SERVER_AFTER[off]}" != up ]; then
    as_pg_in "$BENCH" "${PG_CTL[@]}" -m immediate -w stop >/dev/null 2>&1 || true
    # what is left of the server in the cgroup (this script's processes)
    while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$CG/cgroup.procs"
    sleep 1
    cg_start
    server_up 60 || die "the server does not come back after the control run"
fi
T_RUNS=$((SECONDS - T_BEGIN))

# ---------------------------------------------------------------- analysis
# The sampler's files, the resizes, the governor's log and the fetch
# windows in tables; times in seconds from each run's hog start.
for run in on off; do
    awk -F, -v run="$run" -v t0="${T0[$run]}" 'BEGIN { OFS = "," }
        { print run, $1 - t0, $0 }' "$OUT/samples.$run"
done >"$OUT/samples.csv"
for run in on off; do
    sort -u "$OUT/resizes.$run" | awk -F, -v run="$run" 'BEGIN { OFS = "," } { $1 = run; print }'
done >"$OUT/resizes.csv"
chmod a+r "$OUT"/*.csv
q "CREATE TABLE runs (run text, t0 float8);
INSERT INTO runs VALUES ('on', ${T0[on]}), ('off', ${T0[off]});
CREATE TABLE samples (run text, t float8, ep float8, lim bigint, usage bigint, inactive bigint,
    hog_kb bigint, oom bigint, psi_some float8, psi_full float8, mode text, level text,
    pool_mb float8, gov_ws_mb float8);
CREATE TABLE resizes_raw (run text, resize_id bigint, source text, from_size bigint, to_size bigint,
    started float8, finished float8, phase text);" >/dev/null
psql_q -c "\\copy samples FROM '$OUT/samples.csv' WITH (FORMAT csv)" >/dev/null
psql_q -c "\\copy resizes_raw FROM '$OUT/resizes.csv' WITH (FORMAT csv)" >/dev/null
q "CREATE VIEW s AS SELECT *, usage - inactive AS ws, 100.0 * (usage - inactive) / lim AS ws_pct,
    CASE WHEN mode = 'on' THEN array_position(ARRAY['normal','attention','warning','danger','emergency'], level) - 1 END AS lvl
    FROM samples;
-- resize_status keeps the last 8: rows from before a run's first sample are not its own
CREATE VIEW rz AS SELECT r.run, resize_id, source, from_size, to_size, started - t0 AS t_start,
    finished - t0 AS t_end, phase FROM (SELECT DISTINCT ON (run, resize_id) * FROM resizes_raw
    ORDER BY run, resize_id, finished DESC NULLS LAST) r JOIN runs USING (run)
    WHERE started >= (SELECT min(ep) FROM samples WHERE samples.run = r.run);
CREATE VIEW gl AS SELECT g.*, extract(epoch FROM at) - t0 AS t FROM gov_log g JOIN runs USING (run);
CREATE VIEW fw AS SELECT f.*, extract(epoch FROM window_start) - t0 AS t FROM fetch_windows f JOIN runs USING (run);" >/dev/null

# episodes: the governor's level at danger or above, from the level row
# that reached it to the next level row below it (or the end)
q "CREATE VIEW episodes AS
WITH lv AS (SELECT t, level, level IN ('danger', 'emergency') AS hot,
        lag(level IN ('danger', 'emergency'), 1, false) OVER (ORDER BY id) AS was_hot
    FROM gl WHERE action = 'level'),
starts AS (SELECT t AS t_d FROM lv WHERE hot AND NOT was_hot),
ep AS (SELECT row_number() OVER (ORDER BY t_d) AS n, t_d,
        coalesce((SELECT min(t) FROM lv WHERE NOT hot AND lv.t > starts.t_d), 1e9) AS t_e
    FROM starts)
SELECT ep.*,
    (SELECT string_agg(level, ' > ' ORDER BY t) FROM lv WHERE lv.t >= ep.t_d AND lv.t < ep.t_e) AS levels,
    (SELECT count(*) FROM rz WHERE run = 'on' AND source = 'governor' AND to_size < from_size
        AND t_start >= ep.t_d - 0.01 AND t_start < ep.t_e) AS shrinks,
    (SELECT max(from_size) FROM rz WHERE run = 'on' AND source = 'governor' AND to_size < from_size
        AND t_start >= ep.t_d - 0.01 AND t_start < ep.t_e) AS size_before,
    (SELECT min(to_size) FROM rz WHERE run = 'on' AND source = 'governor' AND to_size < from_size
        AND t_start >= ep.t_d - 0.01 AND t_start < ep.t_e) AS size_after,
    (SELECT max(t_end) FROM rz WHERE run = 'on' AND source = 'governor' AND to_size < from_size
        AND t_start >= ep.t_d - 0.01 AND t_start < ep.t_e) AS t_target,
    -- the first sample after which the working set stays under the band
    -- until the episode ends
    (SELECT min(t) FROM s s1 WHERE run = 'on' AND t > ep.t_d AND ws_pct < $DANGER_PCT
        AND NOT EXISTS (SELECT 1 FROM s s2 WHERE s2.run = 'on' AND s2.t > s1.t
                        AND s2.t < least(ep.t_e, 1e8) AND s2.ws_pct >= $DANGER_PCT)) AS t_ws,
    -- the server's part of the working set (working set - hog RSS): last
    -- sample before, first sample after the pool reached its target
    (SELECT (ws - hog_kb * 1024) FROM s WHERE run = 'on' AND t <= ep.t_d ORDER BY t DESC LIMIT 1) AS srv_before
FROM ep;" >/dev/null
q "CREATE VIEW ep_fig AS
SELECT e.*, (size_before - size_after) / 1073741824.0 AS gib,
    t_target - t_d AS s_target, t_ws - t_d AS s_ws,
    $RELEASE_S + $RELEASE_S_PER_GIB * (size_before - size_after) / 1073741824.0 AS limit_s,
    (SELECT (ws - hog_kb * 1024) FROM s WHERE run = 'on' AND t >= e.t_target ORDER BY t LIMIT 1) AS srv_after
FROM episodes e;" >/dev/null

# fetch windows: overlapping a governor shrink, a grow, no resize
q "CREATE VIEW fwc AS
SELECT fw.*, CASE
    WHEN EXISTS (SELECT 1 FROM rz WHERE rz.run = fw.run AND to_size < from_size
                 AND fw.t + $WINDOW_MS / 1000.0 > rz.t_start AND fw.t < rz.t_end) THEN 'shrink'
    WHEN EXISTS (SELECT 1 FROM rz WHERE rz.run = fw.run AND to_size > from_size
                 AND fw.t + $WINDOW_MS / 1000.0 > rz.t_start AND fw.t < rz.t_end) THEN 'grow'
    WHEN EXISTS (SELECT 1 FROM episodes e WHERE fw.t + $WINDOW_MS / 1000.0 > e.t_d AND fw.t < e.t_e) THEN 'danger, no resize'
    ELSE 'steady' END AS class
FROM fw;
CREATE VIEW fw_sum AS
SELECT class, count(*) AS windows, sum(ops) AS ops, sum(ops - hits) AS misses,
    percentile_disc(0.5) WITHIN GROUP (ORDER BY p50_ns) AS p50,
    percentile_disc(0.5) WITHIN GROUP (ORDER BY p99_ns) AS p99,
    max(p99_ns) AS p99_max, max(max_ns) AS max_ns
FROM fwc GROUP BY class;" >/dev/null

# ---------------------------------------------------------------- exports
q "SELECT 'run,t_s,limit_mb,usage_mb,working_set_mb,working_set_pct,hog_rss_mb,pool_mb,level,level_num,psi_some_avg10,psi_full_avg10,oom_kills,governor_working_set_mb'
UNION ALL (SELECT concat_ws(',', run, round(t::numeric, 3), round(lim / 1048576.0, 1), round(usage / 1048576.0, 1),
    round(ws / 1048576.0, 1), round(ws_pct::numeric, 2), round(hog_kb / 1024.0, 1), pool_mb,
    CASE WHEN mode = 'on' THEN level END, lvl, psi_some, psi_full, oom, CASE WHEN mode = 'on' THEN gov_ws_mb END)
    FROM s ORDER BY run DESC, t);" >"$TL_CSV"
q "SELECT 'run,t_s,kind,level,action,from_mb,to_mb,end_s,detail'
UNION ALL (SELECT x FROM (
    SELECT t, concat_ws(',', run, round(t::numeric, 3), 'governor', level, action,
        CASE WHEN action <> 'level' THEN from_size / 1048576 END, CASE WHEN action <> 'level' THEN to_size / 1048576 END,
        '', '\"' || replace(result, '\"', '') || '\"') AS x FROM gl
    UNION ALL
    SELECT t_start, concat_ws(',', run, round(t_start::numeric, 3), 'resize ' || resize_id, '', source,
        from_size / 1048576, to_size / 1048576, round(t_end::numeric, 3), phase) FROM rz) u ORDER BY t);" >"$EV_CSV"
q "SELECT 't_s,ops,misses,p50_ns,p99_ns,max_ns,class'
UNION ALL (SELECT concat_ws(',', round(t::numeric, 3), ops, ops - hits, round(p50_ns::numeric), round(p99_ns::numeric),
    round(max_ns::numeric), class) FROM fwc ORDER BY t);" >"$FETCH_CSV"

# ---------------------------------------------------------------- figures
verdict() { if [ "$1" = t ]; then echo PASS; else echo FAIL; fi; }
EP_ROWS=$(q "SELECT format('| %s | %s | %s | %s -> %s MB (%s MB) | %s | %s s | %s s | %s s | %s | %s MB |',
    n, round(t_d::numeric, 2), levels, size_before / 1048576, size_after / 1048576,
    (size_before - size_after) / 1048576, shrinks,
    round(s_target::numeric, 2), coalesce(round(s_ws::numeric, 2)::text, '-'), round(limit_s::numeric, 2),
    CASE WHEN s_target <= limit_s THEN 'PASS' ELSE 'FAIL' END
      || ' / ' || CASE WHEN s_ws <= limit_s THEN 'PASS' ELSE 'FAIL' END,
    round(((srv_before - srv_after) / 1048576.0)::numeric))
    FROM ep_fig ORDER BY n;")
N_EP=$(q "SELECT count(*) FROM ep_fig;")
WORST_TARGET=$(q "SELECT coalesce(round(max(s_target / limit_s)::numeric, 2)::text, '-') FROM ep_fig;")
WORST_WS=$(q "SELECT coalesce(round(max(s_ws / limit_s)::numeric, 2)::text, '-') FROM ep_fig;")
REL_OK=$(verdict "$(q "SELECT coalesce(bool_and(s_target <= limit_s), false) FROM ep_fig;")")
WS_OK=$(verdict "$(q "SELECT coalesce(bool_and(s_ws <= limit_s), false) FROM ep_fig;")")
RESIZE_ROWS=$(q "SELECT format('| %s | %s | %s | %s -> %s | %s | %s |', resize_id, source, round(t_start::numeric, 2),
    from_size / 1048576, to_size / 1048576, round(((t_end - t_start) * 1000)::numeric, 1), phase)
    FROM rz WHERE run = 'on' ORDER BY resize_id;")
GOVLOG_ROWS=$(q "SELECT format('| %s | %s | %s | %s | %s | %s | %s |', id, round(t::numeric, 2), level,
    round(100.0 * working_set / nullif(memory_limit, 0), 1), round(psi_some_avg10::numeric, 2), action,
    CASE WHEN action = 'level' OR from_size IS NULL OR from_size = to_size THEN result
         ELSE format('%s -> %s MB: %s', from_size / 1048576, to_size / 1048576, result) END)
    FROM gl ORDER BY id;")
FW_ROWS=$(q "SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |', class, windows, ops, misses, round(p50::numeric),
    round(p99::numeric), round(p99_max::numeric), round((max_ns / 1000)::numeric, 1))
    FROM fw_sum ORDER BY CASE class WHEN 'steady' THEN 1 WHEN 'shrink' THEN 2 WHEN 'danger, no resize' THEN 3 ELSE 4 END;")
IFS='|' read -r P99_STEADY P99_SHRINK P99_RATIO P99_OK P99_WORST <<<"$(q "SELECT
    round(st.p99::numeric) || '|' || coalesce(round(sh.p99::numeric)::text, '-') || '|' ||
    coalesce(round((sh.p99 / st.p99)::numeric, 2)::text, '-') || '|' ||
    CASE WHEN sh.p99 / st.p99 <= $P99_RATIO_MAX THEN 'PASS' ELSE 'FAIL' END || '|' ||
    coalesce(round((sh.p99_max / st.p99)::numeric, 2)::text, '-')
    FROM fw_sum st LEFT JOIN fw_sum sh ON sh.class = 'shrink' WHERE st.class = 'steady';")"
N_SHRINK_W=$(q "SELECT coalesce((SELECT windows FROM fw_sum WHERE class = 'shrink'), 0);")
PEAK_ON=$(q "SELECT round(max(ws_pct)::numeric, 1) FROM s WHERE run = 'on';")
PEAK_OFF=$(q "SELECT round(max(ws_pct)::numeric, 1) FROM s WHERE run = 'off';")
REGROWN=$(q "SELECT coalesce(round(min(t)::numeric, 1)::text, 'not within the run') FROM s WHERE run = 'on' AND pool_mb >= $POOL_MB
    AND t > (SELECT max(t) FROM s WHERE run = 'on' AND pool_mb < $POOL_MB);")
SAMPLE_GAP=$(q "SELECT round((percentile_disc(0.5) WITHIN GROUP (ORDER BY d) * 1000)::numeric) || ' ms median, '
    || round((max(d) * 1000)::numeric) || ' ms max' FROM (SELECT t - lag(t) OVER (PARTITION BY run ORDER BY t) AS d FROM s) x;")
OFF_OOM_T=$(q "SELECT coalesce(round(min(t)::numeric, 2)::text, '-') FROM s WHERE run = 'off'
    AND oom > (SELECT min(oom) FROM s WHERE run = 'off');")

# ---------------------------------------------------------------- plot
PLOT="no plot (gnuplot not installed)"
if command -v gnuplot >/dev/null; then
    XMAX=$(q "SELECT ceil(max(t)) FROM s;")
    XMIN=$(q "SELECT floor(min(t)) FROM s;")
    {
        echo "set terminal pngcairo size 1500,900 font ',10' noenhanced"
        echo "set output '$PNG'"
        echo "set datafile separator ','"
        echo "set multiplot"
        echo "set xrange [$XMIN:$XMAX]"
        echo "set grid ytics"
        echo "set key right center opaque box"
        echo "set lmargin 9; set rmargin 11"
        for run in on off; do
            if [ "$run" = on ]; then ox=0; else ox=0.5; fi
            # shrink resizes shaded
            q "SELECT format('set object %s rect from %s, graph 0 to %s, graph 1 fc rgb \"%s\" fs solid 0.5 noborder behind',
                row_number() OVER (ORDER BY resize_id), round(t_start::numeric, 3), round(greatest(t_end, t_start + 0.25)::numeric, 3),
                CASE WHEN to_size < from_size THEN '#ff9999' ELSE '#99ccff' END)
                FROM rz WHERE run = '$run' AND t_end IS NOT NULL;"
            oom_t=$(q "SELECT min(t) FROM s WHERE run = '$run' AND oom > (SELECT min(oom) FROM s WHERE run = '$run');")
            [ -n "$oom_t" ] && echo "set arrow 1 from $oom_t, graph 0 to $oom_t, graph 1 nohead lw 2 lc rgb 'black' dt 2 front; set label 1 'OOM kill' at $oom_t, graph 0.95 left offset 0.5,0 front"
            echo "set origin $ox, 0.36; set size 0.5, 0.62"
            if [ "$run" = on ]; then
                echo "set title 'memory_governor = on: cgroup limit $LIMIT_MB MB, pool $POOL_MB MB (red: governor shrink, blue: grow)'"
            else
                echo "set title 'memory_governor = off (control): the same hog'"
            fi
            echo "set ylabel 'MB'; set yrange [0:$((LIMIT_MB * 115 / 100))]; set format x ''; set xlabel ''"
            if [ "$run" = on ]; then
                echo "set y2range [-0.2:4.6]; set y2tics ('normal' 0, 'attention' 1, 'warning' 2, 'danger' 3, 'emergency' 4)"
            else
                echo "unset y2tics"
            fi
            echo "plot '$TL_CSV' every ::1 using 2:(strcol(1) eq '$run' ? \$3 : NaN) with lines lw 2 lc rgb 'black' title 'cgroup limit', \\"
            echo "  '' every ::1 using 2:(strcol(1) eq '$run' ? \$3 * $DANGER_PCT / 100 : NaN) with lines dt 3 lc rgb '#ff8c00' title 'danger band (${DANGER_PCT}%)', \\"
            echo "  '' every ::1 using 2:(strcol(1) eq '$run' ? \$5 : NaN) with lines lw 2 lc rgb '#d62728' title 'working set', \\"
            echo "  '' every ::1 using 2:(strcol(1) eq '$run' ? \$7 : NaN) with lines lw 1 lc rgb '#7f7f7f' title 'hog RSS', \\"
            echo "  '' every ::1 using 2:(strcol(1) eq '$run' ? \$8 : NaN) with steps lw 2 lc rgb '#1f77b4' title 'pool size'$(
                [ "$run" = on ] && printf '%s' ", \\
  '' every ::1 using 2:(strcol(1) eq 'on' ? \$10 : NaN) axes x1y2 with steps lw 1.5 lc rgb '#2ca02c' title 'level (right axis)'")"
            echo "unset title; unset arrow 1"
            [ -n "$oom_t" ] && echo "set arrow 1 from $oom_t, graph 0 to $oom_t, graph 1 nohead lw 2 lc rgb 'black' dt 2 front"
            echo "unset label 1"
            echo "set origin $ox, 0.0; set size 0.5, 0.38"
            echo "set format x '%g'; set xlabel 'seconds from the hog start'"
            echo "set ylabel 'PSI avg10 %'; set yrange [0:*]"
            if [ "$run" = on ]; then
                echo "set y2label 'fetch p99 per ${WINDOW_MS} ms window, ns (log)'; set logscale y2; set y2range [20:20000]; set y2tics auto"
                echo "plot '$TL_CSV' every ::1 using 2:(strcol(1) eq '$run' ? \$11 : NaN) with lines lc rgb '#9467bd' title 'PSI some', \\"
                echo "  '' every ::1 using 2:(strcol(1) eq '$run' ? \$12 : NaN) with lines lc rgb '#8c564b' title 'PSI full', \\"
                echo "  '$FETCH_CSV' every ::1 using 1:5 axes x1y2 with lines lc rgb '#17becf' title 'fetch p99 (right axis)'"
            else
                echo "unset y2label; unset y2tics"
                echo "plot '$TL_CSV' every ::1 using 2:(strcol(1) eq '$run' ? \$11 : NaN) with lines lc rgb '#9467bd' title 'PSI some', \\"
                echo "  '' every ::1 using 2:(strcol(1) eq '$run' ? \$12 : NaN) with lines lc rgb '#8c564b' title 'PSI full'"
            fi
            echo "unset object; unset arrow; unset label; unset y2label; unset logscale y2"
        done
        echo "unset multiplot"
    } >"$OUT/timeline.gp"
    PLOT=$(plot_md "$OUT/timeline.gp" "governor timeline" governor_timeline.png)
fi
# ---------------------------------------------------------------- 3. hit path
IR_OFF="-" IR_ON="-" IR_HIGH="-" IRX_OFF="-" IRX_ON="-" IRX_HIGH="-" HIGH_LEVEL="-" CG_VERSION=none
if [ "$CG_OPS" -gt 0 ] && command -v valgrind >/dev/null; then
    CG_VERSION=$(valgrind --version)
    log "3. hit path under callgrind: memory_governor off, on, on at a raised level"
    stop_server
    write_conf 128 "$MIN_MB"
    q_cg_sql="SELECT bufpool_test.bench_fetch($HOT_ID, 1000, 'uniform', $CG_OPS, 1)"
    callgrind_start "$PGBIN" "$BENCH/callgrind" bp_bench_fetch_loop
    bench_wait_ready
    # gov_mode MODE [LIMIT_MB MIN_MB]: reload and wait until the governor says so
    gov_mode() {
        q "ALTER SYSTEM SET bufpool_ext.memory_governor = $1;" >/dev/null
        q "ALTER SYSTEM SET bufpool_ext.memory_limit = ${2:-0};" >/dev/null
        q "ALTER SYSTEM SET bufpool_ext.min_size = ${3:-$MIN_MB};" >/dev/null
        q "SELECT pg_reload_conf();" >/dev/null
        local i
        for ((i = 0; i < 100; i++)); do
            [ "$(q "SELECT mode FROM bufpool.memory_pressure;")" = "$1" ] && break
            sleep 0.2
        done
        sleep 3
    }
    # cg_rest: per op, the instructions of the newest profile that counted
    # any, leaving out the heat sampler (src/pool/heat.c and heat.h, the
    # bp_heat_* functions with what is inlined into them, and the
    # statement-time and clock reads they make): its Morris counter
    # adds one with a probability and decays with the heat clock, so its
    # count moves from run to run whatever the governor does
    cg_rest() {
        local f
        # shellcheck disable=SC2045  # cg.PID: no blanks; newest first
        for f in $(ls -t "$BENCH"/callgrind/cg.*); do
            grep -q '^summary: [1-9]' "$f" && break
        done
        callgrind_annotate --auto=no --inclusive=no --threshold=100 "$f" 2>/dev/null | awk -v n="$CG_OPS" '
            /^ *[0-9][0-9,]* \(/ && !/PROGRAM TOTALS/ && !/heat\.[ch]:|:bp_heat_|GetCurrentStatementStartTimestamp|clock_gettime/ {
                x = $1; gsub(",", "", x); s += x }
            END { printf "%.4f", s / n }'
    }
    gov_mode off
    IR_OFF=$(callgrind_per_op "$BENCH/callgrind" "$CG_OPS" "$q_cg_sql")
    IRX_OFF=$(cg_rest)
    gov_mode on
    NORMAL_LEVEL=$(q "SELECT level || ' (' || source || ')' FROM bufpool.memory_pressure;")
    IR_ON=$(callgrind_per_op "$BENCH/callgrind" "$CG_OPS" "$q_cg_sql")
    IRX_ON=$(cg_rest)
    # a limit that puts the working set at ~80% (warning); min_size = the
    # pool, so that nothing shrinks whatever the level
    WS_MB=$(q "SELECT working_set / 1048576 FROM bufpool.memory_pressure;")
    gov_mode on $((WS_MB * 100 / 80)) 128
    HIGH_LEVEL=$(q "SELECT level || ' (working set ' || round(working_set_pct::numeric) || '% of ' || memory_limit / 1048576 || ' MB)' FROM bufpool.memory_pressure;")
    IR_HIGH=$(callgrind_per_op "$BENCH/callgrind" "$CG_OPS" "$q_cg_sql")
    IRX_HIGH=$(cg_rest)
    log "  instructions per fetch+release: off $IR_OFF, on ($NORMAL_LEVEL) $IR_ON, on at $HIGH_LEVEL $IR_HIGH; without the heat sampler: $IRX_OFF, $IRX_ON, $IRX_HIGH"
    q "ALTER SYSTEM RESET ALL;" >/dev/null
    stop_server
    wait
fi
IR_DIFF=$(awk -v a="$IR_ON" -v b="$IR_OFF" -v c="$IR_HIGH" -v d="$IRX_ON" -v e="$IRX_OFF" -v f="$IRX_HIGH" 'BEGIN {
    if (a == "-" || b == "-") { print "-"; exit }
    printf "%+.4f (normal), %+.4f (raised level) without the heat sampler; %+.2f, %+.2f in all", d - e, f - e, a - b, c - b }')
IR_OK=$(awk -v d="$IRX_ON" -v e="$IRX_OFF" -v f="$IRX_HIGH" 'BEGIN {
    if (d == "-" || e == "-") print "-"; else print ((d == e && f == e) ? "PASS" : "FAIL") }')
ELAPSED=$((SECONDS - T_BEGIN))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
TARGETS="| target | limit | measured | result |
|---|---|---|---|
| danger reached -> pool at its shrink target (last shrink of the episode finished), worst of $N_EP episode(s) | $RELEASE_S s + $RELEASE_S_PER_GIB s per GiB released | $WORST_TARGET x the limit | $REL_OK |
| danger reached -> working set under the danger band for good, worst episode | same | $WORST_WS x the limit | $WS_OK |
| fetch p99 in windows overlapping a governor shrink / windows overlapping no resize (median window p99; $N_SHRINK_W shrink windows) | ${P99_RATIO_MAX}x | ${P99_RATIO}x ($P99_SHRINK ns vs $P99_STEADY ns; worst shrink window ${P99_WORST}x) | $P99_OK |
| hit-path instructions per fetch+release, governor on - off (without the heat sampler, see below) | 0 | $IR_DIFF | $IR_OK |
| (control) governor on: OOM kills in the cgroup / governor off | 0 / at least 1 | ${OOMD[on]} / ${OOMD[off]} | $( [ "${OOMD[on]}" -eq 0 ] && [ "${OOMD[off]}" -ge 1 ] && echo PASS || echo FAIL) |"
EPISODES="| episode | danger at s | levels | pool | governor shrinks | to shrink target | WS under band | limit | result (target / WS) | server's working set freed (cgroup) |
|---|---|---|---|---|---|---|---|---|---|
$EP_ROWS"
FETCH="| windows | count | fetches | misses | p50 ns (median window) | p99 ns (median window) | p99 ns (worst window) | max us |
|---|---|---|---|---|---|---|---|
$FW_ROWS"
HIT="| memory_governor | level | instructions per fetch+release | without the heat sampler |
|---|---|---|---|
| off | - | $IR_OFF | $IRX_OFF |
| on | ${NORMAL_LEVEL:--} | $IR_ON | $IRX_ON |
| on, bufpool_ext.memory_limit lowered | $HIGH_LEVEL | $IR_HIGH | $IRX_HIGH |"
CONTROL="| run | working set with the pool full | peak working set | OOM kills in the cgroup | killed (kernel log) | hog exit status | hog's last line | server processes killed (signal 9) | server after |
|---|---|---|---|---|---|---|---|---|
| governor on | $WS0_MB MB | ${PEAK_ON}% | ${OOMD[on]} | ${VICTIMS[on]:--} | ${HOGRC[on]} | ${HOG_LAST[on]} | $SIGKILLED_ON | pool $POOL_END_ON MB, regrown to $POOL_MB MB at t = $REGROWN s |
| governor off | $WS0_OFF_MB MB | ${PEAK_OFF}% | ${OOMD[off]} (first seen at t = $OFF_OOM_T s) | ${VICTIMS[off]:--} | ${HOGRC[off]} | ${HOG_LAST[off]} | $SIGKILLED_OFF (crash restarts: $CRASH_OFF) | ${SERVER_AFTER[off]} |"

echo
echo "Targets"
echo "$TARGETS"
echo
echo "Danger episodes (governor on)"
echo "$EPISODES"
echo
echo "Fetch latency by window"
echo "$FETCH"
echo
echo "Hit path"
echo "$HIT"
echo
echo "Runs"
echo "$CONTROL"
echo

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Memory governor: a real memory hog in a real memory cgroup

Written by \`make bench\` (scripts/bench_governor.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)
- Memory cgroup: $CG_KIND, $CG, limit $LIMIT_MB MB; PSI from $PSI_FILE$( [ "$CG_KIND" = "cgroup v1" ] && echo " (the whole machine: v1 has no per-cgroup PSI)")
- Load average (1, 5, 15 min) when the measurements began: $LOAD_BEFORE; when they ended: $LOAD_AFTER

## What is measured

The cluster runs inside a memory cgroup with a limit of $LIMIT_MB MB, made
for the run under the benchmark's own cgroup (as scripts/test.sh does for
TAP 025). Settings: bufpool_ext.size = ${POOL_MB}MB, chunk_size =
${CHUNK_MB}MB, instances = 1, page_size = 8192, memory_governor = on,
min_size = ${MIN_MB}MB, regrow_delay = ${REGROW_S}s, every band and PSI
threshold at its default (attention 50, warning 75, danger 85, emergency
95% of the limit; PSI some 10/20%, full 10%); shared_buffers = 16MB,
fsync = off. A space of $FILL_PAGES pages is read through the pool (full)
and a hot set of $HOT_PAGES pages read; the cgroup's working set is then
$WS0_MB MB (${WS0_PCT}% of the limit).

**Timeline.** A sampler outside the cgroup reads every ${SAMPLE_MS} ms (achieved:
$SAMPLE_GAP between samples) the cgroup's limit, usage and
\`$F_INACT\`, the working set = usage - $F_INACT (as the governor and
kubelet compute it), the hog's VmRSS, the OOM-kill count, PSI some/full
avg10, and \`bufpool.memory_pressure\` (level, pool size), and polls
\`bufpool.resize_status\`. t = 0 is the hog's start. The hog (perl, in
the cgroup, as the postgres account) grows ${HOG_STEP_MB} MB every ${HOG_STEP_MS} ms to
$HOG1_MB MB (the working set at ~${DANGER_FILL_PCT}% of the limit: danger, where
the governor shrinks one step of 10% / one chunk every 3 s), holds ${HOLD1_S} s,
grows to $HOG2_MB MB (${OVER_MB} MB more than the limit leaves: emergency, a
shrink straight to min_size), holds ${HOLD2_S} s and exits; the pool then
grows back 10% every regrow_delay once the level is normal. Then the
governor is turned off (reload), the pool read full again, and the same
hog runs (control). Data: governor_timeline.csv (samples),
governor_events.csv (the governor's log and every resize),
governor_fetch.csv (the fetch windows).

**Release time.** An episode runs from the governor's sample that first
graded the level danger or above (the \`level\` row of
\`bufpool.memory_governor_log\`, its \`at\`) to its next \`level\` row below
danger. Two end points, both given: (1) *the pool at its shrink target*:
\`finished\` of the last governor shrink requested in the episode
(\`bufpool.resize_status\`): its chunks are then unmapped and their DSM
segments unlinked, i.e. the memory is back with the kernel (the last
column checks it in the cgroup: the server's working set, working set -
hog RSS, in the sample before the episode minus the one after that
finish); this is the figure the verdict of the first target row uses;
(2) *the working set under the danger band for good*: the first sample
after which the cgroup's working set stays below ${DANGER_PCT}% of the limit until
the episode ends (it depends on the hog's pace as well). Target: ${RELEASE_S} s +
${RELEASE_S_PER_GIB} s per GiB the episode released (pool size before - after).
Note that the governor takes one danger step per 3 s (BP_GOV_COOLDOWN_MS)
and leaves danger only 5 points below the band, so an episode of
several danger steps lasts 3 s per extra step by design.

**Fetch latency.** One session runs \`bufpool_test.bench_cold_timeline\`
over the hot set (Zipf 0.99, every fetch+release timed, misses
included, with each window's hits; the hot set was read just before, so
it starts warm) from ${LEAD_S} s before the hog to the end of the
regrowth, in ${WINDOW_MS} ms windows. A window is "shrink" if it overlaps a
governor shrink (started..finished), "grow" if it overlaps a grow,
"danger, no resize" inside an episode otherwise, "steady" else (hog
growing or not). The ratio is the median window p99 of the shrink windows
over that of the steady ones (as in resize.md). With ${WINDOW_MS} ms windows
a stall of a few fetches shows in max, not in p99; and with a handful of
shrink windows ($N_SHRINK_W here) that median moves from run to run.
Misses: fetches that had to read the page (\`ops - hits\`): a shrink
relocates a page only into a free block of a chunk it keeps and evicts
it otherwise, so a shrink of a full pool drops the hot pages that sat in
the removed chunks, which the session then reads again.

**Hit path.** The postmaster under \`valgrind --tool=callgrind\`
($CG_VERSION), outside the cgroup, pool 128 MB, collecting only inside
\`bp_bench_fetch_loop\` (the loop of \`bufpool_test.bench_fetch\`, with
what it calls): instructions per fetch+release of $CG_OPS over 1000 hot
pages (uniform), one backend per case, after a reload to each setting:
governor off; on (level normal); on with \`bufpool_ext.memory_limit\` set
so that the working set is ~80% of it and min_size = the pool (a raised
level, nothing shrinks). The totals differ by a few hundredths of an
instruction per fetch from run to run, in one place only: the heat
sampler (the \`bp_heat_*\` functions of src/pool/heat.c and heat.h, with
the clock and statement-time reads they make), whose Morris counter adds
one with a probability and decays with the heat clock. The second column leaves
those functions out (\`callgrind_annotate\`, self cost per function);
the target is on it: equal to the instruction.

Total run time: ${ELAPSED} s (the two runs ${T_RUNS} s).

## Targets

$TARGETS

## Timeline

$PLOT

## Danger episodes (governor on)

$EPISODES

Resizes during the run with the governor on (duration = finished - started):

| resize_id | source | started, s | MB | ms | phase |
|---|---|---|---|---|---|
$RESIZE_ROWS

The governor's log (\`bufpool.memory_governor_log\`; working set in % of the limit as the governor read it):

| id | t, s | level | working set % | PSI some | action | result |
|---|---|---|---|---|---|---|
$GOVLOG_ROWS

## Fetch latency by window (governor on)

$FETCH

## Hit path: instructions (callgrind)

$HIT

## The two runs

$CONTROL
EOF
log "results written to $RESULTS, $TL_CSV, $PNG (benchmark time ${ELAPSED} s)"
