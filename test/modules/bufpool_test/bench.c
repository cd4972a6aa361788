/*-------------------------------------------------------------------------
 *
 * bench.c
 *	  Benchmark loops of the page hit path: bufpool_ext against
 *	  PostgreSQL's shared buffers (bufpool_test.bench_fetch and
 *	  bufpool_test.bench_pg_fetch, driven by scripts/bench.sh).
 *
 * Both functions time the same thing: pin one page named by its number,
 * then unpin it, n_ops times in a tight C loop with no SQL per page.  On
 * the bufpool side that is bp_page_fetch + bp_page_release (hash lookup,
 * pin, LRU bookkeeping of an access, the session's pin table); on the
 * PostgreSQL side ReadBufferExtended + ReleaseBuffer (buffer mapping
 * lookup, pin, usage count, private refcount and resource owner).
 * Neither side locks the page contents or reads them.
 *
 * The page numbers come from a trace computed before the clock starts,
 * by one generator shared by both functions, so for the same arguments
 * both sides see exactly the same sequence.  The trace holds
 * min(n_ops, 2^20) entries rounded up to a power of two and is cycled.
 * "uniform" draws pages uniformly from [0, n_pages); "zipf" draws ranks
 * with a Zipf law of exponent 0.99 (CDF and binary search) and maps
 * ranks to pages through a fixed permutation, so the hot pages are
 * scattered over the relation but are the same pages in every session:
 * concurrent sessions with different seeds share one hot set.
 *
 * Every distinct page of the trace is fetched once before timing, so the
 * timed loop measures hits only (a page missing from the pool or from
 * shared_buffers at that point would show as a read and distort the
 * figure; the caller must size both to hold n_pages).
 *
 * The clock is CLOCK_MONOTONIC around the whole loop; the loop checks for
 * interrupts every 65536 operations on both sides.  The result is the
 * elapsed time in nanoseconds divided by n_ops.
 *
 * bufpool_test.bench_fetch_latency (driven by scripts/bench_resize.sh) runs the
 * bufpool loop for a given time instead of a given count and times every
 * fetch+release pair on its own, to see the stalls an online resize may
 * cause.  Each duration (which includes one clock_gettime, some 20 ns) goes
 * into a log-linear histogram in the manner of HdrHistogram: exact below
 * 64 ns, then 64 linear buckets per power of two, so a bucket is at most
 * 1/64 (1.6%) of its lower bound wide, up to 2^34 ns (17 s); a percentile
 * is the middle of its bucket.  Mean and maximum are exact.  Storing every
 * sample is out of the question at some 30 million operations a second.
 *
 * bufpool_test.bench_replay, bench_pg_replay and bench_lru_replay (driven by
 * scripts/bench_replacement.sh) measure replacement quality, not speed:
 * one trace of Zipf accesses with periodic cold scans, replayed through
 * the pool, through shared_buffers and through a plain LRU list, counting
 * hits.  See "Replacement quality" below.
 *
 * Locking: none here; each loop takes the locks of the API it calls.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/bench.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <time.h>

#include "access/relation.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "executor/instrument.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/rel.h"

#include "bufpool_ext/bufpool.h"
#include "bufpool_ext/sql/sql.h"
#include "bufpool_test.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/storage/space.h"

PG_FUNCTION_INFO_V1(bpt_bench_fetch);
PG_FUNCTION_INFO_V1(bpt_bench_pg_fetch);
PG_FUNCTION_INFO_V1(bpt_bench_fetch_latency);
PG_FUNCTION_INFO_V1(bpt_bench_fetch_timeline);
PG_FUNCTION_INFO_V1(bpt_bench_cold_timeline);
PG_FUNCTION_INFO_V1(bpt_bench_replay);
PG_FUNCTION_INFO_V1(bpt_bench_pg_replay);
PG_FUNCTION_INFO_V1(bpt_bench_lru_replay);
PG_FUNCTION_INFO_V1(bpt_bench_heat_replay);

#define BP_BENCH_MAX_PAGES		10000000
#define BP_BENCH_MAX_OPS		INT64CONST(10000000000)
#define BP_BENCH_TRACE_MAX		(1 << 20)
#define BP_BENCH_CFI_MASK		UINT64CONST(0xFFFF)	/* interrupts every 65536 ops */
#define BP_BENCH_ZIPF_S			0.99
#define BP_BENCH_PERM_SEED		UINT64CONST(0x62706265)	/* fixed: one hot set */
#define BP_BENCH_MAX_DURATION_MS	600000

/*
 * Latency histogram: values below BP_HIST_SUB are counted exactly; above,
 * each power of two [2^e, 2^(e+1)) is cut into BP_HIST_SUB equal buckets.
 * Values of 2^BP_HIST_MAX_BITS ns or more land in the last bucket (the
 * exact maximum is kept apart).
 */
#define BP_HIST_SUB_BITS		6
#define BP_HIST_SUB				(1 << BP_HIST_SUB_BITS)
#define BP_HIST_MAX_BITS		34
#define BP_HIST_BUCKETS			((BP_HIST_MAX_BITS - BP_HIST_SUB_BITS + 1) * BP_HIST_SUB)

typedef enum BpBenchPattern
{
	BP_BENCH_UNIFORM,
	BP_BENCH_ZIPF
} BpBenchPattern;

/* A precomputed sequence of page numbers, cycled by the timed loop. */
typedef struct BpBenchTrace
{
	uint32	   *pages;
	uint64		mask;			/* length - 1; the length is a power of two */
} BpBenchTrace;

/* Zipf sampler: cumulative weights by rank, and the rank -> page map. */
typedef struct BpBenchZipf
{
	double	   *cdf;
	uint32	   *perm;
	uint32		n_pages;
	double		sum;			/* cdf[n_pages - 1] */
} BpBenchZipf;

/* splitmix64: small, fast, and good enough for drawing page numbers */
static inline uint64
bp_bench_next(uint64 *state)
{
	uint64		z = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [0, n), by multiply-shift (bias below 2^-32, irrelevant here). */
static inline uint32
bp_bench_below(uint64 *state, uint32 n)
{
	return (uint32) (((bp_bench_next(state) >> 32) * (uint64) n) >> 32);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double
bp_bench_unit(uint64 *state)
{
	return (double) (bp_bench_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * Check the arguments common to the functions: n_pages, the pattern name
 * and n_ops (the caller checked superuser).  Returns the pattern.
 */
static BpBenchPattern
bp_bench_check_args(int32 n_pages, text *pattern_txt, int64 n_ops)
{
	char	   *pattern;

	if (n_pages < 1 || n_pages > BP_BENCH_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_pages must be between 1 and %d, not %d",
						BP_BENCH_MAX_PAGES, n_pages)));
	if (n_ops < 1 || n_ops > BP_BENCH_MAX_OPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_ops must be between 1 and " INT64_FORMAT ", not " INT64_FORMAT,
						BP_BENCH_MAX_OPS, n_ops)));

	pattern = text_to_cstring(pattern_txt);
	if (strcmp(pattern, "uniform") == 0)
		return BP_BENCH_UNIFORM;
	if (strcmp(pattern, "zipf") == 0)
		return BP_BENCH_ZIPF;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown benchmark pattern \"%s\"", pattern),
			 errhint("Use \"uniform\" or \"zipf\".")));
	return BP_BENCH_UNIFORM;	/* keep compiler quiet */
}

