/*-------------------------------------------------------------------------
 *
 * resize.c
 *	  Online resize of the buffer pool, chunk by chunk.
 *
 * Requests come from bufpool.resize() or from a reload that changed
 * bufpool_ext.size; the pool manager worker runs them one at a time.  The
 * instance count never changes; every instance grows or shrinks to the
 * same number of chunks (size rounded up to chunk_size x instances).
 *
 * Grow (phases start, resizing, hash): new chunks are created and
 * initialised with no lock held, then each instance publishes its new
 * blocks on its free list in one short lru_lock section, and the
 * generation number is bumped.  Processes map the new segments lazily
 * (bp_ensure_attached at their next operation, bp_local_chunk when a new
 * block reaches them earlier).  InnoDB allocates under its global lock;
 * here no page access waits for the allocation.
 *
 * Shrink (start, withdraw_blocks, global_lock, resizing, hash): the doomed
 * chunks are the highest ones.  withdraw_from is set under lru_lock and
 * their free blocks move to the instance's withdraw list; from then on a
 * block of a doomed chunk that becomes free goes there too, never back
 * into use.  The manager then visits every block of the doomed chunks:
 * dirty pages are written, clean ones are relocated into a free block of
 * a kept chunk (so the cache stays warm); when there is none, a young
 * page (not in the old sublist) gets one by evicting the coldest clean
 * page of a kept chunk near the LRU tail (as InnoDB's withdraw flushes the
 * LRU tail for free blocks), and an old page is evicted itself.
 * Pinned blocks are retried until bufpool_ext.resize_timeout; then the
 * shrink fails, the withdrawn blocks go back to the free lists and the
 * pool stays at its old size.  When every block is withdrawn, the chunk
 * count drops (a few instructions under lru_lock), the memory is returned
 * at once with MADV_REMOVE (also for idle sessions that still map it) and
 * the segments are unpinned.
 *
 * Hash: when the per-instance block count moved more than 2x away from
 * what the page hash was sized for, a new table is built and swapped in
 * while holding the instance's partition locks; a page's partition does
 * not depend on the table size, so no page is lost or moved between
 * partitions.
 *
 * The status of the running resize and the last BP_RESIZE_HISTORY ones
 * are kept under resize_lock, which is taken before any other lock and
 * never held while waiting for pool locks.  "max_hold" is the longest
 * section in which the manager held a lock that page access needs.
 *
 * IDENTIFICATION
 *	  src/pool/resize.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <sys/statvfs.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/dsm_impl.h"
#include "storage/proc.h"

#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/shared/hash.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/pool/resize.h"
#include "bufpool_ext/pool/zip.h"
#include "bufpool_ext/storage/space.h"

/* how far from the LRU tail a shrink looks for a page to make room */
#define BP_RS_ROOM_DEPTH	256


static const char *const phase_names[] = {
	"none", "start", "withdraw_blocks", "global_lock", "resizing", "hash",
	"complete", "failed"
};

static inline bool
bp_resize_running_phase(int phase)
{
	return phase > BP_RS_NONE && phase < BP_RS_COMPLETE;
}

/* Is a resize pending or running? */
bool
bp_resize_busy(void)
{
	bool		busy;

	LWLockAcquire(&BpShmem->resize_lock.lock, LW_SHARED);
	busy = BpShmem->resize_pending || bp_resize_running_phase(BpShmem->resize_current.phase);
	LWLockRelease(&BpShmem->resize_lock.lock);
	return busy;
}

/* Current size in bytes. */
int64
bp_resize_current_size(void)
{
	return (int64) BpShmem->instances[0].n_chunks * BpShmem->chunk_size * BpShmem->n_instances;
}

/*
 * Parse '2GB', '512MB', '64kB' or a number of bytes.  Units are those of
 * PostgreSQL's memory settings (B, kB, MB, GB, TB), case-insensitive.
 */
int64
bp_resize_parse_size(const char *str)
{
	const char *p = str;
	char	   *end;
	double		num;
	int64		mult = 1;
	char		unit[8];
	int			n = 0;

	while (isspace((unsigned char) *p))
		p++;
	errno = 0;
	num = strtod(p, &end);
	if (end == p || errno != 0 || num < 0)
		goto bad;
	p = end;
	while (isspace((unsigned char) *p))
		p++;
	while (*p && !isspace((unsigned char) *p) && n < (int) sizeof(unit) - 1)
		unit[n++] = pg_ascii_tolower((unsigned char) *p++);
	unit[n] = '\0';
	while (isspace((unsigned char) *p))
		p++;
	if (*p)
		goto bad;
	if (n == 0 || strcmp(unit, "b") == 0)
		mult = 1;
	else if (strcmp(unit, "kb") == 0)
		mult = INT64CONST(1024);
	else if (strcmp(unit, "mb") == 0)
		mult = INT64CONST(1024) * 1024;
	else if (strcmp(unit, "gb") == 0)
		mult = INT64CONST(1024) * 1024 * 1024;
	else if (strcmp(unit, "tb") == 0)
		mult = INT64CONST(1024) * 1024 * 1024 * 1024;
	else
		goto bad;
	if (num * mult > (double) PG_INT64_MAX / 2)
		goto bad;
	return (int64) (num * mult);

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid buffer pool size \"%s\"", str),
			 errhint("Give a size like '512MB' or '2GB' (units B, kB, MB, GB, TB), or a number of bytes.")));
	return 0;					/* keep compiler quiet */
}

