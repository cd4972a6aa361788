/*-------------------------------------------------------------------------
 *
 * pool.h
 *	  Shared structures of the bufpool_ext buffer pool.
 *
 * The pool is made of bufpool_ext.instances instances.  Each instance owns
 * up to BP_MAX_CHUNKS chunks; each chunk is one DSM segment laid out as
 *
 *	  BpChunkHeader | BpBlockDesc[n_blocks] | pad to 4 kB | frames[n_blocks]
 *
 * and each instance has one more DSM segment for its page hash buckets.
 * The main shared memory segment (BpShared) holds only fixed-size state:
 * DSM handles, list heads, locks and counters.  Nothing in shared memory
 * is a pointer: blocks are named by BpBlockNo (chunk << 20 | index) and
 * every process maps the segments itself (see BpLocal).
 *
 * Lock order (a process may take a later lock while holding an earlier
 * one, never the reverse):
 *	  1. BpShared->space_lock		(tablespace registry)
 *	  2. BpInstance->hash_locks[i]	(page hash partitions, ascending i)
 *	  3. BpInstance->lru_lock		(free list and LRU list)
 *	  4. BpBlockDesc->content_lock	(page contents; not an LWLock, see
 *									 BP_CL_EXCLUSIVE)
 *	  5. BpInstance->flush_lock		(flush list, oldest_lsn)
 * No LWLock is held across file I/O except a content lock in share mode
 * while a page is copied, and no condition variable is waited on while
 * holding any LWLock.
 *
 * Doublewrite (dblwr.c) adds no LWLock: BpDblwrShared->mutex, a spinlock
 * around the region owner table, is a leaf.  A region is owned across
 * I/O; the order is "IO_WRITE of the pages, then a region": a process
 * claims a region only after it became the writer of the pages it puts
 * there, may wait for a region (on free_cv, interrupts held off) while
 * owning IO_WRITE bits, but never waits for a block's IO_WRITE while it
 * owns or keeps a region (it syncs and gives back kept ones first).
 * Between batch rounds a writer keeps its regions while it takes content
 * locks (share), flush_lock and the redo write_lock; a one-page write
 * gives its region back before that, since a session waiting for a
 * one-page region may hold a content lock.  Page cleaner k alone uses
 * regions 2k and 2k+1; the shared batch regions and the one-page regions
 * go to whoever claims them first.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/shared/shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_POOL_H
#define BUFPOOL_EXT_POOL_H

#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/condition_variable.h"
#include "storage/dsm.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "bufpool_ext/base/page.h"

#define BP_MAX_INSTANCES		64
#define BP_MAX_CHUNKS			1024	/* per instance */
#define BP_HASH_PARTITIONS		32		/* per instance, power of two */
#define BP_LRU_OLD_MIN_LEN		512		/* InnoDB's BUF_LRU_OLD_MIN_LEN */
#define BP_LRU_OLD_TOLERANCE	20		/* InnoDB's BUF_LRU_OLD_TOLERANCE */
#define BP_CHUNK_ALIGN			4096
#define BP_BLOCK_CV_BITS		10
#define BP_BLOCK_CV_PARTITIONS	(1 << BP_BLOCK_CV_BITS)

/* Block numbers inside one instance: chunk in the high bits. */
typedef uint32 BpBlockNo;
#define BP_BLOCK_IDX_BITS		20
#define BP_BLOCK_IDX_MASK		((1U << BP_BLOCK_IDX_BITS) - 1)
#define BP_MAX_BLOCKS_PER_CHUNK	BP_BLOCK_IDX_MASK	/* index 0..mask-1 */
#define BP_INVALID_BLOCK		((BpBlockNo) 0xFFFFFFFF)
#define BP_MAKE_BLOCK(chunk, idx) (((BpBlockNo) (chunk) << BP_BLOCK_IDX_BITS) | (idx))
#define BP_BLOCK_CHUNK(b)		((b) >> BP_BLOCK_IDX_BITS)
#define BP_BLOCK_IDX(b)			((b) & BP_BLOCK_IDX_MASK)

/*
 * Block state word.  The low 18 bits are the pin (fix) count; the flags
 * above them change only by atomic operations.
 *
 * VALID: the frame holds the page named by (space_id, page_no) and the
 *		  block is in the page hash.  While VALID is set the tag does not
 *		  change; a pinned VALID block cannot lose VALID except through
 *		  bp_buf_discard (space drop), which waits for pins to drain.
 * IO_READ: a read into the frame is in progress; waiters sleep on the
 *		  block's condition variable (bp_block_cv).
 * IO_WRITE: one process is writing the page out; waiters sleep likewise.
 * DIRTY: the frame is newer than the file; the block is on the flush list.
 */