/*
 * The generator state for a seed: the same seed gives the same sequence
 * in every function.
 */
static inline uint64
bp_bench_seed_state(int32 seed)
{
	return (uint64) (uint32) seed * UINT64CONST(0x2545F4914F6CDD1D) + 1;
}

/*
 * Set up a Zipf sampler over pages [0, n_pages): ranks drawn with a Zipf
 * law of exponent s, rank k mapped to page perm[k] through a permutation
 * with a fixed seed (one hot set for every caller).  The arrays are
 * palloc'd in the current memory context.
 */
static void
bp_bench_zipf_init_exp(BpBenchZipf *z, uint32 n_pages, double s)
{
	uint64		perm_state = BP_BENCH_PERM_SEED;
	double		sum = 0.0;
	uint32		k;

	/* cdf[k] = sum of 1/(r^s) for ranks r = 1..k+1 */
	z->cdf = MemoryContextAllocHuge(CurrentMemoryContext, (Size) n_pages * sizeof(double));
	z->perm = MemoryContextAllocHuge(CurrentMemoryContext, (Size) n_pages * sizeof(uint32));
	z->n_pages = n_pages;
	for (k = 0; k < n_pages; k++)
	{
		sum += 1.0 / pow((double) (k + 1), s);
		z->cdf[k] = sum;
	}
	z->sum = sum;

	/* Fisher-Yates: rank k is page perm[k] */
	for (k = 0; k < n_pages; k++)
		z->perm[k] = k;
	for (k = n_pages - 1; k > 0; k--)
	{
		uint32		j = bp_bench_below(&perm_state, k + 1);
		uint32		tmp = z->perm[k];

		z->perm[k] = z->perm[j];
		z->perm[j] = tmp;
	}
}

/* The sampler of the benchmarks: exponent BP_BENCH_ZIPF_S. */
static void
bp_bench_zipf_init(BpBenchZipf *z, uint32 n_pages)
{
	bp_bench_zipf_init_exp(z, n_pages, BP_BENCH_ZIPF_S);
}

/* One page drawn by the Zipf sampler. */
static inline uint32
bp_bench_zipf_draw(const BpBenchZipf *z, uint64 *state)
{
	double		u = bp_bench_unit(state) * z->sum;
	uint32		lo = 0;
	uint32		hi = z->n_pages - 1;

	/* the first rank whose cumulative weight exceeds u */
	while (lo < hi)
	{
		uint32		mid = lo + (hi - lo) / 2;

		if (z->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return z->perm[lo];
}

static void
bp_bench_zipf_free(BpBenchZipf *z)
{
	pfree(z->cdf);
	pfree(z->perm);
}

/*
 * Build the trace of page numbers in [0, n_pages) for n_ops operations,
 * Zipf draws with exponent zipf_s.  The result is palloc'd in the current
 * memory context.
 */
static BpBenchTrace
bp_bench_make_trace_exp(uint32 n_pages, BpBenchPattern pattern, int64 n_ops, int32 seed,
						double zipf_s)
{
	BpBenchTrace trace;
	uint64		len = 1;
	uint64		want = Min((uint64) n_ops, (uint64) BP_BENCH_TRACE_MAX);
	uint64		state = bp_bench_seed_state(seed);
	uint64		i;

	while (len < want)
		len <<= 1;
	trace.pages = palloc(len * sizeof(uint32));
	trace.mask = len - 1;

	if (pattern == BP_BENCH_UNIFORM)
	{
		for (i = 0; i < len; i++)
			trace.pages[i] = bp_bench_below(&state, n_pages);
	}
	else
	{
		BpBenchZipf z;

		bp_bench_zipf_init_exp(&z, n_pages, zipf_s);
		for (i = 0; i < len; i++)
			trace.pages[i] = bp_bench_zipf_draw(&z, &state);
		bp_bench_zipf_free(&z);
	}
	return trace;
}

/* The trace of the benchmarks: Zipf exponent BP_BENCH_ZIPF_S. */
static BpBenchTrace
bp_bench_make_trace(uint32 n_pages, BpBenchPattern pattern, int64 n_ops, int32 seed)
{
	return bp_bench_make_trace_exp(n_pages, pattern, n_ops, seed, BP_BENCH_ZIPF_S);
}

/*
 * Call fn(arg, page) once for every distinct page of the trace, in trace
 * order.
 */
static void
bp_bench_warm(const BpBenchTrace *trace, uint32 n_pages,
			  void (*fn) (void *arg, uint32 page_no), void *arg)
{
	uint8	   *seen = palloc0(n_pages / 8 + 1);
	uint64		i;

	for (i = 0; i <= trace->mask; i++)
	{
		uint32		p = trace->pages[i];

		if (seen[p / 8] & (1 << (p % 8)))
			continue;
		seen[p / 8] |= 1 << (p % 8);
		fn(arg, p);
		if ((i & BP_BENCH_CFI_MASK) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(seen);
}

static inline uint64
bp_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64) ts.tv_sec * UINT64CONST(1000000000) + (uint64) ts.tv_nsec;
}

/* The space of a space_id argument, or an error naming it. */
static BpSpaceEntry
bp_bench_space_lookup(int32 space_arg)
{
	BpSpaceEntry space;

	/* the registry is loaded once the pool is ready */
	bp_ensure_attached();
	if (space_arg < 0 || !bp_space_lookup((uint32) space_arg, &space))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %d does not exist", space_arg)));
	return space;
}

/*
 * Check a space_id argument: the space must exist and hold n_pages pages.
 * Returns the space id.
 */
static uint32
bp_bench_space_arg(int32 space_arg, int32 n_pages)
{
	BpSpaceEntry space = bp_bench_space_lookup(space_arg);

	if (space.size_pages < (uint64) n_pages)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool space %d has %llu pages, fewer than n_pages %d",
						space_arg, (unsigned long long) space.size_pages, n_pages)));
	return (uint32) space_arg;
}

static void
bp_bench_warm_bufpool(void *arg, uint32 page_no)
{
	uint32		space_id = *(uint32 *) arg;

	bp_page_release(bp_page_fetch(space_id, page_no, NULL));
}

