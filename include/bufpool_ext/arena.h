/*-------------------------------------------------------------------------
 *
 * arena.h
 *	  Bump allocator in the style of the MySQL server's MEM_ROOT (see
 *	  src/arena.c for the design).
 *
 * Allocation bumps a pointer in the current block; a new block is 1.5x
 * the previous one; a request at least as large as the block size gets a
 * block of its own.  Everything is freed at once (bp_arena_clear) or
 * kept for reuse except the last block (bp_arena_clear_for_reuse).
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
 *	  include/bufpool_ext/arena.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_ARENA_H
#define BUFPOOL_EXT_ARENA_H

#include "bufpool_ext/buddy.h"
#include "bufpool_ext/memstat.h"

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
	/* current block (the head of the list): [cur_used, cur_size) is free */
	Size		cur_used;
	Size		cur_size;
	/*
	 * cur_used as far as info's used counts it: the inline fast path only
	 * moves cur_used, and the difference is added to used when anything
	 * reads or resets it (bp_arena_used, a new block, a clear, the
	 * bufpool.heaps snapshot).  Shared arenas are always in step.
	 */
	Size		synced;
	/* cur_size for a local arena with a current block, else 0: the inline
	 * fast path's one bound check */
	Size		fast_end;
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
 * its current block (whose start is MAXALIGN'd, so an offset rounded up
 * to 8 is an address aligned to 8).  Everything else goes out of line.
 */
static inline void *
bp_arena_alloc(BpArena *arena, Size size)
{
	Size		off = MAXALIGN(arena->cur_used);
	Size		end = off + size;

	if (likely(end <= arena->fast_end && end >= off))
	{
		char	   *p = (char *) arena->head.local + off;

		arena->cur_used = end;
		return p;
	}
	return bp_arena_alloc_aligned(arena, size, MAXIMUM_ALIGNOF);
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