/*
 * Chunks per instance for a requested size, rounded up as InnoDB does;
 * ERROR outside the valid range.
 */
int
bp_resize_chunks_for(int64 bytes, const char *what)
{
	int64		unit = (int64) BpShmem->chunk_size * BpShmem->n_instances;
	int64		max_bytes = Min((int64) bp_max_size_mb * 1024 * 1024,
								unit * BP_MAX_CHUNKS);
	int64		chunks = (bytes + unit - 1) / unit;

	if (bytes < unit || bytes > max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("buffer pool size %s (%lld bytes) is out of range",
						what, (long long) bytes),
				 errdetail("The size must be between %lld bytes (one %zu MB chunk per instance, %d instance(s)) and %lld bytes (bufpool_ext.max_size, and at most %d chunks per instance).",
						   (long long) unit, BpShmem->chunk_size / (1024 * 1024),
						   BpShmem->n_instances, (long long) max_bytes, BP_MAX_CHUNKS)));
	return (int) chunks;
}

/* ERROR if /dev/shm cannot hold the growth (posix DSM only). */
static void
bp_resize_check_room(int64 grow_bytes)
{
	struct statvfs vfs;
	int64		avail;

	if (grow_bytes <= 0 || dynamic_shared_memory_type != DSM_IMPL_POSIX)
		return;
	if (statvfs("/dev/shm", &vfs) != 0)
		return;
	avail = (int64) vfs.f_bavail * vfs.f_frsize;
	if (avail < grow_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("not enough room in /dev/shm to grow the buffer pool by %lld bytes",
						(long long) grow_bytes),
				 errdetail("/dev/shm has %lld bytes free.", (long long) avail),
				 errhint("Enlarge /dev/shm or choose a smaller size.")));
}

/*
 * Whether a resize to to_size asked by source waits for memory: a grow
 * not asked by the governor itself, while the level is warning or worse
 * (the level is normal unless memory_governor = on).
 */
static bool
bp_rs_held(int64 to_size, const char *source)
{
	return to_size > bp_resize_current_size() && strcmp(source, "governor") != 0 &&
		pg_atomic_read_u32(&BpShmem->mem_level) >= BP_LEVEL_WARNING;
}

/* Put a finished resize at the head of the history; resize_lock held. */
static void
bp_rs_history_push(const BpResizeStatus *st)
{
	memmove(&BpShmem->resize_history[1], &BpShmem->resize_history[0],
			sizeof(BpResizeStatus) * (BP_RESIZE_HISTORY - 1));
	BpShmem->resize_history[0] = *st;
	if (BpShmem->resize_history_n < BP_RESIZE_HISTORY)
		BpShmem->resize_history_n++;
}

/*
 * The memory governor must shrink: a grow waiting for memory fails with
 * why, so the shrink can be queued.  Returns whether there was one.
 */
bool
bp_resize_cancel_held(const char *why)
{
	BpResizeStatus req;

	LWLockAcquire(&BpShmem->resize_lock.lock, LW_EXCLUSIVE);
	if (!BpShmem->resize_pending ||
		!bp_rs_held(BpShmem->resize_request.to_size, BpShmem->resize_request.source))
	{
		LWLockRelease(&BpShmem->resize_lock.lock);
		return false;
	}
	req = BpShmem->resize_request;
	req.phase = BP_RS_FAILED;
	req.finished = GetCurrentTimestamp();
	strlcpy(req.message, why, sizeof(req.message));
	bp_rs_history_push(&req);
	BpShmem->resize_pending = false;
	LWLockRelease(&BpShmem->resize_lock.lock);
	ConditionVariableBroadcast(&BpShmem->resize_cv);
	ereport(LOG,
			(errmsg("bufpool_ext resize %lld from %lld to %lld bytes failed: %s",
					(long long) req.id, (long long) req.from_size, (long long) req.to_size, why)));
	return true;
}

/*
 * Queue a resize for the pool manager.  Caller has validated the size.
 * Returns the request id.  ERROR if a resize is pending or running; but a
 * grow waiting for memory (bp_rs_held) gives way to a newer request from
 * SQL or the configuration: it fails as superseded.
 */
