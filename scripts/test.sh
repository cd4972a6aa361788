#!/usr/bin/env bash
# make test / .ci/run: deps + build + install, then every test suite against
# temporary instances, run as the postgres account:
#
#   pg_regress            sql-tests/*.sql        -> expected/<name>.out
#   pg_isolation_regress  sql-tests/specs/*.spec -> expected/<name>.out
#   TAP (prove)           sql-tests/t/*.pl       (one count per file; 013,
#                                                 014, 015 and 017 once more
#                                                 on the power-cut file system)
#   layer rule            scripts/check_layers.pl (one count)
#   examples/bufpool_kv   its own make test (one count)
#
# The power-cut tests use the FUSE file system test/cutfs (built by
# scripts/build.sh --with-test-module); they skip, saying why, where FUSE
# cannot be mounted.
#
# Every instance gets sql-tests/regress.conf (pg_regress --temp-config; TAP
# through TEMP_CONFIG, which PostgreSQL::Test::Cluster appends to each node's
# postgresql.conf).  Failures do not stop the run; the last line printed is
#
#   N passed, N failed
#
# and the exit status is non-zero if anything failed or nothing ran.
#
#   BPX_TEST_PORT          pg_regress port (default 5499)
#   BPX_ISOLATION_PORT     pg_isolation_regress port (default 5498)
#   BPX_SUITE_TIMEOUT      seconds per pg_regress/isolation run (default 1500)
#   BPX_TAP_TIMEOUT        seconds per TAP file (default 900)
#   BPX_SKIP_BUILD=1       do not run deps/build/install first
#   BPX_ONLY=REGEX         run only the tests whose name matches (grep -E)
#   BPX_WORK=DIR           scratch directory (default tmp/test in the repo)
set -uo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

REGRESS_PORT="${BPX_TEST_PORT:-5499}"
ISOLATION_PORT="${BPX_ISOLATION_PORT:-5498}"
SUITE_TIMEOUT="${BPX_SUITE_TIMEOUT:-1500}"
TAP_TIMEOUT="${BPX_TAP_TIMEOUT:-900}"

PASSED=0
FAILED=0
FAILED_NAMES=()

summary_and_exit() {
    echo
    if [ "${#FAILED_NAMES[@]}" -gt 0 ]; then
        echo "failed: ${FAILED_NAMES[*]}"
    fi
    if [ "$FAILED" -eq 0 ] && [ "$PASSED" -eq 0 ]; then
        echo "ERROR: no test ran"
    fi
    echo "$PASSED passed, $FAILED failed"
    if [ "$FAILED" -gt 0 ] || [ "$PASSED" -eq 0 ]; then exit 1; fi
    exit 0
}

record() { # record SUITE NAME ok|fail
    if [ "$3" = ok ]; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$1/$2")
    fi
}

[ -f "$REPO/sql-tests/regress.conf" ] ||
    die "sql-tests/regress.conf is missing: every test instance needs it (shared_preload_libraries = 'bufpool_ext', ...)"

if [ "${BPX_SKIP_BUILD:-0}" != 1 ]; then
    if ! bash "$REPO/scripts/build.sh" --with-test-module; then
        echo "ERROR: deps/build/install failed; no test was run" >&2
        FAILED=1
        FAILED_NAMES+=("build")
        summary_and_exit
    fi
fi

# ----------------------------------------------------------------- FUSE
# The power-cut tests (021-023) mount test/cutfs as the postgres account
# through fusermount3, which needs /dev/fuse open to that account: Debian
# makes it 0666, a container's /dev often 0600.  Without it they skip.
if [ -c /dev/fuse ] && ! as_pg test -r /dev/fuse -a -w /dev/fuse; then
    if [ "$(id -u)" -eq 0 ]; then
        log "making /dev/fuse usable by $PG_OS_USER (chmod 0666, Debian's own mode)"
        chmod 0666 /dev/fuse || warn "could not chmod /dev/fuse: the power-cut tests will skip"
    else
        warn "/dev/fuse is not open to $PG_OS_USER: the power-cut tests will skip"
    fi
fi

# ------------------------------------------------------------- layer rule
# No file of src/ calls into or includes from a higher layer (README,
# "Source layout"); one count.
if [ -z "${BPX_ONLY:-}" ] || echo check_layers | grep -qE -- "$BPX_ONLY"; then
    echo
    log "layers: scripts/check_layers.pl"
    if perl "$REPO/scripts/check_layers.pl"; then
        record layers check_layers ok
        echo "  layers/check_layers: ok"
    else
        record layers check_layers fail
        echo "  layers/check_layers: FAILED"
    fi
fi

