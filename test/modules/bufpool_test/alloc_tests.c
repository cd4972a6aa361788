/*-------------------------------------------------------------------------
 *
 * alloc_tests.c
 *	  SQL-callable tests and benchmark loops of the arena and heap
 *	  allocators (src/mmgr/arena.c, src/mmgr/heap.c).
 *
 * The test functions drive an allocator with a fixed-seed random (or a
 * given) sequence of operations and check its invariants after every
 * one: the counters agree with the blocks (bp_arena_check /
 * bp_heap_check), used <= reserved, every allocation is aligned, every
 * live allocation still holds the pattern written into it (so two live
 * allocations never overlap and a free never hands out live memory),
 * clear frees every block and clear_for_reuse all but the current one,
 * a block is 1.5x the previous one, a big request gets its own block,
 * free_to_mark restores the used bytes exactly.  They return what they
 * did and invariants_ok, with the first failure described.
 *
 * bufpool_test.alloc_bench times allocation loops of the arena, the heap,
 * malloc and palloc (an AllocSet context) over the same precomputed
 * sizes, timing the CPU time of the backend; a second, untimed pass measures the bytes each held at its
 * peak against the bytes requested and live at that point.
 *
 * Every function is superuser-only (checked here) and every allocator is
 * created for the call and freed at its end, or by the memory context's
 * reset callback after an ERROR.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/alloc_tests.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <malloc.h>
#include <stdlib.h>
#include <time.h>

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bufpool_ext/mmgr/arena.h"
#include "bufpool_ext/mmgr/heap.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/sql/sql.h"
#include "bufpool_test.h"

PG_FUNCTION_INFO_V1(bpt_arena_test_random);
PG_FUNCTION_INFO_V1(bpt_arena_test_blocks);
PG_FUNCTION_INFO_V1(bpt_arena_test_capacity);
PG_FUNCTION_INFO_V1(bpt_heap_test_random);
PG_FUNCTION_INFO_V1(bpt_heap_test_blocks);
PG_FUNCTION_INFO_V1(bpt_heap_test_guard);
PG_FUNCTION_INFO_V1(bpt_alloc_bench);

#define BP_TEST_MAX_OPS		1000000
#define BP_TEST_VERIFY_EVERY 64

/* One live allocation of a test: its bytes are (id, offset)'s pattern. */
typedef struct BpLive
{
	char	   *p;
	Size		size;
	uint32		id;
} BpLive;

static inline uint8
bp_pattern(uint32 id, Size j)
{
	return (uint8) (id * 131u + (uint32) j * 7u + 1u);
}

static void
bp_fill(BpLive *l)
{
	Size		j;

	for (j = 0; j < l->size; j++)
		l->p[j] = (char) bp_pattern(l->id, j);
}

/* true if every live allocation still holds its pattern */
static bool
bp_verify(BpLive *live, int64 n, const char **why)
{
	int64		i;
	Size		j;

	for (i = 0; i < n; i++)
		for (j = 0; j < live[i].size; j++)
			if ((uint8) live[i].p[j] != bp_pattern(live[i].id, j))
			{
				*why = "a live allocation was overwritten (overlap)";
				return false;
			}
	return true;
}

static void
bp_bad_value(const char *fname, const char *arg, const char *value, const char *valid)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s for bufpool_test.%s: \"%s\"", arg, fname, value),
			 errdetail("Valid values: %s.", valid)));
}

static void
bp_check_range(const char *fname, const char *arg, int64 v, int64 lo, int64 hi)
{
	if (v < lo || v > hi)
	{
		char		buf[32];
		char		valid[64];

		snprintf(buf, sizeof(buf), INT64_FORMAT, v);
		snprintf(valid, sizeof(valid), INT64_FORMAT " to " INT64_FORMAT, lo, hi);
		bp_bad_value(fname, arg, buf, valid);
	}
}

static void
bp_all_not_null(FunctionCallInfo fcinfo, const char *fname, const char *const *names, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		bpt_not_null(fcinfo, i, fname, names[i]);
}