static int64
bp_resize_request(int64 requested, int chunks, const char *source)
{
	int64		id;
	BpResizeStatus *cur = &BpShmem->resize_current;
	uint32		procno;
	bool		superseded = false;

	/* from warning on the memory governor holds a grow until memory is back */
	if (bp_rs_held((int64) chunks * BpShmem->chunk_size * BpShmem->n_instances, source))
		ereport(NOTICE,
				(errmsg("the buffer pool grow waits: the memory level is %s",
						bp_mem_level_name(pg_atomic_read_u32(&BpShmem->mem_level))),
				 errdetail("The memory governor holds the pool at its size while memory is short; the grow starts once the level is below warning, and is cancelled if the governor has to shrink the pool."),
				 errhint("See bufpool.memory_pressure and bufpool.resize_status.")));
	LWLockAcquire(&BpShmem->resize_lock.lock, LW_EXCLUSIVE);
	id = BpShmem->resize_next_id;
	if (BpShmem->resize_pending && strcmp(source, "governor") != 0 &&
		!bp_resize_running_phase(cur->phase) &&
		bp_rs_held(BpShmem->resize_request.to_size, BpShmem->resize_request.source))
	{
		/* a grow waiting for memory gives way to a newer request */
		BpResizeStatus old = BpShmem->resize_request;

		old.phase = BP_RS_FAILED;
		old.finished = GetCurrentTimestamp();
		snprintf(old.message, sizeof(old.message), "superseded by resize %lld (%s)",
				 (long long) id, source);
		bp_rs_history_push(&old);
		BpShmem->resize_pending = false;
		superseded = true;
	}
	if (BpShmem->resize_pending || bp_resize_running_phase(cur->phase))
	{
		BpResizeStatus r = BpShmem->resize_pending ? BpShmem->resize_request : *cur;

		LWLockRelease(&BpShmem->resize_lock.lock);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("a buffer pool resize is already in progress"),
				 errdetail("Resize %lld from %lld to %lld bytes, requested by %s (pid %d), is in phase %s.",
						   (long long) r.id, (long long) r.from_size, (long long) r.to_size,
						   r.source, r.requester_pid, phase_names[r.phase]),
				 errhint("Wait for it to finish (see bufpool.resize_status), then try again.")));
	}
	BpShmem->resize_next_id++;
	memset(&BpShmem->resize_request, 0, sizeof(BpResizeStatus));
	BpShmem->resize_request.id = id;
	BpShmem->resize_request.phase = BP_RS_START;
	BpShmem->resize_request.requested_size = requested;
	BpShmem->resize_request.from_size = bp_resize_current_size();
	BpShmem->resize_request.to_size = (int64) chunks * BpShmem->chunk_size * BpShmem->n_instances;
	BpShmem->resize_request.requester_pid = MyProcPid;
	strlcpy(BpShmem->resize_request.source, source, sizeof(BpShmem->resize_request.source));
	BpShmem->resize_pending = true;
	LWLockRelease(&BpShmem->resize_lock.lock);
	if (superseded)
		ConditionVariableBroadcast(&BpShmem->resize_cv);	/* its waiters */

	procno = pg_atomic_read_u32(&BpShmem->manager_procno);
	if (procno != INVALID_PGPROCNO)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
	return id;
}

/* Find a resize by id in the current slot or the history. */
bool
bp_resize_lookup(int64 id, BpResizeStatus *out)
{
	bool		found = false;
	int			i;

	LWLockAcquire(&BpShmem->resize_lock.lock, LW_SHARED);
	if (BpShmem->resize_current.id == id)
	{
		*out = BpShmem->resize_current;
		found = true;
	}
	else if (BpShmem->resize_pending && BpShmem->resize_request.id == id)
	{
		*out = BpShmem->resize_request;
		found = true;
	}
	for (i = 0; !found && i < BpShmem->resize_history_n; i++)
		if (BpShmem->resize_history[i].id == id)
		{
			*out = BpShmem->resize_history[i];
			found = true;
		}
	LWLockRelease(&BpShmem->resize_lock.lock);
	return found;
}

/*
 * Ask for a resize to size_txt ('2GB', '512MB', bytes), as bufpool.resize
 * does: checks the size (NOTICE if it is rounded up) and the room in
 * /dev/shm, queues the request for the pool manager and returns its id.
 * ERROR on a bad size or if a resize is pending or running.
 */
int64
bp_resize_start(const char *size_txt, const char *source)
{
	int64		requested;
	int			chunks;
	int64		cur;

	bp_ensure_attached();
	requested = bp_resize_parse_size(size_txt);
	chunks = bp_resize_chunks_for(requested, size_txt);
	cur = bp_resize_current_size();
	if ((int64) chunks * BpShmem->chunk_size * BpShmem->n_instances != requested)
		ereport(NOTICE,
				(errmsg("buffer pool size %s rounded up to %lld bytes",
						size_txt, (long long) chunks * BpShmem->chunk_size * BpShmem->n_instances),
				 errdetail("The size is a multiple of bufpool_ext.chunk_size x bufpool_ext.instances (%zu bytes).",
						   BpShmem->chunk_size * BpShmem->n_instances)));
	bp_resize_check_room((int64) chunks * BpShmem->chunk_size * BpShmem->n_instances - cur);
	return bp_resize_request(requested, chunks, source);
}

/*
 * Wait until resize id has completed or failed and copy its status to
 * *st; ERROR (naming the reason) if it failed.
 */
