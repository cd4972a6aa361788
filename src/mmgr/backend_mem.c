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
 * The background workers of bufpool_ext publish from their main loops;
 * parallel workers do not publish (they live for one query).
 *
 * With the totals each process also publishes one line per child of
 * TopMemoryContext (CacheMemoryContext, MessageContext, a portal, ...)
 * summed over its subtree, for bufpool.backend_memory_contexts.  Each
 * line is an object of the size-class set "backend_memory" (sizeclass.c:
 * 80 bytes, its class exactly; instrument memory/bufpool/size_class_set/
 * backend_memory), chained by BpShmAddr from the process's slot; each
 * publication frees the previous lines, writes new ones, and gives back
 * the objects its cache kept, so nothing idles between publications.
 * Until 1.13 the lines sat in a shared arena per process (blocks of 1 kB
 * and up from the buddy allocator): with 20 sessions, 23 processes, 468
 * lines took 63,488 bytes there (42 blocks), 49,152 as size-class objects
 * (6 slabs of 8 kB, 3 per instance; 37,440 bytes of lines).
 * The slabs come from the buddy allocator's region only (no pool frame,
 * so no LWLock of the pool, no eviction, no I/O at a statement end);
 * when it has no room, or after BP_CTX_MAX_LINES lines, the list is cut
 * short and says so (truncated); a statement end never fails because of
 * it.
 *
 * A slot is written only by its owner.  Readers use a change counter,
 * as pgstat's backend status does: odd while a write is under way; a
 * reader copies the slot and retries if the counter moved.  A reader
 * follows a line's next address only after checking that the counter
 * has not moved since it copied the line, so it never follows an
 * address the owner was rewriting; the memory behind a stale address is
 * still mapped (buddy region or chunk-0 frame), and the check after the
 * copy throws away what was read from it.
 *
 * IDENTIFICATION
 *	  src/mmgr/backend_mem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/twophase.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/memnodes.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bufpool_ext/mmgr/backend_mem.h"
#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/mmgr/sizeclass.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/shared/shmem.h"


typedef struct BpBackendMemSlot
{
	pg_atomic_uint32 changecount;	/* odd while the owner writes */
	BpBackendMemRow row;		/* the totals; row.pid 0: free */
	/* the per-context lines (size-class objects; written by the owner only) */
	bool		truncated;		/* lines left out: too many, or no memory */
	int32		n_lines;
	BpShmAddr	head;
} BpBackendMemSlot;

static BpBackendMemSlot *BpBackendMem = NULL;
static int	bp_backend_mem_slots = 0;
static BpBackendMemSlot *my_slot = NULL;
static TimestampTz last_publish = 0;
static bool lines_disabled = false;	/* an error stopped the lines here */
static int	lines_set = -1;		/* the size-class set "backend_memory" */

static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

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

/*
 * Whether a child of TopMemoryContext lives for a statement or a
 * transaction only: what a process keeps while idle is the rest.
 */
static bool
bp_backend_mem_transient(MemoryContext cxt)
{
	return cxt == MessageContext || cxt == TopTransactionContext ||
		strcmp(cxt->name, "TopPortalContext") == 0;
}

/*
 * The process's totals over every context, its context count, and the
 * bytes it keeps between statements (kept: the total less the
 * transient children's subtrees), in one walk.
 */
static void
bp_backend_mem_totals(MemoryContextCounters *totals, int32 *n, int64 *kept)
{
	MemoryContext child;

	memset(totals, 0, sizeof(*totals));
	TopMemoryContext->methods->stats(TopMemoryContext, NULL, NULL, totals, false);
	*n = 1;
	*kept = (int64) totals->totalspace;
	for (child = TopMemoryContext->firstchild; child != NULL; child = child->nextchild)
	{
		Size		before = totals->totalspace;

		bp_backend_mem_walk(child, totals, n);
		if (!bp_backend_mem_transient(child))
			*kept += (int64) (totals->totalspace - before);
	}
}

/*
 * Free the slot's lines (its owner, the change counter odd), one at a
 * time from the head, so that an error part-way leaves the rest linked
 * for the next try (at exit at the latest).
 */
static void
bp_backend_mem_free_lines(BpBackendMemSlot *slot)
{
	while (slot->head != BP_SHM_NULL)
	{
		BpShmAddr	a = slot->head;

		slot->head = ((BpBackendMemLine *) bp_shm_ptr(a))->next;
		slot->n_lines = Max(slot->n_lines - 1, 0);
		bp_sc_free(lines_set, a, sizeof(BpBackendMemLine), 0);
	}
}

