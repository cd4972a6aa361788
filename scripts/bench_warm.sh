#!/usr/bin/env bash
# Warm-restart benchmark of bufpool_ext (src/pool/warm.c), run by
# scripts/bench.sh or alone:  BPX_SKIP_BUILD=1 bash scripts/bench_warm.sh
#
# One throwaway cluster: a pool of BPX_WARM_POOL_MB (2 instances, 8 kB
# pages), a space twice that size whose every page is written first, and
# a Zipf working set over the space (bufpool_test.bench_replay) that fills
# the pool.  Then, in the same run:
#
#   1. dump: bufpool.dump() at dump_pct 100 and at the default 25; time
#      and file size per GiB of pool (InnoDB's text file: about 500 kB per
#      GiB at 25%);
#   2. load throughput from a cold page cache (sync + drop_caches before
#      each run; the server restarted with load_at_startup off, then
#      bufpool.load()): pages loaded x page size / the load's time, at
#      load_io_depth 1, 8 (the default) and 32, against fio reading the
#      same space file from a cold cache: sequential (8 kB psync, the
#      kernel's read-ahead) and random (8 kB, libaio, O_DIRECT, at the
#      same depths).  Targets: at least 80% of fio's random rate at the
#      same depth; at least fio's sequential rate (the load sorts);
#   3. after a restart from a cold page cache, one session running the
#      same Zipf access (bufpool_test.bench_cold_timeline: every fetch
#      timed, misses included, 250 ms windows): the time until a window's
#      hit ratio is back to 90% of the pre-restart ratio, with and without
#      load_at_startup, and the p99 of the windows while the load runs
#      against the p99 of a warm pool (target: at most 2x).
#
# Each load figure is the median of BPX_WARM_REPS runs; fio's too.
# Results go to stdout and bench/results/warm.md.
#
#   BPX_WARM_PORT      port / socket number (default 5484)
#   BPX_WARM_POOL_MB   pool size (default 1152: 1 GiB of pages fits after the
#                      page cleaners' free-list reserve)
#   BPX_WARM_REPS      repetitions (default 3)
#   BPX_WARM_DEPTHS    load_io_depth values (default "1 8 32")
#   BPX_WARM_ONLY=load only the load throughput (no fio, no restarts under
#                      load, no results file): for trying a change quickly
#   BPX_SKIP_BUILD=1   do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_WARM_PORT:-5484}"
POOL_MB="${BPX_WARM_POOL_MB:-1152}"
REPS="${BPX_WARM_REPS:-3}"
PAGE=8192
N_PAGES=$((POOL_MB * 2 * 1048576 / PAGE))
TL_SECONDS=20
TL_WINDOW_MS=250
read -r -a DEPTHS <<<"${BPX_WARM_DEPTHS:-1 8 32}"
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/warm.md"

command -v fio >/dev/null || die "fio is not installed (make deps installs it)"
bench_prepare bench_warm
# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

CAN_DROP=1
drop_caches() {
    sync
    if ! as_root sh -c 'echo 3 > /proc/sys/vm/drop_caches' 2>/dev/null; then
        CAN_DROP=0
    fi
}

bench_initdb bufpool_warm.conf
bench_write_conf bufpool_warm.conf <<EOF
bufpool_ext.size = '${POOL_MB}MB'
bufpool_ext.chunk_size = '64MB'
bufpool_ext.instances = 2
bufpool_ext.dump_pct = 100
bufpool_ext.dump_at_shutdown = off
bufpool_ext.load_at_startup = off
max_worker_processes = 16
EOF
bench_start
q "CREATE EXTENSION bufpool_ext;" >/dev/null
q "CREATE EXTENSION bufpool_test;" >/dev/null
SPACE_ID=$(q "SELECT bufpool.create_space('bench_warm', $N_PAGES);")
SPACE_FILE="$DATA/bufpool_ext/$SPACE_ID.bps"
log "space $SPACE_ID: $N_PAGES pages of $PAGE bytes ($((N_PAGES * PAGE / 1048576)) MB), every page written"
t0=$(date +%s)
q "SELECT count(bufpool.write_page($SPACE_ID, g, '\\x01'::bytea, 0)) FROM generate_series(0, $N_PAGES - 1) g;" >/dev/null
q "SELECT bufpool.flush();" >/dev/null
q "SELECT bufpool.checkpoint();" >/dev/null
log "written in $(($(date +%s) - t0)) s"

