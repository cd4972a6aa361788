/*-------------------------------------------------------------------------
 *
 * zip_tests.c
 *	  Round trips of the page codec of compressed spaces (pagezip.c).
 *
 * bufpool_test.zip_roundtrip(algorithm, key_block_size, kind, page_size)
 * makes a page of one kind, compresses it into a slot, checks the slot
 * without decompressing it, decompresses it and compares; then flips one
 * byte of the slot and checks again.  Kinds:
 *
 *	  zeros		a page of zeros
 *	  text		words drawn from a small vocabulary with numbers among
 *				them (compresses about 2.5x with lz4, as row data does)
 *	  random	random bytes (incompressible)
 *
 * Returns (fits, used bytes of the slot, payload / used, round trip
 * equal, what the check of the good slot said, what the check of the
 * damaged slot said).
 *
 * bufpool_test.zip_fill(space_id, first, n, kind, seed) writes pages
 * first .. first + n - 1 of a space with data of a kind through the C API
 * (lock, change, bp_page_mark_dirty), for the benchmark of compressed
 * spaces and the tests of their images in memory.
 *
 * bufpool_test.zip_evict_frame(space_id, page_no) evicts a page but keeps
 * its compressed image in memory, as the unzip_LRU's eviction does
 * (bp_buf_evict_page with keep_zip).
 *
 * bufpool_test.zip_evict_zip_frames() evicts every zip frame (a pool block
 * holding compressed images, src/pool/zip.c) that nobody pins, as the LRU
 * tail would reach them all: (evicted, kept).  A frame stays while a
 * session decompresses from it, or while it holds images of pages that
 * have a frame.
 *
 * bufpool_test.poke_file(path, offset, data) writes data at offset of a
 * file of the data directory (relative path, under bufpool_ext/), as a
 * crash between two unsynced writes would leave it: a test puts an older
 * overflow page back under a newer slot with it.
 *
 * IDENTIFICATION
 *	  test/modules/bufpool_test/zip_tests.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/htup_details.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"

#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/storage/pagezip.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_test.h"

PG_FUNCTION_INFO_V1(bpt_zip_roundtrip);
PG_FUNCTION_INFO_V1(bpt_poke_file);
PG_FUNCTION_INFO_V1(bpt_zip_fill_space);
PG_FUNCTION_INFO_V1(bpt_zip_evict_frame);
PG_FUNCTION_INFO_V1(bpt_zip_evict_zip_frames);

/* Fill a page's payload with data of kind, deterministically (seed). */
static void
bpt_zip_fill(char *page, int page_size, const char *kind, uint64 seed)
{
	static const char *const words[] = {
		"order", "customer", "shipped", "pending", "item", "quantity", "price",
		"the", "of", "and", "warehouse", "north", "south", "2026-12-07", "EUR",
		"delivered", "returned", "priority", "standard", "express"
	};
	pg_prng_state rng;
	char	   *p = page + BP_PAGE_HEADER_SIZE;
	char	   *end = page + page_size;

	pg_prng_seed(&rng, seed);
	memset(page, 0, page_size);
	if (strcmp(kind, "zeros") == 0)
		return;
	if (strcmp(kind, "random") == 0)
	{
		while (p < end)
			*p++ = (char) pg_prng_uint32(&rng);
		return;
	}
	if (strcmp(kind, "rows") == 0)
	{
		uint32		id = (uint32) (seed % 1000000) * 100;

		/*
		 * Fixed-width rows as a table stores them: an ascending id, a
		 * random amount, a timestamp near the previous one, a status and
		 * a city from small vocabularies, then padding.
		 */
		while (p + 48 <= end)
		{
			uint32		amount = pg_prng_uint32(&rng) % 100000;
			uint64		ts = UINT64CONST(1796000000000000) + (uint64) id * 1000 +
				pg_prng_uint32(&rng) % 1000;
			char		txt[33];

			memcpy(p, &id, 4);
			memcpy(p + 4, &amount, 4);
			memcpy(p + 8, &ts, 8);
			snprintf(txt, sizeof(txt), "%-10s%-22s", words[pg_prng_uint32(&rng) % 5 + 2],
					 words[pg_prng_uint32(&rng) % lengthof(words)]);
			memcpy(p + 16, txt, 32);
			p += 48;
			id++;
		}
		return;
	}
	if (strcmp(kind, "text") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown page kind \"%s\"", kind),
				 errhint("Use zeros, text, rows or random.")));
	while (p < end)
	{
		char		buf[32];
		int			n;

		if (pg_prng_uint32(&rng) % 4 == 0)
			n = snprintf(buf, sizeof(buf), "%u ", pg_prng_uint32(&rng) % 100000);
		else
			n = snprintf(buf, sizeof(buf), "%s ", words[pg_prng_uint32(&rng) % lengthof(words)]);
		n = Min(n, (int) (end - p));
		memcpy(p, buf, n);
		p += n;
	}
}

