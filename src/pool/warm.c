/*-------------------------------------------------------------------------
 *
 * warm.c
 *	  Warm restart: dump the hottest pages of the pool and load them back
 *	  after a restart.
 *
 * What is dumped.  For each instance, the first dump_pct percent of its
 * LRU list from the head (young sublist first, then old), in list order:
 * the order is the hotness, and the load gives it back.  The walk takes
 * lru_lock in share mode for at most BP_DUMP_WALK_BATCH blocks at a time
 * (copying space_id, page_no, is_old) and goes on from the block it
 * stopped at if that block still holds the same page on the LRU list,
 * else stops early (a resize or a burst of evictions moved the list under
 * it; the dump's message says so).  Pages of a space that is not ACTIVE
 * are left out.
 *
 * Space identity.  The dump stores, per space, (space_id, identity,
 * size_pages), the identity being the registry's random 64-bit creation
 * identity (space.c); the load skips every page of a space whose id no
 * longer has that identity ("space dropped") and every page at or past
 * its current size ("page beyond the space").
 *
 * File.  $PGDATA/bufpool_ext/buffer_pool_dump, binary: a header (magic,
 * format version, page size, the cluster's system identifier, instances,
 * entry and space counts, the dump's time and LSN), the entry count of
 * each instance, the space table, the entries (8 bytes a page: page_no,
 * is_old, space index), and a CRC-32C of all of it.  About 512 kB per
 * GiB of 16 kB pages at dump_pct 100, 128 kB at the default 25.  It is
 * written to buffer_pool_dump.tmp, fsynced and renamed with
 * durable_rename: a crash during a dump leaves the previous dump or none,
 * never a truncated one taken for complete (the load checks the size, the
 * counts and the CRC in any case).
 *
 * When.  At shutdown (dump_at_shutdown): the pool manager, after its
 * final flush.  Every dump_interval (0 = only at shutdown) by the pool
 * manager's loop, so that a crash still leaves a recent dump.  On demand:
 * bufpool.dump().  While a load runs, or after one was cut short by the
 * shutdown, no dump replaces the file: the pool then holds only part of
 * what the file names (a truncated dump after an interrupted load is
 * what MariaDB's MDEV-11455 was).
 *
 * Load.  The loader, a dynamic background worker (src/workers/loader.c)
 * started by the pool manager once the pool is READY (recovery has run
 * by then, so only clean images are on disk), or by bufpool.load().  The
 * pool serves sessions meanwhile.  It reads and checks the file (any
 * failure is one WARNING naming the file and the reason, and a cold
 * pool), drops the entries of spaces that are gone or re-created and of
 * pages past a space's end, sorts the rest by (space, page), and goes
 * through them in runs of adjacent pages (at most BP_READ_RUN_MAX):
 * posix_fadvise(WILLNEED) keeps load_io_depth runs ahead in flight, and
 * each run is claimed in the pool (bp_buf_load_claim: a free block only
 * while the free list holds more than the page cleaners' reserve, so the
 * load never evicts and never makes the cleaners evict; a page already
 * in the pool is skipped), read with one preadv straight into the
 * claimed frames, and each page checked (checksum, identity) before it
 * turns VALID.  A session that wants a page of the run waits for that
 * read, as for another session's.  The last step puts the loaded pages,
 * coldest first, at the head of the list (young in the dump) or of the
 * old sublist (old in the dump), so the LRU ends in the dumped order.
 *
 * Runs read over gaps of up to BP_LOAD_GAP_BYTES (the pages in the gap
 * go to a scratch buffer): one larger read costs less than two (measured:
 * 924 against 527 MB/s for a dense Zipf dump at io depth 8).
 *
 * Yielding.  Before each run the loader looks at the reads sessions have
 * in flight (pending_reads).  If there are any, it reads no further ahead
 * than this run, cuts the run to BP_LOAD_YIELD_BYTES and sleeps a
 * millisecond first, so foreground misses do not queue behind large load
 * reads.  It never sleeps more than that per run: a throttle that lets a
 * busy server's load take an hour (MDEV-29343) is worse than a load.
 * A shrink in progress pauses the load (the shrink moves blocks the load
 * would fill); a grow only adds free blocks.  A dropped space's pages
 * are skipped.  load_abort() and the shutdown stop it between runs.
 *
 * Status.  A ring of the last BP_WARM_HISTORY operations in BpShared
 * under warm_mutex (a spinlock: copies only), read by the view
 * bufpool.dump_load_status; one LOG line at the end of each operation,
 * as InnoDB prints "Buffer pool(s) load completed".
 *
 * IDENTIFICATION
 *	  src/pool/warm.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/memutils.h"

#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/trycall.h"
#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/pool/lru.h"
#include "bufpool_ext/pool/warm.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/storage/space.h"

#define BP_DUMP_MAGIC		0x50445042	/* "BPDP" */
#define BP_DUMP_VERSION		1
#define BP_DUMP_WALK_BATCH	256
#define BP_LOAD_ERROR_LEN	160
/* a run reads over a gap of at most this many bytes (scripts/bench_warm.sh) */
#define BP_LOAD_GAP_BYTES	(128 * 1024)
#define BP_LOAD_GAP_MAX		(BP_LOAD_GAP_BYTES / BpPageSize)
/* while sessions are reading, a run reads at most this many bytes */
#define BP_LOAD_YIELD_BYTES	(64 * 1024)

