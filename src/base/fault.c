/*-------------------------------------------------------------------------
 *
 * fault.c
 *	  Fault points: where a test can make a write fail, a worker skip its
 *	  work, a process wait, or a page be torn.
 *
 * The tests of a storage engine must see it fail: a data file that
 * returns EIO, a log that runs out of space, a crash halfway through a
 * page write, a session parked in the middle of a read while another one
 * evicts.  None of that may be in reach of a user of the production
 * library, and the library under test must be the one that ships.  So,
 * as PostgreSQL 17's injection points, the library keeps named points on
 * its cold paths (I/O, worker passes), each a macro that tests one word
 * of shared memory; the behaviour at a point is code of another library,
 * attached by name with bp_fault_attach() -- a C function; nothing in
 * bufpool_ext's SQL or settings can attach anything.  The test module
 * bufpool_test attaches its callbacks from its SQL functions.
 *
 * An attachment is {point, library, function, argument, pid}; pid 0
 * means every process of the cluster (the pool manager and the page
 * cleaners too), another pid only that process.  The attachments live in
 * a small table in main shared memory under a spinlock; BpFaultArmed
 * counts them.  When a process reaches a point while anything is
 * attached, it looks the point up, counts the hit on the attachment,
 * loads the callback (load_external_function, which keeps the library
 * loaded) and calls it.  The callback returns whether the fault fires;
 * the point's code says what firing means.  A crash-restart empties the
 * table with the rest of shared memory.
 *
 * Locking: the table's mutex is a spinlock, held only to copy an entry
 * or change one.  The callback runs with no lock of this file held; the
 * caller of a point documents what it holds.
 *
 * IDENTIFICATION
 *	  src/base/fault.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/memstat.h"

/* every point of the library; bp_fault_attach accepts only these */
const BpFaultPointInfo bp_fault_points[] = {
	{"page-read", "before a page is read from its data file (ctx: BpFaultPage); may wait or fail"},
	{"page-write", "a write batch has copied its pages (IO_WRITE set) and not yet written them; may wait"},
	{"page-write-in-place", "before each page of a batch is written in place (ctx: BpFaultPage with the prepared copy); may tear it"},
	{"data-write", "a data page write: firing makes it fail with the callback's errno"},
	{"redo-write", "a redo log write: firing makes it fail with the callback's errno"},
	{"page-cleaner-pass", "a page cleaner's periodic pass: firing skips it (shutdown flushing still runs)"},
	{"dump-write", "a warm-restart dump has written and fsynced its temporary file, not yet renamed it; may wait"},
	{"load-run", "before a run of pages of a warm-restart load is read; may wait; firing makes the read fail"},
	{"mtr-commit", "a mini-transaction's commit, its pages locked, before its changes are logged; may wait (no LWLock held)"},
	{"redo-group", "a group of redo records (a mini-transaction's commit) goes into the log (ctx: BpFaultGroup); firing writes only its first keep records, makes them durable and crashes (PANIC)"},
	{"memory-signals", "the memory governor read the kernel's memory signals (ctx: BpMemSignals); firing marks them injected"},
};
const int	bp_fault_n_points = lengthof(bp_fault_points);

typedef struct BpFaultSlot
{
	bool		used;
	BpFaultEntry e;
} BpFaultSlot;

typedef struct BpFaultShared
{
	pg_atomic_uint32 armed;		/* used slots; read without the mutex */
	slock_t		mutex;			/* protects slots[] */
	BpFaultSlot slots[BP_FAULT_MAX];
} BpFaultShared;

static BpFaultShared *BpFault = NULL;
pg_atomic_uint32 *BpFaultArmed = NULL;

Size
bp_fault_shmem_size(void)
{
	return MAXALIGN(sizeof(BpFaultShared));
}

/* Called from the entry's startup hook with AddinShmemInitLock held. */
void
bp_fault_shmem_init(void)
{
	bool		found;

	BpFault = ShmemInitStruct("bufpool_ext fault points", bp_fault_shmem_size(), &found);
	if (!found)
	{
		memset(BpFault, 0, sizeof(BpFaultShared));
		pg_atomic_init_u32(&BpFault->armed, 0);
		SpinLockInit(&BpFault->mutex);
		bp_mem_count_startup("memory/bufpool/shmem", bp_fault_shmem_size());
	}
	BpFaultArmed = &BpFault->armed;
}

static void
bp_fault_check_ready(void)
{
	if (BpFault == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bufpool_ext must be loaded via shared_preload_libraries"),
				 errhint("Add bufpool_ext to shared_preload_libraries and restart the server.")));
}

/*
 * Attach library's function to point name for process pid (0: every
 * process), replacing an attachment of the same point and pid.  The
 * function is not loaded here; a process loads it when it first hits
 * the point.  ERROR for an unknown point, a name too long, or a full
 * table.
 */
