/*-------------------------------------------------------------------------
 *
 * memstat.c
 *	  Memory accounting by instrument, in the manner of performance_schema's
 *	  memory summary tables.
 *
 * Instruments.  A name ("memory/bufpool/chunk") is registered once per
 * server in a shared table and gets a small integer key; every process
 * finds the same key for the same name.  Keys live as long as the shared
 * memory (a crash-restart starts again).
 *
 * Counting.  Each process owns one row of BpMemStat per instrument in
 * shared memory, indexed by its pgprocno.  bp_mem_alloc / bp_mem_free
 * (memstat.h, inline) add to that row: no lock, no atomic instruction,
 * no cache line that another process writes.  The views read every row
 * without a lock; 64-bit loads and stores are atomic on the platforms
 * PostgreSQL supports, and a row read while it changes is off by at most
 * the operation in flight.  The page-fetch hit path allocates nothing,
 * so counting costs it nothing.
 *
 * A process's counts outlive it: at exit it adds its row into the "fold"
 * row (thread 0 in the by-thread view, which also holds what the
 * postmaster allocated at startup) and zeroes its own.  So the global row
 * of an instrument is always the sum of the per-thread rows, fold row
 * included, and memory that one process allocates and another frees
 * (shared memory) nets out in the global row; a single thread row may
 * then show a negative current value, as performance_schema's can.
 *
 * Reset (bufpool.memory_summary_reset).  Raw counts only grow.  A reset
 * bumps a shared epoch; a row whose epoch is older is rebased when it is
 * next read or written: its frees so far become the base (base_count,
 * base_bytes) subtracted from both allocs and frees, and its low and high
 * watermarks become its current value.  So after a reset count_alloc is
 * what is live plus what was allocated since, count_free what was freed
 * since, and current = alloc - free always holds.  (performance_schema
 * zeroes the counts instead and keeps current apart; we keep the
 * invariant.)
 *
 * Watermarks.  Per thread, low and high are exact (updated on each
 * operation).  A global high is not the sum of per-thread highs, and
 * tracking it exactly would need a shared counter written by every
 * allocation; instead the global low/high of an instrument are sampled:
 * updated under memstat's lock whenever the global current value is
 * computed (every read of the global views, every fold, every reset).
 * They always satisfy low <= current <= high.
 *
 * Locking: BpMemShared->lock (LWLock) protects the instrument names, the
 * fold row, the global watermarks and the shared allocator slots.  It is
 * a leaf lock: nothing else is taken while it is held.
 *
 * IDENTIFICATION
 *	  src/base/memstat.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/twophase.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "bufpool_ext/base/memstat.h"

typedef struct BpMemProcHeader
{
	int32		pid;			/* owner, 0 when the row is free */
	uint32		epoch;			/* reset epoch the row is rebased to */
	char		backend_type[BGW_MAXLEN];
} BpMemProcHeader;

typedef struct BpMemShared
{
	LWLock		lock;
	int			tranche;		/* of lock, the same in every process */
	volatile uint32 reset_epoch;
	int			n_instruments;	/* keys 1 .. n_instruments-1 are used */
	int			n_procs;
	char		names[BP_MEM_MAX_INSTRUMENTS][BP_MEM_NAME_LEN];
	BpMemStat	fold[BP_MEM_MAX_INSTRUMENTS];
	int64		g_low_count[BP_MEM_MAX_INSTRUMENTS];
	int64		g_high_count[BP_MEM_MAX_INSTRUMENTS];
	int64		g_low_bytes[BP_MEM_MAX_INSTRUMENTS];
	int64		g_high_bytes[BP_MEM_MAX_INSTRUMENTS];
	int			n_shared_alloc; /* slots for shared allocators */
	/* then n_procs x (BpMemProcHeader + BpMemStat[BP_MEM_MAX_INSTRUMENTS]) */
	/* then n_shared_alloc x BpAllocInfo */
	/* then n_shared_alloc x char[BGW_MAXLEN]: each creator's backend type */
} BpMemShared;