void
bp_resize_wait(int64 id, BpResizeStatus *st)
{
	ConditionVariablePrepareToSleep(&BpShmem->resize_cv);
	for (;;)
	{
		if (!bp_resize_lookup(id, st))
			elog(ERROR, "resize %lld vanished", (long long) id);
		if (st->phase == BP_RS_COMPLETE || st->phase == BP_RS_FAILED)
			break;
		ConditionVariableTimedSleep(&BpShmem->resize_cv, 1000, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	if (st->phase == BP_RS_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("buffer pool resize %lld from %lld to %lld bytes failed",
						(long long) st->id, (long long) st->from_size, (long long) st->to_size),
				 errdetail("%s", st->message),
				 errhint("The pool stays at %lld bytes.", (long long) bp_resize_current_size())));
}

const char *
bp_resize_phase_name(int phase)
{
	Assert(phase >= 0 && phase < lengthof(phase_names));
	return phase_names[phase];
}

/*
 * Copy the pending or running resize (current[] true), then the history,
 * newest first, into rows[] (room for BP_RESIZE_HISTORY + 2); returns
 * how many.
 */
int
bp_resize_list(BpResizeStatus *rows, bool *current)
{
	int			n = 0;
	int			i;

	LWLockAcquire(&BpShmem->resize_lock.lock, LW_SHARED);
	if (BpShmem->resize_pending)
	{
		current[n] = true;
		rows[n++] = BpShmem->resize_request;
	}
	if (bp_resize_running_phase(BpShmem->resize_current.phase))
	{
		current[n] = true;
		rows[n++] = BpShmem->resize_current;
	}
	/* history is kept newest first */
	for (i = 0; i < BpShmem->resize_history_n; i++)
	{
		current[n] = false;
		rows[n++] = BpShmem->resize_history[i];
	}
	LWLockRelease(&BpShmem->resize_lock.lock);
	return n;
}

/* ----------------------------------------------------------------------
 * The pool manager's side
 * ---------------------------------------------------------------------- */

/* Set the running resize's phase and progress. */
static void
bp_rs_set_phase(int phase, int progress)
{
	LWLockAcquire(&BpShmem->resize_lock.lock, LW_EXCLUSIVE);
	BpShmem->resize_current.phase = phase;
	BpShmem->resize_current.progress = progress;
	LWLockRelease(&BpShmem->resize_lock.lock);
	ConditionVariableBroadcast(&BpShmem->resize_cv);
}

static void
bp_rs_note_hold(TimestampTz start)
{
	int64		us = (int64) (GetCurrentTimestamp() - start);

	LWLockAcquire(&BpShmem->resize_lock.lock, LW_EXCLUSIVE);
	if (us > BpShmem->resize_current.max_hold_us)
		BpShmem->resize_current.max_hold_us = us;
	LWLockRelease(&BpShmem->resize_lock.lock);
}

/*
 * The shrink's progress: withdrawn is the number of blocks of the doomed
 * chunks out of use so far (on the withdraw lists), whoever put them there
 * (the shrink, or a process that freed one); the others are added.
 */
static void
bp_rs_add_counts(int64 withdrawn, int64 relocated, int64 flushed, int64 evicted, int progress)
{
	LWLockAcquire(&BpShmem->resize_lock.lock, LW_EXCLUSIVE);
	BpShmem->resize_current.pages_withdrawn = withdrawn;
	BpShmem->resize_current.pages_relocated += relocated;
	BpShmem->resize_current.pages_flushed += flushed;
	BpShmem->resize_current.pages_evicted += evicted;
	BpShmem->resize_current.progress = progress;
	LWLockRelease(&BpShmem->resize_lock.lock);
}

/* Finish the running resize: record it in the history and wake waiters. */
static void
bp_rs_finish(int phase, const char *message)
{
	BpResizeStatus *cur = &BpShmem->resize_current;

	LWLockAcquire(&BpShmem->resize_lock.lock, LW_EXCLUSIVE);
	cur->phase = phase;
	cur->progress = phase == BP_RS_COMPLETE ? 100 : cur->progress;
	cur->finished = GetCurrentTimestamp();
	strlcpy(cur->message, message, sizeof(cur->message));
	bp_rs_history_push(cur);
	LWLockRelease(&BpShmem->resize_lock.lock);
	ConditionVariableBroadcast(&BpShmem->resize_cv);
	ereport(LOG,
			(errmsg("bufpool_ext resize %lld from %lld to %lld bytes %s: %s",
					(long long) cur->id, (long long) cur->from_size, (long long) cur->to_size,
					phase == BP_RS_COMPLETE ? "complete" : "failed", message)));
}

static void
bp_rs_bump_generation(void)
{
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&BpShmem->generation, 1);
}

static void
bp_rs_update_shape(int chunks)
{
	BpShmem->chunks_per_instance = chunks;
	BpShmem->effective_size = (Size) chunks * BpShmem->chunk_size * BpShmem->n_instances;
}

