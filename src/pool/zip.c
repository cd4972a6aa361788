/*-------------------------------------------------------------------------
 *
 * zip.c
 *	  Compressed page images in the pool's memory: InnoDB's compressed
 *	  pages in buddy memory, its zip_hash, and its unzip_LRU.
 *
 * What it is for.  A page of a compressed space (pagezip.c) is stored on
 * disk as a slot of key_block_size bytes.  Without this module every miss
 * reads the slot and decompresses it, and the compressed bytes are then
 * thrown away.  Here, as in InnoDB, the slot read from disk is also kept
 * in memory, so the pool holds a page in one of two forms:
 *	 - a block with its uncompressed frame (on the LRU list as any page)
 *	   and, with BP_BS_ZIP, its compressed image too; the images of such
 *	   pages form the unzip_LRU, linked through their headers;
 *	 - a compressed image alone (its frame was evicted): a later access
 *	   decompresses it into a new frame, no I/O.
 * A page kept whole in its space's overflow file has its slot's header
 * as its image (a miss then reads the page alone); it is never on the
 * unzip_LRU, since dropping its frame would only cost a read later.
 *
 * Memory.  Images live in zip frames: pool blocks taken from the free
 * list (or by evicting a clean tail block, never waiting), each cut into
 * k equal pieces of one class (k = 2 .. BP_ZIP_MAX_PIECES).  An image
 * takes the class with the most pieces that still hold its header
 * (BpZipImage) and the slot's bytes in use, whatever the key_block_size,
 * or two pieces when that takes a sixteenth less memory: a head, and a
 * tail of another class holding the rest of the slot (bp_zip_layout).
 * InnoDB's buddy splits frames into powers of two (its zip_free[] lists);
 * one class per frame needs no merging and fits sizes between powers of
 * two (a 2.2 kB image takes a third of a frame, not half), and a tail
 * fits the rest (a 3.5 kB image takes a third and a ninth of a frame:
 * 2.25 images a frame, where one piece would hold 2).  A zip frame
 * is a block on the LRU list (not VALID, not in the page hash, space_id
 * InvalidOid, page_no BP_ZIP_FRAME_TAG | k; oldest_lsn holds its piece
 * bitmap), put at the old sublist's head when taken and whenever one of
 * its images loses its page's frame.  So it ages as pages do: at the LRU
 * tail it drops the images it holds of pages without a frame, and is
 * freed if that empties it; images of pages in the pool stay with them
 * (the frame is made young).  An image in two pieces ages with both
 * frames: whichever reaches the tail first drops it if frameless.  The
 * memory for images grows with demand
 * and shrinks as they go cold, inside the pool's blocks.  Empty zip
 * frames stay on their class's partial list until reused or evicted.
 *
 * Finding an image: the zip hash, a second bucket array in the page hash
 * segment (BP_ZIP_HASH_FACTOR times the buckets), chained through the
 * images' headers by BpZipRef (frame block << 8 | piece; no pointer).  A
 * page's image and its block are both under the page's hash partition
 * lock: whoever changes a chain, attaches an image to a block or
 * detaches it, or sets or clears BP_BS_ZIP, holds it exclusively.  A
 * process that reads an image's bytes outside that lock (a decompression)
 * first pins the zip frame, under the lock; an evictor of a zip frame
 * gives up when it sees such a pin.  An image in two pieces is copied
 * whole under the lock instead (bp_zip_claim): its tail's frame is not
 * pinned.  A tail is found from its frame by its page (the header
 * repeats it), and is the page's only if its head points to it.
 *
 * Eviction (lru.c): see bp_zip_evict_from_unzip, InnoDB's
 * buf_LRU_evict_from_unzip_LRU with a time rule and a lower floor, both
 * measured.  When it says so, the evictor drops only the frame of the
 * unzip_LRU's tail block (bp_zip_unzip_victim): the image stays.
 * Otherwise it evicts from the LRU tail whatever is there: a page (with
 * its image, but an overflow page keeps its slot header) or a zip frame
 * (as above).  An image is kept only while it is the page's latest
 * written version: a write (flush.c) replaces it, and dropping a frame
 * checks the LSNs.
 *
 * Relocation: a shrink that removes a chunk holding zip frames moves
 * their pieces, heads and tails, into zip frames of the chunks it keeps
 * (InnoDB's buf_buddy_relocate), counted per class with the time spent;
 * an image that finds no room there is dropped (it is only a cache of
 * its slot).
 *
 * Locks: the page's hash partition lock, then lru_lock (the unzip_LRU,
 * an image's block, moving a zip frame on the LRU list), then zip_mutex,
 * a per-instance spinlock over the class lists, piece bitmaps and
 * counters: a leaf, taken with every chunk mapped first
 * (bp_zip_map_chunks), since nothing under it may map a segment.  A page
 * write refreshes the image (bp_zip_written) holding its block's
 * IO_WRITE and maybe a doublewrite region, never a content lock of that
 * block; holders of a partition lock or lru_lock wait for neither.
 *
 * IDENTIFICATION
 *	  src/pool/zip.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "bufpool_ext/base/clock.h"
#include "bufpool_ext/shared/hash.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/storage/pagezip.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/pool/zip.h"

/*
 * The header of an image's piece, at its start; the slot's bytes follow.
 * An image is its head piece, in the zip hash, and maybe a tail piece in
 * a zip frame of another class, which holds the rest of the slot (see
 * bp_zip_layout); a tail's header repeats the page and points back to
 * its head.  Only the head's list fields are used.
 */
typedef struct BpZipImage
{
	uint32		space_id;
	uint32		page_no;
	BpZipRef	hash_next;		/* partition lock */
	BpZipRef	unzip_prev;		/* the unzip_LRU, while block is valid: lru_lock */
	BpZipRef	unzip_next;
	BpZipRef	part;			/* a head: its tail piece or BP_ZIP_NULL; a tail:
								 * its head (partition lock) */
	uint32		unzip_clock;	/* lru_lock: the instance's freed_page_clock when it
								 * joined the unzip_LRU's head */
	BpBlockNo	block;			/* the page's frame, or BP_INVALID_BLOCK: partition
								 * lock and, while valid, lru_lock */
	uint32		len;			/* bytes of the slot, in all */
	uint16		here;			/* of which in this piece (a head: the first) */
	bool		listed;			/* on the unzip_LRU (lru_lock); an image of a page
								 * in the overflow file never is */
	bool		is_tail;
} BpZipImage;

#define BP_ZIP_IMAGE_HDR	MAXALIGN(sizeof(BpZipImage))
#define BP_ZIP_PAYLOAD(img)	((char *) (img) + BP_ZIP_IMAGE_HDR)

/* the piece bitmap of a zip frame (oldest_lsn): pieces, then two flags */
#define BP_ZIP_PIECES_MASK	((uint64) 0xFFFFFFFF)
#define BP_ZIP_ON_PARTIAL	((uint64) 1 << 62)
#define BP_ZIP_CLOSING		((uint64) 1 << 63)

#define BP_ZIP_REF(zb, piece)	(((BpZipRef) (zb) << 8) | (BpZipRef) (piece))
#define BP_ZIP_REF_BLOCK(r)		((BpBlockNo) ((r) >> 8))
#define BP_ZIP_REF_PIECE(r)		((int) ((r) & 0xFF))

/*
 * This process's copy of the image in two pieces it last claimed
 * (bp_zip_claim, for bp_zip_fill); a slot is at most half a page.
 */
