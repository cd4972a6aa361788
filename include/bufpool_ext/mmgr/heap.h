/*-------------------------------------------------------------------------
 *
 * heap.h
 *	  Memory heaps in the style of InnoDB's mem_heap_t (see src/mmgr/heap.c for
 *	  the design).
 *
 * A heap is a stack of blocks: allocation takes bytes from the top block,
 * and memory goes back from the top (bp_heap_free_top), down to a mark
 * taken earlier (bp_heap_get_top / bp_heap_free_to_mark), or all at once
 * (bp_heap_empty keeps the first block, bp_heap_free frees the heap).
 * The first block holds `initial` bytes (64 by default), each next one
 * twice the previous, up to a standard size: BP_HEAP_STANDARD_SIZE for
 * DYNAMIC heaps, a page (less the header) for BUFFER heaps; a larger
 * request gets a block of exactly its size.
 *
 * DYNAMIC heaps take blocks from malloc, or from the buddy allocator with
 * BP_HEAP_SHARED (the heap then lives in shared memory and is named by
 * bp_heap_shm_addr in other processes; one process uses it at a time).
 * BUFFER heaps give every block of at least half a page a whole
 * buffer-pool frame (bp_pool_frame_alloc), smaller blocks as DYNAMIC; if
 * the pool has no frame to spare the block comes from malloc / the buddy.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/mmgr/heap.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_HEAP_H
#define BUFPOOL_EXT_HEAP_H

#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/base/memstat.h"

/* heap types, and a flag */
#define BP_HEAP_DYNAMIC			0x00
#define BP_HEAP_BUFFER			0x01
#define BP_HEAP_SHARED			0x10	/* blocks from the buddy allocator */

#define BP_HEAP_START_SIZE		64		/* InnoDB's MEM_BLOCK_START_SIZE */
#define BP_HEAP_STANDARD_SIZE	8000	/* InnoDB's MEM_BLOCK_STANDARD_SIZE */
#define BP_HEAP_MAX_REQUEST		((Size) 1 << 30)
#define BP_HEAP_NAME_LEN		(BP_MEM_NAME_LEN - 20)	/* after "memory/bufpool/heap/" */

/* where a block's memory comes from */
typedef enum BpHeapSource
{
	BP_HEAP_SRC_MALLOC = 1,
	BP_HEAP_SRC_BUDDY,
	BP_HEAP_SRC_FRAME
} BpHeapSource;

/*
 * Header of every block.  Blocks are linked by references: a pointer
 * (as uint64) in local heaps, a BpShmAddr in shared heaps.
 */
typedef struct BpHeapBlock
{
	uint32		magic;			/* BP_HEAP_BLOCK_MAGIC while in a heap */
	uint8		source;			/* BpHeapSource */
	Size		len;			/* bytes held, header included */
	Size		start;			/* offset of the first data byte */
	Size		free;			/* offset of the first free byte */
	uint64		prev;			/* older block, 0 for the first */
	uint64		next;			/* newer block, 0 for the top */
	BpShmAddr	addr;			/* buddy and frame blocks: their name */
} BpHeapBlock;

/* emptied blocks a heap keeps for reuse (each at most the standard size) */
#define BP_HEAP_MAX_SPARES	128

/* The heap is its first block, as InnoDB's mem_heap_t. */
typedef struct BpHeap
{
	BpHeapBlock base;
	uint32		heap_magic;		/* BP_HEAP_MAGIC while the heap exists */
	uint8		type;			/* BP_HEAP_DYNAMIC or BP_HEAP_BUFFER */
	bool		shared;
	BpMemKey	key;			/* memory/bufpool/heap/<name> */
	uint64		self;			/* reference of the first block */
	uint64		top;			/* the top (newest) block */
	uint64		spare;			/* emptied blocks kept for reuse, linked by next */
	uint32		n_spare;		/* how many (at most BP_HEAP_MAX_SPARES) */
	void	   *scope;			/* bp_heap_create_scoped's holder, or NULL;
								 * a pointer valid in scope_pid only */
	int32		scope_pid;
	BpAllocInfo info;			/* local heaps: registered in bufpool.heaps */
	int32		info_index;		/* shared heaps: their bufpool.heaps slot
								 * (an index, not a pointer); -1: info */
	char		name[BP_HEAP_NAME_LEN];
} BpHeap;

