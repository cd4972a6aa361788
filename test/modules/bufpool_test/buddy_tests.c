/*-------------------------------------------------------------------------
 *
 * buddy_tests.c
 *	  Tests and benchmark of the buddy allocator (src/mmgr/buddy.c):
 *	  bufpool_test.buddy_test_alloc, buddy_test_free, buddy_test_random
 *	  and buddy_bench.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/buddy_tests.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "portability/instr_time.h"

#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_test.h"

PG_FUNCTION_INFO_V1(bpt_buddy_test_alloc);
PG_FUNCTION_INFO_V1(bpt_buddy_test_free);
PG_FUNCTION_INFO_V1(bpt_buddy_test_random);
PG_FUNCTION_INFO_V1(bpt_buddy_bench);

static void
bpt_buddy_size_arg(int32 size, const char *fname)
{
	if (size < 1 || size > BpPageSize)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.%s: size %d is out of range", fname, size),
				 errdetail("The size must be between 1 and %d bytes (bufpool_ext.page_size).",
						   BpPageSize)));
}

/* bufpool_test.buddy_test_alloc(size int, instance int default -1) returns bigint */
Datum
bpt_buddy_test_alloc(PG_FUNCTION_ARGS)
{
	int32		size;
	int32		instance;

	bpt_require_superuser("buddy_test_alloc");
	bpt_not_null(fcinfo, 0, "buddy_test_alloc", "size");
	bpt_not_null(fcinfo, 1, "buddy_test_alloc", "instance");
	bpt_check_loaded();
	size = PG_GETARG_INT32(0);
	instance = PG_GETARG_INT32(1);
	bpt_buddy_size_arg(size, "buddy_test_alloc");
	if (instance < -1 || instance >= bp_buddy_n_instances())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.buddy_test_alloc: instance %d is out of range", instance),
				 errdetail("Valid instances are 0 to %d, or -1 to let the session choose.",
						   bp_buddy_n_instances() - 1)));
	PG_RETURN_INT64((int64) bp_buddy_alloc(instance, (Size) size, 0, 0));
}

/* bufpool_test.buddy_test_free(addr bigint, size int) */
Datum
bpt_buddy_test_free(PG_FUNCTION_ARGS)
{
	int64		addr;
	int32		size;

	bpt_require_superuser("buddy_test_free");
	bpt_not_null(fcinfo, 0, "buddy_test_free", "addr");
	bpt_not_null(fcinfo, 1, "buddy_test_free", "size");
	bpt_check_loaded();
	addr = PG_GETARG_INT64(0);
	size = PG_GETARG_INT32(1);
	bpt_buddy_size_arg(size, "buddy_test_free");
	bp_buddy_free((BpShmAddr) addr, (Size) size, 0);
	PG_RETURN_VOID();
}

typedef struct BpBuddyLive
{
	BpShmAddr	addr;
	Size		size;
	uint64		tag;			/* the bytes written into it */
} BpBuddyLive;

static void
bp_buddy_fill(char *p, Size size, uint64 tag)
{
	Size		i;

	for (i = 0; i + 8 <= size; i += 8)
		memcpy(p + i, &tag, 8);
	for (; i < size; i++)
		p[i] = ((char *) &tag)[i & 7];
}

static bool
bp_buddy_intact(const char *p, Size size, uint64 tag)
{
	Size		i;

	for (i = 0; i + 8 <= size; i += 8)
		if (memcmp(p + i, &tag, 8) != 0)
			return false;
	for (; i < size; i++)
		if (p[i] != ((char *) &tag)[i & 7])
			return false;
	return true;
}

#define BP_BUDDY_TEST_MAX_LIVE	1024

typedef struct BpBuddyRandom
{
	BpBuddyLive live[BP_BUDDY_TEST_MAX_LIVE];
	int			n_live;
	int			max_live;
	int64		ops;
	bool		ok;
} BpBuddyRandom;

/* Check a live block's bytes and free it. */
static void
bp_buddy_random_free(BpBuddyRandom *r, int j)
{
	BpBuddyLive e = r->live[j];

	if (!bp_buddy_intact(bp_shm_ptr(e.addr), e.size, e.tag))
	{
		ereport(WARNING,
				(errmsg("buddy block %llu of %zu bytes was overwritten while allocated",
						(unsigned long long) e.addr, e.size)));
		r->ok = false;
	}
	r->live[j] = r->live[r->n_live - 1];
	r->n_live--;
	bp_buddy_free(e.addr, e.size, 0);
}