/* Rebuild the page hash of an instance for its current block count. */
static void
bp_rs_rehash(int instance)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	uint32		buckets = bp_hash_buckets_for(inst->n_blocks);
	dsm_segment *seg;
	dsm_segment *old_seg = li->hash_seg;
	dsm_handle	old_handle = inst->hash_handle;
	BpBlockNo  *nb;
	uint32		i;
	TimestampTz t0;

	if (buckets == inst->hash_buckets)
		return;
	seg = bp_hash_segment_create(instance, buckets);
	nb = BP_HASH_BUCKETS(dsm_segment_address(seg));

	t0 = GetCurrentTimestamp();
	for (i = 0; i < BP_HASH_PARTITIONS; i++)
		LWLockAcquire(&inst->hash_locks[i].lock, LW_EXCLUSIVE);
	for (i = 0; i <= li->hash_mask; i++)
	{
		BpBlockNo	b = li->hash[i];

		while (b != BP_INVALID_BLOCK)
		{
			BpBlockDesc *d = bp_desc(li, b);
			BpBlockNo	next = d->hash_next;
			uint32		bucket = (uint32) bp_page_hash(d->space_id, d->page_no) & (buckets - 1);

			d->hash_next = nb[bucket];
			nb[bucket] = b;
			b = next;
		}
	}
	bp_zip_rehash(li, BP_ZIP_BUCKETS((BpHashHeader *) dsm_segment_address(seg)),
				  buckets * BP_ZIP_HASH_FACTOR - 1);
	inst->hash_buckets = buckets;
	inst->hash_handle = dsm_segment_handle(seg);
	li->hash_seg = seg;
	li->hash = nb;
	li->zhash = BP_ZIP_BUCKETS((BpHashHeader *) dsm_segment_address(seg));
	li->zmask = buckets * BP_ZIP_HASH_FACTOR - 1;
	li->hash_mask = buckets - 1;
	li->hash_handle = inst->hash_handle;
	for (i = BP_HASH_PARTITIONS; i > 0; i--)
		LWLockRelease(&inst->hash_locks[i - 1].lock);
	bp_rs_note_hold(t0);

	/* the old table goes when the last process that maps it lets go */
	bp_hash_count_memory(((BpHashHeader *) dsm_segment_address(old_seg))->buckets, false);
	dsm_unpin_segment(old_handle);
	dsm_detach(old_seg);
}

/* Rehash instances whose block count moved more than 2x from the table's. */
static bool
bp_rs_hash_phase(void)
{
	int			i;
	bool		any = false;

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];

		/*
		 * The table has at least one bucket per block
		 * (bp_hash_buckets_for): rebuild when the blocks outnumber the
		 * buckets, or are fewer than a quarter of them.
		 */
		if ((uint64) inst->n_blocks > inst->hash_buckets ||
			(uint64) inst->n_blocks * 4 < inst->hash_buckets)
		{
			if (!any)
				bp_rs_set_phase(BP_RS_HASH, 95);
			any = true;
			bp_rs_rehash(i);
		}
	}
	if (any)
		bp_rs_bump_generation();
	return any;
}

static void
bp_rs_grow(int from, int to)
{
	int			i;
	int			c;
	int			total = (to - from) * BpShmem->n_instances;
	volatile int done = 0;

	bp_rs_set_phase(BP_RS_RESIZING, 0);
	bp_chunk_check_huge_room(total);
	PG_TRY();
	{
		for (i = 0; i < BpShmem->n_instances; i++)
			for (c = from; c < to; c++)
			{
				CHECK_FOR_INTERRUPTS();
				if (ShutdownRequestPending)
					ereport(ERROR,
							(errcode(ERRCODE_ADMIN_SHUTDOWN),
							 errmsg("the pool manager was stopped (server shutdown or pg_terminate_backend)")));
				/* created and initialised with no lock held */
				bp_chunk_create(i, c);
				(void) bp_chunk_map(i, c);
				done++;
				bp_rs_add_counts(0, 0, 0, 0, done * 90 / Max(total, 1));
			}
	}
	PG_CATCH();
	{
		/* unpublished chunks: release them, the pool keeps its size */
		for (i = 0; i < BpShmem->n_instances; i++)
		{
			BpInstance *inst = &BpShmem->instances[i];

			for (c = inst->n_chunks - 1; c >= from; c--)
			{
				inst->n_chunks = c;
				bp_chunk_release(i, c);
			}
			BpLocal[i].n_chunks = Min(BpLocal[i].n_chunks, inst->n_chunks);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* publish: a few list operations per block under each lru_lock */
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		BpLocalInstance *li = &BpLocal[i];
		TimestampTz t0 = GetCurrentTimestamp();

		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		for (c = to - 1; c >= from; c--)
		{
			int64		k;

			for (k = (int64) inst->blocks_per_chunk - 1; k >= 0; k--)
				bp_free_push(inst, li, BP_MAKE_BLOCK(c, (uint32) k));
		}
		inst->n_blocks = (uint32) to * inst->blocks_per_chunk;
		LWLockRelease(&inst->lru_lock.lock);
		bp_rs_note_hold(t0);
	}
	bp_rs_update_shape(to);
	bp_rs_bump_generation();
}

/*
 * Move a clean, VALID block b of a doomed chunk (pinned by us only) into
 * a free block of a kept chunk.  Returns false if there is no free block
 * or b is in use; b is then unchanged.
 */
static bool
bp_rs_relocate(int instance, BpBlockNo b)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	BpBlockDesc *nd;
	BpBlockNo	nb;
	uint64		h;
	LWLock	   *part;
	uint32		bucket;
	uint32		st;

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	nb = inst->free_head;
	if (nb == BP_INVALID_BLOCK)
	{
		LWLockRelease(&inst->lru_lock.lock);
		return false;
	}
	nd = bp_desc(li, nb);
	inst->free_head = nd->lru_next;
	inst->free_len--;
	nd->list = BP_LIST_NONE;
	nd->lru_next = BP_INVALID_BLOCK;
	pg_atomic_fetch_add_u32(&nd->state, BP_REFCOUNT_ONE);
	LWLockRelease(&inst->lru_lock.lock);

	h = bp_page_hash(d->space_id, d->page_no);
	part = bp_hash_lock(inst, h);
	bucket = bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
	if (bp_block_try_invalidate(instance, b, BP_BS_DIRTY | BP_BS_IO_READ | BP_BS_IO_WRITE,
								&st) != BP_INVAL_DONE)
	{
		LWLockRelease(part);
		bp_lru_return_free_block(instance, nb);
		return false;
	}

	/* nobody can reach b now: copy it and swap it in the hash */
	memcpy(bp_frame(li, nb), bp_frame(li, b), BpPageSize);
	nd->space_id = d->space_id;
	nd->page_no = d->page_no;
	nd->oldest_lsn = 0;
	nd->access_time = d->access_time;
	nd->heat = d->heat;
	nd->heat_tick = d->heat_tick;
	bp_hash_remove(li, bucket, b);
	pg_atomic_fetch_and_u32(&nd->state, ~BP_BS_FLUSH_MASK);
	pg_atomic_fetch_or_u32(&nd->state, BP_BS_VALID | (st & BP_BS_FLUSH_MASK));
	bp_zip_block_moved(li, h, b, nb);
	bp_hash_insert(li, bucket, nb);
	d->space_id = InvalidOid;
	LWLockRelease(part);

	/* nb takes b's place in the LRU list; b is withdrawn */
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (d->list == BP_LIST_LRU)
		bp_lru_replace(inst, li, b, nb);
	else
		bp_lru_add_old(inst, li, nb);
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
	bp_free_push(inst, li, b);
	LWLockRelease(&inst->lru_lock.lock);
	pg_atomic_fetch_sub_u32(&nd->state, BP_REFCOUNT_ONE);
	return true;
}