static union
{
	char		data[BP_PAGE_SIZE_MAX / 2];
	double		force_align;
}			bp_zip_copy;
static BpZipRef bp_zip_copy_of = BP_ZIP_NULL;
static int	bp_zip_copy_len;

/* The bytes of a piece of class k (a k-th of a frame, 8-byte aligned). */
int
bp_zip_class_size(int k)
{
	return (BpPageSize / k) & ~7;
}

/*
 * The class of a piece of need bytes: the most pieces a frame can be cut
 * into, at most max, that still hold it; -1 if it needs more than half a
 * frame.
 */
static int
bp_zip_class_for(int need, int max)
{
	int			k = Min(BpPageSize / need, max);

	while (k >= 2 && bp_zip_class_size(k) < need)
		k--;
	return k >= 2 ? k : -1;
}

/* Where an image's slot goes: a head piece of one class, maybe a tail of another. */
typedef struct BpZipLayout
{
	int			head;			/* class of the head piece; -1: the slot is not kept */
	int			tail;			/* class of the tail piece; 0: none */
	int			here;			/* bytes of the slot in the head */
} BpZipLayout;

/*
 * The layout of an image of len slot bytes: one piece of the class with
 * the most pieces that hold it, unless a head piece and a tail piece
 * (the rest of the slot, with a header of its own) take at least a
 * sixteenth less memory.  Frames cut in equal pieces waste up to the
 * difference between two classes: an lz4 slot of 3.5 kB takes half a
 * frame alone, but a third of a frame and a ninth of another split
 * (2.25 pages a frame instead of 2); a zstd slot of 2.2 kB, a third
 * alone, a quarter and a 26th split.  A tail is never of the smallest
 * class, kept for overflow pages' slot headers (bp_zip_frame_evict).
 * The price is a copy of the slot before decompressing it (bp_zip_claim)
 * and a second zip frame an image's life depends on.
 */
static void
bp_zip_layout(int len, BpZipLayout *lay)
{
	int			hdr = (int) BP_ZIP_IMAGE_HDR;
	int			best;
	int			kh;

	lay->head = bp_zip_class_for(hdr + len, BP_ZIP_MAX_PIECES);
	lay->tail = 0;
	lay->here = len;
	best = lay->head >= 2 ? bp_zip_class_size(lay->head) : INT_MAX;
	for (kh = 2; kh <= BP_ZIP_MAX_PIECES; kh++)
	{
		int			room = bp_zip_class_size(kh) - hdr;
		int			kt;
		int			total;

		if (room >= len)
			continue;			/* one piece of this class holds it */
		if (room < len / 2)
			break;				/* heads only get smaller than their tails */
		kt = bp_zip_class_for(hdr + len - room, BP_ZIP_MAX_PIECES - 1);
		if (kt < 2)
			continue;
		total = bp_zip_class_size(kh) + bp_zip_class_size(kt);
		if ((int64) total * 16 <= (int64) best * 15 ||
			(lay->tail > 0 && total < best))
		{
			best = total;
			lay->head = kh;
			lay->tail = kt;
			lay->here = room;
		}
	}
}

static inline BpZipImage *
bp_zip_image(BpLocalInstance *li, BpZipRef ref)
{
	BpBlockNo	zb = BP_ZIP_REF_BLOCK(ref);

	return (BpZipImage *) (bp_frame(li, zb) + (Size) BP_ZIP_REF_PIECE(ref) *
						   bp_zip_class_size(BP_ZIP_FRAME_CLASS(bp_desc(li, zb))));
}

/* The zip hash bucket of hash value h (the partition lock of h taken). */
static inline uint32
bp_zip_bucket(BpLocalInstance *li, uint64 h)
{
	return (uint32) h & li->zmask;
}

/* The link in the zip hash chain of bucket that holds ref, or NULL. */
static BpZipRef *
bp_zip_link_of(BpLocalInstance *li, uint32 bucket, BpZipRef ref)
{
	BpZipRef   *link = &li->zhash[bucket];

	while (*link != BP_ZIP_NULL)
	{
		if (*link == ref)
			return link;
		link = &bp_zip_image(li, *link)->hash_next;
	}
	return NULL;
}

/* The image of (space_id, page_no) in bucket, or BP_ZIP_NULL.  Partition lock held. */
static BpZipRef
bp_zip_lookup(BpLocalInstance *li, uint32 bucket, uint32 space_id, uint32 page_no)
{
	BpZipRef	r = li->zhash[bucket];

	while (r != BP_ZIP_NULL)
	{
		BpZipImage *img = bp_zip_image(li, r);

		if (img->space_id == space_id && img->page_no == page_no)
			return r;
		r = img->hash_next;
	}
	return BP_ZIP_NULL;
}

/* Insert image ref into the zip hash chain of bucket (partition lock held). */
static inline void
bp_zip_hash_insert(BpLocalInstance *li, uint32 bucket, BpZipRef ref)
{
	bp_zip_image(li, ref)->hash_next = li->zhash[bucket];
	li->zhash[bucket] = ref;
}

/*
 * Write slot's len bytes into image ref, the first here bytes in its head
 * piece and the rest in its tail (partition lock held, or the image not
 * yet in the hash).
 */
static void
bp_zip_image_put(BpLocalInstance *li, BpZipRef ref, const char *slot, int len, int here)
{
	BpZipImage *img = bp_zip_image(li, ref);

	img->len = (uint32) len;
	img->here = (uint16) here;
	memcpy(BP_ZIP_PAYLOAD(img), slot, here);
	if (img->part != BP_ZIP_NULL)
	{
		BpZipImage *tail = bp_zip_image(li, img->part);

		tail->len = (uint32) len;
		tail->here = (uint16) (len - here);
		memcpy(BP_ZIP_PAYLOAD(tail), slot + here, len - here);
	}
}

/* The header of a new piece of page (space_id, page_no); no block yet. */
static void
bp_zip_piece_init(BpZipImage *img, uint32 space_id, uint32 page_no, BpZipRef part, bool is_tail)
{
	img->space_id = space_id;
	img->page_no = page_no;
	img->hash_next = img->unzip_prev = img->unzip_next = BP_ZIP_NULL;
	img->part = part;
	img->block = BP_INVALID_BLOCK;
	img->listed = false;
	img->is_tail = is_tail;
}

/*
 * Make new pieces ref (and tail, unless BP_ZIP_NULL) the image of block
 * d's page: slot's len bytes as lay says, no block yet.
 */
static void
bp_zip_image_init(BpLocalInstance *li, BpZipRef ref, BpZipRef tail, const BpBlockDesc *d,
				  const char *slot, int len, const BpZipLayout *lay)
{
	bp_zip_piece_init(bp_zip_image(li, ref), d->space_id, d->page_no, tail, false);
	if (tail != BP_ZIP_NULL)
		bp_zip_piece_init(bp_zip_image(li, tail), d->space_id, d->page_no, ref, true);
	bp_zip_image_put(li, ref, slot, len, lay->here);
}

/*
 * Map every chunk of the instance in this process (a grow may have added
 * some): the sections under zip_mutex, a spinlock, follow the partial
 * lists' links through block descriptors and must not map a segment
 * (which takes a lock and may fail).
 */
static inline void
bp_zip_map_chunks(BpLocalInstance *li)
{
	int			c;

	for (c = 0; c < li->inst->n_chunks; c++)
		(void) bp_local_chunk(li, BP_MAKE_BLOCK(c, 0));
}

