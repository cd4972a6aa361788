/*-------------------------------------------------------------------------
 *
 * leaks.c
 *	  Suspected memory leaks, found by the pool manager over the accounting
 *	  that already exists, for bufpool.memory_leaks.  Report only: nothing
 *	  here frees memory, and nothing is reported on a guess that a live
 *	  process could still explain.
 *
 * Every bufpool_ext.leak_check_interval (10 s; 0: off) the manager looks
 * at four things:
 *
 *	- Shared allocators (arena, heap, buddy; memstat.c's shared slots)
 *	  whose creating process has exited while the allocator still holds
 *	  memory, and whose use has not moved since that was first seen: no
 *	  other process frees or allocates from it.  A pid the kernel still
 *	  knows (it may have been given again) counts as alive.
 *	- Size-class objects a process ended by an error (terminated)
 *	  allocated and did not free (sizeclass.c's exit records), while the
 *	  set still has that many in use: reported at once as allocator
 *	  "size_class" or "size_class_set/<name>" with the exited pid.
 *	- Instruments (bufpool.memory_summary_global_by_event_name) whose
 *	  current bytes grew at each of leak_samples (6) checks in a row with
 *	  no free counted in between.  A check without growth starts the
 *	  count again, so a pool that grows one step at a time (the governor's
 *	  slow regrow) is not a leak.
 *	- Processes (bufpool.backend_memory) whose kept memory grew in
 *	  leak_samples of their publications with no fall in between, after
 *	  their first leak_samples publications (the warm-up, while the
 *	  catalog caches fill; a check sees the latest publication only): the
 *	  memory a process keeps between statements, its context total less
 *	  MessageContext, TopTransactionContext and TopPortalContext, so a
 *	  big statement is not a leak but what it leaves behind is.  A
 *	  publication without change neither counts nor starts again: memory
 *	  contexts grow by whole blocks.  The context named is the child of
 *	  TopMemoryContext that grew most since the growth began.
 *
 * A growth below BP_LEAK_MIN_BYTES is never reported.  The findings go to
 * BpShmem->leak_rows (size-class objects, a change counter, no lock;
 * bp_leak_publish), rewritten at every check; a report stays
 * while its condition holds (the instrument frees, the process's memory
 * falls, or the process exits: it goes).  The manager's own state
 * between checks is local to it.
 *
 * IDENTIFICATION
 *	  src/workers/leaks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/mmgr/backend_mem.h"
#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/mmgr/sizeclass.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/workers/workers.h"

#define BP_LEAK_MIN_BYTES	(256 * 1024)

/* an instrument between checks */
typedef struct BpLeakInstrument
{
	bool		seen;
	int64		bytes;			/* current at the last check */
	int64		allocs;
	int64		frees;
	int			streak;			/* checks in a row that grew, no free */
	int64		base_bytes;		/* at the start of the streak */
	int64		base_allocs;
	TimestampTz first_seen;
	TimestampTz last_growth;
} BpLeakInstrument;

/* a shared allocator whose owner is gone */
typedef struct BpLeakAllocator
{
	int32		pid;			/* the owner seen gone, 0: none */
	int64		used;			/* its use then */
	int64		reserved;
	bool		moved;			/* used since: another process has it */
	int			checks;			/* checks that found it gone and unmoved */
	TimestampTz first_seen;
} BpLeakAllocator;

typedef struct BpLeakLineMark
{
	char		name[BP_CTX_NAME_LEN];
	int64		bytes;
} BpLeakLineMark;

/* a process's published memory between checks */
typedef struct BpLeakProcess
{
	int32		pid;			/* 0: nothing tracked */
	TimestampTz published_at;
	int64		kept;
	int			publications;	/* seen; the first leak_samples are warm-up */
	int			growths;		/* publications that grew since base */
	int64		base_kept;
	TimestampTz first_seen;
	TimestampTz last_growth;
	int			n_marks;		/* context lines when the growth began, */
	BpLeakLineMark *marks;		/* -1: they could not be read */
} BpLeakProcess;

static BpLeakInstrument instruments[BP_MEM_MAX_INSTRUMENTS];
static BpLeakAllocator *allocators = NULL;
static BpLeakProcess *processes = NULL;
static BpBackendMemLine *lines_buf = NULL;
static TimestampTz last_check = 0;