/* Blocks on the withdraw lists of all instances. */
static int64
bp_rs_withdrawn(void)
{
	int64		n = 0;
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];

		LWLockAcquire(&inst->lru_lock.lock, LW_SHARED);
		n += inst->withdraw_len;
		LWLockRelease(&inst->lru_lock.lock);
	}
	return n;
}

/* Put every withdrawn block back on the free lists (a failed shrink). */
static void
bp_rs_rollback_withdraw(void)
{
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		BpLocalInstance *li = &BpLocal[i];

		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		inst->withdraw_from = BP_MAX_CHUNKS;
		while (inst->withdraw_head != BP_INVALID_BLOCK)
		{
			BpBlockNo	b = inst->withdraw_head;
			BpBlockDesc *d = bp_desc(li, b);

			inst->withdraw_head = d->lru_next;
			inst->withdraw_len--;
			d->list = BP_LIST_NONE;
			bp_free_push(inst, li, b);
		}
		LWLockRelease(&inst->lru_lock.lock);
	}
}

/* Write a dirty block we pinned; on error the pin is released. */
static bool
bp_rs_flush_pinned(int instance, BpBlockNo b)
{
	bool		written = false;

	PG_TRY();
	{
		written = bp_flush_block(instance, b, BP_FLUSH_LRU);
	}
	PG_CATCH();
	{
		pg_atomic_fetch_sub_u32(&bp_desc(&BpLocal[instance], b)->state, BP_REFCOUNT_ONE);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return written;
}

/*
 * One pass over the doomed blocks of an instance.  Returns how many are
 * not withdrawn yet; *first_pinned gets one of those, for the message.
 */
static int64
bp_rs_withdraw_pass(int instance, int to, int64 *withdrawn, int64 *relocated,
					int64 *flushed, int64 *evicted, BpBlockDesc *first_pinned)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	int64		left = 0;
	int			c;

	/*
	 * Write the doomed chunks' dirty pages first, in batches (with
	 * doublewrite, one doublewrite round and fsync per batch rather than
	 * per page); what is dirtied meanwhile is written one by one below.
	 */
	*flushed += bp_flush_list_batch_chunks(instance, INT64_MAX / 2, 0, to);

	for (c = to; c < inst->n_chunks; c++)
	{
		uint32		k;

		for (k = 0; k < inst->blocks_per_chunk; k++)
		{
			BpBlockNo	b = BP_MAKE_BLOCK(c, k);
			BpBlockDesc *d = bp_desc(li, b);
			uint32		st;

			if (d->list == BP_LIST_WITHDRAW)
				continue;
			/* pin it only while it is on the LRU list: see bp_lru_evict_pinned */
			LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
			st = pg_atomic_read_u32(&d->state);
			if (d->list == BP_LIST_WITHDRAW)
			{
				LWLockRelease(&inst->lru_lock.lock);
				continue;
			}
			if (d->list != BP_LIST_LRU || BP_STATE_REFCOUNT(st) != 0 ||
				(st & (BP_BS_IO_READ | BP_BS_IO_WRITE)) ||
				!pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
			{
				LWLockRelease(&inst->lru_lock.lock);
				/* in use, being read, or owned by a session: next pass */
				if (left++ == 0 && first_pinned)
					*first_pinned = *d;
				continue;
			}
			LWLockRelease(&inst->lru_lock.lock);
			if ((st & BP_BS_DIRTY) && bp_rs_flush_pinned(instance, b))
				(*flushed)++;
			if (!(pg_atomic_read_u32(&d->state) & BP_BS_VALID))
			{
				/* an orphan of a failed read: just take it off the LRU */
				if (bp_lru_evict_pinned(instance, b))
				{
					bp_lru_return_free_block(instance, b);
					(*withdrawn)++;
					continue;
				}
			}
			else if (bp_rs_relocate(instance, b) ||
					 (!d->is_old &&
					  bp_lru_free_tail_block(instance, to, BP_RS_ROOM_DEPTH) &&
					  bp_rs_relocate(instance, b)))
			{
				/* a young page is kept at the cost of the coldest kept one */
				(*relocated)++;
				(*withdrawn)++;
				continue;
			}
			else if (bp_lru_evict_pinned(instance, b))
			{
				bp_lru_return_free_block(instance, b);
				(*evicted)++;
				(*withdrawn)++;
				continue;
			}
			pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
			if (left++ == 0 && first_pinned)
				*first_pinned = *d;
		}
	}
	return left;
}

static void
bp_rs_shrink(int from, int to)
{
	int			i;
	int64		total = (int64) (from - to) * BpShmem->instances[0].blocks_per_chunk * BpShmem->n_instances;
	TimestampTz deadline;
	int64		withdrawn;

	/* start: no block of a doomed chunk is handed out any more */
	bp_rs_set_phase(BP_RS_WITHDRAW, 0);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		BpLocalInstance *li = &BpLocal[i];
		BpBlockNo  *link;
		TimestampTz t0 = GetCurrentTimestamp();

		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		inst->withdraw_from = to;
		link = &inst->free_head;
		while (*link != BP_INVALID_BLOCK)
		{
			BpBlockNo	b = *link;
			BpBlockDesc *d = bp_desc(li, b);

			if ((int) BP_BLOCK_CHUNK(b) >= to)
			{
				*link = d->lru_next;
				inst->free_len--;
				d->list = BP_LIST_NONE;
				bp_free_push(inst, li, b);	/* goes to the withdraw list */
			}
			else
				link = &d->lru_next;
		}
		LWLockRelease(&inst->lru_lock.lock);
		bp_rs_note_hold(t0);
	}
	withdrawn = bp_rs_withdrawn();
	bp_rs_add_counts(withdrawn, 0, 0, 0, (int) (withdrawn * 90 / Max(total, 1)));

	/* withdraw_blocks: flush, relocate or evict what is in use */
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), bp_resize_timeout_ms);
	for (;;)
	{
		int64		left = 0;
		int64		w = 0,
					r = 0,
					f = 0,
					e = 0;
		BpBlockDesc pinned;

		memset(&pinned, 0, sizeof(pinned));
		for (i = 0; i < BpShmem->n_instances; i++)
			left += bp_rs_withdraw_pass(i, to, &w, &r, &f, &e, left == 0 ? &pinned : NULL);
		withdrawn = bp_rs_withdrawn();
		bp_rs_add_counts(withdrawn, r, f, e, (int) (withdrawn * 90 / Max(total, 1)));
		bp_space_sync_pending();
		if (left == 0)
			break;
		if (ShutdownRequestPending || GetCurrentTimestamp() >= deadline)
		{
			char		msg[200];

			bp_rs_rollback_withdraw();
			if (ShutdownRequestPending)
				snprintf(msg, sizeof(msg), "the pool manager was stopped (server shutdown or pg_terminate_backend); the pool stays at %lld bytes",
						 (long long) bp_resize_current_size());
			else
				snprintf(msg, sizeof(msg),
						 "%lld page(s) stayed in use for bufpool_ext.resize_timeout (%d ms), e.g. page %u of space %u",
						 (long long) left, bp_resize_timeout_ms, pinned.page_no, pinned.space_id);
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("%s", msg)));
		}
		CHECK_FOR_INTERRUPTS();
		if (w == 0)
			pg_usleep(2000L);
	}

	/*
	 * global_lock: cut the chunk count of every instance at once.  All
	 * lru_locks are held (in ascending instance order) so the check and
	 * the cut are all-or-nothing; it is a few instructions per instance.
	 */
	bp_rs_set_phase(BP_RS_GLOBAL_LOCK, 92);
	{
		TimestampTz t0 = GetCurrentTimestamp();

		for (i = 0; i < BpShmem->n_instances; i++)
			LWLockAcquire(&BpShmem->instances[i].lru_lock.lock, LW_EXCLUSIVE);
		for (i = 0; i < BpShmem->n_instances; i++)
		{
			BpInstance *inst = &BpShmem->instances[i];

			if (inst->withdraw_len != (uint32) (from - to) * inst->blocks_per_chunk)
				elog(ERROR, "bufpool_ext: instance %d withdrew %u blocks, expected %u",
					 i, inst->withdraw_len, (uint32) (from - to) * inst->blocks_per_chunk);
		}
		for (i = 0; i < BpShmem->n_instances; i++)
		{
			BpInstance *inst = &BpShmem->instances[i];

			inst->withdraw_head = BP_INVALID_BLOCK;
			inst->withdraw_len = 0;
			inst->withdraw_from = BP_MAX_CHUNKS;
			inst->n_blocks = (uint32) to * inst->blocks_per_chunk;
			pg_write_barrier();
			inst->n_chunks = to;
		}
		for (i = BpShmem->n_instances; i > 0; i--)
			LWLockRelease(&BpShmem->instances[i - 1].lru_lock.lock);
		bp_rs_note_hold(t0);
	}
	bp_rs_update_shape(to);
	bp_rs_bump_generation();

	/* resizing: give the memory back */
	bp_rs_set_phase(BP_RS_RESIZING, 94);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		int			c;

		for (c = from - 1; c >= to; c--)
			bp_chunk_release(i, c);
		BpLocal[i].n_chunks = to;
	}
}

