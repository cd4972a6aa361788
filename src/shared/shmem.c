/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The fixed part of the pool in main shared memory, and how a process
 *	  maps the DSM part.
 *
 * Main shared memory is requested in shmem_request_hook and set up in
 * shmem_startup_hook; both run in the postmaster, and the startup hook
 * runs again after a crash-restart, which also destroys every DSM segment.
 * The startup hook therefore only resets the fixed state to BP_POOL_INIT;
 * the pool manager worker, restarted with the cluster, builds the chunks.
 *
 * A backend maps the pool on its first pool access (bp_ensure_attached),
 * waiting at most bufpool_ext.ready_timeout for the manager.  The fast
 * path is one atomic read of the generation number, which the manager
 * bumps whenever chunks are added or removed.
 *
 * Counters touched on the page-access path live in per-process slots
 * indexed by pgprocno (one writer each, no atomics); views sum them.
 *
 * IDENTIFICATION
 *	  src/shared/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "bufpool_ext/base/clock.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memsignal.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/shared/hash.h"
#include "bufpool_ext/shared/hugepage.h"
#include "bufpool_ext/shared/shmem.h"

BpShared   *BpShmem = NULL;
BpLocalInstance *BpLocal = NULL;
uint32		BpLocalGeneration = 0;

static int
bp_n_procs(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

static Size
bp_counters_stride(void)
{
	/* one process's counters for all instances, cache-line aligned */
	return TYPEALIGN(PG_CACHE_LINE_SIZE, mul_size(bp_instances, sizeof(BpCounters)));
}

static Size
bp_hazards_stride(void)
{
	return TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(pg_atomic_uint64) * BP_HAZARD_SLOTS);
}

Size
bp_shmem_size(void)
{
	Size		size;

	size = add_size(offsetof(BpShared, instances),
					mul_size(bp_instances, sizeof(BpInstance)));
	size = TYPEALIGN(PG_CACHE_LINE_SIZE, size);
	size = add_size(size, mul_size(bp_n_procs(), bp_counters_stride()));
	size = add_size(size, mul_size(bp_n_procs(), bp_hazards_stride()));
	return add_size(size, PG_CACHE_LINE_SIZE);
}

static void
bp_instance_init(BpInstance *inst, int id, int pool_tranche)
{
	int			i;

	memset(inst, 0, sizeof(BpInstance));
	inst->id = id;
	inst->hash_handle = DSM_HANDLE_INVALID;
	for (i = 0; i < BP_HASH_PARTITIONS; i++)
		LWLockInitialize(&inst->hash_locks[i].lock, pool_tranche);
	LWLockInitialize(&inst->lru_lock.lock, pool_tranche);
	LWLockInitialize(&inst->flush_lock.lock, pool_tranche);
	inst->free_head = BP_INVALID_BLOCK;
	inst->lru_head = inst->lru_tail = inst->lru_old = BP_INVALID_BLOCK;
	inst->flush_head = inst->flush_tail = BP_INVALID_BLOCK;
	inst->withdraw_from = BP_MAX_CHUNKS;
	inst->withdraw_head = BP_INVALID_BLOCK;
	pg_atomic_init_u32(&inst->pending_reads, 0);
	pg_atomic_init_u32(&inst->pending_flush_lru, 0);
	pg_atomic_init_u32(&inst->pending_flush_list, 0);
	pg_atomic_init_u64(&inst->lru_io_total, 0);
	SpinLockInit(&inst->rate_mutex);
	SpinLockInit(&inst->zip_mutex);
	for (i = 0; i < BP_ZIP_CLASSES; i++)
		inst->zip_partial[i] = BP_INVALID_BLOCK;
	inst->unzip_head = inst->unzip_tail = PG_UINT64_MAX;	/* BP_ZIP_NULL */
	pg_atomic_init_u32(&inst->unzip_len, 0);
	pg_atomic_init_u32(&inst->zip_frameless, 0);
	pg_atomic_init_u64(&inst->zip_io_ns, 0);
	pg_atomic_init_u64(&inst->zip_unzip_ns, 0);
}

/* At the postmaster's exit (and before a crash-restart's new memory). */
static void
bp_huge_files_exit(int code, Datum arg)
{
	int			n = bp_huge_cleanup();

	if (n > 0)
		ereport(LOG,
				(errmsg("bufpool_ext: removed %d huge page chunk file%s as shared memory went away",
						n, n == 1 ? "" : "s")));
}