/* zip_mutex held: put zip frame zb on its class's partial list */
static void
bp_zip_partial_push(BpInstance *inst, BpLocalInstance *li, BpBlockNo zb, int c)
{
	BpBlockDesc *d = bp_desc(li, zb);
	BpBlockNo	head = inst->zip_partial[c];

	d->flush_prev = BP_INVALID_BLOCK;
	d->flush_next = head;
	if (head != BP_INVALID_BLOCK)
		bp_desc(li, head)->flush_prev = zb;
	inst->zip_partial[c] = zb;
	d->oldest_lsn |= BP_ZIP_ON_PARTIAL;
}

/* zip_mutex held: take zip frame zb off its class's partial list */
static void
bp_zip_partial_remove(BpInstance *inst, BpLocalInstance *li, BpBlockNo zb, int c)
{
	BpBlockDesc *d = bp_desc(li, zb);

	if (!(d->oldest_lsn & BP_ZIP_ON_PARTIAL))
		return;
	if (d->flush_prev != BP_INVALID_BLOCK)
		bp_desc(li, d->flush_prev)->flush_next = d->flush_next;
	else
		inst->zip_partial[c] = d->flush_next;
	if (d->flush_next != BP_INVALID_BLOCK)
		bp_desc(li, d->flush_next)->flush_prev = d->flush_prev;
	d->flush_prev = d->flush_next = BP_INVALID_BLOCK;
	d->oldest_lsn &= ~BP_ZIP_ON_PARTIAL;
}

/*
 * A piece of class c: from a zip frame with a free piece (not in a chunk
 * a shrink removes), or, with take_frame, from a new zip frame taken
 * from the pool without waiting (bp_lru_try_free_block).  take_frame
 * only with no lock of the pool held.  BP_ZIP_NULL if none.
 */
static BpZipRef
bp_zip_alloc(int instance, int c, bool take_frame)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	uint64		full = ((uint64) 1 << c) - 1;
	BpBlockNo	zb;
	BpBlockDesc *d;

	bp_zip_map_chunks(li);
	SpinLockAcquire(&inst->zip_mutex);
	for (zb = inst->zip_partial[c]; zb != BP_INVALID_BLOCK; zb = bp_desc(li, zb)->flush_next)
		if ((int) BP_BLOCK_CHUNK(zb) < inst->withdraw_from)
			break;
	if (zb != BP_INVALID_BLOCK)
	{
		uint64		bits;
		int			p;

		d = bp_desc(li, zb);
		bits = d->oldest_lsn & BP_ZIP_PIECES_MASK;
		for (p = 0; p < c && (bits & ((uint64) 1 << p)); p++)
			;
		if (p >= c)
		{
			SpinLockRelease(&inst->zip_mutex);
			elog(PANIC, "bufpool_ext: zip frame %u on the partial list has no free piece", zb);
		}
		d->oldest_lsn |= (uint64) 1 << p;
		if (((d->oldest_lsn & BP_ZIP_PIECES_MASK) & full) == full)
			bp_zip_partial_remove(inst, li, zb, c);
		inst->zip_used[c]++;
		SpinLockRelease(&inst->zip_mutex);
		return BP_ZIP_REF(zb, p);
	}
	SpinLockRelease(&inst->zip_mutex);
	if (!take_frame)
		return BP_ZIP_NULL;

	zb = bp_lru_try_free_block(instance);
	if (zb == BP_INVALID_BLOCK && inst->withdraw_from < inst->n_chunks)
	{
		/*
		 * A shrink runs (this may be its relocation): the tail is mostly
		 * blocks it removes, so make room among the kept chunks' blocks
		 */
		if (bp_lru_free_tail_block(instance, inst->withdraw_from, 256))
			zb = bp_lru_try_free_block(instance);
	}
	if (zb == BP_INVALID_BLOCK)
		return BP_ZIP_NULL;
	d = bp_desc(li, zb);
	d->space_id = InvalidOid;
	d->page_no = BP_ZIP_FRAME_TAG | (uint32) c;
	d->access_time = bp_now_ms();
	d->heat = 0;
	d->oldest_lsn = 1;			/* piece 0 is ours */
	bp_zip_map_chunks(li);
	SpinLockAcquire(&inst->zip_mutex);
	inst->zip_frames[c]++;
	inst->zip_used[c]++;
	bp_zip_partial_push(inst, li, zb, c);	/* c >= 2: a piece is left */
	SpinLockRelease(&inst->zip_mutex);
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	bp_lru_add_old(inst, li, zb);
	LWLockRelease(&inst->lru_lock.lock);
	pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
	return BP_ZIP_REF(zb, 0);
}

/* Give a piece back.  Its frame stays (on the partial list unless closing). */
static void
bp_zip_free_piece(int instance, BpZipRef ref)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockNo	zb = BP_ZIP_REF_BLOCK(ref);
	BpBlockDesc *d = bp_desc(li, zb);
	uint64		bit = (uint64) 1 << BP_ZIP_REF_PIECE(ref);
	int			c = BP_ZIP_FRAME_CLASS(d);

	bp_zip_map_chunks(li);
	SpinLockAcquire(&inst->zip_mutex);
	if (!(d->oldest_lsn & bit))
	{
		SpinLockRelease(&inst->zip_mutex);
		elog(PANIC, "bufpool_ext: freeing zip piece %d of block %u twice",
			 BP_ZIP_REF_PIECE(ref), zb);
	}
	d->oldest_lsn &= ~bit;
	inst->zip_used[c]--;
	if (!(d->oldest_lsn & (BP_ZIP_CLOSING | BP_ZIP_ON_PARTIAL)))
		bp_zip_partial_push(inst, li, zb, c);
	SpinLockRelease(&inst->zip_mutex);
}

/* Give an image's pieces back (its head ref, out of the zip hash). */
static void
bp_zip_free_image(int instance, BpZipRef ref)
{
	BpZipRef	tail = bp_zip_image(&BpLocal[instance], ref)->part;

	if (tail != BP_ZIP_NULL)
		bp_zip_free_piece(instance, tail);
	bp_zip_free_piece(instance, ref);
}

/*
 * The pieces of a new image laid out as lay says (bp_zip_alloc; a tail,
 * if any, in *tail).  BP_ZIP_NULL if either is not to be had.
 */
static BpZipRef
bp_zip_alloc_image(int instance, const BpZipLayout *lay, bool take_frame, BpZipRef *tail)
{
	BpZipRef	head = bp_zip_alloc(instance, lay->head, take_frame);

	*tail = BP_ZIP_NULL;
	if (head == BP_ZIP_NULL || lay->tail == 0)
		return head;
	*tail = bp_zip_alloc(instance, lay->tail, take_frame);
	if (*tail == BP_ZIP_NULL)
	{
		bp_zip_free_piece(instance, head);
		return BP_ZIP_NULL;
	}
	return head;
}

/* lru_lock held: put attached image ref at the unzip_LRU's head */
static void
bp_zip_unzip_push_head(BpInstance *inst, BpLocalInstance *li, BpZipRef ref)
{
	BpZipImage *img = bp_zip_image(li, ref);

	img->unzip_clock = inst->freed_page_clock;
	img->unzip_prev = BP_ZIP_NULL;
	img->unzip_next = inst->unzip_head;
	if (inst->unzip_head != BP_ZIP_NULL)
		bp_zip_image(li, inst->unzip_head)->unzip_prev = ref;
	else
		inst->unzip_tail = ref;
	inst->unzip_head = ref;
}

/*
 * The unzip_LRU (InnoDB's buf_pool->unzip_LRU): the images whose page also
 * has a frame, newest first, linked through their headers.  Attach image
 * ref (its slot in place) to block b, which gets BP_BS_ZIP, and put it at
 * the list's head, unless it is the slot of a page kept in the overflow
 * file: dropping such a page's frame would save memory only to read the
 * page again on its next use, so it is not on the list (its header stays
 * with the page, and after it, to spare the slot's read).  Caller holds
 * the page's partition lock exclusively; takes lru_lock.
 */
