/*-------------------------------------------------------------------------
 *
 * mtr.c
 *	  Mini-transactions: a group of page changes logged as one unit, which
 *	  recovery applies whole or not at all (the public contract is in
 *	  bufpool.h).
 *
 * As InnoDB's mtr_t: pages are fetched and locked into the
 * mini-transaction and stay so until it commits or aborts.  A page is
 * changed in place through bp_page_data(), which under an exclusive lock
 * first copies the frame into a before-image (buf.c).  The commit
 * compares each exclusively held page with its image and logs the changed
 * byte ranges as BP_REDO_BYTES records: a run of at least BP_MTR_GAP_MIN
 * unchanged bytes splits a range, since a record header costs less than
 * the bytes it skips (an insert into a slotted page changes its slot array
 * near the top and its item near the bottom: one range would log the free
 * space between), at most BP_MTR_MAX_RANGES per page, so a page's records
 * never take more log than one record of its whole changed span.  The
 * records of all pages go into
 * the log as one group (bp_mark_dirty_group, bp_redo_append_group: every
 * record but the last flagged BP_REDO_F_MORE), and every page takes the
 * group's end LSN, so none of them reaches its data file before the whole
 * group is durable.  Recovery applies a group when it has read its last
 * record; a log that ends inside a group (a crash in the middle of the
 * commit's write) leaves the group out.
 *
 * Abort: bp_mtr_abort, or an ERROR before the commit's end, puts each
 * page's image back into its frame before the lock goes (buf.c does it
 * for every exclusive lock dropped with an image), so no process ever
 * sees a change that has no redo record, and no page keeps one.
 *
 * Room in the log: bp_mtr_start makes room, as bp_log_free_check does,
 * and reserves it (bp_redo_reserve): BP_MTR_MAX_PAGES full-page records,
 * which bound the largest group (the ranges of a page never take more
 * than one record of its whole span).  Other processes' room checks count
 * the reservation as used, so the commit always finds its room; the
 * commit's append, the abort, or the transaction's abort gives it back.
 *
 * Lock order: the caller's (bufpool.h); commit and abort release the
 * pages in the reverse order of their fetch.
 *
 * IDENTIFICATION
 *	  src/pool/mtr.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/shared/shmem.h"

#define BP_MTR_MAGIC		0x6D747221	/* "mtr!" */

/* an unchanged run this long splits a range (a record header and its padding) */
#define BP_MTR_GAP_MIN		((int) TYPEALIGN(8, BP_REDO_HDR) + 8)
#define BP_MTR_MAX_RANGES	8

static void
bp_mtr_check(const BpMtr *mtr)
{
	if (mtr == NULL || mtr->magic != BP_MTR_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bufpool mini-transaction is not active"),
				 errhint("Call bp_mtr_start() first; a committed or aborted mini-transaction must be started again.")));
}

void
bp_mtr_start(BpMtr *mtr)
{
	bp_check_preloaded();
	memset(mtr, 0, sizeof(*mtr));
	/* room for the largest group on top of every process's margin */
	bp_log_free_check_for((uint64) BP_MTR_MAX_PAGES * TYPEALIGN(8, BP_REDO_HDR + BpPageSize));
	mtr->magic = BP_MTR_MAGIC;
}

/* Remember page p of the mini-transaction, or raise an ERROR. */
static void
bp_mtr_check_room(BpMtr *mtr, uint32 space_id, uint32 page_no)
{
	int			i;

	bp_mtr_check(mtr);
	if (mtr->n_pages >= BP_MTR_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a bufpool mini-transaction holds at most %d pages", BP_MTR_MAX_PAGES),
				 errdetail("Page %u of space %u would be the %dth.", page_no, space_id,
						   BP_MTR_MAX_PAGES + 1)));
	for (i = 0; i < mtr->n_pages; i++)
		if (mtr->space_ids[i] == space_id && mtr->page_nos[i] == page_no)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("page %u of space %u is already in this mini-transaction",
							page_no, space_id)));
}

static void
bp_mtr_remember(BpMtr *mtr, BpPage p, uint32 space_id, uint32 page_no, BpLockMode mode)
{
	int			k = mtr->n_pages++;

	mtr->pages[k] = p;
	mtr->space_ids[k] = space_id;
	mtr->page_nos[k] = page_no;
	mtr->modes[k] = (int8) mode;
}

BpPage
bp_mtr_fetch(BpMtr *mtr, uint32 space_id, uint32 page_no, BpLockMode mode)
{
	BpPage		p;

	bp_mtr_check_room(mtr, space_id, page_no);
	p = bp_page_fetch(space_id, page_no, NULL);
	bp_page_lock(p, mode);
	bp_mtr_remember(mtr, p, space_id, page_no, mode);
	return p;
}

BpPage
bp_mtr_fetch_conditional(BpMtr *mtr, uint32 space_id, uint32 page_no, BpLockMode mode)
{
	BpPage		p;

	bp_mtr_check_room(mtr, space_id, page_no);
	p = bp_page_fetch(space_id, page_no, NULL);
	if (!bp_page_lock_conditional(p, mode))
	{
		bp_page_release(p);
		return BP_INVALID_PAGE;
	}
	bp_mtr_remember(mtr, p, space_id, page_no, mode);
	return p;
}