/*
 * hugetlbfs chunk files of this cluster left by a crash are removed when
 * shared memory is set up, and the rest when the postmaster exits.
 */
static void
bp_huge_files_setup(void)
{
	int			n = bp_huge_cleanup();

	if (n > 0)
		ereport(LOG,
				(errmsg("bufpool_ext: removed %d huge page chunk file%s left by the previous server",
						n, n == 1 ? "" : "s")));
	if (!IsUnderPostmaster)
		on_shmem_exit(bp_huge_files_exit, 0);
}

/*
 * Set up BpShared: called from the entry's shmem_startup_hook with
 * AddinShmemInitLock held, in the postmaster (and after a crash-restart)
 * and, under EXEC_BACKEND, in every child, where it only finds the
 * struct.  Needs memstat set up first (it counts itself).
 */
void
bp_shmem_init(void)
{
	bool		found;
	Size		size = bp_shmem_size();

	BpShmem = ShmemInitStruct("bufpool_ext", size, &found);
	if (!found)
	{
		Size		per_instance;
		int			i;

		memset(BpShmem, 0, size);
		BpShmem->n_instances = bp_instances;
		BpShmem->page_size = bp_page_size;
		BpShmem->chunk_size = (Size) bp_chunk_size_mb * 1024 * 1024;
		BpShmem->requested_size = (Size) bp_size_mb * 1024 * 1024;
		/* round up to a multiple of chunk_size x instances, as InnoDB */
		per_instance = BpShmem->chunk_size * bp_instances;
		BpShmem->chunks_per_instance =
			(int) ((BpShmem->requested_size + per_instance - 1) / per_instance);
		if (BpShmem->chunks_per_instance > BP_MAX_CHUNKS)
			BpShmem->chunks_per_instance = BP_MAX_CHUNKS;
		BpShmem->effective_size = per_instance * BpShmem->chunks_per_instance;

		bp_huge_files_setup();
		pg_atomic_init_u32(&BpShmem->pool_state, BP_POOL_INIT);
		pg_atomic_init_u32(&BpShmem->generation, 1);
		ConditionVariableInit(&BpShmem->ready_cv);
		BpShmem->start_time = GetCurrentTimestamp();
		BpShmem->heat_epoch_ns = bp_clock_coarse_ns();
		pg_atomic_init_u64(&BpShmem->heat_tick_max, 0);
		pg_atomic_init_u64(&BpShmem->heat_last_sweep, 0);
		BpShmem->pool_tranche = LWLockNewTrancheId();
		pg_atomic_init_u64(&BpShmem->next_lsn, 1);
		pg_atomic_init_u64(&BpShmem->modifications, 0);
		pg_atomic_init_u32(&BpShmem->shutting_down, 0);
		pg_atomic_init_u32(&BpShmem->free_wanted, 0);
		for (i = 0; i < BP_MAX_CLEANERS; i++)
			pg_atomic_init_u32(&BpShmem->cleaner_procno[i], INVALID_PGPROCNO);
		LWLockInitialize(&BpShmem->space_lock.lock, BpShmem->pool_tranche);
		LWLockInitialize(&BpShmem->resize_lock.lock, BpShmem->pool_tranche);
		ConditionVariableInit(&BpShmem->resize_cv);
		SpinLockInit(&BpShmem->warm_mutex);
		BpShmem->warm_next_id = 1;
		pg_atomic_init_u32(&BpShmem->warm_abort, 0);
		ConditionVariableInit(&BpShmem->warm_cv);
		pg_atomic_init_u32(&BpShmem->mem_level, 0);
		SpinLockInit(&BpShmem->gov_mutex);
		BpShmem->gov_log_next = 1;
		pg_atomic_init_u32(&BpShmem->leak_changecount, 0);
		for (i = 0; i < BP_BLOCK_CV_PARTITIONS; i++)
			ConditionVariableInit(&BpShmem->block_cvs[i]);
		pg_atomic_init_u32(&BpShmem->manager_procno, INVALID_PGPROCNO);
		BpShmem->resize_next_id = 1;
		BpShmem->config_size_applied = (int64) BpShmem->requested_size;
		BpShmem->next_space_id = 1;
		for (i = 0; i < bp_instances; i++)
			bp_instance_init(&BpShmem->instances[i], i, BpShmem->pool_tranche);
		BpShmem->n_procs = bp_n_procs();
		BpShmem->counters_offset =
			TYPEALIGN(PG_CACHE_LINE_SIZE,
					  (Size) ((char *) &BpShmem->instances[bp_instances] - (char *) BpShmem));
		BpShmem->hazards_offset = BpShmem->counters_offset +
			(Size) BpShmem->n_procs * bp_counters_stride();
		for (i = 0; i < BpShmem->n_procs * BP_HAZARD_SLOTS; i++)
		{
			pg_atomic_uint64 *h = bp_hazards_of(i / BP_HAZARD_SLOTS) + i % BP_HAZARD_SLOTS;

			pg_atomic_init_u64(h, BP_INVALID_PAGE);
		}
		if (BpShmem->chunks_per_instance * BpShmem->chunk_size * bp_instances != BpShmem->effective_size)
			elog(PANIC, "bufpool_ext size arithmetic is inconsistent");
		bp_mem_count_startup("memory/bufpool/shmem", size);
	}

	/* tranche names are process-local: children inherit the postmaster's */
	LWLockRegisterTranche(BpShmem->pool_tranche, "bufpool_ext_pool");
	BpPageSize = BpShmem->page_size;

	/* a crash-restart leaves stale mappings in no process, but reset ours */
	BpLocal = NULL;
	BpLocalGeneration = 0;
}