static void
bp_zip_attach(BpInstance *inst, BpLocalInstance *li, BpZipRef ref, BpBlockNo b)
{
	BpZipImage *img = bp_zip_image(li, ref);

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	img->block = b;
	pg_atomic_fetch_or_u32(&bp_desc(li, b)->state, BP_BS_ZIP);
	img->listed = !bp_zip_is_overflow((const char *) img + BP_ZIP_IMAGE_HDR);
	if (!img->listed)
	{
		img->unzip_prev = img->unzip_next = BP_ZIP_NULL;
		LWLockRelease(&inst->lru_lock.lock);
		return;
	}
	bp_zip_unzip_push_head(inst, li, ref);
	pg_atomic_fetch_add_u32(&inst->unzip_len, 1);
	LWLockRelease(&inst->lru_lock.lock);
}

/* lru_lock held: take attached image ref off the unzip_LRU */
static void
bp_zip_unzip_unlink(BpInstance *inst, BpLocalInstance *li, BpZipRef ref)
{
	BpZipImage *img = bp_zip_image(li, ref);

	if (img->unzip_prev != BP_ZIP_NULL)
		bp_zip_image(li, img->unzip_prev)->unzip_next = img->unzip_next;
	else
		inst->unzip_head = img->unzip_next;
	if (img->unzip_next != BP_ZIP_NULL)
		bp_zip_image(li, img->unzip_next)->unzip_prev = img->unzip_prev;
	else
		inst->unzip_tail = img->unzip_prev;
	img->unzip_prev = img->unzip_next = BP_ZIP_NULL;
}

/* Detach attached image ref from its block (partition lock and lru_lock held). */
static void
bp_zip_detach_locked(BpInstance *inst, BpLocalInstance *li, BpZipRef ref)
{
	BpZipImage *img = bp_zip_image(li, ref);

	if (img->listed)
	{
		bp_zip_unzip_unlink(inst, li, ref);
		pg_atomic_fetch_sub_u32(&inst->unzip_len, 1);
		img->listed = false;
	}
	pg_atomic_fetch_and_u32(&bp_desc(li, img->block)->state, ~BP_BS_ZIP);
	img->block = BP_INVALID_BLOCK;
}

/* The same, taking lru_lock (partition lock held). */
static void
bp_zip_detach(BpInstance *inst, BpLocalInstance *li, BpZipRef ref)
{
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	bp_zip_detach_locked(inst, li, ref);
	LWLockRelease(&inst->lru_lock.lock);
}

/*
 * The unzip_LRU's victim (lru.c, lru_lock held): from its tail, at most
 * depth images, the first whose page's block is clean and unpinned,
 * pinned for the caller.  A block made young on the LRU list since its
 * image joined the unzip_LRU's head goes back to that head instead: the
 * order InnoDB keeps by moving a block made young on both lists, kept
 * here lazily (the hit path does not know the image).
 * BP_INVALID_BLOCK if none.
 */
BpBlockNo
bp_zip_unzip_victim(BpInstance *inst, BpLocalInstance *li, int depth)
{
	BpZipRef	ref = inst->unzip_tail;

	while (ref != BP_ZIP_NULL && depth-- > 0)
	{
		BpZipImage *img = bp_zip_image(li, ref);
		BpZipRef	prev = img->unzip_prev;
		BpBlockNo	b = img->block;
		BpBlockDesc *d = bp_desc(li, b);
		uint32		st = pg_atomic_read_u32(&d->state);

		if (d->list == BP_LIST_LRU && (int32) (d->freed_page_clock - img->unzip_clock) > 0 &&
			prev != BP_ZIP_NULL)
		{
			/* made young since: to the head */
			bp_zip_unzip_unlink(inst, li, ref);
			bp_zip_unzip_push_head(inst, li, ref);
		}
		else if ((st & BP_BS_VALID) && d->list == BP_LIST_LRU && BP_STATE_REFCOUNT(st) == 0 &&
				 !(st & (BP_BS_DIRTY | BP_BS_IO_READ | BP_BS_IO_WRITE)) &&
				 pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
			return b;
		ref = prev;
	}
	return BP_INVALID_BLOCK;
}

/*
 * Take image ref out of the zip hash (link: its link there) and free it;
 * its page's block, if any, leaves the unzip_LRU.  Partition lock held.
 */
static void
bp_zip_unlink_free(int instance, BpZipRef *link, BpZipRef ref)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpZipImage *img = bp_zip_image(li, ref);

	*link = img->hash_next;
	if (img->block != BP_INVALID_BLOCK)
		bp_zip_detach(inst, li, ref);
	else
		pg_atomic_fetch_sub_u32(&inst->zip_frameless, 1);
	bp_zip_free_image(instance, ref);
}

/*
 * The read path, with the page's partition lock held exclusively and
 * block fb just claimed for the page (IO_READ): if its image is in
 * memory, attach it to fb and pin its zip frame.  Returns the image, for
 * bp_zip_fill, or BP_ZIP_NULL (read the page from disk).  Without use (a
 * new page, or one the warm-restart load reads) the image is dropped.
 */
BpZipRef
bp_zip_claim(BpLocalInstance *li, uint64 h, BpBlockNo fb, uint32 space_id, uint32 page_no,
			 bool use)
{
	BpInstance *inst = li->inst;
	uint32		bucket = bp_zip_bucket(li, h);
	BpZipRef	ref;
	BpZipImage *img;

	if (li->zhash[bucket] == BP_ZIP_NULL)
		return BP_ZIP_NULL;
	ref = bp_zip_lookup(li, bucket, space_id, page_no);
	if (ref == BP_ZIP_NULL)
		return BP_ZIP_NULL;
	img = bp_zip_image(li, ref);
	if (img->block != BP_INVALID_BLOCK)
		elog(PANIC, "bufpool_ext: the image of page %u of space %u is attached to block %u, not in the page hash",
			 page_no, space_id, img->block);
	if (!use)
	{
		bp_zip_unlink_free(inst->id, bp_zip_link_of(li, bucket, ref), ref);
		return BP_ZIP_NULL;
	}
	pg_atomic_fetch_sub_u32(&inst->zip_frameless, 1);
	bp_zip_attach(inst, li, ref, fb);
	pg_atomic_fetch_add_u32(&bp_desc(li, BP_ZIP_REF_BLOCK(ref))->state, BP_REFCOUNT_ONE);
	bp_zip_copy_of = BP_ZIP_NULL;
	if (img->part != BP_ZIP_NULL)
	{
		BpZipImage *tail = bp_zip_image(li, img->part);

		/*
		 * An image in two pieces is decompressed from a copy, made here:
		 * its tail frame is not pinned and may be relocated meanwhile
		 */
		memcpy(bp_zip_copy.data, BP_ZIP_PAYLOAD(img), img->here);
		memcpy(bp_zip_copy.data + img->here, BP_ZIP_PAYLOAD(tail), tail->here);
		bp_zip_copy_len = (int) img->len;
		bp_zip_copy_of = ref;
	}
	return ref;
}

/*
 * Fill fb's frame from image ref (attached to fb by bp_zip_claim, its zip
 * frame pinned): decompress it, or for a page kept in the overflow file
 * read it from there (one read where a miss takes two: the slot and the
 * page).  Returns BP_ZIP_FILL_UNZIP or BP_ZIP_FILL_READ;
 * BP_ZIP_FILL_FAILED if the image does not decompress or the overflow page
 * is not its version (the caller drops the image with bp_zip_forget and
 * reads the page the usual way).  The caller unpins the zip frame
 * (bp_zip_unpin) whatever happens, an ERROR included.
 */
