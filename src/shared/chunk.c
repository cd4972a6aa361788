/*-------------------------------------------------------------------------
 *
 * chunk.c
 *	  Chunks of the buffer pool: one DSM segment each.
 *
 * A chunk is InnoDB's buf_chunk_t: control blocks first, then the page
 * frames, aligned to 4 kB.  The segment is exactly bufpool_ext.chunk_size
 * bytes; as many blocks as fit are carved out of it.  Chunks are created
 * only by the pool manager worker (dsm_create is not allowed in the
 * postmaster), pinned so they outlive every mapping, and their handles
 * are published in BpInstance before the pool state turns READY.
 *
 * A chunk is a POSIX DSM segment, or with bufpool_ext.huge_pages a file
 * of explicit huge pages in a hugetlbfs mount (hugepage.c says why that
 * mechanism); chunk_huge_kb[] tells every process which, and the
 * handle names the file.  With huge_pages = try a chunk that cannot have
 * huge pages falls back to DSM with a LOG line; with on, its creation
 * fails.  After the header is written the kernel's page size for the
 * frames is read back (/proc/self/smaps) into the header: bufpool.chunks
 * shows what the kernel gave, not what was asked.
 *
 * NUMA placement (bufpool_ext.numa_placement): a hugetlbfs chunk gets an
 * mbind() policy before its first touch.  A DSM segment is filled when it
 * is created (on tmpfs the pages are allocated when the segment is
 * pre-allocated, under the creating task's policy), so the manager sets
 * its own policy around dsm_create instead, as InnoDB does with
 * set_mempolicy.
 *
 * IDENTIFICATION
 *	  src/shared/chunk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>
#include <unistd.h>
#ifdef HAVE_LIBNUMA
#include <numa.h>
#include <numaif.h>
#endif

#include "common/pg_prng.h"
#include "storage/shmem.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/shared/hugepage.h"
#include "bufpool_ext/shared/shmem.h"

/*
 * Size of a chunk segment and how many blocks it holds.
 */
Size
bp_chunk_segment_size(uint32 *n_blocks_out)
{
	Size		seg = BpShmem->chunk_size;
	Size		page = BpShmem->page_size;
	Size		head = MAXALIGN(sizeof(BpChunkHeader));
	Size		n;

	n = (seg - head - BP_CHUNK_ALIGN) / (page + sizeof(BpBlockDesc));
	while (n > 0 &&
		   TYPEALIGN(BP_CHUNK_ALIGN, head + n * sizeof(BpBlockDesc)) + n * page > seg)
		n--;
	if (n > BP_MAX_BLOCKS_PER_CHUNK)
		n = BP_MAX_BLOCKS_PER_CHUNK;
	*n_blocks_out = (uint32) n;
	return seg;
}

/*
 * Whether the placement can be applied here; the first time it cannot,
 * a LOG line says why (no NUMA, or one node: nothing to place).
 */
static bool
bp_numa_usable(void)
{
	static bool checked = false;
	static bool usable = false;

	if (!checked)
	{
		int			nodes = bp_numa_nodes();

		checked = true;
		if (nodes == 0)
			ereport(LOG,
					(errmsg("bufpool_ext.numa_placement is set but NUMA is not available; chunk memory is not placed")));
		else if (nodes < 2)
			ereport(LOG,
					(errmsg("bufpool_ext.numa_placement is set but this machine has %d NUMA node; chunk memory is not placed",
							nodes)));
		else
			usable = true;
	}
	return usable;
}