#define BP_REFCOUNT_ONE			1U
#define BP_REFCOUNT_MASK		((1U << 18) - 1)
#define BP_BS_VALID				(1U << 18)
#define BP_BS_IO_READ			(1U << 19)
#define BP_BS_IO_WRITE			(1U << 20)
#define BP_BS_DIRTY				(1U << 21)
#define BP_BS_IO_ERROR			(1U << 22)
/* BpFlushType of the block's last write, set by its writer under IO_WRITE */
#define BP_BS_FLUSH_SHIFT		23
#define BP_BS_FLUSH_MASK		(3U << BP_BS_FLUSH_SHIFT)
/*
 * ZIP: the page (of a compressed space) also has its compressed image in
 * the instance's zip memory (src/pool/zip.c): the block is on InnoDB's
 * unzip_LRU.  Set and cleared under the page's hash partition lock.
 */
#define BP_BS_ZIP				(1U << 25)
#define BP_STATE_REFCOUNT(s)	((s) & BP_REFCOUNT_MASK)
#define BP_STATE_FLUSH_TYPE(s)	(((s) & BP_BS_FLUSH_MASK) >> BP_BS_FLUSH_SHIFT)

/* Which list a block is on; protected by the instance's lru_lock. */
typedef enum BpListKind
{
	BP_LIST_NONE = 0,			/* owned by one process (being read in) */
	BP_LIST_FREE,
	BP_LIST_LRU,
	BP_LIST_WITHDRAW,			/* in a chunk a shrink is removing */
	BP_LIST_MEMORY				/* a frame used as memory (buddy.c), chunk 0 only,
								 * pinned; InnoDB's BUF_BLOCK_MEMORY */
} BpListKind;

/*
 * page_no of a BP_LIST_MEMORY block says who holds it (space_id is
 * InvalidOid): a frame of bp_pool_frame_alloc, or a frame of the buddy
 * allocator with its slot number in the low bits.  Written by the
 * process that owns the block.
 */
#define BP_MEMORY_TAG_FRAME		0xFFFFFFFFU
#define BP_MEMORY_TAG_BUDDY		0xFFF00000U
#define BP_MEMORY_TAG_IS_BUDDY(t) (((t) & 0xFFF00000U) == BP_MEMORY_TAG_BUDDY && (t) != BP_MEMORY_TAG_FRAME)

/*
 * A zip frame (src/pool/zip.c): a block on the LRU list whose frame holds
 * compressed page images of one size class; not VALID, not in the page
 * hash, space_id InvalidOid, page_no BP_ZIP_FRAME_TAG | class, and
 * oldest_lsn the bitmap of its pieces in use (zip_mutex).
 */
#define BP_ZIP_FRAME_TAG		0xFFE00000U
#define BP_IS_ZIP_FRAME(d)		((d)->space_id == InvalidOid && \
								 ((d)->page_no & 0xFFFFFF00U) == BP_ZIP_FRAME_TAG)
#define BP_ZIP_FRAME_CLASS(d)	((int) ((d)->page_no & 0xFFU))	/* pieces */

/* How the last write of a block was started (INNODB_BUFFER_PAGE.flush_type). */
typedef enum BpFlushType
{
	BP_FLUSH_NONE = 0,
	BP_FLUSH_LRU,
	BP_FLUSH_LIST,
	BP_FLUSH_SINGLE_PAGE
} BpFlushType;

/*
 * Content lock of a block: a reader-writer lock in one word of its
 * control block, where an LWLock would take 16 bytes (and its condition
 * variable another 12).  BP_CL_EXCLUSIVE is the exclusive holder, the low
 * bits count shared holders, BP_CL_WAITERS says a process sleeps for the
 * lock on the block's condition variable (bp_block_cv).  It behaves as an
 * LWLock does: shared requests are granted while only waiters of the
 * exclusive mode are queued, interrupts are held off while it is held,
 * and a (sub)transaction abort releases it (buf.c).
 */
#define BP_CL_EXCLUSIVE			(1U << 31)
#define BP_CL_WAITERS			(1U << 30)
#define BP_CL_SHARED_MASK		(BP_CL_WAITERS - 1)

/*
 * Control block of one frame (InnoDB's buf_block_t).  56 bytes.  The
 * LSN of the newest modification is not kept here: it is the frame's
 * page header LSN (bp_block_newest_lsn), which bp_mark_dirty sets under
 * the exclusive content lock.
 */
