/*-------------------------------------------------------------------------
 *
 * buf.c
 *	  Page access: fetch (fix), release, page locks, eviction of one page,
 *	  discarding a space.
 *
 * The hit path takes no lock (as InnoDB's buf_page_get_gen with its
 * page-hash latch avoided): it walks the hash chain unlocked, pins the
 * block with one atomic add, and checks that the pin landed on a VALID
 * block that still carries the wanted tag.  A block keeps its tag while
 * VALID and cannot lose VALID while pinned (eviction needs the pin count
 * to be exactly the evictor's own), so the check is sufficient.  Any
 * doubt falls back to the locked path.  LRU bookkeeping on a hit takes
 * lru_lock only when a block is to be made young.
 *
 * A miss takes the partition lock exclusively twice at most: once to
 * look again after getting a free block, inserting the block with
 * IO_READ set, then the read happens with no lock held.  A second
 * session missing the same page finds the IO_READ block, pins it and
 * sleeps on its condition variable: one read for both.  A failed read
 * removes the block from the hash and wakes the waiters, who retry.
 *
 * Pins taken through the SQL functions and the C API are remembered per
 * process; a transaction abort releases those still held.
 *
 * IDENTIFICATION
 *	  src/pool/buf.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/base/clock.h"
#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/shared/hash.h"
#include "bufpool_ext/pool/heat.h"
#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/pool/zip.h"

#define BP_MAX_PINS			256
#define BP_OPTIMISTIC_STEPS	16
#define BP_DISCARD_WAIT_MS	10000

typedef struct BpPinEntry
{
	BpPage		page;
	int8		lock_mode;		/* -1 none, else BpLockMode */
	int8		hazard;			/* hazard slot, or -1 for an atomic pin */
	bool		xact_scoped;	/* released at transaction end, no warning */
	char	   *image;			/* the page as last logged, or NULL */
	ResourceOwner owner;		/* CurrentResourceOwner at the fetch */
	bool		is_new;			/* bp_page_fetch_new: log it whole first */
} BpPinEntry;

/*
 * Before-images.  While a page is locked exclusively, the first
 * bp_page_data() copies the frame into an image: the page as its last
 * redo record left it.  A change is logged (bp_page_mark_dirty,
 * bp_page_write, a mini-transaction's commit) and the image follows the
 * frame; an ERROR before that puts the image back into the frame when
 * the lock goes (the abort), and an unlock that finds the frame changed
 * but not logged puts it back and raises an ERROR.  So no frame is ever
 * seen by another process with a change that has no redo record.  A
 * mini-transaction's commit logs the difference between frame and image.
 * Image buffers are kept for reuse.
 */
#define BP_MAX_FREE_IMAGES	16
static char *free_images[BP_MAX_FREE_IMAGES];
static int	n_free_images = 0;

static BpPinEntry my_pins[BP_MAX_PINS];
static void bp_buf_release_owned(ResourceOwner owner, bool warn, const char *when);
static bool page_lock_exit_registered = false;
static int	n_my_pins = 0;


#ifdef BP_NO_INSTRUMENTATION
/*
 * A build with -DBP_NO_INSTRUMENTATION (scripts/bench_observe.sh only,
 * never installed for use) does not count gets per backend or sample
 * heat, and the LRU counters of a hit land here instead of in shared
 * memory.
 */
static BpCounters bp_uncounted;
#define BP_HIT_COUNTERS(li)	(&bp_uncounted)
#else
/* a hit's counters: this process's of the instance (gets: bp_heat_access) */
#define BP_HIT_COUNTERS(li)	((li)->counters)
#endif
/* this process's hazard slots (see pool.h) and which are in use */
static pg_atomic_uint64 *my_hazards = NULL;
static uint32 hazard_used = 0;


static void
bp_hazard_exit(int code, Datum arg)
{
	int			k;

	for (k = 0; k < BP_HAZARD_SLOTS; k++)
		pg_atomic_write_u64(&my_hazards[k], BP_INVALID_PAGE);
	pg_memory_barrier();
}

/* Set up this process's hazard slots on its first page access. */
static void
bp_hazard_init(void)
{
	my_hazards = bp_hazards_of(MyProc->pgprocno);
	hazard_used = 0;
	bp_hazard_exit(0, 0);		/* a previous owner of the slots may have left values */
	before_shmem_exit(bp_hazard_exit, 0);
}

static inline int
bp_hazard_free_slot(void)
{
	int			k;

	if (unlikely(my_hazards == NULL))
		bp_hazard_init();
	for (k = 0; k < BP_HAZARD_SLOTS; k++)
		if (!(hazard_used & (1U << k)))
			return k;
	return -1;
}

static inline void
bp_hazard_clear(int slot)
{
	/* our reads of the page must be done before an evictor sees the slot free */
	pg_memory_barrier();
	pg_atomic_write_u64(&my_hazards[slot], BP_INVALID_PAGE);
	hazard_used &= ~(1U << slot);
}

static void
bp_pin_remember(BpPage p, int hazard)
{
	if (unlikely(n_my_pins >= BP_MAX_PINS))
	{
		if (hazard >= 0)
			bp_hazard_clear(hazard);
		else
			pg_atomic_fetch_sub_u32(&bp_page_desc(p)->state, BP_REFCOUNT_ONE);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("a session can pin at most %d bufpool pages at once", BP_MAX_PINS)));
	}
	my_pins[n_my_pins].page = p;
	my_pins[n_my_pins].lock_mode = -1;
	my_pins[n_my_pins].hazard = (int8) hazard;
	my_pins[n_my_pins].xact_scoped = false;
	my_pins[n_my_pins].image = NULL;
	my_pins[n_my_pins].owner = CurrentResourceOwner;
	my_pins[n_my_pins].is_new = false;
	if (hazard >= 0)
		hazard_used |= 1U << hazard;
	n_my_pins++;
}

static int
bp_pin_find(BpPage p)
{
	int			i;

	for (i = n_my_pins - 1; i >= 0; i--)
		if (my_pins[i].page == p)
			return i;
	elog(ERROR, "bufpool page %llx is not pinned by this session", (unsigned long long) p);
	return -1;					/* keep compiler quiet */
}

/* Take a copy of e's frame as its before-image. */
static void
bp_image_take(BpPinEntry *e)
{
	if (n_free_images > 0)
		e->image = free_images[--n_free_images];
	else
		e->image = MemoryContextAlloc(TopMemoryContext, BpPageSize);
	memcpy(e->image, bp_frame(&BpLocal[bp_page_instance(e->page)], bp_page_block(e->page)),
		   BpPageSize);
}

