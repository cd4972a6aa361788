/*-------------------------------------------------------------------------
 *
 * leak_tests.c
 *	  Leaks made on purpose, for bufpool.memory_leaks' tests (TAP
 *	  026_memory_leaks): shared memory that a session allocates and never
 *	  frees, and a memory context that grows with every statement.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/leak_tests.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"

#include "bufpool_ext/mmgr/arena.h"
#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/shared/shmem.h"

PG_FUNCTION_INFO_V1(bpt_leak_shared);
PG_FUNCTION_INFO_V1(bpt_leak_context);

/* the session's leaking shared arena: the BpArena itself in buddy memory */
static BpArena *leak_arena = NULL;
static MemoryContext leak_context = NULL;

static int
bpt_leak_kb(FunctionCallInfo fcinfo)
{
	int			kb = PG_GETARG_INT32(0);

	if (kb < 1 || kb > 64 * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("leak size %d kB is out of range", kb),
				 errdetail("Valid sizes are 1 to 65536 kB.")));
	return kb;
}

/*
 * bufpool_test.leak_shared(kb): allocate kb more kB from a shared arena
 * named "leak_test" that this session creates at its first call and
 * never frees, not even at exit.  Returns the arena's bytes in use.
 */
Datum
bpt_leak_shared(PG_FUNCTION_ARGS)
{
	int			kb = bpt_leak_kb(fcinfo);
	int			i;

	bp_ensure_attached();
	if (leak_arena == NULL)
	{
		BpShmAddr	addr = bp_buddy_alloc(-1, sizeof(BpArena), 0, 0);

		leak_arena = (BpArena *) bp_shm_ptr(addr);
		bp_arena_init(leak_arena, "leak_test", true, 4096, 0, true);
	}
	for (i = 0; i < kb; i++)
		memset(bp_arena_alloc(leak_arena, 1024), 0x5a, 1024);
	PG_RETURN_INT64((int64) bp_arena_used(leak_arena));
}

/*
 * bufpool_test.leak_context(kb): allocate kb more kB in a context
 * "bufpool_test leak" under TopMemoryContext, never freed.  Returns the
 * context's total bytes.
 */
Datum
bpt_leak_context(PG_FUNCTION_ARGS)
{
	int			kb = bpt_leak_kb(fcinfo);

	if (leak_context == NULL)
		leak_context = AllocSetContextCreate(TopMemoryContext, "bufpool_test leak",
											 ALLOCSET_DEFAULT_SIZES);
	memset(MemoryContextAlloc(leak_context, (Size) kb * 1024), 0x5a, (Size) kb * 1024);
	PG_RETURN_INT64((int64) MemoryContextMemAllocated(leak_context, true));
}
