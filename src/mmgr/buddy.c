/*-------------------------------------------------------------------------
 *
 * buddy.c
 *	  Binary buddy allocator over shared memory, one per buffer-pool
 *	  instance, and whole buffer-pool frames for memory use.
 *
 * Purpose.  Other modules (shared arenas, heaps, caches of the redo log)
 * need variable-sized pieces of memory that every process can reach.
 * InnoDB gets them for compressed pages from buf0buddy.cc, a buddy
 * allocator over buffer-pool frames; this is the same idea made general:
 * blocks of 2^k bytes, 64 bytes (2^BP_BUDDY_MIN_SHIFT) up to one page.
 *
 * Memory.  Each instance's buddy pool has two sources:
 *	 (a) a fixed region in main shared memory, bufpool_ext.buddy_size split
 *		 evenly between the instances and rounded down to whole pages,
 *		 4 kB aligned; its pages are the initial top-level free blocks;
 *	 (b) when no free block is large enough, a whole frame of the buffer
 *		 pool (bp_pool_frame_alloc's mechanism) becomes one more top-level
 *		 block.  A frame whose pieces have all merged back is returned to
 *		 the pool's free list at once.
 * Frames are only taken from chunk 0 of the instance: a shrink never
 * removes chunk 0, so a memory block never has to be relocated or
 * withdrawn (InnoDB relocates used buddy blocks; we never do, and the
 * relocation columns of bufpool.buddy_stats stay 0).  A frame used as
 * memory is on BP_LIST_MEMORY, keeps one pin and is neither VALID nor in
 * the page hash, so eviction, the page cleaners' tail work and the
 * withdraw pass of a shrink never look at it.  At most half of chunk 0's
 * blocks may be memory at once (the pool's frame source), and a buddy
 * pool holds at most BP_BUDDY_MAX_FRAMES of them.
 *
 * Addresses.  Shared memory maps at different addresses in each
 * process, so nothing here stores a pointer.  A BpShmAddr is 64 bits:
 *
 *	  63..62  kind: 1 = region, 2 = frame (0 only in BP_SHM_NULL)
 *	  61..56  buffer-pool instance (0..63)
 *	  region: 55..0  byte offset in the instance's region
 *	  frame:  55..24 BpBlockNo of the frame (chunk 0),
 *			  23..0  byte offset in the frame
 *
 * so an address plus a byte offset inside its block is still the address
 * of that byte, and bp_shm_ptr() turns any of them into a pointer: region
 * base + offset, or bp_frame() of the block (after bp_ensure_attached)
 * + offset.
 *
 * Inside one pool, blocks are named by a 32-bit unit number ("pos", 64
 * bytes a unit): the region's units first, then BP_BUDDY_MAX_FRAMES (or
 * fewer) frame slots of one page each.  Top-level blocks are aligned to
 * a page in this numbering, so the buddy of the block of order k at pos
 * is pos ^ (1 << k), as in every binary buddy system.  Per unit, a byte
 * map says whether a block starts there, its order, and whether it is
 * free or handed out: a free is checked against it (wrong address, wrong
 * size, double free are ERRORs, never corruption), and merging looks the
 * buddy up there.  Free blocks are on a doubly linked list per order; the
 * links (unit numbers) live in the free blocks themselves.  A frame slot
 * is found from the frame's block descriptor: its page_no carries
 * BP_MEMORY_TAG_BUDDY | slot while the buddy pool holds it.
 *
 * Allocation pops the smallest free block of the wanted order or above
 * and splits it, pushing the upper halves; a free merges with its buddy
 * while the buddy is free and of the same order, up to a page.  This is
 * InnoDB's buf_buddy_alloc / buf_buddy_free, and like those, free must be
 * told the size that was asked for.
 *
 * Deferred frees.  An alloc+free pair on an empty pool would split a page
 * into every order on the way down and merge it all back on free.  So a
 * freed block of the region whose order's cache slot is empty is parked
 * there unmerged (map entry CACHED), and an allocation of that order takes
 * the parked block first.  Unmerged memory is thus at most one block per
 * order per pool (with its free buddies).  A free that finds its buddy
 * parked merges with it (the slot empties).  Frame blocks are never
 * parked, so a frame still leaves the pool as soon as its pieces are all
 * free.  Whatever needs merged memory merges the cache first
 * (bp_buddy_flush_locked): an allocation before it takes a frame,
 * bufpool.buddy_stats before it counts (so pages_free is what it was
 * without the cache), and the startup-state check of buddy_test_random.
 * Parked blocks are free: not in used bytes, n_used or the memory
 * accounting (which is charged per call), and freeing one again is a
 * double free.
 *
 * Accounting (memstat.h), as performance_schema would show it:
 *	 memory/bufpool/buddy_pool	what the buddy pools reserve: each region
 *								(counted at start-up, in the fold row of
 *								the postmaster and exited processes) and
 *								every frame taken (count = top-level
 *								blocks);
 *	 memory/bufpool/buddy		blocks handed out, at their block size
 *								(what the request really takes), when the
 *								caller gives no instrument of its own;
 *	 memory/bufpool/pool_frame	frames of bp_pool_frame_alloc without an
 *								instrument of the caller.
 * The instruments are layered, not disjoint: buddy blocks live inside
 * buddy_pool's reserve, and frames (of the buddy pool or not) inside
 * memory/bufpool/chunk.  performance_schema has the same overlap between
 * an allocator's own instrument and its callers' (memory/innodb/mem0mem
 * vs what the heaps are for); read reserve and use from one layer.
 * bufpool.heaps lists each instance's pool as "buddy/<instance>": blocks =
 * frames held, bytes reserved = region + frames, bytes used = blocks
 * handed out.
 *
 * Locking.  One spinlock per instance's pool (mutex) protects its free
 * lists, cache, byte map, frame slots, counters and its bufpool.heaps
 * slot.  It was an LWLock; the two acquire/release round trips were half
 * of an alloc+free pair, and every section under the lock is short:
 * nothing in it can ereport, palloc, CHECK_FOR_INTERRUPTS, take another
 * lock or map memory (bp_buddy_lock maps chunk 0 before it returns, if
 * the pool holds frames; every error is raised after the release).  The
 * sections and their bounds (T = top_order, 7 for 8 kB pages, at most 15):
 *	 - alloc from the cache, or park a free: a dozen loads and stores;
 *	 - alloc with splits, or free with merges: at most T steps, each a few
 *	   stores into the links of free blocks (cache lines that may be cold);
 *	 - an allocation that misses, and buddy_stats: merge the cache, at most
 *	   T + 1 blocks of at most T steps (56 for 8 kB pages);
 *	 - reserving a frame slot: a scan from slot_hint, usually one compare,
 *	   at most n_slots (1024) compares of a 4 kB array.
 * The longest is a few microseconds when every link it touches is a cache
 * miss (or the first touch of a region page in this process takes a minor
 * fault); typically it is tens of nanoseconds.  Waiters spin in s_lock for
 * that long at most, never for anything that can block.
 *
 * The invariant checks of the tests walk a whole pool (every map byte of
 * the region and of up to n_slots frames, every free list): far too long
 * for a spinlock.  They freeze the pool instead: take freeze_lock (an
 * LWLock, tranche bufpool_ext_buddy) exclusively, set frozen under the
 * spinlock, walk without it, clear frozen, release.  bp_buddy_lock sees
 * frozen and waits on freeze_lock in shared mode (sleeping, not spinning),
 * then tries again.  Nothing between freeze and unfreeze may fail (a
 * violation is written into a static buffer and reported as a WARNING
 * after unfreezing), else the pool would stay frozen.
 *
 * Both locks are leaves: no other lock is taken while either is held
 * (the frozen walk holds only freeze_lock).  Taking a frame (which takes
 * lru_lock, maybe a hash partition lock and I/O for eviction) or giving
 * one back is done with the spinlock released: reserve a slot, release,
 * take the frame, retake the lock, then install the frame and allocate in
 * that same hold, so no process ever sees a held frame that is wholly
 * free (if the block came from elsewhere, the whole frame leaves again).
 * Memory accounting is done after the lock is released.
 *
 * IDENTIFICATION
 *	  src/mmgr/buddy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>
#include <unistd.h>

#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/shared/shmem.h"

/* the pool's frames for memory use (bp_buddy_set_frame_source) */
static BpFrameGetFn bp_frame_get = NULL;
static BpFramePutFn bp_frame_put = NULL;