/* A DSM chunk: a pinned segment, filled under the placement's task policy. */
static char *
bp_chunk_create_dsm(Size size, int placement, int node, dsm_handle *handle)
{
	dsm_segment *seg;

#ifdef HAVE_LIBNUMA
	if (placement == BP_NUMA_INTERLEAVE)
		numa_set_interleave_mask(numa_all_nodes_ptr);
	else if (placement == BP_NUMA_INSTANCE)
		numa_set_preferred(node);
#endif
	seg = dsm_create(size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
#ifdef HAVE_LIBNUMA
	if (placement != BP_NUMA_OFF)
		numa_set_localalloc();
#endif
	if (seg == NULL)
		return NULL;
	dsm_pin_segment(seg);
	dsm_pin_mapping(seg);
	*handle = dsm_segment_handle(seg);
	return (char *) dsm_segment_address(seg);
}

/*
 * A hugetlbfs chunk, placed before its first touch; NULL with the reason
 * in why if it cannot be had.
 */
static char *
bp_chunk_create_huge(Size size, int placement, int node, dsm_handle *handle,
					 char *why, size_t why_len)
{
	Size		page = bp_huge_page_size();
	char	   *addr;
	int			tries;

	if (page == 0)
	{
		snprintf(why, why_len, "the system has no huge page size");
		return NULL;
	}
	if (size % page != 0)
	{
		snprintf(why, why_len, "bufpool_ext.chunk_size (%zu kB) is not a multiple of the huge page size (%zu kB)",
				 size / 1024, page / 1024);
		return NULL;
	}
	if (BpShmem->huge_dir[0] == '\0' &&
		!bp_huge_dir(page, BpShmem->huge_dir, sizeof(BpShmem->huge_dir), why, why_len))
		return NULL;
	BpShmem->huge_page_size = page;
	for (tries = 0;; tries++)
	{
		*handle = pg_prng_uint32(&pg_global_prng_state);
		if (*handle == DSM_HANDLE_INVALID)
			continue;
		addr = bp_huge_create(BpShmem->huge_dir, *handle, size, why, why_len);
		if (addr != NULL || errno != EEXIST || tries >= 8)
			break;
	}
	if (addr == NULL)
		return NULL;
	if (placement != BP_NUMA_OFF && !bp_numa_mbind(addr, size, placement, node))
		ereport(LOG,
				(errmsg("bufpool_ext: could not apply the NUMA placement to a chunk: %m")));
	return addr;
}

/*
 * Create one chunk, lay out its blocks and publish its handle.  Blocks
 * are not put on any list here (bp_lru_init_instance does that).
 */
void
bp_chunk_create(int instance, int chunk_no)
{
	BpInstance *inst = &BpShmem->instances[instance];
	uint32		n_blocks;
	Size		size = bp_chunk_segment_size(&n_blocks);
	int			placement = BP_NUMA_PLACEMENT();
	int			node = 0;
	char	   *base = NULL;
	dsm_handle	handle = DSM_HANDLE_INVALID;
	uint32		huge_kb = 0;
	BpChunkHeader *hdr;
	BpBlockDesc *descs;
	uint32		i;

	if (placement != BP_NUMA_OFF && !bp_numa_usable())
		placement = BP_NUMA_OFF;
	if (placement == BP_NUMA_INSTANCE)
		node = instance % bp_numa_nodes();
	if (bp_huge_pages != BP_HUGE_OFF)
	{
		char		why[512];

		base = bp_chunk_create_huge(size, placement, node, &handle, why, sizeof(why));
		if (base != NULL)
			huge_kb = (uint32) (BpShmem->huge_page_size / 1024);
		else if (bp_huge_pages == BP_HUGE_ON)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("could not create chunk %d of buffer pool instance %d in huge pages: %s",
							chunk_no, instance, why),
					 errhint("Reserve huge pages (vm.nr_hugepages) and mount hugetlbfs where the server can write, or set bufpool_ext.huge_pages to try or off.")));
		else
			ereport(LOG,
					(errmsg("bufpool_ext: chunk %d of instance %d uses normal pages: %s",
							chunk_no, instance, why)));
	}
	if (base == NULL)
		base = bp_chunk_create_dsm(size, placement, node, &handle);
	if (base == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too many dynamic shared memory segments to create chunk %d of buffer pool instance %d",
						chunk_no, instance),
				 errhint("Raise bufpool_ext.chunk_size so the pool needs fewer chunks, or raise max_connections.")));

	hdr = (BpChunkHeader *) base;
	hdr->magic = BP_CHUNK_MAGIC;
	hdr->instance = instance;
	hdr->chunk_no = chunk_no;
	hdr->n_blocks = n_blocks;
	hdr->descs_offset = MAXALIGN(sizeof(BpChunkHeader));
	hdr->frames_offset = TYPEALIGN(BP_CHUNK_ALIGN,
								   hdr->descs_offset + n_blocks * sizeof(BpBlockDesc));
	hdr->segment_size = size;
	hdr->numa_policy = placement;
	hdr->numa_node = placement == BP_NUMA_INSTANCE ? node : -1;

	descs = (BpBlockDesc *) ((char *) hdr + hdr->descs_offset);
	for (i = 0; i < n_blocks; i++)
	{
		BpBlockDesc *d = &descs[i];

		memset(d, 0, sizeof(BpBlockDesc));
		d->space_id = InvalidOid;
		pg_atomic_init_u32(&d->state, 0);
		d->hash_next = d->lru_prev = d->lru_next = BP_INVALID_BLOCK;
		d->flush_prev = d->flush_next = BP_INVALID_BLOCK;
		pg_atomic_init_u32(&d->content_lock, 0);
	}
	/* what the kernel gave the frames, read back (the header's page is touched) */
	hdr->page_kb = bp_mapping_page_kb(base);

	bp_chunk_count_memory(hdr, true);
	if (huge_kb != 0 && BpLocal != NULL)
	{
		/* a grow: the manager's own mapping is the one made here */
		BpLocalChunk *lc = &BpLocal[instance].chunks[chunk_no];

		bp_chunk_unmap(lc);
		lc->huge_addr = base;
		lc->handle = handle;
		lc->descs = descs;
		lc->frames = base + hdr->frames_offset;
	}
	else if (huge_kb != 0)
		munmap(base, size);		/* the build maps every chunk afterwards */
	inst->blocks_per_chunk = n_blocks;
	inst->chunk_huge_kb[chunk_no] = huge_kb;
	inst->chunk_handles[chunk_no] = handle;
	pg_write_barrier();
	inst->n_chunks = chunk_no + 1;
}