static Datum
bp_result(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/* ---------------------------------------------------------------- arena */

/* shared arenas live in buddy memory; freed on error by this callback */
typedef struct BpSharedArenaScope
{
	BpArena    *arena;
	BpShmAddr	addr;
} BpSharedArenaScope;

static void
bp_shared_arena_cleanup(void *arg)
{
	BpSharedArenaScope *s = (BpSharedArenaScope *) arg;

	if (s->arena != NULL)
	{
		bp_arena_destroy(s->arena);
		bp_buddy_free(s->addr, sizeof(BpArena), 0);
		s->arena = NULL;
	}
}

static void
bp_local_arena_cleanup(void *arg)
{
	bp_arena_destroy((BpArena *) arg);
}

/*
 * A test arena: local (scoped) or shared (the BpArena itself in buddy
 * memory, freed by a callback of CurrentMemoryContext).
 */
static BpArena *
bp_test_arena(bool shared, Size block_size, Size max_capacity, bool error_on_full,
			  BpSharedArenaScope **scope_out)
{
	MemoryContextCallback *cb = palloc0(sizeof(MemoryContextCallback));
	BpSharedArenaScope *scope = palloc0(sizeof(BpSharedArenaScope));
	BpArena    *arena;

	if (shared)
	{
		scope->addr = bp_buddy_alloc(-1, sizeof(BpArena), 0, 0);
		arena = (BpArena *) bp_shm_ptr(scope->addr);
		PG_TRY();
		{
			bp_arena_init(arena, "test", true, block_size, max_capacity, error_on_full);
		}
		PG_CATCH();
		{
			bp_buddy_free(scope->addr, sizeof(BpArena), 0);
			PG_RE_THROW();
		}
		PG_END_TRY();
		scope->arena = arena;
		cb->func = bp_shared_arena_cleanup;
	}
	else
	{
		arena = palloc0(sizeof(BpArena));
		bp_arena_init(arena, "test", false, block_size, max_capacity, error_on_full);
		scope->arena = arena;
		cb->func = bp_local_arena_cleanup;
		cb->arg = arena;
	}
	if (shared)
		cb->arg = scope;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	*scope_out = scope;
	return arena;
}

static void
bp_test_arena_done(BpArena *arena, BpSharedArenaScope *scope)
{
	if (arena->shared)
		bp_shared_arena_cleanup(scope);
	else
		bp_arena_destroy(arena);
}

static Size
bp_arena_head_size(BpArena *arena)
{
	Size		sizes[1];
	bool		big[1];

	return bp_arena_block_sizes(arena, sizes, big, 1) > 0 ? sizes[0] : 0;
}

static uint64
bp_arena_head_id(BpArena *arena)
{
	return arena->shared ? arena->head.shm : (uint64) (uintptr_t) arena->head.local;
}

/* start of the current block, or NULL */
static char *
bp_arena_head_ptr(BpArena *arena)
{
	if (arena->cur_size == 0)
		return NULL;
	return arena->shared ? (char *) bp_shm_ptr(arena->head.shm) : (char *) arena->head.local;
}

/*
 * Give back the latest allocation, live[*n_live - 1], which the previous
 * operation made.  It must come back exactly when it lies in the current
 * block (when that block is a big request's own, which is current only
 * when it was the first block, it also has to end there); the bytes used drop
 * by its size, and the same request then gets the same address again.
 */
static void
bp_arena_test_free_last(BpArena *arena, BpLive *live, int64 *n_live, const char **why)
{
	BpLive	   *last = &live[*n_live - 1];
	char	   *base = bp_arena_head_ptr(arena);
	Size		size;
	bool		big = false;
	bool		expect;
	Size		used_before = bp_arena_used(arena);
	char	   *again;

	if (base != NULL)
		bp_arena_block_sizes(arena, &size, &big, 1);
	expect = base != NULL && (char *) last->p > base &&
		(char *) last->p < base + arena->cur_size;
	/* a big request's block alone is current and full: its end must match */
	if (expect && big)
		expect = bp_arena_block_overhead() + last->size == size;
	if (bp_arena_free_last(arena, last->p, last->size) != expect)
	{
		*why = expect ? "free_last did not give back the latest allocation"
			: "free_last gave back bytes outside the current block";
		return;
	}
	if (!expect)
		return;
	if (bp_arena_used(arena) != used_before - last->size)
	{
		*why = "free_last did not lower used by the size";
		return;
	}
	if (((uintptr_t) last->p & (MAXIMUM_ALIGNOF - 1)) != 0)
	{
		/* aligned to less than 8: the same request rounds up; drop it */
		(*n_live)--;
		return;
	}
	again = bp_arena_alloc(arena, last->size);
	if (again != last->p)
		*why = "the request after free_last did not reuse its bytes";
	else
		bp_fill(last);			/* live again, under the same id */
}

/*
 * bufpool_test.arena_test_random(n_ops, seed, block_size, max_capacity,
 *							 max_align, shared)
 */
Datum
bpt_arena_test_random(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"n_ops", "seed", "block_size", "max_capacity",
	"max_align", "shared"};
	const char *fname = "arena_test_random";
	int64		n_ops;
	int32		seed;
	int64		block_size;
	int64		max_capacity;
	int64		max_align;
	bool		shared;
	BpArena    *arena;
	BpSharedArenaScope *scope;
	pg_prng_state rng;
	BpLive	   *live;
	int64		n_live = 0;
	int64		allocs = 0;
	int64		nulls_got = 0;
	int64		op;
	uint32		next_id = 1;
	bool		allocated_last = false;
	const char *why = NULL;
	Size		overhead = bp_arena_block_overhead();
	Datum		values[7];
	bool		nulls[7] = {0};

	bpt_require_superuser(fname);
	bp_all_not_null(fcinfo, fname, names, 6);
	n_ops = PG_GETARG_INT32(0);
	seed = PG_GETARG_INT32(1);
	block_size = PG_GETARG_INT32(2);
	max_capacity = PG_GETARG_INT64(3);
	max_align = PG_GETARG_INT32(4);
	shared = PG_GETARG_BOOL(5);
	bp_check_range(fname, "n_ops", n_ops, 1, BP_TEST_MAX_OPS);
	bp_check_range(fname, "block_size", block_size, BP_ARENA_MIN_BLOCK,
				   shared ? BpPageSize : 16 * 1024 * 1024);
	bp_check_range(fname, "max_capacity", max_capacity, 0, (int64) 1 << 40);
	if (max_align < 1 || max_align > BP_ARENA_MAX_ALIGN || (max_align & (max_align - 1)) != 0)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), INT64_FORMAT, max_align);
		bp_bad_value(fname, "max_align", buf, "a power of two from 1 to 4096");
	}
	if (shared)
		bp_ensure_attached();

	arena = bp_test_arena(shared, (Size) block_size, (Size) max_capacity, false, &scope);
	live = palloc(sizeof(BpLive) * n_ops);
	pg_prng_seed(&rng, (uint64) seed);

	for (op = 0; op < n_ops && why == NULL; op++)
	{
		uint32		r = (uint32) pg_prng_uint64_range(&rng, 0, 99);
		int			blocks_before = bp_arena_blocks(arena);
		bool		last_was_alloc = allocated_last;

		allocated_last = false;

		CHECK_FOR_INTERRUPTS();
		if (r < 2)
		{
			if (!bp_verify(live, n_live, &why))
				break;
			bp_arena_clear(arena);
			n_live = 0;
			if (bp_arena_blocks(arena) != 0 || bp_arena_reserved(arena) != 0 ||
				bp_arena_used(arena) != 0 || arena->block_size != arena->min_block_size)
				why = "clear left blocks, bytes or a grown block size";
		}
		else if (r < 4)
		{
			uint64		head = bp_arena_head_id(arena);
			Size		head_size = bp_arena_head_size(arena);

			if (!bp_verify(live, n_live, &why))
				break;
			bp_arena_clear_for_reuse(arena);
			n_live = 0;
			if (bp_arena_blocks(arena) != Min(blocks_before, 1) ||
				bp_arena_head_id(arena) != head ||
				bp_arena_reserved(arena) != head_size || bp_arena_used(arena) != 0)
				why = "clear_for_reuse did not keep exactly the current block";
		}
		else if (r < 10)
		{
			/* free_last, when the previous operation allocated */
			if (last_was_alloc)
				bp_arena_test_free_last(arena, live, &n_live, &why);
		}
		else
		{
			Size		size;
			Size		align = MAXIMUM_ALIGNOF;
			Size		bs_before = arena->block_size;
			uint64		head = bp_arena_head_id(arena);
			Size		reserved_before = bp_arena_reserved(arena);
			char	   *p;

			if (r < 88)
				size = (Size) pg_prng_uint64_range(&rng, 1, 256);
			else if (r < 96)
				size = (Size) pg_prng_uint64_range(&rng, 257, (uint64) block_size);
			else
				size = (Size) pg_prng_uint64_range(&rng, (uint64) block_size, 3 * (uint64) block_size);
			if (shared && size + overhead + max_align > (Size) BpPageSize)
				size = (Size) BpPageSize - overhead - max_align;
			if (max_align > MAXIMUM_ALIGNOF && pg_prng_uint64_range(&rng, 0, 4) == 0)
				align = (Size) 1 << pg_prng_uint64_range(&rng, 0, pg_leftmost_one_pos64((uint64) max_align));
			p = bp_arena_alloc_aligned(arena, size, align);
			if (p == NULL)
			{
				nulls_got++;
				if (max_capacity == 0)
					why = "NULL from an arena without max_capacity";
				continue;
			}
			allocs++;
			allocated_last = true;
			if (((uintptr_t) p & (align - 1)) != 0)
				why = "allocation not aligned";
			else if (bp_arena_blocks(arena) == blocks_before + 1)
			{
				Size		extra = align > MAXIMUM_ALIGNOF ? align : 0;
				Size		need = overhead + size + extra;

				if (size >= bs_before)
				{
					/* big: its own block, the current block stays current */
					if (blocks_before > 0 && bp_arena_head_id(arena) != head)
						why = "a big request replaced the current block";
					else if (arena->block_size != bs_before)
						why = "a big request changed the block size";
				}
				else if (max_capacity == 0)
				{
					Size		want = Max(bs_before, need);
					Size		grown = bs_before + bs_before / 2;

					if (shared)
					{
						want = bp_buddy_block_size(Min(want, (Size) BpPageSize));
						grown = Min(grown, (Size) BpPageSize);
					}
					if (bp_arena_head_size(arena) != want)
						why = "a new block does not have the block size";
					else if (arena->block_size != Min(grown, BP_ARENA_MAX_BLOCK))
						why = "the block size did not grow 1.5x";
				}
			}
			else if (bp_arena_blocks(arena) != blocks_before)
				why = "one allocation added more than one block";
			else if (bp_arena_reserved(arena) != reserved_before)
				why = "reserved changed without a new block";
			live[n_live].p = p;
			live[n_live].size = size;
			live[n_live].id = next_id++;
			bp_fill(&live[n_live]);
			n_live++;
		}
		if (why == NULL && !bp_arena_check(arena, &why))
			break;
		if (why == NULL && bp_arena_used(arena) > bp_arena_reserved(arena))
			why = "used > reserved";
		if (why == NULL && max_capacity != 0 && bp_arena_reserved(arena) > (Size) max_capacity)
			why = "reserved past max_capacity";
		if (why == NULL && op % BP_TEST_VERIFY_EVERY == 0)
			bp_verify(live, n_live, &why);
	}
	if (why == NULL)
		bp_verify(live, n_live, &why);

	values[0] = Int64GetDatum(allocs);
	values[1] = Int64GetDatum(nulls_got);
	values[2] = Int32GetDatum(bp_arena_blocks(arena));
	values[3] = Int64GetDatum((int64) bp_arena_reserved(arena));
	values[4] = Int64GetDatum((int64) bp_arena_used(arena));
	values[5] = BoolGetDatum(why == NULL);
	if (why != NULL)
		values[6] = CStringGetTextDatum(why);
	else
		nulls[6] = true;
	bp_test_arena_done(arena, scope);
	PG_RETURN_DATUM(bp_result(fcinfo, values, nulls));
}