/* Add a row to the new table; false when it is full. */
static bool
bp_leak_add(BpLeakRow *rows, int *n, int kind, const char *name, int32 pid,
			const char *backend_type, int64 bytes, int64 count,
			TimestampTz first_seen, TimestampTz last_growth, const char *reason)
{
	BpLeakRow  *r;

	if (*n >= BP_LEAK_MAX)
		return false;
	r = &rows[(*n)++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	strlcpy(r->name, name, sizeof(r->name));
	r->pid = pid;
	strlcpy(r->backend_type, backend_type, sizeof(r->backend_type));
	r->bytes = bytes;
	r->count = count;
	r->first_seen = first_seen;
	r->last_growth = last_growth;
	strlcpy(r->reason, reason, sizeof(r->reason));
	return true;
}

static void
bp_leak_check_allocators(BpLeakRow *rows, int *n, TimestampTz now)
{
	int			max = bp_alloc_shared_max();
	int			i;

	if (allocators == NULL)
		allocators = MemoryContextAllocZero(TopMemoryContext, sizeof(BpLeakAllocator) * max);
	for (i = 0; i < max; i++)
	{
		BpLeakAllocator *a = &allocators[i];
		BpAllocInfo info;
		char		owner_type[BGW_MAXLEN];
		char		reason[160];

		if (!bp_alloc_shared_copy(i, &info, owner_type) || (info.used == 0 && info.reserved == 0) ||
			bp_pid_alive(info.owner_pid))
		{
			a->pid = 0;
			continue;
		}
		if (a->pid != info.owner_pid)
		{
			a->pid = info.owner_pid;
			a->used = info.used;
			a->reserved = info.reserved;
			a->moved = false;
			a->checks = 1;
			a->first_seen = now;
		}
		else if (info.used != a->used || info.reserved != a->reserved)
			a->moved = true;
		else
			a->checks++;
		/* reported from the second check that finds it unmoved */
		if (a->moved || a->checks < 2)
			continue;
		snprintf(reason, sizeof(reason),
				 "owner exited; %s %lld bytes in use of %lld held, nothing freed since",
				 bp_alloc_kind_name(info.kind), (long long) info.used,
				 (long long) info.reserved);
		bp_leak_add(rows, n, BP_LEAK_ALLOCATOR, info.name, info.owner_pid, owner_type,
					info.reserved, info.blocks, a->first_seen, 0, reason);
	}
}

/*
 * Size-class objects left by exited processes (sizeclass.c's exit
 * records): reported at once, since their process can no longer free
 * them, while the set still holds that many objects in use.
 */
static void
bp_leak_check_size_classes(BpLeakRow *rows, int *n)
{
	BpScOrphan	o[BP_SC_ORPHANS];
	int			k = bp_sc_orphans(o, BP_SC_ORPHANS);
	int			i;

	for (i = 0; i < k; i++)
	{
		char		name[64];
		char		reason[160];

		if (o[i].set == BP_SC_SHARED)
			strlcpy(name, "size_class", sizeof(name));
		else
			snprintf(name, sizeof(name), "size_class_set/%s", o[i].set_name);
		snprintf(reason, sizeof(reason),
				 "process exited holding %lld size-class objects it allocated and did not free (%lld bytes requested)",
				 (long long) o[i].objects, (long long) o[i].bytes);
		bp_leak_add(rows, n, BP_LEAK_ALLOCATOR, name, o[i].pid, o[i].backend_type,
					o[i].bytes, o[i].objects, o[i].exited_at, 0, reason);
	}
}

static void
bp_leak_check_instruments(BpLeakRow *rows, int *n, TimestampTz now)
{
	int			n_instr = bp_mem_n_instruments();
	BpMemKey	key;
	static int64 resizes_seen = -1;
	bool		resized;

	/* a resize since the last check grows or frees the pool's own memory */
	resized = BpShmem->resize_next_id != resizes_seen;
	resizes_seen = BpShmem->resize_next_id;

	for (key = 1; key < n_instr; key++)
	{
		BpLeakInstrument *m = &instruments[key];
		BpMemStat	s;
		int64		bytes;
		char		reason[160];

		bp_mem_read_global(key, &s);
		bytes = s.bytes_alloc - s.bytes_free;
		if (m->seen && !resized && s.count_free == m->frees && bytes > m->bytes)
		{
			if (m->streak++ == 0)
			{
				m->base_bytes = m->bytes;
				m->base_allocs = m->allocs;
				m->first_seen = now;
			}
			m->last_growth = now;
		}
		else
			m->streak = 0;
		m->seen = true;
		m->bytes = bytes;
		m->allocs = s.count_alloc;
		m->frees = s.count_free;
		if (m->streak < bp_leak_samples || bytes - m->base_bytes < BP_LEAK_MIN_BYTES)
			continue;
		snprintf(reason, sizeof(reason),
				 "grew by %lld bytes in %d checks in a row with no free",
				 (long long) (bytes - m->base_bytes), m->streak);
		bp_leak_add(rows, n, BP_LEAK_INSTRUMENT, bp_mem_name(key), 0, "",
					bytes - m->base_bytes, s.count_alloc - m->base_allocs,
					m->first_seen, m->last_growth, reason);
	}
}

/* Remember a process's context lines, where a growth begins. */
static void
bp_leak_mark_lines(BpLeakProcess *p, int slot)
{
	BpBackendMemRow row;
	bool		truncated;
	int			n = bp_backend_mem_read_lines(slot, &row, lines_buf, &truncated);
	int			i;

	p->n_marks = -1;
	if (n < 0 || row.pid != p->pid)
		return;
	if (p->marks == NULL)
		p->marks = MemoryContextAlloc(TopMemoryContext, sizeof(BpLeakLineMark) * BP_CTX_MAX_LINES);
	p->n_marks = 0;
	for (i = 0; i < n && p->n_marks < BP_CTX_MAX_LINES; i++)
	{
		strlcpy(p->marks[p->n_marks].name, lines_buf[i].name, BP_CTX_NAME_LEN);
		p->marks[p->n_marks++].bytes = lines_buf[i].total_bytes;
	}
}

/*
 * The context line of slot that grew most since the marks, or "" if the
 * lines cannot tell (none published, or the process moved on).
 */
static void
bp_leak_grown_context(BpLeakProcess *p, int slot, char *name, Size len)
{
	BpBackendMemRow row;
	bool		truncated;
	int			n = bp_backend_mem_read_lines(slot, &row, lines_buf, &truncated);
	int64		best = 0;
	int			i;

	name[0] = '\0';
	if (p->n_marks < 0 || n < 0 || row.pid != p->pid)
		return;
	for (i = 0; i < n; i++)
	{
		int64		before = 0;
		int			j;

		for (j = 0; j < p->n_marks; j++)
			if (strcmp(p->marks[j].name, lines_buf[i].name) == 0)
			{
				before = p->marks[j].bytes;
				break;
			}
		if (lines_buf[i].total_bytes - before > best)
		{
			best = lines_buf[i].total_bytes - before;
			strlcpy(name, lines_buf[i].name, len);
		}
	}
}

static void
bp_leak_check_processes(BpLeakRow *rows, int *n, TimestampTz now)
{
	int			n_slots = bp_backend_mem_n_slots();
	int			slot;

	if (processes == NULL)
	{
		processes = MemoryContextAllocZero(TopMemoryContext, sizeof(BpLeakProcess) * n_slots);
		lines_buf = MemoryContextAlloc(TopMemoryContext, sizeof(BpBackendMemLine) * BP_CTX_MAX_LINES);
	}
	for (slot = 0; slot < n_slots; slot++)
	{
		BpLeakProcess *p = &processes[slot];
		BpBackendMemRow row;
		char		context[BP_CTX_NAME_LEN];
		char		reason[160];

		/* not the manager itself: its own marks would grow its memory */
		if (!bp_backend_mem_read(slot, &row) || row.pid == MyProcPid)
		{
			p->pid = 0;
			continue;
		}
		if (row.pid != p->pid)
		{
			/* a new process in the slot: its first publication is the base */
			p->pid = row.pid;
			p->published_at = row.published_at;
			p->kept = p->base_kept = row.kept_bytes;
			p->publications = 1;
			p->growths = 0;
			continue;
		}
		if (row.published_at != p->published_at)
		{
			p->published_at = row.published_at;
			if (p->publications < bp_leak_samples)
				p->publications++;	/* warm-up: caches fill */
			else if (row.kept_bytes < p->kept)
				p->growths = 0;
			else if (row.kept_bytes > p->kept)
			{
				if (p->growths++ == 0)
				{
					p->base_kept = p->kept;
					p->first_seen = now;
					bp_leak_mark_lines(p, slot);
				}
				p->last_growth = now;
			}
			p->kept = row.kept_bytes;
		}
		if (p->growths < bp_leak_samples || p->kept - p->base_kept < BP_LEAK_MIN_BYTES)
			continue;
		bp_leak_grown_context(p, slot, context, sizeof(context));
		snprintf(reason, sizeof(reason),
				 "memory kept between statements grew by %lld bytes in %d publications without falling",
				 (long long) (p->kept - p->base_kept), p->growths);
		bp_leak_add(rows, n, BP_LEAK_CONTEXT, context[0] ? context : "(contexts not published)",
					p->pid, row.backend_type, p->kept - p->base_kept, p->growths,
					p->first_seen, p->last_growth, reason);
	}
}

/*
 * A row in shared memory: an object of the size-class set "memory_leaks",
 * the numbers then the three strings, each with its NUL, sized to them
 * (a row with the usual names and a reason of 90 characters takes 176
 * bytes; the BpLeakRow it is built from, 360).
 */
typedef struct BpLeakObject
{
	int32		kind;
	int32		pid;
	int64		bytes;
	int64		count;
	TimestampTz first_seen;
	TimestampTz last_growth;
	uint8		name_len;		/* strlen, each < its BpLeakRow field */
	uint8		type_len;
	uint16		reason_len;
	char		text[FLEXIBLE_ARRAY_MEMBER];	/* name, backend_type, reason */
} BpLeakObject;

static int	leak_set = -1;		/* the size-class set "memory_leaks" */

static Size
bp_leak_object_size(int name_len, int type_len, int reason_len)
{
	return offsetof(BpLeakObject, text) + name_len + type_len + reason_len + 3;
}

/*
 * Replace the shared table with rows[0..n-1]: write the new rows'
 * objects, swap the addresses, free the old ones.  The manager is its
 * only writer; readers (bp_leaks_read) retry while the change counter is odd or moved, as
 * backend_mem.c's do: no lock is held over the copy.  The objects may
 * take pool frames when the buddy region is full, which is when a leak
 * has most likely filled it (the manager may wait for a frame; a
 * statement never does); a row that finds no memory at all is left out
 * and said in the server log.  The class is cold (a few rows every
 * leak_check_interval), so the cache is trimmed: the manager owns no slab.
 */
static void
bp_leak_publish(const BpLeakRow *rows, int n, TimestampTz now)
{
	BpShmAddr	fresh[BP_LEAK_MAX];
	Size		fresh_size[BP_LEAK_MAX];
	BpShmAddr	old[BP_LEAK_MAX];
	int			n_old;
	volatile int kept = 0;		/* read by the PG_CATCH block */
	int			i;

	if (leak_set < 0)
		leak_set = bp_sc_set_get("memory_leaks");
	bp_ensure_attached();		/* rows may sit in pool frames */

	/*
	 * Write the new rows first, outside the change counter's odd window
	 * (an allocation may take a frame, so evict and write a page, or fail):
	 * while it is odd, only addresses are stored, and nothing can fail.
	 */
	PG_TRY();
	{
		for (i = 0; i < Min(n, BP_LEAK_MAX); i++)
		{
			const BpLeakRow *r = &rows[i];
			int			nl = strnlen(r->name, sizeof(r->name) - 1);
			int			tl = strnlen(r->backend_type, sizeof(r->backend_type) - 1);
			int			rl = strnlen(r->reason, sizeof(r->reason) - 1);
			Size		size = bp_leak_object_size(nl, tl, rl);
			BpShmAddr	a = bp_sc_alloc(leak_set, size, 0, BP_ALLOC_NO_OOM);
			BpLeakObject *o;
			char	   *t;

			if (a == BP_SHM_NULL)
				continue;
			o = bp_shm_ptr(a);
			o->kind = r->kind;
			o->pid = r->pid;
			o->bytes = r->bytes;
			o->count = r->count;
			o->first_seen = r->first_seen;
			o->last_growth = r->last_growth;
			o->name_len = nl;
			o->type_len = tl;
			o->reason_len = rl;
			t = o->text;
			memcpy(t, r->name, nl);
			t[nl] = '\0';
			t += nl + 1;
			memcpy(t, r->backend_type, tl);
			t[tl] = '\0';
			t += tl + 1;
			memcpy(t, r->reason, rl);
			t[rl] = '\0';
			fresh[kept] = a;
			fresh_size[kept++] = size;
		}
	}
	PG_CATCH();
	{
		for (i = 0; i < kept; i++)
			bp_sc_free(leak_set, fresh[i], fresh_size[i], 0);
		PG_RE_THROW();
	}
	PG_END_TRY();

	pg_atomic_fetch_add_u32(&BpShmem->leak_changecount, 1);
	pg_write_barrier();
	n_old = Min(Max(BpShmem->n_leaks, 0), BP_LEAK_MAX);
	memcpy(old, BpShmem->leak_rows, sizeof(BpShmAddr) * n_old);
	memset(BpShmem->leak_rows, 0, sizeof(BpShmem->leak_rows));
	memcpy(BpShmem->leak_rows, fresh, sizeof(BpShmAddr) * kept);
	BpShmem->n_leaks = kept;
	BpShmem->leaks_checked_at = now;
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&BpShmem->leak_changecount, 1);

	/* the old rows go once no reader can take them for current */
	for (i = 0; i < n_old; i++)
	{
		BpLeakObject *o;

		if (old[i] == BP_SHM_NULL)
			continue;
		o = bp_shm_ptr(old[i]);
		bp_sc_free(leak_set, old[i],
				   bp_leak_object_size(o->name_len, o->type_len, o->reason_len), 0);
	}
	bp_sc_trim_cache(leak_set, 0);
	if (kept < n)
		ereport(LOG,
				(errmsg("bufpool_ext: %d of %d suspected memory leaks left out of bufpool.memory_leaks: no memory for their rows",
						n - kept, n)));
}

