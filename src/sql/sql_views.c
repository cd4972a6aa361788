/*-------------------------------------------------------------------------
 *
 * sql_views.c
 *	  Set-returning functions behind the bufpool.* views.
 *
 * The views read list heads under the list locks in share mode, and
 * block descriptors without locks (a monitoring snapshot, like
 * INFORMATION_SCHEMA.INNODB_BUFFER_PAGE).  Counters are summed over the
 * per-process slots.  Rates in bufpool.stats are per second since this
 * session's previous read of the view, as InnoDB's are since the previous
 * printout; a session's first read measures from the pool manager's
 * stored sample (bp_counters_sample), the newest one at least a second
 * old.  Reading the view changes nothing another reader sees.
 *
 * The snapshots a call builds (registry copy, LRU order, counts) come
 * from one local arena per call (src/mmgr/arena.c), destroyed at the end of
 * the call, or by its memory context's reset callback after an ERROR.
 *
 * IDENTIFICATION
 *	  src/sql/sql_views.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/mmgr/arena.h"
#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/storage/dblwr.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/pool/heat.h"
#include "bufpool_ext/shared/hugepage.h"
#include "bufpool_ext/storage/pagezip.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/pool/zip.h"
#include "bufpool_ext/storage/space.h"
#include "bufpool_ext/sql/sql.h"

/* first block of a view call's arena; the registry copy gets its own */
#define BP_VIEW_ARENA_BLOCK 8192

PG_FUNCTION_INFO_V1(bp_sql_spaces);
PG_FUNCTION_INFO_V1(bp_sql_stats);
PG_FUNCTION_INFO_V1(bp_sql_pages);
PG_FUNCTION_INFO_V1(bp_sql_lists);
PG_FUNCTION_INFO_V1(bp_sql_chunks);
PG_FUNCTION_INFO_V1(bp_sql_numa);
PG_FUNCTION_INFO_V1(bp_sql_cmp);
PG_FUNCTION_INFO_V1(bp_sql_cmpmem);
PG_FUNCTION_INFO_V1(bp_sql_cmp_per_space);
PG_FUNCTION_INFO_V1(bp_sql_status);
PG_FUNCTION_INFO_V1(bp_sql_doublewrite);
PG_FUNCTION_INFO_V1(bp_sql_page_heat_all);
PG_FUNCTION_INFO_V1(bp_sql_page_heat);
PG_FUNCTION_INFO_V1(bp_sql_space_heat);

/* Registry snapshot: copy of every used entry, in the call's arena. */
static int
bp_registry_snapshot(BpArena *arena, BpSpaceEntry **outp)
{
	BpSpaceEntry *out = bp_arena_alloc(arena, sizeof(BpSpaceEntry) * BP_MAX_SPACES);
	int			n = 0;
	int			i;

	*outp = out;
	LWLockAcquire(&BpShmem->space_lock.lock, LW_SHARED);
	for (i = 0; i < BP_MAX_SPACES; i++)
		if (BpShmem->spaces[i].state != BP_SPACE_UNUSED)
			out[n++] = BpShmem->spaces[i];
	LWLockRelease(&BpShmem->space_lock.lock);
	return n;
}

/* a space id and its index in a registry snapshot, sorted by id */
typedef struct BpSpaceIndex
{
	uint32		space_id;
	int			j;
} BpSpaceIndex;

typedef struct BpSpaceVisit
{
	BpSpaceIndex *index;
	int			n;
	void		(*visit) (void *arg, int j, BpBlockDesc *d);
	void	   *arg;
} BpSpaceVisit;

static int
bp_space_index_cmp(const void *a, const void *b)
{
	uint32		x = ((const BpSpaceIndex *) a)->space_id;
	uint32		y = ((const BpSpaceIndex *) b)->space_id;

	return x < y ? -1 : x > y ? 1 : 0;
}

static void
bp_visit_space_block(void *arg, int instance, BpBlockNo b, BpBlockDesc *d)
{
	BpSpaceVisit *v = arg;
	BpSpaceIndex key;
	BpSpaceIndex *found;

	if (!(pg_atomic_read_u32(&d->state) & BP_BS_VALID))
		return;
	key.space_id = d->space_id;
	found = bsearch(&key, v->index, v->n, sizeof(BpSpaceIndex), bp_space_index_cmp);
	if (found)
		v->visit(v->arg, found->j, d);
}

/*
 * One pass over the pool this process maps: visit(arg, j, d) for every
 * page (VALID block d) of a space in entries[0 .. n - 1], j its index.
 */
static void
bp_visit_space_pages(const BpSpaceEntry *entries, int n,
					 void (*visit) (void *arg, int j, BpBlockDesc *d), void *arg)
{
	BpSpaceVisit v = {palloc(sizeof(BpSpaceIndex) * Max(n, 1)), n, visit, arg};
	int			j;

	for (j = 0; j < n; j++)
	{
		v.index[j].space_id = entries[j].space_id;
		v.index[j].j = j;
	}
	qsort(v.index, n, sizeof(BpSpaceIndex), bp_space_index_cmp);
	bp_pool_visit_blocks(bp_visit_space_block, &v);
	pfree(v.index);
}

static void
bp_count_space_page(void *arg, int j, BpBlockDesc *d)
{
	((int64 *) arg)[j]++;
}

