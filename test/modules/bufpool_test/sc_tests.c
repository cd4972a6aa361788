/*-------------------------------------------------------------------------
 *
 * sc_tests.c
 *	  Tests and benchmark of the size-class pools (src/mmgr/sizeclass.c):
 *	  bufpool_test.sc_alloc, sc_free, sc_random, sc_verify, sc_flush,
 *	  sc_set_create, sc_set_drop and sc_bench.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/sc_tests.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pg_prng.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bufpool_ext/mmgr/sizeclass.h"
#include "bufpool_test.h"

PG_FUNCTION_INFO_V1(bpt_sc_alloc);
PG_FUNCTION_INFO_V1(bpt_sc_free);
PG_FUNCTION_INFO_V1(bpt_sc_random);
PG_FUNCTION_INFO_V1(bpt_sc_verify);
PG_FUNCTION_INFO_V1(bpt_sc_flush);
PG_FUNCTION_INFO_V1(bpt_sc_set_create);
PG_FUNCTION_INFO_V1(bpt_sc_set_drop);
PG_FUNCTION_INFO_V1(bpt_sc_bench);
PG_FUNCTION_INFO_V1(bpt_sc_hold);

#define BPT_SC_MAX_LIVE		65536

/* the set named by argument argno (NULL: the shared one) */
static int
bpt_sc_set_arg(FunctionCallInfo fcinfo, int argno, const char *fname)
{
	char	   *name;
	int			set;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return BP_SC_SHARED;
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	set = bp_sc_set_find(name);
	if (set < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool_test.%s: size-class set \"%s\" does not exist", fname, name)));
	return set;
}

static void
bpt_sc_size_arg(int32 size, const char *fname)
{
	if (size < 1 || size > 65536)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.%s: size %d is out of range", fname, size),
				 errdetail("The size must be between 1 and 65536 bytes.")));
}

/* bufpool_test.sc_alloc(size int, set text default null) returns bigint */
Datum
bpt_sc_alloc(PG_FUNCTION_ARGS)
{
	int32		size;
	int			set;

	bpt_require_superuser("sc_alloc");
	bpt_not_null(fcinfo, 0, "sc_alloc", "size");
	bpt_check_loaded();
	size = PG_GETARG_INT32(0);
	bpt_sc_size_arg(size, "sc_alloc");
	set = bpt_sc_set_arg(fcinfo, 1, "sc_alloc");
	PG_RETURN_INT64((int64) bp_sc_alloc(set, (Size) size, 0, 0));
}

/* bufpool_test.sc_free(addr bigint, size int, set text default null) */
Datum
bpt_sc_free(PG_FUNCTION_ARGS)
{
	int32		size;
	int			set;

	bpt_require_superuser("sc_free");
	bpt_not_null(fcinfo, 0, "sc_free", "addr");
	bpt_not_null(fcinfo, 1, "sc_free", "size");
	bpt_check_loaded();
	size = PG_GETARG_INT32(1);
	bpt_sc_size_arg(size, "sc_free");
	set = bpt_sc_set_arg(fcinfo, 2, "sc_free");
	bp_sc_free(set, (BpShmAddr) PG_GETARG_INT64(0), (Size) size, 0);
	PG_RETURN_VOID();
}

typedef struct BptScLive
{
	BpShmAddr	addr;
	uint32		size;
	uint32		tag;
} BptScLive;

static void
bpt_sc_fill(char *p, uint32 size, uint32 tag)
{
	uint32		i;

	for (i = 0; i + 4 <= size; i += 4)
		memcpy(p + i, &tag, 4);
	for (; i < size; i++)
		p[i] = (char) tag;
}

static bool
bpt_sc_intact(const char *p, uint32 size, uint32 tag)
{
	uint32		i;

	for (i = 0; i + 4 <= size; i += 4)
		if (memcmp(p + i, &tag, 4) != 0)
			return false;
	for (; i < size; i++)
		if (p[i] != (char) tag)
			return false;
	return true;
}

/* the sizes sc_random draws: the benchmark's four, then any up to 4 kB, and past it */
static uint32
bpt_sc_random_size(pg_prng_state *rng)
{
	static const uint32 common[] = {16, 64, 200, 1024};
	double		d = pg_prng_double(rng);

	if (d < 0.6)
		return common[pg_prng_uint64_range(rng, 0, 3)];
	if (d < 0.98 || BpPageSize <= BP_SC_MAX_SIZE)
		return (uint32) pg_prng_uint64_range(rng, 1, BP_SC_MAX_SIZE);
	return (uint32) pg_prng_uint64_range(rng, BP_SC_MAX_SIZE + 1, BpPageSize);
}