/*
 * Copy the last check's findings into rows (room for BP_LEAK_MAX); returns
 * how many, 0 if the manager kept rewriting them through 1000 tries.  An
 * address read while the manager rewrites may be stale: it is checked to
 * lie in buddy memory before a byte is copied, the lengths are bounded,
 * and the copy counts only if the change counter did not move.  Rows may
 * sit in pool frames: the pool is attached first.
 */
int
bp_leaks_read(BpLeakRow *rows)
{
	int			tries;

	bp_ensure_attached();

	for (tries = 0; tries < 1000; tries++)
	{
		uint32		before = pg_atomic_read_u32(&BpShmem->leak_changecount);
		bool		torn = false;
		int			n;
		int			i;

		pg_read_barrier();
		n = Min(Max(BpShmem->n_leaks, 0), BP_LEAK_MAX);
		for (i = 0; i < n && !torn; i++)
		{
			BpShmAddr	a = BpShmem->leak_rows[i];
			BpLeakObject o;
			BpLeakRow  *r = &rows[i];
			const char *t;

			if (!bp_shm_range_ok(a, offsetof(BpLeakObject, text)))
			{
				torn = true;
				break;
			}
			memcpy(&o, bp_shm_ptr(a), offsetof(BpLeakObject, text));
			if (o.name_len >= sizeof(r->name) || o.type_len >= sizeof(r->backend_type) ||
				o.reason_len >= sizeof(r->reason) ||
				!bp_shm_range_ok(a, bp_leak_object_size(o.name_len, o.type_len, o.reason_len)))
			{
				torn = true;
				break;
			}
			t = ((BpLeakObject *) bp_shm_ptr(a))->text;
			memset(r, 0, sizeof(*r));
			r->kind = o.kind;
			r->pid = o.pid;
			r->bytes = o.bytes;
			r->count = o.count;
			r->first_seen = o.first_seen;
			r->last_growth = o.last_growth;
			memcpy(r->name, t, o.name_len);
			t += o.name_len + 1;
			memcpy(r->backend_type, t, o.type_len);
			t += o.type_len + 1;
			memcpy(r->reason, t, o.reason_len);
		}
		pg_read_barrier();
		if (!torn && before % 2 == 0 && pg_atomic_read_u32(&BpShmem->leak_changecount) == before)
			return n;
		CHECK_FOR_INTERRUPTS();
	}
	return 0;
}