BpPage
bp_mtr_fetch_new(BpMtr *mtr, uint32 space_id, uint32 page_no)
{
	BpPage		p;

	bp_mtr_check_room(mtr, space_id, page_no);
	p = bp_page_fetch_new(space_id, page_no);
	bp_mtr_remember(mtr, p, space_id, page_no, BP_LOCK_EXCLUSIVE);
	return p;
}

/* Unlock and unpin every page, newest first. */
static void
bp_mtr_release(BpMtr *mtr)
{
	while (mtr->n_pages > 0)
		bp_page_release(mtr->pages[--mtr->n_pages]);
	mtr->magic = 0;
}

/* the length of the run of equal bytes of a and b from i, stopping at end */
static inline int
bp_mtr_equal_run(const char *a, const char *b, int i, int end)
{
	int			j = i;

	while (j + 8 <= end && memcmp(a + j, b + j, 8) == 0)
		j += 8;
	while (j < end && a[j] == b[j])
		j++;
	return j - i;
}

/*
 * The changed ranges of frame against image: first and last are changed
 * bytes; fills starts[]/lens[] (at most BP_MTR_MAX_RANGES, the last one
 * taking the rest) and returns how many.
 */
static int
bp_mtr_ranges(const char *frame, const char *image, int first, int last,
			  int *starts, int *lens)
{
	int			n = 0;
	int			s = first;
	int			i = first;

	while (i <= last)
	{
		int			gap;

		while (i <= last && frame[i] != image[i])
			i++;
		if (i > last)
			break;
		gap = bp_mtr_equal_run(frame, image, i, last);
		if (gap >= BP_MTR_GAP_MIN && n < BP_MTR_MAX_RANGES - 1)
		{
			starts[n] = s;
			lens[n] = i - s;
			n++;
			s = i + gap;
		}
		i += gap;
	}
	starts[n] = s;
	lens[n] = last - s + 1;
	return n + 1;
}

uint64
bp_mtr_commit(BpMtr *mtr)
{
	BpRedoPart	parts[BP_MTR_MAX_PAGES * BP_MTR_MAX_RANGES];
	int			instances[BP_MTR_MAX_PAGES];
	BpBlockNo	blocks[BP_MTR_MAX_PAGES];
	BpPage		changed[BP_MTR_MAX_PAGES];
	int			payload = BpPageSize - (int) BP_PAGE_HEADER_SIZE;
	int			n = 0;
	int			n_parts = 0;
	uint64		lsn = 0;
	int			i;

	bp_mtr_check(mtr);
	/* a test may hold the commit here, its pages locked */
	if (BP_FAULT_ARMED())
		(void) bp_fault_run("mtr-commit", NULL);
	for (i = 0; i < mtr->n_pages; i++)
	{
		const char *image;
		const char *frame;
		int			first;
		int			last;
		int			starts[BP_MTR_MAX_RANGES];
		int			lens[BP_MTR_MAX_RANGES];
		int			k;
		int			r;

		if (mtr->modes[i] != BP_LOCK_EXCLUSIVE ||
			(image = bp_page_image(mtr->pages[i])) == NULL)
			continue;
		frame = bp_page_data(mtr->pages[i]);
		image += BP_PAGE_HEADER_SIZE;
		if (bp_page_fetched_new(mtr->pages[i]))
		{
			/* a new page: logged whole, its file may hold anything */
			starts[0] = 0;
			lens[0] = payload;
			k = 1;
		}
		else
		{
			first = bp_mtr_equal_run(frame, image, 0, payload);
			if (first == payload)
				continue;		/* not changed */
			for (last = payload - 1; frame[last] == image[last]; last--)
				;
			k = bp_mtr_ranges(frame, image, first, last, starts, lens);
		}
		for (r = 0; r < k; r++)
		{
			BpRedoPart *part = &parts[n_parts++];

			part->type = lens[r] == payload ? BP_REDO_PAGE : BP_REDO_BYTES;
			part->space_id = mtr->space_ids[i];
			part->page_no = mtr->page_nos[i];
			part->offset = (uint32) starts[r];
			part->data = frame + starts[r];
			part->data_len = (uint32) lens[r];
		}
		instances[n] = bp_page_instance(mtr->pages[i]);
		blocks[n] = bp_page_block(mtr->pages[i]);
		changed[n] = mtr->pages[i];
		n++;
	}
	if (n > 0)
	{
		/* an ERROR here leaves the pages to the abort, which restores them */
		lsn = bp_mark_dirty_group(n, instances, blocks, n_parts, parts);
		for (i = 0; i < n; i++)
			bp_page_image_logged(changed[i]);
	}
	else
		bp_redo_release_reservation();	/* nothing to log */
	bp_mtr_release(mtr);
	return lsn;
}

void
bp_mtr_abort(BpMtr *mtr)
{
	int			i;

	bp_mtr_check(mtr);
	bp_redo_release_reservation();
	/* every page back as last logged, so the unlock finds nothing unlogged */
	for (i = 0; i < mtr->n_pages; i++)
		if (mtr->modes[i] == BP_LOCK_EXCLUSIVE)
			bp_page_image_restore(mtr->pages[i]);
	bp_mtr_release(mtr);
}