/* an entry: page_no in bits 0-31, is_old in bit 32, space index in 48-63 */
#define BP_ENTRY(space_idx, page_no, is_old) \
	((uint64) (page_no) | ((uint64) ((is_old) ? 1 : 0) << 32) | ((uint64) (space_idx) << 48))
#define BP_ENTRY_PAGE(e)	((uint32) (e))
#define BP_ENTRY_OLD(e)		((((e) >> 32) & 1) != 0)
#define BP_ENTRY_SPACE(e)	((uint32) ((e) >> 48))

typedef struct BpDumpHeader
{
	uint32		magic;
	uint32		version;
	uint32		page_size;
	uint32		n_instances;
	uint64		system_identifier;
	uint64		n_entries;
	uint32		n_spaces;
	uint32		dump_pct;
	TimestampTz dumped_at;
	uint64		lsn;
} BpDumpHeader;

typedef struct BpDumpSpace
{
	uint32		space_id;
	uint32		pad;
	uint64		identity;
	uint64		size_pages;
} BpDumpSpace;

/* a page to load, in the sort order of the reads */
typedef struct BpLoadItem
{
	uint32		space_id;
	uint32		page_no;
	uint32		pos;			/* its entry's index in the dump */
	bool		young;
} BpLoadItem;

/* ----------------------------------------------------------------
 * Status ring
 * ----------------------------------------------------------------
 */

static const char *const op_names[] = {"", "dump", "load"};
static const char *const state_names[] = {"idle", "running", "completed", "aborted", "failed"};

const char *
bp_warm_op_name(int kind)
{
	return kind >= BP_WARM_DUMP && kind <= BP_WARM_LOAD ? op_names[kind] : "";
}

const char *
bp_warm_state_name(int state)
{
	return state >= 0 && state < (int) lengthof(state_names) ? state_names[state] : "";
}

/* Open a status row for a new operation (state running); returns its id. */
int64
bp_warm_begin(int kind)
{
	BpWarmOp   *op;
	int64		id;

	SpinLockAcquire(&BpShmem->warm_mutex);
	id = BpShmem->warm_next_id++;
	op = &BpShmem->warm_ops[id % BP_WARM_HISTORY];
	memset(op, 0, sizeof(*op));
	op->id = id;
	op->kind = kind;
	op->state = BP_WARM_RUNNING;
	op->started = GetCurrentTimestamp();
	SpinLockRelease(&BpShmem->warm_mutex);
	return id;
}

/* Publish the caller's copy of operation op->id (if its row is still there). */
void
bp_warm_publish(const BpWarmOp *op)
{
	BpWarmOp   *row = &BpShmem->warm_ops[op->id % BP_WARM_HISTORY];

	SpinLockAcquire(&BpShmem->warm_mutex);
	if (row->id == op->id)
		*row = *op;
	SpinLockRelease(&BpShmem->warm_mutex);
}

/* A copy of operation id; false if it is no longer in the ring. */
bool
bp_warm_get(int64 id, BpWarmOp *out)
{
	BpWarmOp   *row = &BpShmem->warm_ops[id % BP_WARM_HISTORY];
	bool		found;

	SpinLockAcquire(&BpShmem->warm_mutex);
	found = row->id == id;
	if (found)
		*out = *row;
	SpinLockRelease(&BpShmem->warm_mutex);
	return found;
}

/* Copy out the ring, oldest first; returns the number of rows. */
int
bp_warm_list(BpWarmOp *out)
{
	int			n = 0;
	int64		id;

	SpinLockAcquire(&BpShmem->warm_mutex);
	for (id = Max(BpShmem->warm_next_id - BP_WARM_HISTORY, 1); id < BpShmem->warm_next_id; id++)
	{
		BpWarmOp   *row = &BpShmem->warm_ops[id % BP_WARM_HISTORY];

		if (row->id == id)
			out[n++] = *row;
	}
	SpinLockRelease(&BpShmem->warm_mutex);
	return n;
}

static int64
bp_warm_skipped(const BpWarmOp *op)
{
	int64		n = 0;
	int			k;

	for (k = 0; k < BP_SKIP_KINDS; k++)
		n += op->skipped[k];
	return n;
}

/* Bytes per second of an operation, so far or in all. */
double
bp_warm_rate(const BpWarmOp *op)
{
	TimestampTz end = op->state == BP_WARM_RUNNING ? GetCurrentTimestamp() : op->finished;
	double		s = (double) (end - op->started) / 1e6;

	return s > 0 ? op->bytes / s : 0;
}

/*
 * End an operation: publish its final state and message, log it in one
 * line and wake whoever waits for it.
 */
void
bp_warm_finish(BpWarmOp *op, int state, int elevel, const char *fmt,...)
{
	va_list		ap;

	op->state = state;
	op->finished = GetCurrentTimestamp();
	va_start(ap, fmt);
	vsnprintf(op->message, sizeof(op->message), fmt, ap);
	va_end(ap);
	bp_warm_publish(op);
	ConditionVariableBroadcast(&BpShmem->warm_cv);
	ereport(elevel,
			(errmsg("bufpool_ext buffer pool %s %s: %s", bp_warm_op_name(op->kind),
					bp_warm_state_name(state), op->message)));
}

/* ----------------------------------------------------------------
 * Dump
 * ----------------------------------------------------------------
 */

/*
 * Copy the first target pages of an instance's LRU list into out (as
 * (space_id, page_no, is_old) packed with space_id in place of the
 * index for now).  Returns how many; *cut tells whether the list moved
 * under the walk and it stopped early.
 */
