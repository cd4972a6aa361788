/*-------------------------------------------------------------------------
 *
 * bp_public_api.c
 *	  A one-file extension that uses bufpool_ext through its installed
 *	  public header only, as an extension author outside this repository
 *	  would.
 *
 * sql-tests/t/020_public_api.pl copies this file alone to a directory
 * outside the repository, builds it with PGXS (no -I of the source tree),
 * loads it and calls it.  It writes text to page 0 of a space through the
 * C API, following the redo contract (bp_log_free_check before, then
 * bp_log_commit), reads it back and returns "<API version> <text>".
 * Its _PG_init checks, with bp_api_require, that bufpool_ext was loaded
 * before it through shared_preload_libraries.
 *
 * IDENTIFICATION
 *	  test/external/bp_public_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "extension/bufpool_ext/bufpool.h"

#if BUFPOOL_EXT_VERSION_NUM < 10900
#error "this needs the C API of bufpool_ext 1.9 or later (bp_api_require)"
#endif

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(bp_public_api_roundtrip);

/* loaded before bufpool_ext, or without it: a clear ERROR, not a crash */
void
_PG_init(void)
{
	bp_api_require("bp_public_api");
}

Datum
bp_public_api_roundtrip(PG_FUNCTION_ARGS)
{
	int32		space_id = PG_GETARG_INT32(0);
	text	   *msg = PG_GETARG_TEXT_PP(1);
	int			len = VARSIZE_ANY_EXHDR(msg);
	BpPage		page;
	uint64		lsn;
	char	   *back;

	if (len > bp_page_payload_size())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d bytes do not fit in a page payload of %d bytes",
						len, bp_page_payload_size())));

	bp_log_free_check();
	page = bp_page_fetch((uint32) space_id, 0, NULL);
	bp_page_lock(page, BP_LOCK_EXCLUSIVE);
	lsn = bp_page_write(page, 0, VARDATA_ANY(msg), len);
	bp_page_unlock(page);
	bp_page_release(page);
	bp_log_commit(lsn);

	page = bp_page_fetch((uint32) space_id, 0, NULL);
	bp_page_lock(page, BP_LOCK_SHARE);
	back = pnstrdup(bp_page_data(page), len);
	bp_page_unlock(page);
	bp_page_release(page);

	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s %s", BUFPOOL_EXT_VERSION, back)));
}

/*
 * Shared objects through the size-class pools of the C API: finds or
 * creates the set "public_api", allocates n objects of 1 .. 300 bytes,
 * fills each through bp_shm_ptr, checks them all, frees them, then frees
 * one twice on purpose and returns "<n> objects ok; double free: <the
 * error's message>".
 */
PG_FUNCTION_INFO_V1(bp_public_api_objects);

Datum
bp_public_api_objects(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	int			set = bp_size_classes_find("public_api");
	BpShmAddr  *addrs;
	int			i;
	int			bad = 0;
	char	   *why = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	BpShmAddr	a;

	if (n < 1 || n > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n %d is out of range (1 .. 100000)", n)));
	if (set < 0)
		set = bp_size_classes_create("public_api");
	addrs = palloc(sizeof(BpShmAddr) * n);
	for (i = 0; i < n; i++)
	{
		addrs[i] = bp_shm_alloc(set, i % 300 + 1);
		memset(bp_shm_ptr(addrs[i]), i & 0xFF, i % 300 + 1);
	}
	for (i = 0; i < n; i++)
	{
		const unsigned char *p = bp_shm_ptr(addrs[i]);
		int			j;

		for (j = 0; j < i % 300 + 1; j++)
			if (p[j] != (i & 0xFF))
			{
				bad++;
				break;
			}
		bp_shm_free(set, addrs[i], i % 300 + 1);
	}
	a = bp_shm_alloc(set, 40);
	bp_shm_free(set, a, 40);
	PG_TRY();
	{
		bp_shm_free(set, a, 40);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		why = edata->message;
	}
	PG_END_TRY();
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%d objects %s; double free: %s", n,
											  bad == 0 ? "ok" : "overwritten",
											  why ? "refused" : "not seen")));
}