# the Zipf working set, and the hit ratio it settles at
zipf_fill() {
    q "SELECT round(100.0 * hits / accesses, 2)
       FROM bufpool_test.bench_replay($SPACE_ID, $N_PAGES, 0, 0, 0, 400000, 3000000, 1);"
}
H_SS=$(zipf_fill)
POOL_BYTES=$(q "SELECT pages * page_size FROM bufpool.status();")
IN_POOL=$(q "SELECT count(*) FROM bufpool.pages WHERE space = $SPACE_ID;")
log "Zipf working set: hit ratio $H_SS%, $IN_POOL pages of the space in the pool"

# ---------------------------------------------------------------- 1. dump
dump_ms() { # dump_ms PCT: the dump's time in ms, then its file size
    local t1 t2
    t1=$(date +%s%N)
    q "SET bufpool_ext.dump_pct = $1; SELECT bufpool.dump();" >/dev/null
    t2=$(date +%s%N)
    echo "$(((t2 - t1) / 1000000)) $(stat -c %s "$DATA/bufpool_ext/buffer_pool_dump")"
}
read -r D25_MS D25_BYTES < <(dump_ms 25)
read -r D100_MS D100_BYTES < <(dump_ms 100)
DUMP_PAGES=$(q "SELECT pages_done FROM bufpool.dump_load_status WHERE operation = 'dump' ORDER BY id DESC LIMIT 1;")
POOL_GIB=$(awk -v b="$POOL_BYTES" 'BEGIN { printf "%.3f", b / 1073741824 }')
log "dump 25%: $D25_MS ms, $D25_BYTES bytes; dump 100%: $D100_MS ms, $D100_BYTES bytes ($DUMP_PAGES pages); pool $POOL_GIB GiB"
cp "$DATA/bufpool_ext/buffer_pool_dump" "$BENCH/dump.saved"
DUMP_MB=$((DUMP_PAGES * PAGE / 1048576))

# ---------------------------------------------------------------- 2. load
restart_cold() { # restart_cold [LOAD_AT_STARTUP]: stop, drop the page cache, start
    stop_server
    cp "$BENCH/dump.saved" "$DATA/bufpool_ext/buffer_pool_dump"
    chown "$PG_OS_USER" "$DATA/bufpool_ext/buffer_pool_dump" 2>/dev/null || true
    as_pg_in "$BENCH" sed -i "s/^bufpool_ext.load_at_startup = .*/bufpool_ext.load_at_startup = ${1:-off}/" "$DATA/bufpool_warm.conf"
    drop_caches
    bench_start
    bench_wait_ready
}
load_mbps() { # load_mbps DEPTH: MB/s of one load from a cold page cache
    as_pg_in "$BENCH" sed -i "/^bufpool_ext.load_io_depth/d" "$DATA/bufpool_warm.conf"
    echo "bufpool_ext.load_io_depth = $1" | as_pg_in "$BENCH" tee -a "$DATA/bufpool_warm.conf" >/dev/null
    restart_cold off >&2
    q "SELECT bufpool.load();" >/dev/null
    q "SELECT round(pages_done * $PAGE / 1048576.0 / extract(epoch FROM finished - started), 1)
              || ' ' || round((bytes_per_s / 1048576.0)::numeric, 1)
       FROM bufpool.dump_load_status WHERE operation = 'load' ORDER BY id DESC LIMIT 1;"
}
declare -A LOAD LOAD_RAW FIO_RAND
for d in "${DEPTHS[@]}"; do
    runs=()
    raws=()
    for ((r = 1; r <= REPS; r++)); do
        read -r v raw < <(load_mbps "$d")
        log "load, io depth $d, run $r: $v MB/s of pages loaded, $raw MB/s read (gaps included)"
        runs+=("$v")
        raws+=("$raw")
    done
    LOAD[$d]=$(median "${runs[@]}")
    LOAD_RAW[$d]=$(median "${raws[@]}")
done
stop_server
if [ "${BPX_WARM_ONLY:-}" = load ]; then
    for d in "${DEPTHS[@]}"; do log "load, io depth $d: median ${LOAD[$d]} MB/s"; done
    exit 0
fi

fio_mbps() { # fio_mbps ARGS...: MB/s of a read of the space file from a cold cache
    drop_caches
    fio --name=peer --filename="$SPACE_FILE" --readonly --bs="$PAGE" "$@" \
        --output-format=terse --terse-version=3 2>/dev/null |
        awk -F';' '{ printf "%.1f", $7 / 1024 }'   # read KiB/s -> MB/s
}
runs=()
for ((r = 1; r <= REPS; r++)); do
    v=$(fio_mbps --rw=read --ioengine=psync --size="${DUMP_MB}m")
    log "fio sequential read, run $r: $v MB/s"
    runs+=("$v")