BpZipFill
bp_zip_fill(int instance, BpBlockNo fb, BpZipRef ref)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, fb);
	const char *slot;
	int			len;
	BpZipFill	result;
	int64		t0 = bp_clock_ns();

	if (bp_zip_copy_of == ref)
	{
		/*
		 * In two pieces: bp_zip_claim copied it.  Only the copy is read:
		 * the pieces may be gone meanwhile (a shrink that found no room
		 * for the tail).
		 */
		slot = bp_zip_copy.data;
		len = bp_zip_copy_len;
		bp_zip_copy_of = BP_ZIP_NULL;
	}
	else
	{
		BpZipImage *img = bp_zip_image(li, ref);

		if (img->part != BP_ZIP_NULL)
			return BP_ZIP_FILL_FAILED;	/* another claim came between: read it */
		slot = BP_ZIP_PAYLOAD(img);
		len = (int) img->len;
	}

	if (bp_zip_is_overflow(slot))
	{
		result = bp_space_read_overflow(d->space_id, d->page_no, bp_zip_lsn(slot),
										bp_frame(li, fb)) ? BP_ZIP_FILL_READ : BP_ZIP_FILL_FAILED;
		if (result == BP_ZIP_FILL_READ)
			bp_zip_count_io(instance, (uint64) (bp_clock_ns() - t0));
	}
	else
	{
		result = bp_space_zip_decompress(d->space_id, slot, len, bp_frame(li, fb)) ?
			BP_ZIP_FILL_UNZIP : BP_ZIP_FILL_FAILED;
		if (result == BP_ZIP_FILL_UNZIP)
			pg_atomic_fetch_add_u64(&inst->zip_unzip_ns, (uint64) (bp_clock_ns() - t0));
	}
	return result;
}

/* Unpin the zip frame of image ref, pinned by bp_zip_claim. */
void
bp_zip_unpin(int instance, BpZipRef ref)
{
	pg_atomic_fetch_sub_u32(&bp_desc(&BpLocal[instance], BP_ZIP_REF_BLOCK(ref))->state,
							BP_REFCOUNT_ONE);
}

/*
 * Block fb (IO_READ, still in the page hash) gets no page from its image
 * or its read failed: drop the image attached to it, if any (found by
 * the page, wherever a relocation may have moved it).
 */
void
bp_zip_forget(int instance, BpBlockNo fb)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, fb);
	uint64		h;
	LWLock	   *part;

	if (!(pg_atomic_read_u32(&d->state) & BP_BS_ZIP))
		return;
	h = bp_page_hash(d->space_id, d->page_no);
	part = bp_hash_lock(inst, h);
	(void) bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
	bp_zip_block_evicted(li, h, fb, BP_ZIP_EVICT_ALL);
	LWLockRelease(part);
}

/* A page of this instance was read from disk in ns (InnoDB's buf_LRU_stat_inc_io). */
void
bp_zip_count_io(int instance, uint64 ns)
{
	pg_atomic_fetch_add_u64(&BpShmem->instances[instance].zip_io_ns, ns);
}

/*
 * After block fb (IO_READ) was read from disk: keep the compressed slot
 * it came from, if it did, as the page's image.  Takes a zip frame if
 * need be, without waiting; no lock held by the caller.
 */
void
bp_zip_keep(int instance, BpBlockNo fb)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, fb);
	const char *slot;
	int			len;
	BpZipLayout lay;
	BpZipRef	ref;
	BpZipRef	tail;
	uint64		h;
	LWLock	   *part;
	uint32		bucket;

	slot = bp_space_last_slot(d->space_id, d->page_no, &len);
	if (slot == NULL)
		return;
	bp_zip_layout(len, &lay);
	if (lay.head < 0)
		return;
	ref = bp_zip_alloc_image(instance, &lay, true, &tail);
	if (ref == BP_ZIP_NULL)
		return;
	bp_zip_image_init(li, ref, tail, d, slot, len, &lay);

	h = bp_page_hash(d->space_id, d->page_no);
	part = bp_hash_lock(inst, h);
	(void) bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
	bucket = bp_zip_bucket(li, h);
	if (bp_zip_lookup(li, bucket, d->space_id, d->page_no) != BP_ZIP_NULL)
	{
		LWLockRelease(part);
		bp_zip_free_image(instance, ref);
		return;
	}
	bp_zip_hash_insert(li, bucket, ref);
	bp_zip_attach(inst, li, ref, fb);
	LWLockRelease(part);
}

/* lru_lock held: zip frame zb, if on the LRU list, to the old sublist's head */
static void
bp_zip_frame_to_old(BpInstance *inst, BpLocalInstance *li, BpBlockNo zb)
{
	if (bp_desc(li, zb)->list == BP_LIST_LRU && BP_IS_ZIP_FRAME(bp_desc(li, zb)))
	{
		bp_lru_remove(inst, li, zb);
		bp_lru_add_old(inst, li, zb);
	}
}

/*
 * Block b leaves the page hash (the caller holds its partition lock
 * exclusively, b invalidated).  how (BpZipEvict) says what becomes of its
 * image: it stays as the page's only copy (BP_ZIP_EVICT_FRAME, or the
 * slot header of an overflow page with BP_ZIP_EVICT_PAGE), if it is the
 * frame's version; else it goes too.
 */
void
bp_zip_block_evicted(BpLocalInstance *li, uint64 h, BpBlockNo b, BpZipEvict how)
{
	BpInstance *inst = li->inst;
	uint32		bucket = bp_zip_bucket(li, h);
	BpBlockDesc *d = bp_desc(li, b);
	BpZipRef	ref;
	BpZipRef   *link;
	BpZipImage *img;

	if (!(pg_atomic_read_u32(&d->state) & BP_BS_ZIP))
		return;
	ref = bp_zip_lookup(li, bucket, d->space_id, d->page_no);
	if (ref == BP_ZIP_NULL || bp_zip_image(li, ref)->block != b)
		elog(PANIC, "bufpool_ext: block %u of page %u of space %u is on the unzip_LRU without its image",
			 b, d->page_no, d->space_id);
	img = bp_zip_image(li, ref);
	/* a slot header of an overflow page (256 bytes or so) stays anyway */
	if ((how == BP_ZIP_EVICT_FRAME ||
		 (how == BP_ZIP_EVICT_PAGE && bp_zip_is_overflow((const char *) img + BP_ZIP_IMAGE_HDR))) &&
		bp_zip_lsn((const char *) img + BP_ZIP_IMAGE_HDR) == ((BpPageHeader *) bp_frame(li, b))->lsn)
	{
		/*
		 * The page stays in the pool in its compressed form: its zip frames
		 * go to the old sublist's head, as a page read in does, so the
		 * image ages from now (a zip frame reaching the LRU tail drops the
		 * images it holds without a frame).
		 */
		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		bp_zip_detach_locked(inst, li, ref);
		bp_zip_frame_to_old(inst, li, BP_ZIP_REF_BLOCK(ref));
		if (img->part != BP_ZIP_NULL)
			bp_zip_frame_to_old(inst, li, BP_ZIP_REF_BLOCK(img->part));
		LWLockRelease(&inst->lru_lock.lock);
		pg_atomic_fetch_add_u32(&inst->zip_frameless, 1);
		return;
	}
	bp_zip_detach(inst, li, ref);
	link = bp_zip_link_of(li, bucket, ref);
	*link = img->hash_next;
	bp_zip_free_image(inst->id, ref);
}