static void
bp_image_drop(BpPinEntry *e)
{
	if (n_free_images < BP_MAX_FREE_IMAGES)
		free_images[n_free_images++] = e->image;
	else
		pfree(e->image);
	e->image = NULL;
}

/* Whether e's frame holds a change its image (last logged state) has not. */
static bool
bp_image_differs(const BpPinEntry *e)
{
	const char *frame = bp_frame(&BpLocal[bp_page_instance(e->page)], bp_page_block(e->page));

	return memcmp(frame + BP_PAGE_HEADER_SIZE, e->image + BP_PAGE_HEADER_SIZE,
				  BpPageSize - BP_PAGE_HEADER_SIZE) != 0;
}

/* Put e's image back into its frame: an unlogged change never stays. */
static void
bp_image_restore(BpPinEntry *e)
{
	memcpy(bp_frame(&BpLocal[bp_page_instance(e->page)], bp_page_block(e->page)), e->image,
		   BpPageSize);
}

/*
 * The before-image of a page this session holds exclusively, or NULL if
 * bp_page_data() was not called for it (then it cannot have changed).
 */
char *
bp_page_image(BpPage page)
{
	return my_pins[bp_pin_find(page)].image;
}

/* Put the page back as last logged (an aborted mini-transaction). */
void
bp_page_image_restore(BpPage page)
{
	BpPinEntry *e = &my_pins[bp_pin_find(page)];

	if (e->image != NULL)
		bp_image_restore(e);
}

/* The page's change is logged: its image follows the frame. */
void
bp_page_image_logged(BpPage page)
{
	BpPinEntry *e = &my_pins[bp_pin_find(page)];

	if (e->image != NULL)
		memcpy(e->image, bp_frame(&BpLocal[bp_page_instance(page)], bp_page_block(page)),
			   BpPageSize);
	e->is_new = false;
}

/* Whether the page came from bp_page_fetch_new and was not logged since. */
bool
bp_page_fetched_new(BpPage page)
{
	return my_pins[bp_pin_find(page)].is_new;
}

/*
 * Sleep on a block's condition variable until none of the given state
 * bits (BP_BS_IO_READ, BP_BS_IO_WRITE) is set.  Whoever clears them
 * broadcasts on that variable.
 */
void
bp_block_wait_clear(int instance, BpBlockNo b, uint32 bits)
{
	pg_atomic_uint32 *state = &bp_desc(&BpLocal[instance], b)->state;
	ConditionVariable *cv = bp_block_cv(instance, b);

	if (!(pg_atomic_read_u32(state) & bits))
		return;
	ConditionVariablePrepareToSleep(cv);
	while (pg_atomic_read_u32(state) & bits)
		ConditionVariableSleep(cv, PG_WAIT_EXTENSION);
	ConditionVariableCancelSleep();
}

/*
 * Wait for a read in progress on a block.  Caller holds a raw pin on it
 * (counted in the state, not yet in my_pins).  The sleep can end in an
 * ERROR (a cancel, a terminate): the pin is dropped before the error goes
 * on, or the block would stay pinned for good, never to be evicted,
 * relocated or discarded.
 */