done
FIO_SEQ=$(median "${runs[@]}")
for d in "${DEPTHS[@]}"; do
    runs=()
    for ((r = 1; r <= REPS; r++)); do
        v=$(fio_mbps --rw=randread --ioengine=libaio --direct=1 --iodepth="$d" --runtime=5 --time_based)
        log "fio random read, depth $d, run $r: $v MB/s"
        runs+=("$v")
    done
    FIO_RAND[$d]=$(median "${runs[@]}")
done

# ---------------------------------------------------------------- 3. after a restart
# timeline LABEL: restart cold (load per LABEL), run the Zipf timeline,
# keep its windows in $OUT/LABEL.csv (t_ms, ops, hits, p99_ns)
timeline() {
    restart_cold "$2"
    q "SELECT round(extract(epoch FROM window_start - min(window_start) OVER ()) * 1000), ops, hits, round(p99_ns)
       FROM bufpool_test.bench_cold_timeline($SPACE_ID, $N_PAGES, 'zipf', $((TL_SECONDS * 1000)), $TL_WINDOW_MS, 3)
       ORDER BY window_start;" | tr '|' ',' | as_pg_in "$BENCH" tee "$OUT/$1.csv" >/dev/null
}
# first_at CSV PCT: ms of the first window whose hit ratio >= PCT, or "never"
first_at() {
    awk -F, -v p="$2" '$2 > 0 && 100.0 * $3 / $2 >= p { print $1; found = 1; exit }
        END { if (!found) print "never" }' "$1"
}
# p99_median CSV FROM_MS TO_MS: median p99 (µs) of the windows starting in [FROM, TO)
p99_median() {
    awk -F, -v a="$2" -v b="$3" '$1 >= a && $1 < b { print $4 / 1000 }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int((NR + 1) / 2)]; else print "n/a" }'
}
TARGET=$(awk -v h="$H_SS" 'BEGIN { printf "%.2f", 0.9 * h }')