BpCounters *
bp_counters_for(int procno, int instance)
{
	char	   *base = (char *) BpShmem + BpShmem->counters_offset;

	return (BpCounters *) (base + (Size) procno *
						   TYPEALIGN(PG_CACHE_LINE_SIZE,
									 BpShmem->n_instances * sizeof(BpCounters))) + instance;
}

/*
 * Add the gets this process made since its last heat sample to its shared
 * counters.  The hit path counts gets only through the heat countdown
 * (heat.h): a sample adds the whole gap that led to it.  So that a reader
 * sees its own gets exactly, the views call this first; transaction end
 * and process exit call it too, so another process's gets show within
 * 2 x BP_HEAT_SAMPLE_MEAN per instance while it runs and exactly after.
 */
void
bp_counters_publish(void)
{
	int			i;

	if (BpLocal == NULL)
		return;
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpLocalInstance *li = &BpLocal[i];

		li->counters->gets += li->heat_gap - li->heat_left;
		li->heat_gap = li->heat_left;
	}
}

/*
 * visit(arg, instance, b, d) for every block of every chunk this process
 * maps, without a lock (the caller reads what it needs as a snapshot).
 */
void
bp_pool_visit_blocks(void (*visit) (void *arg, int instance, BpBlockNo b, BpBlockDesc *d),
					 void *arg)
{
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpLocalInstance *li = &BpLocal[i];
		int			c;

		for (c = 0; c < li->n_chunks; c++)
		{
			uint32		k;

			for (k = 0; k < BpShmem->instances[i].blocks_per_chunk; k++)
			{
				BpBlockNo	b = BP_MAKE_BLOCK(c, k);

				visit(arg, i, b, bp_desc(li, b));
			}
			CHECK_FOR_INTERRUPTS();
		}
	}
}

/* The sum of every process's counters of an instance. */
void
bp_counters_sum(int instance, BpCounters *out)
{
	int			p;

	memset(out, 0, sizeof(*out));
	for (p = 0; p < BpShmem->n_procs; p++)
	{
		BpCounters *c = bp_counters_for(p, instance);
		uint64	   *src = (uint64 *) c;
		uint64	   *dst = (uint64 *) out;
		int			k;

		for (k = 0; k < (int) BP_N_COUNTERS; k++)
			dst[k] += src[k];
	}
	out->lru_written = pg_atomic_read_u64(&BpShmem->instances[instance].lru_io_total);
}

/*
 * Store a sample of every instance's counters for the rates of
 * bufpool.stats (a session's first read measures from it).  The pool
 * manager calls this every BP_RATE_SAMPLE_MS; the previous sample is kept
 * too, so a reader can take one that is at least a second old.
 */
