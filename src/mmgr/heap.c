/*-------------------------------------------------------------------------
 *
 * heap.c
 *	  Memory heaps in the style of InnoDB's mem_heap_t (mem0mem.cc).
 *
 * A heap is a stack of blocks, the heap itself being the first block (as
 * in InnoDB, where mem_heap_t is a mem_block_t).  Every allocation is
 * MAXALIGN'd and taken from the top block; when it does not fit, a new
 * block goes on top:
 *
 *	  capacity = 2 x the top block's capacity, at most the standard size
 *				 (BP_HEAP_STANDARD_SIZE = 8000 bytes for DYNAMIC heaps, a
 *				 page less the header for BUFFER heaps), and at least the
 *				 request: a larger request gets a block of exactly its size.
 *
 * Memory is given back in stack order: bp_heap_free_top(n) takes back the
 * last n bytes (n as allocated), bp_heap_free_to_mark back to a mark from
 * bp_heap_get_top, bp_heap_empty everything but the first block,
 * bp_heap_free everything.  A block emptied by free_top stays on top
 * until the heap needs another one (an allocation that does not fit, a
 * free_top of bytes below it, a mark), so alloc/free pairs at a block
 * boundary stay on the inline fast paths of heap.h.  A block given up
 * (and every block above a mark, and with bp_heap_empty every block but
 * the first) is kept aside as a spare if it is not a frame and at most
 * the standard size, up to BP_HEAP_MAX_SPARES of them; the next blocks
 * the heap needs come from the spares first.  A loop that allocates and
 * frees across a block boundary, or fills and empties the heap, would
 * otherwise call malloc and free on every turn (InnoDB's mem_heap_empty
 * frees the blocks; here they stay held, and counted as reserved, until
 * bp_heap_free).  Spares are in bufpool.heaps' blocks and reserved, not
 * in bp_heap_blocks, which counts the blocks in use.
 *
 * Types.  DYNAMIC heaps take blocks from malloc, or with BP_HEAP_SHARED
 * from the buddy allocator, the heap then living in shared memory and
 * linked by BpShmAddr (one process uses it at a time).  BUFFER heaps give
 * a block of at least half a page a whole buffer-pool frame from
 * bp_pool_frame_alloc (InnoDB's buf_block_alloc for MEM_HEAP_BUFFER), so
 * large transient arrays come out of the pool's memory rather than the
 * process's; when the pool has no frame to spare (BP_ALLOC_NO_OOM), the
 * block comes from malloc / the buddy instead, so a BUFFER heap never
 * fails where a DYNAMIC one would not.  A request larger than a page
 * gets an exact malloc'd block (local heaps) or is an error (shared
 * heaps: the buddy's largest block is a page).
 *
 * Guards (InnoDB's debug checks, always on): every block carries a magic
 * number, checked for every block a free touches before anything is
 * freed; a mismatch (memory overwritten, a mark from another heap, a
 * heap already freed) is an ERROR, never a crash, and leaves the heap
 * as it was.  free_top checks that n is not more than the top block holds.
 * The guards are reachable from SQL (bufpool.heap_test_guard), so they
 * ereport with an errcode: data_corrupted for overwritten memory,
 * invalid_parameter_value for a bad mark or free_top.
 *
 * Accounting: malloc'd blocks are counted with bp_mem_alloc / bp_mem_free
 * under "memory/bufpool/heap/<name>"; the buddy allocator and
 * bp_pool_frame_alloc count theirs under the same key.  The heap's
 * BpAllocInfo (bufpool.heaps) has blocks, reserved and used current.
 *
 * Locking: none; see above.
 *
 * IDENTIFICATION
 *	  src/mmgr/heap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "bufpool_ext/mmgr/arena.h"
#include "bufpool_ext/mmgr/heap.h"
#include "bufpool_ext/shared/shmem.h"

#define BP_HEAP_HDR			MAXALIGN(sizeof(BpHeapBlock))
#define BP_HEAP_BASE_HDR	MAXALIGN(sizeof(BpHeap))

typedef struct BpHeapScope
{
	BpHeap	   *heap;
} BpHeapScope;

static void bp_heap_release_all(BpHeap *heap, bool check);
static void bp_heap_drop_spare(BpHeap *heap);
static void bp_heap_pop(BpHeap *heap);

static inline BpHeapBlock *
bp_heap_deref(const BpHeap *heap, uint64 ref)
{
	if (ref == 0)
		return NULL;
	return heap->shared ? (BpHeapBlock *) bp_shm_ptr((BpShmAddr) ref)
		: (BpHeapBlock *) (uintptr_t) ref;
}

static inline Size
bp_heap_cap(const BpHeapBlock *blk)
{
	return blk->len - blk->start;
}

static void
bp_heap_check_heap(const BpHeap *heap)
{
	if (heap == NULL || heap->heap_magic != BP_HEAP_MAGIC ||
		heap->base.magic != BP_HEAP_BLOCK_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bufpool_ext: memory heap is not valid (freed, or overwritten)")));
}

static void
bp_heap_check_block(const BpHeap *heap, const BpHeapBlock *blk)
{
	if (blk->magic != BP_HEAP_BLOCK_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bufpool_ext: heap \"%s\": a block has magic number %08x, expected %08x (memory overwritten?)",
						heap->name, blk->magic, BP_HEAP_BLOCK_MAGIC)));
	if (blk->start > blk->free || blk->free > blk->len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bufpool_ext: heap \"%s\": a block has free offset %zu outside %zu..%zu",
						heap->name, blk->free, blk->start, blk->len)));
}

/* the standard (largest growth) capacity of a block of this heap */
static Size
bp_heap_standard(int type)
{
	return type == BP_HEAP_BUFFER ? (Size) BpPageSize - BP_HEAP_HDR : BP_HEAP_STANDARD_SIZE;
}