static void
bp_backend_mem_exit(int code, Datum arg)
{
	if (my_slot == NULL)
		return;
	/* an error may have left a lock held; the buddy free below needs none */
	LWLockReleaseAll();
	/* an exit in the middle of a publication left the counter odd */
	if (pg_atomic_read_u32(&my_slot->changecount) % 2 != 0)
		pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
	pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
	pg_write_barrier();
	my_slot->row.pid = 0;
	bp_backend_mem_free_lines(my_slot);
	/* the size-class caches were given back before this ran: again */
	if (lines_set >= 0)
		bp_sc_trim_cache(lines_set, sizeof(BpBackendMemLine));
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
	my_slot = NULL;
}

/* Append one line to the slot's list; false if there is no memory. */
static bool
bp_backend_mem_add_line(BpBackendMemSlot *slot, BpShmAddr *tail, const char *name,
						int depth, MemoryContextCounters *c, int32 n)
{
	BpShmAddr	a = bp_sc_alloc(lines_set, sizeof(BpBackendMemLine), 0,
								BP_ALLOC_NO_OOM | BP_ALLOC_NO_FRAME);
	BpBackendMemLine *line;

	if (a == BP_SHM_NULL)
		return false;
	line = (BpBackendMemLine *) bp_shm_ptr(a);
	line->next = BP_SHM_NULL;
	strlcpy(line->name, name, sizeof(line->name));
	line->total_bytes = (int64) c->totalspace;
	line->free_bytes = (int64) c->freespace;
	line->contexts = n;
	line->depth = depth;
	if (*tail == BP_SHM_NULL)
		slot->head = a;
	else
		((BpBackendMemLine *) bp_shm_ptr(*tail))->next = a;
	*tail = a;
	slot->n_lines++;
	return true;
}

/*
 * Rewrite the per-context lines: TopMemoryContext's own memory, then each
 * child's subtree.  Caller has made the change counter odd.
 */
