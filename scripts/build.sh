#!/usr/bin/env bash
# deps + build + install of bufpool_ext (PGXS against PostgreSQL 15).
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$REPO/scripts/deps.sh"

cd "$REPO"
if ! compgen -G "src/*.c" >/dev/null && ! compgen -G "src/*/*.c" >/dev/null; then
    die "no C sources under $REPO/src: nothing to build"
fi
log "building (make -j2 PG_CONFIG=$PG_CONFIG_BIN)"
make -j2 PG_CONFIG="$PG_CONFIG_BIN"
log "installing (make install)"
as_root make install PG_CONFIG="$PG_CONFIG_BIN"