typedef struct BpBlockDesc
{
	/* identity; stable while VALID; written only by the owner of a
	 * block that is neither VALID nor in the hash */
	uint32		space_id;
	uint32		page_no;
	pg_atomic_uint32 state;		/* pin count and BP_BS_* flags */
	pg_atomic_uint32 content_lock;	/* BP_CL_* */
	BpBlockNo	hash_next;		/* hash partition lock */
	BpBlockNo	lru_prev;		/* lru_lock (free list uses lru_next) */
	BpBlockNo	lru_next;		/* lru_lock */
	BpBlockNo	flush_prev;		/* flush_lock */
	BpBlockNo	flush_next;		/* flush_lock */
	uint32		access_time;	/* ms since pool start of first access, 0 if none */
	uint32		freed_page_clock;	/* lru_lock; instance clock when made young */
	uint8		list:4;			/* BpListKind, lru_lock */
	bool		is_old:1;		/* lru_lock; read unlocked as a hint */
	uint8		heat_tick;		/* heat clock at the last sampled access (heat.h) */
	uint16		heat;			/* access frequency counter (heat.h); no lock */
	uint64		oldest_lsn;		/* flush_lock; 0 when clean */
} BpBlockDesc;

StaticAssertDecl(sizeof(BpBlockDesc) == 56, "BpBlockDesc is 56 bytes");

/* Header at the start of every chunk segment. */
typedef struct BpChunkHeader
{
	uint32		magic;
	int			instance;
	int			chunk_no;
	uint32		n_blocks;
	Size		descs_offset;
	Size		frames_offset;
	Size		segment_size;
	int			numa_policy;	/* BP_NUMA_OFF, _INTERLEAVE or _INSTANCE */
	int			numa_node;		/* BP_NUMA_INSTANCE: the node asked for */
	uint32		page_kb;		/* the frames' page size, as the kernel mapped it */
} BpChunkHeader;

#define BP_CHUNK_MAGIC			0x42504348	/* "BPCH" */

/* Header of a page hash segment; the buckets follow it. */
typedef struct BpHashHeader
{
	uint32		buckets;		/* power of two */
	int			instance;
} BpHashHeader;

#define BP_HASH_BUCKETS(hdr) \
	((BpBlockNo *) ((char *) (hdr) + MAXALIGN(sizeof(BpHashHeader))))
/*
 * then the zip hash (zip.c): BP_ZIP_HASH_FACTOR times as many buckets
 * (a frame may hold several images), each a BpZipRef; a page's zip bucket
 * is its hash & (that count - 1), under the same partition lock
 */
#define BP_ZIP_HASH_FACTOR		4
#define BP_ZIP_BUCKETS_OFFSET(buckets) \
	(TYPEALIGN(8, MAXALIGN(sizeof(BpHashHeader)) + sizeof(BpBlockNo) * (Size) (buckets)))
#define BP_ZIP_BUCKETS(hdr) \
	((uint64 *) ((char *) (hdr) + BP_ZIP_BUCKETS_OFFSET((hdr)->buckets)))
#define BP_HASH_SEGMENT_SIZE(buckets) \
	(BP_ZIP_BUCKETS_OFFSET(buckets) + sizeof(uint64) * BP_ZIP_HASH_FACTOR * (Size) (buckets))

/*
 * Size classes of compressed images (zip.c): class k cuts a frame into k
 * pieces (2 <= k <= BP_ZIP_MAX_PIECES); arrays are indexed by k.
 */
#define BP_ZIP_MAX_PIECES		32
#define BP_ZIP_CLASSES			(BP_ZIP_MAX_PIECES + 1)

/* Counters kept per backend and per instance (summed by the views). */
typedef struct BpCounters
{
	uint64		gets;
	uint64		reads;
	uint64		created;
	uint64		written;
	uint64		made_young;
	uint64		not_made_young;
	uint64		lru_written;	/* pages written to free a tail block */
	uint64		evicted;
	uint64		young_skipped;	/* make-young skipped: lru_lock was busy */
	uint64		unzipped;		/* misses served from a compressed image (zip.c) */
} BpCounters;

#define BP_N_COUNTERS (sizeof(BpCounters) / sizeof(uint64))

/* Counters at one moment, for the rates of bufpool.stats. */
typedef struct BpRateSnap
{
	TimestampTz at;
	BpCounters	c;
} BpRateSnap;

/*
 * One buffer pool instance, in main shared memory.
 */
