# bufpool_ext -- PGXS build.
#
#   make            build (needs pg_config; run `make deps` first on a fresh machine)
#   make install    install into the PostgreSQL tree of $(PG_CONFIG): the
#                   library, the SQL scripts and the public header only
#                   (the test module test/modules/bufpool_test is built and
#                   installed by make test and make bench)
#   make run        deps + build + install + start a demo instance (scripts/run.sh)
#   make stop       stop the demo instance (scripts/stop.sh)
#   make test       deps + build + install + all test suites (scripts/test.sh)
#   make bench      benchmarks (scripts/bench.sh)
#
# The extra targets only call scripts and work without pg_config.

MODULE_big = bufpool_ext
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c src/*/*.c))
EXTENSION = bufpool_ext
DATA = $(wildcard sql/bufpool_ext--*.sql)
# the public C API, installed as
# $(includedir_server)/extension/bufpool_ext/bufpool.h
HEADERS = include/bufpool_ext/bufpool.h
PGFILEDESC = "bufpool_ext - buffer pool in dynamic shared memory"

PG_CPPFLAGS = -I$(srcdir)/include -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare \
	-Wno-cast-function-type -DBUFPOOL_EXT_INTERNAL

ifneq ($(wildcard /usr/include/numa.h),)
PG_CPPFLAGS += -DHAVE_LIBNUMA
SHLIB_LINK += -lnuma -llz4 -lzstd
endif

# No LLVM bitcode (.bc) for JIT inlining: it would compile every file a
# second time with clang under -Werror, whose warnings differ from gcc's.
# Set BPX_BITCODE=yes to build it anyway.
BPX_BITCODE ?= no
ifneq ($(BPX_BITCODE),yes)
override with_llvm := no
endif

# Tests are driven by scripts/test.sh (pg_regress, isolation, TAP), not PGXS.

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
.DEFAULT_GOAL := all
all install installdirs uninstall clean:
	@echo "pg_config ($(PG_CONFIG)) not found: run 'make deps' (or bash scripts/deps.sh)," >&2
	@echo "or pass PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config" >&2
	@exit 1
endif

# PGXS tracks no header dependencies here: rebuild everything when any
# of our headers changes (struct layouts are shared across files).  After
# the PGXS include, so it does not become the default goal.
$(OBJS): $(wildcard include/bufpool_ext/*.h include/bufpool_ext/*/*.h)

.PHONY: deps build run stop test bench
deps:
	bash scripts/deps.sh
build:
	bash scripts/build.sh
run:
	bash scripts/run.sh
stop:
	bash scripts/stop.sh
test:
	bash scripts/test.sh
bench:
	bash scripts/bench.sh
