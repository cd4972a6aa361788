/*-------------------------------------------------------------------------
 *
 * bufpool_test.c
 *	  The test module of bufpool_ext: its entry point, the helpers of its
 *	  SQL functions, and a change made against the redo contract.
 *
 * What lives in this module (schema bufpool_test, CREATE EXTENSION
 * bufpool_test after bufpool_ext):
 *	  faults.c		fault points: attach the module's callbacks to the
 *					library's points (bp_fault_attach), list, detach
 *	  bench.c		benchmark loops (make bench)
 *	  alloc_tests.c	arena and heap tests, the allocator benchmark
 *	  buddy_tests.c	buddy allocator tests and benchmark
 *	  this file		write_page_unchecked: a change made without
 *					bp_log_free_check(), as a C caller that breaks the
 *					redo contract would make it
 *
 * Loaded through shared_preload_libraries (after bufpool_ext), the module
 * also attaches at every start, crash-restarts included, the faults that
 * fault_attach(..., persist => true) saved (faults.c).
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/bufpool_test.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "bufpool_ext/bufpool.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/sql/sql.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_test.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(bpt_write_page_unchecked);

void
_PG_init(void)
{
	if (process_shared_preload_libraries_in_progress)
		bpt_faults_preload();
}

/* ERROR unless bufpool_ext's shared memory is there. */
void
bpt_check_loaded(void)
{
	bp_check_preloaded();
}

/*
 * bufpool_test.write_page_unchecked(space_id int, page_no bigint,
 *		data bytea, offset int) returns bigint
 *
 * bufpool.write_page without bp_log_free_check() first: the change gets
 * no credit for the margin of the log, so it must be refused, before
 * anything changes, when only the margin is left (017_log_full).
 */
Datum
bpt_write_page_unchecked(PG_FUNCTION_ARGS)
{
	const char *fname = "write_page_unchecked";
	int32		space_id;
	int64		page_no;
	bytea	   *data;
	int32		offset;
	int			len;
	BpPage		p;
	uint64		lsn;

	bpt_require_superuser(fname);
	bpt_not_null(fcinfo, 0, fname, "space_id");
	bpt_not_null(fcinfo, 1, fname, "page_no");
	bpt_not_null(fcinfo, 2, fname, "data");
	bpt_not_null(fcinfo, 3, fname, "offset");
	space_id = PG_GETARG_INT32(0);
	page_no = PG_GETARG_INT64(1);
	data = PG_GETARG_BYTEA_PP(2);
	offset = PG_GETARG_INT32(3);
	len = VARSIZE_ANY_EXHDR(data);
	(void) bp_sql_space_arg(space_id);
	bp_space_check_page((uint32) space_id, page_no);
	if (offset < 0 || (int64) offset + len > bp_page_payload_size())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d bytes at offset %d do not fit in the page payload", len, offset),
				 errdetail("The payload of a page has %d bytes.", bp_page_payload_size())));

	p = bp_page_fetch((uint32) space_id, (uint32) page_no, NULL);
	bp_page_lock(p, BP_LOCK_EXCLUSIVE);
	lsn = bp_page_write(p, offset, VARDATA_ANY(data), len);
	bp_page_unlock(p);
	bp_page_release(p);
	bp_log_commit(lsn);
	PG_RETURN_INT64((int64) lsn);
}