Datum
bp_sql_spaces(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpArena    *arena;
	BpSpaceEntry *entries;
	int64	   *in_pool;
	int			n;
	int			i;

	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	arena = bp_arena_create_scoped("sql_views", BP_VIEW_ARENA_BLOCK);
	n = bp_registry_snapshot(arena, &entries);
	in_pool = bp_arena_alloc(arena, sizeof(int64) * Max(n, 1));
	memset(in_pool, 0, sizeof(int64) * Max(n, 1));

	/* one pass over the pool counts pages of every space */
	bp_visit_space_pages(entries, n, bp_count_space_page, in_pool);

	for (i = 0; i < n; i++)
	{
		Datum		values[10];
		bool		nulls[10] = {0};
		char		path[MAXPGPATH];
		uint32		kbs = entries[i].key_block_size;

		bp_space_path(entries[i].space_id, path, sizeof(path));
		values[0] = Int32GetDatum((int32) entries[i].space_id);
		values[1] = CStringGetTextDatum(entries[i].name);
		values[2] = Int64GetDatum((int64) entries[i].size_pages);
		values[3] = Int32GetDatum(BpShmem->page_size);
		/* on disk: a slot a page for a compressed space (its overflow file aside) */
		values[4] = Int64GetDatum((int64) entries[i].size_pages * (kbs ? kbs : (uint32) BpShmem->page_size));
		values[5] = CStringGetTextDatum(path);
		values[6] = CStringGetTextDatum(entries[i].state == BP_SPACE_ACTIVE ? "active" : "dropping");
		values[7] = Int64GetDatum(in_pool[i]);
		values[8] = CStringGetTextDatum(bp_zip_algorithm_name((int) entries[i].compression));
		if (kbs)
			values[9] = Int32GetDatum((int32) kbs);
		else
			nulls[9] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	bp_arena_destroy(arena);
	return (Datum) 0;
}

static double
bp_rate(uint64 now, uint64 prev, double secs)
{
	return secs > 0 ? (double) (now - prev) / secs : 0.0;
}

/* This session's previous read of bufpool.stats, per instance (at 0: none). */
static BpRateSnap *my_rate_prev = NULL;

/*
 * The counters the rates of a read start from: this session's previous
 * read, else the newest stored sample at least a second old, else the
 * pool's start (all zero).
 */
static BpRateSnap
bp_rate_base(int instance, TimestampTz now)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpRateSnap	base;
	BpRateSnap	samples[2];

	if (my_rate_prev == NULL)
		my_rate_prev = MemoryContextAllocZero(TopMemoryContext,
											  sizeof(BpRateSnap) * BpShmem->n_instances);
	if (my_rate_prev[instance].at != 0)
		return my_rate_prev[instance];
	SpinLockAcquire(&inst->rate_mutex);
	samples[0] = inst->rate_samples[0];
	samples[1] = inst->rate_samples[1];
	SpinLockRelease(&inst->rate_mutex);
	/* the newest sample at least a second old; none: the pool's start */
	if (samples[0].at != 0 && TimestampDifferenceExceeds(samples[0].at, now, 1000))
		base = samples[0];
	else if (samples[1].at != 0 && TimestampDifferenceExceeds(samples[1].at, now, 1000))
		base = samples[1];
	else
		base.at = 0;
	if (base.at == 0)
	{
		memset(&base, 0, sizeof(base));
		base.at = BpShmem->start_time;
	}
	return base;
}