static void
bp_wait_io_read(int instance, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(&BpLocal[instance], b);

	if (!(pg_atomic_read_u32(&d->state) & BP_BS_IO_READ))
		return;
	PG_TRY();
	{
		bp_block_wait_clear(instance, b, BP_BS_IO_READ);
	}
	PG_CATCH();
	{
		pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * Lock-free lookup and pin.  Returns the block, pinned and VALID, or
 * BP_INVALID_BLOCK if not found (the caller then looks under the lock).
 */
static inline BpBlockNo
bp_buf_pin_optimistic(BpLocalInstance *li, uint32 bucket, uint32 space_id, uint32 page_no)
{
	BpBlockNo	b = ((volatile BpBlockNo *) li->hash)[bucket];
	int			steps = 0;

	while (b != BP_INVALID_BLOCK && steps++ < BP_OPTIMISTIC_STEPS)
	{
		volatile BpBlockDesc *d = bp_desc(li, b);

		if (d->space_id == space_id && d->page_no == page_no)
		{
			uint32		old = pg_atomic_fetch_add_u32((pg_atomic_uint32 *) &d->state, BP_REFCOUNT_ONE);

			if ((old & BP_BS_VALID) && d->space_id == space_id && d->page_no == page_no)
				return b;
			pg_atomic_fetch_sub_u32((pg_atomic_uint32 *) &d->state, BP_REFCOUNT_ONE);
			return BP_INVALID_BLOCK;
		}
		b = d->hash_next;
		if (BP_BLOCK_CHUNK(b) >= (uint32) li->n_chunks && b != BP_INVALID_BLOCK)
			return BP_INVALID_BLOCK;
	}
	return BP_INVALID_BLOCK;
}

/*
 * Lock-free lookup and hazard pin: publish the block in our hazard slot,
 * full barrier, then check it is VALID and still the wanted page.  No
 * shared cache line is written.  Returns BP_INVALID_BLOCK (slot cleared)
 * if not found that way.
 */
static inline BpBlockNo
bp_buf_pin_hazard(int instance, BpLocalInstance *li, uint32 bucket,
				  uint32 space_id, uint32 page_no, int slot)
{
	BpBlockNo	b = ((volatile BpBlockNo *) li->hash)[bucket];
	int			steps = 0;

	while (b != BP_INVALID_BLOCK && steps++ < BP_OPTIMISTIC_STEPS)
	{
		volatile BpBlockDesc *d = bp_desc(li, b);

		if (d->space_id == space_id && d->page_no == page_no)
		{
			uint32		st;

			pg_atomic_write_u64(&my_hazards[slot], bp_make_page(instance, b));
			pg_memory_barrier();
			st = pg_atomic_read_u32((pg_atomic_uint32 *) &d->state);
			if ((st & BP_BS_VALID) && d->space_id == space_id && d->page_no == page_no)
				return b;
			pg_atomic_write_u64(&my_hazards[slot], BP_INVALID_PAGE);
			return BP_INVALID_BLOCK;
		}
		b = d->hash_next;
		if (BP_BLOCK_CHUNK(b) >= (uint32) li->n_chunks && b != BP_INVALID_BLOCK)
			return BP_INVALID_BLOCK;
	}
	return BP_INVALID_BLOCK;
}

/* Called after a block failed to read: unhash it and wake the waiters. */
static void
bp_buf_read_failed(int instance, uint64 h, BpBlockNo b)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	LWLock	   *part = bp_hash_lock(inst, h);
	uint32		bucket = bp_hash_lock_current(instance, h, LW_EXCLUSIVE);

	bp_hash_remove(li, bucket, b);
	d->space_id = InvalidOid;
	pg_atomic_fetch_and_u32(&d->state, ~(BP_BS_IO_READ | BP_BS_VALID));
	LWLockRelease(part);
	pg_atomic_fetch_sub_u32(&inst->pending_reads, 1);
	ConditionVariableBroadcast(bp_block_cv(instance, b));
	/* the block stays on the LRU, unhashed; replacement will reuse it */
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
}

/*
 * The end of a read that worked: keep LSNs increasing past the page's,
 * then make the block VALID (the caller broadcasts on its variable).
 */
static void
bp_buf_read_complete(BpInstance *inst, BpBlockDesc *d, uint64 page_lsn)
{
	uint64		cur = pg_atomic_read_u64(&BpShmem->next_lsn);

	while (page_lsn != 0 && cur <= page_lsn &&
		   !pg_atomic_compare_exchange_u64(&BpShmem->next_lsn, &cur, page_lsn + 1))
		;
	pg_atomic_fetch_sub_u32(&inst->pending_reads, 1);
	for (;;)
	{
		uint32		st = pg_atomic_read_u32(&d->state);

		if (pg_atomic_compare_exchange_u32(&d->state, &st,
										   (st | BP_BS_VALID) & ~BP_BS_IO_READ))
			break;
	}
}

/*
 * Give block fb, ours and on no list, the identity of a page about to be
 * read, with IO_READ set, and put it in the hash.  Caller holds the
 * page's partition lock exclusively and has seen the page absent.
 */
static void
bp_buf_claim_block(BpLocalInstance *li, uint32 bucket, BpBlockNo fb,
				   uint32 space_id, uint32 page_no)
{
	BpBlockDesc *d = bp_desc(li, fb);

	d->space_id = space_id;
	d->page_no = page_no;
	d->access_time = 0;
	d->heat = 0;
	d->oldest_lsn = 0;
	pg_atomic_fetch_and_u32(&d->state, ~BP_BS_FLUSH_MASK);
	pg_atomic_fetch_or_u32(&d->state, BP_BS_IO_READ);
	bp_hash_insert(li, bucket, fb);
}

/*
 * Read the page of a block we inserted with IO_READ, and make it VALID.
 */
static void
bp_buf_read_block(int instance, uint64 h, BpBlockNo b, BpCounters *cnt, bool zero,
				  BpZipRef zref)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	char	   *frame = bp_frame(li, b);
	uint64		page_lsn;
	volatile BpZipFill filled = BP_ZIP_FILL_FAILED;
	volatile bool zip_pinned = (zref != BP_ZIP_NULL);

	pg_atomic_fetch_add_u32(&inst->pending_reads, 1);
	PG_TRY();
	{
		if (BP_FAULT_ARMED())
		{
			BpFaultPage fp = {d->space_id, d->page_no, NULL};

			/* a test may park this process here, IO_READ set */
			(void) bp_fault_run("page-read", &fp);
		}
		if (zref != BP_ZIP_NULL)
		{
			/* from its image kept in memory: decompressed, or one read */
			filled = bp_zip_fill(instance, b, zref);
			bp_zip_unpin(instance, zref);
			zip_pinned = false;
			if (filled == BP_ZIP_FILL_FAILED)
				bp_zip_forget(instance, b);
		}
		if (zero)
			bp_page_init(frame, d->space_id, d->page_no);	/* a new page: no read */
		else if (filled == BP_ZIP_FILL_FAILED)
		{
			int64		t0 = bp_clock_ns();

			bp_space_read(d->space_id, d->page_no, frame);
			bp_zip_count_io(instance, (uint64) (bp_clock_ns() - t0));
			bp_zip_keep(instance, b);
		}
	}
	PG_CATCH();
	{
		/* the block leaves the hash: its image and the zip frame's pin go first */
		if (zip_pinned)
			bp_zip_unpin(instance, zref);
		bp_zip_forget(instance, b);
		bp_buf_read_failed(instance, h, b);
		PG_RE_THROW();
	}
	PG_END_TRY();
	page_lsn = ((BpPageHeader *) frame)->lsn;
	if (filled == BP_ZIP_FILL_UNZIP)
		cnt->unzipped++;
	else if (page_lsn == 0)
		cnt->created++;
	else
		cnt->reads++;
	bp_buf_read_complete(inst, d, page_lsn);
}

/*
 * Look page (space_id, page_no), of hash h, up under its partition lock in
 * share mode; if it is there, pin it (a raw pin, counted in the state)
 * before the lock goes.  Returns the block or BP_INVALID_BLOCK.
 */
static BpBlockNo
bp_buf_lookup_pin(int instance, uint64 h, uint32 space_id, uint32 page_no)
{
	BpLocalInstance *li = &BpLocal[instance];
	LWLock	   *part = bp_hash_lock(&BpShmem->instances[instance], h);
	uint32		bucket = bp_hash_lock_current(instance, h, LW_SHARED);
	BpBlockNo	b = bp_hash_lookup(li, bucket, space_id, page_no);

	if (b != BP_INVALID_BLOCK)
		pg_atomic_fetch_add_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
	LWLockRelease(part);
	return b;
}

/*
 * The miss path.  Returns the block pinned and VALID.
 */