static void
bp_backend_mem_lines(BpBackendMemSlot *slot)
{
	MemoryContextCounters c;
	MemoryContext child;
	BpShmAddr	tail = BP_SHM_NULL;

	bp_backend_mem_free_lines(slot);
	slot->truncated = false;

	memset(&c, 0, sizeof(c));
	TopMemoryContext->methods->stats(TopMemoryContext, NULL, NULL, &c, false);
	if (!bp_backend_mem_add_line(slot, &tail, TopMemoryContext->name, 0, &c, 1))
	{
		slot->truncated = true;
		return;
	}
	for (child = TopMemoryContext->firstchild; child != NULL; child = child->nextchild)
	{
		int32		n = 0;

		memset(&c, 0, sizeof(c));
		bp_backend_mem_walk(child, &c, &n);
		if (slot->n_lines >= BP_CTX_MAX_LINES ||
			!bp_backend_mem_add_line(slot, &tail, child->name, 1, &c, n))
		{
			slot->truncated = true;
			return;
		}
	}
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
	int64		kept;
	bool		lines;

	if (BpBackendMem == NULL || MyProc == NULL || MyProc->pgprocno >= bp_backend_mem_slots)
		return;
	/* a parallel worker lives for one query: its leader's figures matter */
	if (IsParallelWorker())
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
	bp_backend_mem_totals(&totals, &n, &kept);

	/* the lines need the pool (chunk-0 frames may hold them) */
	lines = bp_backend_memory_contexts && !lines_disabled &&
		pg_atomic_read_u32(&BpShmem->pool_state) == BP_POOL_READY;

	pg_atomic_fetch_add_u32(&my_slot->changecount, 1);
	pg_write_barrier();
	my_slot->row.pid = MyProcPid;
	bp_my_backend_type(my_slot->row.backend_type, sizeof(my_slot->row.backend_type));
	my_slot->row.published_at = now;
	my_slot->row.total_bytes = (int64) totals.totalspace;
	my_slot->row.free_bytes = (int64) totals.freespace;
	my_slot->row.blocks = (int64) totals.nblocks;
	my_slot->row.contexts = n;
	my_slot->row.kept_bytes = kept;
	my_slot->truncated = !lines;
	if (!lines_disabled && (lines || my_slot->head != BP_SHM_NULL))
	{
		MemoryContext oldcxt = CurrentMemoryContext;

		/*
		 * A statement end must not fail for this.  The size-class slabs
		 * come from region memory of the buddy allocator only (no pool
		 * frame, so no LWLock of the pool, no eviction, no I/O), and an
		 * allocation returns NULL when there is none.  What can still
		 * raise an error stops the lines in this process for good: the
		 * lines written so far are freed (else at exit), and the list
		 * stays empty.  The catch releases LWLocks as an abort would (a
		 * statement end or a worker's loop holds none of its own).
		 * Interrupts are held, so a cancel waits for the next check
		 * instead of being swallowed here.
		 */
		HOLD_INTERRUPTS();
		PG_TRY();
		{
			if (lines_set < 0)
				lines_set = bp_sc_set_get("backend_memory");
			if (!lines)
				bp_backend_mem_free_lines(my_slot);	/* turned off */
			else
				bp_backend_mem_lines(my_slot);
			bp_sc_trim_cache(lines_set, sizeof(BpBackendMemLine));
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(oldcxt);
			FlushErrorState();
			LWLockReleaseAll();
			lines_disabled = true;
			my_slot->truncated = true;
			PG_TRY();
			{
				bp_backend_mem_free_lines(my_slot);
			}
			PG_CATCH();
			{
				/* what is still linked is freed at exit */
				MemoryContextSwitchTo(oldcxt);
				FlushErrorState();
				LWLockReleaseAll();
			}
			PG_END_TRY();
		}
		PG_END_TRY();
		RESUME_INTERRUPTS();
	}
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

int
bp_backend_mem_n_slots(void)
{
	return bp_backend_mem_slots;
}

/*
 * Copy slot's totals into *out; false if the slot is free or its owner
 * kept writing it through 1000 tries.
 */
bool
bp_backend_mem_read(int slot, BpBackendMemRow *out)
{
	BpBackendMemSlot *s = &BpBackendMem[slot];
	BpBackendMemSlot copy;
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
	if (tries == 1000 || copy.row.pid == 0)
		return false;
	*out = copy.row;
	out->backend_type[BGW_MAXLEN - 1] = '\0';
	return true;
}

/*
 * Copy slot's context lines into lines[] (room for BP_CTX_MAX_LINES) and
 * its pid, backend type and publication time into *row; returns the
 * number of lines, or -1 if the slot is free or kept moving.  The caller
 * must have attached the pool (lines may sit in chunk-0 frames).
 */
int
bp_backend_mem_read_lines(int slot, BpBackendMemRow *row,
						  BpBackendMemLine *lines, bool *truncated)
{
	BpBackendMemSlot *s = &BpBackendMem[slot];
	int			n = 0;
	int			tries;
	int			k;

	memset(row, 0, sizeof(BpBackendMemRow));
	for (tries = 0; tries < 1000; tries++)
	{
		uint32		before = pg_atomic_read_u32(&s->changecount);
		BpShmAddr	a;
		bool		torn = false;

		if (before % 2 != 0)
		{
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		pg_read_barrier();
		row->pid = s->row.pid;
		memcpy(row->backend_type, s->row.backend_type, BGW_MAXLEN);
		row->published_at = s->row.published_at;
		*truncated = s->truncated;
		a = s->head;
		n = 0;
		pg_read_barrier();
		if (pg_atomic_read_u32(&s->changecount) != before)
			continue;
		while (a != BP_SHM_NULL && n < BP_CTX_MAX_LINES)
		{
			/* a stale address is caught below; never copy past a block */
			if (!bp_shm_range_ok(a, sizeof(BpBackendMemLine)))
			{
				torn = true;
				break;
			}
			memcpy(&lines[n], bp_shm_ptr(a), sizeof(BpBackendMemLine));
			pg_read_barrier();
			/* the line (and its next address) is good only if nothing moved */
			if (pg_atomic_read_u32(&s->changecount) != before)
			{
				torn = true;
				break;
			}
			a = lines[n++].next;
		}
		if (!torn)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	if (tries == 1000 || row->pid == 0)
		return -1;
	row->backend_type[BGW_MAXLEN - 1] = '\0';
	for (k = 0; k < n; k++)
		lines[k].name[BP_CTX_NAME_LEN - 1] = '\0';
	return n;
}