Datum
bp_sql_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	bp_ensure_attached();
	bp_counters_publish();		/* this session's own gets, exactly */
	InitMaterializedSRF(fcinfo, 0);

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		Datum		values[35];
		bool		nulls[35] = {0};
		BpCounters	c;
		BpRateSnap	prev;
		TimestampTz now = GetCurrentTimestamp();
		uint32		free_len,
					lru_len,
					old_len,
					flush_len;
		uint64		lru_io;
		uint64		made_young_b,
					made_old_b,
					admitted;
		uint64		gets_d,
					reads_d;
		double		secs;
		int			k = 0;

		bp_counters_sum(i, &c);
		lru_io = c.lru_written;
		prev = bp_rate_base(i, now);
		my_rate_prev[i].at = now;
		my_rate_prev[i].c = c;
		secs = (double) (now - prev.at) / 1000000.0;
		gets_d = c.gets - prev.c.gets;
		reads_d = c.reads - prev.c.reads;

		LWLockAcquire(&inst->lru_lock.lock, LW_SHARED);
		free_len = inst->free_len;
		lru_len = inst->lru_len;
		old_len = inst->lru_old_len;
		made_young_b = inst->boundary_made_young;
		made_old_b = inst->boundary_made_old;
		admitted = inst->admitted_young;
		LWLockRelease(&inst->lru_lock.lock);
		LWLockAcquire(&inst->flush_lock.lock, LW_SHARED);
		flush_len = inst->flush_len;
		LWLockRelease(&inst->flush_lock.lock);

		values[k++] = Int32GetDatum(i);
		values[k++] = Int64GetDatum(inst->n_blocks);
		values[k++] = Int64GetDatum(free_len);
		values[k++] = Int64GetDatum(lru_len);
		values[k++] = Int64GetDatum(old_len);
		values[k++] = Int64GetDatum(flush_len);
		values[k++] = Int64GetDatum(0);	/* pending_decompress: no compression */
		values[k++] = Int64GetDatum(pg_atomic_read_u32(&inst->pending_reads));
		values[k++] = Int64GetDatum(pg_atomic_read_u32(&inst->pending_flush_lru));
		values[k++] = Int64GetDatum(pg_atomic_read_u32(&inst->pending_flush_list));
		values[k++] = Int64GetDatum((int64) c.made_young);
		values[k++] = Int64GetDatum((int64) c.not_made_young);
		values[k++] = Float8GetDatum(bp_rate(c.made_young, prev.c.made_young, secs));
		values[k++] = Float8GetDatum(bp_rate(c.not_made_young, prev.c.not_made_young, secs));
		values[k++] = Int64GetDatum((int64) c.reads);
		values[k++] = Int64GetDatum((int64) c.created);
		values[k++] = Int64GetDatum((int64) c.written);
		values[k++] = Float8GetDatum(bp_rate(c.reads, prev.c.reads, secs));
		values[k++] = Float8GetDatum(bp_rate(c.created, prev.c.created, secs));
		values[k++] = Float8GetDatum(bp_rate(c.written, prev.c.written, secs));
		values[k++] = Int64GetDatum((int64) c.gets);
		/* per thousand gets since the previous read, as InnoDB */
		values[k++] = Int64GetDatum(gets_d > 0 ? (int64) (1000 - Min(reads_d, gets_d) * 1000 / gets_d) : 0);
		values[k++] = Int64GetDatum(gets_d > 0 ? (int64) ((c.made_young - prev.c.made_young) * 1000 / gets_d) : 0);
		values[k++] = Int64GetDatum(gets_d > 0 ? (int64) ((c.not_made_young - prev.c.not_made_young) * 1000 / gets_d) : 0);
		values[k++] = Int64GetDatum(0);	/* number_pages_read_ahead: no read-ahead */
		values[k++] = Int64GetDatum(0);
		values[k++] = Float8GetDatum(0.0);
		values[k++] = Float8GetDatum(0.0);
		values[k++] = Int64GetDatum((int64) lru_io);
		values[k++] = Int64GetDatum((int64) (lru_io - prev.c.lru_written));
		/* InnoDB's UNCOMPRESS_TOTAL / _CURRENT: misses served by a compressed image */
		values[k++] = Int64GetDatum((int64) c.unzipped);
		values[k++] = Int64GetDatum((int64) (c.unzipped - prev.c.unzipped));
		values[k++] = Int64GetDatum((int64) made_young_b);
		values[k++] = Int64GetDatum((int64) made_old_b);
		values[k++] = Int64GetDatum((int64) admitted);
		Assert(k == 35);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * One row of bufpool.pages: block b, or (zip_space_id valid) the
 * compressed image of a page without a frame, held in zip frame b
 * (zip.c), its piece zip_size bytes.
 */