typedef struct BpInstance
{
	int			id;

	/* Chunks: written by the pool manager before the pool is READY */
	int			n_chunks;
	uint32		blocks_per_chunk;
	uint32		n_blocks;
	dsm_handle	chunk_handles[BP_MAX_CHUNKS];	/* DSM handle, or hugetlbfs file's */
	uint32		chunk_huge_kb[BP_MAX_CHUNKS];	/* 0: a DSM segment; else a hugetlbfs
												 * file of pages that size */
	dsm_handle	hash_handle;
	uint32		hash_buckets;	/* power of two */

	LWLockPadded hash_locks[BP_HASH_PARTITIONS];
	LWLockPadded lru_lock;
	LWLockPadded flush_lock;

	/* free list and LRU list: lru_lock */
	BpBlockNo	free_head;
	uint32		free_len;
	BpBlockNo	lru_head;		/* youngest */
	BpBlockNo	lru_tail;		/* oldest, eviction end */
	BpBlockNo	lru_old;		/* first block of the old sublist */
	uint32		lru_len;
	uint32		lru_old_len;
	uint32		freed_page_clock;
	uint32		memory_len;		/* blocks on BP_LIST_MEMORY (chunk 0 only) */

	/*
	 * Blocks the boundary between the sublists moved from one to the
	 * other without an access (lru.c, bp_lru_adjust_old): old blocks that
	 * became young, young blocks that became old.  lru_lock.
	 */
	uint64		boundary_made_young;
	uint64		boundary_made_old;

	/*
	 * lru_boundary = access: misses since the last one considered for
	 * the young sublist's room, and the blocks read into it (lru.c,
	 * bp_lru_add_old).  lru_lock.
	 */
	uint32		admit_count;
	uint64		admitted_young;

	/*
	 * How long a block lasts in the old sublist (lru.c): the ms it took
	 * for the last lru_old_len departures from it (evictions and blocks
	 * made young), 0 until measured; and the current count.  Written under
	 * lru_lock; read without it as hints by the hit path.
	 */
	uint32		old_departures;
	uint32		old_window_start;	/* bp_now_ms() when the count began */
	uint32		old_turnover_ms;

	/*
	 * Shrink: chunks >= withdraw_from are being removed; their free
	 * blocks go to the withdraw list instead of the free list (lru_lock).
	 * BP_MAX_CHUNKS when no shrink runs.
	 */
	int			withdraw_from;
	BpBlockNo	withdraw_head;
	uint32		withdraw_len;

	/* flush list: flush_lock; head newest oldest_lsn, tail oldest */
	BpBlockNo	flush_head;
	BpBlockNo	flush_tail;
	uint32		flush_len;

	pg_atomic_uint32 pending_reads;
	pg_atomic_uint32 pending_flush_lru;
	pg_atomic_uint32 pending_flush_list;
	pg_atomic_uint64 lru_io_total;	/* pages flushed from the LRU tail */

	/* the pool manager's last two samples, newest first (bp_counters_sample) */
	slock_t		rate_mutex;
	BpRateSnap	rate_samples[2];

	/*
	 * Zip memory (zip.c): frames holding compressed page images.  The
	 * class lists and counters are under zip_mutex, a leaf spinlock;
	 * unzip_len counts the images on the unzip_LRU (blocks with BP_BS_ZIP
	 * but for pages kept in the overflow file).
	 */
	slock_t		zip_mutex;
	BpBlockNo	zip_partial[BP_ZIP_CLASSES];	/* frames with a free piece */
	uint32		zip_frames[BP_ZIP_CLASSES];
	uint32		zip_used[BP_ZIP_CLASSES];	/* pieces in use */
	uint64		zip_relocation_ops[BP_ZIP_CLASSES];
	uint64		zip_relocation_ns[BP_ZIP_CLASSES];
	uint64		unzip_head;		/* the unzip_LRU (zip.c): BpZipRefs; lru_lock */
	uint64		unzip_tail;
	pg_atomic_uint32 unzip_len;
	pg_atomic_uint32 zip_frameless;	/* images whose page has no frame */
	/*
	 * InnoDB's buf_LRU_stat, in time rather than counts: ns spent reading
	 * pages from disk and decompressing images (zip.c)
	 */
	pg_atomic_uint64 zip_io_ns;
	pg_atomic_uint64 zip_unzip_ns;
	uint64		zip_io_ns_avg;		/* pool manager: sums over the last intervals */
	uint64		zip_unzip_ns_avg;
	uint64		zip_io_ns_last;
	uint64		zip_unzip_ns_last;
} BpInstance;

typedef enum BpPoolState
{
	BP_POOL_INIT = 0,			/* nothing built yet */
	BP_POOL_BUILDING,			/* the manager is creating chunks */
	BP_POOL_READY,
	BP_POOL_FAILED				/* the manager gave up; see error text */
} BpPoolState;

#define BP_MAX_CLEANERS 64

/* Online resize (resize.c) */
typedef enum BpResizePhase
{
	BP_RS_NONE = 0,
	BP_RS_START,
	BP_RS_WITHDRAW,
	BP_RS_GLOBAL_LOCK,
	BP_RS_RESIZING,
	BP_RS_HASH,
	BP_RS_COMPLETE,
	BP_RS_FAILED
} BpResizePhase;