/* BpShmAddr layout (see the header comment) */
#define BP_SHM_KIND_REGION		UINT64CONST(1)
#define BP_SHM_KIND_FRAME		UINT64CONST(2)
#define BP_SHM_KIND(a)			((a) >> 62)
#define BP_SHM_INSTANCE(a)		((int) (((a) >> 56) & 0x3F))
#define BP_SHM_REGION_OFF(a)	((a) & ((UINT64CONST(1) << 56) - 1))
#define BP_SHM_FRAME_BLOCK(a)	((BpBlockNo) (((a) >> 24) & 0xFFFFFFFF))
#define BP_SHM_FRAME_OFF(a)		((a) & ((UINT64CONST(1) << 24) - 1))
#define BP_SHM_MAKE_REGION(i, off) \
	((BP_SHM_KIND_REGION << 62) | ((uint64) (i) << 56) | (uint64) (off))
#define BP_SHM_MAKE_FRAME(i, b, off) \
	((BP_SHM_KIND_FRAME << 62) | ((uint64) (i) << 56) | ((uint64) (b) << 24) | (uint64) (off))

/* byte map entry of the unit where a block starts (0 elsewhere) */
#define BP_BUDDY_FREE			0x80
#define BP_BUDDY_USED			0x40
#define BP_BUDDY_CACHED			0x20	/* free, parked in cache[order] */
#define BP_BUDDY_ORDER(m)		((m) & 0x0F)

#define BP_BUDDY_NIL			0xFFFFFFFFU
#define BP_BUDDY_MAX_FRAMES		1024	/* frame slots per instance at most */
#define BP_BUDDY_SLOT_FREE		BP_INVALID_BLOCK
#define BP_BUDDY_SLOT_PENDING	(BP_INVALID_BLOCK - 1)	/* a frame is being taken */

/* free-list links, in the first bytes of every free block */
typedef struct BpBuddyLink
{
	uint32		next;
	uint32		prev;
} BpBuddyLink;

/*
 * One instance's buddy pool.  Fields marked "mutex" may be read or written
 * only by the holder of mutex while frozen is false, or by the process
 * that froze the pool (see Locking in the header comment).
 */
typedef struct BpBuddyPool
{
	slock_t		mutex;
	bool		frozen;			/* mutex: a checker owns the pool */

	/* mutex */
	uint32		free_mask;		/* bit k: free_head[k] is not empty */
	int64		used_bytes;		/* block sizes handed out */
	uint32		cache[BP_BUDDY_MAX_ORDERS]; /* parked free block, or NIL */
	uint32		free_head[BP_BUDDY_MAX_ORDERS];
	int64		n_free[BP_BUDDY_MAX_ORDERS];	/* on the free lists */
	int64		n_used[BP_BUDDY_MAX_ORDERS];
	int64		reserved_bytes; /* region + frames */
	int			n_frames;		/* slots holding a frame */
	uint32		slot_hint;		/* no slot below it is free */

	/* held exclusively by a checker, waited on while frozen */
	LWLock		freeze_lock;

	/* set at startup */
	int			instance;
	Size		map_off;		/* from BpBuddy: uint8 map[units] */
	Size		slots_off;		/* from BpBuddy: BpBlockNo slots[n_slots] */
	Size		region_off;		/* from BpBuddy: the region */
	int64		info_off;		/* from BpBuddy: bufpool.heaps slot, 0 if none */
} BpBuddyPool;

typedef struct BpBuddyShared
{
	int			n_instances;
	int			page_size;
	int			top_order;		/* a page is 64 << top_order bytes */
	uint32		region_units;	/* per instance, a multiple of the page's units */
	uint32		n_slots;		/* frame slots per instance */
	int			tranche;
	Size		pool_stride;
	Size		pools_off;
} BpBuddyShared;

static BpBuddyShared *BpBuddy = NULL;

/* instruments, registered by each process at its first use */
static BpMemKey key_buddy = 0;
static BpMemKey key_buddy_pool = 0;
static BpMemKey key_pool_frame = 0;

/* ----------------------------------------------------------------------
 * Layout
 * ---------------------------------------------------------------------- */

static Size
bp_buddy_region_bytes(void)
{
	Size		per = (Size) bp_buddy_size_kb * 1024 / bp_instances;

	return per - per % bp_page_size;
}

static uint32
bp_buddy_n_slots(void)
{
	Size		blocks = ((Size) bp_chunk_size_mb * 1024 * 1024) / bp_page_size;

	return (uint32) Min(blocks / 2, BP_BUDDY_MAX_FRAMES);
}

static Size
bp_buddy_map_bytes(void)
{
	return bp_buddy_region_bytes() / 64 +
		(Size) bp_buddy_n_slots() * (bp_page_size / 64);
}

static Size
bp_buddy_pool_stride(void)
{
	return TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(BpBuddyPool));
}

Size
bp_buddy_shmem_size(void)
{
	Size		size = TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(BpBuddyShared));

	size = add_size(size, mul_size(bp_instances, bp_buddy_pool_stride()));
	size = add_size(size, mul_size(bp_instances, MAXALIGN(bp_buddy_map_bytes())));
	size = add_size(size, mul_size(bp_instances,
								   MAXALIGN(sizeof(BpBlockNo) * bp_buddy_n_slots())));
	size = add_size(size, BP_BUDDY_REGION_ALIGN);
	return add_size(size, mul_size(bp_instances, bp_buddy_region_bytes()));
}

static inline BpBuddyPool *
bp_buddy_pool(int instance)
{
	return (BpBuddyPool *) ((char *) BpBuddy + BpBuddy->pools_off +
							(Size) instance * BpBuddy->pool_stride);
}

static inline uint8 *
bp_buddy_map(BpBuddyPool *bp)
{
	return (uint8 *) BpBuddy + bp->map_off;
}

static inline BpBlockNo *
bp_buddy_slots(BpBuddyPool *bp)
{
	return (BpBlockNo *) ((char *) BpBuddy + bp->slots_off);
}

static inline char *
bp_buddy_region(BpBuddyPool *bp)
{
	return (char *) BpBuddy + bp->region_off;
}

static inline BpAllocInfo *
bp_buddy_info(BpBuddyPool *bp)
{
	return bp->info_off != 0 ? (BpAllocInfo *) ((char *) BpBuddy + bp->info_off) : NULL;
}

/* unit number of the first unit of frame slot s */
static inline uint32
bp_buddy_slot_pos(uint32 s)
{
	return BpBuddy->region_units + (s << BpBuddy->top_order);
}

/*
 * Pointer in this process to the unit pos.  For a frame, chunk 0 of the
 * instance must be mapped here (bp_buddy_lock makes sure).
 */
static inline char *
bp_buddy_pos_ptr(BpBuddyPool *bp, uint32 pos)
{
	uint32		rel;

	if (likely(pos < BpBuddy->region_units))
		return bp_buddy_region(bp) + ((Size) pos << BP_BUDDY_MIN_SHIFT);
	rel = pos - BpBuddy->region_units;
	return bp_frame(&BpLocal[bp->instance], bp_buddy_slots(bp)[rel >> BpBuddy->top_order]) +
		((Size) (rel & ((1U << BpBuddy->top_order) - 1)) << BP_BUDDY_MIN_SHIFT);
}

static inline BpBuddyLink *
bp_buddy_link(BpBuddyPool *bp, uint32 pos)
{
	return (BpBuddyLink *) bp_buddy_pos_ptr(bp, pos);
}

