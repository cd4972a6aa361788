/*-------------------------------------------------------------------------
 *
 * dblwr.c
 *	  The doublewrite buffer: torn-page protection, as InnoDB's
 *	  buf0dblwr.cc.
 *
 * A page write that the operating system or the disk cuts short (power
 * loss in the middle of a 16 kB write that the disk does in 4 kB pieces)
 * leaves a "torn" page: part new, part old, its checksum wrong, and no
 * intact copy anywhere.  With bufpool_ext.doublewrite on, every page is
 * first written, in a batch, to $PGDATA/bufpool_ext/doublewrite and that
 * file is fdatasynced; only then are the pages written in place, and the
 * data files are fsynced before the doublewrite slots may be used again
 * (not necessarily at once: see "Deferred data-file sync" below).
 * So at any moment, a page that may be torn in place has an intact copy
 * in the doublewrite file.  At every pool build (after a crash too) the
 * pool manager calls bp_dblwr_recover, before the pool is READY and
 * before redo recovery: every valid copy whose page in place fails its
 * checksum is written back in place and fsynced.
 *
 * File layout.  A 4 kB file header (magic, layout, generation, CRC-32C),
 * then regions.  A region is a header area (one 64-byte slot header per
 * slot, rounded up to 4 kB) followed by its slots' pages, so a batch of
 * n pages is one contiguous write of the header area and n pages.  Each
 * slot header carries space_id, page_no, the page LSN, the generation,
 * the region and slot number and a CRC-32C over the slot header and the
 * page's checksum; the page's checksum is the CRC-32C of the page.
 * Recovery takes a slot only if all of them check.  The regions:
 *
 *	  0 .. 2*page_cleaners-1	two batch regions per page cleaner (2k
 *							and 2k+1 for cleaner k), of
 *							doublewrite_batch_pages slots, used only by
 *							that cleaner (flush-list and LRU-tail batches);
 *	  next 2				shared batch regions: batches of any other
 *							process (bufpool.flush(), the shutdown flush
 *							of the pool manager, a resize);
 *	  next 32				one-page regions (InnoDB's single-page slots):
 *							a page written alone (a session evicting a
 *							dirty page, bufpool.evict(), a resize).
 *
 * A batch larger than a region goes through regions in rounds of at
 * most region_pages pages: copy, doublewrite write + fdatasync, writes
 * in place, start of their writeback, next round.  With doublewrite off,
 * the same rounds skip the doublewrite file and leave the data-file fsync
 * to the caller, as before.
 *
 * Deferred data-file sync.  After a round's in-place writes, the region
 * is not released at once: it stays owned by the process, "deferred",
 * and the kernel is asked to start writing the pages out
 * (bp_space_start_writeback).  The data files are fsynced, and every
 * deferred region of the process released, by bp_dblwr_sync_deferred:
 * when the process needs a region and none is free (so a flusher with two
 * regions alternates between them, and the fsync of one round overlaps
 * the doublewrite write of the next), and at the end of every
 * bp_flush_blocks call.  So a region's copies are still never
 * overwritten before the in-place writes they protect are fsynced.  A
 * process never waits for a region while it holds deferred ones: it
 * syncs and releases them first (others may be waiting for them).  On an
 * error, bp_dblwr_abandon_deferred fsyncs without taking locks; if that
 * fails the deferred regions are retired like a region whose round
 * failed half way.  A process that exits holding deferred regions (FATAL
 * in a wait between rounds) retires them.
 *
 * Generations.  Formatting the file (at every pool build, after
 * recovery) bumps the generation in the file header; a slot counts only
 * if it carries the file's generation.  Copies of an earlier generation
 * were dealt with by the recovery that preceded the bump, so a stale copy
 * can never be written over a page that was changed (and torn) later
 * without doublewrite.
 *
 * Locking.  owner[] (which process holds which region) is protected by
 * the spinlock `mutex`, held for a scan of at most 162 ints.  A process
 * holds a region (not a lock) across its I/O: from the doublewrite write
 * to the data-file fsync, which may come after later rounds.  Waiters sleep on free_cv with interrupts held
 * off: a claimer already owns IO_WRITE of the pages it is about to write,
 * and a FATAL exit at that point would leave those flags set for good.
 * The waits are bounded because a region holder waits for nothing but its
 * own I/O and, briefly, space_lock in share mode (whose holders never
 * flush).  A process claims a region only after it became the writer
 * (IO_WRITE) of the pages it will put there, and it never waits for
 * another block's IO_WRITE while it holds a region, so the order is
 * IO_WRITE -> region, never the reverse (see the lock order in pool.h).
 * A page cleaner's own regions are only ever claimed by that cleaner,
 * and it syncs its deferred ones rather than wait, so it never waits.
 *
 * Errors.  A failed doublewrite write or fdatasync is an ERROR naming the
 * file; the pages stay dirty and are written again later, in full, so
 * the failed copy is never relied on (this is why a failed fdatasync of
 * the doublewrite file is a plain ERROR, not data_sync_elevel's PANIC).
 * An error after in-place writes began leaves the region retired: its
 * copies may be the only intact version of pages written in place but
 * not fsynced.  When a write finds every region it could use retired,
 * it repairs one (bp_dblwr_repair_region: every page of it that is torn
 * in place is written from its copy, then fsynced) and takes it; if that
 * fails too (the fault is still there) the region stays retired and the
 * write fails.  A pool build's recovery reads them all in any case.
 *
 * IDENTIFICATION
 *	  src/storage/dblwr.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "bufpool_ext/storage/dblwr.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/storage/space.h"

#define BP_DBLWR_MAGIC			0x42504457	/* "BPDW" */
#define BP_DBLWR_SLOT_MAGIC		0x42504453	/* "BPDS" */
#define BP_DBLWR_VERSION		1
#define BP_DBLWR_BLOCK			4096	/* file header; header areas round to it */