typedef struct BpResizeStatus
{
	int64		id;				/* 0: none */
	int			phase;			/* BpResizePhase */
	int			progress;		/* percent */
	int64		from_size;		/* bytes */
	int64		to_size;		/* bytes, rounded */
	int64		requested_size; /* bytes, as asked */
	TimestampTz started;
	TimestampTz finished;
	int64		pages_withdrawn;
	int64		pages_relocated;
	int64		pages_flushed;
	int64		pages_evicted;
	int64		max_hold_us;	/* longest section holding locks page access needs */
	int			requester_pid;
	char		source[16];		/* "sql" or "config" */
	char		message[256];
} BpResizeStatus;

#define BP_RESIZE_HISTORY 8

/*
 * Hazard pins.  A hit pins a block without writing shared state: the
 * process publishes the block (a BpPage value) in one of its own slots,
 * issues a full barrier, then checks that the block is VALID and holds
 * the wanted page.  An evictor clears VALID, issues a full barrier, then
 * scans every slot (bp_hazard_held) and backs off, restoring VALID, if
 * the block is published.  One of the two always sees the other.
 * Pins beyond the slots use the atomic pin count.
 */
#define BP_HAZARD_SLOTS	4
#define BP_MAX_SPACES	1024

typedef enum BpSpaceState
{
	BP_SPACE_UNUSED = 0,
	BP_SPACE_ACTIVE,
	BP_SPACE_DROPPING
} BpSpaceState;

typedef struct BpSpaceEntry
{
	uint32		space_id;
	uint32		state;			/* BpSpaceState */
	uint64		size_pages;
	char		name[NAMEDATALEN];
	uint64		identity;		/* random at creation, never 0 (warm.c) */
	/* registry version 3: compressed spaces (pagezip.c) */
	uint32		compression;	/* BP_ZIP_NONE, _LZ4, _ZSTD */
	uint32		key_block_size; /* bytes of a page's slot; 0: uncompressed */
} BpSpaceEntry;

/* compression counters of one key_block_size or one space */
typedef struct BpZipStats
{
	pg_atomic_uint64 compress_ops;	/* pages compressed */
	pg_atomic_uint64 compress_ops_ok;	/* ... whose image fit the slot */
	pg_atomic_uint64 compress_ns;
	pg_atomic_uint64 uncompress_ops;
	pg_atomic_uint64 uncompress_ns;
} BpZipStats;

#define BP_ZIP_SIZES		6	/* key_block_size 1 kB << i */

/* the size of an entry in a version-2 registry (before compression) */
#define BP_SPACE_ENTRY_V2_SIZE	offsetof(BpSpaceEntry, compression)

/*
 * Warm restart (src/pool/warm.c): the running and the last few dump and
 * load operations, under warm_mutex.
 */
typedef enum BpWarmOpKind
{
	BP_WARM_DUMP = 1,
	BP_WARM_LOAD
} BpWarmOpKind;

typedef enum BpWarmState
{
	BP_WARM_IDLE = 0,
	BP_WARM_RUNNING,
	BP_WARM_COMPLETED,
	BP_WARM_ABORTED,
	BP_WARM_FAILED
} BpWarmState;

typedef enum BpWarmSkip
{
	BP_SKIP_DROPPED = 0,		/* the space is gone or was re-created */
	BP_SKIP_BEYOND,				/* the page is past the space's end */
	BP_SKIP_PRESENT,			/* the page is in the pool already */
	BP_SKIP_NO_FREE,			/* no free block left */
	BP_SKIP_BAD,				/* unreadable or failed its checksum */
	BP_SKIP_KINDS
} BpWarmSkip;

#define BP_WARM_HISTORY	8

/*
 * Memory governor (src/workers/governor.c): the last sample and the
 * state, and a ring of its actions, under gov_mutex.
 */
typedef struct BpGovStatus
{
	int			mode;			/* effective: BP_GOVERNOR_* */
	int			level;			/* BpMemLevel */
	int			use_level;
	int			stall_level;
	int			source;			/* BpMemSource */
	int64		limit;
	int64		usage;
	int64		working_set;
	double		psi_some_avg10;
	double		psi_full_avg10;
	TimestampTz sampled_at;
	TimestampTz level_since;
	bool		shrunk;			/* the governor shrank the pool: it may grow it back */
	char		where[128];
	char		note[200];		/* why observe only, or what failed */
	char		psi_trigger[160];	/* the armed PSI trigger, or why none */
	int64		psi_events;		/* times it fired */
	TimestampTz psi_event_at;	/* last time, 0: never */
} BpGovStatus;