static BpBlockNo
bp_buf_fetch_slow(int instance, uint64 h, uint32 space_id, uint32 page_no,
				  bool *hit, bool zero)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	LWLock	   *part = bp_hash_lock(inst, h);
	uint32		bucket;

	for (;;)
	{
		BpBlockNo	b;
		BpBlockNo	fb;
		BpBlockDesc *d;

		b = bp_buf_lookup_pin(instance, h, space_id, page_no);
		if (b == BP_INVALID_BLOCK)
		{
			/* not there: get a block, then look again under the lock */
			bp_space_check_page(space_id, page_no);
			fb = bp_lru_get_free_block(instance);
			bucket = bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
			b = bp_hash_lookup(li, bucket, space_id, page_no);
			if (b != BP_INVALID_BLOCK)
			{
				pg_atomic_fetch_add_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
				LWLockRelease(part);
				bp_lru_return_free_block(instance, fb);
			}
			else
			{
				BpCounters *cnt = bp_my_counters(instance);
				BpZipRef	zref;

				bp_buf_claim_block(li, bucket, fb, space_id, page_no);
				zref = bp_zip_claim(li, h, fb, space_id, page_no, !zero);
				LWLockRelease(part);

				LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
				bp_lru_add_old(inst, li, fb);
				LWLockRelease(&inst->lru_lock.lock);

				bp_buf_read_block(instance, h, fb, cnt, zero, zref);
				ConditionVariableBroadcast(bp_block_cv(instance, fb));
				*hit = false;
				return fb;
			}
		}

		/* found: wait for a read in progress, then check it worked */
		d = bp_desc(li, b);
		if (pg_atomic_read_u32(&d->state) & BP_BS_IO_READ)
		{
			*hit = false;
			bp_wait_io_read(instance, b);
		}
		else
			*hit = true;
		if (pg_atomic_read_u32(&d->state) & BP_BS_VALID)
			return b;
		pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * LRU bookkeeping of an access (InnoDB's buf_page_make_young_if_needed).
 */
static inline void
bp_buf_accessed(BpInstance *inst, BpLocalInstance *li, BpBlockNo b)
{
	BpBlockDesc *d = bp_desc(li, b);

#ifndef BP_NO_INSTRUMENTATION
	bp_heat_access(li, d);
#endif
	if (d->access_time == 0)
	{
		d->access_time = bp_now_ms();
		return;
	}

	/*
	 * As InnoDB: until the first eviction from this instance (warm-up, or
	 * a working set that fits) LRU order does not matter yet, so hits
	 * neither move blocks nor count as (not) made young.
	 */
	if (inst->freed_page_clock == 0)
		return;
	if (d->is_old)
	{
		bool		room = bp_lru_boundary == BP_LRU_BOUNDARY_ACCESS && bp_lru_young_room(inst);

		if (bp_old_blocks_time > 0)
		{
			uint32		now = bp_now_ms();

			/*
			 * While the young sublist has room, making a page young
			 * displaces nothing: only a burst of touches is ignored
			 * (lru.h, bp_lru_young_room).
			 */
			if (now - d->access_time < (room ? BP_OLD_BLOCKS_WINDOW_MIN_MS :
										bp_old_blocks_window(inst, now)))
			{
				BP_HIT_COUNTERS(li)->not_made_young++;
				return;
			}
		}
		if (room)
		{
			if (!LWLockConditionalAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE))
			{
				BP_HIT_COUNTERS(li)->young_skipped++;
				return;
			}
			/* the room was a hint: under the lock it must still be there */
			if (d->list == BP_LIST_LRU && d->is_old && bp_lru_young_room(inst))
			{
				bp_lru_make_young_tail(inst, li, b);
				BP_HIT_COUNTERS(li)->made_young++;
			}
			else
				BP_HIT_COUNTERS(li)->not_made_young++;
			LWLockRelease(&inst->lru_lock.lock);
			return;
		}
	}
	else if (bp_lru_young_enough(inst, d, bp_old_blocks_pct))
		return;

	/*
	 * A hit never waits for the list lock: if another process holds it,
	 * the block stays where it is and a later hit moves it.  Without this,
	 * concurrent hits on old blocks queue up on lru_lock.
	 */
	if (!LWLockConditionalAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE))
	{
		BP_HIT_COUNTERS(li)->young_skipped++;
		return;
	}
	if (d->list == BP_LIST_LRU)
	{
		bp_lru_make_young(inst, li, b);
		BP_HIT_COUNTERS(li)->made_young++;
	}
	LWLockRelease(&inst->lru_lock.lock);
}

/*
 * Fetch a page.  With hazard_slot >= 0 a hit is pinned through that
 * hazard slot (*used_hazard set); otherwise, and on a miss, the block's
 * pin count is raised.
 */
static inline BpPage
bp_buf_fetch_internal(uint32 space_id, uint32 page_no, BpFetchInfo *info,
					  int hazard_slot, bool *used_hazard)
{
	uint64		h;
	int			instance;
	BpInstance *inst;
	BpLocalInstance *li;
	uint32		bucket;
	BpBlockNo	b = BP_INVALID_BLOCK;
	bool		hit = true;

	bp_ensure_attached();
	h = bp_page_hash(space_id, page_no);
	instance = bp_instance_of(h);
	inst = &BpShmem->instances[instance];
	li = &BpLocal[instance];
	bucket = (uint32) h & li->hash_mask;

	*used_hazard = false;
	if (hazard_slot >= 0)
	{
		b = bp_buf_pin_hazard(instance, li, bucket, space_id, page_no, hazard_slot);
		*used_hazard = (b != BP_INVALID_BLOCK);
	}
	else
		b = bp_buf_pin_optimistic(li, bucket, space_id, page_no);
	if (unlikely(b == BP_INVALID_BLOCK))
		b = bp_buf_fetch_slow(instance, h, space_id, page_no, &hit, false);
	bp_buf_accessed(inst, li, b);
	if (info)
	{
		info->hit = hit;
		info->instance = instance;
		info->block_id = bp_block_seq(inst, b);
		info->is_old = bp_desc(li, b)->is_old;
	}
	return bp_make_page(instance, b);
}

/* Fetch with an atomic pin, not remembered (internal callers). */
BpPage
bp_buf_fetch_raw(uint32 space_id, uint32 page_no, BpFetchInfo *info)
{
	bool		used_hazard;

	return bp_buf_fetch_internal(space_id, page_no, info, -1, &used_hazard);
}

void
bp_buf_release_raw(BpPage page)
{
	pg_atomic_fetch_sub_u32(&bp_page_desc(page)->state, BP_REFCOUNT_ONE);
}

BpPage
bp_page_fetch(uint32 space_id, uint32 page_no, BpFetchInfo *info)
{
	int			slot = bp_hazard_free_slot();
	bool		used_hazard;
	BpPage		p = bp_buf_fetch_internal(space_id, page_no, info, slot, &used_hazard);

	bp_pin_remember(p, used_hazard ? slot : -1);
	return p;
}

/*
 * A page to be written from scratch, pinned and locked exclusively, its
 * payload zeroed, without reading it (PostgreSQL's RBM_ZERO_AND_LOCK).
 * Its first logged change logs it whole (its file may hold anything);
 * until then an ERROR or bp_mtr_abort puts back what the pool had, and a
 * page that is never logged may show its file's content again once
 * evicted, as with PostgreSQL.
 */
BpPage
bp_page_fetch_new(uint32 space_id, uint32 page_no)
{
	uint64		h;
	int			instance;
	bool		hit;
	BpBlockNo	b;
	BpPage		p;
	BpPinEntry *e;

	bp_ensure_attached();
	h = bp_page_hash(space_id, page_no);
	instance = bp_instance_of(h);
	b = bp_buf_fetch_slow(instance, h, space_id, page_no, &hit, true);
	bp_buf_accessed(&BpShmem->instances[instance], &BpLocal[instance], b);
	p = bp_make_page(instance, b);
	bp_pin_remember(p, -1);
	bp_page_lock(p, BP_LOCK_EXCLUSIVE);
	e = &my_pins[n_my_pins - 1];
	e->is_new = true;
	/* the image is what the pool had; the payload starts at zero */
	memset(bp_page_data(p), 0, BpPageSize - BP_PAGE_HEADER_SIZE);
	return p;
}