/*
 * Get memory for a block of len bytes (header included).  Sets *source,
 * *addr (shared memory name, 0 for malloc) and *len (what was taken).
 * Returns the block, or ERROR.
 */
static BpHeapBlock *
bp_heap_get_memory(const char *name, int type, bool shared, BpMemKey key,
				   Size *len, uint8 *source, BpShmAddr *addr)
{
	Size		page = (Size) BpPageSize;
	void	   *p;

	*addr = BP_SHM_NULL;
	if (type == BP_HEAP_BUFFER && *len >= page / 2 && *len <= page)
	{
		BpShmAddr	a = bp_pool_frame_alloc(-1, key, BP_ALLOC_NO_OOM);

		if (a != BP_SHM_NULL)
		{
			*addr = a;
			*len = page;
			*source = BP_HEAP_SRC_FRAME;
			return (BpHeapBlock *) bp_shm_ptr(a);
		}
		/* no frame to spare: as a DYNAMIC block */
	}
	if (shared)
	{
		if (*len > page)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("block of %zu bytes is too large for shared heap \"%s\"", *len, name),
					 errdetail("Shared heap blocks come from the buddy allocator, at most bufpool_ext.page_size (%zu) bytes.",
							   page)));
		*len = bp_buddy_block_size(*len);
		*addr = bp_buddy_alloc(-1, *len, key, 0);
		*source = BP_HEAP_SRC_BUDDY;
		return (BpHeapBlock *) bp_shm_ptr(*addr);
	}
	p = malloc(*len);
	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on a block of %zu bytes for heap \"%s\".", *len, name)));
	bp_mem_alloc(key, *len);
	*source = BP_HEAP_SRC_MALLOC;
	return (BpHeapBlock *) p;
}

static void
bp_heap_put_memory(const BpHeap *heap, BpHeapBlock *blk)
{
	uint8		source = blk->source;
	Size		len = blk->len;
	BpShmAddr	addr = blk->addr;

	blk->magic = 0;
	switch (source)
	{
		case BP_HEAP_SRC_FRAME:
			bp_pool_frame_free(addr, heap->key);
			break;
		case BP_HEAP_SRC_BUDDY:
			bp_buddy_free(addr, len, heap->key);
			break;
		default:
			free(blk);
			bp_mem_free(heap->key, len);
			break;
	}
}

static inline uint64
bp_heap_ref_of(bool shared, BpHeapBlock *blk, BpShmAddr addr)
{
	return shared ? (uint64) addr : (uint64) (uintptr_t) blk;
}

/*
 * Create a heap.  type: BP_HEAP_DYNAMIC or BP_HEAP_BUFFER, optionally
 * | BP_HEAP_SHARED.  initial: capacity of the first block (0: 64 bytes).
 */
