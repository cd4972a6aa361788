/*-------------------------------------------------------------------------
 *
 * sql_page.c
 *	  SQL functions that change state or return page contents:
 *	  spaces, fetch/read/write/flush/evict.
 *
 * Every function here is superuser-only, checked in C whatever the
 * grants say, and validates every argument before touching the pool, so
 * a bad input is an ERROR with an errcode naming the value.
 *
 * IDENTIFICATION
 *	  src/sql/sql_page.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/pool/flush.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/storage/pagezip.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/sql/sql.h"

PG_FUNCTION_INFO_V1(bp_sql_create_space);
PG_FUNCTION_INFO_V1(bp_sql_drop_space);
PG_FUNCTION_INFO_V1(bp_sql_fetch_page);
PG_FUNCTION_INFO_V1(bp_sql_read_page);
PG_FUNCTION_INFO_V1(bp_sql_write_page);
PG_FUNCTION_INFO_V1(bp_sql_flush);
PG_FUNCTION_INFO_V1(bp_sql_evict);
PG_FUNCTION_INFO_V1(bp_sql_pin_page);

void
bp_sql_require_superuser_in(const char *schema, const char *fname)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to call %s.%s", schema, fname)));
}

void
bp_sql_not_null_in(FunctionCallInfo fcinfo, int argno, const char *schema,
				   const char *fname, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument %s of %s.%s must not be null", argname, schema, fname)));
}

/* Check a space_id argument; the space must exist. */
uint32
bp_sql_space_arg(int32 space_id)
{
	bp_ensure_attached();
	if (space_id <= 0 || !bp_space_lookup((uint32) space_id, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %d does not exist", space_id)));
	return (uint32) space_id;
}

/* Check a (space_id, page_no) pair; the page must be inside the space. */
static void
bp_sql_page_args(int32 space_id, int64 page_no)
{
	(void) bp_sql_space_arg(space_id);
	bp_space_check_page((uint32) space_id, page_no);
}

/*
 * The common start of the functions that take (space_id, page_no) as
 * their first two arguments: superuser, no NULLs, page inside the space.
 */
static void
bp_sql_page_call(FunctionCallInfo fcinfo, const char *fname, int32 *space_id, int64 *page_no)
{
	bp_sql_require_superuser(fname);
	bp_sql_not_null(fcinfo, 0, fname, "space_id");
	bp_sql_not_null(fcinfo, 1, fname, "page_no");
	*space_id = PG_GETARG_INT32(0);
	*page_no = PG_GETARG_INT64(1);
	bp_sql_page_args(*space_id, *page_no);
}

Datum
bp_sql_create_space(PG_FUNCTION_ARGS)
{
	char	   *name;
	int64		size_pages;
	char	   *algo_name;
	int			compression = BP_ZIP_NONE;
	int			kbs = 0;

	bp_sql_require_superuser("create_space");
	bp_sql_not_null(fcinfo, 0, "create_space", "name");
	bp_sql_not_null(fcinfo, 1, "create_space", "size_pages");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	size_pages = PG_GETARG_INT64(1);
	if (PG_NARGS() > 2)
	{
		bp_sql_not_null(fcinfo, 2, "create_space", "compression");
		algo_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
		compression = bp_zip_algorithm_from_name(algo_name);
		if (compression < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown compression \"%s\"", algo_name),
					 errhint("Use none, lz4 or zstd.")));
		if (!PG_ARGISNULL(3))
			kbs = PG_GETARG_INT32(3);
		else if (compression != BP_ZIP_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a space compressed with %s needs a key_block_size", algo_name)));
	}
	bp_ensure_attached();
	PG_RETURN_INT32((int32) bp_space_create_compressed(name, size_pages, compression, kbs));
}

Datum
bp_sql_drop_space(PG_FUNCTION_ARGS)
{
	int32		space_id;

	bp_sql_require_superuser("drop_space");
	bp_sql_not_null(fcinfo, 0, "drop_space", "space_id");
	space_id = PG_GETARG_INT32(0);
	bp_ensure_attached();
	if (space_id <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %d does not exist", space_id)));
	bp_buf_drop_space((uint32) space_id);
	PG_RETURN_VOID();
}

Datum
bp_sql_fetch_page(PG_FUNCTION_ARGS)
{
	int32		space_id;
	int64		page_no;
	BpFetchInfo info;
	BpPage		p;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {0};

	bp_sql_page_call(fcinfo, "fetch_page", &space_id, &page_no);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	p = bp_page_fetch((uint32) space_id, (uint32) page_no, &info);
	bp_page_release(p);

	values[0] = BoolGetDatum(info.hit);
	values[1] = Int32GetDatum(info.instance);
	values[2] = Int64GetDatum(info.block_id);
	values[3] = BoolGetDatum(info.is_old);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

Datum
bp_sql_read_page(PG_FUNCTION_ARGS)
{
	int32		space_id;
	int64		page_no;
	int			payload;
	bytea	   *result;
	BpPage		p;

	bp_sql_page_call(fcinfo, "read_page", &space_id, &page_no);
	payload = bp_page_payload_size();
	result = (bytea *) palloc(VARHDRSZ + payload);
	SET_VARSIZE(result, VARHDRSZ + payload);

	p = bp_page_fetch((uint32) space_id, (uint32) page_no, NULL);
	bp_page_lock(p, BP_LOCK_SHARE);
	memcpy(VARDATA(result), bp_page_data(p), payload);
	bp_page_unlock(p);
	bp_page_release(p);
	PG_RETURN_BYTEA_P(result);
}

Datum
bp_sql_write_page(PG_FUNCTION_ARGS)
{
	int32		space_id;
	int64		page_no;
	bytea	   *data;
	int32		offset;
	int			len;
	int			payload;
	BpPage		p;
	uint64		lsn;

	bp_sql_page_call(fcinfo, "write_page", &space_id, &page_no);
	bp_sql_not_null(fcinfo, 2, "write_page", "data");
	bp_sql_not_null(fcinfo, 3, "write_page", "offset");
	data = PG_GETARG_BYTEA_PP(2);
	offset = PG_GETARG_INT32(3);
	len = VARSIZE_ANY_EXHDR(data);
	payload = bp_page_payload_size();
	if (offset < 0 || offset > payload)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("offset %d is outside the page payload", offset),
				 errdetail("The payload of a page has %d bytes (offsets 0 to %d).",
						   payload, payload)));
	if ((int64) offset + len > payload)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d bytes at offset %d run past the end of the page payload", len, offset),
				 errdetail("The payload of a page has %d bytes.", payload)));

	bp_log_free_check();
	p = bp_page_fetch((uint32) space_id, (uint32) page_no, NULL);
	bp_page_lock(p, BP_LOCK_EXCLUSIVE);
	lsn = bp_page_write(p, offset, VARDATA_ANY(data), len);
	bp_page_unlock(p);
	bp_page_release(p);
	bp_log_commit(lsn);
	PG_RETURN_INT64((int64) lsn);
}