void
bp_page_release(BpPage page)
{
	int			i;

	/* the common case: releasing the newest pin */
	if (likely(n_my_pins > 0 && my_pins[n_my_pins - 1].page == page))
		i = n_my_pins - 1;
	else
		i = bp_pin_find(page);
	if (my_pins[i].lock_mode >= 0)
		bp_page_unlock(page);
	if (my_pins[i].hazard >= 0)
		bp_hazard_clear(my_pins[i].hazard);
	else
		bp_buf_release_raw(page);
	my_pins[i] = my_pins[--n_my_pins];
}

/* One attempt at a block's content lock: false if a holder is in the way. */
static inline bool
bp_content_try(pg_atomic_uint32 *lock, bool exclusive)
{
	uint32		old = pg_atomic_read_u32(lock);

	for (;;)
	{
		uint32		want;

		if (exclusive)
		{
			if (old & (BP_CL_EXCLUSIVE | BP_CL_SHARED_MASK))
				return false;
			want = old | BP_CL_EXCLUSIVE;
		}
		else
		{
			if (old & BP_CL_EXCLUSIVE)
				return false;
			want = old + 1;
		}
		if (pg_atomic_compare_exchange_u32(lock, &old, want))
			return true;
	}
}

/*
 * Take a block's content lock (see BP_CL_EXCLUSIVE in pool.h).  The fast
 * path is one compare-and-swap.  A waiter first gets on the block's
 * condition variable, then sets BP_CL_WAITERS and tries again, so a
 * release that comes after the flag was set finds it and broadcasts.  As
 * with LWLockAcquire, interrupts are held off from here until the
 * release, and the wait cannot be cancelled.
 */
void
bp_content_lock(int instance, BpBlockNo b, bool exclusive)
{
	pg_atomic_uint32 *lock = &bp_desc(&BpLocal[instance], b)->content_lock;
	ConditionVariable *cv;

	HOLD_INTERRUPTS();
	if (likely(bp_content_try(lock, exclusive)))
		return;
	cv = bp_block_cv(instance, b);
	ConditionVariablePrepareToSleep(cv);
	for (;;)
	{
		pg_atomic_fetch_or_u32(lock, BP_CL_WAITERS);
		if (bp_content_try(lock, exclusive))
			break;
		ConditionVariableSleep(cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();

	/*
	 * The sleep reset our latch, which may have been set for another
	 * reason (a page cleaner's wake-up): set it again, so the process's
	 * next wait sees it.  At worst that wait ends early once.
	 */
	SetLatch(MyLatch);
}

void
bp_content_unlock(int instance, BpBlockNo b, bool exclusive)
{
	pg_atomic_uint32 *lock = &bp_desc(&BpLocal[instance], b)->content_lock;
	uint32		left;

	left = pg_atomic_sub_fetch_u32(lock, exclusive ? BP_CL_EXCLUSIVE : 1);
	Assert(exclusive ? !(left & BP_CL_EXCLUSIVE) : (left & BP_CL_SHARED_MASK) != BP_CL_SHARED_MASK);
	/* the last holder wakes the waiters; they race for it again */
	if (unlikely((left & BP_CL_WAITERS) && !(left & (BP_CL_EXCLUSIVE | BP_CL_SHARED_MASK))))
	{
		pg_atomic_fetch_and_u32(lock, ~BP_CL_WAITERS);
		ConditionVariableBroadcast(bp_block_cv(instance, b));
	}
	RESUME_INTERRUPTS();
}

/*
 * Release the page lock of a pin entry.  After an error, interrupts are
 * no longer held off for it (errfinish reset the count), so hold them for
 * the release as LWLockReleaseAll does.
 */
static void
bp_page_lock_drop(BpPinEntry *e, bool after_error)
{
	bool		exclusive = e->lock_mode == BP_LOCK_EXCLUSIVE;

	e->lock_mode = -1;
	if (e->image != NULL)
	{
		/* an aborted or leaked change: the frame goes back to what was logged */
		bp_image_restore(e);
		bp_image_drop(e);
	}
	if (after_error)
		HOLD_INTERRUPTS();
	bp_content_unlock(bp_page_instance(e->page), bp_page_block(e->page), exclusive);
}

/* Page locks go with an aborted subtransaction, as LWLocks do. */
static void
bp_page_locks_release(bool after_error)
{
	int			i;

	for (i = 0; i < n_my_pins; i++)
		if (my_pins[i].lock_mode >= 0)
			bp_page_lock_drop(&my_pins[i], after_error);
}

static void
bp_page_lock_exit(int code, Datum arg)
{
	bp_page_locks_release(true);
}

/* The pin entry of a page about to be locked; ERROR if it already is. */
static int
bp_page_lock_entry(BpPage page)
{
	int			i = bp_pin_find(page);

	if (my_pins[i].lock_mode >= 0)
		elog(ERROR, "bufpool page is already locked by this session");
	if (unlikely(!page_lock_exit_registered))
	{
		before_shmem_exit(bp_page_lock_exit, 0);
		page_lock_exit_registered = true;
	}
	return i;
}

void
bp_page_lock(BpPage page, BpLockMode mode)
{
	int			i = bp_page_lock_entry(page);

	bp_content_lock(bp_page_instance(page), bp_page_block(page), mode == BP_LOCK_EXCLUSIVE);
	my_pins[i].lock_mode = (int8) mode;
}

/*
 * Take a page's content lock only if no other holder is in the way: true
 * if it was taken (as by bp_page_lock), false at once otherwise.
 */
bool
bp_page_lock_conditional(BpPage page, BpLockMode mode)
{
	int			i = bp_page_lock_entry(page);

	HOLD_INTERRUPTS();
	if (!bp_content_try(&bp_page_desc(page)->content_lock, mode == BP_LOCK_EXCLUSIVE))
	{
		RESUME_INTERRUPTS();
		return false;
	}
	my_pins[i].lock_mode = (int8) mode;
	return true;
}

void
bp_page_unlock(BpPage page)
{
	int			i = bp_pin_find(page);
	BpBlockDesc *d = bp_page_desc(page);
	bool		was_exclusive = my_pins[i].lock_mode == BP_LOCK_EXCLUSIVE;

	if (my_pins[i].lock_mode < 0)
		elog(ERROR, "bufpool page is not locked by this session");
	if (my_pins[i].image != NULL)
	{
		bool		unlogged = bp_image_differs(&my_pins[i]);

		if (unlogged)
			bp_image_restore(&my_pins[i]);
		bp_image_drop(&my_pins[i]);
		if (unlogged)
		{
			my_pins[i].lock_mode = -1;
			bp_content_unlock(bp_page_instance(page), bp_page_block(page), was_exclusive);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("unlogged change to page %u of space %u discarded at unlock",
							d->page_no, d->space_id),
					 errhint("Log a change with bp_page_mark_dirty() or bp_page_write(), or make it in a mini-transaction, before unlocking.")));
		}
	}
	my_pins[i].lock_mode = -1;
	bp_content_unlock(bp_page_instance(page), bp_page_block(page), was_exclusive);

	/*
	 * The page cleaners' final flush may already have passed this page:
	 * write it ourselves.  Paired with the barrier in the cleaner.
	 */
	if (was_exclusive)
	{
		pg_memory_barrier();
		if (pg_atomic_read_u32(&BpShmem->shutting_down) &&
			(pg_atomic_read_u32(&d->state) & BP_BS_DIRTY))
		{
			bp_flush_block(bp_page_instance(page), bp_page_block(page), BP_FLUSH_SINGLE_PAGE);
			bp_space_sync_pending();
		}
	}
}

