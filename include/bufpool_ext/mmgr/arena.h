/*-------------------------------------------------------------------------
 *
 * arena.h
 *	  Bump allocator in the style of the MySQL server's MEM_ROOT (see
 *	  src/mmgr/arena.c for the design).
 *
 * Allocation bumps a pointer in the current block; a new block is 1.5x
 * the previous one; a request at least as large as the block size gets a
 * block of its own.  Everything is freed at once (bp_arena_clear) or
 * kept for reuse except the last block (bp_arena_clear_for_reuse); the
 * latest allocation alone can be given back (bp_arena_free_last).
 *
 * A local arena takes its blocks from malloc (in backend-local memory).
 * A shared arena takes them from the buddy allocator and keeps its whole
 * state, the BpArena itself included, in shared memory: blocks are
 * chained by BpShmAddr, and allocations come back as BpShmAddr too
 * (bp_arena_alloc_shm), so any process that can see the BpArena can
 * read what it holds.  A shared arena is used by one process at a time
 * (its owner, or whoever holds the lock the caller protects it with).
 * Its blocks are buddy blocks: sizes are rounded up to a power of two
 * and capped at bufpool_ext.page_size, so a single request must fit in
 * one page (minus the block header).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/mmgr/arena.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_ARENA_H
#define BUFPOOL_EXT_ARENA_H

#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/base/memstat.h"

#define BP_ARENA_MAGIC			0x42504152	/* "BPAR" */
#define BP_ARENA_MIN_BLOCK		64
#define BP_ARENA_MAX_BLOCK		((Size) 1 << 30)
#define BP_ARENA_MAX_ALIGN		4096
#define BP_ARENA_NAME_LEN		(BP_MEM_NAME_LEN - 21)	/* after "memory/bufpool/arena/" */

/* A block reference: a pointer (local arenas) or a BpShmAddr (shared). */
typedef union BpArenaRef
{
	void	   *local;
	BpShmAddr	shm;
} BpArenaRef;

typedef struct BpArena
{
	uint32		magic;			/* BP_ARENA_MAGIC while initialised */
	bool		shared;
	bool		region_only;	/* shared: never take a pool frame (see
								 * BP_ALLOC_NO_FRAME) */
	bool		error_on_full;	/* ERROR (true) or NULL when max_capacity is
								 * hit or the memory is not there */
	BpMemKey	key;			/* memory instrument charged */
	Size		block_size;		/* size of the next block */
	Size		min_block_size;	/* first block size, restored by clear */
	Size		max_capacity;	/* 0: unlimited; else limit on reserved bytes */
	Size		alignment;		/* default alignment (8) */
	/*
	 * The current block (the head of the list): [cur_used, cur_size) is
	 * free.  A local arena keeps cur_used in fast_ptr instead, and cur_used
	 * is left 0.
	 */
	Size		cur_used;
	Size		cur_size;
	/*
	 * cur_used as far as info's used counts it: the inline fast path only
	 * moves fast_ptr, and the difference is added to used when anything
	 * reads or resets it (bp_arena_used, a new block, a clear, the
	 * bufpool.heaps snapshot).  Shared arenas are always in step.
	 */
	Size		synced;
	/*
	 * A local arena with a current block: fast_ptr is its start plus the
	 * bytes used, fast_limit its end; the state of the inline fast paths
	 * (one load, one bound check, one store).  NULL otherwise (a shared
	 * arena, or no block yet).
	 */
	char	   *fast_ptr;
	char	   *fast_limit;
	/* blocks: the current one first, then blocks of big requests, then older */
	BpArenaRef	head;
	/* statistics (also in info) */
	BpAllocInfo info;			/* local arenas; shared: see info_index */
	int32		info_index;		/* shared arenas: their bufpool.heaps slot
								 * (an index: no pointer in shared memory);
								 * -1 for local ones, which keep info */
	char		name[BP_ARENA_NAME_LEN];
} BpArena;

/* the BpAllocInfo an arena keeps current */
#define BP_ARENA_INFO(a) \
	((a)->info_index >= 0 ? bp_alloc_shared_slot((a)->info_index) : &(a)->info)