static BpMemShared *BpMem = NULL;

BpMemStat  *BpMemMine = NULL;
uint32		BpMemMyEpoch = 0;
static uint32 bp_mem_dummy_epoch = 0;
volatile uint32 *BpMemResetEpoch = &bp_mem_dummy_epoch;

static BpAllocInfo *local_allocators = NULL;

/* this process has folded its row (it is exiting): count into the fold row */
static bool bp_mem_exited = false;

static Size
bp_mem_proc_stride(void)
{
	return MAXALIGN(sizeof(BpMemProcHeader)) +
		sizeof(BpMemStat) * BP_MEM_MAX_INSTRUMENTS;
}

static BpMemProcHeader *
bp_mem_proc_header(int procno)
{
	return (BpMemProcHeader *) ((char *) BpMem + MAXALIGN(sizeof(BpMemShared)) +
								(Size) procno * bp_mem_proc_stride());
}

static BpMemStat *
bp_mem_proc_stats(int procno)
{
	return (BpMemStat *) ((char *) bp_mem_proc_header(procno) +
						  MAXALIGN(sizeof(BpMemProcHeader)));
}

static int
bp_mem_procs_wanted(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

/* BP_MEM_MAX_SHARED_ALLOCATORS for the server, one more per process */
static int
bp_mem_shared_alloc_wanted(void)
{
	return BP_MEM_MAX_SHARED_ALLOCATORS + bp_mem_procs_wanted();
}

static BpAllocInfo *
bp_mem_shared_alloc(int i)
{
	return (BpAllocInfo *) ((char *) BpMem + MAXALIGN(sizeof(BpMemShared)) +
							(Size) BpMem->n_procs * bp_mem_proc_stride()) + i;
}

/* the backend type of shared allocator i's creator */
static char *
bp_mem_shared_owner_type(int i)
{
	return (char *) bp_mem_shared_alloc(BpMem->n_shared_alloc) + (Size) i * BGW_MAXLEN;
}

Size
bp_memstat_shmem_size(void)
{
	Size		size = add_size(MAXALIGN(sizeof(BpMemShared)),
								mul_size(bp_mem_procs_wanted(), bp_mem_proc_stride()));

	return add_size(size, mul_size(bp_mem_shared_alloc_wanted(),
								   sizeof(BpAllocInfo) + BGW_MAXLEN));
}

/* Find or add an instrument; caller holds the lock (or is alone). */
static BpMemKey
bp_mem_register_locked(const char *name)
{
	int			i;

	for (i = 1; i < BpMem->n_instruments; i++)
		if (strcmp(BpMem->names[i], name) == 0)
			return i;
	if (BpMem->n_instruments >= BP_MEM_MAX_INSTRUMENTS)
		return 0;
	strlcpy(BpMem->names[BpMem->n_instruments], name, BP_MEM_NAME_LEN);
	return BpMem->n_instruments++;
}

/*
 * Set up the shared table; called first from the entry's startup hook
 * with AddinShmemInitLock held, in the postmaster and (EXEC_BACKEND) in
 * every child.  The postmaster's own allocations, the parts of main
 * shared memory (each part counts itself), go to the fold row.
 */
void
bp_memstat_shmem_init(void)
{
	bool		found;
	Size		size = bp_memstat_shmem_size();

	BpMem = ShmemInitStruct("bufpool_ext memstat", size, &found);
	if (!found)
	{
		memset(BpMem, 0, size);
		BpMem->tranche = LWLockNewTrancheId();
		LWLockInitialize(&BpMem->lock, BpMem->tranche);
		BpMem->n_instruments = 1;
		BpMem->n_procs = bp_mem_procs_wanted();
		BpMem->n_shared_alloc = bp_mem_shared_alloc_wanted();
		BpMem->reset_epoch = 1;
		bp_mem_count_startup("memory/bufpool/shmem", size);
	}
	/* tranche names are process-local: children inherit the postmaster's */
	LWLockRegisterTranche(BpMem->tranche, "bufpool_ext_memstat");
	BpMemResetEpoch = &BpMem->reset_epoch;
	/* a crash-restart gives every process a fresh start */
	BpMemMine = NULL;
	BpMemMyEpoch = 0;
}

/*
 * Count an allocation made while shared memory is set up (by the
 * postmaster, which has no row of its own): it goes to the fold row.
 * Called only from the shmem startup hook, before any other process
 * exists, with AddinShmemInitLock held.
 */
void
bp_mem_count_startup(const char *name, Size bytes)
{
	BpMemKey	k = bp_mem_register_locked(name);
	BpMemStat  *f;

	if (k == 0)
		return;
	f = &BpMem->fold[k];
	bp_mem_apply(f, bytes, true);
	BpMem->g_high_count[k] = Max(BpMem->g_high_count[k], f->count_alloc - f->count_free);
	BpMem->g_high_bytes[k] = Max(BpMem->g_high_bytes[k], f->bytes_alloc - f->bytes_free);
}

/*
 * Key of instrument `name`, registering it if new.  The same name gives
 * the same key in every process.  ERROR if the table is full.
 */
BpMemKey
bp_mem_register(const char *name)
{
	BpMemKey	k;

	if (BpMem == NULL)
		elog(ERROR, "bufpool_ext is not loaded through shared_preload_libraries");
	if (strlen(name) >= BP_MEM_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("memory instrument name \"%s\" is too long", name),
				 errdetail("The limit is %d bytes.", BP_MEM_NAME_LEN - 1)));
	LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
	k = bp_mem_register_locked(name);
	LWLockRelease(&BpMem->lock);
	if (k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many memory instruments to register \"%s\"", name),
				 errdetail("bufpool_ext keeps at most %d.", BP_MEM_MAX_INSTRUMENTS - 1)));
	return k;
}

