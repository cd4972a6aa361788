#!/usr/bin/env bash
# deps + build + install of bufpool_ext (PGXS against PostgreSQL 15).
#
#   build.sh                      the product: library, SQL scripts, public header
#   build.sh --with-test-module   and the test tools: the test module
#                                 test/modules/bufpool_test, the example
#                                 extension examples/bufpool_kv and the power-cut
#                                 file system test/cutfs (make test and make
#                                 bench; never make run)
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

WITH_TEST_MODULE=0
case "${1:-}" in
    --with-test-module) WITH_TEST_MODULE=1 ;;
    "") ;;
    *) die "usage: build.sh [--with-test-module]" ;;
esac

bash "$REPO/scripts/deps.sh"

cd "$REPO"
if ! compgen -G "src/*.c" >/dev/null && ! compgen -G "src/*/*.c" >/dev/null; then
    die "no C sources under $REPO/src: nothing to build"
fi
log "building (make -j2 PG_CONFIG=$PG_CONFIG_BIN)"
make -j2 PG_CONFIG="$PG_CONFIG_BIN"
log "installing (make install)"
as_root make install PG_CONFIG="$PG_CONFIG_BIN"

if [ "$WITH_TEST_MODULE" = 1 ]; then
    log "building the test module bufpool_test"
    make -j2 -C test/modules/bufpool_test PG_CONFIG="$PG_CONFIG_BIN"
    log "installing the test module (make -C test/modules/bufpool_test install)"
    as_root make -C test/modules/bufpool_test install PG_CONFIG="$PG_CONFIG_BIN"
    log "building and installing examples/bufpool_kv (against the installed header)"
    make -C examples/bufpool_kv PG_CONFIG="$PG_CONFIG_BIN"
    as_root make -C examples/bufpool_kv install PG_CONFIG="$PG_CONFIG_BIN"
    log "building the power-cut file system test/cutfs"
    make -C test/cutfs
fi