/*
 * bufpool_test.sc_random(n_ops int, seed int, max_live int default 4096,
 *		set text default null)
 *	  returns (ops bigint, max_live int, bad int)
 *
 * n_ops random allocations and frees (sizes: 16, 64, 200 or 1024 bytes
 * in 60% of them, any up to 4 kB in 38%, up to a page in 2%: the buddy's),
 * at most max_live live.  Each object is filled with a tag unique to the
 * session and allocation, and checked when freed: bad counts objects
 * found overwritten (also reported as WARNINGs).  Everything is freed at
 * the end.
 */
Datum
bpt_sc_random(PG_FUNCTION_ARGS)
{
	int32		n_ops;
	int32		seed;
	int32		max_live;
	int			set;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {0};
	BptScLive  *live;
	volatile int n_live = 0;
	volatile int peak = 0;
	volatile int bad = 0;
	volatile int64 ops;
	pg_prng_state rng;

	bpt_require_superuser("sc_random");
	bpt_not_null(fcinfo, 0, "sc_random", "n_ops");
	bpt_not_null(fcinfo, 1, "sc_random", "seed");
	bpt_not_null(fcinfo, 2, "sc_random", "max_live");
	bpt_check_loaded();
	n_ops = PG_GETARG_INT32(0);
	seed = PG_GETARG_INT32(1);
	max_live = PG_GETARG_INT32(2);
	if (n_ops < 0 || n_ops > 100000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_random: n_ops %d is out of range", n_ops),
				 errdetail("n_ops must be between 0 and 100000000.")));
	if (max_live < 1 || max_live > BPT_SC_MAX_LIVE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_random: max_live %d is out of range", max_live),
				 errdetail("max_live must be between 1 and %d.", BPT_SC_MAX_LIVE)));
	set = bpt_sc_set_arg(fcinfo, 3, "sc_random");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	live = palloc(sizeof(BptScLive) * max_live);
	pg_prng_seed(&rng, (uint64) (uint32) seed ^ ((uint64) MyProcPid << 32));
	PG_TRY();
	{
		for (ops = 0; ops < n_ops; ops++)
		{
			bool		do_alloc = n_live == 0 ||
				(n_live < max_live && pg_prng_double(&rng) < 0.55);

			CHECK_FOR_INTERRUPTS();
			if (do_alloc)
			{
				BptScLive  *e = &live[n_live];

				e->size = bpt_sc_random_size(&rng);
				e->tag = (uint32) MyProcPid * 2654435761U ^ (uint32) ops;
				e->addr = bp_sc_alloc(set, e->size, 0, BP_ALLOC_NO_OOM);
				if (e->addr == BP_SHM_NULL)
					continue;	/* out of memory is allowed, not an error */
				bpt_sc_fill(bp_shm_ptr(e->addr), e->size, e->tag);
				n_live++;
				peak = Max(peak, n_live);
			}
			else
			{
				int			j = (int) pg_prng_uint64_range(&rng, 0, n_live - 1);
				BptScLive	e = live[j];

				if (!bpt_sc_intact(bp_shm_ptr(e.addr), e.size, e.tag))
				{
					ereport(WARNING,
							(errmsg("size-class object %llu of %u bytes was overwritten while allocated",
									(unsigned long long) e.addr, e.size)));
					bad++;
				}
				live[j] = live[n_live - 1];
				n_live--;
				bp_sc_free(set, e.addr, e.size, 0);
			}
		}
		while (n_live > 0)
		{
			BptScLive	e = live[n_live - 1];

			if (!bpt_sc_intact(bp_shm_ptr(e.addr), e.size, e.tag))
			{
				ereport(WARNING,
						(errmsg("size-class object %llu of %u bytes was overwritten while allocated",
								(unsigned long long) e.addr, e.size)));
				bad++;
			}
			n_live--;
			bp_sc_free(set, e.addr, e.size, 0);
		}
	}
	PG_CATCH();
	{
		/* give back what we hold (a cancel): no error leaves a class locked */
		while (n_live > 0)
		{
			n_live--;
			bp_sc_free(set, live[n_live].addr, live[n_live].size, 0);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	values[0] = Int64GetDatum(ops);
	values[1] = Int32GetDatum(peak);
	values[2] = Int32GetDatum(bad);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* bufpool_test.sc_verify(set text default null) returns bigint: slabs walked */
Datum
bpt_sc_verify(PG_FUNCTION_ARGS)
{
	char		why[256];
	int64		walked;

	bpt_require_superuser("sc_verify");
	bpt_check_loaded();
	walked = bp_sc_verify(bpt_sc_set_arg(fcinfo, 0, "sc_verify"), why, sizeof(why));
	if (walked < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("size-class pools are inconsistent: %s", why)));
	PG_RETURN_INT64(walked);
}

/* bufpool_test.sc_flush(): this session's caches back to their slabs */
Datum
bpt_sc_flush(PG_FUNCTION_ARGS)
{
	bpt_require_superuser("sc_flush");
	bpt_check_loaded();
	bp_sc_flush_cache();
	PG_RETURN_VOID();
}

/* bufpool_test.sc_set_create(name text) returns int */
Datum
bpt_sc_set_create(PG_FUNCTION_ARGS)
{
	bpt_require_superuser("sc_set_create");
	bpt_not_null(fcinfo, 0, "sc_set_create", "name");
	bpt_check_loaded();
	PG_RETURN_INT32(bp_sc_set_create(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/* bufpool_test.sc_set_drop(name text) */
Datum
bpt_sc_set_drop(PG_FUNCTION_ARGS)
{
	bpt_require_superuser("sc_set_drop");
	bpt_not_null(fcinfo, 0, "sc_set_drop", "name");
	bpt_check_loaded();
	bp_sc_set_drop(bpt_sc_set_arg(fcinfo, 0, "sc_set_drop"));
	PG_RETURN_VOID();
}

/*
 * bufpool_test.sc_bench(allocator text, size int, n_ops bigint, batch int)
 *	  returns float8: ns per allocation and free
 *
 * n_ops allocations, each freed after batch more (batch 1: alloc+free
 * pairs; 16: 16 allocations then their 16 frees), with allocator
 * 'size_class' (the shared set), 'buddy', 'slab' (a local Slab context of
 * that size, PostgreSQL's allocator for fixed sizes) or 'malloc'.  The
 * objects are not touched: the allocators' own cost.
 */
#define BPT_SC_BENCH_MAX_BATCH 1024

Datum
bpt_sc_bench(PG_FUNCTION_ARGS)
{
	char	   *allocator;
	int32		size;
	int64		n_ops;
	int32		batch;
	int			kind;
	MemoryContext slab = NULL;
	void	   *ptrs[BPT_SC_BENCH_MAX_BATCH];
	BpShmAddr	addrs[BPT_SC_BENCH_MAX_BATCH];
	instr_time	t0;
	instr_time	t1;
	int64		done;

	bpt_require_superuser("sc_bench");
	bpt_not_null(fcinfo, 0, "sc_bench", "allocator");
	bpt_not_null(fcinfo, 1, "sc_bench", "size");
	bpt_not_null(fcinfo, 2, "sc_bench", "n_ops");
	bpt_not_null(fcinfo, 3, "sc_bench", "batch");
	bpt_check_loaded();
	allocator = text_to_cstring(PG_GETARG_TEXT_PP(0));
	size = PG_GETARG_INT32(1);
	n_ops = PG_GETARG_INT64(2);
	batch = PG_GETARG_INT32(3);
	if (strcmp(allocator, "size_class") == 0)
		kind = 0;
	else if (strcmp(allocator, "buddy") == 0)
		kind = 1;
	else if (strcmp(allocator, "slab") == 0)
		kind = 2;
	else if (strcmp(allocator, "malloc") == 0)
		kind = 3;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_bench: unknown allocator \"%s\"", allocator),
				 errhint("Use size_class, buddy, slab or malloc.")));
	if (size < 1 || size > BP_SC_MAX_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_bench: size %d is out of range", size),
				 errdetail("The size must be between 1 and %d bytes.", BP_SC_MAX_SIZE)));
	if (batch < 1 || batch > BPT_SC_BENCH_MAX_BATCH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_bench: batch %d is out of range", batch),
				 errdetail("batch must be between 1 and %d.", BPT_SC_BENCH_MAX_BATCH)));
	if (n_ops < batch || n_ops > INT64CONST(10000000000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_bench: n_ops " INT64_FORMAT " is out of range", n_ops),
				 errdetail("n_ops must be between batch and 10000000000.")));
	if (kind == 2)
		slab = SlabContextCreate(CurrentMemoryContext, "sc_bench", SLAB_DEFAULT_BLOCK_SIZE, size);

	/* one round first: caches and slabs in place, as in a running server */
	for (done = 0; done < 2; done++)
	{
		int			i;

		for (i = 0; i < batch; i++)
		{
			if (kind == 0)
				addrs[i] = bp_sc_alloc(BP_SC_SHARED, size, 0, 0);
			else if (kind == 1)
				addrs[i] = bp_buddy_alloc(-1, size, 0, 0);
			else if (kind == 2)
				ptrs[i] = MemoryContextAlloc(slab, size);
			else
				ptrs[i] = malloc(size);
		}
		for (i = batch - 1; i >= 0; i--)
		{
			if (kind == 0)
				bp_sc_free(BP_SC_SHARED, addrs[i], size, 0);
			else if (kind == 1)
				bp_buddy_free(addrs[i], size, 0);
			else if (kind == 2)
				pfree(ptrs[i]);
			else
				free(ptrs[i]);
		}
	}

	INSTR_TIME_SET_CURRENT(t0);
	for (done = 0; done + batch <= n_ops; done += batch)
	{
		int			i;

		switch (kind)
		{
			case 0:
				for (i = 0; i < batch; i++)
					addrs[i] = bp_sc_alloc(BP_SC_SHARED, size, 0, 0);
				pg_compiler_barrier();
				for (i = batch - 1; i >= 0; i--)
					bp_sc_free(BP_SC_SHARED, addrs[i], size, 0);
				break;
			case 1:
				for (i = 0; i < batch; i++)
					addrs[i] = bp_buddy_alloc(-1, size, 0, 0);
				pg_compiler_barrier();
				for (i = batch - 1; i >= 0; i--)
					bp_buddy_free(addrs[i], size, 0);
				break;
			case 2:
				for (i = 0; i < batch; i++)
					ptrs[i] = MemoryContextAlloc(slab, size);
				pg_compiler_barrier();
				for (i = batch - 1; i >= 0; i--)
					pfree(ptrs[i]);
				break;
			default:
				for (i = 0; i < batch; i++)
					ptrs[i] = malloc(size);
				pg_compiler_barrier();
				for (i = batch - 1; i >= 0; i--)
					free(ptrs[i]);
				break;
		}
		if ((done & 0xFFFF) < (int64) batch)
			CHECK_FOR_INTERRUPTS();
	}
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	if (slab != NULL)
		MemoryContextDelete(slab);
	PG_RETURN_FLOAT8(INSTR_TIME_GET_DOUBLE(t1) * 1e9 / (double) done);
}