/*
 * bufpool_test.bench_fetch(space_id, n_pages, pattern, n_ops, seed): ns per
 * bp_page_fetch + bp_page_release of a page of the space.
 */
static Datum bench_fetch_impl(FunctionCallInfo fcinfo);
static Datum bench_pg_fetch_impl(FunctionCallInfo fcinfo);
static Datum bench_fetch_latency_impl(FunctionCallInfo fcinfo);
static Datum bench_fetch_timeline_impl(FunctionCallInfo fcinfo);

/*
 * The functions are superuser-only, checked before anything else so that a
 * grant never lets another role learn more than that; and not STRICT: a
 * NULL argument is an error.
 */
static void
bench_args_not_null(FunctionCallInfo fcinfo, const char *fname, const char *first,
					const char *fourth)
{
	const char *const names[] = {first, "n_pages", "pattern", fourth, "seed"};
	int			i;

	bpt_require_superuser(fname);
	for (i = 0; i < 5; i++)
		bpt_not_null(fcinfo, i, fname, names[i]);
}

Datum
bpt_bench_fetch(PG_FUNCTION_ARGS)
{
	bench_args_not_null(fcinfo, "bench_fetch", "space_id", "n_ops");
	return bench_fetch_impl(fcinfo);
}

Datum
bpt_bench_pg_fetch(PG_FUNCTION_ARGS)
{
	bench_args_not_null(fcinfo, "bench_pg_fetch", "rel", "n_ops");
	return bench_pg_fetch_impl(fcinfo);
}

Datum
bpt_bench_fetch_latency(PG_FUNCTION_ARGS)
{
	bench_args_not_null(fcinfo, "bench_fetch_latency", "space_id", "duration_ms");
	return bench_fetch_latency_impl(fcinfo);
}

Datum
bpt_bench_fetch_timeline(PG_FUNCTION_ARGS)
{
	const char *const names[] = {"space_id", "n_pages", "pattern", "duration_ms",
	"window_ms", "seed"};
	int			i;

	bpt_require_superuser("bench_fetch_timeline");
	for (i = 0; i < lengthof(names); i++)
		bpt_not_null(fcinfo, i, "bench_fetch_timeline", names[i]);
	return bench_fetch_timeline_impl(fcinfo);
}

/*
 * The timed loop of bench_fetch, a function of its own so that an
 * instruction count can be taken of it alone (valgrind --tool=callgrind
 * --toggle-collect=bp_bench_fetch_loop; scripts/bench_observe.sh).
 */
static pg_noinline void
bp_bench_fetch_loop(uint32 space_id, const uint32 *pages, uint64 mask, uint64 n_ops)
{
	uint64		i;

	for (i = 0; i < n_ops; i++)
	{
		BpPage		p;

		if ((i & BP_BENCH_CFI_MASK) == 0)
			CHECK_FOR_INTERRUPTS();
		p = bp_page_fetch(space_id, pages[i & mask], NULL);
		bp_page_release(p);
	}
}

static Datum
bench_fetch_impl(FunctionCallInfo fcinfo)
{
	int32		space_arg = PG_GETARG_INT32(0);
	int32		n_pages = PG_GETARG_INT32(1);
	text	   *pattern_txt = PG_GETARG_TEXT_PP(2);
	int64		n_ops = PG_GETARG_INT64(3);
	int32		seed = PG_GETARG_INT32(4);
	BpBenchPattern pattern;
	uint32		space_id;
	BpBenchTrace trace;
	uint64		start;
	uint64		end;

	pattern = bp_bench_check_args(n_pages, pattern_txt, n_ops);

	space_id = bp_bench_space_arg(space_arg, n_pages);

	trace = bp_bench_make_trace((uint32) n_pages, pattern, n_ops, seed);
	bp_bench_warm(&trace, (uint32) n_pages, bp_bench_warm_bufpool, &space_id);

	start = bp_bench_now_ns();
	bp_bench_fetch_loop(space_id, trace.pages, trace.mask, (uint64) n_ops);
	end = bp_bench_now_ns();

	pfree(trace.pages);
	PG_RETURN_FLOAT8((double) (end - start) / (double) n_ops);
}

/*
 * Open relation relid for a loop over its first n_pages blocks of the main
 * fork (AccessShareLock, released by the caller with relation_close): it
 * must have storage in shared buffers and at least n_pages blocks.
 */
static Relation
bp_bench_open_rel(Oid relid, int64 n_pages)
{
	Relation	rel;
	BlockNumber nblocks;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation \"%s\" has no storage",
						RelationGetRelationName(rel))));
	if (RelationUsesLocalBuffers(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation \"%s\" is temporary",
						RelationGetRelationName(rel)),
				 errdetail("Temporary relations use local buffers, not shared buffers.")));
	nblocks = RelationGetNumberOfBlocks(rel);
	if ((int64) nblocks < n_pages)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation \"%s\" has %u blocks, fewer than the " INT64_FORMAT " needed",
						RelationGetRelationName(rel), nblocks, n_pages)));
	return rel;
}

static void
bp_bench_warm_pg(void *arg, uint32 page_no)
{
	Relation	rel = (Relation) arg;

	ReleaseBuffer(ReadBufferExtended(rel, MAIN_FORKNUM, page_no, RBM_NORMAL, NULL));
}

/* The timed loop of bench_pg_fetch, a function of its own as bp_bench_fetch_loop. */
static pg_noinline void
bp_bench_pg_fetch_loop(Relation rel, const uint32 *pages, uint64 mask, uint64 n_ops)
{
	uint64		i;

	for (i = 0; i < n_ops; i++)
	{
		Buffer		b;

		if ((i & BP_BENCH_CFI_MASK) == 0)
			CHECK_FOR_INTERRUPTS();
		b = ReadBufferExtended(rel, MAIN_FORKNUM, pages[i & mask], RBM_NORMAL, NULL);
		ReleaseBuffer(b);
	}
}

/*
 * bufpool_test.bench_pg_fetch(rel, n_pages, pattern, n_ops, seed): ns per
 * ReadBufferExtended + ReleaseBuffer of a block of the relation's main
 * fork.
 */
static Datum
bench_pg_fetch_impl(FunctionCallInfo fcinfo)
{
	Oid			relid = PG_GETARG_OID(0);
	int32		n_pages = PG_GETARG_INT32(1);
	text	   *pattern_txt = PG_GETARG_TEXT_PP(2);
	int64		n_ops = PG_GETARG_INT64(3);
	int32		seed = PG_GETARG_INT32(4);
	BpBenchPattern pattern;
	Relation	rel;
	BpBenchTrace trace;
	uint64		start;
	uint64		end;

	pattern = bp_bench_check_args(n_pages, pattern_txt, n_ops);

	rel = bp_bench_open_rel(relid, n_pages);

	trace = bp_bench_make_trace((uint32) n_pages, pattern, n_ops, seed);
	bp_bench_warm(&trace, (uint32) n_pages, bp_bench_warm_pg, rel);

	start = bp_bench_now_ns();
	bp_bench_pg_fetch_loop(rel, trace.pages, trace.mask, (uint64) n_ops);
	end = bp_bench_now_ns();

	relation_close(rel, AccessShareLock);
	pfree(trace.pages);
	PG_RETURN_FLOAT8((double) (end - start) / (double) n_ops);
}

