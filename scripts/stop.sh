#!/usr/bin/env bash
# Stop the demo instance started by scripts/run.sh (make run), if running.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stopped=0
for data in "$REPO/tmp/demo/data" "/tmp/bufpool_ext-demo/data"; do
    [ -f "$data/PG_VERSION" ] || continue
    [ -x "$PGBIN/pg_ctl" ] || continue
    if as_pg_in / "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "stopping demo instance in $data"
        as_pg_in / "$PGBIN/pg_ctl" -D "$data" -m fast -w stop
        stopped=1
    fi
done
[ "$stopped" -eq 1 ] || log "demo instance is not running"
