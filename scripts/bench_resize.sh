#!/usr/bin/env bash
# Online-resize benchmark of bufpool_ext: how long a grow and a shrink of
# the pool take, and what a resize does to the latency of page fetches
# in running sessions.  Run by scripts/bench.sh after the hit-path part,
# or alone:  BPX_SKIP_BUILD=1 bash scripts/bench_resize.sh
#
# Starts a throwaway cluster under tmp/bench_resize (port
# $BPX_RESIZE_PORT, socket in /tmp, no TCP) with 8 kB pages, 128 MB
# chunks, 2 instances, a 1 GB pool (max_size 8 GB, resize_timeout 60 s)
# and the page cleaners working, then:
#
#  a. Duration.  A space of 300000 pages (2.3 GB) is read through the
#     pool so that it is full, then, per repetition: grow 1 -> 2 GiB,
#     fill the 2 GiB pool with clean pages and shrink 2 -> 1 GiB; grow
#     again, fill, dirty 30% of the pool's pages and shrink 2 -> 1 GiB;
#     and, since a full pool only evicts, a shrink that relocates: free
#     half the 1 GiB pool, grow, read as many pages (into the new
#     chunks), shrink.  The duration of a resize is finished - started of
#     its row in bufpool.resize_status (the pool manager's clock),
#     cross-checked against the time bufpool.resize() took in the client.
#
#  b. Fetch latency.  The big space is dropped; a space of 10000 pages
#     is the hot set.  bufpool_test.bench_fetch_latency (test/modules/bufpool_test/bench.c) times
#     every fetch+release of a Zipf trace over it for a window, first
#     with the pool idle (steady state), then while another session
#     shrinks and grows the pool 1 GiB <-> 2 GiB without a pause, the hot
#     set placed beforehand in the chunks the first shrink removes; with
#     1 and with 2 fetching sessions.
#
#  c. The targets of the issue, printed as PASS/FAIL next to the figure.
#
# Tables go to stdout and, with every run and the machine, to
# bench/results/resize.md.  The server is stopped on exit.
#
#   BPX_RESIZE_PORT       port / socket number (default 5486)
#   BPX_RESIZE_REPS       repetitions of each measurement (default 3)
#   BPX_RESIZE_WINDOW_MS  length of a latency window in ms (default 3000)
#   BPX_SKIP_BUILD=1      do not run deps/build/install first
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_RESIZE_PORT:-5486}"
REPS="${BPX_RESIZE_REPS:-3}"
WINDOW_MS="${BPX_RESIZE_WINDOW_MS:-3000}"
SPACE_PAGES=300000
HOT_PAGES=10000
SMALL=1GB
LARGE=2GB
DIRTY_PCT=30
# targets of the issue
STALL_MS_PER_CHUNK=10
GROW_S_PER_GIB=1.0
SHRINK_S_PER_GIB=0.3
P99_RATIO_MAX=2.0
RESULTS_DIR="$REPO/bench/results"
RESULTS="$RESULTS_DIR/resize.md"

bench_prepare bench_resize

# shellcheck source=scripts/bench_server.sh
. "$REPO/scripts/bench_server.sh"

bench_initdb bufpool_bench_resize.conf
bench_write_conf bufpool_bench_resize.conf <<EOF
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = '1h'
bufpool_ext.size = '$SMALL'
bufpool_ext.max_size = '8GB'
bufpool_ext.chunk_size = '128MB'
bufpool_ext.instances = 2
bufpool_ext.resize_timeout = '60s'
EOF
bench_start

# ---------------------------------------------------------------- setup
q "CREATE EXTENSION bufpool_ext;" >/dev/null
q "CREATE EXTENSION bufpool_test;" >/dev/null

q "CREATE TABLE resize_runs (kind text, rep int, resize_id bigint, client_s float8,
    server_s float8, from_size bigint, to_size bigint, pages_withdrawn bigint,
    pages_relocated bigint, pages_flushed bigint, pages_evicted bigint,
    max_stall_ms float8, phase text, message text, pool_pages_before bigint,
    dirty_before bigint);
CREATE TABLE lat_runs (rep int, backends int, session int, win text,
    t_start timestamptz, t_end timestamptz, ops bigint, mean_ns float8,
    p50_ns float8, p99_ns float8, p999_ns float8, max_ns float8);
CREATE TABLE resize_log (rep int, backends int, resize_id bigint, started timestamptz,
    finished timestamptz, from_size bigint, to_size bigint, pages_withdrawn bigint,
    pages_relocated bigint, pages_evicted bigint, max_stall_ms float8, phase text);
CREATE TABLE bench_stop (x int);"

CHUNK_BYTES=$(q "SELECT chunk_size FROM bufpool.status();")

# pool_state: "pages in pool, free, dirty" over all instances
pool_state() {
    q "SELECT format('%s pages in the pool, %s free, %s dirty', sum(database_pages),
        sum(free_buffers), sum(modified_database_pages)) FROM bufpool.stats;"
}