/* The value of row s as seen after the reset of epoch `epoch`. */
static void
bp_mem_rebase(BpMemStat *s)
{
	int64		cur_count = s->count_alloc - s->count_free;
	int64		cur_bytes = s->bytes_alloc - s->bytes_free;

	s->base_count = s->count_free;
	s->base_bytes = s->bytes_free;
	s->low_count = s->high_count = cur_count;
	s->low_bytes = s->high_bytes = cur_bytes;
}

/* Fold this process's row into the fold row (at exit). */
static void
bp_mem_exit(int code, Datum arg)
{
	BpMemProcHeader *hdr;
	int			k;

	if (BpMemMine == NULL || BpMem == NULL || MyProc == NULL)
		return;
	hdr = bp_mem_proc_header(MyProc->pgprocno);
	LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
	/* a reset since this process last counted: rebase before folding */
	if (hdr->epoch != BpMem->reset_epoch)
		for (k = 1; k < BP_MEM_MAX_INSTRUMENTS; k++)
			bp_mem_rebase(&BpMemMine[k]);
	for (k = 1; k < BpMem->n_instruments; k++)
	{
		BpMemStat  *s = &BpMemMine[k];
		BpMemStat  *f = &BpMem->fold[k];

		if (s->count_alloc == 0 && s->count_free == 0)
			continue;
		f->count_alloc += s->count_alloc - s->base_count;
		f->count_free += s->count_free - s->base_count;
		f->bytes_alloc += s->bytes_alloc - s->base_bytes;
		f->bytes_free += s->bytes_free - s->base_bytes;
		bp_mem_update_watermarks(f);
	}
	memset(BpMemMine, 0, sizeof(BpMemStat) * BP_MEM_MAX_INSTRUMENTS);
	hdr->pid = 0;
	LWLockRelease(&BpMem->lock);
	BpMemMine = NULL;
	bp_mem_exited = true;
}