static void
bp_int_array(ArrayType *arr, const char *fname, const char *argname, int32 **out, int *n)
{
	if (ARR_NDIM(arr) > 1 || ARR_ELEMTYPE(arr) != INT4OID || array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of bufpool_test.%s must be a one-dimensional int[] without NULLs",
						argname, fname)));
	*n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	*out = (int32 *) ARR_DATA_PTR(arr);
}

/*
 * bufpool_test.arena_test_blocks(block_size, sizes int[], action, shared):
 * allocate the sizes in order, then action ('none', 'clear',
 * 'clear_for_reuse'); one row per block, current first.
 */
Datum
bpt_arena_test_blocks(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"block_size", "sizes", "action", "shared"};
	const char *fname = "arena_test_blocks";
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		block_size;
	int32	   *sizes;
	int			n;
	char	   *action;
	bool		shared;
	BpArena    *arena;
	BpSharedArenaScope *scope;
	Size	   *bsizes;
	bool	   *big;
	int			nb;
	int			i;

	bpt_require_superuser(fname);
	bp_all_not_null(fcinfo, fname, names, 4);
	block_size = PG_GETARG_INT32(0);
	bp_int_array(PG_GETARG_ARRAYTYPE_P(1), fname, "sizes", &sizes, &n);
	action = text_to_cstring(PG_GETARG_TEXT_PP(2));
	shared = PG_GETARG_BOOL(3);
	bp_check_range(fname, "block_size", block_size, BP_ARENA_MIN_BLOCK, 16 * 1024 * 1024);
	if (strcmp(action, "none") != 0 && strcmp(action, "clear") != 0 &&
		strcmp(action, "clear_for_reuse") != 0)
		bp_bad_value(fname, "action", action, "none, clear, clear_for_reuse");
	for (i = 0; i < n; i++)
		bp_check_range(fname, "size", sizes[i], 0, 64 * 1024 * 1024);
	if (shared)
		bp_ensure_attached();

	InitMaterializedSRF(fcinfo, 0);
	arena = bp_test_arena(shared, (Size) block_size, 0, true, &scope);
	for (i = 0; i < n; i++)
		memset(bp_arena_alloc(arena, (Size) sizes[i]), 0x5A, sizes[i]);
	if (strcmp(action, "clear") == 0)
		bp_arena_clear(arena);
	else if (strcmp(action, "clear_for_reuse") == 0)
		bp_arena_clear_for_reuse(arena);

	nb = bp_arena_blocks(arena);
	bsizes = palloc(sizeof(Size) * Max(nb, 1));
	big = palloc(sizeof(bool) * Max(nb, 1));
	if (bp_arena_block_sizes(arena, bsizes, big, nb) != nb)
		elog(ERROR, "bufpool_ext: arena block count %d differs from its list", nb);
	for (i = 0; i < nb; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = Int32GetDatum(i);
		values[1] = Int64GetDatum((int64) bsizes[i]);
		values[2] = BoolGetDatum(big[i]);
		values[3] = Int64GetDatum((int64) bp_arena_used(arena));
		values[4] = Int64GetDatum((int64) arena->block_size);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	bp_test_arena_done(arena, scope);
	return (Datum) 0;
}