typedef struct BpDblwrFileHeader
{
	uint32		magic;
	uint32		version;
	uint32		page_size;
	uint32		region_pages;
	uint32		n_batch_regions;
	uint32		n_single;
	uint64		generation;
	pg_crc32c	crc;			/* of this struct with crc = 0 */
	uint32		pad;
} BpDblwrFileHeader;

typedef struct BpDblwrSlotHeader
{
	uint32		magic;
	uint32		page_size;
	uint64		generation;
	uint32		space_id;
	uint32		page_no;
	uint64		lsn;			/* the page's LSN */
	uint32		region;
	uint32		slot;
	pg_crc32c	crc;			/* this header with crc = 0, then the page */
	uint32		pad;
	uint8		reserved[16];
} BpDblwrSlotHeader;

StaticAssertDecl(sizeof(BpDblwrSlotHeader) == 64, "doublewrite slot header is 64 bytes");

/* A file layout: the running one (BpDblwr) or one read from a file. */
typedef struct BpDblwrLayout
{
	int			page_size;
	int			region_pages;
	int			n_batch_regions;
	int			n_single;
} BpDblwrLayout;

/* A valid copy found by recovery. */
typedef struct BpDblwrCopy
{
	uint32		space_id;
	uint32		page_no;
	uint64		lsn;
	off_t		page_offset;	/* of the copy in the doublewrite file */
} BpDblwrCopy;

BpDblwrShared *BpDblwr = NULL;

static int	my_cleaner = -1;	/* this process's cleaner number, if one */
static File dblwr_file = -1;

/* regions written in place but not yet fsynced (see "Deferred data-file sync") */
static int	deferred[BP_DBLWR_MAX_REGIONS];
static int	n_deferred = 0;
static bool deferred_sync_failed = false;	/* a sync of them raised an error */
static bool deferred_exit_hook = false;
static int	claimed = -1;		/* a region claimed and not yet deferred or given back */

static void bp_dblwr_exit(int code, Datum arg);
static void bp_dblwr_abandon_deferred_held(void);

/* write buffers: a header area, then the pages (see bp_dblwr_buffer) */
static char *batch_pages = NULL;
static char *single_pages = NULL;

/* ----------------------------------------------------------------------
 * Layout arithmetic
 * ---------------------------------------------------------------------- */

static Size
bp_dblwr_hdr_area(int n_slots)
{
	return TYPEALIGN(BP_DBLWR_BLOCK, (Size) n_slots * sizeof(BpDblwrSlotHeader));
}

static int
bp_dblwr_region_slots(const BpDblwrLayout *l, int region)
{
	return region < l->n_batch_regions ? l->region_pages : 1;
}

static Size
bp_dblwr_region_size(const BpDblwrLayout *l, int region)
{
	int			slots = bp_dblwr_region_slots(l, region);

	return bp_dblwr_hdr_area(slots) + (Size) slots * l->page_size;
}

static off_t
bp_dblwr_region_offset(const BpDblwrLayout *l, int region)
{
	off_t		off = BP_DBLWR_BLOCK;
	int			n_batch = Min(region, l->n_batch_regions);

	off += (off_t) n_batch * bp_dblwr_region_size(l, 0);
	if (region > l->n_batch_regions)
		off += (off_t) (region - l->n_batch_regions) *
			bp_dblwr_region_size(l, l->n_batch_regions);
	return off;
}

static off_t
bp_dblwr_file_size(const BpDblwrLayout *l)
{
	return bp_dblwr_region_offset(l, l->n_batch_regions + l->n_single);
}

static void
bp_dblwr_my_layout(BpDblwrLayout *l)
{
	l->page_size = BpDblwr->page_size;
	l->region_pages = BpDblwr->region_pages;
	l->n_batch_regions = BpDblwr->n_batch_regions;
	l->n_single = BpDblwr->n_single;
}

/*
 * A slot's CRC-32C covers its header and the page's own checksum field,
 * not the page again: the page checksum is a CRC-32C of the whole page
 * already (bp_page_checksum), and recovery checks both, so a copy counts
 * only if every byte of header and page is as written.  One CRC pass per
 * page instead of two (the second was 8% of a flush's CPU time).
 */
static pg_crc32c
bp_dblwr_slot_crc(const BpDblwrSlotHeader *sh, const char *page)
{
	BpDblwrSlotHeader tmp = *sh;
	pg_crc32c	crc;

	tmp.crc = 0;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &tmp, sizeof(tmp));
	COMP_CRC32C(crc, &((const BpPageHeader *) page)->checksum, sizeof(uint32));
	FIN_CRC32C(crc);
	return crc;
}

static pg_crc32c
bp_dblwr_file_header_crc(const BpDblwrFileHeader *fh)
{
	BpDblwrFileHeader tmp = *fh;
	pg_crc32c	crc;

	tmp.crc = 0;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &tmp, sizeof(tmp));
	FIN_CRC32C(crc);
	return crc;
}

/* ----------------------------------------------------------------------
 * Shared memory
 * ---------------------------------------------------------------------- */

Size
bp_dblwr_shmem_size(void)
{
	return MAXALIGN(sizeof(BpDblwrShared));
}