BpHeap *
bp_heap_create(const char *name, int type, Size initial)
{
	char		instrument[BP_MEM_NAME_LEN];
	bool		shared = (type & BP_HEAP_SHARED) != 0;
	int			kind = type & ~BP_HEAP_SHARED;
	BpMemKey	key;
	BpHeap	   *heap;
	Size		len;
	uint8		source;
	BpShmAddr	addr;

	if (name == NULL || name[0] == '\0' || strlen(name) >= BP_HEAP_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("heap name \"%s\" must have 1 to %d characters",
						name ? name : "", BP_HEAP_NAME_LEN - 1)));
	if (kind != BP_HEAP_DYNAMIC && kind != BP_HEAP_BUFFER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("heap type %d is not valid", type),
				 errdetail("Valid types are BP_HEAP_DYNAMIC and BP_HEAP_BUFFER, optionally with BP_HEAP_SHARED.")));
	if (initial == 0)
		initial = BP_HEAP_START_SIZE;
	if (initial > BP_HEAP_MAX_REQUEST)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("heap initial size %zu is out of range", initial),
				 errdetail("Valid sizes are 1 to %zu bytes.", BP_HEAP_MAX_REQUEST)));

	snprintf(instrument, sizeof(instrument), "memory/bufpool/heap/%s", name);
	key = bp_alloc_instrument(instrument);
	len = BP_HEAP_BASE_HDR + MAXALIGN(initial);
	heap = (BpHeap *) bp_heap_get_memory(name, kind, shared, key, &len, &source, &addr);
	memset(heap, 0, sizeof(BpHeap));
	heap->base.magic = BP_HEAP_BLOCK_MAGIC;
	heap->base.source = source;
	heap->base.len = len;
	heap->base.start = BP_HEAP_BASE_HDR;
	heap->base.free = BP_HEAP_BASE_HDR;
	heap->base.addr = addr;
	heap->type = (uint8) kind;
	heap->shared = shared;
	heap->key = key;
	heap->self = bp_heap_ref_of(shared, &heap->base, addr);
	heap->top = heap->self;
	strlcpy(heap->name, name, sizeof(heap->name));
	if (shared)
	{
		PG_TRY();
		{
			heap->info_index =
				bp_alloc_shared_index(bp_alloc_shared_create(name, kind == BP_HEAP_BUFFER ?
															 BP_ALLOC_HEAP_BUFFER :
															 BP_ALLOC_HEAP_DYNAMIC));
		}
		PG_CATCH();
		{
			bp_heap_put_memory(heap, &heap->base);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	else
	{
		bp_alloc_register_local(&heap->info, name, kind == BP_HEAP_BUFFER ?
								BP_ALLOC_HEAP_BUFFER : BP_ALLOC_HEAP_DYNAMIC, false);
		heap->info_index = -1;
	}
	BP_HEAP_INFO(heap)->blocks = 1;
	BP_HEAP_INFO(heap)->reserved = (int64) len;
	BP_HEAP_INFO(heap)->used = 0;
	heap->heap_magic = BP_HEAP_MAGIC;
	return heap;
}

/* Put an emptied block on top of the heap. */
static void
bp_heap_push(BpHeap *heap, BpHeapBlock *blk, uint64 ref)
{
	BpHeapBlock *top = bp_heap_deref(heap, heap->top);

	blk->free = blk->start;
	blk->prev = heap->top;
	blk->next = 0;
	top->next = ref;
	heap->top = ref;
}

/*
 * bp_heap_alloc when the top block has no room (or the heap is shared).
 * An empty block left on top by bp_heap_free_top that is too small is
 * given up first; then the spare, or a new block.
 */
void *
bp_heap_alloc_slow(BpHeap *heap, Size n)
{
	BpHeapBlock *top;
	BpHeapBlock *blk;
	Size		need = MAXALIGN(n);
	Size		cap;
	Size		len;
	uint8		source;
	BpShmAddr	addr;
	uint64		ref;

	bp_heap_check_heap(heap);
	if (need < n || need > BP_HEAP_MAX_REQUEST)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("heap request of %zu bytes is too large", n),
				 errdetail("A heap allocation is at most %zu bytes.", BP_HEAP_MAX_REQUEST)));
	top = bp_heap_deref(heap, heap->top);
	bp_heap_check_block(heap, top);
	if (top->free == top->start && heap->top != heap->self && top->len - top->free < need)
	{
		bp_heap_pop(heap);
		top = bp_heap_deref(heap, heap->top);
	}
	if (top->len - top->free >= need)
	{
		blk = top;
		goto take;
	}

	/* a spare block big enough, if there is one */
	{
		uint64	   *link = &heap->spare;

		while (*link != 0)
		{
			blk = bp_heap_deref(heap, *link);
			if (bp_heap_cap(blk) >= need)
			{
				ref = *link;
				*link = blk->next;
				heap->n_spare--;
				blk->next = 0;
				bp_heap_push(heap, blk, ref);
				goto take;
			}
			link = &blk->next;
		}
	}

	cap = Min(2 * bp_heap_cap(top), bp_heap_standard(heap->type));
	if (cap < need)
		cap = need;
	len = BP_HEAP_HDR + cap;
	if (unlikely(bp_mem_emergency_refuses(len)))
		bp_mem_emergency_error(len, "heap", heap->name);
	blk = bp_heap_get_memory(heap->name, heap->type, heap->shared, heap->key,
							 &len, &source, &addr);
	blk->magic = BP_HEAP_BLOCK_MAGIC;
	blk->source = source;
	blk->len = len;
	blk->start = BP_HEAP_HDR;
	blk->addr = addr;
	ref = bp_heap_ref_of(heap->shared, blk, addr);
	bp_heap_push(heap, blk, ref);
	BP_HEAP_INFO(heap)->blocks++;
	BP_HEAP_INFO(heap)->reserved += (int64) len;