# fill: read every page of the big space through the pool (a full pool
# at either size), then write back whatever is dirty
fill() {
    q "SELECT count(*) FROM generate_series(0, $SPACE_PAGES - 1) g,
        LATERAL bufpool.fetch_page($SPACE_ID, g) f;" >/dev/null
    q "SELECT bufpool.flush();" >/dev/null
}

# resize_timed KIND REP SIZE: resize in this session and record the run
resize_timed() {
    local kind=$1 rep=$2 size=$3
    psql_q <<EOF || { server_log_tail 60; die "resize to $size ($kind, repetition $rep) failed"; }
SELECT sum(database_pages) AS pages_before, sum(modified_database_pages) AS dirty_before
FROM bufpool.stats \gset
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT resize_id AS rid FROM bufpool.resize('$size') \gset
SELECT extract(epoch FROM clock_timestamp()) - :t0 AS client_s \gset
INSERT INTO resize_runs
SELECT '$kind', $rep, resize_id, :client_s, extract(epoch FROM finished - started),
       from_size, to_size, pages_withdrawn, pages_relocated, pages_flushed,
       pages_evicted, max_stall_ms, phase, message, :pages_before, :dirty_before
FROM bufpool.resize_status WHERE resize_id = :rid AND NOT is_current;
SELECT format('resize %s: %s, %s -> %s MB in %s s (client %s s), %s relocated, %s evicted, %s flushed, max_stall %s ms',
              resize_id, kind, from_size / 1048576, to_size / 1048576, round(server_s::numeric, 3),
              round(client_s::numeric, 3), pages_relocated, pages_evicted, pages_flushed,
              round(max_stall_ms::numeric, 3))
FROM resize_runs WHERE resize_id = :rid;
EOF
}

T0=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# ---------------------------------------------------------------- a. duration
log "a. resize duration: space of $SPACE_PAGES pages, $REPS repetitions"
SPACE_ID=$(q "SELECT bufpool.create_space('resize_bench', $SPACE_PAGES);")
fill
log "  pool: $(q "SELECT format('%s instance(s) x %s chunk(s) of %s MB, %s pages of %s bytes',
    instances, chunks_per_instance, chunk_size / 1048576, pages, page_size) FROM bufpool.status();")"
log "  pool at $SMALL: $(pool_state)"
POOL_PAGES_SMALL=$(q "SELECT pages FROM bufpool.status();")
N_DIRTY=$((POOL_PAGES_SMALL * 2 * DIRTY_PCT / 100))
N_HALF=$((POOL_PAGES_SMALL / 2))
for ((r = 1; r <= REPS; r++)); do
    log "  repetition $r"
    resize_timed grow "$r" "$LARGE"
    fill
    log "    $(pool_state)"
    resize_timed shrink_clean "$r" "$SMALL"
    resize_timed grow_extra "$r" "$LARGE"
    fill
    # the last pages read are the newest in the pool: all cached
    q "SELECT count(bufpool.write_page($SPACE_ID, g, '\\x01'::bytea))
        FROM generate_series($SPACE_PAGES - $N_DIRTY, $SPACE_PAGES - 1) g;" >/dev/null
    log "    $(pool_state)"
    resize_timed shrink_dirty "$r" "$SMALL"
    q "SELECT bufpool.flush();" >/dev/null
    # relocation: half of the 1 GiB pool is freed before the grow (freed
    # blocks go to the free lists first, the new chunks' blocks on top),
    # then as many new pages are read, into the new chunks; the shrink
    # finds a free block in a kept chunk for each of them
    q "SELECT count(*) FILTER (WHERE bufpool.evict($SPACE_ID, page_number))
        FROM (SELECT page_number FROM bufpool.pages WHERE space = $SPACE_ID
              ORDER BY page_number LIMIT $N_HALF) p;" >/dev/null
    resize_timed grow_half "$r" "$LARGE"
    q "SELECT count(*) FROM (SELECT g FROM (SELECT generate_series(0, $SPACE_PAGES - 1)::bigint AS g
              EXCEPT SELECT page_number FROM bufpool.pages WHERE space = $SPACE_ID) x
              ORDER BY g LIMIT $N_HALF) n, LATERAL bufpool.fetch_page($SPACE_ID, n.g) f;" >/dev/null
    log "    $(pool_state)"
    resize_timed shrink_relocate "$r" "$SMALL"
    fill
done
TIME_A=$((SECONDS - T0))

# ---------------------------------------------------------------- b. latency
log "b. fetch latency: hot set of $HOT_PAGES pages (zipf), windows of $WINDOW_MS ms"
q "SELECT bufpool.drop_space($SPACE_ID);" >/dev/null
HOT_ID=$(q "SELECT bufpool.create_space('resize_hot', $HOT_PAGES);")
q "SELECT count(*) FROM generate_series(0, $HOT_PAGES - 1) g, LATERAL bufpool.fetch_page($HOT_ID, g) f;" >/dev/null
log "  $(pool_state)"