Datum
bpt_zip_roundtrip(PG_FUNCTION_ARGS)
{
	char	   *algo_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			kbs = PG_GETARG_INT32(1);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
	int			page_size = PG_GETARG_INT32(3);
	int			algorithm = bp_zip_algorithm_from_name(algo_name);
	char	   *page;
	char	   *slot;
	char	   *back;
	int			used;
	const char *good;
	const char *bad;
	bool		equal = false;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false};
	BpPageHeader *ph;

	if (algorithm <= BP_ZIP_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown compression \"%s\"", algo_name)));
	if (page_size < 4096 || page_size > 65536 || kbs < BP_ZIP_MIN_BLOCK || kbs > page_size / 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key_block_size %d with pages of %d bytes is out of range", kbs, page_size)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	page = palloc(page_size);
	slot = palloc(kbs);
	back = palloc(page_size);
	bpt_zip_fill(page, page_size, kind, 42);
	ph = (BpPageHeader *) page;
	ph->lsn = UINT64CONST(123456789);
	ph->space_id = 7;
	ph->page_no = 99;
	ph->version = BP_PAGE_VERSION;

	used = bp_zip_compress(algorithm, page, page_size, slot, kbs);
	if (used < 0)
	{
		nulls[1] = nulls[2] = nulls[3] = nulls[4] = nulls[5] = true;
		values[0] = BoolGetDatum(false);
	}
	else
	{
		good = bp_zip_check(slot, kbs, 7, 99);
		if (good == NULL && bp_zip_decompress(slot, kbs, back, page_size))
			equal = memcmp(page + BP_PAGE_HEADER_SIZE, back + BP_PAGE_HEADER_SIZE,
						   page_size - BP_PAGE_HEADER_SIZE) == 0 &&
				((BpPageHeader *) back)->lsn == ph->lsn &&
				bp_zip_lsn(slot) == ph->lsn;
		slot[used - 1] ^= 0x40;	/* one bit of the compressed data */
		bad = bp_zip_check(slot, kbs, 7, 99);
		values[0] = BoolGetDatum(true);
		values[1] = Int32GetDatum(used);
		values[2] = Float8GetDatum((double) (page_size - BP_PAGE_HEADER_SIZE) / used);
		values[3] = BoolGetDatum(equal);
		values[4] = CStringGetTextDatum(good ? good : "ok");
		values[5] = CStringGetTextDatum(bad ? bad : "ok");
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

Datum
bpt_poke_file(PG_FUNCTION_ARGS)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		offset = PG_GETARG_INT64(1);
	bytea	   *data = PG_GETARG_BYTEA_PP(2);
	int			fd;
	int			len = VARSIZE_ANY_EXHDR(data);

	if (strncmp(path, "bufpool_ext/", 12) != 0 || strstr(path, "..") != NULL || offset < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("poke_file writes only files under bufpool_ext/, not \"%s\" at %lld",
						path, (long long) offset)));
	fd = OpenTransientFile(path, O_RDWR | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	if (pg_pwrite(fd, VARDATA_ANY(data), len, (off_t) offset) != len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", path)));
	CloseTransientFile(fd);
	PG_RETURN_INT32(len);
}


Datum
bpt_zip_fill_space(PG_FUNCTION_ARGS)
{
	const char *const names[] = {"space_id", "first", "n", "kind", "seed"};
	uint32		space_id;
	int64		first;
	int32		n;
	char	   *kind;
	int32		seed;
	char	   *page;
	int			i;

	bpt_require_superuser("zip_fill");
	for (i = 0; i < lengthof(names); i++)
		bpt_not_null(fcinfo, i, "zip_fill", names[i]);
	space_id = (uint32) PG_GETARG_INT32(0);
	first = PG_GETARG_INT64(1);
	n = PG_GETARG_INT32(2);
	kind = text_to_cstring(PG_GETARG_TEXT_PP(3));
	seed = PG_GETARG_INT32(4);
	if (first < 0 || n < 0 || first > bp_space_size(space_id) ||
		n > bp_space_size(space_id) - first)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d pages from page " INT64_FORMAT " are not all in space %u",
						n, first, space_id)));
	page = palloc(BpPageSize);
	for (i = 0; i < n; i++)
	{
		BpPage		p;

		CHECK_FOR_INTERRUPTS();
		bpt_zip_fill(page, BpPageSize, kind, (uint64) seed * 1000003 + (uint64) (first + i));
		bp_log_free_check();	/* the API's rule: before locking a page to change */
		p = bp_page_fetch(space_id, (uint32) (first + i), NULL);
		bp_page_lock(p, BP_LOCK_EXCLUSIVE);
		memcpy(bp_page_data(p), page + BP_PAGE_HEADER_SIZE, bp_page_payload_size());
		(void) bp_page_mark_dirty(p);
		bp_page_unlock(p);
		bp_page_release(p);
	}
	pfree(page);
	PG_RETURN_INT64(n);
}

