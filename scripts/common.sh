# Shared helpers for scripts/*.sh -- source it, do not run it.
# shellcheck disable=SC2034  # variables used by the scripts that source this
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_MAJOR=15
# BPX_PG_ROOT: a copy of the PostgreSQL install (its usr/lib/postgresql,
# usr/share/postgresql and usr/include/postgresql) to build and test
# against instead of the system's, e.g. to test two trees at once.
# PostgreSQL finds its files relative to its binaries, so a copy works.
PG_ROOT="${BPX_PG_ROOT:-}"
PGBIN="${PG_ROOT}/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_CONFIG_BIN="${PGBIN}/pg_config"
PGXS_DIR="${PG_ROOT}/usr/lib/postgresql/${PG_MAJOR}/lib/pgxs"
PG_REGRESS="${PGXS_DIR}/src/test/regress/pg_regress"
PG_ISOLATION_REGRESS="${PGXS_DIR}/src/test/isolation/pg_isolation_regress"
PG_PERL_LIB="${PGXS_DIR}/src/test/perl"
PG_OS_USER=postgres

log() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
# plot_md SCRIPT ALT PNG: run gnuplot on SCRIPT; print the markdown image
# of PNG, or why there is no plot
plot_md() {
    if gnuplot "$1" 2>"$1.err"; then
        printf '![%s](%s)\n' "$2" "$3"
    else
        printf 'no plot (gnuplot failed: %s)\n' "$(head -c 300 "$1.err")"
    fi
}

# Run a command as root (directly, or through sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Run a command as the postgres OS account (initdb/postgres refuse root).
# The caller's working directory must be reachable by postgres: use as_pg_in.
as_pg() {
    if [ "$(id -un)" = "$PG_OS_USER" ]; then
        "$@"
    elif [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        sudo -u "$PG_OS_USER" -- "$@"
    fi
}

# as_pg_in DIR CMD... : run CMD as postgres with DIR as working directory
# (PostgreSQL programs fail if they cannot resolve the current directory).
as_pg_in() {
    local dir=$1; shift
    (cd "$dir" && as_pg "$@")
}

# True if the postgres account can reach (traverse) directory $1.
pg_can_traverse() {
    (cd / && as_pg test -d "$1" -a -x "$1") >/dev/null 2>&1
}

# True if the postgres account can read the repository checkout.
pg_can_read_repo() {
    pg_can_traverse "$REPO" &&
        (cd / && as_pg test -r "$REPO" -a -r "$REPO/Makefile") >/dev/null 2>&1
}

# pick_scratch_dir IN_REPO_PATH FALLBACK_PATH : print the directory to use
# for server-side scratch space.  Prefers IN_REPO_PATH (under $REPO/tmp) if
# postgres can traverse the repository; otherwise FALLBACK_PATH.
pick_scratch_dir() {
    local want=$1 fallback=$2
    if pg_can_traverse "$REPO"; then
        as_root mkdir -p "$want"
        if pg_can_traverse "$(dirname "$want")"; then
            printf '%s\n' "$want"
            return
        fi
    fi
    warn "the postgres account cannot reach $REPO; using $fallback instead"
    printf '%s\n' "$fallback"
}

# bench_prepare NAME: the start of every scripts/bench*.sh; deps, build and
# install (the test module too: the benchmark loops are in it) unless
# BPX_SKIP_BUILD=1, then BENCH = the scratch directory
# tmp/NAME (or /tmp/bufpool_ext-NAME when the repository is not
# reachable by the postgres account)
bench_prepare() {
    if [ "${BPX_SKIP_BUILD:-0}" != 1 ]; then
        bash "$REPO/scripts/build.sh" --with-test-module
    fi
    BENCH=$(pick_scratch_dir "$REPO/tmp/$1" "/tmp/bufpool_ext-$1")
}

# Make directory $1 exist and belong to postgres.
make_pg_dir() {
    as_root mkdir -p "$1"
    as_root chown "$PG_OS_USER:" "$1"
}

# Stop every postmaster whose data directory lies under $1 (leftovers of an
# interrupted test run).  Only servers under that directory are touched.
# Unmount the FUSE file systems (test/cutfs) left mounted under a directory
# by a test that died before it unmounted them.
unmount_fuse_under() {
    local root=$1 dev mnt type rest
    while read -r dev mnt type rest; do
        case "$type" in fuse|fuse.*) ;; *) continue ;; esac
        case "$mnt/" in "$root"/*) ;; *) continue ;; esac
        log "unmounting leftover FUSE file system $mnt"
        fusermount3 -u -z "$mnt" 2>/dev/null || as_root umount -l "$mnt" 2>/dev/null || true
    done < /proc/mounts
}

stop_servers_under() {
    local root=$1 pidfile datadir
    [ -d "$root" ] || return 0
    [ -x "$PGBIN/pg_ctl" ] || return 0
    while IFS= read -r pidfile; do
        datadir=$(dirname "$pidfile")
        if as_pg_in / "$PGBIN/pg_ctl" -D "$datadir" status >/dev/null 2>&1; then
            log "stopping leftover server in $datadir"
            as_pg_in / "$PGBIN/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    done < <(find "$root" -maxdepth 6 -name postmaster.pid 2>/dev/null)
}

# huge_reserve N DIR: as root, N more 2 MB huge pages (vm.nr_hugepages)
# and a hugetlbfs mount of 2 MB pages at DIR owned by the postgres
# account; HUGE_OLD keeps the old count.  Returns 1, with everything put
# back, if either fails.  huge_release puts both back (safe to repeat).
HUGE_OLD=""
HUGE_MOUNT=""
huge_reserve() {
    local want=$1 dir=$2 got
    HUGE_OLD=$(cat /proc/sys/vm/nr_hugepages)
    echo $((HUGE_OLD + want)) >/proc/sys/vm/nr_hugepages || true
    got=$(($(cat /proc/sys/vm/nr_hugepages) - HUGE_OLD))
    mkdir -p "$dir"
    if [ "$got" -lt "$want" ] ||
        ! mount -t hugetlbfs -o "uid=$(id -u "$PG_OS_USER"),gid=$(id -g "$PG_OS_USER"),mode=0700,pagesize=2M" \
            bufpool_ext_huge "$dir"; then
        log "huge pages: could reserve only $got of $want pages of 2 MB, or could not mount hugetlbfs at $dir"
        huge_release
        return 1
    fi
    HUGE_MOUNT=$dir
    log "huge pages: $got pages of 2 MB reserved, hugetlbfs at $dir"
}
huge_release() {
    if [ -n "$HUGE_MOUNT" ] && mountpoint -q "$HUGE_MOUNT"; then
        umount "$HUGE_MOUNT" || umount -l "$HUGE_MOUNT" || true
    fi
    HUGE_MOUNT=""
    if [ -n "$HUGE_OLD" ]; then
        echo "$HUGE_OLD" >/proc/sys/vm/nr_hugepages || true
        log "huge pages: vm.nr_hugepages back to $HUGE_OLD"
    fi
    HUGE_OLD=""
}

