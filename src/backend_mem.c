/*-------------------------------------------------------------------------
 *
 * backend_mem.c
 *	  Every process's PostgreSQL memory-context totals, published to
 *	  shared memory so one query (bufpool.backend_memory) shows the memory
 *	  of the whole cluster.
 *
 * PostgreSQL shows a process's memory contexts only to that process
 * (pg_backend_memory_contexts) or in the server log
 * (pg_log_backend_memory_contexts).  Here each process that loaded
 * bufpool_ext walks its context tree at the end of a statement (before
 * the executor frees the statement's memory, so the figures include what
 * the statement used) and stores the totals in its own slot: total, used
 * and free bytes, blocks and the number of contexts.  The walk costs
 * some microseconds, so it is rate-limited by
 * bufpool_ext.backend_memory_interval (default 1 s): a process publishes
 * at most that often, at the first statement end after the interval.
 * The background workers of bufpool_ext publish from their main loops.
 *
 * A slot is written only by its owner.  Readers use a change counter,
 * as pgstat's backend status does: odd while a write is under way; a
 * reader copies the slot and retries if the counter moved.
 *
 * IDENTIFICATION
 *	  src/backend_mem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/memnodes.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "bufpool_ext/guc.h"
#include "bufpool_ext/memstat.h"
#include "bufpool_ext/pool.h"

typedef struct BpBackendMemSlot
{
	pg_atomic_uint32 changecount;	/* odd while the owner writes */
	int32		pid;			/* 0: free */
	char		backend_type[BGW_MAXLEN];
	TimestampTz published_at;
	int64		total_bytes;
	int64		free_bytes;
	int64		blocks;
	int32		contexts;
} BpBackendMemSlot;

static BpBackendMemSlot *BpBackendMem = NULL;
static int	bp_backend_mem_slots = 0;
static BpBackendMemSlot *my_slot = NULL;
static TimestampTz last_publish = 0;

static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

PG_FUNCTION_INFO_V1(bp_sql_backend_memory);

static int
bp_backend_mem_n(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

Size
bp_backend_mem_shmem_size(void)
{
	return mul_size(bp_backend_mem_n(), sizeof(BpBackendMemSlot));
}

/* Called from shmem.c's startup hook with AddinShmemInitLock held. */
void
bp_backend_mem_shmem_init(void)
{
	bool		found;
	int			i;

	bp_backend_mem_slots = bp_backend_mem_n();
	BpBackendMem = ShmemInitStruct("bufpool_ext backend memory",
								   bp_backend_mem_shmem_size(), &found);
	if (!found)
	{
		memset(BpBackendMem, 0, bp_backend_mem_shmem_size());
		bp_mem_count_startup("memory/bufpool/shmem", bp_backend_mem_shmem_size());
		for (i = 0; i < bp_backend_mem_slots; i++)
			pg_atomic_init_u32(&BpBackendMem[i].changecount, 0);
	}
	my_slot = NULL;
}

static void
bp_backend_mem_walk(MemoryContext cxt, MemoryContextCounters *totals, int32 *n)
{
	MemoryContext child;

	cxt->methods->stats(cxt, NULL, NULL, totals, false);
	(*n)++;
	for (child = cxt->firstchild; child != NULL; child = child->nextchild)
		bp_backend_mem_walk(child, totals, n);
}

static void
bp_backend_mem_exit(int code, Datum arg)
{
	if (my_slot == NULL)
		return;
	pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
	pg_write_barrier();
	my_slot->pid = 0;
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
	my_slot = NULL;
}

/*
 * Publish this process's totals if the interval has passed (force: at
 * once).  Never raises an error: it runs at statement end.
 */
void
bp_backend_mem_publish(bool force)
{
	TimestampTz now;
	MemoryContextCounters totals;
	int32		n = 0;

	if (BpBackendMem == NULL || MyProc == NULL || MyProc->pgprocno >= bp_backend_mem_slots)
		return;
	now = GetCurrentTimestamp();
	if (!force && last_publish != 0 &&
		!TimestampDifferenceExceeds(last_publish, now, bp_backend_memory_interval_ms))
		return;
	last_publish = now;

	if (my_slot == NULL)
	{
		my_slot = &BpBackendMem[MyProc->pgprocno];
		before_shmem_exit(bp_backend_mem_exit, 0);
	}
	memset(&totals, 0, sizeof(totals));
	bp_backend_mem_walk(TopMemoryContext, &totals, &n);

	pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
	pg_write_barrier();
	my_slot->pid = MyProcPid;
	if (MyBackendType == B_BG_WORKER && MyBgworkerEntry != NULL)
		strlcpy(my_slot->backend_type, MyBgworkerEntry->bgw_type, sizeof(my_slot->backend_type));
	else
		strlcpy(my_slot->backend_type, GetBackendTypeDesc(MyBackendType),
				sizeof(my_slot->backend_type));
	my_slot->published_at = now;
	my_slot->total_bytes = (int64) totals.totalspace;
	my_slot->free_bytes = (int64) totals.freespace;
	my_slot->blocks = (int64) totals.nblocks;
	my_slot->contexts = n;
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
}

/* publish before the executor frees the statement's memory */
static void
bp_backend_mem_ExecutorEnd(QueryDesc *queryDesc)
{
	bp_backend_mem_publish(false);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

static void
bp_backend_mem_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
							  bool readOnlyTree, ProcessUtilityContext context,
							  ParamListInfo params, QueryEnvironment *queryEnv,
							  DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	bp_backend_mem_publish(false);
}

/* Install the hooks (from _PG_init). */
void
bp_backend_mem_init(void)
{
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = bp_backend_mem_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = bp_backend_mem_ProcessUtility;
}

/*
 * bufpool.backend_memory_srf()
 *	  returns (pid, backend_type, published_at, total_bytes, used_bytes,
 *			   free_bytes, blocks, contexts)
 */
Datum
bp_sql_backend_memory(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	/* the caller's own figures are those of this very statement */
	bp_backend_mem_publish(true);
	for (i = 0; i < bp_backend_mem_slots; i++)
	{
		BpBackendMemSlot *s = &BpBackendMem[i];
		BpBackendMemSlot copy;
		Datum		values[8];
		bool		nulls[8] = {0};
		int			tries;

		for (tries = 0; tries < 1000; tries++)
		{
			uint32		before = pg_atomic_read_u32(&s->changecount);

			pg_read_barrier();
			memcpy(&copy, s, sizeof(copy));
			pg_read_barrier();
			if (before % 2 == 0 && pg_atomic_read_u32(&s->changecount) == before)
				break;
			CHECK_FOR_INTERRUPTS();
		}
		if (tries == 1000 || copy.pid == 0)
			continue;
		values[0] = Int32GetDatum(copy.pid);
		copy.backend_type[BGW_MAXLEN - 1] = '\0';
		values[1] = CStringGetTextDatum(copy.backend_type);
		values[2] = TimestampTzGetDatum(copy.published_at);
		values[3] = Int64GetDatum(copy.total_bytes);
		values[4] = Int64GetDatum(copy.total_bytes - copy.free_bytes);
		values[5] = Int64GetDatum(copy.free_bytes);
		values[6] = Int64GetDatum(copy.blocks);
		values[7] = Int32GetDatum(copy.contexts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