typedef struct BpDumpPage
{
	uint32		space_id;
	uint32		page_no;
	bool		is_old;
} BpDumpPage;

static int64
bp_dump_walk(int instance, int64 target, BpDumpPage *out, bool *cut)
{
	BpInstance *inst = &BpShmem->instances[instance];
	BpLocalInstance *li = &BpLocal[instance];
	BpBlockNo	b;
	int64		n = 0;
	uint32		last_space = 0;
	uint32		last_page = 0;

	*cut = false;
	LWLockAcquire(&inst->lru_lock.lock, LW_SHARED);
	b = inst->lru_head;
	while (b != BP_INVALID_BLOCK && n < target)
	{
		int			k;

		for (k = 0; k < BP_DUMP_WALK_BATCH && b != BP_INVALID_BLOCK && n < target; k++)
		{
			BpBlockDesc *d = bp_desc(li, b);

			if ((pg_atomic_read_u32(&d->state) & BP_BS_VALID) && d->space_id != InvalidOid)
			{
				out[n].space_id = d->space_id;
				out[n].page_no = d->page_no;
				out[n].is_old = d->is_old;
				n++;
			}
			last_space = d->space_id;
			last_page = d->page_no;
			b = d->lru_next;
		}
		if (b == BP_INVALID_BLOCK || n >= target)
			break;
		/* let list changes in, then go on from b if it is where it was */
		LWLockRelease(&inst->lru_lock.lock);
		CHECK_FOR_INTERRUPTS();
		LWLockAcquire(&inst->lru_lock.lock, LW_SHARED);
		/* (bp_desc maps a chunk a grow added; one a shrink removed is gone) */
		if (BP_BLOCK_CHUNK(b) >= (uint32) inst->n_chunks)
		{
			*cut = true;
			break;
		}
		else
		{
			BpBlockDesc *d = bp_desc(li, b);
			BpBlockNo	prev = d->lru_prev;

			if (d->list != BP_LIST_LRU || prev == BP_INVALID_BLOCK ||
				bp_desc(li, prev)->space_id != last_space ||
				bp_desc(li, prev)->page_no != last_page)
			{
				*cut = true;
				break;
			}
		}
	}
	LWLockRelease(&inst->lru_lock.lock);
	return n;
}

/*
 * The end of a dump, also by an ERROR or an exit (PG_ENSURE_ERROR_CLEANUP):
 * the next dump may start; an operation still running failed.
 */
static void
bp_warm_dump_end(int code, Datum arg)
{
	BpWarmOp   *row = &BpShmem->warm_ops[DatumGetInt64(arg) % BP_WARM_HISTORY];
	bool		failed = false;

	SpinLockAcquire(&BpShmem->warm_mutex);
	BpShmem->warm_dumping = false;
	if (row->id == DatumGetInt64(arg) && row->state == BP_WARM_RUNNING)
	{
		row->state = BP_WARM_FAILED;
		row->finished = GetCurrentTimestamp();
		strlcpy(row->message, "the dump did not finish (an error or an exit: see the server log); the previous dump file, if any, is kept",
				sizeof(row->message));
		failed = true;
	}
	SpinLockRelease(&BpShmem->warm_mutex);
	if (failed)
		ConditionVariableBroadcast(&BpShmem->warm_cv);
}

/* what a dump wrote, for its message */
typedef struct BpDumpResult
{
	int64		n_entries;
	int64		dropped;
	bool		cut;
} BpDumpResult;

/*
 * Collect the pages and the spaces and write the file; the status row
 * gets the counts.  Runs under bp_warm_dump's error cleanup.
 */