/*
 * Create (pinned, mapped for the session) a page hash segment of the
 * given number of buckets, all empty.  The segment starts with a
 * BpHashHeader so a process derives the mask from the table it maps.
 */
dsm_segment *
bp_hash_segment_create(int instance, uint32 buckets)
{
	dsm_segment *seg;
	BpHashHeader *hdr;
	BpBlockNo  *b;
	uint64	   *z;
	uint32		i;

	seg = dsm_create(BP_HASH_SEGMENT_SIZE(buckets), DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("too many dynamic shared memory segments to create the page hash of buffer pool instance %d",
						instance)));
	hdr = (BpHashHeader *) dsm_segment_address(seg);
	hdr->buckets = buckets;
	hdr->instance = instance;
	b = BP_HASH_BUCKETS(hdr);
	z = BP_ZIP_BUCKETS(hdr);
	for (i = 0; i < buckets; i++)
		b[i] = BP_INVALID_BLOCK;
	for (i = 0; i < buckets * BP_ZIP_HASH_FACTOR; i++)
		z[i] = PG_UINT64_MAX;	/* BP_ZIP_NULL */
	dsm_pin_segment(seg);
	dsm_pin_mapping(seg);
	bp_hash_count_memory(buckets, true);
	return seg;
}

/*
 * Memory accounting (memstat.c) of the pool's segments: a chunk counts
 * as its control part (header and block descriptors, instrument
 * memory/bufpool/block_control) and its frames (memory/bufpool/chunk);
 * a page hash as memory/bufpool/page_hash.  Counted by the process that
 * creates or releases the segment.
 */
void
bp_chunk_count_memory(BpChunkHeader *hdr, bool alloc)
{
	static BpMemKey key_control = 0;
	static BpMemKey key_frames = 0;

	if (key_control == 0)
	{
		key_control = bp_mem_register("memory/bufpool/block_control");
		key_frames = bp_mem_register("memory/bufpool/chunk");
	}
	if (alloc)
	{
		bp_mem_alloc(key_control, hdr->frames_offset);
		bp_mem_alloc(key_frames, hdr->segment_size - hdr->frames_offset);
	}
	else
	{
		bp_mem_free(key_control, hdr->frames_offset);
		bp_mem_free(key_frames, hdr->segment_size - hdr->frames_offset);
	}
}

void
bp_hash_count_memory(uint32 buckets, bool alloc)
{
	static BpMemKey key = 0;
	Size		bytes = BP_HASH_SEGMENT_SIZE(buckets);

	if (key == 0)
		key = bp_mem_register("memory/bufpool/page_hash");
	if (alloc)
		bp_mem_alloc(key, bytes);
	else
		bp_mem_free(key, bytes);
}

/*
 * Buckets of a page hash for n_blocks blocks: the smallest power of two
 * that is at least n_blocks, so a chain holds one block on average at
 * most (InnoDB takes twice as many cells; one more word per page).
 */
uint32
bp_hash_buckets_for(uint32 n_blocks)
{
	uint32		buckets = BP_HASH_PARTITIONS;

	while (buckets < n_blocks && buckets < (1U << 31))
		buckets <<= 1;
	return buckets;
}

static void
bp_hash_create(int instance)
{
	BpInstance *inst = &BpShmem->instances[instance];
	uint32		buckets = bp_hash_buckets_for(inst->n_blocks);
	dsm_segment *seg;

	seg = bp_hash_segment_create(instance, buckets);
	inst->hash_buckets = buckets;
	pg_write_barrier();
	inst->hash_handle = dsm_segment_handle(seg);
}