/* Called from the shared-memory startup hook, holding AddinShmemInitLock. */
void
bp_dblwr_shmem_init(void)
{
	bool		found;

	BpDblwr = ShmemInitStruct("bufpool_ext doublewrite", bp_dblwr_shmem_size(), &found);
	if (found)
		return;
	memset(BpDblwr, 0, sizeof(BpDblwrShared));
	BpDblwr->page_size = bp_page_size;
	BpDblwr->region_pages = bp_doublewrite_batch_pages;
	BpDblwr->n_cleaner_regions = bp_page_cleaners * BP_DBLWR_CLEANER_REGIONS;
	BpDblwr->n_batch_regions = BpDblwr->n_cleaner_regions + BP_DBLWR_SHARED_REGIONS;
	BpDblwr->n_single = BP_DBLWR_SINGLE_SLOTS;
	SpinLockInit(&BpDblwr->mutex);
	ConditionVariableInit(&BpDblwr->free_cv);
	pg_atomic_init_u64(&BpDblwr->pages_written, 0);
	pg_atomic_init_u64(&BpDblwr->writes, 0);
	pg_atomic_init_u64(&BpDblwr->single_page_writes, 0);
	pg_atomic_init_u64(&BpDblwr->dblwr_syncs, 0);
	pg_atomic_init_u64(&BpDblwr->data_syncs, 0);
	pg_atomic_init_u64(&BpDblwr->region_waits, 0);
	bp_mem_count_startup("memory/bufpool/shmem", bp_dblwr_shmem_size());
}

/* Size of the doublewrite file of the running layout (bufpool.doublewrite). */
int64
bp_dblwr_file_bytes(void)
{
	BpDblwrLayout l;

	bp_dblwr_my_layout(&l);
	return (int64) bp_dblwr_file_size(&l);
}

/* Regions retired after write errors (bufpool.doublewrite). */
int
bp_dblwr_retired_count(void)
{
	int			n = 0;
	int			r;

	SpinLockAcquire(&BpDblwr->mutex);
	for (r = 0; r < BpDblwr->n_batch_regions + BpDblwr->n_single; r++)
		if (BpDblwr->owner[r] == BP_DBLWR_RETIRED)
			n++;
	SpinLockRelease(&BpDblwr->mutex);
	return n;
}

/* A page cleaner says which batch regions are its own. */
void
bp_dblwr_set_cleaner(int number)
{
	my_cleaner = number;
}

/* ----------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------- */

/*
 * The process's write buffer: returns where its pages go and, in
 * *capacity, how many fit.  Room for the largest header area of the
 * regions the buffer may be written to lies just before the pages.  A
 * page cleaner always gets the batch buffer (its region has a batch
 * header area); others get a one-page buffer unless batch is set.
 */
char *
bp_dblwr_buffer(bool batch, int *capacity)
{
	if (batch || my_cleaner >= 0)
	{
		if (batch_pages == NULL)
		{
			Size		hdr = bp_dblwr_hdr_area(BpDblwr->region_pages);
			Size		size = hdr + (Size) BpDblwr->region_pages * BpPageSize;
			char	   *raw = MemoryContextAllocHuge(TopMemoryContext, size + BP_DBLWR_BLOCK);

			batch_pages = (char *) TYPEALIGN(BP_DBLWR_BLOCK, raw) + hdr;
		}
		*capacity = BpDblwr->region_pages;
		return batch_pages;
	}
	if (single_pages == NULL)
	{
		/*
		 * A batch header area, not a one-page one: when every one-page
		 * region is retired, a page written alone goes to a shared batch
		 * region (bp_dblwr_claim).
		 */
		Size		hdr = bp_dblwr_hdr_area(BpDblwr->region_pages);
		char	   *raw = MemoryContextAlloc(TopMemoryContext, hdr + BpPageSize + BP_DBLWR_BLOCK);

		single_pages = (char *) TYPEALIGN(BP_DBLWR_BLOCK, raw) + hdr;
	}
	*capacity = 1;
	return single_pages;
}

static void bp_dblwr_pread(int fd, char *buf, Size len, off_t off, const char *path);

/*
 * Make a retired region usable again, once what it protects is safe: for
 * each valid copy in it (this run's generation), the page in place is
 * read, and if it fails its checks (a write that failed half way tore
 * it) the copy is written in place; then the data files are fsynced.  The
 * caller owns the region.  An error (the fault is still there) leaves it
 * to the caller to retire the region again.
 */