# reload_hot [SIZE]: evict the hot set, resize to SIZE if given, read the
# hot set again.  Done before every window, steady or not, so that both
# kinds start with the same LRU state (pages read just now are not made
# young before bufpool_ext.old_blocks_time).
reload_hot() {
    q "SELECT count(*) FILTER (WHERE bufpool.evict($HOT_ID, g))
        FROM generate_series(0, $HOT_PAGES - 1) g;" >/dev/null
    if [ -n "${1:-}" ]; then
        q "SELECT resize_id FROM bufpool.resize('$1');" >/dev/null
    fi
    q "SELECT count(*) FROM generate_series(0, $HOT_PAGES - 1) g,
        LATERAL bufpool.fetch_page($HOT_ID, g) f;" >/dev/null
}

# fetchers REP BACKENDS WINDOW: BACKENDS sessions run bench_fetch_latency
# at once (seeds 1..BACKENDS), each inserting its row into lat_runs
fetchers() {
    local rep=$1 nb=$2 win=$3 b rc=0 sql
    local pids=()
    for ((b = 1; b <= nb; b++)); do
        sql="INSERT INTO lat_runs SELECT $rep, $nb, $b, '$win', now(), clock_timestamp(), r.*
            FROM bufpool_test.bench_fetch_latency($HOT_ID, $HOT_PAGES, 'zipf', $WINDOW_MS, $b) r;"
        psql_q -c "$sql" >"$OUT/fetch.$b" 2>&1 &
        pids+=($!)
    done
    for b in "${!pids[@]}"; do
        wait "${pids[$b]}" || rc=1
    done
    if [ "$rc" -ne 0 ]; then
        cat "$OUT"/fetch.* >&2
        server_log_tail 60
        die "bench_fetch_latency failed ($nb session(s), $win window)"
    fi
}