static void
bp_put_page_row(ReturnSetInfo *rsinfo, int instance, BpBlockNo b, int64 lru_position,
				BpSpaceEntry *reg, int n_reg, uint32 zip_space_id, uint32 zip_page_no,
				int zip_size)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockDesc *d = bp_desc(li, b);
	uint32		st = pg_atomic_read_u32(&d->state);
	bool		valid = (st & BP_BS_VALID) != 0;
	bool		has_page = valid || (st & BP_BS_IO_READ);
	Datum		values[23];
	bool		nulls[23] = {0};
	bool		zip_only = zip_space_id != InvalidOid;
	bool		zip_frame = !valid && d->list == BP_LIST_LRU && BP_IS_ZIP_FRAME(d);
	const char *page_state;
	const char *io_fix;
	int			k = 0;
	int			j;

	bool		memory = !valid && d->list == BP_LIST_MEMORY;
	/* a memory block's own pin keeps other code away; it is no fix */
	uint32		fixes = BP_STATE_REFCOUNT(st) - (memory && BP_STATE_REFCOUNT(st) > 0 ? 1 : 0);

	if (zip_only)
	{
		/* InnoDB's BUF_BLOCK_ZIP_PAGE: the compressed page alone */
		valid = false;
		has_page = true;
		fixes = 0;
		st = 0;
		page_state = "ZIP_PAGE";
	}
	else if (valid)
		page_state = "FILE_PAGE";
	else if (memory || zip_frame)
		page_state = "MEMORY";	/* InnoDB's BUF_BLOCK_MEMORY (buddy.c) */
	else if (d->list == BP_LIST_FREE)
		page_state = "NOT_USED";
	else if (d->list == BP_LIST_LRU && !(st & BP_BS_IO_READ))
		page_state = "REMOVE_HASH";
	else
		page_state = "READY_FOR_USE";
	if (st & BP_BS_IO_READ)
		io_fix = "IO_READ";
	else if (st & BP_BS_IO_WRITE)
		io_fix = "IO_WRITE";
	else if (fixes > 0 || (valid && bp_hazard_held(instance, b)))
		io_fix = "IO_PIN";
	else
		io_fix = "IO_NONE";

	values[k++] = Int32GetDatum(instance);
	values[k++] = Int64GetDatum(bp_block_seq(inst, b));
	if (lru_position >= 0)
		values[k++] = Int64GetDatum(lru_position);
	else
		nulls[k++] = true;
	if (zip_only)
	{
		values[k++] = Int32GetDatum((int32) zip_space_id);
		values[k++] = Int64GetDatum((int64) zip_page_no);
		values[k++] = CStringGetTextDatum("DATA");
	}
	else if (has_page)
	{
		values[k++] = Int32GetDatum((int32) d->space_id);
		values[k++] = Int64GetDatum((int64) d->page_no);
		values[k++] = CStringGetTextDatum(valid && ((BpPageHeader *) bp_frame(li, b))->lsn == 0 &&
										  !(st & BP_BS_DIRTY) ? "ALLOCATED" : "DATA");
	}
	else
	{
		nulls[k++] = true;
		nulls[k++] = true;
		nulls[k++] = true;
	}
	values[k++] = Int32GetDatum(BP_STATE_FLUSH_TYPE(st));
	values[k++] = Int32GetDatum((int32) fixes +
								(has_page ? bp_hazard_count(instance, b) : 0));
	values[k++] = BoolGetDatum(false);	/* is_hashed: no adaptive hash index */
	values[k++] = Int64GetDatum(valid ? (int64) bp_block_newest_lsn(li, b) : 0);
	values[k++] = Int64GetDatum(zip_only || zip_frame ? 0 : (int64) d->oldest_lsn);
	values[k++] = Int64GetDatum(zip_only ? 0 : (int64) d->access_time);
	nulls[k++] = true;			/* table_name, set below */
	nulls[k++] = true;			/* index_name */
	nulls[k++] = true;			/* number_records */
	values[k++] = Int64GetDatum(has_page ? BpShmem->page_size - (int64) BP_PAGE_HEADER_SIZE : 0);
	/* compressed_size: the piece of zip memory the page's image takes */
	values[k++] = Int64GetDatum(zip_only ? zip_size : valid ? bp_zip_image_of(instance, b) : 0);
	values[k++] = CStringGetTextDatum(page_state);
	values[k++] = CStringGetTextDatum(io_fix);
	values[k++] = BoolGetDatum(d->is_old);
	values[k++] = Int64GetDatum((int64) d->freed_page_clock);
	values[k++] = BoolGetDatum(false);	/* is_stale */
	values[k++] = BoolGetDatum(valid || (has_page && !zip_only));	/* frame_present */
	Assert(k == 23);
	if (has_page)
		for (j = 0; j < n_reg; j++)
			if (reg[j].space_id == (zip_only ? zip_space_id : d->space_id))
			{
				values[12] = CStringGetTextDatum(reg[j].name);
				nulls[12] = false;
				break;
			}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

typedef struct BpZipRowArg
{
	ReturnSetInfo *rsinfo;
	BpSpaceEntry *reg;
	int			n_reg;
} BpZipRowArg;

static void
bp_put_zip_row(void *arg, int instance, BpBlockNo zb, uint32 space_id, uint32 page_no,
			   int image_size, bool frame_present)
{
	BpZipRowArg *a = (BpZipRowArg *) arg;

	bp_put_page_row(a->rsinfo, instance, zb, -1, a->reg, a->n_reg, space_id, page_no, image_size);
}

Datum
bp_sql_pages(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		lru_order = PG_GETARG_BOOL(0);
	BpArena    *arena;
	BpSpaceEntry *reg;
	int			n_reg;
	int			i;

	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	arena = bp_arena_create_scoped("sql_views", BP_VIEW_ARENA_BLOCK);
	n_reg = bp_registry_snapshot(arena, &reg);

	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		BpLocalInstance *li = &BpLocal[i];

		if (lru_order)
		{
			BpBlockNo  *order;
			Size		order_size;
			uint32		n = 0;
			uint32		j;
			BpBlockNo	b;

			LWLockAcquire(&inst->lru_lock.lock, LW_SHARED);
			order_size = sizeof(BpBlockNo) * (inst->lru_len + 1);
			order = bp_arena_alloc(arena, order_size);
			for (b = inst->lru_head; b != BP_INVALID_BLOCK && n <= inst->lru_len;
				 b = bp_desc(li, b)->lru_next)
				order[n++] = b;
			LWLockRelease(&inst->lru_lock.lock);
			for (j = 0; j < n; j++)
				bp_put_page_row(rsinfo, i, order[j], j, reg, n_reg, InvalidOid, 0, 0);
			/* the next instance's order reuses these bytes */
			bp_arena_free_last(arena, order, order_size);
		}
		else
		{
			int			c;

			for (c = 0; c < li->n_chunks; c++)
			{
				uint32		k;

				for (k = 0; k < inst->blocks_per_chunk; k++)
					bp_put_page_row(rsinfo, i, BP_MAKE_BLOCK(c, k), -1, reg, n_reg,
									InvalidOid, 0, 0);
			}
		}
	}
	{
		/* pages held only as compressed images (zip.c), no frame, no LRU place */
		BpZipRowArg a = {rsinfo, reg, n_reg};

		bp_zip_visit_frameless(bp_put_zip_row, &a);
	}
	bp_arena_destroy(arena);
	return (Datum) 0;
}