static void
bp_dump_write_file(BpWarmOp *op, BpDumpResult *res)
{
	int			n_inst = BpShmem->n_instances;
	int			i;
	uint32	   *counts;
	BpDumpPage **pages;
	BpDumpSpace *spaces;
	uint64	   *entries;
	int			n_spaces = 0;
	int64		total = 0;
	BpDumpHeader hdr;
	BpFilePart	parts[4];

	memset(res, 0, sizeof(*res));
	counts = palloc0(sizeof(uint32) * n_inst);
	pages = palloc0(sizeof(BpDumpPage *) * n_inst);
	for (i = 0; i < n_inst; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];
		int64		target = ((int64) inst->lru_len * bp_dump_pct + 99) / 100;
		bool		cut;

		pages[i] = palloc_extended(sizeof(BpDumpPage) * Max(target, 1), MCXT_ALLOC_HUGE);
		counts[i] = (uint32) bp_dump_walk(i, target, pages[i], &cut);
		res->cut |= cut;
		total += counts[i];
	}

	/* the spaces: ACTIVE ones, by index */
	spaces = palloc(sizeof(BpDumpSpace) * BP_MAX_SPACES);
	LWLockAcquire(&BpShmem->space_lock.lock, LW_SHARED);
	for (i = 0; i < BP_MAX_SPACES; i++)
	{
		BpSpaceEntry *e = &BpShmem->spaces[i];

		if (e->state != BP_SPACE_ACTIVE)
			continue;
		spaces[n_spaces].space_id = e->space_id;
		spaces[n_spaces].pad = 0;
		spaces[n_spaces].identity = e->identity;
		spaces[n_spaces].size_pages = e->size_pages;
		n_spaces++;
	}
	LWLockRelease(&BpShmem->space_lock.lock);

	entries = palloc_extended(sizeof(uint64) * Max(total, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < n_inst; i++)
	{
		uint32		k;
		uint32		kept = 0;

		for (k = 0; k < counts[i]; k++)
		{
			BpDumpPage *p = &pages[i][k];
			int			sx;

			/* few spaces, many pages: a linear look-up is fine */
			for (sx = 0; sx < n_spaces && spaces[sx].space_id != p->space_id; sx++)
				;
			if (sx == n_spaces)
			{
				res->dropped++;
				continue;
			}
			entries[res->n_entries++] = BP_ENTRY(sx, p->page_no, p->is_old);
			kept++;
		}
		counts[i] = kept;
	}

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = BP_DUMP_MAGIC;
	hdr.version = BP_DUMP_VERSION;
	hdr.page_size = BpShmem->page_size;
	hdr.n_instances = n_inst;
	hdr.system_identifier = GetSystemIdentifier();
	hdr.n_entries = res->n_entries;
	hdr.n_spaces = n_spaces;
	hdr.dump_pct = bp_dump_pct;
	hdr.dumped_at = GetCurrentTimestamp();
	hdr.lsn = pg_atomic_read_u64(&BpShmem->next_lsn);

	parts[0].data = &hdr;
	parts[0].len = sizeof(hdr);
	parts[1].data = counts;
	parts[1].len = sizeof(uint32) * n_inst;
	parts[2].data = spaces;
	parts[2].len = sizeof(BpDumpSpace) * n_spaces;
	parts[3].data = entries;
	parts[3].len = sizeof(uint64) * res->n_entries;
	op->pages_total = total;
	op->pages_done = res->n_entries;
	op->skipped[BP_SKIP_DROPPED] = res->dropped;
	op->bytes = sizeof(hdr) + sizeof(uint32) * n_inst + sizeof(BpDumpSpace) * n_spaces +
		sizeof(uint64) * res->n_entries + sizeof(pg_crc32c);
	bp_warm_publish(op);
	/* a test may stop the dump at dump-write: the whole file written, not renamed */
	bp_file_write_checksummed(BP_DUMP_FILE, parts, lengthof(parts), "dump-write");
}

/*
 * Write the dump file.  Returns the pages written, or -1 if a dump was
 * not made (quiet, and another dump is being written, or a load runs or
 * was cut short by the shutdown: the file stays as it is; the reason is
 * in *why).  Not quiet (bufpool.dump()), those are ERRORs.  An I/O error
 * is an ERROR, the previous file kept.
 */
int64
bp_warm_dump(bool quiet, const char **why)
{
	BpWarmOp	op;
	BpDumpResult res;
	MemoryContext cxt;
	MemoryContext old;
	bool		busy;
	bool		loading;

	*why = NULL;
	bp_ensure_attached();
	SpinLockAcquire(&BpShmem->warm_mutex);
	busy = BpShmem->warm_dumping;
	loading = BpShmem->warm_loading || (quiet && BpShmem->warm_load_cut);
	if (!busy && !loading)
	{
		BpShmem->warm_dumping = true;
		BpShmem->warm_load_cut = false; /* asked for: the pool as it is now */
	}
	SpinLockRelease(&BpShmem->warm_mutex);
	if (busy)
	{
		*why = "another dump is being written";
		if (quiet)
			return -1;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("a bufpool_ext buffer pool dump is already being written")));
	}
	if (loading)
	{
		*why = "a load runs or was cut short by the shutdown: the pool holds only part of what the dump file names, and the file is kept";
		if (quiet)
			return -1;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot dump the bufpool_ext buffer pool while a load runs"),
				 errdetail("The pool holds only part of the pages the dump file \"%s\" names; a dump now would replace it with that part.",
						   BP_DUMP_FILE),
				 errhint("Wait for the load to end (bufpool.dump_load_status), or stop it with bufpool.load_abort().")));
	}

	op.id = bp_warm_begin(BP_WARM_DUMP);
	(void) bp_warm_get(op.id, &op);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "bufpool_ext dump", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_ENSURE_ERROR_CLEANUP(bp_warm_dump_end, Int64GetDatum(op.id));
	{
		bp_dump_write_file(&op, &res);
	}
	PG_END_ENSURE_ERROR_CLEANUP(bp_warm_dump_end, Int64GetDatum(op.id));
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);

	bp_warm_finish(&op, BP_WARM_COMPLETED, LOG,
				   "Dumped %lld pages of %d instance(s) (%d%% of each LRU list) to \"%s\", %lld bytes%s%s",
				   (long long) res.n_entries, BpShmem->n_instances, bp_dump_pct, BP_DUMP_FILE,
				   (long long) op.bytes,
				   res.dropped > 0 ? "; pages of dropped spaces left out" : "",
				   res.cut ? "; the LRU list moved under the walk, which stopped early" : "");
	bp_warm_dump_end(0, Int64GetDatum(op.id));
	return res.n_entries;
}

/*
 * At a pool build (the pool manager, before READY): remove the temporary
 * file of a dump a crash cut short.  The dump file itself is whole or
 * absent (it is only ever renamed into place).
 */