static void
bp_dblwr_repair_region(int region)
{
	BpDblwrLayout l;
	int			slots;
	Size		hdr;
	off_t		base;
	char	   *hdrbuf;
	char	   *copy;
	char	   *inplace;
	int			fd;
	int			i;
	int			restored = 0;

	bp_dblwr_my_layout(&l);
	slots = bp_dblwr_region_slots(&l, region);
	hdr = bp_dblwr_hdr_area(slots);
	base = bp_dblwr_region_offset(&l, region);
	hdrbuf = palloc(hdr);
	copy = palloc(l.page_size);
	inplace = palloc(l.page_size);
	fd = OpenTransientFile(BP_DBLWR_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open doublewrite file \"%s\": %m", BP_DBLWR_FILE)));
	bp_dblwr_pread(fd, hdrbuf, hdr, base, BP_DBLWR_FILE);
	for (i = 0; i < slots; i++)
	{
		BpDblwrSlotHeader *sh = (BpDblwrSlotHeader *) (hdrbuf + i * sizeof(BpDblwrSlotHeader));
		char		path[MAXPGPATH];
		int			sfd;
		BpSpaceEntry e;

		if (sh->magic != BP_DBLWR_SLOT_MAGIC || sh->generation != BpDblwr->generation ||
			sh->region != (uint32) region || sh->slot != (uint32) i)
			continue;
		bp_dblwr_pread(fd, copy, l.page_size, base + hdr + (off_t) i * l.page_size, BP_DBLWR_FILE);
		if (sh->crc != bp_dblwr_slot_crc(sh, copy) ||
			!bp_page_is_intact(copy, sh->space_id, sh->page_no) ||
			!bp_space_lookup(sh->space_id, &e))
			continue;
		if (e.key_block_size != 0)
		{
			/* a compressed space: its slot, read through the space */
			if (!bp_space_zip_page_ok(sh->space_id, sh->page_no))
			{
				(void) bp_space_write_prepared(sh->space_id, sh->page_no, copy, l.page_size);
				restored++;
			}
			continue;
		}
		bp_space_path(sh->space_id, path, sizeof(path));
		sfd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
		if (sfd < 0)
			continue;			/* dropped meanwhile */
		bp_dblwr_pread(sfd, inplace, l.page_size, (off_t) sh->page_no * l.page_size, path);
		CloseTransientFile(sfd);
		if (bp_page_is_new(inplace) || bp_page_is_intact(inplace, sh->space_id, sh->page_no))
			continue;
		(void) bp_space_write_prepared(sh->space_id, sh->page_no, copy, l.page_size);
		restored++;
	}
	CloseTransientFile(fd);
	/*
	 * Every space, not only those written here: a copy whose page in place
	 * reads intact may be protecting a write still in the kernel's cache
	 * only, and the region is about to be overwritten.
	 */
	bp_space_sync_pending();
	bp_space_sync_all();
	pfree(hdrbuf);
	pfree(copy);
	pfree(inplace);
	ereport(LOG,
			(errmsg("doublewrite region %d of \"%s\" is in use again", region, BP_DBLWR_FILE),
			 errdetail("%d torn page(s) restored from it.", restored)));
}

/* bp_dblwr_repair_region, retiring the region again if it fails */
static void
bp_dblwr_unretire(int region)
{
	PG_TRY();
	{
		bp_dblwr_repair_region(region);
	}
	PG_CATCH();
	{
		SpinLockAcquire(&BpDblwr->mutex);
		BpDblwr->owner[region] = BP_DBLWR_RETIRED;
		SpinLockRelease(&BpDblwr->mutex);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/*
 * Claim a region for n_pages pages (at most region_pages): a cleaner one
 * of its own two, another process a shared batch region, or a one-page
 * region for a single page; a range whose regions are all retired falls
 * back to the shared batch regions.  When all are busy, the process first
 * syncs and releases its deferred regions (bp_dblwr_sync_deferred) and
 * looks again; only a process holding none waits (interrupts held off).
 * Returns the region number; release it with bp_dblwr_release or
 * bp_dblwr_defer.
 */
int
bp_dblwr_claim(int n_pages)
{
	int			me = MyProc->pgprocno + 1;
	int			found = -1;
	bool		waited = false;
	int			shared_lo = BpDblwr->n_cleaner_regions;
	int			shared_hi = BpDblwr->n_batch_regions;

	Assert(n_pages >= 1 && n_pages <= BpDblwr->region_pages);
	HOLD_INTERRUPTS();
	for (;;)
	{
		int			ranges[2][2];
		int			n_ranges = 0;
		int			usable = 0;
		int			k;

		if (my_cleaner >= 0 &&
			(my_cleaner + 1) * BP_DBLWR_CLEANER_REGIONS <= BpDblwr->n_cleaner_regions)
		{
			ranges[n_ranges][0] = my_cleaner * BP_DBLWR_CLEANER_REGIONS;
			ranges[n_ranges++][1] = (my_cleaner + 1) * BP_DBLWR_CLEANER_REGIONS;
		}
		else if (n_pages == 1)
		{
			ranges[n_ranges][0] = BpDblwr->n_batch_regions;
			ranges[n_ranges++][1] = BpDblwr->n_batch_regions + BpDblwr->n_single;
		}
		ranges[n_ranges][0] = shared_lo;
		ranges[n_ranges++][1] = shared_hi;

		SpinLockAcquire(&BpDblwr->mutex);
		for (k = 0; k < n_ranges && found < 0; k++)
		{
			int			r;

			usable = 0;
			for (r = ranges[k][0]; r < ranges[k][1]; r++)
			{
				if (BpDblwr->owner[r] == BP_DBLWR_FREE)
				{
					BpDblwr->owner[r] = me;
					found = r;
					break;
				}
				if (BpDblwr->owner[r] != BP_DBLWR_RETIRED)
					usable++;
			}
			/* wait in the first range that has a usable region */
			if (usable > 0)
				break;
		}
		SpinLockRelease(&BpDblwr->mutex);
		if (found >= 0)
			break;
		if (n_deferred > 0)
		{
			/* never wait while others may wait for ours: free them, look again */
			bp_dblwr_sync_deferred();
			continue;
		}
		if (usable == 0)
		{
			int			retired = -1;

			/* every region is retired: try to make one usable again */
			SpinLockAcquire(&BpDblwr->mutex);
			for (k = 0; k < n_ranges && retired < 0; k++)
			{
				int			r;

				for (r = ranges[k][0]; r < ranges[k][1]; r++)
					if (BpDblwr->owner[r] == BP_DBLWR_RETIRED)
					{
						BpDblwr->owner[r] = me;
						retired = r;
						break;
					}
			}
			SpinLockRelease(&BpDblwr->mutex);
			if (retired >= 0)
			{
				/* an ERROR here ends the wait and the holdoff as any ERROR does */
				bp_dblwr_unretire(retired);
				found = retired;
				break;
			}
		}
		if (usable == 0)
		{
			if (waited)
				ConditionVariableCancelSleep();
			RESUME_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("no usable region in doublewrite file \"%s\"", BP_DBLWR_FILE),
					 errdetail("Every region this write could use was retired after a write error."),
					 errhint("The region is used again once the pages it protects can be written; until then, set bufpool_ext.doublewrite = off or fix the cause.")));
		}
		if (!waited)
		{
			waited = true;
			pg_atomic_fetch_add_u64(&BpDblwr->region_waits, 1);
		}
		ConditionVariableSleep(&BpDblwr->free_cv, PG_WAIT_EXTENSION);
	}
	if (waited)
		ConditionVariableCancelSleep();
	/* an exit before the region is given back or kept retires it */
	if (!deferred_exit_hook)
	{
		before_shmem_exit(bp_dblwr_exit, 0);
		deferred_exit_hook = true;
	}
	claimed = found;
	RESUME_INTERRUPTS();
	return found;
}