take:
	{
		void	   *p = (char *) blk + blk->free;

		blk->free += need;
		BP_HEAP_INFO(heap)->used += (int64) need;
		return p;
	}
}

/*
 * Take a block off the top (it is empty or being emptied) and free it, or
 * keep it as the spare.  The caller has checked its magic.
 */
static void
bp_heap_pop(BpHeap *heap)
{
	BpHeapBlock *blk = bp_heap_deref(heap, heap->top);
	uint64		ref = heap->top;
	BpHeapBlock *below = bp_heap_deref(heap, blk->prev);

	BP_HEAP_INFO(heap)->used -= (int64) (blk->free - blk->start);
	heap->top = blk->prev;
	below->next = 0;
	blk->free = blk->start;
	if (blk->source != BP_HEAP_SRC_FRAME &&
		bp_heap_cap(blk) <= bp_heap_standard(heap->type) &&
		heap->n_spare < BP_HEAP_MAX_SPARES)
	{
		blk->prev = 0;
		blk->next = heap->spare;
		heap->spare = ref;
		heap->n_spare++;
		return;
	}
	BP_HEAP_INFO(heap)->blocks--;
	BP_HEAP_INFO(heap)->reserved -= (int64) blk->len;
	bp_heap_put_memory(heap, blk);
}

static void
bp_heap_drop_spare(BpHeap *heap)
{
	while (heap->spare != 0)
	{
		BpHeapBlock *blk = bp_heap_deref(heap, heap->spare);

		heap->spare = blk->next;
		heap->n_spare--;
		BP_HEAP_INFO(heap)->blocks--;
		BP_HEAP_INFO(heap)->reserved -= (int64) blk->len;
		bp_heap_put_memory(heap, blk);
	}
}

/*
 * bp_heap_free_top when the inline checks fail: the heap is shared, the
 * top block is empty (a block emptied by an earlier free_top stays on top
 * until the heap needs a different one; the bytes to free are then in the
 * block below), or something is wrong (ERROR).
 */
void
bp_heap_free_top_slow(BpHeap *heap, Size n)
{
	BpHeapBlock *top;
	Size		take = MAXALIGN(n);

	bp_heap_check_heap(heap);
	top = bp_heap_deref(heap, heap->top);
	bp_heap_check_block(heap, top);
	if (top->free == top->start && heap->top != heap->self && take > 0)
	{
		bp_heap_pop(heap);
		top = bp_heap_deref(heap, heap->top);
		bp_heap_check_block(heap, top);
	}
	if (take < n || take > top->free - top->start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_ext: heap \"%s\": free_top of %zu bytes, but the top block holds %zu",
						heap->name, n, top->free - top->start)));
	top->free -= take;
	BP_HEAP_INFO(heap)->used -= (int64) take;
}

