#!/usr/bin/env bash
# Memory overhead of the bufpool_ext pool: the bytes that are not page
# frames (block control blocks with their list links and content locks;
# the page hash; the fixed part in main shared memory), per
# page and as a percent of the frames, for several page sizes, read from
# bufpool_ext's own memory instruments (bufpool.memory_summary_global_by_
# event_name).  Run by scripts/bench.sh, or alone:
#   BPX_SKIP_BUILD=1 bash scripts/bench_memory.sh
# Target of the benchmark issue: control blocks, hash and lists cost at
# most 1.5% of the pool.  Writes bench/results/memory_overhead.md.
#
#   BPX_MEMORY_PORT   port / socket number (default 5491)
#   BPX_MEMORY_SIZE   pool size (default 1024MB)
#   BPX_SKIP_BUILD=1  do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_MEMORY_PORT:-5491}"
POOL_SIZE="${BPX_MEMORY_SIZE:-1024MB}"
PAGE_SIZES=(4096 8192 16384 65536)
TARGET_PCT=1.5
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/memory_overhead.md"

bench_prepare bench_memory

# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

bench_initdb bufpool_bench_memory.conf
ROWS=()
for ps in "${PAGE_SIZES[@]}"; do
    bench_write_conf bufpool_bench_memory.conf <<EOF
bufpool_ext.page_size = $ps
bufpool_ext.size = '$POOL_SIZE'
bufpool_ext.chunk_size = '128MB'
EOF
    stop_server
    bench_start
    q "CREATE EXTENSION IF NOT EXISTS bufpool_ext;" >/dev/null
    bench_wait_ready
    # frames: pages x page size; overhead: control blocks (with the list
    # links, locks and condition variables in them) and the page hash;
    # the fixed shared part is shown apart (it does not grow with the pool)
    row=$(q "WITH m AS (
            SELECT event_name, current_number_of_bytes_used AS b
            FROM bufpool.memory_summary_global_by_event_name),
          s AS (SELECT pages, page_size FROM bufpool.status())
        SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s |',
            s.page_size, s.pages,
            (SELECT b FROM m WHERE event_name = 'memory/bufpool/block_control'),
            (SELECT b FROM m WHERE event_name = 'memory/bufpool/page_hash'),
            round(((SELECT b FROM m WHERE event_name = 'memory/bufpool/block_control')
                 + (SELECT b FROM m WHERE event_name = 'memory/bufpool/page_hash'))::numeric / s.pages, 1),
            round(100.0 * ((SELECT b FROM m WHERE event_name = 'memory/bufpool/block_control')
                 + (SELECT b FROM m WHERE event_name = 'memory/bufpool/page_hash'))
                 / (s.pages::numeric * s.page_size), 3),
            (SELECT b FROM m WHERE event_name = 'memory/bufpool/shmem'),
            CASE WHEN 100.0 * ((SELECT b FROM m WHERE event_name = 'memory/bufpool/block_control')
                 + (SELECT b FROM m WHERE event_name = 'memory/bufpool/page_hash'))
                 / (s.pages::numeric * s.page_size) <= $TARGET_PCT THEN 'PASS' ELSE 'FAIL' END)
        FROM s;")
    ROWS+=("$row")
    log "page size $ps: $row"
done

TABLE="| page size | pages | control blocks, bytes | page hash, bytes | overhead per page, bytes | overhead, % of frames (target <= $TARGET_PCT) | fixed main shared memory, bytes | verdict |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")"
echo
echo "$TABLE"

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Memory overhead of the pool

Written by \`make bench\` (scripts/bench_memory.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)

## What is measured

A $POOL_SIZE pool (128 MB chunks, one instance) at each page size, read from
bufpool_ext's own memory instruments right after start:
\`memory/bufpool/block_control\` (one control block per frame: identity,
state word, content lock word, hash, LRU and flush-list links, access
time, oldest LSN, plus each chunk's header and its padding to 4 kB) and \`memory/bufpool/page_hash\` (the buckets). The lists have no
memory of their own: their links are in the control blocks. The fixed
part in main shared memory (instance heads, locks, per-process counters
and hazard slots; it depends on max_connections, not on the pool) is
shown apart. The target of the benchmark issue is at most 1.5% of the
pool.

## Results

$TABLE
EOF
log "results written to $RESULTS"