static inline char *
bp_page_payload(BpPage page)
{
	return bp_frame(&BpLocal[bp_page_instance(page)], bp_page_block(page)) + BP_PAGE_HEADER_SIZE;
}

/*
 * The payload of a pinned page.  Under an exclusive lock the first call
 * takes the before-image (see BpPinEntry).
 */
char *
bp_page_data(BpPage page)
{
	int			i;

	for (i = n_my_pins - 1; i >= 0; i--)
		if (my_pins[i].page == page)
		{
			if (my_pins[i].lock_mode == BP_LOCK_EXCLUSIVE && my_pins[i].image == NULL)
				bp_image_take(&my_pins[i]);
			break;
		}
	return bp_page_payload(page);
}

int
bp_page_payload_size(void)
{
	bp_check_preloaded();
	return BpShmem->page_size - (int) BP_PAGE_HEADER_SIZE;
}

/* The whole payload was (or may have been) changed: log all of it. */
uint64
bp_page_mark_dirty(BpPage page)
{
	int			i = bp_pin_find(page);
	uint64		lsn;

	if (my_pins[i].lock_mode != BP_LOCK_EXCLUSIVE)
		elog(ERROR, "bufpool page must be locked exclusively to be modified");
	lsn = bp_mark_dirty(bp_page_instance(page), bp_page_block(page), BP_REDO_PAGE, 0,
						bp_page_payload(page), (uint32) bp_page_payload_size());
	if (my_pins[i].image != NULL)
		memcpy(my_pins[i].image, bp_frame(&BpLocal[bp_page_instance(page)], bp_page_block(page)),
			   BpPageSize);
	my_pins[i].is_new = false;
	return lsn;
}

/* Change len bytes at offset of the payload, logging only them. */
uint64
bp_page_write(BpPage page, int offset, const char *data, int len)
{
	int			i = bp_pin_find(page);
	int			payload = bp_page_payload_size();
	uint64		lsn;

	if (my_pins[i].lock_mode != BP_LOCK_EXCLUSIVE)
		elog(ERROR, "bufpool page must be locked exclusively to be modified");
	if (offset < 0 || len < 0 || (int64) offset + len > payload)
		elog(ERROR, "bufpool page write of %d bytes at offset %d is outside the payload of %d bytes",
			 len, offset, payload);
	if (my_pins[i].is_new)
	{
		/* a new page is logged whole first (its file may hold old data) */
		(void) bp_page_data(page);	/* the image: an error puts it back */
		memcpy(bp_page_payload(page) + offset, data, len);
		return bp_page_mark_dirty(page);
	}
	/* logged first: if that fails (a log write error), the page is unchanged */
	lsn = bp_mark_dirty(bp_page_instance(page), bp_page_block(page), BP_REDO_BYTES,
						(uint32) offset, data, (uint32) len);
	memcpy(bp_page_payload(page) + offset, data, len);
	if (my_pins[i].image != NULL)
	{
		memcpy(my_pins[i].image + BP_PAGE_HEADER_SIZE + offset, data, len);
		((BpPageHeader *) my_pins[i].image)->lsn = lsn;
	}
	return lsn;
}

/*
 * Keep room in the log for every process's next record: while less than
 * the margin is left past the checkpoint, write the oldest dirty pages
 * and checkpoint.  Holds no lock; call it before locking a page.
 */
void
bp_log_free_check(void)
{
	bp_log_free_check_for(0);
}

/*
 * The same for a mini-transaction (extra > 0): reserve extra bytes of log
 * for its commit's group (bp_redo_reserve).
 */
void
bp_log_free_check_for(uint64 extra)
{
	bool		counted = false;

	bp_check_preloaded();
	bp_ensure_attached();
	while (!(extra > 0 ? bp_redo_reserve(extra, &counted) : bp_redo_has_room(&counted)))
	{
		int			i;

		for (i = 0; i < BpShmem->n_instances; i++)
			(void) bp_flush_list_batch(i, 64, 0);
		bp_space_sync_pending();
		(void) bp_redo_checkpoint();
		CHECK_FOR_INTERRUPTS();
	}
}

void
bp_log_commit(uint64 lsn)
{
	bp_redo_commit(lsn);
}

/* Release every pin (and page lock) this process still holds. */
static void
bp_buf_release_all(bool warn)
{
	bp_buf_release_owned(NULL, warn, "transaction end");
}

/*
 * Release the pins (and page locks) of resource owner owner (NULL: those
 * taken without one, and the transaction-scoped ones), newest first.  A
 * pin still there at a commit is a leak: a WARNING, as PostgreSQL gives
 * for a buffer.
 */
static void
bp_buf_release_owned(ResourceOwner owner, bool warn, const char *when)
{
	int			i;

	for (i = n_my_pins - 1; i >= 0; i--)
	{
		BpPinEntry *e = &my_pins[i];

		if (e->owner != owner)
			continue;
		if (warn && !e->xact_scoped)
		{
			BpBlockDesc *d = bp_page_desc(e->page);

			elog(WARNING, "bufpool page %u of space %u: pin leaked at %s",
				 d->page_no, d->space_id, when);
		}
		if (e->lock_mode >= 0)
			bp_page_lock_drop(e, !warn);
		if (e->hazard >= 0)
			bp_hazard_clear(e->hazard);
		else
			bp_buf_release_raw(e->page);
		my_pins[i] = my_pins[--n_my_pins];
	}
}

/*
 * Pins belong to the resource owner current at the fetch, as PostgreSQL
 * buffers do: when it is released (the end of a portal, a subtransaction
 * or the transaction) what it still holds is released, with a WARNING at
 * a commit.
 */