/* The current top of the heap, to free back to. */
BpHeapMark
bp_heap_get_top(BpHeap *heap)
{
	BpHeapMark	mark;

	bp_heap_check_heap(heap);
	/* never mark an emptied block a later allocation may give up */
	if (heap->top != heap->self && bp_heap_deref(heap, heap->top)->free ==
		bp_heap_deref(heap, heap->top)->start)
		bp_heap_pop(heap);
	mark.block = heap->top;
	mark.free = bp_heap_deref(heap, heap->top)->free;
	mark.used = (Size) BP_HEAP_INFO(heap)->used;
	return mark;
}

/*
 * Free everything allocated after mark was taken.  The mark must come
 * from this heap and still be inside it (not freed past already).
 */
void
bp_heap_free_to_mark(BpHeap *heap, BpHeapMark mark)
{
	uint64		ref;
	BpHeapBlock *blk;

	bp_heap_check_heap(heap);
	/* check every block to be touched before changing anything */
	for (ref = heap->top; ref != 0; ref = blk->prev)
	{
		blk = bp_heap_deref(heap, ref);
		bp_heap_check_block(heap, blk);
		if (ref == mark.block)
			break;
	}
	if (ref == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_ext: heap \"%s\": mark is not a position in this heap", heap->name)));
	if (mark.free < blk->start || mark.free > blk->free)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_ext: heap \"%s\": mark at offset %zu is past the top of its block (%zu)",
						heap->name, mark.free, blk->free)));

	while (heap->top != mark.block)
		bp_heap_pop(heap);
	BP_HEAP_INFO(heap)->used -= (int64) (blk->free - mark.free);
	blk->free = mark.free;
}

/* Free everything but the first block, which is emptied. */
void
bp_heap_empty(BpHeap *heap)
{
	BpHeapMark	bottom;

	bp_heap_check_heap(heap);
	bottom.block = heap->self;
	bottom.free = heap->base.start;
	bottom.used = 0;
	bp_heap_free_to_mark(heap, bottom);
}

/*
 * Free every block.  check: the magic numbers are checked first (ERROR
 * leaves the heap intact); without, everything is freed regardless (the
 * clean-up after an error).
 */
static void
bp_heap_release_all(BpHeap *heap, bool check)
{
	uint64		ref;
	BpHeapBlock *blk;

	if (check)
	{
		bp_heap_check_heap(heap);
		for (ref = heap->top; ref != 0; ref = blk->prev)
		{
			blk = bp_heap_deref(heap, ref);
			bp_heap_check_block(heap, blk);
		}
	}
	if (heap->scope != NULL && heap->scope_pid == MyProcPid)
		((BpHeapScope *) heap->scope)->heap = NULL;
	bp_heap_drop_spare(heap);
	for (ref = heap->top; ref != heap->self;)
	{
		blk = bp_heap_deref(heap, ref);
		ref = blk->prev;
		bp_heap_put_memory(heap, blk);
	}
	heap->heap_magic = 0;
	if (heap->shared)
		bp_alloc_shared_drop(BP_HEAP_INFO(heap));
	else
		bp_alloc_unregister_local(&heap->info);
	bp_heap_put_memory(heap, &heap->base);
}

void
bp_heap_free(BpHeap *heap)
{
	/* a scoped heap's holder lives in its creator's memory */
	if (heap != NULL && heap->heap_magic == BP_HEAP_MAGIC && heap->scope != NULL &&
		heap->scope_pid != MyProcPid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("heap \"%s\" belongs to process %d", heap->name, heap->scope_pid),
				 errdetail("A heap made by bp_heap_create_scoped is freed by the process that made it.")));
	bp_heap_release_all(heap, true);
}

static void
bp_heap_scope_cleanup(void *arg)
{
	BpHeapScope *scope = (BpHeapScope *) arg;

	if (scope->heap != NULL)
		bp_heap_release_all(scope->heap, false);
}

/*
 * A heap freed when CurrentMemoryContext is reset or deleted (so after
 * an ERROR too), unless bp_heap_free was called before.
 */
