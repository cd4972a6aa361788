#!/usr/bin/env bash
# Compressed spaces benchmark of bufpool_ext (src/storage/pagezip.c,
# src/pool/zip.c), run by scripts/bench.sh or alone:
#   BPX_SKIP_BUILD=1 bash scripts/bench_zip.sh
#
# One throwaway cluster, 8 kB pages, 2 instances.  Spaces of 3x the
# pool's pages (BPX_ZIP_POOL_MB), every page written through the C API
# (bufpool_test.zip_fill):
#   text     words from a small vocabulary with numbers among them, as row
#            data is (lz4 makes about 2.5x of it; the figure measured is
#            printed), stored uncompressed, with lz4 and with zstd, both
#            at key_block_size 4096;
#   random   random bytes (incompressible), uncompressed and with lz4.
# Then, for each case, a server restart (an empty pool) and one session
# reading pages drawn with Zipf(0.9) over the space
# (bufpool_test.bench_zip: no page fetched beforehand): BPX_ZIP_WARM
# fetches to fill the pool, then BPX_ZIP_OPS timed ones.  Reported: the
# hit ratio (fetches that did no I/O: a frame hit or a decompression of
# an image kept in memory), the reads per second from disk, the ns per
# fetch and fetches per second.  The text space uncompressed is also run
# with a pool twice as large.  Cases alternate over BPX_ZIP_ROUNDS rounds
# (medians); ratios are against the uncompressed space in the same run.
#
# The space files are in the kernel's page cache here, unless
# BPX_ZIP_COLD=1 (root): then the page cache is dropped before each timed
# phase and the server runs in a memory cgroup that leaves the page cache
# no room for the space (BPX_ZIP_CGROUP_MB above the pool), so a miss is
# a read from the disk: the I/O-bound case.
#
# Also: compress and decompress MB/s of each algorithm on the text pages
# (bufpool.cmp: bytes of pages / time), next to the figures lz4's and
# zstd's authors publish for their libraries.
#
#   BPX_ZIP_PORT      port / socket number (default 5489)
#   BPX_ZIP_POOL_MB   pool size (default 64)
#   BPX_ZIP_WARM      warm-up fetches (default 400000)
#   BPX_ZIP_OPS       timed fetches (default 1000000)
#   BPX_ZIP_ROUNDS    rounds (default 3)
#   BPX_ZIP_COLD=1    the I/O-bound case (root: cgroup, drop_caches)
#   BPX_SKIP_BUILD=1  do not run deps/build/install first
# Results: stdout and bench/results/zip.md (zip_cold.md with BPX_ZIP_COLD).
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_ZIP_PORT:-5489}"
POOL_MB="${BPX_ZIP_POOL_MB:-64}"
WARM="${BPX_ZIP_WARM:-400000}"
OPS="${BPX_ZIP_OPS:-1000000}"
ROUNDS="${BPX_ZIP_ROUNDS:-3}"
COLD="${BPX_ZIP_COLD:-0}"
PAGE=8192
KBS=4096
N_PAGES=$((POOL_MB * 3 * 1048576 / PAGE))
RESULTS_DIR="$REPO/bench/results"
if [ "$COLD" = 1 ]; then RESULTS="$RESULTS_DIR/zip_cold.md"; else RESULTS="$RESULTS_DIR/zip.md"; fi

bench_prepare bench_zip
# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