/* The BpShmAddr of unit pos.  Caller holds the lock. */
static BpShmAddr
bp_buddy_pos_addr(BpBuddyPool *bp, uint32 pos)
{
	uint32		rel;

	if (pos < BpBuddy->region_units)
		return BP_SHM_MAKE_REGION(bp->instance, (uint64) pos << BP_BUDDY_MIN_SHIFT);
	rel = pos - BpBuddy->region_units;
	return BP_SHM_MAKE_FRAME(bp->instance, bp_buddy_slots(bp)[rel >> BpBuddy->top_order],
							 (uint64) (rel & ((1U << BpBuddy->top_order) - 1)) << BP_BUDDY_MIN_SHIFT);
}

/* ----------------------------------------------------------------------
 * Free lists; caller holds the pool's lock
 * ---------------------------------------------------------------------- */

static inline void
bp_buddy_push(BpBuddyPool *bp, uint32 pos, int k)
{
	BpBuddyLink *l = bp_buddy_link(bp, pos);
	uint32		head = bp->free_head[k];

	l->next = head;
	l->prev = BP_BUDDY_NIL;
	if (head != BP_BUDDY_NIL)
		bp_buddy_link(bp, head)->prev = pos;
	bp->free_head[k] = pos;
	bp->free_mask |= 1U << k;
	bp_buddy_map(bp)[pos] = BP_BUDDY_FREE | k;
	bp->n_free[k]++;
}

static inline uint32
bp_buddy_pop(BpBuddyPool *bp, int k)
{
	uint32		pos = bp->free_head[k];
	BpBuddyLink *l = bp_buddy_link(bp, pos);

	bp->free_head[k] = l->next;
	if (l->next != BP_BUDDY_NIL)
		bp_buddy_link(bp, l->next)->prev = BP_BUDDY_NIL;
	else
		bp->free_mask &= ~(1U << k);
	bp->n_free[k]--;
	return pos;
}

static inline void
bp_buddy_unlink(BpBuddyPool *bp, uint32 pos, int k)
{
	BpBuddyLink *l = bp_buddy_link(bp, pos);

	if (l->prev != BP_BUDDY_NIL)
		bp_buddy_link(bp, l->prev)->next = l->next;
	else
		bp->free_head[k] = l->next;
	if (l->next != BP_BUDDY_NIL)
		bp_buddy_link(bp, l->next)->prev = l->prev;
	if (bp->free_head[k] == BP_BUDDY_NIL)
		bp->free_mask &= ~(1U << k);
	bp->n_free[k]--;
}

/* Take a block of order k, splitting a larger one; BP_BUDDY_NIL if none. */
static inline uint32
bp_buddy_alloc_locked(BpBuddyPool *bp, int k)
{
	uint32		avail = bp->free_mask & ~((1U << k) - 1);
	uint32		pos;
	int			j;

	if (avail == 0)
		return BP_BUDDY_NIL;
	j = pg_rightmost_one_pos32(avail);
	pos = bp_buddy_pop(bp, j);
	while (j > k)
	{
		j--;
		bp_buddy_push(bp, pos + (1U << j), j);
	}
	bp_buddy_map(bp)[pos] = BP_BUDDY_USED | k;
	bp->n_used[k]++;
	bp->used_bytes += (int64) 1 << (k + BP_BUDDY_MIN_SHIFT);
	return pos;
}

/* Empty frame slot s.  Caller holds the lock. */
static inline void
bp_buddy_release_slot(BpBuddyPool *bp, uint32 s)
{
	bp_buddy_slots(bp)[s] = BP_BUDDY_SLOT_FREE;
	if (s < bp->slot_hint)
		bp->slot_hint = s;
}

/*
 * Put the free block of order k at pos (its map entry no longer counts)
 * on a free list, merged with its free buddies: those on a free list and
 * the one parked in the cache.  If that frees a whole frame, the frame
 * leaves the pool: its slot is emptied and its block number returned,
 * for the caller to give back to the buffer pool once the lock is
 * released (with *slot set).  Otherwise returns BP_INVALID_BLOCK.
 * Caller holds the lock.
 */
static BpBlockNo
bp_buddy_merge_locked(BpBuddyPool *bp, uint32 pos, int k, uint32 *slot)
{
	uint8	   *map = bp_buddy_map(bp);
	int			top = BpBuddy->top_order;

	map[pos] = 0;
	while (k < top)
	{
		uint32		buddy = pos ^ (1U << k);

		if (map[buddy] == (BP_BUDDY_FREE | k))
			bp_buddy_unlink(bp, buddy, k);
		else if (map[buddy] == (BP_BUDDY_CACHED | k))
			bp->cache[k] = BP_BUDDY_NIL;
		else
			break;
		map[buddy] = 0;
		pos &= ~(1U << k);
		k++;
	}
	if (k == top && pos >= BpBuddy->region_units)
	{
		uint32		s = (pos - BpBuddy->region_units) >> top;
		BpBlockNo	b = bp_buddy_slots(bp)[s];

		bp_buddy_release_slot(bp, s);
		bp->n_frames--;
		bp->reserved_bytes -= BpBuddy->page_size;
		*slot = s;
		return b;
	}
	bp_buddy_push(bp, pos, k);
	return BP_INVALID_BLOCK;
}

/*
 * Give back the used block of order k at pos (checked by the caller).  A
 * block of the region goes to the cache of its order if that is empty,
 * unmerged; anything else is merged at once (bp_buddy_merge_locked, which
 * says what it returns).  Frame blocks are never cached, so that a frame
 * whose pieces are all free leaves the pool at once.  Caller holds the lock.
 */
static inline BpBlockNo
bp_buddy_free_locked(BpBuddyPool *bp, uint32 pos, int k, uint32 *slot)
{
	bp->n_used[k]--;
	bp->used_bytes -= (int64) 1 << (k + BP_BUDDY_MIN_SHIFT);
	if (likely(pos < BpBuddy->region_units && bp->cache[k] == BP_BUDDY_NIL))
	{
		bp_buddy_map(bp)[pos] = BP_BUDDY_CACHED | k;
		bp->cache[k] = pos;
		return BP_INVALID_BLOCK;
	}
	return bp_buddy_merge_locked(bp, pos, k, slot);
}

/*
 * Merge every cached block, smallest first (so that a block merging up
 * to the order of a larger cached buddy takes that one along too).  Only
 * region blocks are cached, so no frame can become free here.  At most
 * top_order + 1 blocks of top_order merge steps each.  Caller holds the
 * lock.
 */
static void
bp_buddy_flush_locked(BpBuddyPool *bp)
{
	int			k;

	for (k = 0; k <= BpBuddy->top_order; k++)
	{
		uint32		pos = bp->cache[k];
		uint32		slot;
		BpBlockNo	frame PG_USED_FOR_ASSERTS_ONLY;

		if (pos == BP_BUDDY_NIL)
			continue;
		bp->cache[k] = BP_BUDDY_NIL;
		frame = bp_buddy_merge_locked(bp, pos, k, &slot);
		Assert(frame == BP_INVALID_BLOCK);
	}
}

/*
 * Take a block of order k: the cached one, else from the free lists (with
 * splits), else after merging the cache.  BP_BUDDY_NIL if none.  Caller
 * holds the lock.
 */
static inline uint32
bp_buddy_take_locked(BpBuddyPool *bp, int k)
{
	uint32		pos = bp->cache[k];
	int			j;

	if (likely(pos != BP_BUDDY_NIL))
	{
		bp->cache[k] = BP_BUDDY_NIL;
		bp_buddy_map(bp)[pos] = BP_BUDDY_USED | k;
		bp->n_used[k]++;
		bp->used_bytes += (int64) 1 << (k + BP_BUDDY_MIN_SHIFT);
		return pos;
	}
	pos = bp_buddy_alloc_locked(bp, k);
	if (likely(pos != BP_BUDDY_NIL))
		return pos;
	for (j = 0; j <= BpBuddy->top_order; j++)
	{
		if (bp->cache[j] != BP_BUDDY_NIL)
		{
			bp_buddy_flush_locked(bp);
			return bp_buddy_alloc_locked(bp, k);
		}
	}
	return BP_BUDDY_NIL;
}