void
bp_warm_startup(void)
{
	char		tmp[MAXPGPATH];

	snprintf(tmp, sizeof(tmp), "%s.tmp", BP_DUMP_FILE);
	if (unlink(tmp) == 0)
		ereport(LOG,
				(errmsg("removed \"%s\", left by a bufpool_ext buffer pool dump cut short", tmp)));
	else if (errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", tmp)));
}

/* ----------------------------------------------------------------
 * Load
 * ----------------------------------------------------------------
 */

static int
bp_load_item_cmp(const void *a, const void *b)
{
	const BpLoadItem *x = a;
	const BpLoadItem *y = b;

	if (x->space_id != y->space_id)
		return x->space_id < y->space_id ? -1 : 1;
	if (x->page_no != y->page_no)
		return x->page_no < y->page_no ? -1 : 1;
	return 0;
}

/*
 * Read the dump file into palloc'd memory and check it.  Returns NULL and
 * sets *reason if it cannot be used.
 */
static char *
bp_load_read_file(Size *len_out, char *reason, size_t reason_len)
{
	int			fd;
	struct stat st;
	char	   *buf;
	Size		len;
	Size		need;
	const BpDumpHeader *hdr;
	pg_crc32c	crc;
	pg_crc32c	stored;

	fd = OpenTransientFile(BP_DUMP_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		snprintf(reason, reason_len, errno == ENOENT ? "there is no dump file" : "could not open it: %s",
				 strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0)
	{
		snprintf(reason, reason_len, "could not stat it: %s", strerror(errno));
		CloseTransientFile(fd);
		return NULL;
	}
	len = st.st_size;
	if (len < sizeof(BpDumpHeader) + sizeof(pg_crc32c))
	{
		snprintf(reason, reason_len, "it is truncated (%zu bytes)", len);
		CloseTransientFile(fd);
		return NULL;
	}
	if (len > MaxAllocHugeSize)
	{
		snprintf(reason, reason_len, "it is too large (%zu bytes)", len);
		CloseTransientFile(fd);
		return NULL;
	}
	buf = palloc_extended(len, MCXT_ALLOC_HUGE);
	{
		Size		got = 0;

		while (got < len)
		{
			ssize_t		r = read(fd, buf + got, len - got);

			if (r <= 0)
			{
				snprintf(reason, reason_len, r < 0 ? "could not read it: %s" : "it shrank while being read%s",
						 r < 0 ? strerror(errno) : "");
				CloseTransientFile(fd);
				return NULL;
			}
			got += r;
		}
	}
	CloseTransientFile(fd);

	hdr = (const BpDumpHeader *) buf;
	if (hdr->magic != BP_DUMP_MAGIC)
	{
		snprintf(reason, reason_len, "it is not a bufpool_ext buffer pool dump");
		return NULL;
	}
	if (hdr->version != BP_DUMP_VERSION)
	{
		snprintf(reason, reason_len, "it has format version %u, this build reads %d",
				 hdr->version, BP_DUMP_VERSION);
		return NULL;
	}
	need = sizeof(BpDumpHeader) + sizeof(uint32) * (Size) hdr->n_instances +
		sizeof(BpDumpSpace) * (Size) hdr->n_spaces + sizeof(uint64) * hdr->n_entries +
		sizeof(pg_crc32c);
	if (hdr->n_instances > 1024 || hdr->n_spaces > BP_MAX_SPACES ||
		hdr->n_entries > (uint64) (len / sizeof(uint64)) || need != len)
	{
		snprintf(reason, reason_len, "it is truncated or has trailing bytes (%zu bytes, the header says %zu)",
				 len, need);
		return NULL;
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf, len - sizeof(pg_crc32c));
	FIN_CRC32C(crc);
	memcpy(&stored, buf + len - sizeof(pg_crc32c), sizeof(stored));
	if (crc != stored)
	{
		snprintf(reason, reason_len, "checksum mismatch (the file says %08X, its contents give %08X)",
				 stored, crc);
		return NULL;
	}
	if (hdr->system_identifier != GetSystemIdentifier())
	{
		snprintf(reason, reason_len, "it was written by another cluster (system identifier " UINT64_FORMAT ", this one is " UINT64_FORMAT ")",
				 hdr->system_identifier, GetSystemIdentifier());
		return NULL;
	}
	if (hdr->page_size != (uint32) BpShmem->page_size)
	{
		snprintf(reason, reason_len, "it was written with pages of %u bytes, the pool has pages of %d bytes",
				 hdr->page_size, BpShmem->page_size);
		return NULL;
	}
	*len_out = len;
	return buf;
}

/* The page cleaners' free-list reserve of an instance: the load leaves it. */
static inline uint32
bp_load_keep(int instance)
{
	return (uint32) Min(bp_lru_scan_depth, (int) BpShmem->instances[instance].n_blocks / 10);
}

static bool
bp_load_shrinking(void)
{
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
		if (BpShmem->instances[i].withdraw_from != BP_MAX_CHUNKS)
			return true;
	return false;
}

static uint32
bp_load_others_reading(void)
{
	uint32		n = 0;
	int			i;

	for (i = 0; i < BpShmem->n_instances; i++)
		n += pg_atomic_read_u32(&BpShmem->instances[i].pending_reads);
	return n;
}

/*
 * The end of the run that starts at items[i]: pages of one space, in
 * order, spanning at most BP_READ_RUN_MAX pages, with gaps of at most
 * BP_LOAD_GAP_MAX pages between two of them (read too, and thrown away:
 * one larger read costs less than two).
 */
static int64
bp_load_run_end(const BpLoadItem *items, int64 n_items, int64 i)
{
	int64		e = i + 1;

	while (e < n_items && items[e].space_id == items[i].space_id &&
		   items[e].page_no - items[i].page_no < BP_READ_RUN_MAX &&
		   items[e].page_no - items[e - 1].page_no <= BP_LOAD_GAP_MAX + 1)
		e++;
	return e;
}

/* one read of a run, for bp_try_call */
typedef struct BpLoadRead
{
	uint32		space_id;
	uint32		first;
	int			n;
	char	  **bufs;
} BpLoadRead;

static void
bp_load_read_step(void *arg)
{
	BpLoadRead *r = (BpLoadRead *) arg;
	BpFaultPage fp = {r->space_id, r->first, NULL};

	if (BP_FAULT("load-run", &fp))
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("could not read pages %u to %u of bufpool space %u: injected by a test",
						r->first, r->first + r->n - 1, r->space_id)));
	bp_space_read_run(r->space_id, r->first, r->n, r->bufs);
}