# resize_window REP BACKENDS: fetchers run while another session shrinks
# and grows the pool without a pause; the driver stops after the
# fetchers, at the end of a shrink+grow cycle.  Before, the hot set is put
# into the chunks the first shrink removes: evicted at $SMALL, the pool
# grown (the new blocks go on top of the free lists), the hot set read
# again.  That first shrink relocates all of it under the fetchers; the
# later cycles move no hot page.  After, the pool goes back to $SMALL.
resize_window() {
    local rep=$1 nb=$2 before driver i
    reload_hot "$LARGE"
    HOT_HIGH=$(q "SELECT count(*) FROM bufpool.pages p, bufpool.status() s
        WHERE p.space = $HOT_ID AND p.block_id >= s.pages / s.instances / 2;")
    before=$(q "SELECT coalesce(max(resize_id), 0) FROM bufpool.resize_status;")
    q "TRUNCATE bench_stop;"
    psql_q >"$OUT/driver" 2>&1 <<EOF &
DO \$\$
DECLARE
    t_end timestamptz := clock_timestamp() + interval '300 s';
    id bigint;
    s text;
BEGIN
    WHILE clock_timestamp() < t_end AND NOT EXISTS (SELECT 1 FROM bench_stop) LOOP
        FOREACH s IN ARRAY ARRAY['$SMALL', '$LARGE'] LOOP
            SELECT resize_id INTO id FROM bufpool.resize(s);
            INSERT INTO resize_log
            SELECT $rep, $nb, resize_id, started, finished, from_size, to_size,
                   pages_withdrawn, pages_relocated, pages_evicted, max_stall_ms, phase
            FROM bufpool.resize_status WHERE resize_id = id AND NOT is_current;
        END LOOP;
    END LOOP;
END
\$\$;
EOF
    driver=$!
    # start the fetchers once the first resize is under way
    for ((i = 0; i < 200; i++)); do
        [ "$(q "SELECT count(*) FROM bufpool.resize_status WHERE resize_id > $before;")" -gt 0 ] && break
        sleep 0.025
    done
    fetchers "$rep" "$nb" resize
    q "INSERT INTO bench_stop VALUES (1);"
    if ! wait "$driver"; then
        cat "$OUT/driver" >&2
        server_log_tail 60
        die "the resize driver failed (repetition $rep, $nb session(s))"
    fi
    q "SELECT resize_id FROM bufpool.resize('$SMALL');" >/dev/null
}

T1=$SECONDS
for ((r = 1; r <= REPS; r++)); do
    for nb in 1 2; do
        reload_hot
        fetchers "$r" "$nb" steady
        resize_window "$r" "$nb"
        log "  repetition $r, $nb session(s), $HOT_HIGH hot pages in doomed chunks at the start: $(q "SELECT string_agg(format('%s %s: p99 %s ns, max %s ns',
            win, session, round(p99_ns::numeric), round(max_ns::numeric)), '; ' ORDER BY win DESC, session)
            FROM lat_runs WHERE rep = $r AND backends = $nb;"), $(q "SELECT count(*) FROM resize_log
            WHERE rep = $r AND backends = $nb;") resizes"
    done
done
TIME_B=$((SECONDS - T1))

# ---------------------------------------------------------------- timeline
# One session runs bench_fetch_timeline (p50/p99/max per window of
# TL_WINDOW_MS) for TL_SECONDS; after TL_LEAD_S seconds of steady state
# another session shrinks and grows the pool 4 times ($SMALL <-> $LARGE),
# then the fetcher goes on in steady state to the end.  Written to
# resize_timeline.csv (+ resize_timeline_resizes.csv) and plotted with
# gnuplot into resize_timeline.png.
TL_SECONDS=8
TL_WINDOW_MS=50
TL_LEAD_S=2
log "d. latency timeline: ${TL_SECONDS} s in ${TL_WINDOW_MS} ms windows, 4 resizes from ${TL_LEAD_S} s"
reload_hot
q "CREATE TABLE tl_windows AS SELECT * FROM bufpool_test.bench_fetch_timeline($HOT_ID, $HOT_PAGES, 'zipf', 1, 1) LIMIT 0;
   CREATE TABLE tl_resizes (resize_id bigint, started timestamptz, finished timestamptz, from_size bigint, to_size bigint);" >/dev/null
psql_q -c "INSERT INTO tl_windows SELECT * FROM bufpool_test.bench_fetch_timeline($HOT_ID, $HOT_PAGES, 'zipf', $((TL_SECONDS * 1000)), $TL_WINDOW_MS, 1);" \
    >"$OUT/timeline" 2>&1 &
tl_pid=$!
sleep "$TL_LEAD_S"
q "DO \$\$
DECLARE
    id bigint;
    s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['$LARGE', '$SMALL', '$LARGE', '$SMALL'] LOOP
        SELECT resize_id INTO id FROM bufpool.resize(s);
        INSERT INTO tl_resizes SELECT resize_id, started, finished, from_size, to_size
        FROM bufpool.resize_status WHERE resize_id = id;
    END LOOP;
END \$\$;" >/dev/null
if ! wait "$tl_pid"; then
    cat "$OUT/timeline" >&2
    server_log_tail 60
    die "bench_fetch_timeline failed"
fi
TL_T0=$(q "SELECT extract(epoch FROM min(window_start)) FROM tl_windows;")
q "SELECT round((extract(epoch FROM window_start) - $TL_T0)::numeric, 3) || ',' || ops || ',' ||
          round(p50_ns::numeric) || ',' || round(p99_ns::numeric) || ',' || round(max_ns::numeric)
   FROM tl_windows ORDER BY window_start;" |
    { echo "t_s,ops,p50_ns,p99_ns,max_ns"; cat; } >"$RESULTS_DIR/resize_timeline.csv"
q "SELECT resize_id || ',' || round((extract(epoch FROM started) - $TL_T0)::numeric, 3) || ',' ||
          round((extract(epoch FROM finished) - $TL_T0)::numeric, 3) || ',' || from_size || ',' || to_size
   FROM tl_resizes ORDER BY resize_id;" |
    { echo "resize_id,start_s,end_s,from_bytes,to_bytes"; cat; } >"$RESULTS_DIR/resize_timeline_resizes.csv"
TL_STEADY_P99=$(q "SELECT round(percentile_disc(0.5) WITHIN GROUP (ORDER BY p99_ns)::numeric)
    FROM tl_windows w WHERE NOT EXISTS (SELECT 1 FROM tl_resizes r
        WHERE w.window_start + interval '$TL_WINDOW_MS ms' > r.started AND w.window_start < r.finished);")
TL_RESIZE_P99=$(q "SELECT coalesce(round(percentile_disc(0.5) WITHIN GROUP (ORDER BY p99_ns)::numeric)::text, '-')
    FROM tl_windows w WHERE EXISTS (SELECT 1 FROM tl_resizes r
        WHERE w.window_start + interval '$TL_WINDOW_MS ms' > r.started AND w.window_start < r.finished);")
TL_WORST=$(q "SELECT round(max(p99_ns)::numeric) || ' ns p99, ' || round(max(max_ns)::numeric / 1000) || ' us max' FROM tl_windows;")
TL_PLOT="no plot (gnuplot not installed)"
if command -v gnuplot >/dev/null; then
    {
        echo "set terminal pngcairo size 1000,520 font ',10' noenhanced"
        echo "set output '$RESULTS_DIR/resize_timeline.png'"
        echo "set title 'bufpool_ext: fetch+release latency per ${TL_WINDOW_MS} ms window while the pool is resized (shaded: a resize running)'"
        echo "set xlabel 'seconds'"
        echo "set ylabel 'ns (log scale)'"
        echo "set logscale y"
        echo "set datafile separator ','"
        echo "set key top left"
        echo "set grid ytics"
        tail -n +2 "$RESULTS_DIR/resize_timeline_resizes.csv" | awk -F, '{
            printf "set object %d rect from %s, graph 0 to %s, graph 1 fc rgb \"#ffd8a8\" fs solid 0.6 noborder behind\n", NR, $2, $3 }'
        echo "plot '$RESULTS_DIR/resize_timeline.csv' every ::1 using 1:3 with lines lw 1.5 title 'p50', \\"
        echo "     '' every ::1 using 1:4 with lines lw 1.5 title 'p99', \\"
        echo "     '' every ::1 using 1:5 with points pt 7 ps 0.4 title 'max'"
    } >"$OUT/timeline.gp"
    TL_PLOT=$(plot_md "$OUT/timeline.gp" "fetch latency during resize" resize_timeline.png)
fi
log "  timeline: median window p99 ${TL_STEADY_P99} ns steady, ${TL_RESIZE_P99} ns while resizing; worst window: $TL_WORST"
ELAPSED=$((SECONDS - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- c. report
# Tables are built by SQL over the recorded runs.  Medians are the middle
# value (the lower one for an even count), as in scripts/bench.sh.
q "CREATE VIEW resize_sum AS
SELECT CASE WHEN kind = 'grow_extra' THEN 'grow' ELSE kind END AS kase,
       count(*) AS runs,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY server_s / (abs(to_size - from_size) / 1073741824.0)) AS s_gib,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY client_s / (abs(to_size - from_size) / 1073741824.0)) AS c_gib,
       min(server_s / (abs(to_size - from_size) / 1073741824.0)) AS s_min,
       max(server_s / (abs(to_size - from_size) / 1073741824.0)) AS s_max,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY pages_relocated) AS relocated,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY pages_evicted) AS evicted,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY pages_flushed) AS flushed,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY dirty_before) AS dirty,
       max(max_stall_ms) AS stall,
       max(abs(to_size - from_size) / $CHUNK_BYTES) AS chunks