/*
 * bufpool_test.arena_test_capacity(block_size, max_capacity, alloc_size,
 * n_allocs, error_on_full): allocate until done or full.
 */
Datum
bpt_arena_test_capacity(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"block_size", "max_capacity", "alloc_size",
	"n_allocs", "error_on_full"};
	const char *fname = "arena_test_capacity";
	int64		block_size,
				max_capacity,
				alloc_size,
				n_allocs;
	bool		error_on_full;
	BpArena    *arena;
	BpSharedArenaScope *scope;
	int64		done = 0;
	bool		got_null = false;
	Datum		values[5];
	bool		nulls[5] = {0};

	bpt_require_superuser(fname);
	bp_all_not_null(fcinfo, fname, names, 5);
	block_size = PG_GETARG_INT32(0);
	max_capacity = PG_GETARG_INT64(1);
	alloc_size = PG_GETARG_INT32(2);
	n_allocs = PG_GETARG_INT32(3);
	error_on_full = PG_GETARG_BOOL(4);
	bp_check_range(fname, "block_size", block_size, BP_ARENA_MIN_BLOCK, 16 * 1024 * 1024);
	bp_check_range(fname, "max_capacity", max_capacity, 0, (int64) 1 << 40);
	bp_check_range(fname, "alloc_size", alloc_size, 0, 64 * 1024 * 1024);
	bp_check_range(fname, "n_allocs", n_allocs, 0, BP_TEST_MAX_OPS);

	arena = bp_test_arena(false, (Size) block_size, (Size) max_capacity, error_on_full, &scope);
	while (done < n_allocs)
	{
		char	   *p = bp_arena_alloc(arena, (Size) alloc_size);

		if (p == NULL)
		{
			got_null = true;
			break;
		}
		memset(p, 0x33, alloc_size);
		done++;
	}
	values[0] = Int64GetDatum(done);
	values[1] = BoolGetDatum(got_null);
	values[2] = Int32GetDatum(bp_arena_blocks(arena));
	values[3] = Int64GetDatum((int64) bp_arena_reserved(arena));
	values[4] = Int64GetDatum((int64) bp_arena_used(arena));
	bp_test_arena_done(arena, scope);
	PG_RETURN_DATUM(bp_result(fcinfo, values, nulls));
}

/* ---------------------------------------------------------------- heap */

static int
bp_heap_type_arg(const char *fname, const char *type)
{
	if (strcmp(type, "dynamic") == 0)
		return BP_HEAP_DYNAMIC;
	if (strcmp(type, "buffer") == 0)
		return BP_HEAP_BUFFER;
	if (strcmp(type, "dynamic_shared") == 0)
		return BP_HEAP_DYNAMIC | BP_HEAP_SHARED;
	if (strcmp(type, "buffer_shared") == 0)
		return BP_HEAP_BUFFER | BP_HEAP_SHARED;
	bp_bad_value(fname, "type", type, "dynamic, buffer, dynamic_shared, buffer_shared");
	return 0;					/* keep compiler quiet */
}

static const char *
bp_heap_source_name(uint8 source)
{
	switch (source)
	{
		case BP_HEAP_SRC_MALLOC:
			return "malloc";
		case BP_HEAP_SRC_BUDDY:
			return "buddy";
		case BP_HEAP_SRC_FRAME:
			return "frame";
	}
	return "?";
}

