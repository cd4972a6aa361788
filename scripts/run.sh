#!/usr/bin/env bash
# make run: deps + build + install, then (re)start a demo PostgreSQL 15
# instance with bufpool_ext preloaded, create the extension and show it.
#
#   BPX_PORT   TCP port / socket number of the demo instance (default 5488)
#
# Idempotent: a running demo instance is stopped and started again, so a
# freshly installed bufpool_ext.so is loaded.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${BPX_PORT:-5488}"

bash "$REPO/scripts/build.sh"

DEMO=$(pick_scratch_dir "$REPO/tmp/demo" /tmp/bufpool_ext-demo)
DATA="$DEMO/data"
LOGFILE="$DATA/log/postgresql.log"
make_pg_dir "$DEMO"

PG_CTL=("$PGBIN/pg_ctl" -D "$DATA")

if [ -f "$DATA/PG_VERSION" ] && as_pg_in "$DEMO" "${PG_CTL[@]}" status >/dev/null 2>&1; then
    log "stopping the running demo instance"
    as_pg_in "$DEMO" "${PG_CTL[@]}" -m fast -w stop
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initdb $DATA"
    as_root rm -rf "$DATA"
    as_pg_in "$DEMO" "$PGBIN/initdb" -D "$DATA" -U postgres -A trust \
        --no-locale -E UTF8 >"$DEMO/initdb.log" 2>&1 ||
        { cat "$DEMO/initdb.log" >&2; die "initdb failed"; }
fi

# Our settings live in an included file that is rewritten on every run;
# postgresql.conf only gets the include line once.
as_pg_in "$DEMO" mkdir -p "$DATA/log"
if ! grep -q "^include_if_exists = 'bufpool_demo.conf'" "$DATA/postgresql.conf"; then
    as_pg_in "$DEMO" sh -c "printf '\n# added by scripts/run.sh\ninclude_if_exists = '\''bufpool_demo.conf'\''\n' >> '$DATA/postgresql.conf'"
fi
as_pg_in "$DEMO" tee "$DATA/bufpool_demo.conf" >/dev/null <<EOF
# Written by scripts/run.sh on every run -- edits here are overwritten.
shared_preload_libraries = 'bufpool_ext'
port = $PORT
listen_addresses = 'localhost'
unix_socket_directories = '/tmp'
logging_collector = off
bufpool_ext.size = '64MB'
bufpool_ext.chunk_size = '16MB'
bufpool_ext.instances = 2
EOF

log "starting the demo instance on port $PORT (log: $LOGFILE)"
if ! as_pg_in "$DEMO" "${PG_CTL[@]}" -l "$LOGFILE" -w -t 60 start; then
    echo "---- last lines of $LOGFILE ----" >&2
    tail -n 40 "$LOGFILE" >&2 || true
    die "the demo instance did not start"
fi

PSQL=("$PGBIN/psql" -X -h /tmp -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)

log "CREATE EXTENSION IF NOT EXISTS bufpool_ext;"
if ! as_pg_in "$DEMO" "${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS bufpool_ext;"; then
    echo "---- last lines of $LOGFILE ----" >&2
    tail -n 20 "$LOGFILE" >&2 || true
    die "CREATE EXTENSION bufpool_ext failed"
fi

rc=0
for q in "SELECT * FROM bufpool.status();" "SELECT * FROM bufpool.chunks;" \
    "SELECT pool_id, pool_size, free_buffers, database_pages FROM bufpool.stats;"; do
    log "$q"
    as_pg_in "$DEMO" "${PSQL[@]}" -c "$q" || rc=1
done

cat <<EOF

bufpool_ext demo instance is running (data: $DATA, log: $LOGFILE).
  connect:  psql -h /tmp -p $PORT -U postgres
  stop:     make stop
EOF
[ "$rc" -eq 0 ] || warn "some demo queries failed (see above)"
exit "$rc"