static void
bp_buf_resowner_release(ResourceReleasePhase phase, bool isCommit, bool isTopLevel, void *arg)
{
	if (phase != RESOURCE_RELEASE_BEFORE_LOCKS || n_my_pins == 0 || CurrentResourceOwner == NULL)
		return;
	bp_buf_release_owned(CurrentResourceOwner, isCommit, "the end of its resource owner");
}

static void
bp_buf_xact_callback(XactEvent event, void *arg)
{
	bp_counters_publish();
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		bp_redo_release_reservation();	/* of a mini-transaction that failed */
	if (n_my_pins == 0)
		return;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		bp_buf_release_all(false);
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
			 event == XACT_EVENT_PREPARE)
		bp_buf_release_all(true);
}

/*
 * Keep a page pinned until the end of the transaction (bufpool.pin_page):
 * an atomic pin, so it is visible in fix_count and holds off eviction,
 * relocation and shrinking.
 */
void
bp_buf_pin_for_xact(uint32 space_id, uint32 page_no)
{
	BpPage		p = bp_buf_fetch_raw(space_id, page_no, NULL);

	bp_pin_remember(p, -1);
	my_pins[n_my_pins - 1].xact_scoped = true;
	my_pins[n_my_pins - 1].owner = NULL;	/* the transaction's end releases it */
}

static void
bp_buf_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		bp_redo_release_reservation();
		bp_page_locks_release(true);
	}
}

/* the public API's version and load check (bufpool.h, bp_api_require) */
PGDLLEXPORT const int bp_api_version_num = BUFPOOL_EXT_VERSION_NUM;
static bool bp_preloaded = false;

bool
bp_api_is_preloaded(void)
{
	return bp_preloaded;
}

/* At the load through shared_preload_libraries (_PG_init). */
void
bp_buf_init(void)
{
	bp_preloaded = true;
	RegisterXactCallback(bp_buf_xact_callback, NULL);
	RegisterSubXactCallback(bp_buf_subxact_callback, NULL);
	RegisterResourceReleaseCallback(bp_buf_resowner_release, NULL);
	/* the buddy allocator's frames come from the LRU's free list */
	bp_buddy_set_frame_source(bp_lru_get_memory_block, bp_lru_put_memory_block);
}

/*
 * Look up a page without reading it.  Returns the pinned block or
 * BP_INVALID_PAGE if the pool does not hold it (VALID).
 */
BpPage
bp_buf_peek(uint32 space_id, uint32 page_no)
{
	uint64		h;
	int			instance;
	BpLocalInstance *li;
	uint32		bucket;
	BpBlockNo	b;

	bp_ensure_attached();
	h = bp_page_hash(space_id, page_no);
	instance = bp_instance_of(h);
	li = &BpLocal[instance];
	bucket = (uint32) h & li->hash_mask;
	b = bp_buf_pin_optimistic(li, bucket, space_id, page_no);
	if (b == BP_INVALID_BLOCK)
	{
		b = bp_buf_lookup_pin(instance, h, space_id, page_no);
		if (b == BP_INVALID_BLOCK)
			return BP_INVALID_PAGE;
		bp_wait_io_read(instance, b);
		if (!(pg_atomic_read_u32(&bp_desc(li, b)->state) & BP_BS_VALID))
		{
			pg_atomic_fetch_sub_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
			return BP_INVALID_PAGE;
		}
	}
	return bp_make_page(instance, b);
}

/*
 * Evict one page (bufpool.evict): write it first if dirty, then take it
 * out of the pool.  Returns false if it is not in the pool or pinned by
 * another session.  With keep_zip, a page of a compressed space loses only
 * its frame and keeps its compressed image in memory (zip.c), as an
 * eviction from the unzip_LRU does.
 */
bool
bp_buf_evict_page(uint32 space_id, uint32 page_no, bool keep_zip)
{
	BpPage		p = bp_buf_peek(space_id, page_no);
	int			instance;
	BpBlockNo	b;
	bool		evicted;

	if (p == BP_INVALID_PAGE)
		return false;
	instance = bp_page_instance(p);
	b = bp_page_block(p);
	PG_TRY();
	{
		if (pg_atomic_read_u32(&bp_page_desc(p)->state) & BP_BS_DIRTY)
		{
			bp_flush_block(instance, b, BP_FLUSH_SINGLE_PAGE);
			bp_space_sync_pending();
		}
	}
	PG_CATCH();
	{
		bp_buf_release_raw(p);
		PG_RE_THROW();
	}
	PG_END_TRY();
	evicted = bp_lru_evict_pinned_mode(instance, b, keep_zip ? BP_ZIP_EVICT_FRAME : BP_ZIP_EVICT_ALL);
	if (evicted)
	{
		bp_my_counters(instance)->evicted++;
		bp_lru_return_free_block(instance, b);
	}
	else
		bp_buf_release_raw(p);
	return evicted;
}

/*
 * Take one block of a dropped space out of the pool, dirty or not.
 * Caller holds the only pin besides transient ones.  Returns false if
 * others still pin it.
 */
static bool
bp_buf_discard_block(int instance, BpBlockNo b)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	uint64		h = bp_page_hash(d->space_id, d->page_no);
	LWLock	   *part = bp_hash_lock(inst, h);
	uint32		bucket;
	uint32		st;

	/* wait for a write in progress; then no new one can start (no space) */
	bp_block_wait_clear(instance, b, BP_BS_IO_WRITE | BP_BS_IO_READ);

	bucket = bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
	if (bp_block_try_invalidate(instance, b, BP_BS_IO_WRITE | BP_BS_IO_READ, &st) != BP_INVAL_DONE)
	{
		LWLockRelease(part);
		return false;
	}
	bp_zip_block_evicted(li, h, b, BP_ZIP_EVICT_ALL);
	bp_hash_remove(li, bucket, b);
	d->space_id = InvalidOid;
	LWLockRelease(part);

	if (st & BP_BS_DIRTY)
	{
		LWLockAcquire(&inst->flush_lock.lock, LW_EXCLUSIVE);
		bp_flush_list_remove(inst, li, b);
		d->oldest_lsn = 0;
		pg_atomic_fetch_and_u32(&d->state, ~BP_BS_DIRTY);
		LWLockRelease(&inst->flush_lock.lock);
	}
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (d->list == BP_LIST_LRU)
		bp_lru_remove(inst, li, b);
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
	bp_free_push(inst, li, b);
	LWLockRelease(&inst->lru_lock.lock);
	return true;
}

/*
 * Warm-restart load (warm.c), step 1: take a block for page (space_id,
 * page_no) from the free list, only while it holds more than keep blocks,
 * and claim it for the page as a miss does (hashed, IO_READ set, pinned),
 * at the head of the LRU (young) or of its old sublist.  Sessions that
 * want the page meanwhile wait for the loader's read, as for another
 * session's.  Returns BP_INVALID_BLOCK and sets *skip if the page is in
 * the pool already or no free block is spare; never evicts.
 */
