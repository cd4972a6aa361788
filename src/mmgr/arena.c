/*-------------------------------------------------------------------------
 *
 * arena.c
 *	  Bump allocator in the style of the MySQL server's MEM_ROOT.
 *
 * An arena turns many small allocations with one lifetime into a few
 * large ones.  Allocation bumps an offset in the current block; the
 * memory is given back all at once, never piece by piece.
 *
 *	  - The first block has min_block_size bytes; each new block is 1.5x
 *		the previous one (MEM_ROOT's growth), so n allocations of a fixed
 *		size take O(log n) blocks.
 *	  - A request of at least block_size bytes gets a block of exactly its
 *		size.  That block goes second in the list, behind the current
 *		block, which stays current: one big request does not waste what
 *		is left of the current block, and does not make the next normal
 *		block bigger.  (In an empty arena the big block is the only one;
 *		it is current and full.)
 *	  - max_capacity (0 = none) bounds the bytes held in blocks.  A normal
 *		block that would pass it is made smaller, down to what the request
 *		needs; past that the request fails: ERROR (ERRCODE_OUT_OF_MEMORY,
 *		naming the size and the capacity), or NULL when error_on_full is
 *		false, for callers that can cope (dsa's DSA_ALLOC_NO_OOM pattern).
 *	  - bp_arena_clear frees every block and restores the first block
 *		size; bp_arena_clear_for_reuse keeps the current block (the last
 *		normal block, the largest) emptied, which is what a loop that
 *		fills and empties an arena wants: after the first rounds it never
 *		calls malloc again.
 *
 * Blocks are chained through a header at their start: the current block
 * first, then big blocks, then older normal blocks.  A local arena's
 * blocks come from malloc; a shared arena's from the buddy allocator
 * (bp_buddy_alloc), chained by BpShmAddr so that the BpArena, which the
 * caller places in shared memory, means the same in every process.  Buddy
 * blocks are powers of two up to a page, so a shared arena rounds its
 * block sizes up to the buddy block size and caps them at page_size; a
 * single request larger than a page minus the header is an error.
 *
 * Accounting: every malloc'd block is counted with bp_mem_alloc /
 * bp_mem_free under "memory/bufpool/arena/<name>"; the buddy allocator
 * counts the blocks of shared arenas itself under the same key.  The
 * arena's BpAllocInfo (bufpool.heaps) holds blocks, reserved (bytes in
 * blocks, headers included) and used (bytes handed out since the last
 * clear, alignment padding included), kept current on every call.
 *
 * Locking: none.  A local arena belongs to its process; a shared arena is
 * used by one process at a time, under whatever lock its owner uses.
 *
 * IDENTIFICATION
 *	  src/mmgr/arena.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "utils/memutils.h"

#include "bufpool_ext/mmgr/arena.h"
#include "bufpool_ext/shared/shmem.h"

/* Header at the start of every block. */
typedef struct BpArenaBlock
{
	BpArenaRef	next;			/* older block, or NULL / BP_SHM_NULL */
	Size		size;			/* whole block, header included */
	bool		big;			/* made for one request of at least block_size */
} BpArenaBlock;

#define BP_ARENA_HDR	MAXALIGN(sizeof(BpArenaBlock))

/* growth: 1.5x, as MEM_ROOT */
#define BP_ARENA_GROW(s)	((s) + (s) / 2)

static inline BpArenaBlock *
bp_arena_block(const BpArena *arena, BpArenaRef ref)
{
	return arena->shared ? (BpArenaBlock *) bp_shm_ptr(ref.shm) : (BpArenaBlock *) ref.local;
}

static inline bool
bp_arena_ref_null(const BpArena *arena, BpArenaRef ref)
{
	return arena->shared ? ref.shm == BP_SHM_NULL : ref.local == NULL;
}

/* Bytes used of the current block (a local arena keeps them in fast_ptr). */
static inline Size
bp_arena_cur_used(const BpArena *arena)
{
	if (arena->shared)
		return arena->cur_used;
	return arena->fast_ptr == NULL ? 0 : (Size) (arena->fast_ptr - (char *) arena->head.local);
}

/* Set them, for a current block of cur_size bytes at the head. */
static inline void
bp_arena_set_cur_used(BpArena *arena, Size used)
{
	if (arena->shared)
		arena->cur_used = used;
	else
	{
		arena->fast_ptr = (char *) arena->head.local + used;
		arena->fast_limit = (char *) arena->head.local + arena->cur_size;
	}
}