/*
 * Build every chunk and page hash of the pool.  Run by the pool manager
 * while the pool state is BUILDING; a manager restarted in the middle of
 * a build goes on from the chunks already published.
 */
/*
 * Before n_chunks new chunks are made: with huge_pages = on, fail at once,
 * nothing made, when fewer huge pages are free than they need (the kernel
 * would refuse one of them half-way).
 */
void
bp_chunk_check_huge_room(int n_chunks)
{
	Size		page = bp_huge_page_size();
	long		avail;
	long		need;

	if (bp_huge_pages != BP_HUGE_ON || n_chunks <= 0 || page == 0 ||
		BpShmem->chunk_size % page != 0)
		return;					/* bp_chunk_create says what is wrong */
	avail = bp_huge_available_pages(page);
	need = (long) (BpShmem->chunk_size / page) * n_chunks;
	if (avail >= 0 && avail < need)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not create %d chunks in huge pages: not enough free huge pages for %zu MB: %ld of %zu kB free",
						n_chunks, (BpShmem->chunk_size / (1024 * 1024)) * n_chunks, avail, page / 1024),
				 errhint("Reserve huge pages (vm.nr_hugepages), or set bufpool_ext.huge_pages to try or off.")));
}

void
bp_chunk_build_all(void)
{
	int			i;
	uint32		n_blocks;

	(void) bp_chunk_segment_size(&n_blocks);
	if (n_blocks < 16)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_ext.chunk_size %zu holds only %u pages of %d bytes",
						BpShmem->chunk_size, n_blocks, BpShmem->page_size),
				 errhint("Raise bufpool_ext.chunk_size or lower bufpool_ext.page_size.")));

	{
		int			missing = 0;

		for (i = 0; i < BpShmem->n_instances; i++)
			missing += Max(BpShmem->chunks_per_instance - BpShmem->instances[i].n_chunks, 0);
		bp_chunk_check_huge_room(missing);
	}
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		int			c;

		for (c = inst->n_chunks; c < BpShmem->chunks_per_instance; c++)
			bp_chunk_create(i, c);
		inst->n_blocks = (uint32) inst->n_chunks * inst->blocks_per_chunk;
		if (inst->hash_handle == DSM_HANDLE_INVALID)
			bp_hash_create(i);
	}
}

/* The mapping of chunk chunk_no in this process, or NULL. */
static char *
bp_chunk_base(BpLocalChunk *lc)
{
	if (lc->huge_addr != NULL)
		return lc->huge_addr;
	return lc->seg != NULL ? (char *) dsm_segment_address(lc->seg) : NULL;
}

/* Drop this process's mapping of a chunk (either kind). */
void
bp_chunk_unmap(BpLocalChunk *lc)
{
	if (lc->seg != NULL)
		dsm_detach(lc->seg);
	else if (lc->huge_addr != NULL)
		munmap(lc->huge_addr, BpShmem->chunk_size);
	lc->seg = NULL;
	lc->huge_addr = NULL;
}

/*
 * Give a removed chunk's memory back at once and drop the pool manager's
 * pin.  MADV_REMOVE frees the pages of a tmpfs (posix DSM) segment for
 * every process that maps it, and a hole punched in a hugetlbfs file
 * frees its huge pages the same way, so memory returns to the system
 * even while idle sessions still map the chunk; the segment itself goes
 * when the last of them detaches (the file is unlinked at once).
 * Caller has made every block unreachable.
 */
void
bp_chunk_release(int instance, int chunk_no)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalChunk *lc = &BpLocal[instance].chunks[chunk_no];
	dsm_segment *seg;

	if (inst->chunk_huge_kb[chunk_no] != 0)
	{
		if (lc->huge_addr == NULL || lc->handle != inst->chunk_handles[chunk_no])
			return;
		bp_chunk_count_memory((BpChunkHeader *) lc->huge_addr, false);
		bp_huge_release(BpShmem->huge_dir, inst->chunk_handles[chunk_no], BpShmem->chunk_size);
		bp_chunk_unmap(lc);
		memset(lc, 0, sizeof(BpLocalChunk));
		return;
	}
	seg = dsm_find_mapping(inst->chunk_handles[chunk_no]);
	if (seg == NULL)
		return;
	bp_chunk_count_memory((BpChunkHeader *) dsm_segment_address(seg), false);
#ifdef MADV_REMOVE
	if (madvise(dsm_segment_address(seg), dsm_segment_map_length(seg), MADV_REMOVE) != 0)
		ereport(LOG,
				(errmsg("bufpool_ext: could not release the memory of chunk %d of instance %d at once: %m",
						chunk_no, instance)));