# ---------------------------------------------------------------- work dir
WORK=$(pick_scratch_dir "${BPX_WORK:-$REPO/tmp/test}" /tmp/bufpool_ext-test)
unmount_fuse_under "$WORK"
stop_servers_under "$WORK"
as_root rm -rf "$WORK"
make_pg_dir "$WORK"
log "work directory: $WORK"

# The tree the postgres account reads tests from: the checkout itself, or a
# copy when postgres cannot read the checkout.
if pg_can_read_repo; then
    SRC="$REPO"
else
    SRC="$WORK/repo"
    warn "postgres cannot read $REPO; testing from a copy in $SRC"
    as_pg mkdir -p "$SRC"
    tar -C "$REPO" --exclude=./.git --exclude=./tmp -cf - . | as_pg_in "$WORK" tar -C "$SRC" -xf -
fi
REGRESS_CONF="$SRC/sql-tests/regress.conf"

# Common options of pg_regress and pg_isolation_regress.  --no-locale and
# UTF8 make results independent of the machine's locale settings.
REGRESS_OPTS=(
    --temp-config="$REGRESS_CONF"
    --bindir="$PGBIN"
    --dbname=contrib_regression
    --no-locale
    --encoding=UTF8
)

# parse_results OUTPUT_FILE SUITE NAME... : count pg_regress-style result
# lines ("test foo ... ok 12 ms", "     foo ... FAILED", "ok 1 - foo").
# A named test without a result line counts as failed.
parse_results() {
    local out=$1 suite=$2; shift 2
    local name status
    declare -A seen=()
    while IFS=$'\t' read -r name status; do
        [ -n "$name" ] || continue
        seen[$name]=$status
    done < <(awk '
        / \.\.\. / {
            line = $0
            split(line, parts, / \.\.\. /)
            head = parts[1]; st = parts[2]
            sub(/^[ \t]+/, "", head); sub(/^test[ \t]+/, "", head)
            sub(/[ \t]+$/, "", head)
            sub(/^[ \t]+/, "", st)
            if (head ~ /^[A-Za-z0-9_.-]+$/) {
                print head "\t" ((st ~ /^ok/) ? "ok" : "fail")
            }
            next
        }
        /^(not )?ok [0-9]+ +- +/ {
            st = ($1 == "not") ? "fail" : "ok"
            line = $0
            sub(/^(not )?ok [0-9]+ +- +/, "", line)
            split(line, w, /[ \t]+/)
            print w[1] "\t" st
        }' "$out")
    for name in "$@"; do
        if [ "${seen[$name]:-}" = ok ]; then
            record "$suite" "$name" ok
            echo "  $suite/$name: ok"
        elif [ -n "${seen[$name]:-}" ]; then
            record "$suite" "$name" fail
            echo "  $suite/$name: FAILED"
        else
            record "$suite" "$name" fail
            echo "  $suite/$name: FAILED (no result; the suite did not run it)"
        fi
    done
}

show_diffs() { # show_diffs OUTDIR
    local diffs="$1/regression.diffs"
    if [ -s "$diffs" ]; then
        echo "---- $diffs (first 200 lines) ----"
        head -n 200 "$diffs"
        echo "---- end of diffs ----"
    fi
}

# run_regress_suite SUITE PROGRAM PORT NAME...
run_regress_suite() {
    local suite=$1 prog=$2 port=$3; shift 3
    local dir="$WORK/$suite" rc=0
    local out="$dir/output.txt"
    as_pg mkdir -p "$dir/out"
    echo
    log "$suite: $# test(s): $*"
    as_pg_in "$dir" timeout -k 30 "$SUITE_TIMEOUT" "$prog" \
        --inputdir="$dir" --outputdir="$dir/out" \
        --temp-instance="$dir/tmp_check" --port="$port" \
        "${REGRESS_OPTS[@]}" "$@" >"$out" 2>&1 || rc=$?
    cat "$out"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo; echo "$suite: TIMED OUT after ${SUITE_TIMEOUT}s"
    fi
    stop_servers_under "$dir"
    parse_results "$out" "$suite" "$@"
    if [ "$rc" -ne 0 ]; then
        show_diffs "$dir/out"
        if [ -f "$dir/tmp_check/log/postmaster.log" ]; then
            echo "---- $dir/tmp_check/log/postmaster.log (last 40 lines) ----"
            tail -n 40 "$dir/tmp_check/log/postmaster.log"
        fi
    fi
}

# only_matching : keep the names on stdin that match $BPX_ONLY (if set)
only_matching() {
    if [ -n "${BPX_ONLY:-}" ]; then grep -E -- "$BPX_ONLY" || true; else cat; fi
}

# --------------------------------------------------------------- pg_regress
mapfile -t REGRESS_TESTS < <(cd "$SRC/sql-tests" && for f in *.sql; do
    [ -f "$f" ] && printf '%s\n' "${f%.sql}"; done | LC_ALL=C sort | only_matching)
if [ "${#REGRESS_TESTS[@]}" -gt 0 ]; then
    as_pg mkdir -p "$WORK/regress"
    as_pg ln -s "$SRC/sql-tests" "$WORK/regress/sql"
    as_pg ln -s "$SRC/expected" "$WORK/regress/expected"
    run_regress_suite regress "$PG_REGRESS" "$REGRESS_PORT" "${REGRESS_TESTS[@]}"
else
    log "regress: no sql-tests/*.sql, skipped"
fi

# ---------------------------------------------------------------- isolation
SPECS=()
if [ -d "$SRC/sql-tests/specs" ]; then
    mapfile -t SPECS < <(cd "$SRC/sql-tests/specs" && for f in *.spec; do
        [ -f "$f" ] && printf '%s\n' "${f%.spec}"; done | LC_ALL=C sort | only_matching)
fi
if [ "${#SPECS[@]}" -gt 0 ]; then
    as_pg mkdir -p "$WORK/isolation"
    as_pg ln -s "$SRC/sql-tests/specs" "$WORK/isolation/specs"
    as_pg ln -s "$SRC/expected" "$WORK/isolation/expected"
    run_regress_suite isolation "$PG_ISOLATION_REGRESS" "$ISOLATION_PORT" "${SPECS[@]}"
else
    log "isolation: no sql-tests/specs/*.spec, skipped"
fi

# ----------------------------------------------------------------- examples
# examples/bufpool_kv, an extension built outside bufpool_ext against its
# installed header (scripts/build.sh installs it): its own make test, on a
# copy the postgres account may write, one count.
if [ -d "$SRC/examples/bufpool_kv" ] &&
    { [ -z "${BPX_ONLY:-}" ] || echo bufpool_kv | grep -qE -- "$BPX_ONLY"; }; then
    echo
    log "examples: bufpool_kv (make test)"
    as_pg mkdir -p "$WORK/examples"
    as_pg cp -r "$SRC/examples/bufpool_kv" "$WORK/examples/"
    if as_pg_in "$WORK/examples/bufpool_kv" timeout -k 30 "$SUITE_TIMEOUT" \
        make -s test PG_CONFIG="$PG_CONFIG_BIN" REGRESS_OPTS="--port=$REGRESS_PORT"; then
        record examples bufpool_kv ok
        echo "  examples/bufpool_kv: ok"
    else
        record examples bufpool_kv fail
        echo "  examples/bufpool_kv: FAILED"
        [ -f "$WORK/examples/bufpool_kv/regression.diffs" ] &&
            head -n 80 "$WORK/examples/bufpool_kv/regression.diffs"
    fi
fi

# ---------------------------------------------------------------------- TAP
TAP_FILES=()
if [ -d "$SRC/sql-tests/t" ]; then
    mapfile -t TAP_FILES < <(cd "$SRC/sql-tests/t" && for f in *.pl; do
        [ -f "$f" ] && printf '%s\n' "$f"; done | LC_ALL=C sort | only_matching)
fi
# A memory cgroup for TAP 025_memory_governor: made by root under this
# process's own memory cgroup (v1, or v2 with the memory controller) and
# handed to the postgres account; empty (the test skips) otherwise.
BPX_CGROUP=""
if [ "$(id -u)" -eq 0 ]; then
    cg_v1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
    cg_v2=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    if [ -n "$cg_v1" ] && [ -f "/sys/fs/cgroup/memory$cg_v1/memory.limit_in_bytes" ]; then
        BPX_CGROUP="/sys/fs/cgroup/memory${cg_v1%/}/bufpool_ext_test"
    elif [ -n "$cg_v2" ] && grep -qw memory "/sys/fs/cgroup$cg_v2/cgroup.controllers" 2>/dev/null; then
        BPX_CGROUP="/sys/fs/cgroup${cg_v2%/}/bufpool_ext_test"
    fi
    if [ -n "$BPX_CGROUP" ]; then
        rmdir "$BPX_CGROUP" 2>/dev/null || true
        if mkdir -p "$BPX_CGROUP" 2>/dev/null && chown -R "$PG_OS_USER" "$BPX_CGROUP" 2>/dev/null; then
            log "memory cgroup for the governor's TAP test: $BPX_CGROUP"
        else
            BPX_CGROUP=""
        fi
    fi
fi

# Huge pages for TAP 030_huge_pages (root only; the test skips without):
# BPX_HUGE_PAGES 2 MB pages reserved on top of what the system had
# (vm.nr_hugepages), and a hugetlbfs mount of 2 MB pages the postgres
# account owns.  huge_restore puts the old count back and unmounts; it
# also runs at exit, so a failed or interrupted run leaves nothing.
BPX_HUGE_DIR=""
BPX_HUGE_PAGES=""
huge_setup() {
    [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/nr_hugepages ] || return 0
    [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || return 0
    trap huge_restore EXIT
    if huge_reserve 64 "$WORK/hugepages"; then
        BPX_HUGE_DIR="$WORK/hugepages"
        BPX_HUGE_PAGES=64
    else
        log "TAP 030 skips"
    fi
}
huge_restore() {
    huge_release
    BPX_HUGE_DIR=""
    BPX_HUGE_PAGES=""
}

if [ "${#TAP_FILES[@]}" -gt 0 ]; then
    TAP="$WORK/tap"
    as_pg mkdir -p "$TAP"
    as_pg ln -s "$SRC/sql-tests/t" "$TAP/t"
    echo
    log "tap: ${#TAP_FILES[@]} file(s): ${TAP_FILES[*]}"
    # run_tap FILE NAME [VAR=VALUE...]: one TAP file, counted under NAME
    run_tap() {
        local f=$1 name=$2 rc=0 logf
        shift 2
        as_pg_in "$TAP" env \
            PATH="$PGBIN:$PATH" \
            PG_REGRESS="$PG_REGRESS" \
            TESTDIR="$TAP" \
            TESTDATADIR="$TAP/tmp_check" \
            PG_TEST_PORT_DIR="$TAP/portlock" \
            TEMP_CONFIG="$REGRESS_CONF" \
            REPO="$SRC" \
            PG_CONFIG="$PG_CONFIG_BIN" \
            BPX_CGROUP="$BPX_CGROUP" \
            LC_ALL=C LANG=C \
            "$@" \
            timeout -k 30 "$TAP_TIMEOUT" \
            prove -I "$PG_PERL_LIB" -I "$TAP/t" "t/$f" || rc=$?
        stop_servers_under "$TAP/tmp_check"
        unmount_fuse_under "$TAP/tmp_check"
        if [ "$rc" -eq 0 ]; then
            record tap "$name" ok
            echo "  tap/$name: ok"
        else
            record tap "$name" fail
            [ "$rc" -eq 124 ] && echo "  tap/$name: TIMED OUT after ${TAP_TIMEOUT}s"
            echo "  tap/$name: FAILED"
            logf="$TAP/tmp_check/log/regress_log_${f%.pl}"
            if [ -f "$logf" ]; then
                echo "---- $logf (last 80 lines) ----"
                tail -n 80 "$logf"
                echo "---- end ----"
            fi
        fi
    }
    for f in "${TAP_FILES[@]}"; do
        case "$f" in
            030_huge_pages.pl)
                # root reserves huge pages and mounts hugetlbfs for it,
                # and puts both back afterwards (also if the test fails)
                huge_setup
                run_tap "$f" "$f" BPX_HUGE_DIR="$BPX_HUGE_DIR" BPX_HUGE_PAGES="$BPX_HUGE_PAGES"
                huge_restore ;;
            *) run_tap "$f" "$f" ;;
        esac
    done
    # the crash loop and the torn write once more on a compressed space
    for f in "${TAP_FILES[@]}"; do
        case "$f" in
            013_*)
                echo
                log "tap: $f on a compressed space (BPX_CRASH_COMPRESSION=lz4:2048)"
                run_tap "$f" "$f@lz4" BPX_CRASH_COMPRESSION=lz4:2048 ;;
            012_*)
                echo
                log "tap: $f on a compressed space (BPX_TORN_COMPRESSION=zstd:4096)"
                run_tap "$f" "$f@zstd" BPX_TORN_COMPRESSION=zstd:4096 ;;
            007_*)
                echo
                log "tap: $f on a compressed space (BPX_RESIZE_COMPRESSION=lz4:1024)"
                run_tap "$f" "$f@lz4" BPX_RESIZE_COMPRESSION=lz4:1024 ;;
        esac
    done
    # the crash tests once more with bufpool_ext's directory on the
    # power-cut file system, each crash followed by a power cut
    for f in "${TAP_FILES[@]}"; do
        case "$f" in
            013_*|014_*|015_*|017_*)
                echo
                log "tap: $f on the power-cut file system (BPX_ON_CUTFS=1)"
                run_tap "$f" "$f@cutfs" BPX_ON_CUTFS=1 ;;
        esac
    done
else
    log "tap: no sql-tests/t/*.pl, skipped"
fi

summary_and_exit
