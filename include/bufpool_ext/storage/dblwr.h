/*-------------------------------------------------------------------------
 *
 * dblwr.h
 *	  The doublewrite buffer (dblwr.c): torn-page protection of page
 *	  writes and their repair at pool start.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/storage/dblwr.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_DBLWR_H
#define BUFPOOL_EXT_DBLWR_H

#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "bufpool_ext/shared/shmem.h"

#define BP_DBLWR_FILE			"bufpool_ext/doublewrite"
#define BP_DBLWR_CLEANER_REGIONS 2	/* batch regions per page cleaner */
#define BP_DBLWR_SHARED_REGIONS	2	/* batch regions for non-cleaners */
#define BP_DBLWR_SINGLE_SLOTS	32	/* one-page regions */
#define BP_DBLWR_MAX_REGIONS	(BP_MAX_CLEANERS * BP_DBLWR_CLEANER_REGIONS + \
								 BP_DBLWR_SHARED_REGIONS + BP_DBLWR_SINGLE_SLOTS)

/* region owner values (BpDblwrShared.owner) */
#define BP_DBLWR_FREE			0
#define BP_DBLWR_RETIRED		(-1)	/* unusable until the next pool build */

/*
 * Shared state of the doublewrite buffer, in main shared memory.  The
 * layout fields are frozen at shared memory set-up; generation and the
 * recovery figures are written by the pool manager before the pool is
 * READY and only read afterwards.
 */
typedef struct BpDblwrShared
{
	/* layout, frozen at startup */
	int			page_size;
	int			region_pages;	/* pages per batch region */
	int			n_cleaner_regions;	/* regions 0 .. n-1: cleaner k owns 2k, 2k+1 */
	int			n_batch_regions;	/* cleaners' + BP_DBLWR_SHARED_REGIONS */
	int			n_single;		/* one-page regions after the batch ones */

	uint64		generation;		/* of the formatted file; slots carry it */

	slock_t		mutex;			/* protects owner[] */
	int			owner[BP_DBLWR_MAX_REGIONS];	/* pgprocno + 1, FREE or RETIRED */
	ConditionVariable free_cv;	/* a region was released */

	/* counters (atomics: bumped once per batch, not per page access) */
	pg_atomic_uint64 pages_written;	/* pages written to the doublewrite file */
	pg_atomic_uint64 writes;	/* doublewrite writes (batches) */
	pg_atomic_uint64 single_page_writes;	/* of which through a one-page region */
	pg_atomic_uint64 dblwr_syncs;	/* fdatasyncs of the doublewrite file */
	pg_atomic_uint64 data_syncs;	/* data-file syncs that freed deferred regions */
	pg_atomic_uint64 region_waits;	/* claims that had to wait for a region */

	/* the last recovery (pool build) */
	TimestampTz recovery_at;
	int64		recovery_slots_valid;
	int64		recovery_pages_checked;
	int64		recovery_pages_restored;
} BpDblwrShared;

extern BpDblwrShared *BpDblwr;

extern Size bp_dblwr_shmem_size(void);
extern void bp_dblwr_shmem_init(void);

extern int64 bp_dblwr_recover(void);
extern void bp_dblwr_set_cleaner(int number);

extern char *bp_dblwr_buffer(bool batch, int *capacity);
extern int	bp_dblwr_claim(int n_pages);
extern void bp_dblwr_write(int region, char *pages, int n_pages);
extern void bp_dblwr_release(int region);
extern void bp_dblwr_retire(int region);
extern void bp_dblwr_defer(int region);
extern void bp_dblwr_sync_deferred(void);
extern void bp_dblwr_abandon_deferred(void);
extern int64 bp_dblwr_file_bytes(void);
extern int	bp_dblwr_retired_count(void);

#endif							/* BUFPOOL_EXT_DBLWR_H */