/* key of memory instrument "memory/bufpool/..." (cached per process) */
extern BpMemKey bp_alloc_instrument(const char *instrument);

/* create (in memory the caller provides: local, or shared for shared) */
extern void bp_arena_init(BpArena *arena, const char *name, bool shared,
						  Size block_size, Size max_capacity, bool error_on_full);

/*
 * A local arena whose BpArena is palloc'd in CurrentMemoryContext and
 * destroyed (every block freed) when that context is reset or deleted,
 * so an ERROR never leaks its malloc'd blocks.  bp_arena_destroy before
 * that is allowed (the callback then does nothing).
 */
extern BpArena *bp_arena_create_scoped(const char *name, Size block_size);

/* clear and unregister (after this, bp_arena_init again before any use) */
extern void bp_arena_destroy(BpArena *arena);

/*
 * allocate; NULL only when error_on_full is false and max_capacity is hit
 * or no memory is left (malloc or the buddy allocator failed)
 */
extern void *bp_arena_alloc_aligned(BpArena *arena, Size size, Size alignment);

/*
 * The common case inline, as MEM_ROOT::Alloc: a local arena with room in
 * its current block.  Everything else (a size of 0 too) goes out of line.
 */
static inline void *
bp_arena_alloc(BpArena *arena, Size size)
{
	uintptr_t	start = TYPEALIGN(MAXIMUM_ALIGNOF, (uintptr_t) arena->fast_ptr);
	uintptr_t	end = start + size;

	/* end > start: no wrap-around, and no block (both NULL) goes out of line */
	if (likely(end <= (uintptr_t) arena->fast_limit && end > start))
	{
		arena->fast_ptr = (char *) end;
		return (void *) start;
	}
	return bp_arena_alloc_aligned(arena, size, MAXIMUM_ALIGNOF);
}

/*
 * Give back the most recent allocation, last in first out (as obstack_free
 * or mem_heap's free_top): when [ptr, ptr + size) is the last thing the
 * current block handed out, its bytes are free again and the next
 * allocation reuses them; otherwise nothing happens and the bytes stay
 * until a clear.  size must be the size that was asked for.  Returns
 * whether the bytes came back.  Alignment padding before ptr stays used.
 */
extern bool bp_arena_free_last_slow(BpArena *arena, void *ptr, Size size);

static inline bool
bp_arena_free_last(BpArena *arena, void *ptr, Size size)
{
	/*
	 * Ending where the current block's used bytes end means it is the
	 * latest allocation: an allocation of that size anywhere else would
	 * overlap the block.  Never true without a local current block.
	 */
	if (likely((char *) ptr + size == arena->fast_ptr))
	{
		arena->fast_ptr = (char *) ptr;
		return true;
	}
	return arena->shared && bp_arena_free_last_slow(arena, ptr, size);
}

/* shared arenas: the same allocation, named for other processes */
extern BpShmAddr bp_arena_alloc_shm(BpArena *arena, Size size);

/* free all blocks / all but the last (kept, emptied, for reuse) */
extern void bp_arena_clear(BpArena *arena);
extern void bp_arena_clear_for_reuse(BpArena *arena);

/* bytes held in blocks, and bytes handed out since the last clear */
extern Size bp_arena_reserved(const BpArena *arena);
extern Size bp_arena_used(const BpArena *arena);
extern int	bp_arena_blocks(const BpArena *arena);

/*
 * For tests: the sizes of the blocks in list order (current first) with
 * big[i] true for a block made for one big request; returns the count
 * (at most max are stored).  bp_arena_check walks the blocks and checks
 * the counters against them; false with *why set on a mismatch.
 */
extern int	bp_arena_block_sizes(const BpArena *arena, Size *sizes, bool *big, int max);
extern bool bp_arena_check(const BpArena *arena, const char **why);
extern Size bp_arena_block_overhead(void);	/* header bytes of a block */

#endif							/* BUFPOOL_EXT_ARENA_H */