void
bp_counters_sample(void)
{
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		BpRateSnap	snap;

		bp_counters_sum(i, &snap.c);
		snap.at = GetCurrentTimestamp();
		SpinLockAcquire(&inst->rate_mutex);
		inst->rate_samples[1] = inst->rate_samples[0];
		inst->rate_samples[0] = snap;
		SpinLockRelease(&inst->rate_mutex);
	}
}

pg_atomic_uint64 *
bp_hazards_of(int procno)
{
	return (pg_atomic_uint64 *) ((char *) BpShmem + BpShmem->hazards_offset +
								 (Size) procno * bp_hazards_stride());
}

/*
 * Is the block published in any process's hazard slot?  Caller has
 * cleared VALID and issued a full barrier.
 */
bool
bp_hazard_held(int instance, BpBlockNo b)
{
	return bp_hazard_count(instance, b) > 0;
}

/*
 * Take VALID away from a block we hold a pin on, so that no new hit can
 * reach it: the evictor's half of the hazard protocol (pool.h), shared by
 * eviction, relocation and discard.  Caller holds the page's hash
 * partition lock exclusively.  Fails, leaving the block as it was, if
 * others pin it, if a state bit in forbid is set, or if a hazard slot
 * holds it (BP_INVAL_HAZARD: the block is in use right now).
 *
 * The state is read again after the hazard scan: a hit that passed its
 * VALID check just before VALID went may have modified the page, marked
 * it dirty and dropped its slot before the scan.  Its dirty mark is
 * visible then (it precedes the slot's release), and the block must not
 * be taken.  On success *final is the block's state without VALID; no
 * one else can change it any more.
 */
BpInvalResult
bp_block_try_invalidate(int instance, BpBlockNo b, uint32 forbid, uint32 *final)
{
	BpBlockDesc *d = bp_desc(&BpLocal[instance], b);
	uint32		st;

	for (;;)
	{
		st = pg_atomic_read_u32(&d->state);
		if (BP_STATE_REFCOUNT(st) != 1 || !(st & BP_BS_VALID) || (st & forbid))
			return BP_INVAL_BUSY;
		if (pg_atomic_compare_exchange_u32(&d->state, &st, st & ~BP_BS_VALID))
			break;
	}
	pg_memory_barrier();
	if (bp_hazard_held(instance, b))
	{
		pg_atomic_fetch_or_u32(&d->state, BP_BS_VALID);
		return BP_INVAL_HAZARD;
	}
	pg_read_barrier();
	st = pg_atomic_read_u32(&d->state);
	if (st & forbid)
	{
		pg_atomic_fetch_or_u32(&d->state, BP_BS_VALID);
		return BP_INVAL_BUSY;
	}
	*final = st;
	return BP_INVAL_DONE;
}

int
bp_hazard_count(int instance, BpBlockNo b)
{
	uint64		want = ((uint64) instance << 32) | b;
	int			n = 0;
	int			p;

	for (p = 0; p < BpShmem->n_procs; p++)
	{
		pg_atomic_uint64 *h = bp_hazards_of(p);
		int			k;

		for (k = 0; k < BP_HAZARD_SLOTS; k++)
			if (pg_atomic_read_u64(&h[k]) == want)
				n++;
	}
	return n;
}

void
bp_check_preloaded(void)
{
	if (BpShmem == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bufpool_ext must be loaded via shared_preload_libraries"),
				 errhint("Add bufpool_ext to shared_preload_libraries and restart the server.")));
}

uint32
bp_now_ms(void)
{
	TimestampTz now = GetCurrentTimestamp();
	uint64		ms = (uint64) (now - BpShmem->start_time) / 1000;

	/* 0 means "never accessed"; the clock wraps after 49 days */
	return (uint32) ms | (ms == 0 ? 1 : 0);
}

/*
 * Map the hash segment and every chunk of one instance that this process
 * has not mapped yet.
 */