FROM resize_runs GROUP BY 1;
CREATE VIEW lat_sum AS
SELECT backends, session, win, count(*) AS runs,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY ops) AS ops,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY mean_ns) AS mean_ns,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY p50_ns) AS p50_ns,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY p99_ns) AS p99_ns,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY p999_ns) AS p999_ns,
       max(max_ns) AS max_ns
FROM lat_runs GROUP BY 1, 2, 3;
CREATE VIEW win_sum AS
SELECT l.rep, l.backends, min(l.t_start) AS t_start, max(l.t_end) AS t_end,
       max(l.max_ns) AS max_ns,
       (SELECT count(*) FROM resize_log g WHERE g.rep = l.rep AND g.backends = l.backends
           AND g.started < max(l.t_end) AND g.finished > min(l.t_start)) AS in_window,
       (SELECT count(*) FROM resize_log g WHERE g.rep = l.rep AND g.backends = l.backends) AS resizes,
       (SELECT count(*) FILTER (WHERE to_size > from_size) || ' / ' || count(*) FILTER (WHERE to_size < from_size)
           FROM resize_log g WHERE g.rep = l.rep AND g.backends = l.backends) AS grow_shrink,
       (SELECT count(*) FILTER (WHERE phase <> 'complete') FROM resize_log g
           WHERE g.rep = l.rep AND g.backends = l.backends) AS failed,
       (SELECT max(abs(to_size - from_size) / $CHUNK_BYTES) FROM resize_log g
           WHERE g.rep = l.rep AND g.backends = l.backends) AS chunks,
       (SELECT max(max_stall_ms) FROM resize_log g WHERE g.rep = l.rep AND g.backends = l.backends) AS stall,
       (SELECT sum(pages_relocated) FROM resize_log g WHERE g.rep = l.rep AND g.backends = l.backends) AS relocated,
       (SELECT sum(pages_evicted) FROM resize_log g WHERE g.rep = l.rep AND g.backends = l.backends) AS evicted,
       (SELECT avg(extract(epoch FROM finished - started)) FILTER (WHERE to_size > from_size) FROM resize_log g
           WHERE g.rep = l.rep AND g.backends = l.backends) AS grow_s,
       (SELECT avg(extract(epoch FROM finished - started)) FILTER (WHERE to_size < from_size) FROM resize_log g
           WHERE g.rep = l.rep AND g.backends = l.backends) AS shrink_s
FROM lat_runs l WHERE l.win = 'resize' GROUP BY 1, 2;" >/dev/null

verdict() { if [ "$1" = t ]; then echo PASS; else echo FAIL; fi; }