#endif
	dsm_unpin_segment(inst->chunk_handles[chunk_no]);
	dsm_detach(seg);
	memset(lc, 0, sizeof(BpLocalChunk));
}

/*
 * Map chunk chunk_no of an instance into this process for the session.
 */
bool
bp_chunk_map(int instance, int chunk_no)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalChunk *lc = &BpLocal[instance].chunks[chunk_no];
	dsm_handle	handle;
	dsm_segment *seg = NULL;
	char	   *huge = NULL;
	BpChunkHeader *hdr;

	pg_read_barrier();
	handle = inst->chunk_handles[chunk_no];
	if (inst->chunk_huge_kb[chunk_no] != 0)
	{
		if (lc->huge_addr != NULL && lc->handle == handle)
			return true;		/* mapped already (the manager made it) */
		huge = bp_huge_map(BpShmem->huge_dir, handle, BpShmem->chunk_size);
		if (huge == NULL)
		{
			/* a shrink released it between our look at the count and now */
			pg_read_barrier();
			if (chunk_no >= inst->n_chunks || inst->chunk_handles[chunk_no] != handle)
				return false;
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("could not map chunk %d of buffer pool instance %d from \"%s\": %m",
							chunk_no, instance, BpShmem->huge_dir)));
		}
		hdr = (BpChunkHeader *) huge;
	}
	else
	{
		seg = dsm_find_mapping(handle);
		if (seg == NULL)
		{
			seg = dsm_attach(handle);
			if (seg == NULL)
			{
				/* a shrink released it between our look at the count and now */
				pg_read_barrier();
				if (chunk_no >= inst->n_chunks)
					return false;
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("could not map chunk %d of buffer pool instance %d", chunk_no, instance)));
			}
			dsm_pin_mapping(seg);
		}
		hdr = (BpChunkHeader *) dsm_segment_address(seg);
	}
	if (hdr->magic != BP_CHUNK_MAGIC || hdr->chunk_no != chunk_no || hdr->instance != instance)
	{
		/* released (its memory is already zero) while we attached */
		pg_read_barrier();
		if (seg != NULL)
			dsm_detach(seg);
		else
			munmap(huge, BpShmem->chunk_size);
		if (chunk_no >= inst->n_chunks)
			return false;
		elog(ERROR, "chunk %d of buffer pool instance %d has a bad header", chunk_no, instance);
	}
	lc->seg = seg;
	lc->huge_addr = huge;
	lc->handle = handle;
	lc->descs = (BpBlockDesc *) ((char *) hdr + hdr->descs_offset);
	lc->frames = (char *) hdr + hdr->frames_offset;
	return true;
}

/* The header of a chunk this process maps. */
BpChunkHeader *
bp_chunk_header(int instance, int chunk_no)
{
	return (BpChunkHeader *) bp_chunk_base(&BpLocal[instance].chunks[chunk_no]);
}

/*
 * The NUMA nodes that hold a sample of the chunk's frames, as text
 * ("0", "0,1"), and the policy.  Touches the sampled pages.
 */
const char *
bp_chunk_numa_nodes(int instance, int chunk_no, char *buf, size_t len)
{
#ifdef HAVE_LIBNUMA
	BpLocalChunk *lc = &BpLocal[instance].chunks[chunk_no];
	uint32		n = BpShmem->instances[instance].blocks_per_chunk;
	void	   *pages[16];
	int			status[16];
	bool		seen[64] = {0};
	int			i,
				k = 0;
	size_t		off = 0;

	if (numa_available() < 0)
	{
		strlcpy(buf, "unavailable", len);
		return buf;
	}
	for (i = 0; i < 16; i++)
	{
		volatile char *p = lc->frames + (Size) (n * (uint64) i / 16) * BpShmem->page_size;

		(void) *p;
		pages[k++] = (void *) p;
	}
	if (numa_move_pages(0, k, pages, NULL, status, 0) != 0)
	{
		strlcpy(buf, "unknown", len);
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < k; i++)
	{
		if (status[i] >= 0 && status[i] < 64 && !seen[status[i]])
		{
			seen[status[i]] = true;
			off += snprintf(buf + off, len - off, "%s%d", off ? "," : "", status[i]);
			if (off >= len)
				break;
		}
	}
	if (buf[0] == '\0')
		strlcpy(buf, "unknown", len);
	return buf;
#else
	strlcpy(buf, "n/a (built without libnuma)", len);
	return buf;
#endif
}