Datum
bp_sql_lists(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		const char *names[8] = {"free", "lru", "lru_old", "lru_young", "flush", "withdraw",
		"memory", "unzip_lru"};
		int64		len[8];
		int			k;

		LWLockAcquire(&inst->lru_lock.lock, LW_SHARED);
		len[0] = inst->free_len;
		len[1] = inst->lru_len;
		len[2] = inst->lru_old_len;
		len[3] = (int64) inst->lru_len - inst->lru_old_len;
		len[5] = inst->withdraw_len;
		len[6] = inst->memory_len;
		/* InnoDB's unzip_LRU: pages with a frame and a compressed image (zip.c) */
		len[7] = pg_atomic_read_u32(&inst->unzip_len);
		LWLockRelease(&inst->lru_lock.lock);
		LWLockAcquire(&inst->flush_lock.lock, LW_SHARED);
		len[4] = inst->flush_len;
		LWLockRelease(&inst->flush_lock.lock);
		for (k = 0; k < 8; k++)
		{
			Datum		values[4];
			bool		nulls[4] = {0};

			values[0] = Int32GetDatum(i);
			values[1] = CStringGetTextDatum(names[k]);
			values[2] = Int64GetDatum(len[k]);
			values[3] = Int64GetDatum(len[k] * BpShmem->page_size);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

static const char *
bp_numa_policy_name(const BpChunkHeader *hdr, char *buf, size_t len)
{
	if (hdr->numa_policy == BP_NUMA_INTERLEAVE)
		return "interleave";
	if (hdr->numa_policy == BP_NUMA_INSTANCE)
	{
		snprintf(buf, len, "node %d", hdr->numa_node);
		return buf;
	}
	return "default";
}

Datum
bp_sql_chunks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		int			c;

		for (c = 0; c < BpLocal[i].n_chunks; c++)
		{
			BpChunkHeader *hdr = bp_chunk_header(i, c);
			Datum		values[8];
			bool		nulls[8] = {0};
			char		nodes[128];
			char		policy[32];

			if (hdr == NULL)
				continue;		/* removed by a shrink, not yet unmapped here */
			values[0] = Int32GetDatum(i);
			values[1] = Int32GetDatum(c);
			values[2] = Int64GetDatum((int64) hdr->segment_size);
			values[3] = Int64GetDatum((int64) inst->blocks_per_chunk);
			values[4] = CStringGetTextDatum(bp_chunk_numa_nodes(i, c, nodes, sizeof(nodes)));
			values[5] = CStringGetTextDatum(bp_numa_policy_name(hdr, policy, sizeof(policy)));
			values[6] = CStringGetTextDatum(c >= inst->withdraw_from ? "withdrawing" : "active");
			values[7] = Int32GetDatum((int32) hdr->page_kb);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * bufpool.numa: per instance and NUMA node, the chunk pages the kernel
 * has placed there (move_pages over every page of every chunk, stepping by
 * the chunk's page size, each read first: move_pages sees only what this
 * process maps), and pages whose node the kernel could not say (node
 * NULL).
 */
Datum
bp_sql_numa(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		int64		pages[65] = {0};	/* [0]: not allocated yet, [n + 1]: node n */
		int64		bytes[65] = {0};
		int			c;
		int			n;

		for (c = 0; c < BpLocal[i].n_chunks; c++)
		{
			BpChunkHeader *hdr = bp_chunk_header(i, c);
			int64		counts[64] = {0};
			int64		absent = 0;
			Size		step;

			if (hdr == NULL)
				continue;
			step = (Size) Max(hdr->page_kb, 4) * 1024;
			if (!bp_numa_count((const char *) hdr, hdr->segment_size, step, counts,
							   lengthof(counts), &absent))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot measure NUMA placement: move_pages() is not available on this system")));
			pages[0] += absent;
			bytes[0] += absent * (int64) step;
			for (n = 0; n < lengthof(counts); n++)
			{
				pages[n + 1] += counts[n];
				bytes[n + 1] += counts[n] * (int64) step;
			}
		}
		for (n = 0; n < lengthof(pages); n++)
		{
			Datum		values[4];
			bool		nulls[4] = {0};

			if (pages[n] == 0)
				continue;
			values[0] = Int32GetDatum(i);
			if (n == 0)
				nulls[1] = true;
			else
				values[1] = Int32GetDatum(n - 1);
			values[2] = Int64GetDatum(pages[n]);
			values[3] = Int64GetDatum(bytes[n]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* Read a set of compression counters into values[0..4], zeroing them with reset. */
static void
bp_zip_stats_values(BpZipStats *z, bool reset, Datum *values)
{
	pg_atomic_uint64 *c[5] = {&z->compress_ops, &z->compress_ops_ok, &z->compress_ns,
	&z->uncompress_ops, &z->uncompress_ns};
	uint64		v[5];
	int			i;

	for (i = 0; i < 5; i++)
		v[i] = reset ? pg_atomic_exchange_u64(c[i], 0) : pg_atomic_read_u64(c[i]);
	values[0] = Int64GetDatum((int64) v[0]);
	values[1] = Int64GetDatum((int64) v[1]);
	values[2] = Float8GetDatum((double) v[2] / 1e9);
	values[3] = Int64GetDatum((int64) v[3]);
	values[4] = Float8GetDatum((double) v[4] / 1e9);
}

/*
 * bufpool.cmp / cmp_reset, as INNODB_CMP / INNODB_CMP_RESET: per
 * compressed page size (key_block_size, 1 kB up to half a page), pages
 * compressed (compress_ops), those whose image fit their slot
 * (compress_ops_ok), the seconds spent, and the same for decompression.
 * reset (superuser only) reads the counters and sets them to zero.
 */
Datum
bp_sql_cmp(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		reset = PG_GETARG_BOOL(0);
	int			i;

	if (reset)
		bp_sql_require_superuser("cmp_reset");
	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < BP_ZIP_SIZES && (BP_ZIP_MIN_BLOCK << i) <= BpShmem->page_size / 2; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = Int32GetDatum(BP_ZIP_MIN_BLOCK << i);
		bp_zip_stats_values(&BpShmem->zip_by_size[i], reset, values + 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * bufpool.cmp_per_space / cmp_per_space_reset, as INNODB_CMP_PER_INDEX:
 * the same counters for each compressed space.
 */
Datum
bp_sql_cmp_per_space(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		reset = PG_GETARG_BOOL(0);
	int			i;

	if (reset)
		bp_sql_require_superuser("cmp_per_space_reset");
	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < BP_MAX_SPACES; i++)
	{
		BpSpaceEntry e;
		Datum		values[8];
		bool		nulls[8] = {0};

		LWLockAcquire(&BpShmem->space_lock.lock, LW_SHARED);
		e = BpShmem->spaces[i];
		LWLockRelease(&BpShmem->space_lock.lock);
		if (e.state != BP_SPACE_ACTIVE || e.key_block_size == 0)
			continue;
		values[0] = Int32GetDatum((int32) e.space_id);
		values[1] = CStringGetTextDatum(e.name);
		values[2] = Int32GetDatum((int32) e.key_block_size);
		bp_zip_stats_values(&BpShmem->zip_by_space[i], reset, values + 3);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * bufpool.cmpmem / cmpmem_reset, as INNODB_CMPMEM / INNODB_CMPMEM_RESET:
 * per instance and size class in use (page_size: the bytes of a piece, a
 * k-th of a frame), the pieces of zip memory (zip.c) holding compressed
 * pages (pages_used) and free in its frames (pages_free), and the images
 * moved to free a frame (a shrink, or the LRU tail reaching their frame),
 * with the time spent in microseconds.  The reset zeroes the relocation
 * counters.
 */
Datum
bp_sql_cmpmem(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		reset = PG_GETARG_BOOL(0);
	int			i;
	int			c;

	if (reset)
		bp_sql_require_superuser("cmpmem_reset");
	bp_ensure_attached();
	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];

		for (c = BP_ZIP_CLASSES - 1; c >= 2; c--)
		{
			Datum		values[6];
			bool		nulls[6] = {0};
			int64		frames,
						used,
						ops,
						ns;

			SpinLockAcquire(&inst->zip_mutex);
			frames = inst->zip_frames[c];
			used = inst->zip_used[c];
			ops = (int64) inst->zip_relocation_ops[c];
			ns = (int64) inst->zip_relocation_ns[c];
			if (reset)
				inst->zip_relocation_ops[c] = inst->zip_relocation_ns[c] = 0;
			SpinLockRelease(&inst->zip_mutex);
			if (frames == 0 && ops == 0)
				continue;		/* a class not in use */
			values[0] = Int32GetDatum(bp_zip_class_size(c));
			values[1] = Int32GetDatum(i);
			values[2] = Int64GetDatum(used);
			values[3] = Int64GetDatum(frames * c - used);
			values[4] = Int64GetDatum(ops);
			values[5] = Int64GetDatum(ns / 1000);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

Datum
bp_sql_status(PG_FUNCTION_ARGS)
{
	static const char *const state_names[] = {"init", "building", "ready", "failed"};
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9] = {0};
	uint32		st;
	int64		pages = 0;
	int			i;

	bp_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	st = pg_atomic_read_u32(&BpShmem->pool_state);
	for (i = 0; i < BpShmem->n_instances; i++)
		pages += BpShmem->instances[i].n_blocks;
	values[0] = CStringGetTextDatum(state_names[Min(st, 3)]);
	values[1] = Int32GetDatum(BpShmem->n_instances);
	values[2] = Int32GetDatum(BpShmem->chunks_per_instance);
	values[3] = Int64GetDatum((int64) BpShmem->chunk_size);
	values[4] = Int64GetDatum((int64) BpShmem->requested_size);
	values[5] = Int64GetDatum((int64) BpShmem->effective_size);
	values[6] = Int32GetDatum(BpShmem->page_size);
	values[7] = Int64GetDatum(pages);
	/* the LSN the next change starts at */
	values[8] = Int64GetDatum((int64) (BpRedo->ready ? bp_redo_insert_lsn()
									   : pg_atomic_read_u64(&BpShmem->next_lsn)));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * bufpool.doublewrite: the doublewrite buffer's layout, counters since
 * the server started (or since the last crash-restart) and what the last
 * recovery did.  One row.
 */
Datum
bp_sql_doublewrite(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[16];
	bool		nulls[16] = {0};
	uint64		writes;
	uint64		pages;

	bp_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	writes = pg_atomic_read_u64(&BpDblwr->writes);
	pages = pg_atomic_read_u64(&BpDblwr->pages_written);
	values[0] = BoolGetDatum(bp_doublewrite);
	values[1] = CStringGetTextDatum(BP_DBLWR_FILE);
	values[2] = Int64GetDatum(bp_dblwr_file_bytes());
	values[3] = Int32GetDatum(BpDblwr->n_batch_regions);
	values[4] = Int32GetDatum(BpDblwr->region_pages);
	values[5] = Int32GetDatum(BpDblwr->n_single);
	values[6] = Int32GetDatum(bp_dblwr_retired_count());
	values[7] = Int64GetDatum((int64) pages);
	values[8] = Int64GetDatum((int64) writes);
	values[9] = Int64GetDatum((int64) pg_atomic_read_u64(&BpDblwr->single_page_writes));
	values[10] = Int64GetDatum((int64) pg_atomic_read_u64(&BpDblwr->dblwr_syncs));
	values[11] = Int64GetDatum((int64) pg_atomic_read_u64(&BpDblwr->data_syncs));
	values[12] = Int64GetDatum((int64) pg_atomic_read_u64(&BpDblwr->region_waits));
	if (BpDblwr->recovery_at == 0)
	{
		nulls[13] = nulls[14] = nulls[15] = true;
	}
	else
	{
		values[13] = TimestampTzGetDatum(BpDblwr->recovery_at);
		values[14] = Int64GetDatum(BpDblwr->recovery_slots_valid);
		values[15] = Int64GetDatum(BpDblwr->recovery_pages_restored);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* ----------------------------------------------------------------------
 * Hot pages (heat.c): bufpool.hot_pages, bufpool.space_heat, page_heat()
 * ---------------------------------------------------------------------- */

#define BP_HEAT_COLS 9

/*
 * The heat columns of block b of an instance: space_id, page_number,
 * pool_id, block_id, frequency, est_accesses_per_s, is_old, is_dirty,
 * last_access_ms_ago.  Returns false, filling nothing, if the block holds
 * no page.  The descriptor is read without a lock, as bufpool.pages does.
 */
static bool
bp_heat_row(int instance, BpBlockNo b, const BpHeatClock *clk, Datum *values, bool *nulls)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpBlockDesc *d = bp_desc(&BpLocal[instance], b);
	uint32		st = pg_atomic_read_u32(&d->state);
	BpHeatView	hv;
	uint32		space_id = d->space_id;
	uint32		page_no = d->page_no;

	if (!(st & BP_BS_VALID))
		return false;
	bp_heat_read(d->heat, d->heat_tick, d->access_time, clk, &hv);
	memset(nulls, 0, sizeof(bool) * BP_HEAT_COLS);
	values[0] = Int32GetDatum((int32) space_id);
	values[1] = Int64GetDatum((int64) page_no);
	values[2] = Int32GetDatum(instance);
	values[3] = Int64GetDatum(bp_block_seq(inst, b));
	values[4] = Int32GetDatum(hv.frequency);
	values[5] = Float8GetDatum(hv.accesses_per_s);
	values[6] = BoolGetDatum(d->is_old);
	values[7] = BoolGetDatum((st & BP_BS_DIRTY) != 0);
	if (hv.last_access_ms >= 0)
		values[8] = Int64GetDatum(hv.last_access_ms);
	else
		nulls[8] = true;
	return true;
}

/*
 * Whether a monitoring view can read the pool now: true once it is READY
 * (this process then maps it); false, without waiting, while the pool
 * manager builds it (at start or after a crash-restart) or after it
 * failed to, so that the heat views show nothing then rather than wait
 * or fail.
 */
static bool
bp_heat_pool_readable(void)
{
	bp_check_preloaded();
	if (pg_atomic_read_u32(&BpShmem->pool_state) != BP_POOL_READY)
		return false;
	bp_ensure_attached();
	return true;
}

/*
 * bufpool.page_heat_srf(): one row per page in the pool, with its heat,
 * under bufpool.hot_pages (hottest first).  Walks the chunks this process
 * has mapped, so a resize in progress shows the pool as it was when the
 * call began; a pool being built shows no rows.
 */
/* bp_sql_page_heat_all's row of one block */
typedef struct BpHeatRows
{
	ReturnSetInfo *rsinfo;
	BpHeatClock clk;
} BpHeatRows;

static void
bp_heat_put_row(void *arg, int instance, BpBlockNo b, BpBlockDesc *d)
{
	BpHeatRows *hr = arg;
	Datum		values[BP_HEAT_COLS];
	bool		nulls[BP_HEAT_COLS];

	if (bp_heat_row(instance, b, &hr->clk, values, nulls))
		tuplestore_putvalues(hr->rsinfo->setResult, hr->rsinfo->setDesc, values, nulls);
}

Datum
bp_sql_page_heat_all(PG_FUNCTION_ARGS)
{
	BpHeatRows	hr;

	hr.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InitMaterializedSRF(fcinfo, 0);
	if (!bp_heat_pool_readable())
		return (Datum) 0;
	bp_heat_clock(&hr.clk);
	bp_pool_visit_blocks(bp_heat_put_row, &hr);
	return (Datum) 0;
}

/*
 * bufpool.page_heat(space_id, page_no): the heat of one page (the
 * columns of bufpool.hot_pages after page_number, then in_pool), found
 * without counting as an access.  An unknown space or a page outside the
 * space is an error; a page not in the pool gives in_pool = false and
 * NULLs.
 */
Datum
bp_sql_page_heat(PG_FUNCTION_ARGS)
{
	int32		space_arg;
	int64		page_arg;
	TupleDesc	tupdesc;
	Datum		row[BP_HEAT_COLS];
	bool		row_nulls[BP_HEAT_COLS];
	Datum		values[BP_HEAT_COLS - 1];
	bool		nulls[BP_HEAT_COLS - 1];
	bool		in_pool;
	BpHeatClock clk;
	BpPage		p;
	int			k;

	bp_sql_not_null(fcinfo, 0, "page_heat", "space_id");
	bp_sql_not_null(fcinfo, 1, "page_heat", "page_no");
	space_arg = PG_GETARG_INT32(0);
	page_arg = PG_GETARG_INT64(1);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (space_arg <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bufpool space %d does not exist", space_arg)));
	bp_ensure_attached();
	bp_space_check_page((uint32) space_arg, page_arg);
	bp_heat_clock(&clk);
	p = bp_buf_peek((uint32) space_arg, (uint32) page_arg);
	in_pool = p != BP_INVALID_PAGE &&
		bp_heat_row(bp_page_instance(p), bp_page_block(p), &clk, row, row_nulls);
	if (p != BP_INVALID_PAGE)
		bp_buf_release_raw(p);
	/* the row without space_id and page_number, then in_pool */
	for (k = 2; k < BP_HEAT_COLS; k++)
	{
		values[k - 2] = row[k];
		nulls[k - 2] = !in_pool || row_nulls[k];
	}
	values[BP_HEAT_COLS - 2] = BoolGetDatum(in_pool);
	nulls[BP_HEAT_COLS - 2] = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

static int
bp_cmp_double_desc(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x > y ? -1 : x < y ? 1 : 0;
}

/*
 * bp_sql_space_heat's collection: each space's pages' rates, in arrays
 * sized by a first pass that counted them (cap); pages that arrive
 * between the passes are left out.
 */
typedef struct BpSpaceRates
{
	BpHeatClock clk;
	int64	   *cap;
	int64	   *count;
	double	  **rates;
} BpSpaceRates;

static void
bp_collect_space_rate(void *arg, int j, BpBlockDesc *d)
{
	BpSpaceRates *sr = arg;
	BpHeatView	hv;

	if (sr->count[j] >= sr->cap[j])
		return;
	bp_heat_read(d->heat, d->heat_tick, d->access_time, &sr->clk, &hv);
	sr->rates[j][sr->count[j]++] = hv.accesses_per_s;
}

/*
 * bufpool.space_heat_srf(): per registered space, its pages in the pool,
 * the sum of their estimated accesses per second, and the same over its
 * hottest tenth (rounded up).  A pool being built shows every space with
 * no page.
 */
Datum
bp_sql_space_heat(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BpArena    *arena;
	BpSpaceEntry *entries;
	BpSpaceRates sr;
	int			n;
	int			j;

	bp_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	arena = bp_arena_create_scoped("sql_views", BP_VIEW_ARENA_BLOCK);
	n = bp_registry_snapshot(arena, &entries);
	sr.cap = bp_arena_alloc(arena, sizeof(int64) * Max(n, 1));
	sr.count = bp_arena_alloc(arena, sizeof(int64) * Max(n, 1));
	sr.rates = bp_arena_alloc(arena, sizeof(double *) * Max(n, 1));
	memset(sr.cap, 0, sizeof(int64) * Max(n, 1));
	memset(sr.count, 0, sizeof(int64) * Max(n, 1));
	if (n > 0 && bp_heat_pool_readable())
	{
		bp_visit_space_pages(entries, n, bp_count_space_page, sr.cap);
		for (j = 0; j < n; j++)
			sr.rates[j] = bp_arena_alloc(arena, sizeof(double) * Max(sr.cap[j], 1));
		bp_heat_clock(&sr.clk);
		bp_visit_space_pages(entries, n, bp_collect_space_rate, &sr);
	}
	for (j = 0; j < n; j++)
	{
		Datum		values[6];
		bool		nulls[6] = {0};
		int64		hot = (sr.count[j] + 9) / 10;
		double		sum = 0;
		double		hot_sum = 0;
		int64		k;

		if (sr.count[j] > 0)
		{
			qsort(sr.rates[j], sr.count[j], sizeof(double), bp_cmp_double_desc);
			for (k = 0; k < sr.count[j]; k++)
			{
				sum += sr.rates[j][k];
				if (k < hot)
					hot_sum += sr.rates[j][k];
			}
		}
		values[0] = Int32GetDatum((int32) entries[j].space_id);
		values[1] = CStringGetTextDatum(entries[j].name);
		values[2] = Int64GetDatum(sr.count[j]);
		values[3] = Float8GetDatum(sum);
		values[4] = Int64GetDatum(hot);
		values[5] = Float8GetDatum(hot_sum);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	bp_arena_destroy(arena);
	return (Datum) 0;
}
