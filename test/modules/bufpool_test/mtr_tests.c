/*-------------------------------------------------------------------------
 *
 * mtr_tests.c
 *	  The public C API's mini-transactions, conditional locks and
 *	  before-images, driven from SQL for the regression test bp_mtr and
 *	  TAP 027_mtr_crash, through the installed header's functions only.
 *
 * bufpool_test.mtr(space, first_page, n_pages, action, fill) changes
 * n_pages pages from first_page: page k gets ten bytes of fill at payload
 * offset 10 * k, all in one mini-transaction, then by action:
 *
 *	  commit		commit, and make it durable (bp_log_commit); returns
 *					the LSN
 *	  full			the same, but every page's whole payload gets fill: a
 *					group of n_pages full-page records
 *	  abort			bp_mtr_abort; returns 0
 *	  error			raise an ERROR before the commit
 *	  duplicate		fetch first_page twice (ERROR)
 *	  not_started	commit a mini-transaction never started (ERROR)
 *	  conditional	after the changes, try first_page again through a
 *					second pin: returns 1 if the conditional lock was
 *					taken (it must not be), 0 if not; then commits
 *	  unlogged		no mini-transaction: lock first_page exclusively,
 *					change it, unlock without logging (ERROR)
 *	  leak			no mini-transaction: pin first_page and return without
 *					releasing it (the statement's resource owner does, with
 *					a WARNING)
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/mtr_tests.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "bufpool_ext/bufpool.h"

PG_FUNCTION_INFO_V1(bpt_mtr);
PG_FUNCTION_INFO_V1(bpt_space_api);

Datum
bpt_mtr(PG_FUNCTION_ARGS)
{
	uint32		space_id = (uint32) PG_GETARG_INT32(0);
	uint32		first = (uint32) PG_GETARG_INT32(1);
	int			n = PG_GETARG_INT32(2);
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(3));
	int			fill = PG_GETARG_INT32(4);
	BpMtr		mtr;
	uint64		lsn;
	int			k;

	if (strcmp(action, "unlogged") == 0)
	{
		BpPage		p;

		bp_log_free_check();
		p = bp_page_fetch(space_id, first, NULL);
		bp_page_lock(p, BP_LOCK_EXCLUSIVE);
		memset(bp_page_data(p), fill, 10);
		bp_page_unlock(p);		/* ERROR: the change is thrown away */
		bp_page_release(p);
		PG_RETURN_INT64(0);
	}
	if (strcmp(action, "leak") == 0)
	{
		(void) bp_page_fetch(space_id, first, NULL);
		PG_RETURN_INT64(0);
	}
	if (strcmp(action, "not_started") == 0)
	{
		memset(&mtr, 0, sizeof(mtr));
		PG_RETURN_INT64((int64) bp_mtr_commit(&mtr));
	}

	bp_mtr_start(&mtr);
	for (k = 0; k < n; k++)
	{
		BpPage		p = bp_mtr_fetch(&mtr, space_id, first + k, BP_LOCK_EXCLUSIVE);

		if (strcmp(action, "full") == 0)
			memset(bp_page_data(p), fill, bp_page_payload_size());
		else
			memset(bp_page_data(p) + 10 * k, fill, 10);
	}
	if (strcmp(action, "duplicate") == 0)
		(void) bp_mtr_fetch(&mtr, space_id, first, BP_LOCK_SHARE);
	if (strcmp(action, "error") == 0)
		elog(ERROR, "bufpool_test: error in the middle of a mini-transaction");
	if (strcmp(action, "abort") == 0)
	{
		bp_mtr_abort(&mtr);
		PG_RETURN_INT64(0);
	}
	if (strcmp(action, "conditional") == 0)
	{
		BpPage		again = bp_page_fetch(space_id, first, NULL);
		bool		taken = bp_page_lock_conditional(again, BP_LOCK_SHARE);

		if (taken)
			bp_page_unlock(again);
		bp_page_release(again);
		(void) bp_mtr_commit(&mtr);
		PG_RETURN_INT64(taken ? 1 : 0);
	}
	lsn = bp_mtr_commit(&mtr);
	bp_log_commit(lsn);
	PG_RETURN_INT64((int64) lsn);
}

/*
 * bufpool_test.space_api(name, size, extend_by, fill): the space calls of
 * the public API.  Creates space name with size pages, finds it by name,
 * extends it by extend_by pages, and writes the new last page from
 * scratch in a mini-transaction (bp_mtr_fetch_new: ten bytes of fill at
 * offset 0, the rest zero); returns "id|found|size after|lsn > 0".
 */
Datum
bpt_space_api(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		size = PG_GETARG_INT64(1);
	int64		extend_by = PG_GETARG_INT64(2);
	int			fill = PG_GETARG_INT32(3);
	uint32		id;
	uint32		found;
	int64		new_size;
	BpMtr		mtr;
	BpPage		p;
	uint64		lsn;

	id = bp_space_create(name, size);
	found = bp_space_find(name);
	new_size = bp_space_extend(id, extend_by);
	bp_mtr_start(&mtr);
	p = bp_mtr_fetch_new(&mtr, id, (uint32) (new_size - 1));
	memset(bp_page_data(p), fill, 10);
	lsn = bp_mtr_commit(&mtr);
	bp_log_commit(lsn);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%u|%s|%lld|%s", id,
											  found == id ? "found" : "not found",
											  (long long) bp_space_size(id),
											  lsn > 0 ? "logged" : "not logged")));
}
