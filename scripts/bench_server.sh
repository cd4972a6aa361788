# bench_server.sh: the throwaway server of a benchmark script, sourced
# after common.sh with BENCH (work directory) and PORT set.  Defines
# DATA, LOGFILE, OUT, PG_CTL, PSQL, psql_q, q, server_log_tail,
# bench_initdb, bench_write_conf, bench_start, bench_wait_ready and stop_server (run at
# exit), and starts from an empty work directory.
# shellcheck shell=bash
DATA="$BENCH/data"
LOGFILE="$BENCH/server.log"
OUT="$BENCH/out"
stop_servers_under "$BENCH"
as_root rm -rf "$BENCH"
make_pg_dir "$BENCH"
as_pg mkdir -p "$OUT"
log "work directory: $BENCH"

PG_CTL=("$PGBIN/pg_ctl" -D "$DATA")
PSQL=("$PGBIN/psql" -X -q -At -h /tmp -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)

psql_q() { as_pg_in "$BENCH" "${PSQL[@]}" "$@"; }

# q SQL: run one statement, die with the server log on error
q() { psql_q -c "$1" || { server_log_tail; die "failed: $1"; }; }

BENCH_SCRIPT=$(basename "$0")

# bench_initdb CONF: a new cluster in $DATA whose postgresql.conf includes
# $DATA/CONF (written by bench_write_conf)
bench_initdb() {
    log "initdb $DATA"
    as_pg_in "$BENCH" "$PGBIN/initdb" -D "$DATA" -U postgres -A trust \
        --no-locale -E UTF8 >"$BENCH/initdb.log" 2>&1 ||
        { cat "$BENCH/initdb.log" >&2; die "initdb failed"; }
    as_pg_in "$BENCH" sh -c "printf '\n# added by scripts/$BENCH_SCRIPT\ninclude = '\''$1'\''\n' >> '$DATA/postgresql.conf'"
}

# bench_write_conf CONF: $DATA/CONF with the settings every benchmark
# server has, then the script's own from stdin
bench_write_conf() {
    {
        cat <<EOF
# Written by scripts/$BENCH_SCRIPT.
shared_preload_libraries = 'bufpool_ext'
port = $PORT
listen_addresses = ''
unix_socket_directories = '/tmp'
logging_collector = off
max_parallel_workers_per_gather = 0
autovacuum = off
fsync = off
bufpool_ext.page_size = 8192
EOF
        cat
    } | as_pg_in "$BENCH" tee "$DATA/$1" >/dev/null
}

# bench_start: start the server, or die with its log
bench_start() {
    log "starting the server (port $PORT, log: $LOGFILE)"
    if ! as_pg_in "$BENCH" "${PG_CTL[@]}" -l "$LOGFILE" -w -t 120 start >/dev/null; then
        server_log_tail
        die "the benchmark server did not start"
    fi
}

# bench_wait_ready: wait (up to 2 minutes) until the pool manager has built
# the pool, or die with the server log
bench_wait_ready() {
    local i
    for i in $(seq 1 600); do
        if [ "$(psql_q -c "SELECT state FROM bufpool.status();" 2>/dev/null)" = ready ]; then
            return 0
        fi
        sleep 0.2
    done
    server_log_tail
    die "the pool did not become ready"
}

# callgrind_start BIN DIR FUNCTION...: start the postmaster of BIN (its
# postgres binary) on $DATA under valgrind's callgrind, counting only
# inside the given functions (and what they call); one profile per
# process, DIR/cg.PID.  Set PG_CTL for stop_server first.
callgrind_start() {
    local bin=$1 dir=$2 toggles="" f
    shift 2
    for f in "$@"; do toggles="$toggles --toggle-collect=$f"; done
    as_pg mkdir -p "$dir"
    as_pg_in "$BENCH" sh -c "exec valgrind --tool=callgrind --callgrind-out-file='$dir/cg.%p' \
        --collect-atstart=no $toggles '$bin/postgres' -D '$DATA' >'$dir/server.log' 2>&1" &
}

# callgrind_per_op DIR N_OPS SQL: run SQL (one bench call of N_OPS
# operations) in a backend of its own and print the instructions that
# backend counted, per operation
callgrind_per_op() {
    local dir=$1 n=$2 pid f i ir
    pid=$(q "SELECT pg_backend_pid() FROM ($3) s;")
    f="$dir/cg.$pid"
    # the backend writes its profile when it exits, after psql has gone
    for i in $(seq 1 300); do
        grep -q '^summary:' "$f" 2>/dev/null && break
        sleep 0.1
    done
    ir=$(awk '/^summary:/ { print $2; exit }' "$f" 2>/dev/null)
    [ -n "$ir" ] || die "no callgrind profile of backend $pid in $dir"
    awk -v ir="$ir" -v n="$n" 'BEGIN { printf "%.2f", ir / n }'
}

server_log_tail() {
    echo "---- last lines of $LOGFILE ----" >&2
    tail -n "${1:-40}" "$LOGFILE" >&2 || true
    echo "---- end ----" >&2
}

stop_server() {
    if [ -f "$DATA/PG_VERSION" ] && as_pg_in "$BENCH" "${PG_CTL[@]}" status >/dev/null 2>&1; then
        as_pg_in "$BENCH" "${PG_CTL[@]}" -m fast -w -t 120 stop >/dev/null 2>&1 ||
            as_pg_in "$BENCH" "${PG_CTL[@]}" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}
trap stop_server EXIT

# median X...: the middle value (the lower one of the two middle values
# for an even count), as every benchmark reports it
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The "## Machine" section of a results file.
machine_md() {
    local cpu_model mem_total commit
    cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem_total=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
    commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    # (the results files themselves are rewritten by the benchmarks: not code)
    if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no -- . ':!bench/results' 2>/dev/null)" ]; then
        commit="$commit (with uncommitted changes)"
    fi
    cat <<EOF
## Machine

- CPUs (nproc): $(nproc)
- CPU model: ${cpu_model:-unknown}
- Memory: $mem_total
- Kernel: $(uname -sr)
- PostgreSQL: $("$PGBIN/postgres" --version)
- bufpool_ext commit: $commit
- Transparent huge pages for shmem: $(cat /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null || echo unknown); vm.nr_hugepages: $(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo unknown)
EOF
}