/* Count in info's used what the inline fast path handed out. */
static inline void
bp_arena_sync(BpArena *arena)
{
	Size		used = bp_arena_cur_used(arena);

	BP_ARENA_INFO(arena)->used += (int64) (used - arena->synced);
	arena->synced = used;
}

/* bufpool.heaps reads a local arena's info: bring used up to date */
static void
bp_arena_refresh(BpAllocInfo *info)
{
	BpArena    *arena = (BpArena *) ((char *) info - offsetof(BpArena, info));

	if (arena->magic == BP_ARENA_MAGIC && arena->cur_size != 0)
		bp_arena_sync(arena);
}

static void
bp_arena_check_magic(const BpArena *arena)
{
	if (arena == NULL || arena->magic != BP_ARENA_MAGIC)
		elog(ERROR, "bufpool_ext: arena used before bp_arena_init or after bp_arena_destroy");
}

/*
 * The key of a memory instrument, remembered by this process: keys never
 * change for the life of the server, and bp_mem_register takes memstat's
 * lock exclusively, which allocators made per call (the views' arenas)
 * should not do every time.
 */
#define BP_KEY_CACHE 8

BpMemKey
bp_alloc_instrument(const char *instrument)
{
	static struct
	{
		char		name[BP_MEM_NAME_LEN];
		BpMemKey	key;
	}			cache[BP_KEY_CACHE];
	static int	next = 0;
	int			i;

	for (i = 0; i < BP_KEY_CACHE; i++)
		if (cache[i].key > 0 && strcmp(cache[i].name, instrument) == 0)
			return cache[i].key;
	i = next;
	cache[i].key = bp_mem_register(instrument);
	strlcpy(cache[i].name, instrument, BP_MEM_NAME_LEN);
	next = (next + 1) % BP_KEY_CACHE;
	return cache[i].key;
}

/* largest block a shared arena can hold */
static Size
bp_arena_shared_max(void)
{
	return (Size) BpPageSize;
}

/*
 * Initialise an arena in memory the caller provides.  block_size is the
 * first block's size (BP_ARENA_MIN_BLOCK .. BP_ARENA_MAX_BLOCK; for a
 * shared arena at most page_size).  No block is allocated yet.
 */
void
bp_arena_init(BpArena *arena, const char *name, bool shared,
			  Size block_size, Size max_capacity, bool error_on_full)
{
	char		instrument[BP_MEM_NAME_LEN];

	if (name == NULL || name[0] == '\0' || strlen(name) >= BP_ARENA_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("arena name \"%s\" must have 1 to %d characters",
						name ? name : "", BP_ARENA_NAME_LEN - 1)));
	if (block_size < BP_ARENA_MIN_BLOCK || block_size > BP_ARENA_MAX_BLOCK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arena block size %zu is out of range", block_size),
				 errdetail("Valid block sizes are %d to %zu bytes.",
						   BP_ARENA_MIN_BLOCK, BP_ARENA_MAX_BLOCK)));
	if (shared && block_size > bp_arena_shared_max())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shared arena block size %zu is larger than a page", block_size),
				 errdetail("Shared arenas take their blocks from the buddy allocator, at most bufpool_ext.page_size (%d) bytes.",
						   BpPageSize)));

	snprintf(instrument, sizeof(instrument), "memory/bufpool/arena/%s", name);
	memset(arena, 0, sizeof(*arena));
	arena->key = bp_alloc_instrument(instrument);
	arena->shared = shared;
	arena->error_on_full = error_on_full;
	arena->block_size = block_size;
	arena->min_block_size = block_size;
	arena->max_capacity = max_capacity;
	arena->alignment = MAXIMUM_ALIGNOF;
	strlcpy(arena->name, name, sizeof(arena->name));
	if (shared)
	{
		arena->head.shm = BP_SHM_NULL;
		arena->info_index = bp_alloc_shared_index(bp_alloc_shared_create(name, BP_ALLOC_ARENA));
	}
	else
	{
		arena->head.local = NULL;
		bp_alloc_register_local(&arena->info, name, BP_ALLOC_ARENA, false);
		arena->info.refresh = bp_arena_refresh;
		arena->info_index = -1;
	}
	BP_ARENA_INFO(arena)->blocks = 0;
	BP_ARENA_INFO(arena)->reserved = 0;
	BP_ARENA_INFO(arena)->used = 0;
	arena->magic = BP_ARENA_MAGIC;
}