void
bp_fault_attach(const char *name, const char *library, const char *function,
				const char *arg, int pid)
{
	int			i;
	int			slot = -1;
	bool		known = false;

	bp_fault_check_ready();
	for (i = 0; i < bp_fault_n_points; i++)
		if (strcmp(bp_fault_points[i].name, name) == 0)
			known = true;
	if (!known)
	{
		StringInfoData names;

		initStringInfo(&names);
		for (i = 0; i < bp_fault_n_points; i++)
			appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", bp_fault_points[i].name);
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool_ext has no fault point \"%s\"", name),
				 errdetail("The points are: %s.", names.data)));
	}
	if (strlen(library) >= BP_FAULT_LIB_LEN || strlen(function) >= BP_FAULT_FUNC_LEN ||
		strlen(arg) >= BP_FAULT_ARG_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("attachment to fault point \"%s\" is too long", name),
				 errdetail("Library names may have %d bytes, function names %d, arguments %d.",
						   BP_FAULT_LIB_LEN - 1, BP_FAULT_FUNC_LEN - 1, BP_FAULT_ARG_LEN - 1)));

	SpinLockAcquire(&BpFault->mutex);
	for (i = 0; i < BP_FAULT_MAX; i++)
	{
		BpFaultSlot *s = &BpFault->slots[i];

		if (s->used && s->e.pid == pid && strcmp(s->e.name, name) == 0)
		{
			slot = i;
			break;
		}
		if (!s->used && slot < 0)
			slot = i;
	}
	if (slot >= 0)
	{
		BpFaultSlot *s = &BpFault->slots[slot];

		if (!s->used)
			pg_atomic_fetch_add_u32(&BpFault->armed, 1);
		s->used = true;
		strlcpy(s->e.name, name, BP_FAULT_NAME_LEN);
		strlcpy(s->e.library, library, BP_FAULT_LIB_LEN);
		strlcpy(s->e.function, function, BP_FAULT_FUNC_LEN);
		strlcpy(s->e.arg, arg, BP_FAULT_ARG_LEN);
		s->e.pid = pid;
		s->e.hits = 0;
	}
	SpinLockRelease(&BpFault->mutex);
	if (slot < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("no room for another fault point attachment"),
				 errdetail("At most %d attachments exist at once.", BP_FAULT_MAX)));
}

/*
 * Detach the attachments of point name (NULL: every point) for process
 * pid (-1: any).  Returns how many went.
 */
int
bp_fault_detach(const char *name, int pid)
{
	int			n = 0;
	int			i;

	bp_fault_check_ready();
	SpinLockAcquire(&BpFault->mutex);
	for (i = 0; i < BP_FAULT_MAX; i++)
	{
		BpFaultSlot *s = &BpFault->slots[i];

		if (s->used && (pid < 0 || s->e.pid == pid) &&
			(name == NULL || strcmp(s->e.name, name) == 0))
		{
			s->used = false;
			pg_atomic_fetch_sub_u32(&BpFault->armed, 1);
			n++;
		}
	}
	SpinLockRelease(&BpFault->mutex);
	return n;
}

/* Copy the attachments to out[] (room for BP_FAULT_MAX); returns how many. */
int
bp_fault_list(BpFaultEntry *out)
{
	int			n = 0;
	int			i;

	bp_fault_check_ready();
	SpinLockAcquire(&BpFault->mutex);
	for (i = 0; i < BP_FAULT_MAX; i++)
		if (BpFault->slots[i].used)
			out[n++] = BpFault->slots[i].e;
	SpinLockRelease(&BpFault->mutex);
	return n;
}

/*
 * The slot of the attachment of name that applies to this process: one
 * for this very pid first, else one for every process; -1 if none.  The
 * caller holds the mutex.
 */
static int
bp_fault_slot_for(const char *name)
{
	int			found = -1;
	int			i;

	for (i = 0; i < BP_FAULT_MAX; i++)
	{
		BpFaultSlot *s = &BpFault->slots[i];

		if (!s->used || strcmp(s->e.name, name) != 0)
			continue;
		if (s->e.pid == MyProcPid)
			return i;
		if (s->e.pid == 0 && found < 0)
			found = i;
	}
	return found;
}

/*
 * Whether point name has an attachment that applies to this process (for
 * a point that must prepare before it runs the callback).
 */
bool
bp_fault_attached(const char *name)
{
	int			slot;

	SpinLockAcquire(&BpFault->mutex);
	slot = bp_fault_slot_for(name);
	SpinLockRelease(&BpFault->mutex);
	return slot >= 0;
}

/*
 * The slow path of BP_FAULT: find the attachment of name for this
 * process (one for this very pid first, else one for every process),
 * count the hit and call its callback.  False if none is attached.
 */
bool
bp_fault_run(const char *name, void *ctx)
{
	BpFaultEntry e;
	BpFaultHit	hit;
	BpFaultCallback cb;
	int			found;

	SpinLockAcquire(&BpFault->mutex);
	found = bp_fault_slot_for(name);
	if (found >= 0)
	{
		BpFault->slots[found].e.hits++;
		e = BpFault->slots[found].e;
	}
	SpinLockRelease(&BpFault->mutex);
	if (found < 0)
		return false;

	cb = (BpFaultCallback) load_external_function(e.library, e.function, true, NULL);
	hit.name = name;
	hit.arg = e.arg;
	hit.hits = e.hits;
	hit.ctx = ctx;
	return cb(&hit);
}