/* Keep the pool's bufpool.heaps slot current.  Caller holds the lock. */
static inline void
bp_buddy_update_info(BpBuddyPool *bp)
{
	BpAllocInfo *info = bp_buddy_info(bp);

	if (info)
	{
		info->blocks = bp->n_frames;
		info->reserved = bp->reserved_bytes;
		info->used = bp->used_bytes;
	}
}

/* ----------------------------------------------------------------------
 * Shared memory
 * ---------------------------------------------------------------------- */

/*
 * Locate the buddy pools, and set them up if this is the first process
 * (postmaster start or crash-restart).  Called from shmem.c's startup
 * hook with AddinShmemInitLock held, after BpShmem and memstat.
 */
void
bp_buddy_shmem_init(void)
{
	bool		found;
	Size		size = bp_buddy_shmem_size();

	BpBuddy = ShmemInitStruct("bufpool_ext buddy", size, &found);
	if (!found)
	{
		Size		off;
		Size		region_bytes = bp_buddy_region_bytes();
		Size		map_bytes = bp_buddy_map_bytes();
		int			i;

		memset(BpBuddy, 0, sizeof(BpBuddyShared));
		BpBuddy->n_instances = bp_instances;
		BpBuddy->page_size = bp_page_size;
		BpBuddy->top_order = pg_leftmost_one_pos32((uint32) bp_page_size) - BP_BUDDY_MIN_SHIFT;
		BpBuddy->region_units = (uint32) (region_bytes >> BP_BUDDY_MIN_SHIFT);
		BpBuddy->n_slots = bp_buddy_n_slots();
		BpBuddy->tranche = LWLockNewTrancheId();
		BpBuddy->pool_stride = bp_buddy_pool_stride();
		BpBuddy->pools_off = TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(BpBuddyShared));
		if (BpBuddy->top_order >= BP_BUDDY_MAX_ORDERS)
			elog(PANIC, "bufpool_ext: page size %d has too many buddy orders", bp_page_size);

		off = BpBuddy->pools_off + (Size) bp_instances * BpBuddy->pool_stride;
		for (i = 0; i < bp_instances; i++)
		{
			BpBuddyPool *bp = bp_buddy_pool(i);

			memset(bp, 0, sizeof(BpBuddyPool));
			bp->instance = i;
			bp->map_off = off;
			memset(bp_buddy_map(bp), 0, map_bytes);
			off += MAXALIGN(map_bytes);
			bp->slots_off = off;
			off += MAXALIGN(sizeof(BpBlockNo) * BpBuddy->n_slots);
		}
		/* regions 4 kB aligned in the address space (all processes agree) */
		off = TYPEALIGN(BP_BUDDY_REGION_ALIGN, (uintptr_t) BpBuddy + off) - (uintptr_t) BpBuddy;
		for (i = 0; i < bp_instances; i++)
		{
			BpBuddyPool *bp = bp_buddy_pool(i);
			uint32		s;
			uint32		pos;
			uint32		page_units = 1U << BpBuddy->top_order;
			BpAllocInfo *info;
			char		name[BP_MEM_NAME_LEN];

			bp->region_off = off;
			off += region_bytes;
			Assert(off <= size);
			SpinLockInit(&bp->mutex);
			LWLockInitialize(&bp->freeze_lock, BpBuddy->tranche);
			for (s = 0; s < BP_BUDDY_MAX_ORDERS; s++)
			{
				bp->free_head[s] = BP_BUDDY_NIL;
				bp->cache[s] = BP_BUDDY_NIL;
			}
			for (s = 0; s < BpBuddy->n_slots; s++)
				bp_buddy_slots(bp)[s] = BP_BUDDY_SLOT_FREE;
			/* the region's pages, lowest at the head */
			for (pos = BpBuddy->region_units; pos >= page_units; pos -= page_units)
				bp_buddy_push(bp, pos - page_units, BpBuddy->top_order);
			bp->reserved_bytes = (int64) region_bytes;
			if (region_bytes > 0)
				bp_mem_count_startup("memory/bufpool/buddy_pool", region_bytes);

			snprintf(name, sizeof(name), "buddy/%d", i);
			info = bp_alloc_shared_create(name, BP_ALLOC_BUDDY);
			/* an offset, not a pointer: main shared memory is one segment */
			bp->info_off = (int64) ((char *) info - (char *) BpBuddy);
			bp_buddy_update_info(bp);
		}
	}
	/* tranche names are process-local: children inherit the postmaster's */
	LWLockRegisterTranche(BpBuddy->tranche, "bufpool_ext_buddy");
}

static void
bp_buddy_check_loaded(void)
{
	if (BpBuddy == NULL)
		bp_check_preloaded();
	if (BpBuddy == NULL)
		elog(ERROR, "bufpool_ext buddy allocator is not set up");
}

/*
 * The buffer pool lends whole frames of chunk 0 for memory use; it sets
 * the functions that take and give them back when it is loaded (a layer
 * above this one: see the README's layer table).
 */
void
bp_buddy_set_frame_source(BpFrameGetFn get, BpFramePutFn put)
{
	bp_frame_get = get;
	bp_frame_put = put;
}

/* A frame from the pool, or BP_INVALID_BLOCK (*capped: at its cap). */
static BpBlockNo
bp_buddy_frame_get(int instance, uint32 tag, bool *capped)
{
	*capped = false;
	if (bp_frame_get == NULL)
		elog(ERROR, "bufpool_ext: the buffer pool has set no frame source");
	return bp_frame_get(instance, tag, capped);
}

/* Give a frame back; false if it was not a memory frame of that tag. */
static bool
bp_buddy_frame_put(int instance, BpBlockNo b, uint32 tag)
{
	if (bp_frame_put == NULL)
		elog(ERROR, "bufpool_ext: the buffer pool has set no frame source");
	return bp_frame_put(instance, b, tag);
}

static void
bp_buddy_register_keys(void)
{
	if (unlikely(key_buddy_pool == 0))
	{
		key_buddy = bp_mem_register("memory/bufpool/buddy");
		key_buddy_pool = bp_mem_register("memory/bufpool/buddy_pool");
		key_pool_frame = bp_mem_register("memory/bufpool/pool_frame");
	}
}

static inline bool
bp_buddy_chunk0_mapped(int instance)
{
	BpLocalInstance *li;

	if (BpLocal == NULL)
		return false;
	li = &BpLocal[instance];
	return li->n_chunks > 0 && li->chunks[0].descs != NULL &&
		li->chunks[0].handle == li->inst->chunk_handles[0];
}

/*
 * Take the pool's spinlock, with chunk 0 of the instance mapped here if
 * the pool holds frames, so that nothing under the lock can fail to map
 * it.  While a checker has the pool frozen, wait on its freeze_lock
 * (sleeping, not spinning) and try again.
 */
static inline void
bp_buddy_lock(BpBuddyPool *bp)
{
	for (;;)
	{
		bool		frozen;

		SpinLockAcquire(&bp->mutex);
		frozen = bp->frozen;
		if (likely(!frozen &&
				   (bp->n_frames == 0 || bp_buddy_chunk0_mapped(bp->instance))))
			return;
		SpinLockRelease(&bp->mutex);
		if (frozen)
		{
			LWLockAcquire(&bp->freeze_lock, LW_SHARED);
			LWLockRelease(&bp->freeze_lock);
		}
		else
			bp_ensure_attached();
	}
}

static inline void
bp_buddy_unlock(BpBuddyPool *bp)
{
	SpinLockRelease(&bp->mutex);
}