GROW=$(q "SELECT round(s_gib::numeric, 3) FROM resize_sum WHERE kase = 'grow';")
GROW_OK=$(verdict "$(q "SELECT s_gib <= $GROW_S_PER_GIB FROM resize_sum WHERE kase = 'grow';")")
SHRINK=$(q "SELECT round(s_gib::numeric, 3) FROM resize_sum WHERE kase = 'shrink_clean';")
SHRINK_OK=$(verdict "$(q "SELECT s_gib <= $SHRINK_S_PER_GIB FROM resize_sum WHERE kase = 'shrink_clean';")")
RELOC=$(q "SELECT round(s_gib::numeric, 3) || ' s per GiB (' || relocated || ' pages relocated)'
    FROM resize_sum WHERE kase = 'shrink_relocate';")
RELOC_OK=$(verdict "$(q "SELECT s_gib <= $SHRINK_S_PER_GIB FROM resize_sum WHERE kase = 'shrink_relocate';")")
CHUNKS=$(q "SELECT max(chunks) FROM win_sum;")
STALL_LIMIT_MS=$((STALL_MS_PER_CHUNK * CHUNKS))
STALL=$(q "SELECT round((max(max_ns) / 1e6)::numeric, 3) FROM win_sum;")
STALL_BAD=$(q "SELECT count(*) FILTER (WHERE max_ns > $STALL_MS_PER_CHUNK * 1e6 * chunks) || ' of ' || count(*) FROM win_sum;")
STALL_OK=$(verdict "$(q "SELECT bool_and(max_ns <= $STALL_MS_PER_CHUNK * 1e6 * chunks) FROM win_sum;")")
HOLD=$(q "SELECT round(max(stall)::numeric, 3) FROM (SELECT stall FROM resize_sum UNION ALL SELECT stall FROM win_sum) s;")
HOLD_OK=$(verdict "$(q "SELECT max(stall) <= $STALL_LIMIT_MS FROM (SELECT stall FROM resize_sum UNION ALL SELECT stall FROM win_sum) s;")")
p99_row() { # p99_row BACKENDS: "ratio|verdict|details"
    q "SELECT round(max(r.p99_ns / s.p99_ns)::numeric, 2) || '|' ||
        CASE WHEN max(r.p99_ns / s.p99_ns) <= $P99_RATIO_MAX THEN 'PASS' ELSE 'FAIL' END || '|' ||
        string_agg(format('session %s: %s ns vs %s ns', r.session, round(r.p99_ns::numeric),
                          round(s.p99_ns::numeric)), ', ' ORDER BY r.session)
       FROM lat_sum r JOIN lat_sum s USING (backends, session)
       WHERE r.win = 'resize' AND s.win = 'steady' AND backends = $1;"
}
IFS='|' read -r P99R_1 P99OK_1 P99D_1 <<<"$(p99_row 1)"
IFS='|' read -r P99R_2 P99OK_2 P99D_2 <<<"$(p99_row 2)"

TARGETS="| target | limit | measured | result |
|---|---|---|---|
| longest fetch+release while the pool is resized (worst window; $CHUNKS chunks added or removed per resize) | ${STALL_MS_PER_CHUNK} ms x $CHUNKS chunks = $STALL_LIMIT_MS ms | $STALL ms ($STALL_BAD windows over the limit) | $STALL_OK |
| grow 1 -> 2 GiB, median | $GROW_S_PER_GIB s per GiB | $GROW s per GiB | $GROW_OK |
| shrink 2 -> 1 GiB, full clean pool, median | $SHRINK_S_PER_GIB s per GiB | $SHRINK s per GiB | $SHRINK_OK |
| p99 during resize / steady state, 1 session | ${P99_RATIO_MAX}x | ${P99R_1}x ($P99D_1) | $P99OK_1 |
| p99 during resize / steady state, 2 sessions (worse session) | ${P99_RATIO_MAX}x | ${P99R_2}x ($P99D_2) | $P99OK_2 |
| (also) shrink 2 -> 1 GiB, half-full clean pool (every page relocated), median | $SHRINK_S_PER_GIB s per GiB | $RELOC | $RELOC_OK |
| (also) longest lock hold of the pool manager, resize_status.max_stall_ms, any resize | $STALL_LIMIT_MS ms | $HOLD ms | $HOLD_OK |"

DURATION="| case | runs | s per GiB, server (median) | min - max | s per GiB, client (median) | pages relocated | pages evicted | pages flushed | dirty pages before | max_stall_ms (max) |
|---|---|---|---|---|---|---|---|---|---|
$(q "SELECT format('| %s | %s | %s | %s - %s | %s | %s | %s | %s | %s | %s |',
    CASE kase WHEN 'grow' THEN 'grow 1 -> 2 GiB, full pool'
              WHEN 'shrink_clean' THEN 'shrink 2 -> 1 GiB, full clean pool'
              WHEN 'shrink_dirty' THEN 'shrink 2 -> 1 GiB, full pool, ${DIRTY_PCT}% dirty'
              WHEN 'grow_half' THEN '(also) grow 1 -> 2 GiB, half-full pool'
              ELSE '(also) shrink 2 -> 1 GiB, half-full clean pool (relocation)' END,
    runs, round(s_gib::numeric, 3), round(s_min::numeric, 3), round(s_max::numeric, 3),
    round(c_gib::numeric, 3), relocated, evicted, flushed, dirty, round(stall::numeric, 3))
    FROM resize_sum ORDER BY CASE kase WHEN 'grow' THEN 1 WHEN 'shrink_clean' THEN 2
        WHEN 'shrink_dirty' THEN 3 WHEN 'grow_half' THEN 4 ELSE 5 END;")"

LATENCY="| sessions | session | window | ops (median) | mean ns | p50 ns | p99 ns | p99.9 ns | max ns (max of runs) | p99 resize / steady |
|---|---|---|---|---|---|---|---|---|---|
$(q "SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', r.backends, r.session, r.win,
    r.ops, round(r.mean_ns::numeric, 1), round(r.p50_ns::numeric, 1), round(r.p99_ns::numeric, 1),
    round(r.p999_ns::numeric, 1), round(r.max_ns::numeric),
    CASE WHEN r.win = 'resize' THEN round((r.p99_ns / s.p99_ns)::numeric, 2) || 'x' ELSE '-' END)
    FROM lat_sum r JOIN lat_sum s ON s.backends = r.backends AND s.session = r.session AND s.win = 'steady'
    ORDER BY r.backends, r.session, r.win DESC;")"

WINDOWS="| rep | sessions | resizes by the driver (grow / shrink) | overlapping the window | failed | chunks per resize | grow s (mean) | shrink s (mean) | pages relocated | pages evicted | max_stall_ms (max) | longest fetch ms | limit ms | result |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
$(q "SELECT format('| %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', rep, backends,
    resizes, grow_shrink, in_window, failed, chunks, round(grow_s::numeric, 3), round(shrink_s::numeric, 3),
    relocated, evicted, round(stall::numeric, 3), round((max_ns / 1e6)::numeric, 3),
    $STALL_MS_PER_CHUNK * chunks, CASE WHEN max_ns <= $STALL_MS_PER_CHUNK * 1e6 * chunks THEN 'PASS' ELSE 'FAIL' END)
    FROM win_sum ORDER BY rep, backends;")"

RAW_RESIZE="| kind | rep | resize_id | from MB | to MB | server s | client s | s per GiB | pages in pool before | dirty before | withdrawn | relocated | flushed | evicted | max_stall_ms | phase | message |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
$(q "SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |',
    kind, rep, resize_id, from_size / 1048576, to_size / 1048576, round(server_s::numeric, 4),
    round(client_s::numeric, 4), round((server_s / (abs(to_size - from_size) / 1073741824.0))::numeric, 4),
    pool_pages_before, dirty_before, pages_withdrawn, pages_relocated, pages_flushed, pages_evicted,
    round(max_stall_ms::numeric, 3), phase, coalesce(nullif(message, ''), '-'))
    FROM resize_runs ORDER BY resize_id;")"

RAW_LAT="| rep | sessions | session | window | ops | mean ns | p50 ns | p99 ns | p99.9 ns | max ns |
|---|---|---|---|---|---|---|---|---|---|
$(q "SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', rep, backends, session, win, ops,
    round(mean_ns::numeric, 1), round(p50_ns::numeric, 1), round(p99_ns::numeric, 1),
    round(p999_ns::numeric, 1), round(max_ns::numeric))
    FROM lat_runs ORDER BY rep, backends, win DESC, session;")"

RAW_LOG="| rep | sessions | resize_id | from MB | to MB | s | withdrawn | relocated | evicted | max_stall_ms | phase |
|---|---|---|---|---|---|---|---|---|---|---|
$(q "SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', rep, backends, resize_id,
    from_size / 1048576, to_size / 1048576, round(extract(epoch FROM finished - started), 4),
    pages_withdrawn, pages_relocated, pages_evicted, round(max_stall_ms::numeric, 3), phase)
    FROM resize_log ORDER BY resize_id;")"

N_COMPLETE=$(grep -c 'bufpool_ext resize [0-9]* from [0-9]* to [0-9]* bytes complete' "$LOGFILE" || true)
N_FAILED=$(grep -c 'bufpool_ext resize [0-9]* from [0-9]* to [0-9]* bytes failed' "$LOGFILE" || true)
LOG_OTHER=$(grep -E 'WARNING|ERROR|FATAL|PANIC|could not' "$LOGFILE" |
    sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] //' | sort | uniq -c | sort -rn | head -n 15 || true)

echo
echo "Targets"
echo "$TARGETS"
echo
echo "Resize duration"
echo "$DURATION"
echo
echo "Fetch latency (hot set of $HOT_PAGES pages, zipf; windows of $WINDOW_MS ms)"
echo "$LATENCY"
echo
echo "Resize windows"
echo "$WINDOWS"
echo
echo "Load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
echo "Server log: $N_COMPLETE resizes complete, $N_FAILED failed"
[ -n "$LOG_OTHER" ] && printf '%s\n' "$LOG_OTHER"
echo

mkdir -p "$RESULTS_DIR"
cat >"$RESULTS" <<EOF
# Online resize: duration and fetch latency

Written by \`make bench\` (scripts/bench_resize.sh) on $(date -u '+%Y-%m-%d %H:%M UTC').

$(machine_md)
- /dev/shm: $(df -h /dev/shm | awk 'NR == 2 { print $2 }')
- Load average (1, 5, 15 min) when the measurements began: $LOAD_BEFORE; when they ended: $LOAD_AFTER (this benchmark alone keeps 1 to 3 processes busy; more means something else ran)

## What is measured

**Duration.** A space of $SPACE_PAGES pages is read through the pool,
so the pool is full at either size. Each of $REPS repetitions then runs:
grow 1 -> 2 GiB; read the space again so the 2 GiB pool is full, flush;
shrink 2 -> 1 GiB ("full clean pool"); grow 1 -> 2 GiB again; read the
space, flush, then write one byte into each of the $N_DIRTY pages read
last (${DIRTY_PCT}% of the 2 GiB pool); shrink 2 -> 1 GiB ("${DIRTY_PCT}% dirty");
flush. Both grows start from a full 1 GiB pool of clean pages and are one
case. A full pool has no free block in the chunks it keeps, so those
shrinks evict every page of the removed chunks and relocate none; to time
relocation as well, each repetition then evicts half of the 1 GiB pool
($N_HALF pages), grows to 2 GiB ("half-full pool"; the new blocks are
handed out first), reads $N_HALF other pages (into the new chunks) and
shrinks to 1 GiB ("relocation": each of those pages moves into a free
block of a kept chunk), then reads the space to fill the pool for the
next repetition. The duration is \`finished - started\` of the resize's
row in \`bufpool.resize_status\` (the pool manager's clock); the client
figure is the time \`bufpool.resize()\` took in the requesting session
(it also counts the wake-up of the pool manager and the hand-back).
Seconds per GiB = duration / size change in GiB (1 here). Pages
relocated, evicted and flushed and \`max_stall_ms\` (the longest section
in which the pool manager held a lock page access needs) come from the
same row.

**Fetch latency.** The big space is dropped; a space of $HOT_PAGES pages
is read into the pool (the hot set, ~$((HOT_PAGES * 8 / 1024)) MB, all cached). \`bufpool_test.bench_fetch_latency\`
(test/modules/bufpool_test/bench.c) builds the same Zipf trace (exponent 0.99) as
\`bench_fetch\`, fetches each of its pages once, then for $WINDOW_MS ms times
every \`bp_page_fetch\` + \`bp_page_release\` pair with two
\`clock_gettime(CLOCK_MONOTONIC)\` calls (the figure includes one call,
some 20 ns) into a log-linear histogram (1 ns steps below 64 ns, then 64
steps per power of two: 1.6%; a percentile is the middle of its bucket;
mean and max are exact). "steady": the pool sits at 1 GiB, nothing else
runs. Before every window the hot set is evicted and read again, so
that all windows start from the same LRU state (pages read less than
bufpool_ext.old_blocks_time ago are not made young). "resize": between
the eviction and the reading the pool is grown to 2 GiB, so the hot set
lands in the chunks the next shrink removes; then another session runs \`bufpool.resize('1GB')\`,
\`bufpool.resize('2GB')\` in a loop without pause from just before the
fetchers start until they are done (the last cycle is finished). The
first shrink of a window relocates the whole hot set under the fetchers;
the later cycles move no hot page but publish, withdraw and unmap chunks.
With 2 sessions, two fetchers run at once (seeds 1 and 2, one hot set);
each is reported. Per repetition: 1 session steady, 1 session resize, 2
sessions steady, 2 sessions resize; $REPS repetitions; the tables give the
median per figure (max: the largest) and every run follows. The machine
has $(nproc) CPUs: with 2 fetchers, the pool manager doing the resize
competes with them for a CPU, and a fetcher that loses its CPU for a
scheduler time slice shows it as one long fetch; the steady windows show
how long such pauses are without any resize.

**Targets** (from the issue): no fetch stall longer than
$STALL_MS_PER_CHUNK ms per chunk added or removed, i.e. the longest
fetch+release observed in a window in which resizes of $CHUNKS chunks ran
(1 GiB / 128 MB) must stay below $STALL_LIMIT_MS ms; grow at most
$GROW_S_PER_GIB s per GiB; clean shrink at most $SHRINK_S_PER_GIB s per GiB;
p99 during resize at most ${P99_RATIO_MAX}x steady state.

Settings: bufpool_ext.page_size = 8192, bufpool_ext.size = $SMALL,
bufpool_ext.max_size = 8GB, bufpool_ext.chunk_size = 128MB,
bufpool_ext.instances = 2,
bufpool_ext.resize_timeout = 60s, other bufpool_ext settings at their
defaults; max_parallel_workers_per_gather = 0, autovacuum = off, fsync =
off. Total run time: ${ELAPSED} s (duration part ${TIME_A} s, latency part ${TIME_B} s).

## Targets

$TARGETS

## Latency timeline during resizes

One session fetches the hot set (Zipf) for ${TL_SECONDS} s, timed in windows of
${TL_WINDOW_MS} ms (\`bufpool_test.bench_fetch_timeline\`); from ${TL_LEAD_S} s on, another
session grows and shrinks the pool 4 times ($SMALL <-> $LARGE).  Median
window p99: ${TL_STEADY_P99} ns in windows with no resize running,
${TL_RESIZE_P99} ns in windows overlapping a resize.  Worst window:
$TL_WORST.  Data: resize_timeline.csv, resize_timeline_resizes.csv.

$TL_PLOT

## Resize duration

$DURATION

## Fetch latency, steady state and during resize

$LATENCY

## Resizes during the latency windows

$WINDOWS

## Server log

$N_COMPLETE resizes logged as complete, $N_FAILED as failed.
$(if [ -n "$LOG_OTHER" ]; then printf '\nWarnings and errors (count, message):\n\n\`\`\`\n%s\n\`\`\`\n' "$LOG_OTHER"; else echo "No warnings or errors."; fi)

## Every run

### Resizes of the duration part, in order

$RAW_RESIZE

### Latency windows

$RAW_LAT

### Resizes run by the driver during the latency windows

$RAW_LOG
EOF
log "results written to $RESULTS (benchmark time ${ELAPSED} s)"