/*
 * Run the pending resize, if any.  Called by the pool manager.
 */
void
bp_resize_run_pending(void)
{
	BpResizeStatus req;
	int			from;
	int			to;
	MemoryContext oldcxt = CurrentMemoryContext;

	LWLockAcquire(&BpShmem->resize_lock.lock, LW_EXCLUSIVE);
	if (!BpShmem->resize_pending)
	{
		LWLockRelease(&BpShmem->resize_lock.lock);
		return;
	}
	req = BpShmem->resize_request;
	if (bp_rs_held(req.to_size, req.source))
	{
		/* a grow waits for memory; say so once, in the status and the log */
		bool		first = req.message[0] == '\0';

		snprintf(BpShmem->resize_request.message, sizeof(BpShmem->resize_request.message),
				 "waiting: the memory level is %s; the grow starts once it is below warning",
				 bp_mem_level_name(pg_atomic_read_u32(&BpShmem->mem_level)));
		LWLockRelease(&BpShmem->resize_lock.lock);
		if (first)
			ereport(LOG,
					(errmsg("bufpool_ext resize %lld from %lld to %lld bytes (%s) %s",
							(long long) req.id, (long long) req.from_size,
							(long long) req.to_size, req.source,
							BpShmem->resize_request.message)));
		return;
	}
	BpShmem->resize_pending = false;
	req.message[0] = '\0';
	req.started = GetCurrentTimestamp();
	req.from_size = bp_resize_current_size();
	BpShmem->resize_current = req;
	LWLockRelease(&BpShmem->resize_lock.lock);
	ConditionVariableBroadcast(&BpShmem->resize_cv);

	from = BpShmem->instances[0].n_chunks;
	to = (int) (req.to_size / ((int64) BpShmem->chunk_size * BpShmem->n_instances));
	ereport(LOG,
			(errmsg("bufpool_ext resize %lld from %lld to %lld bytes started (%s)",
					(long long) req.id, (long long) req.from_size, (long long) req.to_size,
					req.source)));

	PG_TRY();
	{
		bool		rehashed;

		bp_ensure_attached();
		if (to > from)
			bp_rs_grow(from, to);
		else if (to < from)
			bp_rs_shrink(from, to);
		rehashed = bp_rs_hash_phase();
		BpShmem->requested_size = (Size) req.requested_size;
		bp_rs_finish(BP_RS_COMPLETE,
					 to == from ? "the pool already has this size" :
					 rehashed ? "page hash rebuilt" : "");
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		LWLockReleaseAll();
		ConditionVariableCancelSleep();
		/* a shrink cut short: its withdrawn blocks go back into use */
		bp_rs_rollback_withdraw();
		bp_rs_finish(BP_RS_FAILED, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/*
 * A reload may have changed bufpool_ext.size: queue a resize to it.
 * Called by the pool manager after processing SIGHUP.
 */
void
bp_resize_from_config(void)
{
	int64		bytes = (int64) bp_size_mb * 1024 * 1024;
	int			chunks;
	char		txt[64];

	if (bytes == BpShmem->config_size_applied)
		return;
	snprintf(txt, sizeof(txt), "%dMB", bp_size_mb);
	PG_TRY();
	{
		chunks = bp_resize_chunks_for(bytes, txt);
		if ((int64) chunks * BpShmem->chunk_size * BpShmem->n_instances != bp_resize_current_size())
		{
			bp_resize_check_room((int64) chunks * BpShmem->chunk_size * BpShmem->n_instances -
								 bp_resize_current_size());
			(void) bp_resize_request(bytes, chunks, "config");
		}
		/* applied once queued: a refused one is tried again at the next reload */
		BpShmem->config_size_applied = bytes;
	}
	PG_CATCH();
	{
		/* a bad value or a running resize: say so, keep running */
		EmitErrorReport();
		FlushErrorState();
	}
	PG_END_TRY();
}