BpBlockNo
bp_buf_load_claim(uint32 space_id, uint32 page_no, bool young, uint32 keep,
				  int *instance_out, int *skip)
{
	uint64		h = bp_page_hash(space_id, page_no);
	int			instance = bp_instance_of(h);
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	LWLock	   *part = bp_hash_lock(inst, h);
	uint32		bucket;
	BpBlockNo	b;
	BpBlockNo	fb;

	*instance_out = instance;
	b = bp_buf_lookup_pin(instance, h, space_id, page_no);
	if (b != BP_INVALID_BLOCK)
	{
		pg_atomic_fetch_sub_u32(&bp_desc(li, b)->state, BP_REFCOUNT_ONE);
		*skip = BP_SKIP_PRESENT;
		return BP_INVALID_BLOCK;
	}
	fb = bp_lru_get_spare_block(instance, keep);
	if (fb == BP_INVALID_BLOCK)
	{
		*skip = BP_SKIP_NO_FREE;
		return BP_INVALID_BLOCK;
	}
	bucket = bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
	if (bp_hash_lookup(li, bucket, space_id, page_no) != BP_INVALID_BLOCK)
	{
		LWLockRelease(part);
		bp_lru_return_free_block(instance, fb);
		*skip = BP_SKIP_PRESENT;
		return BP_INVALID_BLOCK;
	}
	bp_buf_claim_block(li, bucket, fb, space_id, page_no);
	(void) bp_zip_claim(li, h, fb, space_id, page_no, false);	/* read from disk */
	LWLockRelease(part);
	pg_atomic_fetch_add_u32(&inst->pending_reads, 1);

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	bp_lru_put_loaded(inst, li, fb, young);
	LWLockRelease(&inst->lru_lock.lock);
	return fb;
}

/*
 * Warm-restart load, step 2: the claimed block's frame holds the page
 * read (ok) or the read failed or the image was bad (!ok: the block
 * leaves the hash, waiters retry with their own read).  Drops the pin.
 */
void
bp_buf_load_done(int instance, BpBlockNo b, bool ok)
{
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);

	if (!ok)
	{
		bp_buf_read_failed(instance, bp_page_hash(d->space_id, d->page_no), b);
		return;
	}
	bp_buf_read_complete(&BpShmem->instances[instance], d,
						 ((BpPageHeader *) bp_frame(li, b))->lsn);
	ConditionVariableBroadcast(bp_block_cv(instance, b));
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
}

/*
 * Warm-restart load, step 3 (once the load is over): move the page, if
 * the pool holds it and it is on the LRU, to the head of the list (young)
 * or of its old sublist.  Called for the loaded pages coldest first, so
 * the list ends in the dump's order.  Returns false if the page is gone.
 */
bool
bp_buf_load_place(uint32 space_id, uint32 page_no, bool young)
{
	uint64		h = bp_page_hash(space_id, page_no);
	int			instance = bp_instance_of(h);
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockNo	b;
	BpBlockDesc *d;
	bool		placed = false;

	b = bp_buf_lookup_pin(instance, h, space_id, page_no);
	if (b == BP_INVALID_BLOCK)
		return false;
	d = bp_desc(li, b);
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (d->list == BP_LIST_LRU && (pg_atomic_read_u32(&d->state) & BP_BS_VALID))
	{
		bp_lru_put_loaded(inst, li, b, young);
		placed = true;
	}
	LWLockRelease(&inst->lru_lock.lock);
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
	return placed;
}

/*
 * bp_buf_discard_block, dropping the caller's pin if it ends in an ERROR
 * (its wait for I/O can be cancelled).
 */
static bool
bp_buf_discard_block_pinned(int instance, BpBlockNo b)
{
	bool		done = false;

	PG_TRY();
	{
		done = bp_buf_discard_block(instance, b);
	}
	PG_CATCH();
	{
		pg_atomic_fetch_sub_u32(&bp_desc(&BpLocal[instance], b)->state, BP_REFCOUNT_ONE);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return done;
}

/*
 * Throw away every page of a space being dropped.  Waits at most
 * BP_DISCARD_WAIT_MS for pins to go.
 */
static void
bp_buf_discard_space(uint32 space_id)
{
	TimestampTz start = GetCurrentTimestamp();
	int64		found;

	/*
	 * Repeat until a pass finds nothing: a shrink running meanwhile can
	 * relocate a page into a block this pass has already looked at.  No
	 * new page of the space comes in (it is DROPPING), so this ends.
	 */
	do
	{
		int			i;

		found = 0;
		bp_ensure_attached();
		for (i = 0; i < BpShmem->n_instances; i++)
		{
			BpInstance *inst = &BpShmem->instances[i];
			BpLocalInstance *li = &BpLocal[i];
			int			c;

			for (c = 0; c < inst->n_chunks && c < li->n_chunks; c++)
			{
				uint32		k;

				for (k = 0; k < inst->blocks_per_chunk; k++)
				{
					BpBlockNo	b = BP_MAKE_BLOCK(c, k);
					BpBlockDesc *d = bp_desc(li, b);

					while (d->space_id == space_id &&
						   (pg_atomic_read_u32(&d->state) & (BP_BS_VALID | BP_BS_IO_READ)))
					{
						found++;
						/* pin only if it is still that space's page */
						pg_atomic_fetch_add_u32(&d->state, BP_REFCOUNT_ONE);
						if (d->space_id == space_id &&
							bp_buf_discard_block_pinned(i, b))
							break;
						pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
						if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), BP_DISCARD_WAIT_MS))
							ereport(ERROR,
									(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
									 errmsg("page %u of bufpool space %u stayed pinned for %d ms",
											d->page_no, space_id, BP_DISCARD_WAIT_MS),
									 errhint("The space is left in state dropping; drop it again once the page is released.")));
						CHECK_FOR_INTERRUPTS();
						pg_usleep(1000L);
					}
				}
			}
		}
	} while (found > 0);
}

/*
 * Drop a space: mark it DROPPING (no new read of its pages starts),
 * throw away the pool's pages of it, then remove its file.  An error in
 * the middle leaves it DROPPING; dropping it again finishes the job.
 */
void
bp_buf_drop_space(uint32 space_id)
{
	bp_space_mark_dropping(space_id);
	bp_buf_discard_space(space_id);
	bp_zip_drop_space(space_id);
	bp_space_remove(space_id);
}

/* The public API's drop (bufpool.h). */
void
bp_space_drop(uint32 space_id)
{
	bp_check_preloaded();
	bp_ensure_attached();
	bp_buf_drop_space(space_id);
}