void
bp_dblwr_release(int region)
{
	SpinLockAcquire(&BpDblwr->mutex);
	Assert(BpDblwr->owner[region] == MyProc->pgprocno + 1);
	BpDblwr->owner[region] = BP_DBLWR_FREE;
	SpinLockRelease(&BpDblwr->mutex);
	if (claimed == region)
		claimed = -1;
	ConditionVariableBroadcast(&BpDblwr->free_cv);
}

/*
 * Keep a region out of use until the next pool build: an error came after
 * in-place writes began, and its copies may be all that protects them.
 */
void
bp_dblwr_retire(int region)
{
	SpinLockAcquire(&BpDblwr->mutex);
	BpDblwr->owner[region] = BP_DBLWR_RETIRED;
	SpinLockRelease(&BpDblwr->mutex);
	if (claimed == region)
		claimed = -1;
	ConditionVariableBroadcast(&BpDblwr->free_cv);
	ereport(WARNING,
			(errmsg("doublewrite region %d of \"%s\" is retired until the pages it protects are safe", region, BP_DBLWR_FILE),
			 errdetail("A page write failed after the region's pages were written to the doublewrite file.")));
}

/*
 * Process exit with a claimed or deferred region: its pages may be
 * written in place and not fsynced.
 */
static void
bp_dblwr_exit(int code, Datum arg)
{
	if (claimed >= 0)
		bp_dblwr_retire(claimed);
	while (n_deferred > 0)
		bp_dblwr_retire(deferred[--n_deferred]);
}

/*
 * The caller wrote the pages of its claimed region in place (and started
 * their writeback): keep the region, owned by this process, until
 * bp_dblwr_sync_deferred has fsynced the data files.
 */
void
bp_dblwr_defer(int region)
{
	Assert(BpDblwr->owner[region] == MyProc->pgprocno + 1);
	Assert(n_deferred < BP_DBLWR_MAX_REGIONS);
	Assert(deferred_exit_hook);	/* registered by the claim */
	deferred[n_deferred++] = region;
	if (claimed == region)
		claimed = -1;
}

/* The data files are fsynced: give back every region this process keeps. */
static void
bp_dblwr_release_deferred(void)
{
	int			i;

	pg_atomic_fetch_add_u64(&BpDblwr->data_syncs, 1);
	SpinLockAcquire(&BpDblwr->mutex);
	for (i = 0; i < n_deferred; i++)
	{
		Assert(BpDblwr->owner[deferred[i]] == MyProc->pgprocno + 1);
		BpDblwr->owner[deferred[i]] = BP_DBLWR_FREE;
	}
	SpinLockRelease(&BpDblwr->mutex);
	n_deferred = 0;
	ConditionVariableBroadcast(&BpDblwr->free_cv);
}

/*
 * fsync the data files this process wrote, then release its deferred
 * regions.  An fsync failure is an error at data_sync_elevel (PANIC
 * unless data_sync_retry); the regions stay deferred and the caller's
 * error cleanup (bp_dblwr_abandon_deferred) retires them.
 */
void
bp_dblwr_sync_deferred(void)
{
	if (n_deferred == 0)
		return;
	deferred_sync_failed = true;
	bp_space_sync_pending();
	deferred_sync_failed = false;
	bp_dblwr_release_deferred();
}

/*
 * Error cleanup (called in a PG_CATCH block): fsync the data files
 * without taking locks and release the deferred regions; if that is not
 * possible (a sync failed before, or fails now with data_sync_retry on),
 * retire them, since their copies may be all that protects pages written
 * in place.
 */
void
bp_dblwr_abandon_deferred(void)
{
	if (n_deferred == 0)
		return;
	/* a pending cancel must not cut this short (retire's WARNING checks) */
	HOLD_INTERRUPTS();
	bp_dblwr_abandon_deferred_held();
	RESUME_INTERRUPTS();
}

static void
bp_dblwr_abandon_deferred_held(void)
{
	if (!deferred_sync_failed && bp_space_sync_pending_noerror())
	{
		bp_dblwr_release_deferred();
		return;
	}
	deferred_sync_failed = false;
	while (n_deferred > 0)
		bp_dblwr_retire(deferred[--n_deferred]);
}