/* Histogram bucket of a duration in ns. */
static inline int
bp_hist_bucket(uint64 v)
{
	int			e;

	if (v < BP_HIST_SUB)
		return (int) v;
	e = pg_leftmost_one_pos64(v);
	if (e >= BP_HIST_MAX_BITS)
		return BP_HIST_BUCKETS - 1;
	return (e - BP_HIST_SUB_BITS + 1) * BP_HIST_SUB +
		(int) (v >> (e - BP_HIST_SUB_BITS)) - BP_HIST_SUB;
}

/* The middle of the values that fall into bucket i. */
static double
bp_hist_value(int i)
{
	int			g = i / BP_HIST_SUB;
	uint64		lo;
	uint64		width;

	if (g == 0)
		return (double) i;
	width = UINT64CONST(1) << (g - 1);
	lo = (uint64) (BP_HIST_SUB + i % BP_HIST_SUB) << (g - 1);
	return (double) lo + (double) (width - 1) / 2.0;
}

/*
 * The q-quantile of n samples counted in hist: the value of the sample of
 * rank ceil(q * n), at most max_ns (the last bucket is open-ended).
 */
static double
bp_hist_quantile(const uint64 *hist, uint64 n, double q, uint64 max_ns)
{
	uint64		rank = (uint64) ceil(q * (double) n);
	uint64		seen = 0;
	int			i;

	if (rank < 1)
		rank = 1;
	for (i = 0; i < BP_HIST_BUCKETS; i++)
	{
		seen += hist[i];
		if (seen >= rank)
			return Min(bp_hist_value(i), (double) max_ns);
	}
	return (double) max_ns;
}

/*
 * One window of the timed loop: the number of pairs, their sum, their
 * maximum and their histogram.
 */
typedef struct BpLatencyWindow
{
	uint64		ops;
	uint64		hits;			/* counted with count_hits only */
	uint64		sum;
	uint64		max_ns;
	uint64	   *hist;			/* BP_HIST_BUCKETS counters */
} BpLatencyWindow;

/* The row of a window: ops, mean, p50, p99, p99.9, max (6 values). */
static void
bp_latency_values(const BpLatencyWindow *w, Datum *values)
{
	uint64		n = Max(w->ops, 1);

	values[0] = Int64GetDatum((int64) w->ops);
	values[1] = Float8GetDatum((double) w->sum / (double) n);
	values[2] = Float8GetDatum(bp_hist_quantile(w->hist, n, 0.50, w->max_ns));
	values[3] = Float8GetDatum(bp_hist_quantile(w->hist, n, 0.99, w->max_ns));
	values[4] = Float8GetDatum(bp_hist_quantile(w->hist, n, 0.999, w->max_ns));
	values[5] = Float8GetDatum((double) w->max_ns);
}

typedef void (*BpWindowDone) (void *arg, const BpLatencyWindow *w, uint64 window_start_ns);

/*
 * The timed loop of the latency functions: bp_page_fetch +
 * bp_page_release of the trace's pages for duration_ms, each pair timed,
 * in windows of window_ms (the last one may be shorter); done(arg, w,
 * start) is called at the end of each window, then the window starts
 * again from zero.  Checking the clock is part of every pair anyway, so
 * windows cost nothing but the call at each boundary.
 */
static void
bp_latency_loop(uint32 space_id, const BpBenchTrace *trace, int32 duration_ms,
				int32 window_ms, bool count_hits, BpWindowDone done, void *arg)
{
	const uint32 *pages = trace->pages;
	uint64		mask = trace->mask;
	BpLatencyWindow w = {0};
	uint64		window_ns = (uint64) window_ms * UINT64CONST(1000000);
	uint64		start = bp_bench_now_ns();
	uint64		deadline = start + (uint64) duration_ms * UINT64CONST(1000000);
	uint64		window_start = start;
	uint64		window_end = Min(start + window_ns, deadline);
	uint64		i;

	w.hist = palloc0(BP_HIST_BUCKETS * sizeof(uint64));
	for (i = 0;; i++)
	{
		BpPage		p;
		BpFetchInfo info;
		uint64		t0;
		uint64		t1;
		uint64		d;

		if ((i & BP_BENCH_CFI_MASK) == 0)
			CHECK_FOR_INTERRUPTS();
		t0 = bp_bench_now_ns();
		p = bp_page_fetch(space_id, pages[i & mask], count_hits ? &info : NULL);
		bp_page_release(p);
		t1 = bp_bench_now_ns();
		if (count_hits && info.hit)
			w.hits++;

		d = t1 - t0;
		w.hist[bp_hist_bucket(d)]++;
		w.sum += d;
		w.ops++;
		if (d > w.max_ns)
			w.max_ns = d;
		if (t1 >= window_end)
		{
			done(arg, &w, window_start);
			if (t1 >= deadline)
				break;
			memset(w.hist, 0, BP_HIST_BUCKETS * sizeof(uint64));
			w.ops = w.hits = w.sum = w.max_ns = 0;
			window_start = t1;
			window_end = Min(t1 + window_ns, deadline);
		}
	}
	pfree(w.hist);
}

/*
 * Check duration_ms (and window_ms) and the common arguments, build the
 * trace of the latency functions and, if warm, fetch each of its pages
 * once.
 */
static BpBenchTrace
bp_latency_setup(FunctionCallInfo fcinfo, int32 duration_ms, int32 window_ms,
				 bool warm, uint32 *space_id)
{
	int32		space_arg = PG_GETARG_INT32(0);
	int32		n_pages = PG_GETARG_INT32(1);
	text	   *pattern_txt = PG_GETARG_TEXT_PP(2);
	BpBenchPattern pattern;
	BpBenchTrace trace;

	/* the trace is as long as it can be: the loop runs for a time */
	pattern = bp_bench_check_args(n_pages, pattern_txt, BP_BENCH_TRACE_MAX);
	if (duration_ms < 1 || duration_ms > BP_BENCH_MAX_DURATION_MS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration_ms must be between 1 and %d, not %d",
						BP_BENCH_MAX_DURATION_MS, duration_ms)));
	if (window_ms < 1 || window_ms > duration_ms)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window_ms must be between 1 and duration_ms (%d), not %d",
						duration_ms, window_ms)));

	*space_id = bp_bench_space_arg(space_arg, n_pages);
	trace = bp_bench_make_trace((uint32) n_pages, pattern, BP_BENCH_TRACE_MAX,
								PG_GETARG_INT32(fcinfo->nargs - 1));
	if (warm)
		bp_bench_warm(&trace, (uint32) n_pages, bp_bench_warm_bufpool, space_id);
	return trace;
}