CGROUP=""
if [ "$COLD" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "BPX_ZIP_COLD=1 needs root (a memory cgroup, drop_caches)"
    cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
    [ -n "$cg" ] && [ -f "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" ] ||
        die "no memory cgroup (v1) to run the server in"
    CGROUP="/sys/fs/cgroup/memory${cg%/}/bufpool_ext_bench_zip"
    mkdir -p "$CGROUP"
    trap 'stop_server; rmdir "$CGROUP" 2>/dev/null || true' EXIT
fi

bench_initdb bufpool_zip.conf
bench_write_conf bufpool_zip.conf <<EOF
bufpool_ext.size = '${POOL_MB}MB'
bufpool_ext.chunk_size = '8MB'
bufpool_ext.instances = 2
bufpool_ext.dump_at_shutdown = off
bufpool_ext.load_at_startup = off
shared_buffers = '16MB'
EOF

# start with pool MB (and, cold, in the cgroup with room for the pool only)
start_with_pool() {
    as_pg_in "$BENCH" sed -i "s/^bufpool_ext.size = .*/bufpool_ext.size = '$1MB'/" "$DATA/bufpool_zip.conf"
    if [ -n "$CGROUP" ]; then
        sync
        echo 3 >/proc/sys/vm/drop_caches
        echo $((($1 + ${BPX_ZIP_CGROUP_MB:-96}) * 1048576)) >"$CGROUP/memory.limit_in_bytes"
        echo $$ >"$CGROUP/cgroup.procs"
    fi
    bench_start
    [ -n "${2:-}" ] || bench_wait_ready
}

start_with_pool "$POOL_MB" first
q "CREATE EXTENSION bufpool_ext;" >/dev/null
q "CREATE EXTENSION bufpool_test;" >/dev/null
declare -A SPACE
make_space() { # make_space NAME KIND COMPRESSION
    local id t0
    if [ "$3" = none ]; then
        id=$(q "SELECT bufpool.create_space('$1', $N_PAGES);")
    else
        id=$(q "SELECT bufpool.create_space('$1', $N_PAGES, '$3', $KBS);")
    fi
    t0=$(date +%s)
    q "SELECT bufpool_test.zip_fill($id, 0, $N_PAGES, '$2');" >/dev/null
    q "SELECT bufpool.flush();" >/dev/null
    q "SELECT bufpool.checkpoint();" >/dev/null
    SPACE[$1]=$id
    log "space $1 ($id): $N_PAGES pages of $2, $3, written in $(($(date +%s) - t0)) s"
}
q "SELECT * FROM bufpool.cmp_reset;" >/dev/null
make_space text_none text none
make_space text_lz4 text lz4
q "SELECT * FROM bufpool.cmp_reset;" >/dev/null
make_space text_zstd text zstd
make_space random_none random none
make_space random_lz4 random lz4

# the text pages' compression, measured by the codec on one page
RATIO_LZ4=$(q "SELECT round(ratio::numeric, 2) FROM bufpool_test.zip_roundtrip('lz4', $KBS, 'text', $PAGE);")
RATIO_ZSTD=$(q "SELECT round(ratio::numeric, 2) FROM bufpool_test.zip_roundtrip('zstd', $KBS, 'text', $PAGE);")
log "text pages: lz4 makes ${RATIO_LZ4}x, zstd ${RATIO_ZSTD}x of them"
stop_server

# run_case SPACE_NAME POOL_MB: "hit_ratio reads_per_s ns_per_fetch fetches_per_s unzips"
run_case() {
    local id=${SPACE[$1]} before after
    start_with_pool "$2" >&2
    q "SELECT ops FROM bufpool_test.bench_zip($id, $N_PAGES, 0.9, $WARM, 7);" >/dev/null
    before=$(q "SELECT sum(number_pages_read) || ' ' || sum(uncompress_total) FROM bufpool.stats;")
    if [ -n "$CGROUP" ]; then sync; echo 1 >/proc/sys/vm/drop_caches; fi
    local r
    r=$(q "SELECT ops || ' ' || ns_per_fetch FROM bufpool_test.bench_zip($id, $N_PAGES, 0.9, $OPS, 11);")
    after=$(q "SELECT sum(number_pages_read) || ' ' || sum(uncompress_total) FROM bufpool.stats;")
    stop_server >&2
    awk -v b="$before" -v a="$after" -v r="$r" 'BEGIN {
        split(b, B, " "); split(a, A, " "); split(r, R, " ");
        reads = A[1] - B[1]; unz = A[2] - B[2]; ops = R[1]; ns = R[2];
        secs = ops * ns / 1e9;
        printf "%.4f %.0f %.1f %.0f %d\n", 1 - reads / ops, reads / secs, ns, 1e9 / ns, unz }'
}

CASES=("text_none:$POOL_MB" "text_none:$((POOL_MB * 2))" "text_lz4:$POOL_MB" "text_zstd:$POOL_MB"
       "random_none:$POOL_MB" "random_lz4:$POOL_MB")