static File
bp_dblwr_open(void)
{
	if (dblwr_file < 0)
	{
		File		f = PathNameOpenFile(BP_DBLWR_FILE, O_RDWR | PG_BINARY);

		if (f < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open doublewrite file \"%s\": %m", BP_DBLWR_FILE)));
		dblwr_file = f;
	}
	return dblwr_file;
}

/*
 * Write n_pages prepared pages (header and checksum set), which lie in
 * this process's buffer at `pages`, into a claimed region, and fdatasync
 * the file.  ERROR naming the file on failure (the caller keeps the pages
 * dirty).
 */
void
bp_dblwr_write(int region, char *pages, int n_pages)
{
	BpDblwrLayout l;
	Size		hdr;
	char	   *start;
	Size		len;
	File		f;
	int			i;
	int			n;

	bp_dblwr_my_layout(&l);
	hdr = bp_dblwr_hdr_area(bp_dblwr_region_slots(&l, region));
	/* both buffers have room for any region's header area before them */
	if (n_pages < 1 || n_pages > bp_dblwr_region_slots(&l, region) ||
		(pages != batch_pages && pages != single_pages))
		elog(ERROR, "bufpool_ext: %d pages do not fit doublewrite region %d", n_pages, region);

	/* the whole header area: slots beyond n_pages become invalid */
	start = pages - hdr;
	memset(start, 0, hdr);
	for (i = 0; i < n_pages; i++)
	{
		BpDblwrSlotHeader *sh = (BpDblwrSlotHeader *) (start + i * sizeof(BpDblwrSlotHeader));
		const char *page = pages + (Size) i * l.page_size;
		const BpPageHeader *ph = (const BpPageHeader *) page;

		sh->magic = BP_DBLWR_SLOT_MAGIC;
		sh->page_size = l.page_size;
		sh->generation = BpDblwr->generation;
		sh->space_id = ph->space_id;
		sh->page_no = ph->page_no;
		sh->lsn = ph->lsn;
		sh->region = region;
		sh->slot = i;
		sh->crc = bp_dblwr_slot_crc(sh, page);
	}

	f = bp_dblwr_open();
	len = hdr + (Size) n_pages * l.page_size;
	errno = 0;
	n = FileWrite(f, start, len, bp_dblwr_region_offset(&l, region), WAIT_EVENT_DATA_FILE_WRITE);
	if (n != (int) len)
	{
		if (n >= 0)
			errno = ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write %d pages to doublewrite file \"%s\": %m",
						n_pages, BP_DBLWR_FILE),
				 errdetail("The pages stay dirty in the buffer pool and are written again later.")));
	}

	/*
	 * A plain ERROR, not data_sync_elevel's PANIC: nothing relies on these
	 * copies until this call returns, and the pages stay dirty, to be
	 * written again in full.
	 */
	pgstat_report_wait_start(WAIT_EVENT_DATA_FILE_SYNC);
	if (pg_fdatasync(FileGetRawDesc(f)) != 0)
	{
		pgstat_report_wait_end();
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync doublewrite file \"%s\": %m", BP_DBLWR_FILE),
				 errdetail("The pages stay dirty in the buffer pool and are written again later.")));
	}
	pgstat_report_wait_end();

	pg_atomic_fetch_add_u64(&BpDblwr->pages_written, n_pages);
	pg_atomic_fetch_add_u64(&BpDblwr->writes, 1);
	pg_atomic_fetch_add_u64(&BpDblwr->dblwr_syncs, 1);
	if (region >= l.n_batch_regions)
		pg_atomic_fetch_add_u64(&BpDblwr->single_page_writes, 1);
}

/* ----------------------------------------------------------------------
 * Recovery and formatting (pool manager, before the pool is READY)
 * ---------------------------------------------------------------------- */

static int
bp_dblwr_copy_cmp(const void *a, const void *b)
{
	const BpDblwrCopy *x = a;
	const BpDblwrCopy *y = b;

	if (x->space_id != y->space_id)
		return x->space_id < y->space_id ? -1 : 1;
	if (x->page_no != y->page_no)
		return x->page_no < y->page_no ? -1 : 1;
	/* newest copy first */
	if (x->lsn != y->lsn)
		return x->lsn > y->lsn ? -1 : 1;
	return 0;
}

static void
bp_dblwr_pread(int fd, char *buf, Size len, off_t off, const char *path)
{
	ssize_t		n = pg_pread(fd, buf, len, off);

	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	if ((Size) n < len)
		memset(buf + n, 0, len - n);
}

static void
bp_dblwr_pwrite(int fd, const char *buf, Size len, off_t off, const char *path)
{
	ssize_t		n;

	errno = 0;
	n = pg_pwrite(fd, buf, len, off);
	if (n != (ssize_t) len)
	{
		if (n >= 0)
			errno = ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", path)));
	}
}

/*
 * Collect the valid copies of the file open as fd, whose header fh has
 * been checked.  Returns them (palloc'd) and their number in *n_out.
 */