#define BP_GOV_LOG	32

typedef struct BpGovLogRow
{
	int64		id;				/* 0: unused */
	TimestampTz at;
	int			level;
	int64		limit;
	int64		working_set;
	double		psi_some_avg10;
	double		psi_full_avg10;
	char		action[24];
	int64		from_size;
	int64		to_size;
	char		result[200];
} BpGovLogRow;

/*
 * Suspected memory leaks (src/workers/leaks.c): the manager rewrites the
 * table at each check, making leak_changecount odd meanwhile.  A row is
 * a size-class object of the set "memory_leaks" (leaks.c's BpLeakObject,
 * sized to its strings); BpShared holds only their addresses.  BpLeakRow
 * is the row as the checks build it and readers get it, in local memory.
 */
#define BP_LEAK_MAX	64

typedef enum BpLeakKind
{
	BP_LEAK_ALLOCATOR,			/* a shared allocator whose owner exited */
	BP_LEAK_INSTRUMENT,			/* an instrument growing with no frees */
	BP_LEAK_CONTEXT				/* a process's kept contexts growing */
} BpLeakKind;

typedef struct BpLeakRow
{
	int			kind;			/* BpLeakKind */
	char		name[64];		/* allocator, instrument or context */
	int32		pid;			/* owner (0: none, as for an instrument) */
	char		backend_type[BGW_MAXLEN];
	int64		bytes;			/* held (allocator) or grown by */
	int64		count;			/* blocks held, allocations or samples */
	TimestampTz first_seen;
	TimestampTz last_growth;
	char		reason[160];
} BpLeakRow;

typedef struct BpWarmOp
{
	int64		id;				/* 0: slot unused */
	int			kind;			/* BpWarmOpKind */
	int			state;			/* BpWarmState */
	TimestampTz started;
	TimestampTz finished;
	int64		pages_total;
	int64		pages_done;
	int64		skipped[BP_SKIP_KINDS];
	int64		bytes;			/* read (load) or written (dump) */
	char		message[512];
} BpWarmOp;

/*
 * The fixed part of the pool, in main shared memory.
 */
typedef struct BpShared
{
	/* settings frozen at startup */
	int			n_instances;
	int			page_size;
	Size		chunk_size;
	int			chunks_per_instance;
	Size		requested_size;
	Size		effective_size;

	/* hugetlbfs chunks: set by the manager before the first is published */
	char		huge_dir[MAXPGPATH];
	Size		huge_page_size;

	pg_atomic_uint32 pool_state;	/* BpPoolState */
	pg_atomic_uint32 generation;	/* bumped when chunks change */
	char		error[256];		/* why the pool failed */
	ConditionVariable ready_cv;
	TimestampTz start_time;
	int64		heat_epoch_ns;	/* the heat clock's zero (heat.c) */
	pg_atomic_uint64 heat_tick_max; /* the latest heat tick any process read */
	pg_atomic_uint64 heat_last_sweep;	/* heat tick of the last sweep (heat.c) */

	int			pool_tranche;

	pg_atomic_uint64 next_lsn;	/* the global modification counter */
	pg_atomic_uint64 modifications;	/* for idle detection */
	pg_atomic_uint32 shutting_down;	/* workers doing their final flush: bit 0
									 * the pool manager, bit 1 + k cleaner k */

	/* page cleaners publish their latches here (pgprocno, -1 if none) */
	pg_atomic_uint32 cleaner_procno[BP_MAX_CLEANERS];
	pg_atomic_uint32 free_wanted;	/* a foreground search found no free block */

	/* online resize: resize_lock (taken before any other lock) */
	LWLockPadded resize_lock;
	bool		resize_pending;
	int64		resize_next_id;
	BpResizeStatus resize_request;	/* valid while resize_pending */
	BpResizeStatus resize_current;	/* the running or last resize */
	BpResizeStatus resize_history[BP_RESIZE_HISTORY];
	int			resize_history_n;
	ConditionVariable resize_cv;
	pg_atomic_uint32 manager_procno;
	int64		config_size_applied;	/* bufpool_ext.size last acted on */

	/* tablespace registry: space_lock; see space.c */
	LWLockPadded space_lock;
	uint32		next_space_id;
	BpSpaceEntry spaces[BP_MAX_SPACES];

	/*
	 * Compression counters (pagezip.c, space.c), as INNODB_CMP: per
	 * key_block_size (1 kB .. 32 kB) and per registry slot (zeroed when a
	 * space is created in it).
	 */
	BpZipStats	zip_by_size[BP_ZIP_SIZES];
	BpZipStats	zip_by_space[BP_MAX_SPACES];
	/* a page of the space was seen in its overflow file since start (space.c) */
	pg_atomic_uint32 zip_overflow_seen[BP_MAX_SPACES];

	/* warm restart: warm_mutex; see warm.c */
	slock_t		warm_mutex;
	int64		warm_next_id;
	BpWarmOp	warm_ops[BP_WARM_HISTORY];	/* ring, newest at warm_next_id - 1 */
	bool		warm_dumping;	/* a dump is being written */
	bool		warm_loading;	/* a load worker was started and has not ended */
	bool		warm_load_cut;	/* a load was stopped by SIGTERM (the shutdown?) */
	pg_atomic_uint32 warm_abort;	/* load_abort() asks the loader to stop */
	ConditionVariable warm_cv;	/* an operation ended */

	/* memory governor: mem_level read without a lock; the rest gov_mutex */
	pg_atomic_uint32 mem_level; /* BpMemLevel; normal when the governor is off */
	slock_t		gov_mutex;
	BpGovStatus gov;
	int64		gov_log_next;
	BpGovLogRow gov_log[BP_GOV_LOG];

	/* suspected leaks: written by the manager only, read with the counter */
	pg_atomic_uint32 leak_changecount;	/* odd while the manager writes */
	int			n_leaks;
	TimestampTz leaks_checked_at;	/* 0: no check yet */
	uint64		leak_rows[BP_LEAK_MAX];	/* BpShmAddr of each row's object */

	/* per-backend counters: n_procs x n_instances BpCounters */
	int			n_procs;
	Size		counters_offset;	/* from the start of BpShared */
	/* hazard pins: n_procs x BP_HAZARD_SLOTS, one cache line per process */
	Size		hazards_offset;

	/*
	 * Waits for a block's I/O or content lock sleep on one of these,
	 * chosen by bp_block_cv; a wake-up meant for another block of the
	 * same partition only makes the sleeper look again.
	 */
	ConditionVariable block_cvs[BP_BLOCK_CV_PARTITIONS];

	BpInstance	instances[FLEXIBLE_ARRAY_MEMBER];
} BpShared;

