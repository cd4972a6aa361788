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

typedef struct BpArena
{
	bool		shared;
	bool		error_on_full;	/* ERROR (true) or NULL when max_capacity is hit */
	BpMemKey	key;			/* memory instrument charged */
	Size		block_size;		/* size of the next block */
	Size		min_block_size;	/* first block size, restored by clear */
	Size		max_capacity;	/* 0: unlimited; else limit on reserved bytes */
	Size		alignment;		/* default alignment (8) */
	/* current block: [cur_free, cur_end) is free; offsets into the block */
	Size		cur_used;
	Size		cur_size;
	/* blocks, newest first; local: pointers, shared: BpShmAddr */
	union
	{
		void	   *local;
		BpShmAddr	shm;
	}			head;
	/* statistics (also in info) */
	BpAllocInfo info;			/* local arenas; shared: see info_slot */
	BpAllocInfo *info_slot;		/* shared arenas: their bufpool.heaps slot */
} BpArena;

/* create (in memory the caller provides: local, or shared for shared) */
extern void bp_arena_init(BpArena *arena, const char *name, bool shared,
						  Size block_size, Size max_capacity, bool error_on_full);

/* allocate; NULL only when max_capacity is hit and error_on_full is false */
extern void *bp_arena_alloc(BpArena *arena, Size size);
extern void *bp_arena_alloc_aligned(BpArena *arena, Size size, Size alignment);

/* shared arenas: the same allocation, named for other processes */
extern BpShmAddr bp_arena_alloc_shm(BpArena *arena, Size size);

/* free all blocks / all but the last (kept, emptied, for reuse) */
extern void bp_arena_clear(BpArena *arena);
extern void bp_arena_clear_for_reuse(BpArena *arena);

/* bytes held in blocks, and bytes handed out since the last clear */
extern Size bp_arena_reserved(const BpArena *arena);
extern Size bp_arena_used(const BpArena *arena);
extern int	bp_arena_blocks(const BpArena *arena);

#endif							/* BUFPOOL_EXT_ARENA_H */