static BpDblwrCopy *
bp_dblwr_scan(int fd, const BpDblwrFileHeader *fh, int64 *n_out)
{
	BpDblwrLayout l;
	BpDblwrCopy *copies;
	int64		n = 0;
	int64		max_copies;
	char	   *hdrbuf;
	char	   *page;
	int			r;

	l.page_size = fh->page_size;
	l.region_pages = fh->region_pages;
	l.n_batch_regions = fh->n_batch_regions;
	l.n_single = fh->n_single;
	max_copies = (int64) l.n_batch_regions * l.region_pages + l.n_single;
	copies = palloc(sizeof(BpDblwrCopy) * Max(max_copies, 1));
	hdrbuf = palloc(bp_dblwr_hdr_area(l.region_pages));
	page = palloc(l.page_size);

	for (r = 0; r < l.n_batch_regions + l.n_single; r++)
	{
		int			slots = bp_dblwr_region_slots(&l, r);
		Size		hdr = bp_dblwr_hdr_area(slots);
		off_t		base = bp_dblwr_region_offset(&l, r);
		int			i;

		bp_dblwr_pread(fd, hdrbuf, hdr, base, BP_DBLWR_FILE);
		for (i = 0; i < slots; i++)
		{
			BpDblwrSlotHeader *sh = (BpDblwrSlotHeader *) (hdrbuf + i * sizeof(BpDblwrSlotHeader));
			off_t		page_off = base + hdr + (off_t) i * l.page_size;

			if (sh->magic != BP_DBLWR_SLOT_MAGIC || sh->generation != fh->generation ||
				sh->page_size != (uint32) l.page_size || sh->region != (uint32) r ||
				sh->slot != (uint32) i)
				continue;
			bp_dblwr_pread(fd, page, l.page_size, page_off, BP_DBLWR_FILE);
			if (sh->crc != bp_dblwr_slot_crc(sh, page) ||
				!bp_page_is_intact(page, sh->space_id, sh->page_no))
				continue;
			copies[n].space_id = sh->space_id;
			copies[n].page_no = sh->page_no;
			copies[n].lsn = sh->lsn;
			copies[n].page_offset = page_off;
			n++;
		}
	}
	pfree(hdrbuf);
	pfree(page);
	*n_out = n;
	return copies;
}

/*
 * Write the file header for the running layout with a new generation and
 * size the file.  fd is open read-write.
 */
static void
bp_dblwr_format(int fd, uint64 old_generation)
{
	BpDblwrLayout l;
	BpDblwrFileHeader *fh;
	char	   *block = palloc0(BP_DBLWR_BLOCK);
	uint64		gen = (uint64) GetCurrentTimestamp();

	bp_dblwr_my_layout(&l);
	/* after old_generation, and after any a lost header may have had */
	gen = Max(gen, old_generation + 1);
	fh = (BpDblwrFileHeader *) block;
	fh->magic = BP_DBLWR_MAGIC;
	fh->version = BP_DBLWR_VERSION;
	fh->page_size = l.page_size;
	fh->region_pages = l.region_pages;
	fh->n_batch_regions = l.n_batch_regions;
	fh->n_single = l.n_single;
	fh->generation = gen;
	fh->crc = bp_dblwr_file_header_crc(fh);
	if (ftruncate(fd, bp_dblwr_file_size(&l)) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not size doublewrite file \"%s\" to %lld bytes: %m",
						BP_DBLWR_FILE, (long long) bp_dblwr_file_size(&l))));
	bp_dblwr_pwrite(fd, block, BP_DBLWR_BLOCK, 0, BP_DBLWR_FILE);
	if (pg_fsync(fd) != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync doublewrite file \"%s\": %m", BP_DBLWR_FILE)));
	BpDblwr->generation = gen;
	pfree(block);
}