/* the one window of bench_fetch_latency: keep its row */
static void
bp_latency_keep_row(void *arg, const BpLatencyWindow *w, uint64 window_start_ns)
{
	bp_latency_values(w, (Datum *) arg);
}

/*
 * bufpool_test.bench_fetch_latency(space_id, n_pages, pattern, duration_ms,
 * seed): bp_page_fetch + bp_page_release of pages of the space for
 * duration_ms, each pair timed; returns (ops, mean_ns, p50_ns, p99_ns,
 * p999_ns, max_ns).
 */
static Datum
bench_fetch_latency_impl(FunctionCallInfo fcinfo)
{
	int32		duration_ms = PG_GETARG_INT32(3);
	uint32		space_id;
	BpBenchTrace trace;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	trace = bp_latency_setup(fcinfo, duration_ms, duration_ms, true, &space_id);
	bp_latency_loop(space_id, &trace, duration_ms, duration_ms, false,
					bp_latency_keep_row, values);
	pfree(trace.pages);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* a window of bench_fetch_timeline: one row of the result */
typedef struct BpTimelineState
{
	ReturnSetInfo *rsinfo;
	bool		with_hits;		/* a hits column after ops */
	TimestampTz start_ts;		/* clock_timestamp() at start_ns */
	uint64		start_ns;
} BpTimelineState;

static void
bp_latency_add_row(void *arg, const BpLatencyWindow *w, uint64 window_start_ns)
{
	BpTimelineState *st = (BpTimelineState *) arg;
	Datum		values[8];
	bool		nulls[8] = {0};

	values[0] = TimestampTzGetDatum(st->start_ts +
									(TimestampTz) ((window_start_ns - st->start_ns) / 1000));
	bp_latency_values(w, values + 1);
	if (st->with_hits)
	{
		memmove(values + 3, values + 2, 5 * sizeof(Datum));
		values[2] = Int64GetDatum((int64) w->hits);
	}
	tuplestore_putvalues(st->rsinfo->setResult, st->rsinfo->setDesc, values, nulls);
}

/* The timeline functions: warm, or cold with a hits column. */
static Datum
bp_timeline_run(FunctionCallInfo fcinfo, bool warm)
{
	int32		duration_ms = PG_GETARG_INT32(3);
	int32		window_ms = PG_GETARG_INT32(4);
	BpTimelineState st;
	uint32		space_id;
	BpBenchTrace trace;

	InitMaterializedSRF(fcinfo, 0);
	st.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	st.with_hits = !warm;
	trace = bp_latency_setup(fcinfo, duration_ms, window_ms, warm, &space_id);
	st.start_ns = bp_bench_now_ns();
	st.start_ts = GetCurrentTimestamp();
	bp_latency_loop(space_id, &trace, duration_ms, window_ms, !warm, bp_latency_add_row, &st);
	pfree(trace.pages);
	return (Datum) 0;
}

/*
 * bufpool_test.bench_fetch_timeline(space_id, n_pages, pattern, duration_ms,
 * window_ms, seed): the loop of bench_fetch_latency, one row per window
 * of window_ms: (window_start, ops, mean_ns, p50_ns, p99_ns, p999_ns,
 * max_ns).  window_start is wall-clock time, so the rows can be laid next
 * to bufpool.resize_status's started/finished.
 */
static Datum
bench_fetch_timeline_impl(FunctionCallInfo fcinfo)
{
	return bp_timeline_run(fcinfo, true);
}

/*
 * bufpool_test.bench_cold_timeline(space_id, n_pages, pattern, duration_ms,
 * window_ms, seed): the loop of bench_fetch_timeline with no warm-up, so
 * misses are timed too, and a hits column after ops: (window_start, ops,
 * hits, mean_ns, p50_ns, p99_ns, p999_ns, max_ns).  For the warm-restart
 * benchmark (scripts/bench_warm.sh): how soon the hits come back after a
 * restart, and what a session's fetches cost while the pool loads.
 */
Datum
bpt_bench_cold_timeline(PG_FUNCTION_ARGS)
{
	const char *const names[] = {"space_id", "n_pages", "pattern", "duration_ms",
	"window_ms", "seed"};
	int			i;

	bpt_require_superuser("bench_cold_timeline");
	for (i = 0; i < lengthof(names); i++)
		bpt_not_null(fcinfo, i, "bench_cold_timeline", names[i]);
	return bp_timeline_run(fcinfo, false);
}

/* ----------------------------------------------------------------------
 * Replacement quality: one trace replayed through three policies
 * ----------------------------------------------------------------------
 *
 * bufpool_test.bench_replay (a bufpool space: the real pool, real misses read
 * from the space file), bufpool_test.bench_pg_replay (a relation through
 * shared_buffers: PostgreSQL's clock sweep) and bufpool_test.bench_lru_replay
 * (a textbook LRU list of a given capacity in backend memory) replay the
 * same trace and count its hits; scripts/bench_replacement.sh compares
 * them.
 *
 * The trace: Zipf accesses (bp_bench_zipf_draw) over pages [0, n_pages)
 * and, if scan_pages > 0, after every scan_every Zipf accesses a
 * sequential scan of scan_pages pages of a separate range [n_pages,
 * n_pages + scan_range), which the Zipf accesses never touch.  Each scan
 * starts where the previous one stopped and wraps around the range, so
 * with scan_range well above the pool size a scanned page is always long
 * gone when it comes round again: scans are cold.  The trace is a pure
 * function of its arguments and the seed, so every policy sees exactly
 * the same sequence; it is generated access by access, not stored.
 *
 * What is counted: the trace runs for warmup_ops + n_ops accesses; the
 * first warmup_ops fill the cache and are not counted, the next n_ops
 * are.  accesses = n_ops; hits = those found in the cache; scan_accesses
 * and scan_hits = the part of both that came from scans.  A hit is, for
 * the pool, bp_page_fetch's BpFetchInfo.hit (found without a read); for
 * shared buffers, an access that raised pgBufferUsage.shared_blks_hit
 * (the counter EXPLAIN (BUFFERS) shows) rather than shared_blks_read;
 * for the simulation, a page found in its list.  The cache is not
 * emptied first: the caller starts each replay from a cold cache (a
 * new space, a restarted server) or relies on the warm-up.
 */

/* The replacement trace: generator state. */
typedef struct BpReplTrace
{
	BpBenchZipf zipf;			/* pages [0, n_pages) */
	uint64		state;			/* splitmix64 state */
	uint32		n_pages;
	uint32		scan_pages;		/* pages per scan; 0: no scans */
	uint32		scan_every;		/* Zipf accesses between two scans */
	uint32		scan_range;		/* scans cycle over [n_pages, n_pages + scan_range) */
	uint32		scan_pos;		/* next scanned page, as an offset in the range */
	uint32		zipf_left;		/* Zipf accesses before the next scan */
	uint32		scan_left;		/* pages left in the current scan */
} BpReplTrace;

/* Counts of a replay. */
typedef struct BpReplCounts
{
	int64		accesses;
	int64		hits;
	int64		scan_accesses;
	int64		scan_hits;
} BpReplCounts;

#define BP_REPL_NARGS	8		/* arguments of each of the three functions */

static void
bp_repl_init(BpReplTrace *t, uint32 n_pages, uint32 scan_pages, uint32 scan_every,
			 uint32 scan_range, int32 seed)
{
	bp_bench_zipf_init(&t->zipf, n_pages);
	t->state = bp_bench_seed_state(seed);
	t->n_pages = n_pages;
	t->scan_pages = scan_pages;
	t->scan_every = scan_every;
	t->scan_range = scan_range;
	t->scan_pos = 0;
	t->zipf_left = scan_every;
	t->scan_left = 0;
}

/* The next page of the trace; *is_scan tells whether a scan produced it. */
static inline uint32
bp_repl_next(BpReplTrace *t, bool *is_scan)
{
	uint32		page;

	if (t->scan_pages > 0)
	{
		if (t->scan_left == 0 && t->zipf_left == 0)
		{
			t->scan_left = t->scan_pages;
			t->zipf_left = t->scan_every;
		}
		if (t->scan_left > 0)
		{
			page = t->n_pages + t->scan_pos;
			if (++t->scan_pos == t->scan_range)
				t->scan_pos = 0;
			t->scan_left--;
			*is_scan = true;
			return page;
		}
		t->zipf_left--;
	}
	*is_scan = false;
	return bp_bench_zipf_draw(&t->zipf, &t->state);
}

/* The trace arguments, checked (the caller checked superuser and NULLs). */
typedef struct BpReplArgs
{
	int32		n_pages;
	int32		scan_pages;
	int32		scan_every;
	int32		scan_range;
	int64		n_ops;
	int64		warmup_ops;
	int32		seed;
} BpReplArgs;

/*
 * Read and check arguments 1..7 of a replay function (argument 0 names
 * the cache): n_pages, scan_pages, scan_every, scan_range, n_ops,
 * warmup_ops, seed.
 */
static BpReplArgs
bp_repl_args(FunctionCallInfo fcinfo)
{
	BpReplArgs	a;

	a.n_pages = PG_GETARG_INT32(1);
	a.scan_pages = PG_GETARG_INT32(2);
	a.scan_every = PG_GETARG_INT32(3);
	a.scan_range = PG_GETARG_INT32(4);
	a.n_ops = PG_GETARG_INT64(5);
	a.warmup_ops = PG_GETARG_INT64(6);
	a.seed = PG_GETARG_INT32(7);

	if (a.n_pages < 1 || a.n_pages > BP_BENCH_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_pages must be between 1 and %d, not %d",
						BP_BENCH_MAX_PAGES, a.n_pages)));
	if (a.scan_pages < 0 || a.scan_pages > BP_BENCH_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scan_pages must be between 0 and %d, not %d",
						BP_BENCH_MAX_PAGES, a.scan_pages)));
	if (a.scan_every < 0 || (a.scan_pages > 0 && a.scan_every < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scan_every must be at least %d, not %d",
						a.scan_pages > 0 ? 1 : 0, a.scan_every),
				 errdetail("It is the number of Zipf accesses between two scans.")));
	if (a.scan_range < 0 || a.scan_range > BP_BENCH_MAX_PAGES ||
		a.scan_range < a.scan_pages)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scan_range must be between scan_pages (%d) and %d, not %d",
						a.scan_pages, BP_BENCH_MAX_PAGES, a.scan_range)));
	if (a.n_ops < 1 || a.n_ops > BP_BENCH_MAX_OPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_ops must be between 1 and " INT64_FORMAT ", not " INT64_FORMAT,
						BP_BENCH_MAX_OPS, a.n_ops)));
	if (a.warmup_ops < 0 || a.warmup_ops > BP_BENCH_MAX_OPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("warmup_ops must be between 0 and " INT64_FORMAT ", not " INT64_FORMAT,
						BP_BENCH_MAX_OPS, a.warmup_ops)));
	return a;
}