/* the BpAllocInfo a heap keeps current */
#define BP_HEAP_INFO(h) \
	((h)->info_index >= 0 ? bp_alloc_shared_slot((h)->info_index) : &(h)->info)

/* A position in a heap, to free back to (InnoDB's heap top). */
typedef struct BpHeapMark
{
	uint64		block;
	Size		free;
	Size		used;			/* the heap's used bytes at the mark */
} BpHeapMark;

#define BP_HEAP_BLOCK_MAGIC		0x4250484B	/* "BPHK" */
#define BP_HEAP_MAGIC			0x42504850	/* "BPHP" */

extern BpHeap *bp_heap_create(const char *name, int type, Size initial);
extern BpHeap *bp_heap_create_scoped(const char *name, int type, Size initial);
extern void *bp_heap_alloc_slow(BpHeap *heap, Size n);
extern void bp_heap_free_top_slow(BpHeap *heap, Size n);

/*
 * Allocate n bytes (MAXALIGN'd) on top of the heap.  The common case
 * inline, as InnoDB's mem_heap_alloc: a local heap whose top block has
 * room.
 */
static inline void *
bp_heap_alloc(BpHeap *heap, Size n)
{
	if (likely(!heap->shared))
	{
		BpHeapBlock *top = (BpHeapBlock *) (uintptr_t) heap->top;
		Size		need = MAXALIGN(n);

		if (likely(need >= n && top->len - top->free >= need))
		{
			top->free += need;
			BP_HEAP_INFO(heap)->used += (int64) need;
			return (char *) top + (top->free - need);
		}
	}
	return bp_heap_alloc_slow(heap, n);
}

/*
 * Free the topmost n bytes: n is the size of the last allocation (or the
 * sum of the last few, all in one block), as passed to bp_heap_alloc.
 * Inline when the top block's guard is intact and it holds n bytes.
 */
static inline void
bp_heap_free_top(BpHeap *heap, Size n)
{
	if (likely(!heap->shared))
	{
		BpHeapBlock *top = (BpHeapBlock *) (uintptr_t) heap->top;
		Size		take = MAXALIGN(n);

		if (likely(top->magic == BP_HEAP_BLOCK_MAGIC && take >= n &&
				   top->free <= top->len && take <= top->free - top->start &&
				   (take > 0 || top->free > top->start)))
		{
			top->free -= take;
			BP_HEAP_INFO(heap)->used -= (int64) take;
			return;
		}
	}
	bp_heap_free_top_slow(heap, n);
}
extern BpHeapMark bp_heap_get_top(BpHeap *heap);
extern void bp_heap_free_to_mark(BpHeap *heap, BpHeapMark mark);
extern void bp_heap_empty(BpHeap *heap);
extern void bp_heap_free(BpHeap *heap);

/* shared heaps: the heap's name for other processes, and back */
extern BpShmAddr bp_heap_shm_addr(BpHeap *heap);
extern BpHeap *bp_heap_from_shm(BpShmAddr addr);

/* statistics */
extern Size bp_heap_used(const BpHeap *heap);
extern Size bp_heap_reserved(const BpHeap *heap);
extern int	bp_heap_blocks(const BpHeap *heap);

/* for tests: block sizes and sources bottom to top; walk and check */
extern int	bp_heap_block_info(const BpHeap *heap, Size *len, Size *cap,
							   uint8 *source, int max);
extern bool bp_heap_check(const BpHeap *heap, const char **why);

#endif							/* BUFPOOL_EXT_HEAP_H */