/*
 * Read pages first .. first + n - 1 of a space into bufs; false, with the
 * error's message in last_error, if that failed.
 */
static bool
bp_load_read(uint32 space_id, uint32 first, int n, char **bufs, char *last_error)
{
	BpLoadRead	r = {space_id, first, n, bufs};

	return bp_try_call(bp_load_read_step, &r, last_error, BP_LOAD_ERROR_LEN, NULL, 0);
}

/*
 * Load one run: items[0 .. n-1], adjacent pages of one space.  Returns
 * the number of pages loaded; counts skips in op.
 */
static int
bp_load_run(BpWarmOp *op, const BpLoadItem *items, int n, uint64 identity,
			char *scratch, bool *loaded, bool *instance_full, char *last_error)
{
	BpBlockNo	blocks[BP_READ_RUN_MAX];
	int			insts[BP_READ_RUN_MAX];
	char	   *bufs[BP_READ_RUN_MAX];
	uint32		first = items[0].page_no;
	int			span = (int) (items[n - 1].page_no - first + 1);
	int			n_claimed = 0;
	int			done = 0;
	int			k;
	bool		read_ok;
	BpSpaceEntry e;

	Assert(span <= BP_READ_RUN_MAX);
	/* the pages of the span not claimed (gaps, skips) are read into scratch */
	for (k = 0; k < span; k++)
		bufs[k] = scratch + (Size) k * BpPageSize;
	for (k = 0; k < n; k++)
	{
		int			skip;
		int			inst;

		blocks[k] = BP_INVALID_BLOCK;
		inst = bp_instance_of(bp_page_hash(items[k].space_id, items[k].page_no));
		if (instance_full[inst])
		{
			op->skipped[BP_SKIP_NO_FREE]++;
			continue;
		}
		blocks[k] = bp_buf_load_claim(items[k].space_id, items[k].page_no, items[k].young,
									  bp_load_keep(inst), &insts[k], &skip);
		if (blocks[k] == BP_INVALID_BLOCK)
		{
			op->skipped[skip]++;
			if (skip == BP_SKIP_NO_FREE)
				instance_full[inst] = true;
			continue;
		}
		bufs[items[k].page_no - first] = bp_frame(&BpLocal[insts[k]], blocks[k]);
		n_claimed++;
	}
	if (n_claimed == 0)
		return 0;

	/*
	 * Claimed, then checked: a drop that marked the space DROPPING before
	 * this look-up fails the run; one after it finds the claimed blocks in
	 * the hash and waits for their read, as for a session's miss.
	 */
	if (!bp_space_lookup(items[0].space_id, &e) || e.identity != identity)
	{
		for (k = 0; k < n; k++)
			if (blocks[k] != BP_INVALID_BLOCK)
			{
				bp_buf_load_done(insts[k], blocks[k], false);
				op->skipped[BP_SKIP_DROPPED]++;
			}
		return 0;
	}

	read_ok = bp_load_read(items[0].space_id, first, span, bufs, last_error);
	for (k = 0; k < n; k++)
	{
		char	   *page;
		bool		ok;

		if (blocks[k] == BP_INVALID_BLOCK)
			continue;
		page = bufs[items[k].page_no - first];
		ok = read_ok;
		if (ok && bp_page_is_new(page))
			bp_page_init(page, items[k].space_id, items[k].page_no);
		else if (ok && !bp_page_is_intact(page, items[k].space_id, items[k].page_no))
			ok = false;
		bp_buf_load_done(insts[k], blocks[k], ok);
		if (ok)
		{
			loaded[items[k].pos] = true;
			done++;
		}
		else
			op->skipped[BP_SKIP_BAD]++;
	}
	op->bytes += (int64) span * BpPageSize;
	return done;
}

/*
 * Put the loaded pages where the dump had them: per instance of the dump,
 * coldest first, each at the head of the list or of its old sublist.
 */