#define BP_TEST_MAX_MARKS 32

/* bufpool_test.heap_test_random(type, n_ops, seed) */
Datum
bpt_heap_test_random(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"type", "n_ops", "seed"};
	const char *fname = "heap_test_random";
	char	   *type_s;
	int			type;
	int64		n_ops;
	int32		seed;
	BpHeap	   *heap;
	pg_prng_state rng;
	BpLive	   *live;
	int64		n_live = 0;
	BpHeapMark	marks[BP_TEST_MAX_MARKS];
	int64		mark_live[BP_TEST_MAX_MARKS];
	int			n_marks = 0;
	int64		allocs = 0,
				frees = 0,
				mark_frees = 0;
	int64		op;
	uint32		next_id = 1;
	Size		big_max;
	const char *why = NULL;
	Datum		values[8];
	bool		nulls[8] = {0};

	bpt_require_superuser(fname);
	bp_all_not_null(fcinfo, fname, names, 3);
	type_s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	n_ops = PG_GETARG_INT32(1);
	seed = PG_GETARG_INT32(2);
	type = bp_heap_type_arg(fname, type_s);
	bp_check_range(fname, "n_ops", n_ops, 1, BP_TEST_MAX_OPS);
	if (type != BP_HEAP_DYNAMIC)
		bp_ensure_attached();
	/* shared heaps: a request must fit one buddy block (a page) */
	big_max = (type & BP_HEAP_SHARED) ? (Size) BpPageSize / 2 : 20000;

	heap = bp_heap_create_scoped("test", type, 0);
	live = palloc(sizeof(BpLive) * n_ops);
	pg_prng_seed(&rng, (uint64) seed);

	for (op = 0; op < n_ops && why == NULL; op++)
	{
		uint32		r = (uint32) pg_prng_uint64_range(&rng, 0, 99);
		int64		floor_live = n_marks > 0 ? mark_live[n_marks - 1] : 0;

		CHECK_FOR_INTERRUPTS();
		if (r < 1)
		{
			bp_heap_empty(heap);
			n_live = 0;
			n_marks = 0;
			if (bp_heap_blocks(heap) != 1 || bp_heap_used(heap) != 0)
				why = "empty left blocks or bytes";
		}
		else if (r < 9 && n_marks < BP_TEST_MAX_MARKS)
		{
			marks[n_marks] = bp_heap_get_top(heap);
			mark_live[n_marks] = n_live;
			n_marks++;
		}
		else if (r < 21 && n_marks > 0)
		{
			n_marks--;
			bp_heap_free_to_mark(heap, marks[n_marks]);
			n_live = mark_live[n_marks];
			mark_frees++;
			if (bp_heap_used(heap) != marks[n_marks].used)
				why = "free_to_mark did not restore the used bytes exactly";
			else if (!bp_verify(live, n_live, &why))
				break;
		}
		else if (r < 41 && n_live > floor_live)
		{
			Size		used_before = bp_heap_used(heap);
			BpLive	   *l = &live[n_live - 1];

			bp_heap_free_top(heap, l->size);
			n_live--;
			frees++;
			if (bp_heap_used(heap) != used_before - MAXALIGN(l->size))
				why = "free_top did not give back the allocation's bytes";
		}
		else
		{
			Size		size;
			Size		used_before = bp_heap_used(heap);
			char	   *p;

			if (r < 90)
				size = (Size) pg_prng_uint64_range(&rng, 1, 300);
			else if (r < 98)
				size = (Size) pg_prng_uint64_range(&rng, 301, 3000);
			else
				size = (Size) pg_prng_uint64_range(&rng, 3001, big_max);
			p = bp_heap_alloc(heap, size);
			allocs++;
			if (((uintptr_t) p & (MAXIMUM_ALIGNOF - 1)) != 0)
				why = "allocation not MAXALIGN'd";
			else if (bp_heap_used(heap) != used_before + MAXALIGN(size))
				why = "alloc did not add the allocation's bytes";
			live[n_live].p = p;
			live[n_live].size = size;
			live[n_live].id = next_id++;
			bp_fill(&live[n_live]);
			n_live++;
		}
		if (why == NULL && !bp_heap_check(heap, &why))
			break;
		if (why == NULL && op % BP_TEST_VERIFY_EVERY == 0)
			bp_verify(live, n_live, &why);
	}
	if (why == NULL)
		bp_verify(live, n_live, &why);

	values[0] = Int64GetDatum(allocs);
	values[1] = Int64GetDatum(frees);
	values[2] = Int64GetDatum(mark_frees);
	values[3] = Int32GetDatum(bp_heap_blocks(heap));
	values[4] = Int64GetDatum((int64) bp_heap_reserved(heap));
	values[5] = Int64GetDatum((int64) bp_heap_used(heap));
	values[6] = BoolGetDatum(why == NULL);
	if (why != NULL)
		values[7] = CStringGetTextDatum(why);
	else
		nulls[7] = true;
	bp_heap_free(heap);
	PG_RETURN_DATUM(bp_result(fcinfo, values, nulls));
}

/*
 * bufpool_test.heap_test_blocks(type, sizes int[], free_top int): allocate the
 * sizes, then free_top the last free_top of them; one row per block,
 * bottom (the heap's first block) first.
 */