/* Pages of the data set the trace touches: the Zipf pages, then the scan range. */
static inline int64
bp_repl_data_pages(const BpReplArgs *a)
{
	return (int64) a->n_pages + (a->scan_pages > 0 ? a->scan_range : 0);
}

/*
 * Replay the trace: access(arg, page) returns whether the page was a hit.
 */
static BpReplCounts
bp_repl_run(const BpReplArgs *a, bool (*access) (void *arg, uint32 page_no), void *arg)
{
	BpReplTrace t;
	BpReplCounts c = {0};
	int64		total = a->warmup_ops + a->n_ops;
	int64		i;

	bp_repl_init(&t, (uint32) a->n_pages, (uint32) a->scan_pages,
				 (uint32) a->scan_every, (uint32) a->scan_range, a->seed);
	for (i = 0; i < total; i++)
	{
		bool		is_scan;
		uint32		page = bp_repl_next(&t, &is_scan);
		bool		hit;

		if ((i & BP_BENCH_CFI_MASK) == 0)
			CHECK_FOR_INTERRUPTS();
		hit = access(arg, page);
		if (i < a->warmup_ops)
			continue;
		c.accesses++;
		c.hits += hit;
		if (is_scan)
		{
			c.scan_accesses++;
			c.scan_hits += hit;
		}
	}
	bp_bench_zipf_free(&t.zipf);
	return c;
}

/* The result row (accesses, hits, scan_accesses, scan_hits). */
static Datum
bp_repl_result(FunctionCallInfo fcinfo, const BpReplCounts *c)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(c->accesses);
	values[1] = Int64GetDatum(c->hits);
	values[2] = Int64GetDatum(c->scan_accesses);
	values[3] = Int64GetDatum(c->scan_hits);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* Superuser first, then no NULL argument (as bench_args_not_null). */
static void
bp_repl_args_not_null(FunctionCallInfo fcinfo, const char *fname, const char *first)
{
	const char *const names[] = {first, "n_pages", "scan_pages", "scan_every",
	"scan_range", "n_ops", "warmup_ops", "seed"};
	int			i;

	bpt_require_superuser(fname);
	for (i = 0; i < BP_REPL_NARGS; i++)
		bpt_not_null(fcinfo, i, fname, names[i]);
}