declare -A RES
for ((round = 1; round <= ROUNDS; round++)); do
    for c in "${CASES[@]}"; do
        name=${c%%:*}
        mb=${c##*:}
        v=$(run_case "$name" "$mb")
        RES[$c]="${RES[$c]:-}$v;"
        log "round $round, $name with a ${mb} MB pool: hit ratio, reads/s, ns/fetch, fetches/s, decompressions: $v"
    done
done

# median of field F over the rounds of case C
med() {
    echo "${RES[$1]}" | tr ';' '\n' | awk -v f="$2" 'NF { print $f }' | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# compression speeds: bytes of pages over the time bufpool.cmp counted
start_with_pool "$POOL_MB" >/dev/null
q "SELECT * FROM bufpool.cmp_reset;" >/dev/null
q "SELECT bufpool_test.zip_fill(${SPACE[text_lz4]}, 0, 4096, 'text', 3), bufpool.flush();" >/dev/null
LZ4_C=$(q "SELECT round((compress_ops * $PAGE / 1048576.0 / (compress_time / 1e6))::numeric) FROM bufpool.cmp_reset WHERE page_size = $KBS;")
q "SELECT bufpool_test.zip_fill(${SPACE[text_zstd]}, 0, 4096, 'text', 3), bufpool.flush();" >/dev/null
ZSTD_C=$(q "SELECT round((compress_ops * $PAGE / 1048576.0 / (compress_time / 1e6))::numeric) FROM bufpool.cmp_reset WHERE page_size = $KBS;")
stop_server >/dev/null
start_with_pool "$POOL_MB" >/dev/null
q "SELECT count(bufpool.evict(${SPACE[text_lz4]}, g)) FROM generate_series(0, 4095) g;" >/dev/null
q "SELECT * FROM bufpool.cmp_reset;" >/dev/null
q "SELECT count(bufpool.read_page(${SPACE[text_lz4]}, g)) FROM generate_series(0, 4095) g;" >/dev/null
LZ4_D=$(q "SELECT round((uncompress_ops * $PAGE / 1048576.0 / (uncompress_time / 1e6))::numeric) FROM bufpool.cmp_reset WHERE page_size = $KBS;")
q "SELECT count(bufpool.read_page(${SPACE[text_zstd]}, g)) FROM generate_series(0, 4095) g;" >/dev/null
ZSTD_D=$(q "SELECT round((uncompress_ops * $PAGE / 1048576.0 / (uncompress_time / 1e6))::numeric) FROM bufpool.cmp_reset WHERE page_size = $KBS;")
stop_server >/dev/null
log "lz4: compress $LZ4_C MB/s, decompress $LZ4_D MB/s; zstd (level 1): compress $ZSTD_C MB/s, decompress $ZSTD_D MB/s"

base="text_none:$POOL_MB"
big="text_none:$((POOL_MB * 2))"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
    echo "# Compressed spaces: Zipf(0.9) reads, $([ "$COLD" = 1 ] && echo "I/O bound (page cache dropped, server in a memory cgroup)" || echo "space files in the page cache")"
    echo
    echo "Written by scripts/bench_zip.sh on $(date -u +%Y-%m-%d). Pool ${POOL_MB} MB (2 instances, 8 kB pages);"
    echo "each space ${N_PAGES} pages ($((N_PAGES * PAGE / 1048576)) MB uncompressed, 3x the pool); key_block_size $KBS."
    echo "Text pages: lz4 ${RATIO_LZ4}x, zstd ${RATIO_ZSTD}x (one page, bufpool_test.zip_roundtrip). One session,"
    echo "$WARM warm-up fetches then $OPS timed, a restart (empty pool) before each case; medians of $ROUNDS rounds."
    echo "Hit ratio: fetches without I/O (a frame hit, or a decompression of an image kept in memory)."
    echo
    echo "| space | pool | hit ratio | disk reads/s | ns/fetch | fetches/s | vs uncompressed (same pool) |"
    echo "|---|---|---|---|---|---|---|"
    for c in "${CASES[@]}"; do
        name=${c%%:*}
        mb=${c##*:}
        peer=$base
        [[ $name == random_* ]] && peer="random_none:$POOL_MB"
        echo "| $name | $mb MB | $(med "$c" 1) | $(med "$c" 2) | $(med "$c" 3) | $(med "$c" 4) | $(ratio "$(med "$c" 4)" "$(med "$peer" 4)") |"
    done
    echo
    echo "- lz4 hit ratio $(med "text_lz4:$POOL_MB" 1) against $(med "$big" 1) for the uncompressed space with a pool twice as large (target: at least that)."
    echo "- lz4 throughput $(ratio "$(med "text_lz4:$POOL_MB" 4)" "$(med "$base" 4)")x the uncompressed space (target: at least 1.5x in the I/O-bound case); zstd $(ratio "$(med "text_zstd:$POOL_MB" 4)" "$(med "$base" 4)")x."
    echo "- incompressible pages: lz4 $(ratio "$(med "random_lz4:$POOL_MB" 4)" "$(med "random_none:$POOL_MB" 4)")x the uncompressed space (target: at least 0.9x)."
    echo "- codec speed on the text pages (page bytes over the time bufpool.cmp counts): lz4 compress $LZ4_C MB/s, decompress $LZ4_D MB/s;"
    echo "  zstd level 1 compress $ZSTD_C MB/s, decompress $ZSTD_D MB/s. The libraries' authors publish about 780 and 4970 MB/s for lz4"
    echo "  and 510 and 1550 MB/s for zstd -1 on a desktop core and the Silesia corpus (their README tables)."
} | tee "$RESULTS"
