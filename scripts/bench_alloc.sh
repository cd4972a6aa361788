#!/usr/bin/env bash
# Allocator benchmark of bufpool_ext: the arena (src/mmgr/arena.c) and the heap
# (src/mmgr/heap.c) against malloc and palloc (an AllocSet context), in C loops
# (bufpool_test.alloc_bench, test/modules/bufpool_test/alloc_tests.c).  Run by scripts/bench.sh after
# the resize part, or alone:  BPX_SKIP_BUILD=1 bash scripts/bench_alloc.sh
#
# Starts a throwaway cluster under tmp/bench_alloc (port $BPX_ALLOC_PORT,
# socket in /tmp, no TCP) with a 32 MB pool, then for every allocator x
# pattern x size runs bufpool_test.alloc_bench BPX_ALLOC_REPS times, the
# repetitions interleaved (each repetition runs every case once, so a slow
# spell of the machine does not land on one allocator only), and keeps
# the median.
#
#   patterns  pairs      allocate, then free at once (the arena's free is
#                        bp_arena_free_last, which gives back its latest
#                        allocation; it is also cleared for reuse every
#                        1024 allocations)
#             batch1024  1024 allocations, then free them all / reset
#   sizes     16, 4096, uniform16-1024 (fixed-seed sizes made before timing)
#
# The targets of the issue are printed as PASS/FAIL next to the figures:
# the arena at least 3x faster than palloc, the heap no slower than palloc.
#
# Tables go to stdout and, with every run and the machine, to
# bench/results/alloc.md.  The server is stopped on exit.
#
#   BPX_ALLOC_PORT   port / socket number (default 5485)
#   BPX_ALLOC_REPS   repetitions of each measurement (default 3)
#   BPX_ALLOC_OPS    allocations per run (default 2000000)
#   BPX_SKIP_BUILD=1 do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_ALLOC_PORT:-5485}"
REPS="${BPX_ALLOC_REPS:-3}"
N_OPS="${BPX_ALLOC_OPS:-2000000}"
ALLOCATORS=(arena heap malloc palloc)
PATTERNS=(pairs batch1024)
SIZES=(16 4096 uniform16-1024)
# targets of the issue
ARENA_VS_PALLOC_MIN=3.0
HEAP_VS_PALLOC_MIN=1.0
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/alloc.md"

bench_prepare bench_alloc

# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