static void
bp_buddy_random_run(BpBuddyRandom *r, int32 n_ops, int32 seed, int32 max_size)
{
	pg_prng_state rng;
	int			max_order = max_size <= 1 ? 0 : pg_ceil_log2_32((uint32) max_size);

	pg_prng_seed(&rng, (uint64) (uint32) seed);
	for (r->ops = 0; r->ops < n_ops && r->ok; r->ops++)
	{
		bool		do_alloc = r->n_live == 0 ||
			(r->n_live < BP_BUDDY_TEST_MAX_LIVE && pg_prng_double(&rng) < 0.55);

		CHECK_FOR_INTERRUPTS();
		if (do_alloc)
		{
			/* log-uniform size: an order, then a size within it */
			int			o = (int) pg_prng_uint64_range(&rng, 0, max_order);
			Size		lo = o == 0 ? 1 : ((Size) 1 << (o - 1)) + 1;
			Size		hi = Min((Size) 1 << o, (Size) max_size);
			Size		size = lo >= hi ? hi : (Size) pg_prng_uint64_range(&rng, lo, hi);
			int			inst = (int) pg_prng_uint64_range(&rng, 0, bp_buddy_n_instances()) - 1;
			BpShmAddr	a = bp_buddy_alloc(inst, size, 0, BP_ALLOC_NO_OOM);
			Size		bsize = bp_buddy_block_size(size);
			BpBuddyLive *e;
			char	   *p;

			if (a == BP_SHM_NULL)
				continue;		/* out of memory is allowed, not an error */
			p = bp_shm_ptr(a);
			if (((uintptr_t) p) % Min(bsize, (Size) BP_BUDDY_REGION_ALIGN) != 0)
			{
				ereport(WARNING,
						(errmsg("buddy block %llu of %zu bytes is misaligned",
								(unsigned long long) a, bsize)));
				r->ok = false;
			}
			e = &r->live[r->n_live++];
			e->addr = a;
			e->size = size;
			e->tag = ((uint64) MyProcPid << 32) ^ (uint64) r->ops ^ ((uint64) (uint32) seed << 40);
			bp_buddy_fill(p, size, e->tag);
			r->max_live = Max(r->max_live, r->n_live);
		}
		else
			bp_buddy_random_free(r, (int) pg_prng_uint64_range(&rng, 0, r->n_live - 1));
		if (r->ops % 1000 == 999 && !bp_buddy_verify(NULL))
			r->ok = false;
	}
	while (r->n_live > 0)
		bp_buddy_random_free(r, r->n_live - 1);
}

/*
 * bufpool_test.buddy_test_random(n_ops int, seed int, max_size int default 4096)
 *	  returns (ops bigint, max_live int, ok boolean, idle_check boolean)
 *
 * n_ops random allocations (sizes log-uniform in 1..max_size, random or
 * session-chosen instance) and frees, at most BP_BUDDY_TEST_MAX_LIVE live.
 * Each block is filled with a tag unique to the session and allocation
 * and checked when freed (two holders of one byte would be seen), and its
 * alignment checked; every pool's invariants are checked every 1000
 * operations.  At the end everything is freed and the pools are checked
 * again; if no other session held buddy memory then (idle_check), every
 * pool must be back in its startup state: the region as its initial free
 * pages and no frame held.  ok says whether all of it held; a failure is
 * also reported as a WARNING.
 */
Datum
bpt_buddy_test_random(PG_FUNCTION_ARGS)
{
	int32		n_ops;
	int32		seed;
	int32		max_size;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {0};
	BpBuddyRandom *r;
	bool		idle = false;

	bpt_require_superuser("buddy_test_random");
	bpt_not_null(fcinfo, 0, "buddy_test_random", "n_ops");
	bpt_not_null(fcinfo, 1, "buddy_test_random", "seed");
	bpt_not_null(fcinfo, 2, "buddy_test_random", "max_size");
	bpt_check_loaded();
	n_ops = PG_GETARG_INT32(0);
	seed = PG_GETARG_INT32(1);
	max_size = PG_GETARG_INT32(2);
	if (n_ops < 0 || n_ops > 100000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.buddy_test_random: n_ops %d is out of range", n_ops),
				 errdetail("n_ops must be between 0 and 100000000.")));
	bpt_buddy_size_arg(max_size, "buddy_test_random");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	r = palloc0(sizeof(BpBuddyRandom));
	r->ok = true;
	PG_TRY();
	{
		bp_buddy_random_run(r, n_ops, seed, max_size);
	}
	PG_CATCH();
	{
		/*
		 * Give back what we hold.  No error leaves a pool locked or frozen
		 * (the spinlock is released before every ereport, and nothing
		 * while frozen can fail), so this is safe.
		 */
		while (r->n_live > 0)
		{
			r->n_live--;
			bp_buddy_free(r->live[r->n_live].addr, r->live[r->n_live].size, 0);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (!bp_buddy_verify(&idle))
		r->ok = false;
	values[0] = Int64GetDatum(r->ops);
	values[1] = Int32GetDatum(r->max_live);
	values[2] = BoolGetDatum(r->ok);
	values[3] = BoolGetDatum(idle);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * bufpool_test.buddy_bench(n_ops bigint, size int) returns float8: ns per
 * bp_buddy_alloc + bp_buddy_free pair of one size, in the session's
 * instance, accounting included.
 */
Datum
bpt_buddy_bench(PG_FUNCTION_ARGS)
{
	int64		n_ops;
	int32		size;
	int64		i;
	instr_time	start;
	instr_time	elapsed;

	bpt_require_superuser("buddy_bench");
	bpt_not_null(fcinfo, 0, "buddy_bench", "n_ops");
	bpt_not_null(fcinfo, 1, "buddy_bench", "size");
	bpt_check_loaded();
	n_ops = PG_GETARG_INT64(0);
	size = PG_GETARG_INT32(1);
	if (n_ops < 1 || n_ops > INT64CONST(10000000000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.buddy_bench: n_ops " INT64_FORMAT " is out of range", n_ops),
				 errdetail("n_ops must be between 1 and 10000000000.")));
	bpt_buddy_size_arg(size, "buddy_bench");

	INSTR_TIME_SET_CURRENT(start);
	for (i = 0; i < n_ops; i++)
	{
		BpShmAddr	a = bp_buddy_alloc(-1, (Size) size, 0, 0);

		bp_buddy_free(a, (Size) size, 0);
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	PG_RETURN_FLOAT8(INSTR_TIME_GET_DOUBLE(elapsed) * 1e9 / (double) n_ops);
}