/*
 * Freeze the pool for a long walk: take freeze_lock exclusively (so
 * checkers queue there), then set frozen under the spinlock.  From then
 * on every other process waits in bp_buddy_lock, and the caller may read
 * and change the pool without the spinlock.  Until bp_buddy_unfreeze the
 * caller must not ereport, palloc or CHECK_FOR_INTERRUPTS: an error would
 * leave the pool frozen.
 */
static void
bp_buddy_freeze(BpBuddyPool *bp)
{
	LWLockAcquire(&bp->freeze_lock, LW_EXCLUSIVE);
	/* frozen is false: only a holder of freeze_lock sets it */
	bp_buddy_lock(bp);
	bp->frozen = true;
	bp_buddy_unlock(bp);
}

static void
bp_buddy_unfreeze(BpBuddyPool *bp)
{
	SpinLockAcquire(&bp->mutex);
	bp->frozen = false;
	SpinLockRelease(&bp->mutex);
	LWLockRelease(&bp->freeze_lock);
}

/* Order of a request of size bytes; ERROR if out of range. */
static inline int
bp_buddy_order(Size size)
{
	if (unlikely(size == 0 || size > (Size) BpBuddy->page_size))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("buddy allocation size %zu is out of range", size),
				 errdetail("The size must be between 1 and %d bytes (bufpool_ext.page_size).",
						   BpBuddy->page_size)));
	if (size <= ((Size) 1 << BP_BUDDY_MIN_SHIFT))
		return 0;
	return pg_ceil_log2_64(size) - BP_BUDDY_MIN_SHIFT;
}

static inline int
bp_buddy_pick_instance(int instance)
{
	static int	my_pid = 0;
	static int	my_instance = 0;

	if (instance < 0)
	{
		/* spread sessions over the instances; no division per call */
		if (unlikely(my_pid != MyProcPid))
		{
			my_pid = MyProcPid;
			my_instance = MyProcPid % BpBuddy->n_instances;
		}
		return my_instance;
	}
	if (unlikely(instance >= BpBuddy->n_instances))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("buffer pool instance %d is out of range", instance),
				 errdetail("Valid instances are 0 to %d, or -1 to let the session choose.",
						   BpBuddy->n_instances - 1)));
	return instance;
}

Size
bp_buddy_block_size(Size size)
{
	bp_buddy_check_loaded();
	if (size == 0 || size > (Size) BpBuddy->page_size)
		return 0;
	return (Size) 1 << (bp_buddy_order(size) + BP_BUDDY_MIN_SHIFT);
}

/*
 * Give a frame the buddy pool no longer needs back to the buffer pool.
 * Caller holds no lock.
 */
static void
bp_buddy_return_frame(BpBuddyPool *bp, BpBlockNo b, uint32 slot)
{
	if (!bp_buddy_frame_put(bp->instance, b, BP_MEMORY_TAG_BUDDY | slot))
		elog(ERROR, "bufpool_ext: frame %u of buddy slot %u of instance %d is not a buddy memory block",
			 b, slot, bp->instance);
	bp_mem_free(key_buddy_pool, BpBuddy->page_size);
}

/*
 * Add a frame of the buffer pool to the buddy pool and allocate a block
 * of order k, in one hold of the lock, so that nobody ever sees a held
 * frame that is wholly free.  If the block came from elsewhere (another
 * process freed one meanwhile) and the frame stayed whole, the frame
 * leaves the pool again: *unused gets its block and *unused_slot its
 * slot, for the caller to give back once the lock is released.
 *
 * Caller holds no lock.  Returns the block's unit number with the lock
 * held, or BP_BUDDY_NIL without it and *why set if no frame can be had.
 */
static uint32
bp_buddy_add_frame(BpBuddyPool *bp, int k, const char **why,
				   BpBlockNo *unused, uint32 *unused_slot)
{
	uint32		pos;
	uint32		fpos;
	BpBlockNo  *slots = bp_buddy_slots(bp);
	uint32		s;
	BpBlockNo	b;
	bool		capped;

	if (pg_atomic_read_u32(&BpShmem->pool_state) != BP_POOL_READY)
	{
		*why = "the buffer pool is not ready, and only the buddy region can be used";
		return BP_BUDDY_NIL;
	}
	bp_ensure_attached();

	/* the longest spinlock hold: at most n_slots compares, usually one */
	bp_buddy_lock(bp);
	for (s = bp->slot_hint; s < BpBuddy->n_slots; s++)
		if (slots[s] == BP_BUDDY_SLOT_FREE)
			break;
	if (s == BpBuddy->n_slots)
	{
		bp->slot_hint = s;
		bp_buddy_unlock(bp);
		*why = "the buddy pool holds as many frames as it can";
		return BP_BUDDY_NIL;
	}
	slots[s] = BP_BUDDY_SLOT_PENDING;
	bp->slot_hint = s + 1;
	bp_buddy_unlock(bp);

	PG_TRY();
	{
		b = bp_buddy_frame_get(bp->instance, BP_MEMORY_TAG_BUDDY | s, &capped);
	}
	PG_CATCH();
	{
		bp_buddy_lock(bp);
		bp_buddy_release_slot(bp, s);
		bp_buddy_unlock(bp);
		PG_RE_THROW();
	}
	PG_END_TRY();

	bp_buddy_lock(bp);
	if (b == BP_INVALID_BLOCK)
	{
		bp_buddy_release_slot(bp, s);
		bp_buddy_unlock(bp);
		*why = capped ? "half of the blocks of chunk 0 are already used as memory"
			: "every block of chunk 0 is pinned or under I/O";
		return BP_BUDDY_NIL;
	}
	slots[s] = b;
	bp->n_frames++;
	bp->reserved_bytes += BpBuddy->page_size;
	fpos = bp_buddy_slot_pos(s);
	bp_buddy_push(bp, fpos, BpBuddy->top_order);

	/* cannot fail: there is a free page now */
	pos = bp_buddy_take_locked(bp, k);
	Assert(pos != BP_BUDDY_NIL);
	if (bp_buddy_map(bp)[fpos] == (BP_BUDDY_FREE | BpBuddy->top_order))
	{
		bp_buddy_unlink(bp, fpos, BpBuddy->top_order);
		bp_buddy_map(bp)[fpos] = 0;
		bp_buddy_release_slot(bp, s);
		bp->n_frames--;
		bp->reserved_bytes -= BpBuddy->page_size;
		*unused = b;
		*unused_slot = s;
	}
	return pos;
}

BpShmAddr
bp_buddy_alloc(int instance, Size size, BpMemKey key, int flags)
{
	BpBuddyPool *bp;
	int			k;
	uint32		pos;
	BpShmAddr	addr;
	BpBlockNo	unused_frame = BP_INVALID_BLOCK;
	uint32		unused_slot = 0;
	bool		took_frame = false;

	bp_buddy_check_loaded();
	k = bp_buddy_order(size);
	instance = bp_buddy_pick_instance(instance);
	bp_buddy_register_keys();
	if (key <= 0)
		key = key_buddy;
	bp = bp_buddy_pool(instance);

	bp_buddy_lock(bp);
	pos = bp_buddy_take_locked(bp, k);
	if (unlikely(pos == BP_BUDDY_NIL) && (flags & BP_ALLOC_NO_FRAME))
	{
		bp_buddy_unlock(bp);
		if (flags & BP_ALLOC_NO_OOM)
			return BP_SHM_NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of size %zu in the buddy allocator of buffer pool instance %d: its region is used up and the caller takes no pool frame.",
						   size, instance)));
	}
	if (unlikely(pos == BP_BUDDY_NIL))
	{
		const char *why;

		/* take a frame with our lock released; returns with it held */
		bp_buddy_unlock(bp);
		pos = bp_buddy_add_frame(bp, k, &why, &unused_frame, &unused_slot);
		if (pos == BP_BUDDY_NIL)
		{
			if (flags & BP_ALLOC_NO_OOM)
				return BP_SHM_NULL;
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Failed on request of size %zu (a block of %zu bytes) in the buddy allocator of buffer pool instance %d: its region of %zu bytes is used up and %s.",
							   size, (Size) 1 << (k + BP_BUDDY_MIN_SHIFT), instance,
							   (Size) BpBuddy->region_units << BP_BUDDY_MIN_SHIFT, why),
					 errhint("Raise bufpool_ext.buddy_size, or free buddy memory sooner.")));
		}
		took_frame = true;
	}
	addr = bp_buddy_pos_addr(bp, pos);
	bp_buddy_update_info(bp);
	bp_buddy_unlock(bp);

	if (unlikely(took_frame))
		bp_mem_alloc(key_buddy_pool, BpBuddy->page_size);
	if (unlikely(unused_frame != BP_INVALID_BLOCK))
		bp_buddy_return_frame(bp, unused_frame, unused_slot);
	bp_mem_alloc(key, (Size) 1 << (k + BP_BUDDY_MIN_SHIFT));
	return addr;
}