/* Milliseconds until the next leak check is due. */
long
bp_leaks_next_ms(void)
{
	if (bp_leak_check_interval_ms <= 0)
		return 60000;
	return Max(bp_leak_check_interval_ms -
			   TimestampDifferenceMilliseconds(last_check, GetCurrentTimestamp()), 1);
}

/*
 * Check for leaks if a check is due and publish what was found.  Called
 * by the pool manager's loop, with the pool attached.
 */
void
bp_leaks_check(void)
{
	BpLeakRow  *rows;
	int			n = 0;
	TimestampTz now;

	if (bp_leak_check_interval_ms <= 0)
	{
		if (last_check != 0)
		{
			/* turned off: old findings would only mislead */
			bp_leak_publish(NULL, 0, 0);
			last_check = 0;
		}
		return;
	}
	if (last_check != 0 && bp_leaks_next_ms() > 1)
		return;
	now = last_check = GetCurrentTimestamp();

	rows = palloc(sizeof(BpLeakRow) * BP_LEAK_MAX);
	bp_leak_check_allocators(rows, &n, now);
	bp_leak_check_size_classes(rows, &n);
	bp_leak_check_instruments(rows, &n, now);
	bp_ensure_attached();		/* context lines may sit in chunk-0 frames */
	bp_leak_check_processes(rows, &n, now);

	bp_leak_publish(rows, n, now);
	pfree(rows);
}