/*
 * bp_mem_alloc / bp_mem_free when the inline path cannot count: no row
 * yet (attach), a reset to apply, or the row already folded at exit (a
 * later exit callback freeing memory counts into the fold row itself).
 */
void
bp_mem_count_slow(BpMemKey key, Size bytes, bool alloc)
{
	if (key <= 0 || BpMem == NULL)
		return;
	if (bp_mem_exited)
	{
		LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
		bp_mem_apply(&BpMem->fold[key], bytes, alloc);
		LWLockRelease(&BpMem->lock);
		return;
	}
	bp_mem_catch_up();
	if (BpMemMine == NULL)
		return;					/* no PGPROC: the postmaster */
	bp_mem_apply(&BpMemMine[key], bytes, alloc);
}

/* This process's backend type, as pg_stat_activity shows it. */
void
bp_my_backend_type(char *buf, Size len)
{
	if (MyBackendType == B_BG_WORKER && MyBgworkerEntry != NULL)
		strlcpy(buf, MyBgworkerEntry->bgw_type, len);
	else
		strlcpy(buf, GetBackendTypeDesc(MyBackendType), len);
}

/*
 * Whether process pid may still be alive: the postmaster, or a pid the
 * kernel still knows (a pid it gave again to another process reads as
 * alive: a leak report never rests on a guess).
 */