void
bp_attach_instance_segments(int instance)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	int			c;

	/*
	 * The page hash: a resize may replace it at any time, so read the
	 * handle once and take everything else from the segment it names; if
	 * that segment is already gone, the handle has changed: look again.
	 */
	for (;;)
	{
		dsm_handle	handle;
		dsm_segment *seg;
		BpHashHeader *hdr;

		pg_read_barrier();
		handle = inst->hash_handle;
		if (li->hash_seg != NULL && li->hash_handle == handle)
			break;
		seg = dsm_find_mapping(handle);
		if (seg == NULL)
		{
			seg = dsm_attach(handle);
			if (seg == NULL)
			{
				pg_read_barrier();
				if (inst->hash_handle != handle)
					continue;
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("could not map the page hash of buffer pool instance %d", instance)));
			}
			dsm_pin_mapping(seg);
		}
		if (li->hash_seg != NULL && li->hash_seg != seg)
			dsm_detach(li->hash_seg);
		hdr = (BpHashHeader *) dsm_segment_address(seg);
		li->hash_seg = seg;
		li->hash = BP_HASH_BUCKETS(hdr);
		li->zhash = BP_ZIP_BUCKETS(hdr);
		li->zmask = hdr->buckets * BP_ZIP_HASH_FACTOR - 1;
		li->hash_mask = hdr->buckets - 1;
		li->hash_handle = handle;
		break;
	}
	/* chunks a shrink removed (none of their blocks is reachable any more) */
	for (c = li->n_chunks - 1; c >= inst->n_chunks; c--)
	{
		bp_chunk_unmap(&li->chunks[c]);
		memset(&li->chunks[c], 0, sizeof(BpLocalChunk));
	}
	li->n_chunks = Min(li->n_chunks, inst->n_chunks);
	for (c = 0; c < inst->n_chunks; c++)
		if (li->chunks[c].descs == NULL || li->chunks[c].handle != inst->chunk_handles[c])
			bp_local_remap(li, (uint32) c);
}

/*
 * Point a chunk slot at a process-local array of zeroed descriptors: never
 * VALID, on no list.  Used for a chunk a shrink removed, which a stale
 * lock-free hash walk can still name; everything it finds there backs off.
 */
static void
bp_local_map_removed(BpLocalInstance *li, int c)
{
	static BpBlockDesc *zero_descs = NULL;
	BpLocalChunk *lc = &li->chunks[c];

	if (zero_descs == NULL)
		zero_descs = MemoryContextAllocZero(TopMemoryContext,
											sizeof(BpBlockDesc) * (Size) BP_MAX_BLOCKS_PER_CHUNK);
	bp_chunk_unmap(lc);
	lc->descs = zero_descs;
	lc->frames = NULL;

	/*
	 * Never the handle of a live segment: a grow may already have stored
	 * the handle of the slot's next segment before publishing the chunk,
	 * and this dummy must not pass for that segment afterwards.
	 */
	lc->handle = DSM_HANDLE_INVALID;
}

/*
 * Map chunk c of an instance as it is now (and every chunk below the
 * instance's count this process lacks).  See bp_local_chunk.
 */
void
bp_local_remap(BpLocalInstance *li, uint32 chunk)
{
	int			instance = (int) (li - BpLocal);
	BpInstance *inst = &BpShmem->instances[instance];
	int			c;

	for (c = 0; c < Max(inst->n_chunks, (int) chunk + 1); c++)
	{
		BpLocalChunk *lc = &li->chunks[c];

		if (lc->descs != NULL && lc->handle == inst->chunk_handles[c])
			continue;
		if (c >= inst->n_chunks)
		{
			if (c == (int) chunk)
				bp_local_map_removed(li, c);
			continue;
		}
		bp_chunk_unmap(lc);
		memset(lc, 0, sizeof(BpLocalChunk));
		if (!bp_chunk_map(instance, c))
			bp_local_map_removed(li, c);
	}
	li->n_chunks = Max(li->n_chunks, Max(inst->n_chunks, (int) chunk + 1));
}

static bool publish_exit_registered = false;

static void
bp_counters_publish_exit(int code, Datum arg)
{
	bp_counters_publish();
}

void
bp_local_alloc(void)
{
	int			i;

	BpLocal = MemoryContextAllocZero(TopMemoryContext,
									 sizeof(BpLocalInstance) * BpShmem->n_instances);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpLocal[i].inst = &BpShmem->instances[i];
		BpLocal[i].counters = bp_counters_for(MyProc->pgprocno, i);
		BpLocal[i].heat_left = BpLocal[i].heat_gap = 1;	/* the first access is sampled */
	}
	/* gets not yet added to this process's counters must not be lost */
	if (!publish_exit_registered)
	{
		before_shmem_exit(bp_counters_publish_exit, 0);
		publish_exit_registered = true;
	}
}