/* Free every block; counters to zero. */
static void
bp_arena_free_chain(BpArena *arena, BpArenaRef ref)
{
	while (!bp_arena_ref_null(arena, ref))
	{
		BpArenaBlock *blk = bp_arena_block(arena, ref);
		BpArenaRef	next = blk->next;
		Size		size = blk->size;

		if (arena->shared)
			bp_buddy_free(ref.shm, size, arena->key);
		else
		{
			free(ref.local);
			bp_mem_free(arena->key, size);
		}
		BP_ARENA_INFO(arena)->blocks--;
		BP_ARENA_INFO(arena)->reserved -= (int64) size;
		ref = next;
	}
}

static void
bp_arena_full(BpArena *arena, Size size)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("arena \"%s\" is full", arena->name),
			 errdetail("A request of %zu bytes would take the arena past its capacity of %zu bytes (%zu bytes reserved).",
					   size, arena->max_capacity, (Size) BP_ARENA_INFO(arena)->reserved)));
}

/*
 * Get a block of `size` bytes (header included) and put it at the head
 * (current) or second in the list (big).  Returns the block's reference;
 * a null one, when the memory is not there and the arena is of the
 * no-error kind (error_on_full false), as for a full arena.
 */
static BpArenaRef
bp_arena_new_block(BpArena *arena, Size size, bool big)
{
	BpArenaRef	ref;
	BpArenaBlock *blk;

	if (unlikely(bp_mem_emergency_refuses(size)))
	{
		if (!arena->error_on_full)
		{
			memset(&ref, 0, sizeof(ref));
			return ref;
		}
		bp_mem_emergency_error(size, "arena", arena->name);
	}
	if (arena->shared)
	{
		ref.shm = bp_buddy_alloc(-1, size, arena->key,
								 (arena->error_on_full ? 0 : BP_ALLOC_NO_OOM) |
								 (arena->region_only ? BP_ALLOC_NO_FRAME : 0));
		if (ref.shm == BP_SHM_NULL)
			return ref;
		blk = (BpArenaBlock *) bp_shm_ptr(ref.shm);
	}
	else
	{
		ref.local = malloc(size);
		if (ref.local == NULL && !arena->error_on_full)
			return ref;
		if (ref.local == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Failed on a block of %zu bytes for arena \"%s\".",
							   size, arena->name)));
		bp_mem_alloc(arena->key, size);
		blk = (BpArenaBlock *) ref.local;
	}
	blk->size = size;
	blk->big = big;
	BP_ARENA_INFO(arena)->blocks++;
	BP_ARENA_INFO(arena)->reserved += (int64) size;

	if (big && !bp_arena_ref_null(arena, arena->head))
	{
		BpArenaBlock *cur = bp_arena_block(arena, arena->head);

		blk->next = cur->next;
		cur->next = ref;
	}
	else
	{
		bp_arena_sync(arena);	/* what the old current block used */
		blk->next = arena->head;
		arena->head = ref;
		arena->cur_size = size;
		/* a big block alone is current but full */
		bp_arena_set_cur_used(arena, big ? size : BP_ARENA_HDR);
		arena->synced = big ? size : BP_ARENA_HDR;
	}
	return ref;
}

/* The part of bp_arena_alloc_aligned that needs a new block. */
static pg_noinline void *
bp_arena_alloc_slow(BpArena *arena, Size size, Size alignment)
{
	Size		extra = alignment > MAXIMUM_ALIGNOF ? alignment : 0;
	Size		need;
	Size		reserved = (Size) BP_ARENA_INFO(arena)->reserved;
	Size		room = arena->max_capacity > reserved ? arena->max_capacity - reserved : 0;
	BpArenaRef	ref;
	char	   *base;
	uintptr_t	start;

	if (size > BP_ARENA_MAX_BLOCK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("arena request of %zu bytes is too large", size),
				 errdetail("An arena allocation is at most %zu bytes.", BP_ARENA_MAX_BLOCK)));
	need = BP_ARENA_HDR + size + extra;
	if (arena->shared)
	{
		if (need > bp_arena_shared_max())
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("request of %zu bytes is too large for shared arena \"%s\"",
							size, arena->name),
					 errdetail("A shared arena allocation is at most %zu bytes (bufpool_ext.page_size less the block header).",
							   bp_arena_shared_max() - BP_ARENA_HDR - extra)));
		need = bp_buddy_block_size(need);
	}

	if (size >= arena->block_size)
	{
		/* a block of its own */
		if (arena->max_capacity != 0 && need > room)
		{
			if (arena->error_on_full)
				bp_arena_full(arena, size);
			return NULL;
		}
		ref = bp_arena_new_block(arena, need, true);
		if (bp_arena_ref_null(arena, ref))
			return NULL;
		base = (char *) bp_arena_block(arena, ref);
		start = TYPEALIGN(alignment, (uintptr_t) base + BP_ARENA_HDR);
		BP_ARENA_INFO(arena)->used += (int64) (start + size - ((uintptr_t) base + BP_ARENA_HDR));
		return (void *) start;
	}
	else
	{
		Size		bsize = Max(arena->block_size, need);

		if (arena->shared)
			bsize = bp_buddy_block_size(Min(bsize, bp_arena_shared_max()));
		if (arena->max_capacity != 0 && bsize > room)
		{
			/* a smaller block, down to what this request needs */
			if (need > room)
			{
				if (arena->error_on_full)
					bp_arena_full(arena, size);
				return NULL;
			}
			bsize = arena->shared ? need : room;
		}
		if (bp_arena_ref_null(arena, bp_arena_new_block(arena, bsize, false)))
			return NULL;
		arena->block_size = BP_ARENA_GROW(arena->block_size);
		if (arena->block_size > BP_ARENA_MAX_BLOCK)
			arena->block_size = BP_ARENA_MAX_BLOCK;
		if (arena->shared && arena->block_size > bp_arena_shared_max())
			arena->block_size = bp_arena_shared_max();
		/* now the fast path cannot fail */
		return bp_arena_alloc_aligned(arena, size, alignment);
	}
}