/* A shrink moved page block b to nb (partition lock held exclusively). */
void
bp_zip_block_moved(BpLocalInstance *li, uint64 h, BpBlockNo b, BpBlockNo nb)
{
	BpInstance *inst = li->inst;
	uint32		bucket = bp_zip_bucket(li, h);
	BpBlockDesc *d = bp_desc(li, nb);
	BpZipRef	ref;

	if (!(pg_atomic_read_u32(&bp_desc(li, b)->state) & BP_BS_ZIP))
		return;
	ref = bp_zip_lookup(li, bucket, d->space_id, d->page_no);
	if (ref == BP_ZIP_NULL || bp_zip_image(li, ref)->block != b)
		return;
	/* the same place on the unzip_LRU, another block */
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	bp_zip_image(li, ref)->block = nb;
	pg_atomic_fetch_and_u32(&bp_desc(li, b)->state, ~BP_BS_ZIP);
	pg_atomic_fetch_or_u32(&d->state, BP_BS_ZIP);
	LWLockRelease(&inst->lru_lock.lock);
}

/*
 * Move piece ref of a live image to piece to, of the same class (the
 * page's partition lock held; link: the image's link in the zip hash).
 * A head takes its place in the hash and on the unzip_LRU and tells its
 * tail; a tail tells its head.
 */
static void
bp_zip_relocate(BpInstance *inst, BpLocalInstance *li, BpZipRef *link, BpZipRef ref,
				BpZipRef to)
{
	BpZipImage *img = bp_zip_image(li, ref);
	BpZipImage *nimg = bp_zip_image(li, to);

	if (img->is_tail)
	{
		memcpy(nimg, img, BP_ZIP_IMAGE_HDR + img->here);
		bp_zip_image(li, *link)->part = to;
		return;
	}
	if (img->block != BP_INVALID_BLOCK && img->listed)
	{
		/* on the unzip_LRU: to takes ref's place there */
		LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
		memcpy(nimg, img, BP_ZIP_IMAGE_HDR + img->here);
		if (nimg->unzip_prev != BP_ZIP_NULL)
			bp_zip_image(li, nimg->unzip_prev)->unzip_next = to;
		else
			inst->unzip_head = to;
		if (nimg->unzip_next != BP_ZIP_NULL)
			bp_zip_image(li, nimg->unzip_next)->unzip_prev = to;
		else
			inst->unzip_tail = to;
		LWLockRelease(&inst->lru_lock.lock);
	}
	else
		memcpy(nimg, img, BP_ZIP_IMAGE_HDR + img->here);
	if (nimg->part != BP_ZIP_NULL)
		bp_zip_image(li, nimg->part)->part = to;
	*link = to;
}

/* Zip frame zb stays: out of the LRU tail's way (takes lru_lock). */
static void
bp_zip_frame_keep(BpInstance *inst, BpLocalInstance *li, BpBlockNo zb)
{
	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (bp_desc(li, zb)->list == BP_LIST_LRU)
		bp_lru_make_young(inst, li, zb);
	LWLockRelease(&inst->lru_lock.lock);
}

/*
 * Evict zip frame zb, which the caller pinned (our pin must stay its only
 * one), to free its frame for other use.  The images it holds of pages
 * without a frame go: the LRU tail reached them.  Images of pages in the
 * pool stay with their pages (InnoDB keeps a compressed page's image in
 * its block): if there are any, the frame is not freed but made young,
 * and its freed pieces serve the next images.  With relocate (a shrink
 * removes zb's chunk) every image moves to a piece elsewhere, a new zip
 * frame if need be; one that finds no room goes.  Returns true with zb
 * ours, off the LRU; false if zb stays (a reader is decompressing from
 * it, or it still holds images).
 */
bool
bp_zip_frame_evict(int instance, BpBlockNo zb, bool relocate)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *zd = bp_desc(li, zb);
	int			c = BP_ZIP_FRAME_CLASS(zd);
	uint64		bits;
	int			p;
	bool		empty;

	bp_zip_map_chunks(li);
	SpinLockAcquire(&inst->zip_mutex);
	if (zd->oldest_lsn & BP_ZIP_CLOSING)
	{
		SpinLockRelease(&inst->zip_mutex);
		return false;
	}
	bits = zd->oldest_lsn & BP_ZIP_PIECES_MASK;

	/*
	 * The smallest class holds the slot headers of pages kept in the
	 * overflow file (zip_fill reads such a page with one read instead of
	 * two).  They take a 32nd of a frame each: while their frames are at
	 * most an eighth of the instance's blocks (headers of four times as
	 * many pages as the instance holds), the LRU tail keeps them.
	 */
	if (!relocate && c == BP_ZIP_MAX_PIECES && bits != 0 &&
		inst->zip_frames[c] <= inst->n_blocks / 8)
	{
		SpinLockRelease(&inst->zip_mutex);
		bp_zip_frame_keep(inst, li, zb);
		return false;
	}
	zd->oldest_lsn |= BP_ZIP_CLOSING;
	bp_zip_partial_remove(inst, li, zb, c);
	bits = zd->oldest_lsn & BP_ZIP_PIECES_MASK;
	SpinLockRelease(&inst->zip_mutex);

	for (p = 0; p < c && bits != 0; p++)
	{
		BpZipRef	ref = BP_ZIP_REF(zb, p);
		BpZipImage *img = bp_zip_image(li, ref);
		BpZipRef	to = BP_ZIP_NULL;
		BpZipRef	head;
		BpZipRef   *link = NULL;
		uint64		h;
		LWLock	   *part;
		uint32		bucket;
		int64		t0;

		if (!(bits & ((uint64) 1 << p)))
			continue;
		bits &= ~((uint64) 1 << p);
		t0 = bp_clock_ns();
		if (relocate)
			to = bp_zip_alloc(instance, c, true);
		/* read unlocked: checked against the hash under the lock */
		h = bp_page_hash(img->space_id, img->page_no);
		part = bp_hash_lock(inst, h);
		(void) bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
		bucket = bp_zip_bucket(li, h);
		head = img->is_tail ? bp_zip_lookup(li, bucket, img->space_id, img->page_no) : ref;
		if (head != BP_ZIP_NULL && (head == ref || bp_zip_image(li, head)->part == ref))
			link = bp_zip_link_of(li, bucket, head);
		if (link != NULL &&
			(BP_STATE_REFCOUNT(pg_atomic_read_u32(&zd->state)) > 1 ||
			 (head != ref && to == BP_ZIP_NULL && relocate &&
			  bp_zip_image(li, head)->block != BP_INVALID_BLOCK &&
			  BP_STATE_REFCOUNT(pg_atomic_read_u32(&bp_desc(li, BP_ZIP_REF_BLOCK(head))->state)) > 0)))
		{
			/*
			 * A process is decompressing from this frame, or may be about
			 * to from the copy of an image whose tail is here and has no
			 * room elsewhere (its head's frame pinned): leave it
			 */
			LWLockRelease(part);
			if (to != BP_ZIP_NULL)
				bp_zip_free_piece(instance, to);
			break;
		}
		if (link != NULL && to != BP_ZIP_NULL)
		{
			bp_zip_relocate(inst, li, link, ref, to);
			bp_zip_free_piece(instance, ref);
			to = BP_ZIP_NULL;
			SpinLockAcquire(&inst->zip_mutex);
			inst->zip_relocation_ops[c]++;
			inst->zip_relocation_ns[c] += (uint64) (bp_clock_ns() - t0);
			SpinLockRelease(&inst->zip_mutex);
		}
		else if (link != NULL && (relocate || bp_zip_image(li, head)->block == BP_INVALID_BLOCK))
			bp_zip_unlink_free(instance, link, head);	/* the tail's frame reached, too */
		LWLockRelease(part);
		if (to != BP_ZIP_NULL)
			bp_zip_free_piece(instance, to);
	}

	bp_zip_map_chunks(li);
	SpinLockAcquire(&inst->zip_mutex);
	empty = (zd->oldest_lsn & BP_ZIP_PIECES_MASK) == 0;
	if (empty)
	{
		zd->oldest_lsn = 0;
		inst->zip_frames[c]--;
	}
	else
	{
		zd->oldest_lsn &= ~BP_ZIP_CLOSING;
		if ((zd->oldest_lsn & BP_ZIP_PIECES_MASK) != ((uint64) 1 << c) - 1)
			bp_zip_partial_push(inst, li, zb, c);
	}
	SpinLockRelease(&inst->zip_mutex);
	if (!empty)
	{
		/* images of pages in the pool stay with them */
		if (!relocate)
			bp_zip_frame_keep(inst, li, zb);
		return false;
	}

	LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
	if (zd->list == BP_LIST_LRU)
	{
		bp_lru_remove(inst, li, zb);
		inst->freed_page_clock++;
	}
	LWLockRelease(&inst->lru_lock.lock);
	zd->page_no = 0;
	return true;
}

