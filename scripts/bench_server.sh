# bench_server.sh: the throwaway server of a benchmark script, sourced
# after common.sh with BENCH (work directory) and PORT set.  Defines
# DATA, LOGFILE, OUT, PG_CTL, PSQL, psql_q, server_log_tail and
# stop_server (run at exit), and starts from an empty work directory.
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

# The "## Machine" section of a results file.
machine_md() {
    local cpu_model mem_total commit
    cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem_total=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
    commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
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