Datum
bp_sql_flush(PG_FUNCTION_ARGS)
{
	uint32		space_id = 0;

	bp_sql_require_superuser("flush");
	bp_ensure_attached();
	if (!PG_ARGISNULL(0))
		space_id = bp_sql_space_arg(PG_GETARG_INT32(0));
	PG_RETURN_INT64(bp_flush_all(space_id));
}

Datum
bp_sql_evict(PG_FUNCTION_ARGS)
{
	int32		space_id;
	int64		page_no;

	bp_sql_page_call(fcinfo, "evict", &space_id, &page_no);
	PG_RETURN_BOOL(bp_buf_evict_page((uint32) space_id, (uint32) page_no, false));
}

/*
 * bufpool.pin_page(space_id, page_no): keep the page pinned until the end
 * of the transaction.
 */
Datum
bp_sql_pin_page(PG_FUNCTION_ARGS)
{
	int32		space_id;
	int64		page_no;

	bp_sql_page_call(fcinfo, "pin_page", &space_id, &page_no);
	if (!IsTransactionBlock())
		ereport(WARNING,
				(errmsg("bufpool.pin_page outside a transaction block has no lasting effect"),
				 errhint("The pin is released at the end of the transaction.")));
	bp_buf_pin_for_xact((uint32) space_id, (uint32) page_no);
	PG_RETURN_VOID();
}