/*
 * What one process maps of the pool.
 */
typedef struct BpLocalChunk
{
	dsm_handle	handle;			/* of the segment mapped here */
	dsm_segment *seg;			/* a DSM chunk's segment, or NULL */
	char	   *huge_addr;		/* a hugetlbfs chunk's mapping, or NULL */
	BpBlockDesc *descs;
	char	   *frames;
} BpLocalChunk;

typedef struct BpLocalInstance
{
	BpInstance *inst;			/* process-local pointer to main shared memory */
	BpCounters *counters;		/* this process's counters for the instance */
	int			n_chunks;
	uint32		hash_mask;
	dsm_handle	hash_handle;	/* of the hash this process maps */
	uint32		heat_left;		/* accesses before the next heat sample (heat.h) */
	uint32		heat_gap;		/* accesses from the last sample to the next one */
	dsm_segment *hash_seg;
	BpBlockNo  *hash;
	uint64	   *zhash;			/* the zip hash (zip.c) */
	uint32		zmask;			/* its buckets - 1 */
	BpLocalChunk chunks[BP_MAX_CHUNKS];
} BpLocalInstance;

extern BpShared *BpShmem;
extern BpLocalInstance *BpLocal;	/* array of n_instances, NULL until attached */
extern uint32 BpLocalGeneration;

/* shmem.c */
extern void bp_shmem_init(void);
extern void bp_shmem_startup(void);
extern Size bp_shmem_size(void);
extern BpCounters *bp_counters_for(int procno, int instance);
extern void bp_counters_sum(int instance, BpCounters *out);
extern void bp_counters_publish(void);
extern void bp_pool_visit_blocks(void (*visit) (void *arg, int instance, BpBlockNo b,
											  BpBlockDesc *d), void *arg);
extern void bp_counters_sample(void);
extern bool bp_mem_emergency_refuses(Size size);
extern void bp_mem_emergency_error(Size size, const char *kind, const char *name);

#define BP_RATE_SAMPLE_MS	10000	/* the pool manager's counter sample period */

/*
 * This process's counters for an instance, found once at attach
 * (bp_local_alloc): the hit path counts every get, and this keeps that
 * to a few instructions (scripts/bench_observe.sh).  The caller has
 * attached (it works on the instance's blocks).
 */