BpHeap *
bp_heap_create_scoped(const char *name, int type, Size initial)
{
	BpHeapScope *scope = palloc0(sizeof(BpHeapScope));
	MemoryContextCallback *cb = palloc0(sizeof(MemoryContextCallback));
	BpHeap	   *heap = bp_heap_create(name, type, initial);

	scope->heap = heap;
	heap->scope = scope;
	heap->scope_pid = MyProcPid;
	cb->func = bp_heap_scope_cleanup;
	cb->arg = scope;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	return heap;
}

BpShmAddr
bp_heap_shm_addr(BpHeap *heap)
{
	bp_heap_check_heap(heap);
	if (!heap->shared)
		elog(ERROR, "bufpool_ext: heap \"%s\" is not shared", heap->name);
	return heap->base.addr;
}

BpHeap *
bp_heap_from_shm(BpShmAddr addr)
{
	BpHeap	   *heap = (BpHeap *) bp_shm_ptr(addr);

	bp_heap_check_heap(heap);
	return heap;
}

Size
bp_heap_used(const BpHeap *heap)
{
	return (Size) BP_HEAP_INFO(heap)->used;
}

Size
bp_heap_reserved(const BpHeap *heap)
{
	return (Size) BP_HEAP_INFO(heap)->reserved;
}

/* blocks in use (the spares not counted) */
int
bp_heap_blocks(const BpHeap *heap)
{
	return (int) (BP_HEAP_INFO(heap)->blocks - heap->n_spare);
}

int
bp_heap_block_info(const BpHeap *heap, Size *len, Size *cap, uint8 *source, int max)
{
	uint64		ref;
	int			n = 0;

	for (ref = heap->self; ref != 0;)
	{
		BpHeapBlock *blk = bp_heap_deref(heap, ref);

		if (n < max)
		{
			len[n] = blk->len;
			cap[n] = bp_heap_cap(blk);
			source[n] = blk->source;
		}
		n++;
		ref = blk->next;
	}
	return n;
}

bool
bp_heap_check(const BpHeap *heap, const char **why)
{
	uint64		ref;
	uint64		prev = 0;
	int64		blocks = 0;
	int64		reserved = 0;
	int64		used = 0;
	uint64		blk_next = 0;

	if (heap->heap_magic != BP_HEAP_MAGIC)
	{
		*why = "bad heap magic";
		return false;
	}
	for (ref = heap->self; ref != 0;)
	{
		BpHeapBlock *blk = bp_heap_deref(heap, ref);

		if (blk->magic != BP_HEAP_BLOCK_MAGIC)
		{
			*why = "bad block magic";
			return false;
		}
		if (blk->prev != prev)
		{
			*why = "broken prev link";
			return false;
		}
		if (blk->start > blk->free || blk->free > blk->len)
		{
			*why = "free offset outside the block";
			return false;
		}
		if (blk->next == 0 && ref != heap->top)
		{
			*why = "last block is not the top";
			return false;
		}
		if (blk->next != 0 && ref != heap->self && blk->free == blk->start)
		{
			*why = "an empty block below the top";
			return false;
		}
		blocks++;
		reserved += (int64) blk->len;
		used += (int64) (blk->free - blk->start);
		prev = ref;
		ref = blk->next;
	}
	{
		uint32		n = 0;

		for (ref = heap->spare; ref != 0 && n <= BP_HEAP_MAX_SPARES; ref = blk_next)
		{
			BpHeapBlock *blk = bp_heap_deref(heap, ref);

			if (blk->magic != BP_HEAP_BLOCK_MAGIC || blk->free != blk->start ||
				blk->source == BP_HEAP_SRC_FRAME)
			{
				*why = "spare block not empty, a frame, or bad magic";
				return false;
			}
			blocks++;
			reserved += (int64) blk->len;
			n++;
			blk_next = blk->next;
		}
		if (n != heap->n_spare)
		{
			*why = "spare count differs from the spare list";
			return false;
		}
	}
	if (blocks != BP_HEAP_INFO(heap)->blocks)
		*why = "block count differs from the blocks held";
	else if (reserved != BP_HEAP_INFO(heap)->reserved)
		*why = "reserved differs from the sum of block sizes";
	else if (used != BP_HEAP_INFO(heap)->used)
		*why = "used differs from the bytes taken in the blocks";
	else if (used > reserved)
		*why = "used is more than reserved";
	else
		return true;
	return false;
}