Datum
bpt_heap_test_blocks(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"type", "sizes", "free_top"};
	const char *fname = "heap_test_blocks";
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *type_s;
	int			type;
	int32	   *sizes;
	int			n;
	int64		n_free;
	BpHeap	   *heap;
	Size	   *len;
	Size	   *cap;
	uint8	   *source;
	int			nb;
	int			i;

	bpt_require_superuser(fname);
	bp_all_not_null(fcinfo, fname, names, 3);
	type_s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	type = bp_heap_type_arg(fname, type_s);
	bp_int_array(PG_GETARG_ARRAYTYPE_P(1), fname, "sizes", &sizes, &n);
	n_free = PG_GETARG_INT32(2);
	bp_check_range(fname, "free_top", n_free, 0, n);
	for (i = 0; i < n; i++)
		bp_check_range(fname, "size", sizes[i], 0, 64 * 1024 * 1024);
	if (type != BP_HEAP_DYNAMIC)
		bp_ensure_attached();

	InitMaterializedSRF(fcinfo, 0);
	heap = bp_heap_create_scoped("test", type, 0);
	for (i = 0; i < n; i++)
		memset(bp_heap_alloc(heap, (Size) sizes[i]), 0x5A, sizes[i]);
	for (i = n - 1; i >= n - n_free; i--)
		bp_heap_free_top(heap, (Size) sizes[i]);

	nb = bp_heap_block_info(heap, NULL, NULL, NULL, 0);
	len = palloc(sizeof(Size) * nb);
	cap = palloc(sizeof(Size) * nb);
	source = palloc(sizeof(uint8) * nb);
	bp_heap_block_info(heap, len, cap, source, nb);
	for (i = 0; i < nb; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = Int32GetDatum(i);
		values[1] = Int64GetDatum((int64) len[i]);
		values[2] = Int64GetDatum((int64) cap[i]);
		values[3] = CStringGetTextDatum(bp_heap_source_name(source[i]));
		values[4] = Int64GetDatum((int64) bp_heap_used(heap));
		values[5] = Int32GetDatum(bp_heap_blocks(heap));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	bp_heap_free(heap);
	return (Datum) 0;
}

/*
 * Overwrite the magic number of heap's top block, as a stray write past
 * an allocation of another block would (heap.c's guards must catch it).
 */
static void
bpt_heap_smash_top(BpHeap *heap)
{
	BpHeapBlock *top = heap->shared ? (BpHeapBlock *) bp_shm_ptr((BpShmAddr) heap->top)
		: (BpHeapBlock *) (uintptr_t) heap->top;

	top->magic = 0xDEADBEEF;
}

/*
 * bufpool_test.heap_test_guard(which): misuse a heap the way a bug would; each
 * ends in the heap's own ERROR (and the scoped heap is freed).
 *	  smash		 overwrite the top block's magic number, then free_top
 *	  free_top	 free_top more than the top block holds
 *	  bad_mark	 free_to_mark with a mark of another heap
 *	  stale_mark free_to_mark with a mark freed past already
 */
Datum
bpt_heap_test_guard(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"which"};
	const char *fname = "heap_test_guard";
	char	   *which;
	BpHeap	   *heap;
	BpHeap	   *other;
	BpHeapMark	mark;
	int			i;

	bpt_require_superuser(fname);
	bp_all_not_null(fcinfo, fname, names, 1);
	which = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(which, "smash") != 0 && strcmp(which, "free_top") != 0 &&
		strcmp(which, "bad_mark") != 0 && strcmp(which, "stale_mark") != 0)
		bp_bad_value(fname, "which", which, "smash, free_top, bad_mark, stale_mark");

	heap = bp_heap_create_scoped("test", BP_HEAP_DYNAMIC, 0);
	other = bp_heap_create_scoped("test", BP_HEAP_DYNAMIC, 0);
	for (i = 0; i < 40; i++)
		bp_heap_alloc(heap, 100);
	bp_heap_alloc(other, 100);
	if (strcmp(which, "smash") == 0)
	{
		bpt_heap_smash_top(heap);
		bp_heap_free_top(heap, 100);
	}
	else if (strcmp(which, "free_top") == 0)
		bp_heap_free_top(heap, 100000);
	else if (strcmp(which, "bad_mark") == 0)
	{
		mark = bp_heap_get_top(other);
		bp_heap_free_to_mark(heap, mark);
	}
	else
	{
		bp_heap_alloc(heap, 5000);
		mark = bp_heap_get_top(heap);
		bp_heap_alloc(heap, 100);
		bp_heap_empty(heap);
		bp_heap_free_to_mark(heap, mark);
	}
	bp_heap_free(other);
	bp_heap_free(heap);
	PG_RETURN_TEXT_P(cstring_to_text("no error"));
}

/* ---------------------------------------------------------------- bench */

#define BP_BENCH_ROUND		1024
#define BP_BENCH_SIZES		4096
#define BP_BENCH_MAX_SIZE	(1024 * 1024)
#define BP_BENCH_ACCOUNT_OPS (16 * BP_BENCH_ROUND)

typedef enum
{
	BP_BENCH_ARENA,
	BP_BENCH_HEAP,
	BP_BENCH_MALLOC,
	BP_BENCH_PALLOC
} BpBenchAllocator;

typedef struct BpBenchState
{
	BpBenchAllocator which;
	BpArena    *arena;
	BpHeap	   *heap;
	MemoryContext cxt;
	void	   *ptrs[BP_BENCH_ROUND];
} BpBenchState;

static volatile char bp_bench_sink;

/* Bytes the allocator holds now (malloc: usable sizes of live chunks + headers). */
static Size
bp_bench_held(BpBenchState *st, int n_live)
{
	Size		s = 0;
	int			i;

	switch (st->which)
	{
		case BP_BENCH_ARENA:
			return bp_arena_reserved(st->arena);
		case BP_BENCH_HEAP:
			return bp_heap_reserved(st->heap);
		case BP_BENCH_PALLOC:
			return MemoryContextMemAllocated(st->cxt, false);
		case BP_BENCH_MALLOC:
			for (i = 0; i < n_live; i++)
				s += malloc_usable_size(st->ptrs[i]) + sizeof(size_t);
			return s;
	}
	return 0;
}