static inline BpCounters *
bp_my_counters(int instance)
{
	Assert(BpLocal != NULL);
	return BpLocal[instance].counters;
}
extern void bp_ensure_attached(void);
extern void bp_local_alloc(void);
extern void bp_check_preloaded(void);
extern void bp_attach_instance_segments(int instance);
extern uint32 bp_now_ms(void);
extern pg_atomic_uint64 *bp_hazards_of(int procno);
extern bool bp_hazard_held(int instance, BpBlockNo b);
extern int	bp_hazard_count(int instance, BpBlockNo b);
typedef enum BpInvalResult
{
	BP_INVAL_DONE,				/* VALID is gone and the block is ours */
	BP_INVAL_BUSY,				/* pinned by others or a forbidden state bit */
	BP_INVAL_HAZARD				/* a hazard slot holds it */
} BpInvalResult;

extern BpInvalResult bp_block_try_invalidate(int instance, BpBlockNo b, uint32 forbid,
											 uint32 *final);

/* chunk.c */
extern Size bp_chunk_segment_size(uint32 *n_blocks_out);
extern void bp_chunk_build_all(void);
extern void bp_chunk_create(int instance, int chunk_no);
extern void bp_chunk_check_huge_room(int n_chunks);
extern void bp_chunk_release(int instance, int chunk_no);
extern uint32 bp_hash_buckets_for(uint32 n_blocks);
extern dsm_segment *bp_hash_segment_create(int instance, uint32 buckets);
extern void bp_chunk_count_memory(BpChunkHeader *hdr, bool alloc);
extern void bp_hash_count_memory(uint32 buckets, bool alloc);
extern bool bp_chunk_map(int instance, int chunk_no);
extern void bp_chunk_unmap(BpLocalChunk *lc);
extern BpChunkHeader *bp_chunk_header(int instance, int chunk_no);
extern const char *bp_chunk_numa_nodes(int instance, int chunk_no, char *buf, size_t len);

extern void bp_local_remap(BpLocalInstance *li, uint32 chunk);

/*
 * A resize adds chunks, and a shrink followed by a grow can put a new
 * segment in a chunk slot this process still maps: check that the slot's
 * mapping is the current segment, and remap if not.  A block a process
 * may use (pinned, or reached on a list under its lock) cannot be
 * withdrawn while it is used, so the check is enough.  The caller may
 * hold LWLocks; dsm_attach takes none of ours.
 */
static inline BpLocalChunk *
bp_local_chunk(BpLocalInstance *li, BpBlockNo b)
{
	uint32		c = BP_BLOCK_CHUNK(b);

	if (unlikely(c >= (uint32) li->n_chunks ||
				 li->chunks[c].handle != li->inst->chunk_handles[c]))
		bp_local_remap(li, c);
	return &li->chunks[c];
}

static inline BpBlockDesc *
bp_desc(BpLocalInstance *li, BpBlockNo b)
{
	return &bp_local_chunk(li, b)->descs[BP_BLOCK_IDX(b)];
}

static inline char *
bp_frame(BpLocalInstance *li, BpBlockNo b)
{
	return bp_local_chunk(li, b)->frames + (Size) BP_BLOCK_IDX(b) * BpPageSize;
}

/* The LSN of a block's newest modification, from its page header. */
static inline uint64
bp_block_newest_lsn(BpLocalInstance *li, BpBlockNo b)
{
	return ((BpPageHeader *) bp_frame(li, b))->lsn;
}

/* The condition variable a block's I/O and content lock waiters use. */
static inline ConditionVariable *
bp_block_cv(int instance, BpBlockNo b)
{
	uint32		h = (b ^ ((uint32) instance << 26)) * 0x9E3779B1U;

	return &BpShmem->block_cvs[h >> (32 - BP_BLOCK_CV_BITS)];
}

static inline uint64
bp_page_hash(uint32 space_id, uint32 page_no)
{
	uint64		k = ((uint64) space_id << 32) | page_no;

	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

static inline int
bp_instance_of(uint64 hash)
{
	return (int) ((hash >> 40) % (uint64) BpShmem->n_instances);
}

/* Sequential block id for the views: chunk * blocks_per_chunk + index. */
/* A BpPage (bufpool.h) is (instance << 32) | block. */
static inline BpPage
bp_make_page(int instance, BpBlockNo b)
{
	return ((uint64) instance << 32) | b;
}

static inline int
bp_page_instance(BpPage p)
{
	return (int) (p >> 32);
}

static inline BpBlockNo
bp_page_block(BpPage p)
{
	return (BpBlockNo) (p & 0xFFFFFFFF);
}

static inline BpBlockDesc *
bp_page_desc(BpPage p)
{
	return bp_desc(&BpLocal[bp_page_instance(p)], bp_page_block(p));
}

static inline int64
bp_block_seq(BpInstance *inst, BpBlockNo b)
{
	return (int64) BP_BLOCK_CHUNK(b) * inst->blocks_per_chunk + BP_BLOCK_IDX(b);
}

#endif							/* BUFPOOL_EXT_POOL_H */