static void
bp_load_arrange(const BpDumpHeader *hdr, const uint32 *counts, const BpDumpSpace *spaces,
				const uint64 *entries, const bool *loaded)
{
	uint64		base = 0;
	uint32		i;

	for (i = 0; i < hdr->n_instances; i++)
	{
		int64		k;

		for (k = (int64) counts[i] - 1; k >= 0; k--)
		{
			uint64		e = entries[base + k];

			if (!loaded[base + k])
				continue;
			(void) bp_buf_load_place(spaces[BP_ENTRY_SPACE(e)].space_id, BP_ENTRY_PAGE(e),
									 !BP_ENTRY_OLD(e));
			if ((k & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		base += counts[i];
	}
}

/* A dump file read and checked, and what the load makes of it. */
typedef struct BpLoadPlan
{
	const BpDumpHeader *hdr;
	const uint32 *counts;		/* entries per dumped instance */
	const BpDumpSpace *spaces;
	const uint64 *entries;
	uint64	   *identity_of;	/* per space index: its identity now, 0 = gone */
	BpLoadItem *items;			/* what to load, in (space, page) order */
	int64		n_items;
	bool	   *loaded;			/* per entry: the load brought it in */
} BpLoadPlan;

/*
 * Lay out the file and choose what to load: the entries of spaces that
 * still exist unchanged, inside them, hottest first up to what the free
 * lists can take now (the dumped instances interleaved by rank, so a dump
 * larger than the free space loads its hottest pages, not those that come
 * first in (space, page) order); then sorted for reading.  The skips go
 * into op.  Returns false with *reason if the file contradicts itself.
 */
static bool
bp_load_plan(char *file, BpWarmOp *op, BpLoadPlan *plan, char *reason, size_t reason_len)
{
	const BpDumpHeader *hdr = (const BpDumpHeader *) file;
	uint64	   *size_of;
	int64	   *spare;
	uint64	   *base;
	uint64		total = 0;
	uint32		max_count = 0;
	uint32		rank;
	uint32		s;

	plan->hdr = hdr;
	plan->counts = (const uint32 *) (file + sizeof(BpDumpHeader));
	plan->spaces = (const BpDumpSpace *) (plan->counts + hdr->n_instances);
	plan->entries = (const uint64 *) (plan->spaces + hdr->n_spaces);
	base = palloc0(sizeof(uint64) * (hdr->n_instances + 1));
	for (s = 0; s < hdr->n_instances; s++)
	{
		base[s + 1] = base[s] + plan->counts[s];
		max_count = Max(max_count, plan->counts[s]);
		total += plan->counts[s];
	}
	if (total != hdr->n_entries)
	{
		snprintf(reason, reason_len, "its instance counts add up to " UINT64_FORMAT " entries, its header says " UINT64_FORMAT,
				 total, hdr->n_entries);
		return false;
	}

	plan->identity_of = palloc0(sizeof(uint64) * Max(hdr->n_spaces, 1));
	size_of = palloc0(sizeof(uint64) * Max(hdr->n_spaces, 1));
	for (s = 0; s < hdr->n_spaces; s++)
	{
		BpSpaceEntry e;

		if (bp_space_lookup(plan->spaces[s].space_id, &e) && e.identity == plan->spaces[s].identity)
		{
			plan->identity_of[s] = e.identity;
			size_of[s] = e.size_pages;
		}
	}

	spare = palloc0(sizeof(int64) * BpShmem->n_instances);
	for (s = 0; s < (uint32) BpShmem->n_instances; s++)
		spare[s] = Max((int64) BpShmem->instances[s].free_len - bp_load_keep(s), 0);

	op->pages_total = hdr->n_entries;
	plan->items = palloc_extended(sizeof(BpLoadItem) * Max(hdr->n_entries, 1), MCXT_ALLOC_HUGE);
	plan->loaded = palloc_extended(sizeof(bool) * Max(hdr->n_entries, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	plan->n_items = 0;
	for (rank = 0; rank < max_count; rank++)
		for (s = 0; s < hdr->n_instances; s++)
		{
			uint64		pos = base[s] + rank;
			uint64		e;
			uint32		sx;
			uint32		space_id;
			int			inst;
			BpLoadItem *item;

			if (rank >= plan->counts[s])
				continue;
			e = plan->entries[pos];
			sx = BP_ENTRY_SPACE(e);
			if (sx >= hdr->n_spaces || plan->identity_of[sx] == 0)
			{
				op->skipped[BP_SKIP_DROPPED]++;
				continue;
			}
			if (BP_ENTRY_PAGE(e) >= size_of[sx])
			{
				op->skipped[BP_SKIP_BEYOND]++;
				continue;
			}
			space_id = plan->spaces[sx].space_id;
			inst = bp_instance_of(bp_page_hash(space_id, BP_ENTRY_PAGE(e)));
			if (spare[inst] <= 0)
			{
				op->skipped[BP_SKIP_NO_FREE]++;
				continue;
			}
			spare[inst]--;
			item = &plan->items[plan->n_items++];
			item->space_id = space_id;
			item->page_no = BP_ENTRY_PAGE(e);
			item->pos = (uint32) pos;
			item->young = !BP_ENTRY_OLD(e);
		}
	qsort(plan->items, plan->n_items, sizeof(BpLoadItem), bp_load_item_cmp);
	return true;
}

/*
 * Why the load should stop before its next run, or NULL; a shrink in
 * progress is waited out here (*paused_ms counts it).  *aborted tells an
 * abort from a full pool.
 */
static const char *
bp_load_should_stop(const bool *instance_full, long *paused_ms, bool *aborted)
{
	int			full = 0;
	int			k;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		*aborted = true;
		if (ShutdownRequestPending)
			return "stopped by the shutdown";
		if (pg_atomic_read_u32(&BpShmem->warm_abort) != 0)
			return "stopped by bufpool.load_abort()";
		*aborted = false;
		if (!bp_load_shrinking())
			break;
		/* a shrink moves blocks about: wait for it */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		*paused_ms += 10;
	}
	for (k = 0; k < BpShmem->n_instances; k++)
		full += instance_full[k] ? 1 : 0;
	return full == BpShmem->n_instances ? "the pool is full" : NULL;
}

/*
 * Read the planned pages run by run (see the file's header: read-ahead,
 * yielding).  Returns the pages loaded; *stop_reason says why it stopped
 * early (NULL if it did not), *aborted whether that was an abort.
 */
static int64
bp_load_pages(BpLoadPlan *plan, BpWarmOp *op, const char **stop_reason, bool *aborted,
			  long *paused_ms, char *last_error)
{
	const BpLoadItem *items = plan->items;
	int64		n_items = plan->n_items;
	bool	   *instance_full = palloc0(sizeof(bool) * BpShmem->n_instances);
	char	   *scratch = palloc((Size) BP_READ_RUN_MAX * BpPageSize);
	int64		next_prefetch = 0;
	int64		done = 0;
	int64		i = 0;

	*stop_reason = NULL;
	*aborted = false;
	while (i < n_items)
	{
		int64		run_end;
		int64		r;
		int			depth = 0;
		int			max_depth;
		uint32		others;

		*stop_reason = bp_load_should_stop(instance_full, paused_ms, aborted);
		if (*stop_reason != NULL)
			break;
		bp_ensure_attached();	/* a grow: map the new chunks */

		/*
		 * Sessions reading: their reads go first.  The load then reads
		 * ahead no further than this run, cuts the run to
		 * BP_LOAD_YIELD_BYTES, and sleeps a millisecond before it
		 * (scripts/bench_warm.sh measured the choices: see the README).
		 */
		others = bp_load_others_reading();
		max_depth = others > 0 ? 1 : bp_load_io_depth;
		run_end = bp_load_run_end(items, n_items, i);
		if (others > 0)
			while (run_end > i + 1 &&
				   (items[run_end - 1].page_no - items[i].page_no + 1) * (uint32) BpPageSize > BP_LOAD_YIELD_BYTES)
				run_end--;

		/* keep up to max_depth runs in the kernel's hands */
		if (next_prefetch < i)
			next_prefetch = i;
		for (r = i; r < n_items && depth < max_depth; depth++)
		{
			int64		e = bp_load_run_end(items, n_items, r);

			if (r >= next_prefetch)
			{
				bp_space_prefetch(items[r].space_id, items[r].page_no,
								  (int) (items[e - 1].page_no - items[r].page_no + 1));
				next_prefetch = e;
			}
			r = e;
		}

		if (others > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}

		done += bp_load_run(op, &items[i], (int) (run_end - i),
							plan->identity_of[BP_ENTRY_SPACE(plan->entries[items[i].pos])],
							scratch, plan->loaded, instance_full, last_error);
		op->pages_done = done;
		i = run_end;
		bp_warm_publish(op);
	}
	/* what was never tried because the pool filled up */
	if (*stop_reason != NULL && !*aborted)
		op->skipped[BP_SKIP_NO_FREE] += n_items - i;
	return done;
}

/*
 * The loader's work (src/workers/loader.c): load the dump into the pool
 * as operation op_id, which the starter opened.  Never raises an ERROR
 * for a bad file (WARNING, state failed); stops on load_abort() and on
 * the shutdown (state aborted).
 */
void
bp_warm_load(int64 op_id)
{
	BpWarmOp	op;
	BpLoadPlan	plan;
	char		reason[256];
	char	   *file;
	Size		len;
	int64		done;
	const char *stop_reason;
	bool		aborted;
	long		paused_ms = 0;
	char		last_error[BP_LOAD_ERROR_LEN] = "";

	if (!bp_warm_get(op_id, &op))
		return;
	bp_ensure_attached();
	file = bp_load_read_file(&len, reason, sizeof(reason));
	if (file == NULL || !bp_load_plan(file, &op, &plan, reason, sizeof(reason)))
	{
		bp_warm_finish(&op, BP_WARM_FAILED, WARNING,
					   "dump file \"%s\" not loaded: %s; the pool starts cold",
					   BP_DUMP_FILE, reason);
		return;
	}
	bp_warm_publish(&op);

	done = bp_load_pages(&plan, &op, &stop_reason, &aborted, &paused_ms, last_error);
	if (!aborted)
		bp_load_arrange(plan.hdr, plan.counts, plan.spaces, plan.entries, plan.loaded);

	bp_warm_finish(&op, aborted ? BP_WARM_ABORTED : BP_WARM_COMPLETED, LOG,
				   "Loaded %lld/%lld pages from \"%s\"%s%s; skipped %lld (space dropped %lld, beyond the space %lld, already in the pool %lld, no free block %lld, unreadable or bad %lld); %.1f MB/s%s%s%s",
				   (long long) done, (long long) op.pages_total, BP_DUMP_FILE,
				   stop_reason ? ", " : "", stop_reason ? stop_reason : "",
				   (long long) bp_warm_skipped(&op),
				   (long long) op.skipped[BP_SKIP_DROPPED], (long long) op.skipped[BP_SKIP_BEYOND],
				   (long long) op.skipped[BP_SKIP_PRESENT], (long long) op.skipped[BP_SKIP_NO_FREE],
				   (long long) op.skipped[BP_SKIP_BAD],
				   bp_warm_rate(&op) / (1024.0 * 1024.0),
				   paused_ms > 0 ? "; paused for a shrink" : "",
				   last_error[0] ? "; last read error: " : "", last_error);
}