/*
 * Unit number of the block that addr names in pool bp, or BP_BUDDY_NIL if
 * addr names no block boundary of it.  Caller holds the lock.
 */
static uint32
bp_buddy_addr_pos(BpBuddyPool *bp, BpShmAddr addr)
{
	if (BP_SHM_KIND(addr) == BP_SHM_KIND_REGION)
	{
		uint64		off = BP_SHM_REGION_OFF(addr);

		if (off % 64 != 0 || off >= ((uint64) BpBuddy->region_units << BP_BUDDY_MIN_SHIFT))
			return BP_BUDDY_NIL;
		return (uint32) (off >> BP_BUDDY_MIN_SHIFT);
	}
	else if (BP_SHM_KIND(addr) == BP_SHM_KIND_FRAME)
	{
		BpBlockNo	b = BP_SHM_FRAME_BLOCK(addr);
		uint64		off = BP_SHM_FRAME_OFF(addr);
		BpInstance *inst = &BpShmem->instances[bp->instance];
		uint32		tag;
		uint32		s;

		if (off % 64 != 0 || off >= (uint64) BpBuddy->page_size ||
			BP_BLOCK_CHUNK(b) != 0 || BP_BLOCK_IDX(b) >= inst->blocks_per_chunk ||
			bp->n_frames == 0)
			return BP_BUDDY_NIL;
		/* the pool holds frames, so chunk 0 is mapped (bp_buddy_lock) */
		tag = bp_desc(&BpLocal[bp->instance], b)->page_no;
		if (!BP_MEMORY_TAG_IS_BUDDY(tag))
			return BP_BUDDY_NIL;
		s = tag & ~BP_MEMORY_TAG_BUDDY;
		if (s >= BpBuddy->n_slots || bp_buddy_slots(bp)[s] != b)
			return BP_BUDDY_NIL;
		return bp_buddy_slot_pos(s) + (uint32) (off >> BP_BUDDY_MIN_SHIFT);
	}
	return BP_BUDDY_NIL;
}

static void
bp_buddy_bad_free(BpShmAddr addr, Size size, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid buddy free of address %llu with size %zu",
					(unsigned long long) addr, size),
			 errdetail("%s", detail)));
}

void
bp_buddy_free(BpShmAddr addr, Size size, BpMemKey key)
{
	BpBuddyPool *bp;
	int			k;
	int			instance;
	uint32		pos;
	uint8		m;
	BpBlockNo	frame;
	uint32		slot = 0;

	bp_buddy_check_loaded();
	if (unlikely(size == 0 || size > (Size) BpBuddy->page_size))
		bp_buddy_bad_free(addr, size, psprintf("The size must be between 1 and %d bytes.",
											   BpBuddy->page_size));
	k = bp_buddy_order(size);
	instance = BP_SHM_INSTANCE(addr);
	if (unlikely(addr == BP_SHM_NULL || instance >= BpBuddy->n_instances))
		bp_buddy_bad_free(addr, size, "The address names no buddy pool.");
	bp_buddy_register_keys();
	if (key <= 0)
		key = key_buddy;
	bp = bp_buddy_pool(instance);
	if (BP_SHM_KIND(addr) == BP_SHM_KIND_FRAME &&
		pg_atomic_read_u32(&BpShmem->pool_state) == BP_POOL_READY)
		bp_ensure_attached();

	bp_buddy_lock(bp);
	pos = bp_buddy_addr_pos(bp, addr);
	m = pos != BP_BUDDY_NIL ? bp_buddy_map(bp)[pos] : 0;
	if (unlikely(m != (BP_BUDDY_USED | k)))
	{
		const char *detail;

		bp_buddy_unlock(bp);
		if (pos == BP_BUDDY_NIL || m == 0)
			detail = "No block of the buddy allocator starts there.";
		else if (m & (BP_BUDDY_FREE | BP_BUDDY_CACHED))
			detail = psprintf("The block there is free (a block of %d bytes): a double free?",
							  1 << (BP_BUDDY_ORDER(m) + BP_BUDDY_MIN_SHIFT));
		else
			detail = psprintf("The block there was allocated as %d bytes, not %zu.",
							  1 << (BP_BUDDY_ORDER(m) + BP_BUDDY_MIN_SHIFT),
							  (Size) 1 << (k + BP_BUDDY_MIN_SHIFT));
		bp_buddy_bad_free(addr, size, detail);
	}
	frame = bp_buddy_free_locked(bp, pos, k, &slot);
	bp_buddy_update_info(bp);
	bp_buddy_unlock(bp);

	if (unlikely(frame != BP_INVALID_BLOCK))
		bp_buddy_return_frame(bp, frame, slot);
	bp_mem_free(key, (Size) 1 << (k + BP_BUDDY_MIN_SHIFT));
}

void *
bp_shm_ptr(BpShmAddr addr)
{
	int			instance;

	if (addr == BP_SHM_NULL)
		return NULL;
	bp_buddy_check_loaded();
	instance = BP_SHM_INSTANCE(addr);
	if (likely(instance < BpBuddy->n_instances))
	{
		if (BP_SHM_KIND(addr) == BP_SHM_KIND_REGION)
		{
			uint64		off = BP_SHM_REGION_OFF(addr);

			if (likely(off < ((uint64) BpBuddy->region_units << BP_BUDDY_MIN_SHIFT)))
				return bp_buddy_region(bp_buddy_pool(instance)) + off;
		}
		else if (BP_SHM_KIND(addr) == BP_SHM_KIND_FRAME)
		{
			BpBlockNo	b = BP_SHM_FRAME_BLOCK(addr);
			uint64		off = BP_SHM_FRAME_OFF(addr);

			bp_ensure_attached();
			if (likely(BP_BLOCK_CHUNK(b) == 0 &&
					   BP_BLOCK_IDX(b) < BpShmem->instances[instance].blocks_per_chunk &&
					   off < (uint64) BpBuddy->page_size))
				return bp_frame(&BpLocal[instance], b) + off;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid shared memory address %llu", (unsigned long long) addr)));
	return NULL;				/* keep compiler quiet */
}

bool
bp_shm_range_ok(BpShmAddr addr, Size len)
{
	int			instance;

	if (addr == BP_SHM_NULL || BpBuddy == NULL)
		return false;
	instance = BP_SHM_INSTANCE(addr);
	if (instance >= BpBuddy->n_instances)
		return false;
	if (BP_SHM_KIND(addr) == BP_SHM_KIND_REGION)
		return BP_SHM_REGION_OFF(addr) + len <=
			((uint64) BpBuddy->region_units << BP_BUDDY_MIN_SHIFT);
	if (BP_SHM_KIND(addr) == BP_SHM_KIND_FRAME)
		return BP_BLOCK_CHUNK(BP_SHM_FRAME_BLOCK(addr)) == 0 &&
			BP_BLOCK_IDX(BP_SHM_FRAME_BLOCK(addr)) < BpShmem->instances[instance].blocks_per_chunk &&
			BP_SHM_FRAME_OFF(addr) + len <= (uint64) BpBuddy->page_size;
	return false;
}

/* ----------------------------------------------------------------------
 * Whole frames for memory use
 * ---------------------------------------------------------------------- */

BpShmAddr
bp_pool_frame_alloc(int instance, BpMemKey key, int flags)
{
	BpBlockNo	b;
	bool		capped;

	bp_buddy_check_loaded();
	instance = bp_buddy_pick_instance(instance);
	bp_buddy_register_keys();
	if (key <= 0)
		key = key_pool_frame;
	bp_ensure_attached();
	b = bp_buddy_frame_get(instance, BP_MEMORY_TAG_FRAME, &capped);
	if (b == BP_INVALID_BLOCK)
	{
		if (flags & BP_ALLOC_NO_OOM)
			return BP_SHM_NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of a frame of %d bytes in buffer pool instance %d: %s.",
						   BpBuddy->page_size, instance,
						   capped ? "half of the blocks of chunk 0 are already used as memory"
						   : "every block of chunk 0 is pinned or under I/O"),
				 errhint("Raise bufpool_ext.chunk_size, or free pool frames sooner.")));
	}
	bp_mem_alloc(key, BpBuddy->page_size);
	return BP_SHM_MAKE_FRAME(instance, b, 0);
}