/*
 * After block b's page was written (b under IO_WRITE): its image becomes
 * the slot just written, in place if it is of the same class, else in a
 * free piece of a zip frame (none is taken: the caller may hold a
 * content lock); with no room, or a page now in the overflow file, the
 * page has no image.
 */
void
bp_zip_written(int instance, BpBlockNo b)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	const char *slot;
	int			len = 0;
	BpZipLayout lay = {-1, 0, 0};
	uint64		h;
	LWLock	   *part;
	uint32		bucket;
	BpZipRef	ref;
	BpZipRef	tail;

	slot = bp_space_last_slot(d->space_id, d->page_no, &len);
	if (slot != NULL)
		bp_zip_layout(len, &lay);
	else if (!(pg_atomic_read_u32(&d->state) & BP_BS_ZIP))
		return;					/* not a compressed space's write: no image */
	h = bp_page_hash(d->space_id, d->page_no);
	part = bp_hash_lock(inst, h);
	(void) bp_hash_lock_current(instance, h, LW_EXCLUSIVE);
	bucket = bp_zip_bucket(li, h);
	ref = li->zhash[bucket] == BP_ZIP_NULL ? BP_ZIP_NULL :
		bp_zip_lookup(li, bucket, d->space_id, d->page_no);
	if (ref != BP_ZIP_NULL && bp_zip_image(li, ref)->block == BP_INVALID_BLOCK)
	{
		/* an image left by a page read without it (new, or loaded): now b's */
		pg_atomic_fetch_sub_u32(&inst->zip_frameless, 1);
		bp_zip_attach(inst, li, ref, b);
	}
	else if (ref != BP_ZIP_NULL && bp_zip_image(li, ref)->block != b)
	{
		LWLockRelease(part);	/* another block's (cannot be): leave it */
		return;
	}
	if (ref != BP_ZIP_NULL)
	{
		BpZipImage *img = bp_zip_image(li, ref);

		tail = img->part;
		if (lay.head < 0 ||
			BP_ZIP_FRAME_CLASS(bp_desc(li, BP_ZIP_REF_BLOCK(ref))) != lay.head ||
			(tail == BP_ZIP_NULL ? 0 : BP_ZIP_FRAME_CLASS(bp_desc(li, BP_ZIP_REF_BLOCK(tail)))) !=
			lay.tail ||
			bp_zip_is_overflow(BP_ZIP_PAYLOAD(img)) != bp_zip_is_overflow(slot))
		{
			bp_zip_unlink_free(instance, bp_zip_link_of(li, bucket, ref), ref);
			ref = BP_ZIP_NULL;
		}
	}
	if (lay.head >= 0 && ref == BP_ZIP_NULL)
	{
		ref = bp_zip_alloc_image(instance, &lay, false, &tail);
		if (ref != BP_ZIP_NULL)
		{
			bp_zip_image_init(li, ref, tail, d, slot, len, &lay);
			bp_zip_hash_insert(li, bucket, ref);
			bp_zip_attach(inst, li, ref, b);
		}
	}
	else if (lay.head >= 0)
	{
		/* in place: the same classes, on the unzip_LRU or not as before */
		bp_zip_image_put(li, ref, slot, len, lay.here);
	}
	LWLockRelease(part);
}

/*
 * The pieces in use of zip frame zb and its class (0 and 0 if zb is not a
 * zip frame): a snapshot; the frame may be freed and reused right after,
 * so the caller computes image addresses with this class (they stay
 * inside the block's frame) and checks each image against the hash
 * under its page's partition lock before it trusts it.
 */
static void
bp_zip_frame_pieces(int instance, BpBlockNo zb, uint64 *bits_out, int *class_out)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpBlockDesc *d = bp_desc(&BpLocal[instance], zb);

	SpinLockAcquire(&inst->zip_mutex);
	*bits_out = 0;
	*class_out = 0;
	if (BP_IS_ZIP_FRAME(d) && BP_ZIP_FRAME_CLASS(d) >= 2)
	{
		*bits_out = d->oldest_lsn & BP_ZIP_PIECES_MASK;
		*class_out = BP_ZIP_FRAME_CLASS(d);
	}
	SpinLockRelease(&inst->zip_mutex);
}

/*
 * Call fn for every image in the zip frames of every instance, with the
 * page's partition lock held (exclusively with exclusive, else shared),
 * once the image is checked to be in the zip hash; link is its link
 * there.  fn may unlink and free the image only with exclusive.
 */
typedef void (*BpZipWalkFn) (void *arg, int instance, BpBlockNo zb, BpZipRef *link,
							 BpZipRef ref, BpZipImage *img);

static void
bp_zip_walk(bool exclusive, BpZipWalkFn fn, void *arg)
{
	int			i;

	bp_ensure_attached();
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		BpLocalInstance *li = &BpLocal[i];
		int			ch;

		for (ch = 0; ch < li->n_chunks; ch++)
		{
			uint32		k;

			for (k = 0; k < inst->blocks_per_chunk; k++)
			{
				BpBlockNo	zb = BP_MAKE_BLOCK(ch, k);
				uint64		bits;
				int			c;
				int			p;

				if (!BP_IS_ZIP_FRAME(bp_desc(li, zb)))
					continue;
				bp_zip_frame_pieces(i, zb, &bits, &c);
				for (p = 0; bits != 0; p++, bits >>= 1)
				{
					BpZipRef	ref = BP_ZIP_REF(zb, p);
					BpZipImage *img = (BpZipImage *) (bp_frame(li, zb) +
													  (Size) p * bp_zip_class_size(c));
					uint64		h;
					LWLock	   *part;
					BpZipRef   *link;

					if (!(bits & 1))
						continue;
					/* read unlocked: checked against the hash under the lock */
					h = bp_page_hash(img->space_id, img->page_no);
					part = bp_hash_lock(inst, h);
					(void) bp_hash_lock_current(i, h, exclusive ? LW_EXCLUSIVE : LW_SHARED);
					link = bp_zip_link_of(li, bp_zip_bucket(li, h), ref);
					if (link != NULL)
						fn(arg, i, zb, link, ref, img);
					LWLockRelease(part);
				}
			}
		}
	}
}