Datum
bpt_zip_evict_frame(PG_FUNCTION_ARGS)
{
	bpt_require_superuser("zip_evict_frame");
	bpt_not_null(fcinfo, 0, "zip_evict_frame", "space_id");
	bpt_not_null(fcinfo, 1, "zip_evict_frame", "page_no");
	bp_space_check_page((uint32) PG_GETARG_INT32(0), PG_GETARG_INT64(1));
	PG_RETURN_BOOL(bp_buf_evict_page((uint32) PG_GETARG_INT32(0), (uint32) PG_GETARG_INT64(1), true));
}

Datum
bpt_zip_evict_zip_frames(PG_FUNCTION_ARGS)
{
	int64		evicted = 0;
	int64		kept = 0;
	int			i;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {0};

	bpt_require_superuser("zip_evict_zip_frames");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	bp_ensure_attached();
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		BpLocalInstance *li = &BpLocal[i];
		int			c;

		for (c = 0; c < li->n_chunks; c++)
		{
			uint32		k;

			for (k = 0; k < inst->blocks_per_chunk; k++)
			{
				BpBlockNo	b = BP_MAKE_BLOCK(c, k);
				BpBlockDesc *d = bp_desc(li, b);
				uint32		st;

				CHECK_FOR_INTERRUPTS();
				LWLockAcquire(&inst->lru_lock.lock, LW_EXCLUSIVE);
				st = pg_atomic_read_u32(&d->state);
				if (d->list != BP_LIST_LRU || !BP_IS_ZIP_FRAME(d))
				{
					LWLockRelease(&inst->lru_lock.lock);
					continue;
				}
				if (BP_STATE_REFCOUNT(st) != 0 ||
					!pg_atomic_compare_exchange_u32(&d->state, &st, st + BP_REFCOUNT_ONE))
				{
					LWLockRelease(&inst->lru_lock.lock);
					kept++;
					continue;
				}
				LWLockRelease(&inst->lru_lock.lock);
				if (bp_lru_evict_pinned(i, b))
				{
					bp_lru_return_free_block(i, b);
					evicted++;
				}
				else
				{
					pg_atomic_fetch_sub_u32(&d->state, BP_REFCOUNT_ONE);
					kept++;
				}
			}
		}
	}
	values[0] = Int64GetDatum(evicted);
	values[1] = Int64GetDatum(kept);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