timeline with_load on
LOAD_ROW=$(q "SELECT round(extract(epoch FROM finished - started) * 1000), pages_done, state
              FROM bufpool.dump_load_status WHERE operation = 'load' ORDER BY id DESC LIMIT 1;")
IFS='|' read -r LOAD_MS LOAD_PAGES LOAD_STATE <<<"$LOAD_ROW"
# steady state: the same access on the warm pool (page cache warm too)
q "SELECT round(extract(epoch FROM window_start - min(window_start) OVER ()) * 1000), ops, hits, round(p99_ns)
   FROM bufpool_test.bench_cold_timeline($SPACE_ID, $N_PAGES, 'zipf', 10000, $TL_WINDOW_MS, 4)
   ORDER BY window_start;" | tr '|' ',' | as_pg_in "$BENCH" tee "$OUT/steady.csv" >/dev/null
timeline without_load off
stop_server

T_WITH=$(first_at "$OUT/with_load.csv" "$TARGET")
T_WITHOUT=$(first_at "$OUT/without_load.csv" "$TARGET")
P99_LOAD=$(p99_median "$OUT/with_load.csv" 0 "$LOAD_MS")
P99_NOLOAD=$(p99_median "$OUT/without_load.csv" 0 "$LOAD_MS")
P99_STEADY=$(p99_median "$OUT/steady.csv" 0 1000000)
H_STEADY=$(awk -F, '{ o += $2; h += $3 } END { printf "%.2f", 100.0 * h / o }' "$OUT/steady.csv")
log "hit ratio 90% of $H_SS% = $TARGET%: after ${T_WITH} ms with the load, ${T_WITHOUT} ms without"
log "p99 during the load ${P99_LOAD} µs (cold start without load ${P99_NOLOAD} µs), steady ${P99_STEADY} µs"

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { awk -v r="$1" -v t="$2" -v dir="$3" 'BEGIN { if (r == "n/a") print "n/a"; else if ((dir == ">=" && r >= t) || (dir == "<=" && r <= t)) print "PASS"; else print "FAIL" }'; }
KB_PER_GIB_25=$(awk -v b="$D25_BYTES" -v g="$POOL_GIB" 'BEGIN { printf "%.0f", b / 1024 / g }')
KB_PER_GIB_100=$(awk -v b="$D100_BYTES" -v g="$POOL_GIB" 'BEGIN { printf "%.0f", b / 1024 / g }')
MS_PER_GIB_25=$(awk -v t="$D25_MS" -v g="$POOL_GIB" 'BEGIN { printf "%.0f", t / g }')
MS_PER_GIB_100=$(awk -v t="$D100_MS" -v g="$POOL_GIB" 'BEGIN { printf "%.0f", t / g }')
ROWS=()
for d in "${DEPTHS[@]}"; do
    rr=$(ratio "${LOAD[$d]}" "${FIO_RAND[$d]}")
    rs=$(ratio "${LOAD[$d]}" "$FIO_SEQ")
    ROWS+=("| $d | ${LOAD[$d]} | ${LOAD_RAW[$d]} | ${FIO_RAND[$d]} | $rr | $(verdict "$rr" 0.8 ">=") | $FIO_SEQ | $rs | $(verdict "$rs" 1.0 ">=") |")
done
P99_RATIO=$(ratio "$P99_LOAD" "$P99_STEADY")
P99_RATIO_COLD=$(ratio "$P99_LOAD" "$P99_NOLOAD")
CACHE_NOTE="the page cache was dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every load, fio run and restart"
[ "$CAN_DROP" = 1 ] || CACHE_NOTE="**the page cache could NOT be dropped (not root): the reads came from memory and the figures say nothing about the disk**"

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Warm restart: dump and load (issue 18)

Run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(basename "$0"), $((SECONDS / 60)) min $((SECONDS % 60)) s.

$(machine_md)

## Set-up

Pool ${POOL_MB} MB (${POOL_GIB} GiB of frames; 2 instances, ${PAGE}-byte pages);
a space of $N_PAGES pages ($((N_PAGES * PAGE / 1048576)) MB), every page written;
a Zipf working set over it (bufpool_test.bench_replay, 3M accesses of
warm-up) holding $IN_POOL pages of the space in the pool, hit ratio
$H_SS%. $CACHE_NOTE. Medians of $REPS runs.

## Results

### Load throughput from a cold page cache

The load of a dump of $DUMP_PAGES pages ($DUMP_MB MB, dump_pct 100), by
load_io_depth, against fio reading the same space file: random 8 kB reads
(libaio, O_DIRECT) at the same depth, and a sequential read of $DUMP_MB MB
(8 kB psync, kernel read-ahead). "load MB/s" counts the pages loaded,
"read MB/s" what the load read, the gaps it read over included (the
dump names about half the pages of the file, scattered by the Zipf
permutation).

| load_io_depth | load MB/s | read MB/s | fio random MB/s | load / random | >= 0.8 | fio sequential MB/s | load / sequential | >= 1.0 |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

### Dump

| dump_pct | pages | time (ms) | file (bytes) | ms per GiB of pool | kB per GiB of pool |
|---|---|---|---|---|---|
| 25 | | $D25_MS | $D25_BYTES | $MS_PER_GIB_25 | $KB_PER_GIB_25 |
| 100 | $DUMP_PAGES | $D100_MS | $D100_BYTES | $MS_PER_GIB_100 | $KB_PER_GIB_100 |

InnoDB's \`ib_buffer_pool\` holds one "space,page" text line per page, about
500 kB per GiB of 16 kB pages at its default 25%; ours is 8 bytes a page
(with 8 kB pages a GiB holds twice the pages).

### After a restart from a cold page cache

One session runs the same Zipf access ($TL_SECONDS s, bufpool_test.bench_cold_timeline,
${TL_WINDOW_MS} ms windows, every fetch timed, misses included) from the
moment the pool is ready. Pre-restart hit ratio $H_SS%; 90% of it: $TARGET%.
The load (load_at_startup = on) took $LOAD_MS ms for $LOAD_PAGES pages ($LOAD_STATE), while the session ran.

| measure | with load_at_startup | without | ratio |
|---|---|---|---|
| time until a window's hit ratio >= $TARGET% (ms) | $T_WITH | $T_WITHOUT | |
| median p99 of the windows during the load (µs) | $P99_LOAD | $P99_NOLOAD | $P99_RATIO_COLD |

| measure | during the load | steady state (warm pool, hit ratio $H_STEADY%) | ratio | target <= 2 |
|---|---|---|---|---|
| median p99 of the windows (µs) | $P99_LOAD | $P99_STEADY | $P99_RATIO | $(verdict "$P99_RATIO" 2 "<=") |

The windows: \`with_load.csv\`, \`without_load.csv\`, \`steady.csv\` in $OUT
(t_ms, ops, hits, p99_ns).
EOF
cat "$RESULTS"
log "results written to $RESULTS"