bool
bp_pid_alive(int pid)
{
	if (pid <= 0)
		return false;
	if (pid == PostmasterPid || pid == MyProcPid)
		return true;
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/*
 * Take this process's row (at its first counted operation).  Processes
 * without a PGPROC (the postmaster) count nothing after startup.
 */
void
bp_mem_attach(void)
{
	BpMemProcHeader *hdr;

	if (BpMem == NULL || MyProc == NULL || MyProc->pgprocno >= BpMem->n_procs)
		return;
	hdr = bp_mem_proc_header(MyProc->pgprocno);
	BpMemMine = bp_mem_proc_stats(MyProc->pgprocno);
	/* a previous owner folded and zeroed the row at its exit */
	BpMemMyEpoch = BpMem->reset_epoch;
	hdr->epoch = BpMemMyEpoch;
	bp_my_backend_type(hdr->backend_type, sizeof(hdr->backend_type));
	pg_write_barrier();
	hdr->pid = MyProcPid;
	before_shmem_exit(bp_mem_exit, 0);
}

/* Attach, or apply a reset made since this process last counted. */
void
bp_mem_catch_up(void)
{
	int			k;

	if (BpMemMine == NULL)
	{
		bp_mem_attach();
		return;
	}
	if (BpMemMyEpoch == BpMem->reset_epoch)
		return;
	BpMemMyEpoch = BpMem->reset_epoch;
	for (k = 1; k < BP_MEM_MAX_INSTRUMENTS; k++)
		bp_mem_rebase(&BpMemMine[k]);
	pg_write_barrier();
	bp_mem_proc_header(MyProc->pgprocno)->epoch = BpMemMyEpoch;
}

/* ---------------------------------------------------------------------
 * Reading, for the views (sql_memory.c)
 * ---------------------------------------------------------------------
 */

int
bp_mem_n_instruments(void)
{
	return BpMem->n_instruments;
}

const char *
bp_mem_name(BpMemKey key)
{
	return BpMem->names[key];
}

int
bp_mem_n_procs(void)
{
	return BpMem->n_procs;
}

/*
 * Copy the row of process procno (-1: the fold row) for instrument key,
 * as it stands after the latest reset.  Returns the owner's pid (0 for
 * the fold row, -1 if procno's row is free) and its backend type.
 */
int
bp_mem_read_row(int procno, BpMemKey key, BpMemStat *out, const char **backend_type)
{
	BpMemProcHeader *hdr;
	int			pid;

	if (procno < 0)
	{
		*out = BpMem->fold[key];
		*backend_type = "postmaster and exited processes";
		return 0;
	}
	hdr = bp_mem_proc_header(procno);
	pid = hdr->pid;
	if (pid == 0)
		return -1;
	pg_read_barrier();
	*out = bp_mem_proc_stats(procno)[key];
	pg_read_barrier();
	if (hdr->epoch != BpMem->reset_epoch)
		bp_mem_rebase(out);
	*backend_type = hdr->backend_type;
	return pid;
}

/*
 * The global row of instrument key: the sum of every row; updates and
 * returns the sampled global watermarks.
 */
void
bp_mem_read_global(BpMemKey key, BpMemStat *out)
{
	int			p;
	int64		cur_count;
	int64		cur_bytes;

	memset(out, 0, sizeof(BpMemStat));
	LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
	for (p = -1; p < BpMem->n_procs; p++)
	{
		BpMemStat	s;
		const char *bt;

		if (bp_mem_read_row(p, key, &s, &bt) < 0)
			continue;
		out->count_alloc += s.count_alloc - s.base_count;
		out->count_free += s.count_free - s.base_count;
		out->bytes_alloc += s.bytes_alloc - s.base_bytes;
		out->bytes_free += s.bytes_free - s.base_bytes;
	}
	cur_count = out->count_alloc - out->count_free;
	cur_bytes = out->bytes_alloc - out->bytes_free;
	if (cur_count < BpMem->g_low_count[key])
		BpMem->g_low_count[key] = cur_count;
	if (cur_count > BpMem->g_high_count[key])
		BpMem->g_high_count[key] = cur_count;
	if (cur_bytes < BpMem->g_low_bytes[key])
		BpMem->g_low_bytes[key] = cur_bytes;
	if (cur_bytes > BpMem->g_high_bytes[key])
		BpMem->g_high_bytes[key] = cur_bytes;
	out->low_count = BpMem->g_low_count[key];
	out->high_count = BpMem->g_high_count[key];
	out->low_bytes = BpMem->g_low_bytes[key];
	out->high_bytes = BpMem->g_high_bytes[key];
	LWLockRelease(&BpMem->lock);
}

/*
 * bufpool.memory_summary_reset(): every row of every instrument at once.
 * Rows of live processes are rebased lazily (epoch); the fold row and the
 * global watermarks here.
 */
void
bp_mem_reset_all(void)
{
	int			k;

	LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
	BpMem->reset_epoch++;
	if (BpMem->reset_epoch == 0)
		BpMem->reset_epoch = 1;
	for (k = 1; k < BpMem->n_instruments; k++)
		bp_mem_rebase(&BpMem->fold[k]);
	LWLockRelease(&BpMem->lock);
	/* the global watermarks start again from the current sums */
	for (k = 1; k < BpMem->n_instruments; k++)
	{
		BpMemStat	g;

		LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
		BpMem->g_low_count[k] = PG_INT64_MAX;
		BpMem->g_high_count[k] = PG_INT64_MIN;
		BpMem->g_low_bytes[k] = PG_INT64_MAX;
		BpMem->g_high_bytes[k] = PG_INT64_MIN;
		LWLockRelease(&BpMem->lock);
		bp_mem_read_global(k, &g);
	}
	/* and so does this process's row, at once */
	bp_mem_catch_up();
}

/* ---------------------------------------------------------------------
 * Live allocators (bufpool.heaps)
 * ---------------------------------------------------------------------
 */

const char *
bp_alloc_kind_name(BpAllocKind kind)
{
	switch (kind)
	{
		case BP_ALLOC_ARENA:
			return "arena";
		case BP_ALLOC_HEAP_DYNAMIC:
			return "heap dynamic";
		case BP_ALLOC_HEAP_BUFFER:
			return "heap buffer";
		case BP_ALLOC_BUDDY:
			return "buddy";
	}
	return "unknown";
}

void
bp_alloc_register_local(BpAllocInfo *info, const char *name, BpAllocKind kind, bool shared)
{
	memset(info, 0, sizeof(BpAllocInfo));
	strlcpy(info->name, name, BP_MEM_NAME_LEN);
	info->kind = (uint8) kind;
	info->shared = shared;
	info->owner_pid = MyProcPid;
	info->in_use = true;
	info->next_local = local_allocators;
	local_allocators = info;
}

void
bp_alloc_unregister_local(BpAllocInfo *info)
{
	BpAllocInfo **link;

	for (link = &local_allocators; *link != NULL; link = &(*link)->next_local)
		if (*link == info)
		{
			*link = info->next_local;
			break;
		}
	info->in_use = false;
	info->next_local = NULL;
}

BpAllocInfo *
bp_alloc_shared_create(const char *name, BpAllocKind kind)
{
	int			i;
	BpAllocInfo *slot = NULL;

	if (BpMem == NULL)
		elog(ERROR, "bufpool_ext is not loaded through shared_preload_libraries");
	LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
	for (i = 0; i < BpMem->n_shared_alloc; i++)
		if (!bp_mem_shared_alloc(i)->in_use)
		{
			slot = bp_mem_shared_alloc(i);
			memset(slot, 0, sizeof(BpAllocInfo));
			strlcpy(slot->name, name, BP_MEM_NAME_LEN);
			slot->kind = (uint8) kind;
			slot->shared = true;
			slot->owner_pid = MyProcPid;
			bp_my_backend_type(bp_mem_shared_owner_type(i), BGW_MAXLEN);
			slot->in_use = true;
			break;
		}
	LWLockRelease(&BpMem->lock);
	if (slot == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many shared allocators to create \"%s\"", name),
				 errdetail("bufpool_ext keeps at most %d.", BpMem->n_shared_alloc)));
	return slot;
}