void
bp_pool_frame_free(BpShmAddr addr, BpMemKey key)
{
	int			instance = BP_SHM_INSTANCE(addr);

	bp_buddy_check_loaded();
	if (BP_SHM_KIND(addr) != BP_SHM_KIND_FRAME || BP_SHM_FRAME_OFF(addr) != 0 ||
		instance >= BpBuddy->n_instances)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pool frame address %llu", (unsigned long long) addr),
				 errdetail("The address names no whole frame.")));
	bp_buddy_register_keys();
	if (key <= 0)
		key = key_pool_frame;
	bp_ensure_attached();
	if (!bp_buddy_frame_put(instance, BP_SHM_FRAME_BLOCK(addr), BP_MEMORY_TAG_FRAME))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pool frame address %llu", (unsigned long long) addr),
				 errdetail("Block %u of instance %d is not a frame taken by bp_pool_frame_alloc.",
						   BP_SHM_FRAME_BLOCK(addr), instance)));
	bp_mem_free(key, BpBuddy->page_size);
}

/* ----------------------------------------------------------------------
 * Invariants
 * ---------------------------------------------------------------------- */

/*
 * The checks run with the pool frozen, where nothing may ereport or
 * palloc: a violation is written here (snprintf allocates nothing) and
 * reported as a WARNING once the pool is unfrozen.
 */
static char bp_buddy_fail_msg[512];

#define BP_BUDDY_FAIL(...) \
	do { \
		snprintf(bp_buddy_fail_msg, sizeof(bp_buddy_fail_msg), __VA_ARGS__); \
		return false; \
	} while (0)

/*
 * Walk one top-level block: every unit either starts a block (map entry
 * with its order and one state, aligned, inside the top block) or lies
 * inside one; count free, cached and used blocks per order; no block on
 * a free list has a buddy of its order on a free list (they would have
 * merged; a cached block's buddy may be free, that is what the cache
 * defers); a cached block is in the region and is its order's cache.
 */
static bool
bp_buddy_check_top(BpBuddyPool *bp, uint32 start, int64 *n_free, int64 *n_cached,
				   int64 *n_used, int64 *used)
{
	uint8	   *map = bp_buddy_map(bp);
	int			top = BpBuddy->top_order;
	uint32		end = start + (1U << top);
	uint32		p = start;

	while (p < end)
	{
		uint8		m = map[p];
		int			o = BP_BUDDY_ORDER(m);
		uint32		q;

		uint8		state = m & (BP_BUDDY_FREE | BP_BUDDY_USED | BP_BUDDY_CACHED);

		if (o > top || (m & ~(state | 0x0F)) != 0 ||
			(state != BP_BUDDY_FREE && state != BP_BUDDY_USED && state != BP_BUDDY_CACHED))
			BP_BUDDY_FAIL("Unit %u has map entry 0x%02x where a block should start.", p, m);
		if ((p & ((1U << o) - 1)) != 0 || p + (1U << o) > end)
			BP_BUDDY_FAIL("Block at unit %u of order %d is misaligned or crosses its top block.", p, o);
		for (q = p + 1; q < p + (1U << o); q++)
			if (map[q] != 0)
				BP_BUDDY_FAIL("Unit %u inside the block at unit %u has map entry 0x%02x.", q, p, map[q]);
		if (m & BP_BUDDY_FREE)
		{
			n_free[o]++;
			if (o < top && map[p ^ (1U << o)] == (BP_BUDDY_FREE | o))
				BP_BUDDY_FAIL("Free blocks at units %u and %u of order %d are buddies and not merged.",
							  p, p ^ (1U << o), o);
		}
		else if (m & BP_BUDDY_CACHED)
		{
			n_cached[o]++;
			if (p >= BpBuddy->region_units || bp->cache[o] != p)
				BP_BUDDY_FAIL("Unit %u is marked as a cached block of order %d, but the cache of that order holds unit %u.",
							  p, o, bp->cache[o]);
		}
		else
		{
			n_used[o]++;
			*used += (int64) 1 << (o + BP_BUDDY_MIN_SHIFT);
		}
		p += 1U << o;
	}
	return true;
}