/* Close a space file recovery opened, fsyncing it first if it wrote to it. */
static void
bp_dblwr_close_space(int fd, bool dirty, const char *path)
{
	if (dirty && pg_fsync(fd) != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", path)));
	CloseTransientFile(fd);
}

/*
 * Repair torn pages from the doublewrite file, then format it for this
 * run.  Runs in the pool manager at every pool build, after the space
 * registry is loaded and before the chunks are built (so before the pool
 * is READY and before redo recovery).  For each page with valid copies,
 * the newest copy (by LSN) is written in place if the page there fails
 * its checks (checksum, space and page number, format version); a page
 * never written (all zeros) or intact is left alone.  Copies of dropped
 * spaces are ignored.  Returns the number of pages restored.
 */
int64
bp_dblwr_recover(void)
{
	int			fd;
	bool		created = false;
	BpDblwrFileHeader fh;
	bool		header_ok = false;
	BpDblwrCopy *copies = NULL;
	int64		n_copies = 0;
	int64		checked = 0;
	int64		restored = 0;
	int64		i;
	char	   *inplace = palloc(BpPageSize);
	char	   *copy = palloc(BpPageSize);
	int			space_fd = -1;
	uint32		space_fd_id = 0;
	bool		space_fd_dirty = false;
	char		space_path[MAXPGPATH];

	fd = OpenTransientFile(BP_DBLWR_FILE, O_RDWR | PG_BINARY);
	if (fd < 0 && errno == ENOENT)
	{
		fd = OpenTransientFilePerm(BP_DBLWR_FILE, O_RDWR | O_CREAT | O_EXCL | PG_BINARY,
								   S_IRUSR | S_IWUSR);
		created = true;
	}
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open doublewrite file \"%s\": %m", BP_DBLWR_FILE)));

	memset(&fh, 0, sizeof(fh));
	if (!created)
	{
		bp_dblwr_pread(fd, (char *) &fh, sizeof(fh), 0, BP_DBLWR_FILE);
		header_ok = fh.magic == BP_DBLWR_MAGIC && fh.version == BP_DBLWR_VERSION &&
			fh.crc == bp_dblwr_file_header_crc(&fh) &&
			fh.page_size >= 1024 && fh.page_size <= 65536 &&
			fh.region_pages >= 1 && fh.region_pages <= 4096 &&
			fh.n_batch_regions <= BP_MAX_CLEANERS * BP_DBLWR_CLEANER_REGIONS + BP_DBLWR_SHARED_REGIONS &&
			fh.n_single <= BP_DBLWR_SINGLE_SLOTS;
		if (!header_ok)
			ereport(WARNING,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("doublewrite file \"%s\" has no valid header; its contents are ignored",
							BP_DBLWR_FILE)));
		else if (fh.page_size != (uint32) BpPageSize)
		{
			/* the spaces were checked against the page size already */
			ereport(LOG,
					(errmsg("doublewrite file \"%s\" holds pages of %u bytes, not %d; its contents are ignored",
							BP_DBLWR_FILE, fh.page_size, BpPageSize)));
			header_ok = false;
		}
	}
	if (header_ok)
	{
		copies = bp_dblwr_scan(fd, &fh, &n_copies);
		qsort(copies, n_copies, sizeof(BpDblwrCopy), bp_dblwr_copy_cmp);
	}

	for (i = 0; i < n_copies; i++)
	{
		BpDblwrCopy *c = &copies[i];
		BpSpaceEntry e;

		/* only the newest copy of each page */
		if (i > 0 && copies[i - 1].space_id == c->space_id && copies[i - 1].page_no == c->page_no)
			continue;
		if (!bp_space_lookup(c->space_id, &e) || c->page_no >= e.size_pages)
			continue;			/* dropped space */
		if (e.key_block_size != 0)
		{
			/* a compressed space: its slot, read and written through the space */
			checked++;
			if (bp_space_zip_page_ok(c->space_id, c->page_no))
				continue;
			bp_dblwr_pread(fd, copy, BpPageSize, c->page_offset, BP_DBLWR_FILE);
			(void) bp_space_write_prepared(c->space_id, c->page_no, copy, BpPageSize);
			restored++;
			ereport(LOG,
					(errmsg("bufpool_ext: restored compressed page %u of bufpool space %u from the doublewrite file",
							c->page_no, c->space_id),
					 errdetail("The slot in place failed its checks; the copy has LSN %llu.",
							   (unsigned long long) c->lsn)));
			continue;
		}
		if (space_fd < 0 || space_fd_id != c->space_id)
		{
			if (space_fd >= 0)
				bp_dblwr_close_space(space_fd, space_fd_dirty, space_path);
			bp_space_path(c->space_id, space_path, sizeof(space_path));
			space_fd = OpenTransientFile(space_path, O_RDWR | PG_BINARY);
			if (space_fd < 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not open file \"%s\" of bufpool space %u: %m",
								space_path, c->space_id)));
			space_fd_id = c->space_id;
			space_fd_dirty = false;
		}
		checked++;
		bp_dblwr_pread(space_fd, inplace, BpPageSize, (off_t) c->page_no * BpPageSize, space_path);
		if (bp_page_is_new(inplace) || bp_page_is_intact(inplace, c->space_id, c->page_no))
			continue;
		bp_dblwr_pread(fd, copy, BpPageSize, c->page_offset, BP_DBLWR_FILE);
		bp_dblwr_pwrite(space_fd, copy, BpPageSize, (off_t) c->page_no * BpPageSize, space_path);
		space_fd_dirty = true;
		restored++;
		ereport(LOG,
				(errmsg("bufpool_ext: restored page %u of bufpool space %u from the doublewrite file",
						c->page_no, c->space_id),
				 errdetail("The page in place failed its checks; the copy has LSN %llu.",
						   (unsigned long long) c->lsn)));
	}
	if (space_fd >= 0)
		bp_dblwr_close_space(space_fd, space_fd_dirty, space_path);

	/*
	 * Every copy is dealt with: a new generation makes them stale.  A page
	 * that read intact above may be intact only in the kernel's cache (a
	 * crash of the server, not of the machine, keeps it there), so first
	 * fsync every space: after this the pages the copies protected are on
	 * disk and the copies are no longer needed.
	 */
	bp_space_sync_all();
	bp_dblwr_format(fd, header_ok ? fh.generation : 0);
	/*
	 * So every region is free again, retired ones too, and any a failed
	 * earlier build left claimed (nobody else writes before READY).
	 */
	SpinLockAcquire(&BpDblwr->mutex);
	for (i = 0; i < BP_DBLWR_MAX_REGIONS; i++)
		BpDblwr->owner[i] = BP_DBLWR_FREE;
	SpinLockRelease(&BpDblwr->mutex);
	CloseTransientFile(fd);
	if (created)
		fsync_fname(BP_DIR, true);

	BpDblwr->recovery_at = GetCurrentTimestamp();
	BpDblwr->recovery_slots_valid = n_copies;
	BpDblwr->recovery_pages_checked = checked;
	BpDblwr->recovery_pages_restored = restored;
	ereport(LOG,
			(errmsg("bufpool_ext doublewrite recovery: %lld valid copies, %lld pages checked, %lld restored",
					(long long) n_copies, (long long) checked, (long long) restored),
			 errdetail("Doublewrite file \"%s\"%s; now generation %llu.", BP_DBLWR_FILE,
					   created ? " created" : "", (unsigned long long) BpDblwr->generation)));
	if (copies)
		pfree(copies);
	pfree(inplace);
	pfree(copy);
	return restored;
}