/*
 * Allocate size bytes aligned to alignment (a power of two, at most
 * BP_ARENA_MAX_ALIGN).  NULL only when max_capacity is reached and
 * error_on_full is false.
 */
void *
bp_arena_alloc_aligned(BpArena *arena, Size size, Size alignment)
{
	if (likely(arena->cur_size != 0))
	{
		char	   *base = arena->shared ? (char *) bp_shm_ptr(arena->head.shm)
			: (char *) arena->head.local;
		uintptr_t	from = (uintptr_t) base + bp_arena_cur_used(arena);
		uintptr_t	start = TYPEALIGN(alignment, from);

		if (likely(start + size <= (uintptr_t) base + arena->cur_size &&
				   start + size >= start))
		{
			bp_arena_set_cur_used(arena, start + size - (uintptr_t) base);
			if (arena->shared)
				bp_arena_sync(arena);
			return (void *) start;
		}
	}
	bp_arena_check_magic(arena);
	if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > BP_ARENA_MAX_ALIGN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arena alignment %zu is not valid", alignment),
				 errdetail("The alignment must be a power of two from 1 to %d.", BP_ARENA_MAX_ALIGN)));
	return bp_arena_alloc_slow(arena, size, alignment);
}

/*
 * bp_arena_free_last for a shared arena (local ones are done inline; a
 * local arena without a current block has nothing to give back).
 */
bool
bp_arena_free_last_slow(BpArena *arena, void *ptr, Size size)
{
	char	   *base;

	bp_arena_check_magic(arena);
	if (!arena->shared || arena->cur_size == 0)
		return false;
	base = (char *) bp_shm_ptr(arena->head.shm);
	if ((char *) ptr <= base || (char *) ptr + size != base + arena->cur_used)
		return false;
	arena->cur_used = (char *) ptr - base;
	bp_arena_sync(arena);
	return true;
}

/* The allocation as a BpShmAddr, for a shared arena. */
BpShmAddr
bp_arena_alloc_shm(BpArena *arena, Size size)
{
	char	   *p;
	BpArenaRef	ref;

	bp_arena_check_magic(arena);
	if (!arena->shared)
		elog(ERROR, "bufpool_ext: bp_arena_alloc_shm on local arena \"%s\"", arena->name);
	p = bp_arena_alloc(arena, size);
	if (p == NULL)
		return BP_SHM_NULL;
	/* find the block holding p: the current one, or a big one just made */
	for (ref = arena->head; ref.shm != BP_SHM_NULL;)
	{
		BpArenaBlock *blk = (BpArenaBlock *) bp_shm_ptr(ref.shm);

		if (p >= (char *) blk && p < (char *) blk + blk->size)
			return ref.shm + (BpShmAddr) (p - (char *) blk);
		ref = blk->next;
	}
	elog(ERROR, "bufpool_ext: allocation not found in shared arena \"%s\"", arena->name);
	return BP_SHM_NULL;			/* keep compiler quiet */
}

/* Free every block; the next block has the first block size again. */
void
bp_arena_clear(BpArena *arena)
{
	BpArenaRef	head;

	bp_arena_check_magic(arena);
	head = arena->head;
	if (arena->shared)
		arena->head.shm = BP_SHM_NULL;
	else
		arena->head.local = NULL;
	arena->cur_size = 0;
	arena->fast_ptr = NULL;
	arena->fast_limit = NULL;
	arena->cur_used = 0;
	arena->synced = 0;
	arena->block_size = arena->min_block_size;
	BP_ARENA_INFO(arena)->used = 0;
	bp_arena_free_chain(arena, head);
}