static bool
bp_repl_access_bufpool(void *arg, uint32 page_no)
{
	BpFetchInfo info;

	bp_page_release(bp_page_fetch(*(uint32 *) arg, page_no, &info));
	return info.hit;
}

/*
 * bufpool_test.bench_replay(space_id, n_pages, scan_pages, scan_every,
 * scan_range, n_ops, warmup_ops, seed): the trace through the pool, on
 * pages of the space.
 */
Datum
bpt_bench_replay(PG_FUNCTION_ARGS)
{
	BpReplArgs	a;
	BpReplCounts c;
	BpSpaceEntry space;
	int32		space_arg;
	uint32		space_id;

	bp_repl_args_not_null(fcinfo, "bench_replay", "space_id");
	space_arg = PG_GETARG_INT32(0);
	a = bp_repl_args(fcinfo);

	space = bp_bench_space_lookup(space_arg);
	if (space.size_pages < (uint64) bp_repl_data_pages(&a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool space %d has %llu pages, fewer than the " INT64_FORMAT " of the trace",
						space_arg, (unsigned long long) space.size_pages,
						bp_repl_data_pages(&a)),
				 errdetail("The trace uses n_pages pages, and scan_range more if scan_pages is above 0.")));
	space_id = (uint32) space_arg;

	c = bp_repl_run(&a, bp_repl_access_bufpool, &space_id);
	return bp_repl_result(fcinfo, &c);
}

static bool
bp_repl_access_pg(void *arg, uint32 page_no)
{
	int64		hits = pgBufferUsage.shared_blks_hit;

	ReleaseBuffer(ReadBufferExtended((Relation) arg, MAIN_FORKNUM, page_no, RBM_NORMAL, NULL));
	return pgBufferUsage.shared_blks_hit != hits;
}

/*
 * bufpool_test.bench_pg_replay(rel, n_pages, ...): the trace through shared
 * buffers, on blocks of the relation's main fork, with no buffer access
 * strategy (what a plain index or heap fetch uses: no ring).
 */
Datum
bpt_bench_pg_replay(PG_FUNCTION_ARGS)
{
	BpReplArgs	a;
	BpReplCounts c;
	Relation	rel;
	int64		hit0;
	int64		read0;
	int64		hits;
	int64		reads;

	bp_repl_args_not_null(fcinfo, "bench_pg_replay", "rel");
	a = bp_repl_args(fcinfo);
	rel = bp_bench_open_rel(PG_GETARG_OID(0), bp_repl_data_pages(&a));

	hit0 = pgBufferUsage.shared_blks_hit;
	read0 = pgBufferUsage.shared_blks_read;
	c = bp_repl_run(&a, bp_repl_access_pg, rel);
	hits = pgBufferUsage.shared_blks_hit - hit0;
	reads = pgBufferUsage.shared_blks_read - read0;
	relation_close(rel, AccessShareLock);

	/* every access is one or the other, once */
	if (hits + reads != a.warmup_ops + a.n_ops)
		elog(ERROR, "shared buffer counters moved by " INT64_FORMAT " hits and " INT64_FORMAT
			 " reads over " INT64_FORMAT " accesses",
			 hits, reads, a.warmup_ops + a.n_ops);
	return bp_repl_result(fcinfo, &c);
}

/*
 * The textbook LRU list of bench_lru_replay: slots in a doubly linked
 * list (head = most recently used), and a page -> slot map.  The pages of
 * a trace are dense, [0, data pages), so the map is an array indexed by
 * page number (a perfect hash).
 */
typedef struct BpLruSim
{
	int32	   *slot_of;		/* page -> slot, or -1 */
	uint32	   *page;			/* slot -> page */
	int32	   *prev;
	int32	   *next;
	int32		head;
	int32		tail;
	int32		used;
	int32		capacity;
} BpLruSim;

static void
bp_lru_sim_unlink(BpLruSim *s, int32 i)
{
	if (s->prev[i] >= 0)
		s->next[s->prev[i]] = s->next[i];
	else
		s->head = s->next[i];
	if (s->next[i] >= 0)
		s->prev[s->next[i]] = s->prev[i];
	else
		s->tail = s->prev[i];
}

static void
bp_lru_sim_push_head(BpLruSim *s, int32 i)
{
	s->prev[i] = -1;
	s->next[i] = s->head;
	if (s->head >= 0)
		s->prev[s->head] = i;
	else
		s->tail = i;
	s->head = i;
}

static bool
bp_repl_access_lru(void *arg, uint32 page_no)
{
	BpLruSim   *s = (BpLruSim *) arg;
	int32		i = s->slot_of[page_no];

	if (i >= 0)
	{
		/* hit: to the head */
		if (s->head != i)
		{
			bp_lru_sim_unlink(s, i);
			bp_lru_sim_push_head(s, i);
		}
		return true;
	}
	if (s->used < s->capacity)
		i = s->used++;
	else
	{
		/* full: the tail page goes */
		i = s->tail;
		bp_lru_sim_unlink(s, i);
		s->slot_of[s->page[i]] = -1;
	}
	s->page[i] = page_no;
	s->slot_of[page_no] = i;
	bp_lru_sim_push_head(s, i);
	return false;
}

/*
 * bufpool_test.bench_lru_replay(capacity, n_pages, ...): the trace through a
 * plain LRU list of capacity pages in backend memory (no I/O).
 */
Datum
bpt_bench_lru_replay(PG_FUNCTION_ARGS)
{
	BpReplArgs	a;
	BpReplCounts c;
	BpLruSim	s;
	int32		capacity;
	int64		data_pages;

	bp_repl_args_not_null(fcinfo, "bench_lru_replay", "capacity");
	capacity = PG_GETARG_INT32(0);
	a = bp_repl_args(fcinfo);
	if (capacity < 1 || capacity > BP_BENCH_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("capacity must be between 1 and %d pages, not %d",
						BP_BENCH_MAX_PAGES, capacity)));

	data_pages = bp_repl_data_pages(&a);
	s.slot_of = MemoryContextAllocHuge(CurrentMemoryContext, (Size) data_pages * sizeof(int32));
	memset(s.slot_of, 0xFF, (Size) data_pages * sizeof(int32));
	s.page = MemoryContextAllocHuge(CurrentMemoryContext, (Size) capacity * sizeof(uint32));
	s.prev = MemoryContextAllocHuge(CurrentMemoryContext, (Size) capacity * sizeof(int32));
	s.next = MemoryContextAllocHuge(CurrentMemoryContext, (Size) capacity * sizeof(int32));
	s.head = s.tail = -1;
	s.used = 0;
	s.capacity = capacity;

	c = bp_repl_run(&a, bp_repl_access_lru, &s);

	pfree(s.slot_of);
	pfree(s.page);
	pfree(s.prev);
	pfree(s.next);
	return bp_repl_result(fcinfo, &c);
}