/* Check every invariant of a pool.  Caller has frozen it. */
static bool
bp_buddy_check_locked(BpBuddyPool *bp)
{
	int64		n_free[BP_BUDDY_MAX_ORDERS] = {0};
	int64		n_cached[BP_BUDDY_MAX_ORDERS] = {0};
	int64		n_used[BP_BUDDY_MAX_ORDERS] = {0};
	int64		used = 0;
	int			top = BpBuddy->top_order;
	uint32		page_units = 1U << top;
	uint8	   *map = bp_buddy_map(bp);
	BpBlockNo  *slots = bp_buddy_slots(bp);
	int			frames = 0;
	uint32		pos;
	uint32		s;
	int			k;

	for (pos = 0; pos < BpBuddy->region_units; pos += page_units)
		if (!bp_buddy_check_top(bp, pos, n_free, n_cached, n_used, &used))
			return false;
	for (s = 0; s < BpBuddy->n_slots; s++)
	{
		uint32		start = bp_buddy_slot_pos(s);

		if (slots[s] == BP_BUDDY_SLOT_FREE || slots[s] == BP_BUDDY_SLOT_PENDING)
		{
			for (pos = start; pos < start + page_units; pos++)
				if (map[pos] != 0)
					BP_BUDDY_FAIL("Empty frame slot %u has map entry 0x%02x at unit %u.", s, map[pos], pos);
			continue;
		}
		else
		{
			BpBlockDesc *d;

			/* bp_desc must not have to map chunk 0 here: that can fail */
			if (!bp_buddy_chunk0_mapped(bp->instance))
				BP_BUDDY_FAIL("Slot %u holds frame %u, but the pool counts %d frames (chunk 0 is not mapped).",
							  s, slots[s], bp->n_frames);
			d = bp_desc(&BpLocal[bp->instance], slots[s]);
			frames++;
			if (BP_BLOCK_CHUNK(slots[s]) != 0 || d->list != BP_LIST_MEMORY ||
				d->page_no != (BP_MEMORY_TAG_BUDDY | s) ||
				BP_STATE_REFCOUNT(pg_atomic_read_u32(&d->state)) == 0 ||
				(pg_atomic_read_u32(&d->state) & BP_BS_VALID))
				BP_BUDDY_FAIL("Frame %u of slot %u is not a pinned chunk-0 memory block of the buddy pool (list %d, tag 0x%x).",
							  slots[s], s, d->list, d->page_no);
			if (map[start] == (BP_BUDDY_FREE | top))
				BP_BUDDY_FAIL("Frame %u of slot %u is wholly free but still held.", slots[s], s);
			if (!bp_buddy_check_top(bp, start, n_free, n_cached, n_used, &used))
				return false;
		}
	}
	if (frames != bp->n_frames)
		BP_BUDDY_FAIL("%d frames in the slots, %d counted.", frames, bp->n_frames);
	if (bp->reserved_bytes != ((int64) BpBuddy->region_units << BP_BUDDY_MIN_SHIFT) +
		(int64) frames * BpBuddy->page_size)
		BP_BUDDY_FAIL("Reserved bytes %lld do not match the region and %d frames.",
					  (long long) bp->reserved_bytes, frames);
	if (used != bp->used_bytes)
		BP_BUDDY_FAIL("Used bytes %lld, blocks in use add up to %lld.",
					  (long long) bp->used_bytes, (long long) used);
	for (k = 0; k < BP_BUDDY_MAX_ORDERS; k++)
	{
		int64		n = 0;
		uint32		prev = BP_BUDDY_NIL;

		if (n_used[k] != bp->n_used[k] || n_free[k] != bp->n_free[k])
			BP_BUDDY_FAIL("Order %d: %lld used and %lld free counted, %lld and %lld found.",
						  k, (long long) bp->n_used[k], (long long) bp->n_free[k],
						  (long long) n_used[k], (long long) n_free[k]);
		if (n_cached[k] != (bp->cache[k] != BP_BUDDY_NIL ? 1 : 0))
			BP_BUDDY_FAIL("Order %d: the cache holds unit %u, %lld cached blocks found.",
						  k, bp->cache[k], (long long) n_cached[k]);
		if (((bp->free_mask >> k) & 1) != (bp->free_head[k] != BP_BUDDY_NIL))
			BP_BUDDY_FAIL("Order %d: free mask bit does not match the list.", k);
		for (pos = bp->free_head[k]; pos != BP_BUDDY_NIL; pos = bp_buddy_link(bp, pos)->next)
		{
			if (pos >= BpBuddy->region_units + BpBuddy->n_slots * page_units ||
				map[pos] != (BP_BUDDY_FREE | k) || bp_buddy_link(bp, pos)->prev != prev ||
				++n > n_free[k])
				BP_BUDDY_FAIL("Free list of order %d is broken at unit %u.", k, pos);
			prev = pos;
		}
		if (n != n_free[k])
			BP_BUDDY_FAIL("Free list of order %d has %lld blocks, %lld are free.",
						  k, (long long) n, (long long) n_free[k]);
	}
	return true;
}

/* The pool is as at startup: its region's pages free, nothing else. */
static bool
bp_buddy_initial_locked(BpBuddyPool *bp)
{
	int			k;

	if (bp->n_frames != 0 || bp->used_bytes != 0)
		BP_BUDDY_FAIL("%d frames held and %lld bytes in use after everything was freed.",
					  bp->n_frames, (long long) bp->used_bytes);
	for (k = 0; k < BP_BUDDY_MAX_ORDERS; k++)
	{
		int64		want = k == BpBuddy->top_order ?
		BpBuddy->region_units >> BpBuddy->top_order : 0;

		if (bp->n_free[k] != want)
			BP_BUDDY_FAIL("Order %d has %lld free blocks, %lld at startup.",
						  k, (long long) bp->n_free[k], (long long) want);
	}
	return true;
}

/*
 * Check every pool.  With *idle non-NULL, also compare the pools whose
 * memory is all free with their startup state; *idle says whether every
 * pool was so.
 */
bool
bp_buddy_verify(bool *idle)
{
	bool		ok = true;
	int			i;

	if (idle)
		*idle = true;
	for (i = 0; i < BpBuddy->n_instances; i++)
	{
		BpBuddyPool *bp = bp_buddy_pool(i);
		bool		pool_ok;

		bp_buddy_freeze(bp);
		pool_ok = bp_buddy_check_locked(bp);
		if (pool_ok && idle)
		{
			if (bp->used_bytes != 0)
				*idle = false;
			else
			{
				/* the startup state has everything merged */
				bp_buddy_flush_locked(bp);
				pool_ok = bp_buddy_initial_locked(bp);
			}
		}
		bp_buddy_unfreeze(bp);
		if (!pool_ok)
		{
			ereport(WARNING,
					(errmsg("buddy pool of instance %d: invariant violated", i),
					 errdetail("%s", bp_buddy_fail_msg)));
			ok = false;
		}
	}
	return ok;
}

/* ----------------------------------------------------------------------
 * Reading, for the views and the tests
 * ---------------------------------------------------------------------- */

int
bp_buddy_n_instances(void)
{
	bp_buddy_check_loaded();
	return BpBuddy->n_instances;
}

/*
 * Hand the free pages of every instance's region back to the operating
 * system (the memory governor does, entering danger).  The region is main
 * shared memory, fixed in size, so its free pages stay in the pool; but
 * the kernel may drop their contents: each free page-sized block of the
 * region, after its parked blocks are merged, is madvise(MADV_REMOVE)d
 * but for its first OS page, which holds the free-list links.  A page
 * comes back zeroed at its next touch, and nothing reads a free block
 * beyond its links.  Only whole OS pages inside a block are advised: with
 * OS pages larger than a block's tail (16 or 64 kB kernels; the region is
 * aligned to 4 kB) nothing is.  Frames need nothing: a frame whose pieces
 * are all free leaves the buddy pool at once (a shrink then hands it on).
 * The pool is frozen for the walk, so no syscall runs under its spinlock.
 * Returns the bytes advised.  Main shared memory in huge pages gives
 * nothing back for ranges smaller than a huge page (the kernel skips them,
 * yet says yes); a page handed back before counts again.
 */
int64
bp_buddy_trim(void)
{
	Size		os_page = (Size) sysconf(_SC_PAGESIZE);
	int			top = BpBuddy->top_order;
	int64		bytes = 0;
	int			i;

	for (i = 0; i < BpBuddy->n_instances; i++)
	{
		BpBuddyPool *bp = bp_buddy_pool(i);
		uint32		pos;

		bp_buddy_freeze(bp);
		bp_buddy_flush_locked(bp);
		for (pos = bp->free_head[top]; pos != BP_BUDDY_NIL; pos = bp_buddy_link(bp, pos)->next)
		{
			char	   *block;
			char	   *start;
			char	   *end;

			if (pos >= BpBuddy->region_units)
				continue;
			/* whole OS pages inside the block, past its links, only */
			block = bp_buddy_pos_ptr(bp, pos);
			start = (char *) TYPEALIGN(os_page, block + sizeof(BpBuddyLink));
			end = (char *) TYPEALIGN_DOWN(os_page, block + BpBuddy->page_size);
			if (end > start && madvise(start, end - start, MADV_REMOVE) == 0)
				bytes += end - start;
		}
		bp_buddy_unfreeze(bp);
	}
	return bytes;
}

/*
 * Blocks used and free per order (block size 2^(order +
 * BP_BUDDY_MIN_SHIFT)) in the buddy pool of one instance, with pages_free
 * counted as if every free had merged (its cache is merged first).
 * n_used and n_free have room for BP_BUDDY_MAX_ORDERS; returns the
 * number of orders filled (the top order, one page, included).
 */
int
bp_buddy_stats(int instance, int64 *n_used, int64 *n_free)
{
	BpBuddyPool *bp;

	bp_buddy_check_loaded();
	Assert(instance >= 0 && instance < BpBuddy->n_instances);
	bp = bp_buddy_pool(instance);
	bp_buddy_lock(bp);
	bp_buddy_flush_locked(bp);
	memcpy(n_used, bp->n_used, sizeof(bp->n_used));
	memcpy(n_free, bp->n_free, sizeof(bp->n_free));
	bp_buddy_unlock(bp);
	return BpBuddy->top_order + 1;
}