void
bp_alloc_shared_drop(BpAllocInfo *info)
{
	LWLockAcquire(&BpMem->lock, LW_EXCLUSIVE);
	info->in_use = false;
	LWLockRelease(&BpMem->lock);
}

/* A shared allocator's slot, by index (what shared memory stores). */
BpAllocInfo *
bp_alloc_shared_slot(int index)
{
	Assert(index >= 0 && index < BpMem->n_shared_alloc);
	return bp_mem_shared_alloc(index);
}

int
bp_alloc_shared_index(const BpAllocInfo *slot)
{
	return (int) (slot - bp_mem_shared_alloc(0));
}

/*
 * Copy shared allocator slot i into *out and its creator's backend type
 * into owner_type (BGW_MAXLEN bytes); false if the slot is free.
 */
bool
bp_alloc_shared_copy(int i, BpAllocInfo *out, char *owner_type)
{
	bool		in_use;

	LWLockAcquire(&BpMem->lock, LW_SHARED);
	*out = *bp_mem_shared_alloc(i);
	strlcpy(owner_type, bp_mem_shared_owner_type(i), BGW_MAXLEN);
	in_use = out->in_use;
	LWLockRelease(&BpMem->lock);
	return in_use;
}

/* how many shared allocators there can be */
int
bp_alloc_shared_max(void)
{
	return BpMem->n_shared_alloc;
}

/*
 * Copy the allocators visible to this process into out (at most max):
 * the shared ones, then this process's local ones.  Returns the count.
 */
int
bp_alloc_snapshot(BpAllocInfo *out, int max)
{
	int			n = 0;
	int			i;
	BpAllocInfo *a;

	LWLockAcquire(&BpMem->lock, LW_SHARED);
	for (i = 0; i < BpMem->n_shared_alloc && n < max; i++)
		if (bp_mem_shared_alloc(i)->in_use)
			out[n++] = *bp_mem_shared_alloc(i);
	LWLockRelease(&BpMem->lock);
	for (a = local_allocators; a != NULL && n < max; a = a->next_local)
	{
		if (a->refresh != NULL)
			a->refresh(a);
		out[n++] = *a;
	}
	return n;
}