/*
 * One run: n_ops allocations of sizes[i % BP_BENCH_SIZES].  With account,
 * tracks the peak held bytes and the peak live requested bytes (slow:
 * not the timed run).  Inlined with constant allocator and pattern into
 * bp_bench_run, so each timed loop is specialised: no per-operation
 * switch, the allocator's own fast path only.
 */
static pg_attribute_always_inline void
bp_bench_run_impl(BpBenchState *st, int which, bool pairs, const uint32 *sizes, int64 n_ops,
				  bool account, Size *peak_held, Size *peak_req)
{
	int64		i;
	int			k = 0;
	Size		live_req = 0;
	Size		kept_req = 0;	/* arena pairs: bytes free_last could not give back */
	char		acc = 0;

	/*
	 * In locals: the loop's byte stores may alias anything, so fields of
	 * *st would be loaded again after every one of them.
	 */
	BpArena    *arena = st->arena;
	BpHeap	   *heap = st->heap;
	MemoryContext cxt = st->cxt;

	for (i = 0; i < n_ops; i++)
	{
		Size		sz = sizes[i & (BP_BENCH_SIZES - 1)];
		char	   *p;

		switch (which)
		{
			case BP_BENCH_ARENA:
				p = bp_arena_alloc(arena, sz);
				break;
			case BP_BENCH_HEAP:
				p = bp_heap_alloc(heap, sz);
				break;
			case BP_BENCH_MALLOC:
				p = malloc(sz);
				if (p == NULL)
					ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
				break;
			default:
				p = MemoryContextAlloc(cxt, sz);
				break;
		}
		p[0] = (char) i;
		acc ^= p[0];
		if (account)
			live_req += sz;

		if (pairs)
		{
			/* a pair: free at once (the arena gives back its latest allocation) */
			switch (which)
			{
				case BP_BENCH_ARENA:
					if (account)
						*peak_held = Max(*peak_held, bp_arena_reserved(arena));
					if (!bp_arena_free_last(arena, p, sz) && account)
						kept_req += sz; /* a big request's own block: kept */
					break;
				case BP_BENCH_HEAP:
					if (account)
						*peak_held = Max(*peak_held, bp_heap_reserved(heap));
					bp_heap_free_top(heap, sz);
					break;
				case BP_BENCH_MALLOC:
					if (account)
					{
						st->ptrs[0] = p;
						*peak_held = Max(*peak_held, bp_bench_held(st, 1));
						st->ptrs[0] = NULL;
					}
					free(p);
					break;
				default:
					if (account)
						*peak_held = Max(*peak_held, bp_bench_held(st, 0));
					pfree(p);
					break;
			}
			if (account)
			{
				*peak_req = Max(*peak_req, live_req);
				live_req = kept_req;
			}
			if (which == BP_BENCH_ARENA && ++k == BP_BENCH_ROUND)
			{
				if (account)
					*peak_held = Max(*peak_held, bp_arena_reserved(arena));
				bp_arena_clear_for_reuse(arena);
				k = 0;
				live_req = kept_req = 0;
			}
		}
		else
		{
			st->ptrs[k++] = p;
			if (k == BP_BENCH_ROUND)
			{
				if (account)
				{
					*peak_req = Max(*peak_req, live_req);
					*peak_held = Max(*peak_held, bp_bench_held(st, k));
					live_req = 0;
				}
				switch (which)
				{
					case BP_BENCH_ARENA:
						bp_arena_clear_for_reuse(arena);
						break;
					case BP_BENCH_HEAP:
						bp_heap_empty(heap);
						break;
					case BP_BENCH_MALLOC:
						{
							int			j;

							for (j = 0; j < k; j++)
							{
								free(st->ptrs[j]);
								st->ptrs[j] = NULL;
							}
						}
						break;
					default:
						MemoryContextReset(cxt);
						break;
				}
				k = 0;
			}
		}
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (account && k > 0)
	{
		*peak_req = Max(*peak_req, live_req);
		*peak_held = Max(*peak_held, bp_bench_held(st, pairs ? 0 : k));
	}
	/* leave nothing allocated (malloc batch: the last partial round) */
	if (!pairs && which == BP_BENCH_MALLOC)
	{
		int			j;

		for (j = 0; j < k; j++)
		{
			free(st->ptrs[j]);
			st->ptrs[j] = NULL;
		}
	}
	if (which == BP_BENCH_ARENA)
		bp_arena_clear(arena);
	else if (which == BP_BENCH_HEAP)
		bp_heap_empty(heap);
	else if (which == BP_BENCH_PALLOC)
		MemoryContextReset(cxt);
	bp_bench_sink = acc;
}

static void
bp_bench_run(BpBenchState *st, bool pairs, const uint32 *sizes, int64 n_ops,
			 bool account, Size *peak_held, Size *peak_req)
{
	if (account)
	{
		bp_bench_run_impl(st, st->which, pairs, sizes, n_ops, true, peak_held, peak_req);
		return;
	}
#define BP_BENCH_CASE(w) \
	case w: \
		if (pairs) \
			bp_bench_run_impl(st, w, true, sizes, n_ops, false, NULL, NULL); \
		else \
			bp_bench_run_impl(st, w, false, sizes, n_ops, false, NULL, NULL); \
		break
	switch (st->which)
	{
			BP_BENCH_CASE(BP_BENCH_ARENA);
			BP_BENCH_CASE(BP_BENCH_HEAP);
			BP_BENCH_CASE(BP_BENCH_MALLOC);
			BP_BENCH_CASE(BP_BENCH_PALLOC);
	}
#undef BP_BENCH_CASE
}

/* size_spec: "N" or "uniformA-B" (1 <= A <= B <= 1 MB) */
static void
bp_bench_sizes(const char *fname, const char *spec, uint32 *sizes)
{
	long		a,
				b;
	char		tail;
	int			i;
	pg_prng_state rng;

	if (sscanf(spec, "uniform%ld-%ld%c", &a, &b, &tail) == 2)
	{
		if (a < 1 || b < a || b > BP_BENCH_MAX_SIZE)
			bp_bad_value(fname, "size_spec", spec,
						 "a size N or uniformA-B with 1 <= A <= B <= 1048576");
		pg_prng_seed(&rng, 42);
		for (i = 0; i < BP_BENCH_SIZES; i++)
			sizes[i] = (uint32) pg_prng_uint64_range(&rng, (uint64) a, (uint64) b);
		return;
	}
	if (strspn(spec, "0123456789") == strlen(spec) && strlen(spec) > 0 && strlen(spec) <= 8)
	{
		a = atol(spec);
		if (a >= 1 && a <= BP_BENCH_MAX_SIZE)
		{
			for (i = 0; i < BP_BENCH_SIZES; i++)
				sizes[i] = (uint32) a;
			return;
		}
	}
	bp_bad_value(fname, "size_spec", spec,
				 "a size N or uniformA-B with 1 <= A <= B <= 1048576");
}

static void
bp_bench_teardown(void *arg)
{
	BpBenchState *st = (BpBenchState *) arg;

	/* the arena and heap have scoped clean-up of their own */
	if (st->which == BP_BENCH_MALLOC)
	{
		int			j;

		for (j = 0; j < BP_BENCH_ROUND; j++)
		{
			free(st->ptrs[j]);
			st->ptrs[j] = NULL;
		}
	}
}

/*
 * bufpool_test.alloc_bench(allocator, pattern, size_spec, n_ops):
 * ns per allocation (its free or share of the reset included), and the
 * peak bytes held against the peak bytes requested and live.
 */
Datum
bpt_alloc_bench(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"allocator", "pattern", "size_spec", "n_ops"};
	const char *fname = "alloc_bench";
	char	   *alloc_s,
			   *pattern_s,
			   *spec;
	int64		n_ops;
	bool		pairs;
	uint32	   *sizes;
	BpBenchState *st;
	MemoryContextCallback *cb;
	struct timespec t0,
				t1;
	double		ns;
	Size		peak_held = 0,
				peak_req = 0;
	Datum		values[4];
	bool		nulls[4] = {0};

	bpt_require_superuser(fname);
	bp_all_not_null(fcinfo, fname, names, 4);
	alloc_s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	pattern_s = text_to_cstring(PG_GETARG_TEXT_PP(1));
	spec = text_to_cstring(PG_GETARG_TEXT_PP(2));
	n_ops = PG_GETARG_INT64(3);

	st = palloc0(sizeof(BpBenchState));
	if (strcmp(alloc_s, "arena") == 0)
		st->which = BP_BENCH_ARENA;
	else if (strcmp(alloc_s, "heap") == 0)
		st->which = BP_BENCH_HEAP;
	else if (strcmp(alloc_s, "malloc") == 0)
		st->which = BP_BENCH_MALLOC;
	else if (strcmp(alloc_s, "palloc") == 0)
		st->which = BP_BENCH_PALLOC;
	else
		bp_bad_value(fname, "allocator", alloc_s, "arena, heap, malloc, palloc");
	if (strcmp(pattern_s, "pairs") == 0)
		pairs = true;
	else if (strcmp(pattern_s, "batch1024") == 0)
		pairs = false;
	else
		bp_bad_value(fname, "pattern", pattern_s, "pairs, batch1024");
	sizes = palloc(sizeof(uint32) * BP_BENCH_SIZES);
	bp_bench_sizes(fname, spec, sizes);
	bp_check_range(fname, "n_ops", n_ops, 1, 1000000000);

	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = bp_bench_teardown;
	cb->arg = st;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	switch (st->which)
	{
		case BP_BENCH_ARENA:
			st->arena = bp_arena_create_scoped("alloc_bench", 8192);
			break;
		case BP_BENCH_HEAP:
			st->heap = bp_heap_create_scoped("alloc_bench", BP_HEAP_DYNAMIC, 0);
			break;
		case BP_BENCH_PALLOC:
			st->cxt = AllocSetContextCreate(CurrentMemoryContext, "alloc_bench",
											ALLOCSET_DEFAULT_SIZES);
			break;
		case BP_BENCH_MALLOC:
			break;
	}

	/* accounting pass (untimed), which also warms up */
	bp_bench_run(st, pairs, sizes, Min(n_ops, BP_BENCH_ACCOUNT_OPS), true,
				 &peak_held, &peak_req);
	/*
	 * CPU time of this process (user + system, page faults included), not
	 * wall time: a backend waiting for a CPU on a busy machine would
	 * otherwise charge the wait to whichever allocator ran then.
	 */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	bp_bench_run(st, pairs, sizes, n_ops, false, NULL, NULL);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	ns = ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) /
		(double) n_ops;

	values[0] = Float8GetDatum(ns);
	values[1] = Int64GetDatum((int64) peak_held);
	values[2] = Int64GetDatum((int64) peak_req);
	values[3] = Float8GetDatum(peak_req > 0 ? (double) peak_held / (double) peak_req : 0.0);
	if (st->which == BP_BENCH_ARENA)
		bp_arena_destroy(st->arena);
	else if (st->which == BP_BENCH_HEAP)
		bp_heap_free(st->heap);
	else if (st->which == BP_BENCH_PALLOC)
		MemoryContextDelete(st->cxt);
	PG_RETURN_DATUM(bp_result(fcinfo, values, nulls));
}