bench_initdb bufpool_bench_alloc.conf
bench_write_conf bufpool_bench_alloc.conf <<EOF
bufpool_ext.size = '32MB'
bufpool_ext.chunk_size = '8MB'
EOF
bench_start
q "CREATE EXTENSION bufpool_ext;" >/dev/null
q "CREATE EXTENSION bufpool_test;" >/dev/null

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$SECONDS
declare -A NS RATIO RAW
for ((r = 1; r <= REPS; r++)); do
    log "repetition $r of $REPS"
    for s in "${SIZES[@]}"; do
        for p in "${PATTERNS[@]}"; do
            for a in "${ALLOCATORS[@]}"; do
                out=$(q "SELECT round(ns_per_op::numeric, 3) || ' ' || round(reserved_per_requested::numeric, 3)
                         FROM bufpool_test.alloc_bench('$a', '$p', '$s', $N_OPS);")
                k="$s|$p|$a"
                RAW[$k]="${RAW[$k]:-}${RAW[$k]:+ }${out%% *}"
                RATIO[$k]=${out##* }
            done
        done
    done
done

# buddy allocator: alloc+free pairs (bufpool_test.buddy_bench) against malloc
# pairs of the same size (alloc_bench 'malloc' 'pairs'), interleaved
BUDDY_SIZES=(64 1000 4096 8192)
BUDDY_MAX_NS=50
declare -A BRAW MRAW
for ((r = 1; r <= REPS; r++)); do
    log "buddy repetition $r of $REPS"
    for s in "${BUDDY_SIZES[@]}"; do
        b=$(q "SELECT round(bufpool_test.buddy_bench($N_OPS, $s)::numeric, 3);")
        m=$(q "SELECT round(ns_per_op::numeric, 3) FROM bufpool_test.alloc_bench('malloc', 'pairs', '$s', $N_OPS);")
        BRAW[$s]="${BRAW[$s]:-}${BRAW[$s]:+ }$b"
        MRAW[$s]="${MRAW[$s]:-}${MRAW[$s]:+ }$m"
    done
done
BROWS=()
for s in "${BUDDY_SIZES[@]}"; do
    # shellcheck disable=SC2086  # split the list of figures
    bmed=$(median ${BRAW[$s]})
    # shellcheck disable=SC2086
    mmed=$(median ${MRAW[$s]})
    BROWS+=("$(awk -v s="$s" -v b="$bmed" -v m="$mmed" -v br="${BRAW[$s]}" -v lim="$BUDDY_MAX_NS" 'BEGIN {
        printf "| %s | %.1f | %.1f | %.2fx | %s | %s |", s, b, m, m / b,
            (b <= lim ? "PASS" : "FAIL"), br }')")
done
BTABLE=$(printf '%s\n' "| size (bytes) | buddy alloc+free ns | malloc+free ns | buddy vs malloc | target <= ${BUDDY_MAX_NS} ns | buddy runs |" \
    "|---|---|---|---|---|---|" "${BROWS[@]}")

ELAPSED=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

ROWS=()
RAWROWS=()
TARGETS=()
for s in "${SIZES[@]}"; do
    for p in "${PATTERNS[@]}"; do
        for a in "${ALLOCATORS[@]}"; do
            k="$s|$p|$a"
            # shellcheck disable=SC2086  # split the list of figures
            NS[$k]=$(median ${RAW[$k]})
            RAWROWS+=("| $s | $p | $a | ${RAW[$k]} | ${NS[$k]} |")
        done
        ROWS+=("$(awk -v s="$s" -v p="$p" \
            -v ar="${NS[$s|$p|arena]}" -v he="${NS[$s|$p|heap]}" \
            -v ma="${NS[$s|$p|malloc]}" -v pa="${NS[$s|$p|palloc]}" \
            -v rar="${RATIO[$s|$p|arena]}" -v rhe="${RATIO[$s|$p|heap]}" \
            -v rma="${RATIO[$s|$p|malloc]}" -v rpa="${RATIO[$s|$p|palloc]}" 'BEGIN {
                printf "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.2fx | %.2fx | %s / %s / %s / %s |",
                    s, p, ar, he, ma, pa, pa / ar, pa / he, ma / ar, ma / he, rar, rhe, rma, rpa }')")
        TARGETS+=("$(awk -v s="$s" -v p="$p" -v ar="${NS[$s|$p|arena]}" -v he="${NS[$s|$p|heap]}" \
            -v pa="${NS[$s|$p|palloc]}" -v amin="$ARENA_VS_PALLOC_MIN" -v hmin="$HEAP_VS_PALLOC_MIN" 'BEGIN {
                x = pa / ar; y = pa / he;
                printf "| %s | %s | %.2fx %s | %.2fx %s |", s, p,
                    x, (x >= amin ? "PASS" : "FAIL"), y, (y >= hmin ? "PASS" : "FAIL") }')")
    done
done

HEADER="| size | pattern | arena ns/op | heap ns/op | malloc ns/op | palloc ns/op | arena vs palloc | heap vs palloc | arena vs malloc | heap vs malloc | reserved/requested (arena / heap / malloc / palloc) |
|---|---|---|---|---|---|---|---|---|---|---|"
TABLE=$(printf '%s\n' "$HEADER" "${ROWS[@]}")
THEADER="| size | pattern | arena speed-up over palloc (target >= ${ARENA_VS_PALLOC_MIN}x) | heap speed-up over palloc (target >= ${HEAP_VS_PALLOC_MIN}x) |
|---|---|---|---|"
TTABLE=$(printf '%s\n' "$THEADER" "${TARGETS[@]}")

echo
echo "$TABLE"
echo
echo "$TTABLE"
echo
echo "$BTABLE"
echo

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Allocators: arena, heap and buddy against malloc and palloc

Written by \`make bench\` (scripts/bench_alloc.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)
- Load average (1, 5, 15 min) when the measurements began: $LOAD_BEFORE; when they ended: $LOAD_AFTER (this benchmark alone keeps 1 process busy; more means something else ran)

## What is measured

\`bufpool_test.alloc_bench(allocator, pattern, size_spec, n_ops)\` (test/modules/bufpool_test/alloc_tests.c)
runs n_ops = $N_OPS allocations in a C loop in one backend and reports
nanoseconds per allocation, its free (or its share of the free-all /
reset) included. Each allocation's first byte is written. Sizes are
taken in turn from 4096 sizes made before the clock starts (fixed size,
or uniform in 16..1024 from a fixed-seed PRNG).

- **arena**: a local arena (8 kB first block); \`pairs\`: the free is
  \`bp_arena_free_last\` (last in, first out: the latest allocation's
  bytes come back) and the arena is also cleared for reuse
  (\`bp_arena_clear_for_reuse\`) every 1024 allocations; \`batch1024\`:
  no free, cleared for reuse after 1024 (this is also what pairs cost
  without free_last).
- **heap**: a DYNAMIC heap; \`pairs\`: \`bp_heap_free_top\` after each
  allocation; \`batch1024\`: \`bp_heap_empty\` after 1024.
- **malloc**: glibc malloc / free; \`batch1024\`: 1024 frees.
- **palloc**: a fresh AllocSet context (ALLOCSET_DEFAULT_SIZES);
  \`pairs\`: pfree; \`batch1024\`: MemoryContextReset.

"vs palloc" is palloc's ns/op divided by the allocator's (2.00x = twice
as fast). reserved/requested: an untimed pass of
min(n_ops, 16384) allocations records the most bytes the allocator held
(arena/heap: bytes in blocks; palloc: MemoryContextMemAllocated; malloc:
malloc_usable_size + 8 per live chunk) and the most bytes requested and
still live at the same points (one allocation for pairs; 1024 for
batch1024).
Each figure is the median of $REPS runs. Total run time: ${ELAPSED} s.

## Results

$TABLE

## Targets of the issue

$TTABLE

## Buddy allocator

\`bufpool_test.buddy_bench(n_ops, size)\` times $N_OPS \`bp_buddy_alloc\` +
\`bp_buddy_free\` pairs of one size on one instance's pool (uncontended,
accounting included), against glibc malloc + free pairs of the same size
in the same run; median of $REPS interleaved runs.

$BTABLE

## Every run (ns/op, in run order)

| size | pattern | allocator | runs | median |
|---|---|---|---|---|
$(printf '%s\n' "${RAWROWS[@]}")
EOF
log "results written to $RESULTS (benchmark time ${ELAPSED} s)"