/*
 * Make sure this process maps the whole pool, waiting for the pool
 * manager to build it if needed.  Not inline: an inline version of the
 * already-mapped check took 26 instructions off the hit path and yet
 * made it slower, 40 to 47 ns per fetch + release against 21 to 35, in
 * every server start measured (README, "Observability cost").
 */
void
bp_ensure_attached(void)
{
	uint32		gen;
	TimestampTz deadline;
	int			i;

	bp_check_preloaded();
	gen = pg_atomic_read_u32(&BpShmem->generation);
	if (likely(BpLocal != NULL && gen == BpLocalGeneration))
		return;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), bp_ready_timeout_ms);
	for (;;)
	{
		uint32		st = pg_atomic_read_u32(&BpShmem->pool_state);

		if (st == BP_POOL_READY)
			break;
		if (st == BP_POOL_FAILED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("the bufpool_ext buffer pool could not be built"),
					 errdetail("%s", BpShmem->error),
					 errhint("Check the server log and fix the cause; the pool manager tries again every few seconds.")));
		if (GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the bufpool_ext buffer pool is not ready after %d ms", bp_ready_timeout_ms),
					 errhint("The pool manager background worker builds the pool at startup; check that it runs (pg_stat_activity) and that max_worker_processes leaves room for it.")));
		ConditionVariableTimedSleep(&BpShmem->ready_cv, 100, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	if (BpLocal == NULL)
		bp_local_alloc();
	for (i = 0; i < BpShmem->n_instances; i++)
		bp_attach_instance_segments(i);
	pg_read_barrier();
	BpLocalGeneration = gen;
}

/*
 * A block that should be in a hash chain is not: the page hash is
 * corrupt.  Say everything that helps find out why, then PANIC.
 */
void
bp_hash_report_missing(BpLocalInstance *li, uint32 bucket, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);
	int64		found_in = -1;
	uint32		i;

	for (i = 0; i <= li->hash_mask && found_in < 0; i++)
	{
		BpBlockNo	x = li->hash[i];
		int			steps = 0;

		while (x != BP_INVALID_BLOCK && steps++ < 100000)
		{
			if (x == b)
			{
				found_in = i;
				break;
			}
			x = bp_desc(li, x)->hash_next;
		}
	}
	elog(PANIC, "bufpool_ext: block %u (chunk %u) of instance %d is not in its hash chain: "
		 "bucket %u, found in bucket %lld; tag %u/%u hashes to bucket %u; state 0x%x, list %d; "
		 "table %u (mask %u), instance table %u (%u buckets); chunks mapped %d of %d",
		 b, BP_BLOCK_CHUNK(b), (int) (li - BpLocal), bucket, (long long) found_in,
		 d->space_id, d->page_no,
		 (uint32) bp_page_hash(d->space_id, d->page_no) & li->hash_mask,
		 pg_atomic_read_u32(&d->state), d->list,
		 li->hash_handle, li->hash_mask, li->inst->hash_handle, li->inst->hash_buckets,
		 li->n_chunks, li->inst->n_chunks);
}

/*
 * The memory governor's emergency refusal (src/workers/governor.c): true
 * if a new allocator block of size bytes must be refused now.  One atomic
 * read; allocators ask only when they take a new block.
 */
bool
bp_mem_emergency_refuses(Size size)
{
	return BpShmem != NULL &&
		pg_atomic_read_u32(&BpShmem->mem_level) >= BP_LEVEL_EMERGENCY &&
		size > (Size) bp_emergency_alloc_limit_kb * 1024;
}

/* The ERROR of a refused block: SQLSTATE 53200, naming the level. */
void
bp_mem_emergency_error(Size size, const char *kind, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("%s \"%s\" cannot take a block of %zu bytes: the memory level is %s",
					kind, name, size, bp_mem_level_name(BP_LEVEL_EMERGENCY)),
			 errdetail("The memory governor refuses allocator blocks larger than bufpool_ext.emergency_alloc_limit (%d kB) until the level drops.",
					   bp_emergency_alloc_limit_kb),
			 errhint("See bufpool.memory_pressure.")));
}