/* ----------------------------------------------------------------------
 * Hot-page detection accuracy
 * ---------------------------------------------------------------------- */

typedef struct BpHeatTop
{
	uint32		page;
	int64		accesses;
} BpHeatTop;

static int
bp_heat_top_cmp(const void *a, const void *b)
{
	const BpHeatTop *x = a;
	const BpHeatTop *y = b;

	if (x->accesses != y->accesses)
		return x->accesses > y->accesses ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page ? 1 : 0;
}

/*
 * bufpool_test.bench_heat_replay(space_id, n_pages, n_ops, exponent, seed, top):
 * n_ops Zipf(exponent) accesses over pages [0, n_pages) of the space
 * through bp_page_fetch + bp_page_release at full speed, counting each
 * page's accesses; returns the top pages by that count (ties by page
 * number), which bufpool.hot_pages should then show.
 */
Datum
bpt_bench_heat_replay(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *const names[] = {"space_id", "n_pages", "n_ops", "exponent", "seed", "top"};
	BpSpaceEntry space;
	int32		space_arg;
	int32		n_pages;
	int64		n_ops;
	double		exponent;
	int32		seed;
	int32		top;
	BpBenchZipf z;
	uint64		state;
	BpHeatTop  *count;
	int64		i;
	int			k;

	bpt_require_superuser("bench_heat_replay");
	for (k = 0; k < lengthof(names); k++)
		bpt_not_null(fcinfo, k, "bench_heat_replay", names[k]);
	space_arg = PG_GETARG_INT32(0);
	n_pages = PG_GETARG_INT32(1);
	n_ops = PG_GETARG_INT64(2);
	exponent = PG_GETARG_FLOAT8(3);
	seed = PG_GETARG_INT32(4);
	top = PG_GETARG_INT32(5);
	space = bp_bench_space_lookup(space_arg);
	if (n_pages < 1 || (uint64) n_pages > space.size_pages || n_pages > BP_BENCH_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_pages must be between 1 and the %llu pages of bufpool space %d, not %d",
						(unsigned long long) Min(space.size_pages, BP_BENCH_MAX_PAGES),
						space_arg, n_pages)));
	if (n_ops < 1 || n_ops > BP_BENCH_MAX_OPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_ops must be between 1 and " INT64_FORMAT ", not " INT64_FORMAT,
						BP_BENCH_MAX_OPS, n_ops)));
	if (!(exponent > 0.0 && exponent <= 5.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("exponent must be above 0 and at most 5, not %g", exponent)));
	if (top < 1 || top > n_pages)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top must be between 1 and n_pages (%d), not %d", n_pages, top)));

	InitMaterializedSRF(fcinfo, 0);
	count = MemoryContextAllocHuge(CurrentMemoryContext, (Size) n_pages * sizeof(BpHeatTop));
	for (k = 0; k < n_pages; k++)
	{
		count[k].page = (uint32) k;
		count[k].accesses = 0;
	}
	bp_bench_zipf_init_exp(&z, (uint32) n_pages, exponent);
	state = bp_bench_seed_state(seed);
	for (i = 0; i < n_ops; i++)
	{
		uint32		page = bp_bench_zipf_draw(&z, &state);

		if ((i & BP_BENCH_CFI_MASK) == 0)
			CHECK_FOR_INTERRUPTS();
		bp_page_release(bp_page_fetch(space.space_id, page, NULL));
		count[page].accesses++;
	}
	bp_bench_zipf_free(&z);

	qsort(count, n_pages, sizeof(BpHeatTop), bp_heat_top_cmp);
	for (k = 0; k < top; k++)
	{
		Datum		values[2];
		bool		nulls[2] = {0};

		values[0] = Int64GetDatum((int64) count[k].page);
		values[1] = Int64GetDatum(count[k].accesses);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(count);
	return (Datum) 0;
}

/* ----------------------------------------------------------------------
 * Compressed spaces (scripts/bench_zip.sh)
 *
 * bufpool_test.bench_zip(space_id, n_pages, zipf_s, n_ops, seed): fetch
 * and release pages drawn with a Zipf law of exponent zipf_s over
 * [0, n_pages), n_ops times, with nothing fetched beforehand: misses are
 * part of what is timed (a read from disk, or a decompression of a page's
 * image kept in memory, zip.c).  Returns the operations, the mean ns per
 * fetch+release, and the fetches that found the page's frame.  The
 * caller reads bufpool.stats before and after for reads and
 * decompressions.  The trace is built before the clock starts.
 * ---------------------------------------------------------------------- */
PG_FUNCTION_INFO_V1(bpt_bench_zip);

Datum
bpt_bench_zip(PG_FUNCTION_ARGS)
{
	const char *const names[] = {"space_id", "n_pages", "zipf_s", "n_ops", "seed"};
	int32		space_arg;
	int32		n_pages;
	double		s;
	int64		n_ops;
	int32		seed;
	uint32		space_id;
	BpBenchTrace trace;
	uint64		i;
	uint64		start;
	uint64		end;
	int64		frame_hits = 0;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {0};

	bpt_require_superuser("bench_zip");
	for (i = 0; i < lengthof(names); i++)
		bpt_not_null(fcinfo, (int) i, "bench_zip", names[i]);
	space_arg = PG_GETARG_INT32(0);
	n_pages = PG_GETARG_INT32(1);
	s = PG_GETARG_FLOAT8(2);
	n_ops = PG_GETARG_INT64(3);
	seed = PG_GETARG_INT32(4);
	if (n_pages < 1 || n_pages > BP_BENCH_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_pages must be between 1 and %d, not %d", BP_BENCH_MAX_PAGES, n_pages)));
	if (n_ops < 1 || n_ops > BP_BENCH_MAX_OPS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n_ops must be between 1 and " INT64_FORMAT ", not " INT64_FORMAT,
						BP_BENCH_MAX_OPS, n_ops)));
	if (!(s > 0.0 && s < 10.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("zipf_s must be between 0 and 10, not %g", s)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	space_id = bp_bench_space_arg(space_arg, n_pages);

	trace = bp_bench_make_trace_exp((uint32) n_pages, BP_BENCH_ZIPF, n_ops, seed, s);

	start = bp_bench_now_ns();
	for (i = 0; i < (uint64) n_ops; i++)
	{
		BpFetchInfo info;
		BpPage		p;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		p = bp_page_fetch(space_id, trace.pages[i & trace.mask], &info);
		frame_hits += info.hit;
		bp_page_release(p);
	}
	end = bp_bench_now_ns();
	pfree(trace.pages);

	values[0] = Int64GetDatum(n_ops);
	values[1] = Float8GetDatum((double) (end - start) / (double) n_ops);
	values[2] = Int64GetDatum(frame_hits);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