/*
 * Free every block but the current one (the last normal block made, or
 * the only block), which is emptied and kept for the next allocations.
 * The block size keeps growing from where it was.
 */
void
bp_arena_clear_for_reuse(BpArena *arena)
{
	BpArenaBlock *cur;
	BpArenaRef	rest;

	bp_arena_check_magic(arena);
	if (bp_arena_ref_null(arena, arena->head))
		return;
	cur = bp_arena_block(arena, arena->head);
	rest = cur->next;
	if (arena->shared)
		cur->next.shm = BP_SHM_NULL;
	else
		cur->next.local = NULL;
	cur->big = false;
	bp_arena_set_cur_used(arena, BP_ARENA_HDR);
	arena->synced = BP_ARENA_HDR;
	BP_ARENA_INFO(arena)->used = 0;
	bp_arena_free_chain(arena, rest);
}

/* Clear and unregister; the arena must be initialised again to be used. */
void
bp_arena_destroy(BpArena *arena)
{
	if (arena == NULL || arena->magic != BP_ARENA_MAGIC)
		return;
	bp_arena_clear(arena);
	if (arena->shared)
		bp_alloc_shared_drop(BP_ARENA_INFO(arena));
	else
		bp_alloc_unregister_local(&arena->info);
	arena->info_index = -1;
	arena->magic = 0;
}

static void
bp_arena_scoped_cleanup(void *arg)
{
	bp_arena_destroy((BpArena *) arg);
}

BpArena *
bp_arena_create_scoped(const char *name, Size block_size)
{
	BpArena    *arena = palloc0(sizeof(BpArena));
	MemoryContextCallback *cb = palloc0(sizeof(MemoryContextCallback));

	bp_arena_init(arena, name, false, block_size, 0, true);
	cb->func = bp_arena_scoped_cleanup;
	cb->arg = arena;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	return arena;
}

Size
bp_arena_reserved(const BpArena *arena)
{
	return (Size) BP_ARENA_INFO(arena)->reserved;
}

Size
bp_arena_used(const BpArena *arena)
{
	return (Size) (BP_ARENA_INFO(arena)->used +
				   (int64) (bp_arena_cur_used(arena) - arena->synced));
}

int
bp_arena_blocks(const BpArena *arena)
{
	return (int) BP_ARENA_INFO(arena)->blocks;
}

int
bp_arena_block_sizes(const BpArena *arena, Size *sizes, bool *big, int max)
{
	BpArenaRef	ref = arena->head;
	int			n = 0;

	while (!bp_arena_ref_null(arena, ref))
	{
		BpArenaBlock *blk = bp_arena_block(arena, ref);

		if (n < max)
		{
			sizes[n] = blk->size;
			big[n] = blk->big;
		}
		n++;
		ref = blk->next;
	}
	return n;
}

bool
bp_arena_check(const BpArena *arena, const char **why)
{
	BpArenaRef	ref = arena->head;
	int64		blocks = 0;
	int64		reserved = 0;
	int64		room = 0;

	if (arena->magic != BP_ARENA_MAGIC)
	{
		*why = "bad magic";
		return false;
	}
	while (!bp_arena_ref_null(arena, ref))
	{
		BpArenaBlock *blk = bp_arena_block(arena, ref);

		if (blk->size < BP_ARENA_HDR)
		{
			*why = "block smaller than its header";
			return false;
		}
		blocks++;
		reserved += (int64) blk->size;
		room += (int64) (blk->size - BP_ARENA_HDR);
		ref = blk->next;
	}
	if (blocks != BP_ARENA_INFO(arena)->blocks)
		*why = "block count differs from the blocks held";
	else if (reserved != BP_ARENA_INFO(arena)->reserved)
		*why = "reserved differs from the sum of block sizes";
	else if ((int64) bp_arena_used(arena) < 0 || (int64) bp_arena_used(arena) > room)
		*why = "used is more than the room in the blocks";
	else if (bp_arena_cur_used(arena) > arena->cur_size)
		*why = "current block overfull";
	else if (arena->max_capacity != 0 && reserved > (int64) arena->max_capacity)
		*why = "reserved is past max_capacity";
	else
		return true;
	return false;
}

Size
bp_arena_block_overhead(void)
{
	return BP_ARENA_HDR;
}
