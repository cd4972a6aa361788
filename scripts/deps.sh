#!/usr/bin/env bash
# Install the Debian packages bufpool_ext needs to build, run and test,
# only if they are missing.  Idempotent; root or sudo.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGES=(
    "postgresql-${PG_MAJOR}"
    "postgresql-server-dev-${PG_MAJOR}"
    libnuma-dev
    # compressed spaces (src/storage/pagezip.c)
    liblz4-dev
    libzstd-dev
    libipc-run-perl
    build-essential
    gcc
    make
    numactl
    # make bench: the disk's own rate (flushing), the report's plots and
    # the instruction counts of the observability benchmark
    fio
    gnuplot-nox
    valgrind
    # make test: the power-cut file system test/cutfs (FUSE)
    libfuse3-dev
    fuse3
    pkg-config
)

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for p in "${PACKAGES[@]}"; do
    is_installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
    log "installing missing packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
    log "all required packages are installed"
fi

# Debian creates and starts a default cluster 15/main on port 5432 when
# postgresql-15 is installed.  We never use it: keep it stopped and on
# manual start so it holds neither the port nor shared memory.
conf_dir="/etc/postgresql/${PG_MAJOR}/main"
if [ -d "$conf_dir" ]; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        if as_root pg_ctlcluster "$PG_MAJOR" main status >/dev/null 2>&1; then
            log "stopping Debian's default cluster ${PG_MAJOR}/main"
        fi
        as_root pg_ctlcluster "$PG_MAJOR" main stop >/dev/null 2>&1 || true
    fi
    # start.conf: "auto" -> "manual" (a "disabled" setting is left alone)
    if [ -f "$conf_dir/start.conf" ] && grep -qx 'auto' "$conf_dir/start.conf"; then
        log "setting ${PG_MAJOR}/main to manual start"
        as_root sed -i 's/^auto$/manual/' "$conf_dir/start.conf"
    elif [ ! -f "$conf_dir/start.conf" ]; then
        as_root sh -c "printf '%s\n' manual > '$conf_dir/start.conf'"
    fi
fi

for f in "$PG_CONFIG_BIN" "$PG_REGRESS" "$PG_ISOLATION_REGRESS" "$PGBIN/initdb"; do
    [ -x "$f" ] || die "$f is missing after installing packages"
done