typedef struct BpZipDropArg
{
	uint32		space_id;
	int64		dropped;
} BpZipDropArg;

static void
bp_zip_drop_one(void *arg, int instance, BpBlockNo zb, BpZipRef *link, BpZipRef ref,
				BpZipImage *img)
{
	BpZipDropArg *a = (BpZipDropArg *) arg;

	if (img->space_id == a->space_id)
	{
		bp_zip_unlink_free(instance, link, ref);
		a->dropped++;
	}
}

/*
 * Drop every image of a dropped space (after its blocks were discarded):
 * walks until a walk finds none, since a shrink may meanwhile move an
 * image into a frame the walk has passed.
 */
void
bp_zip_drop_space(uint32 space_id)
{
	BpZipDropArg a = {space_id, 0};

	do
	{
		a.dropped = 0;
		bp_zip_walk(true, bp_zip_drop_one, &a);
		CHECK_FOR_INTERRUPTS();
	} while (a.dropped > 0);
}

/*
 * A resize's new page hash: move every image's chain link to its bucket
 * in new_buckets (the caller holds every partition lock of the instance).
 */
void
bp_zip_rehash(BpLocalInstance *li, uint64 *new_buckets, uint32 new_mask)
{
	uint32		i;

	for (i = 0; i <= new_mask; i++)
		new_buckets[i] = BP_ZIP_NULL;
	for (i = 0; i <= li->zmask; i++)
	{
		BpZipRef	r = li->zhash[i];

		while (r != BP_ZIP_NULL)
		{
			BpZipImage *img = bp_zip_image(li, r);
			BpZipRef	next = img->hash_next;
			uint32		bucket = (uint32) bp_page_hash(img->space_id, img->page_no) & new_mask;

			img->hash_next = new_buckets[bucket];
			new_buckets[bucket] = r;
			r = next;
		}
	}
}

/*
 * Whether an evictor should drop the frame of an unzip_LRU block, keeping
 * its image, rather than evict from the LRU tail: InnoDB's
 * buf_LRU_evict_from_unzip_LRU, with two changes we measured
 * (scripts/bench_zip.sh).  The unzip_LRU must hold more than a 200th of
 * the LRU list (InnoDB: a tenth, which keeps frames for a tenth of the
 * pages and so fewer pages in all; on the benchmark's I/O-bound case
 * lz4's hit ratio and throughput against the uncompressed space were
 * 0.877 and 1.37x at a tenth (three rounds), and in two rounds each
 * 0.889 and 1.42x at a 20th, 0.897 and 1.47x at a 50th, with InnoDB's
 * count rule below; with the time rule 0.897 and 1.48x at a 50th, 0.904
 * and 1.52x at a 200th).  And
 * the load counts as I/O bound when the time spent decompressing images
 * is at most the time spent reading pages from disk, over the last 50
 * seconds (InnoDB counts decompressions against reads with a fixed
 * factor of 50, assuming a read costs 50 decompressions; here a
 * decompression of an 8 kB page takes about 5 us, a read from the disk
 * about 70 us, a read from the kernel's page cache about 3 us, which
 * counts cannot tell apart).  The time rule is what keeps frames when
 * decompressing is the larger cost; the floor only keeps the list from
 * emptying.  Before the first eviction: I/O bound, as InnoDB assumes.
 */
bool
bp_zip_evict_from_unzip(BpInstance *inst)
{
	uint32		unzip = pg_atomic_read_u32(&inst->unzip_len);
	uint64		io_ns;
	uint64		unzip_ns;

	if (unzip == 0 || unzip <= inst->lru_len / 200)
		return false;
	if (inst->freed_page_clock == 0)
		return true;
	io_ns = inst->zip_io_ns_avg / BP_ZIP_STAT_INTERVALS +
		(pg_atomic_read_u64(&inst->zip_io_ns) - inst->zip_io_ns_last);
	unzip_ns = inst->zip_unzip_ns_avg / BP_ZIP_STAT_INTERVALS +
		(pg_atomic_read_u64(&inst->zip_unzip_ns) - inst->zip_unzip_ns_last);
	return unzip_ns <= io_ns;
}

/*
 * The pool manager, about once a second (InnoDB's buf_LRU_stat_update):
 * the sums over the last intervals, kept as a running sum that loses a
 * fiftieth a tick, as a ring of 50 would.
 */
void
bp_zip_stat_tick(void)
{
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		uint64		io = pg_atomic_read_u64(&inst->zip_io_ns);
		uint64		unzip = pg_atomic_read_u64(&inst->zip_unzip_ns);

		inst->zip_io_ns_avg += (io - inst->zip_io_ns_last) - inst->zip_io_ns_avg / BP_ZIP_STAT_INTERVALS;
		inst->zip_unzip_ns_avg += (unzip - inst->zip_unzip_ns_last) -
			inst->zip_unzip_ns_avg / BP_ZIP_STAT_INTERVALS;
		inst->zip_io_ns_last = io;
		inst->zip_unzip_ns_last = unzip;
	}
}

/* The memory image ref takes: its pieces' sizes (partition lock held). */
static int
bp_zip_image_size(BpLocalInstance *li, BpZipRef ref)
{
	BpZipRef	tail = bp_zip_image(li, ref)->part;
	int			size = bp_zip_class_size(BP_ZIP_FRAME_CLASS(bp_desc(li, BP_ZIP_REF_BLOCK(ref))));

	if (tail != BP_ZIP_NULL)
		size += bp_zip_class_size(BP_ZIP_FRAME_CLASS(bp_desc(li, BP_ZIP_REF_BLOCK(tail))));
	return size;
}

/*
 * For bufpool.pages: the memory of block b's image (its pieces), 0 if it has
 * none.  Takes the page's partition lock in share mode; b must be
 * pinned by the caller or the answer may be another page's.
 */
int
bp_zip_image_of(int instance, BpBlockNo b)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	uint64		h;
	LWLock	   *part;
	uint32		bucket;
	BpZipRef	ref;
	int			size = 0;

	if (!(pg_atomic_read_u32(&d->state) & BP_BS_ZIP))
		return 0;
	h = bp_page_hash(d->space_id, d->page_no);
	part = bp_hash_lock(inst, h);
	(void) bp_hash_lock_current(instance, h, LW_SHARED);
	bucket = bp_zip_bucket(li, h);
	ref = bp_zip_lookup(li, bucket, d->space_id, d->page_no);
	if (ref != BP_ZIP_NULL && bp_zip_image(li, ref)->block == b)
		size = bp_zip_image_size(li, ref);
	LWLockRelease(part);
	return size;
}

typedef struct BpZipVisitArg
{
	BpZipVisit	visit;
	void	   *arg;
} BpZipVisitArg;

static void
bp_zip_visit_one(void *arg, int instance, BpBlockNo zb, BpZipRef *link, BpZipRef ref,
				 BpZipImage *img)
{
	BpZipVisitArg *a = (BpZipVisitArg *) arg;

	if (img->block == BP_INVALID_BLOCK)
		a->visit(a->arg, instance, zb, img->space_id, img->page_no,
				 bp_zip_image_size(&BpLocal[instance], ref), false);
}

/*
 * For bufpool.pages: call visit for every image whose page has no frame,
 * with its page's partition lock held in share mode (visit must not take
 * a lock of the pool).
 */
void
bp_zip_visit_frameless(BpZipVisit visit, void *arg)
{
	BpZipVisitArg a = {visit, arg};

	bp_zip_walk(false, bp_zip_visit_one, &a);
}