/*
 * bufpool_test.sc_hold(allocator text, n int, size int) returns bigint
 *
 * The memory n live objects of size bytes take: allocates them with
 * allocator ('size_class': the shared set; 'buddy'), reads how much the
 * allocator took meanwhile (size_class: its slabs, the instrument
 * memory/bufpool/size_class/slabs; buddy: its blocks, memory/bufpool/
 * buddy), frees them and returns that.  Other sessions' allocations in
 * the meantime would count too: run it alone.
 */
Datum
bpt_sc_hold(PG_FUNCTION_ARGS)
{
	char	   *allocator;
	int32		n;
	int32		size;
	bool		sc;
	BpShmAddr  *addrs;
	BpMemKey	key;
	BpMemStat	before;
	BpMemStat	after;
	int			i;

	bpt_require_superuser("sc_hold");
	bpt_not_null(fcinfo, 0, "sc_hold", "allocator");
	bpt_not_null(fcinfo, 1, "sc_hold", "n");
	bpt_not_null(fcinfo, 2, "sc_hold", "size");
	bpt_check_loaded();
	allocator = text_to_cstring(PG_GETARG_TEXT_PP(0));
	n = PG_GETARG_INT32(1);
	size = PG_GETARG_INT32(2);
	if (strcmp(allocator, "size_class") != 0 && strcmp(allocator, "buddy") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_hold: unknown allocator \"%s\"", allocator),
				 errhint("Use size_class or buddy.")));
	if (n < 1 || n > 10000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_hold: n %d is out of range", n),
				 errdetail("n must be between 1 and 10000000.")));
	if (size < 1 || size > BP_SC_MAX_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_test.sc_hold: size %d is out of range", size),
				 errdetail("The size must be between 1 and %d bytes.", BP_SC_MAX_SIZE)));
	sc = strcmp(allocator, "size_class") == 0;
	key = bp_mem_register(sc ? "memory/bufpool/size_class/slabs" : "memory/bufpool/buddy");
	addrs = palloc_extended(sizeof(BpShmAddr) * n, MCXT_ALLOC_HUGE);
	bp_sc_flush_cache();
	bp_mem_read_global(key, &before);
	for (i = 0; i < n; i++)
	{
		addrs[i] = sc ? bp_sc_alloc(BP_SC_SHARED, size, 0, BP_ALLOC_NO_OOM) :
			bp_buddy_alloc(-1, size, 0, BP_ALLOC_NO_OOM);
		if (addrs[i] == BP_SHM_NULL)
			break;
	}
	bp_mem_read_global(key, &after);
	{
		int			got = i;

		while (--i >= 0)
		{
			if (sc)
				bp_sc_free(BP_SC_SHARED, addrs[i], size, 0);
			else
				bp_buddy_free(addrs[i], size, 0);
		}
		bp_sc_flush_cache();
		if (got < n)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("bufpool_test.sc_hold: out of shared memory after %d objects of %d bytes",
							got, size),
					 errhint("Raise bufpool_ext.buddy_size.")));
	}
	PG_RETURN_INT64((after.bytes_alloc - after.bytes_free) - (before.bytes_alloc - before.bytes_free));
}
