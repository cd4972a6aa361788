/*-------------------------------------------------------------------------
 *
 * redo.c
 *	  The redo log: log buffer, group commit, log writer, fuzzy
 *	  checkpoints and crash recovery.
 *
 * Every change of a page appends a record to a log buffer in main shared
 * memory (BpRedo->buffer, bufpool_ext.log_buffer_size) and gets its LSN
 * from it: an LSN is a byte position in the endless stream of records.
 * The page header keeps the end LSN of the newest record applied to it;
 * a dirty block also keeps the start LSN of its oldest unwritten record
 * (oldest_lsn, which orders the flush list).
 *
 * Records go to one circular file, $PGDATA/bufpool_ext/redo_log, of
 * bufpool_ext.log_file_size bytes: LSN l lives at offset l % file_size.
 * A record carries its own LSN and a CRC-32C, so recovery knows where the
 * valid records of the current lap end.
 *
 * Durability (bufpool_ext.flush_log_at_commit, as InnoDB's
 * innodb_flush_log_at_trx_commit): 1 (default) bufpool.write_page returns
 * only when its record is fsynced; 2 once it is written (the log writer
 * fsyncs about every second); 0 the log writer writes and fsyncs about
 * every second.  Group commit: a committer that finds write_lock free
 * writes and fsyncs everything inserted so far; the ones that queued
 * behind it (LWLockAcquireOrWait) usually find their record already
 * durable and return without an fsync of their own.
 *
 * Write-ahead rule: a page is written to its data file only after the log
 * is durable up to the page's newest LSN (bp_flush_block_io calls
 * bp_redo_flush first).
 *
 * Checkpoints are fuzzy: the checkpoint LSN is the smallest oldest_lsn on
 * the flush lists (or the insert LSN when nothing is dirty).  Data files
 * are fsynced, then the LSN goes to one of two 512-byte slots of
 * $PGDATA/bufpool_ext/redo_control, alternately, each with a CRC.  The
 * log writer (src/workers/logwriter.c) checkpoints every
 * bufpool_ext.checkpoint_timeout and when the log is half full; bufpool.checkpoint() does one at once.  The
 * page cleaners flush harder as the checkpoint age grows (cleaner.c).
 * Records are never overwritten before the checkpoint passes them:
 * the pool's bp_log_free_check, called before any page is locked, flushes
 * the oldest pages and checkpoints while bp_redo_has_room finds less than
 * the margin (room for one record of every process) left; once it finds
 * the room it gives its process a credit for one record; a
 * mini-transaction reserves room for its largest group instead
 * (bp_redo_reserve).  An append never waits for a checkpoint, since its
 * caller holds page locks a checkpoint may need: with the credit or the
 * reservation it always finds room; without (a C caller making several
 * changes per check) it may not take the margin nor the reservations, and
 * gets an ERROR before anything changed when it would.
 *
 * Recovery runs in the pool manager before the pool is READY, after the
 * doublewrite repair: from the newest valid checkpoint it reads records
 * while they are valid, applies each to its page when the page's LSN is
 * older, writes the pages back, fsyncs them and checkpoints at the end of
 * the log.  What it did is logged and shown in bufpool.redo_status.
 *
 * Locks (after the pool's content_lock and flush_lock, see pool.h):
 *	  6. BpRedo->insert_lock	(the buffer; held while copying one record)
 *	  7. BpRedo->write_lock		(writing and fsyncing the log file)
 * ckpt_lock is taken before any pool lock.  Nothing waits for room in
 * the log buffer while holding insert_lock, and nothing waits for room in
 * the log file (a checkpoint) while holding a page lock.
 *
 * IDENTIFICATION
 *	  src/redo/redo.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "bufpool_ext/storage/dblwr.h"
#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/storage/space.h"

#define BP_REDO_LOG_FILE		BP_DIR "/redo_log"
#define BP_REDO_CONTROL_FILE	BP_DIR "/redo_control"
#define BP_REDO_CONTROL_MAGIC	0x42505243	/* "BPRC" */
#define BP_REDO_CONTROL_VERSION	1
#define BP_REDO_SLOT			512
/* a new log starts this far past any LSN recorded before (see bp_redo_new_log) */
#define BP_REDO_FIRST_GAP		(UINT64CONST(1) << 32)
#define BP_REDO_READ_WINDOW		(1024 * 1024)

typedef struct BpRedoControl
{
	uint32		magic;
	uint32		version;
	uint64		checkpoint_lsn;
	uint64		file_size;
	uint32		page_size;
	uint32		checkpoint_no;
	TimestampTz time;
	uint32		crc;			/* CRC-32C of the fields before it */
} BpRedoControl;

BpRedoShared *BpRedo = NULL;

static File log_file = -1;

/*
 * Set by bp_redo_has_room when it found the margin free, taken by the
 * next append: the one record per process the margin is kept for.  Only
 * an append with the credit may use the margin.  Credits are granted only
 * while margin >= (processes) x (largest record) is free, and each is
 * spent on one record at most, so a credited append always finds room
 * and never has to wait for a checkpoint with a page locked.
 */
static bool my_log_credit = false;

/*
 * A mini-transaction's group can be many full-page records, more than
 * the margin's one record per process: bp_mtr_start reserves room for the
 * largest group (bp_redo_reserve), counted in BpRedo->reserved, and its
 * commit's append spends it.  Every room check counts the reservations
 * of others as used, so a reserved group always finds room, however many
 * mini-transactions commit at once.  What this process holds; given back
 * by the append, by bp_mtr_abort and at a (sub)transaction's abort.
 */
static uint64 my_log_reserved = 0;

static Size
bp_redo_buffer_bytes(void)
{
	return (Size) bp_log_buffer_size_kb * 1024;
}

Size
bp_redo_shmem_size(void)
{
	return add_size(offsetof(BpRedoShared, buffer), bp_redo_buffer_bytes());
}

void
bp_redo_shmem_init(void)
{
	bool		found;

	BpRedo = ShmemInitStruct("bufpool_ext redo", bp_redo_shmem_size(), &found);
	if (!found)
	{
		int			tranche = LWLockNewTrancheId();

		memset(BpRedo, 0, offsetof(BpRedoShared, buffer));
		LWLockInitialize(&BpRedo->insert_lock.lock, tranche);
		LWLockInitialize(&BpRedo->write_lock.lock, tranche);
		LWLockInitialize(&BpRedo->ckpt_lock.lock, tranche);
		BpRedo->buffer_size = bp_redo_buffer_bytes();
		pg_atomic_init_u64(&BpRedo->insert_lsn, 0);
		pg_atomic_init_u64(&BpRedo->write_lsn, 0);
		pg_atomic_init_u64(&BpRedo->flush_lsn, 0);
		pg_atomic_init_u64(&BpRedo->checkpoint_lsn, 0);
		pg_atomic_init_u32(&BpRedo->writer_procno, INVALID_PGPROCNO);
		pg_atomic_init_u64(&BpRedo->records, 0);
		pg_atomic_init_u64(&BpRedo->bytes, 0);
		pg_atomic_init_u64(&BpRedo->writes, 0);
		pg_atomic_init_u64(&BpRedo->fsyncs, 0);
		pg_atomic_init_u64(&BpRedo->buffer_waits, 0);
		pg_atomic_init_u64(&BpRedo->log_full_waits, 0);
		pg_atomic_init_u64(&BpRedo->reserved, 0);
		pg_atomic_init_u64(&BpRedo->checkpoints, 0);
		/* the tranche id is the same in every process: children inherit it */
		BpRedo->tranche = tranche;
		bp_mem_count_startup("memory/bufpool/shmem", bp_redo_shmem_size());
	}
	LWLockRegisterTranche(BpRedo->tranche, "bufpool_ext_redo");
	bp_space_lsn_source = bp_redo_insert_lsn;
}

uint64
bp_redo_insert_lsn(void)
{
	return pg_atomic_read_u64(&BpRedo->insert_lsn);
}

static void
bp_redo_check_ready(void)
{
	if (!BpRedo->ready)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the bufpool_ext redo log is not ready"),
				 errdetail("Recovery has not finished.")));
}

/* insert LSN - checkpoint LSN, read in that order so a checkpoint between the reads cannot make it negative */
static inline uint64
bp_redo_age(void)
{
	uint64		ckpt = pg_atomic_read_u64(&BpRedo->checkpoint_lsn);
	uint64		ins;

	pg_read_barrier();
	ins = pg_atomic_read_u64(&BpRedo->insert_lsn);
	return ins > ckpt ? ins - ckpt : 0;
}

uint64
bp_redo_checkpoint_age(void)
{
	return bp_redo_age();
}

/* ---------------------------------------------------------------- files */

static File
bp_redo_file(void)
{
	if (log_file < 0)
	{
		log_file = PathNameOpenFile(BP_REDO_LOG_FILE, O_RDWR | PG_BINARY);
		if (log_file < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open bufpool_ext redo log \"%s\": %m", BP_REDO_LOG_FILE)));
	}
	return log_file;
}

/* Write [from, to) of the log buffer to the file (caller holds write_lock). */
static void
bp_redo_write_range(uint64 from, uint64 to)
{
	File		f = bp_redo_file();
	Size		bsize = BpRedo->buffer_size;
	uint64		fsize = BpRedo->file_size;

	while (from < to)
	{
		Size		boff = (Size) (from % bsize);
		uint64		foff = from % fsize;
		Size		n = (Size) Min(to - from, (uint64) (bsize - boff));
		int			w;

		n = (Size) Min((uint64) n, fsize - foff);
		errno = 0;
		if (BP_FAULT("redo-write", NULL))
			w = -1;				/* the callback set errno */
		else
			w = FileWrite(f, BpRedo->buffer + boff, n, (off_t) foff, PG_WAIT_EXTENSION);
		if (w != (int) n)
		{
			if (w >= 0)
				errno = ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write %zu bytes at offset %llu of bufpool_ext redo log \"%s\": %m",
							n, (unsigned long long) foff, BP_REDO_LOG_FILE)));
		}
		from += n;
	}
	pg_atomic_fetch_add_u64(&BpRedo->writes, 1);
}

/*
 * fdatasync: the file is written full of zeros when it is made, so a log
 * write never changes its size or allocation and needs no metadata sync.
 */
static void
bp_redo_sync_file(void)
{
	int			rc;

	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	rc = pg_fdatasync(FileGetRawDesc(bp_redo_file()));
	pgstat_report_wait_end();
	if (rc != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync bufpool_ext redo log \"%s\": %m", BP_REDO_LOG_FILE)));
	pg_atomic_fetch_add_u64(&BpRedo->fsyncs, 1);
}

/*
 * Write (sync: and fsync) the log at least up to lsn.  Whoever gets
 * write_lock writes everything inserted so far, so the processes queued
 * behind it mostly find their records done (group commit).
 */
void
bp_redo_flush(uint64 lsn, bool sync)
{
	for (;;)
	{
		uint64		target;
		uint64		written;

		if (pg_atomic_read_u64(sync ? &BpRedo->flush_lsn : &BpRedo->write_lsn) >= lsn)
			return;
		/* an ERROR below releases the lock with all others (LWLockReleaseAll) */
		if (!LWLockAcquireOrWait(&BpRedo->write_lock.lock, LW_EXCLUSIVE))
			continue;			/* someone else wrote: look again */
		target = pg_atomic_read_u64(&BpRedo->insert_lsn);
		pg_read_barrier();
		written = pg_atomic_read_u64(&BpRedo->write_lsn);
		if (target > written)
		{
			bp_redo_write_range(written, target);
			pg_atomic_write_u64(&BpRedo->write_lsn, target);
		}
		else
			target = written;
		if (sync && pg_atomic_read_u64(&BpRedo->flush_lsn) < target)
		{
			bp_redo_sync_file();
			pg_atomic_write_u64(&BpRedo->flush_lsn, target);
		}
		LWLockRelease(&BpRedo->write_lock.lock);
	}
}

void
bp_redo_commit(uint64 lsn)
{
	if (bp_flush_log_at_commit == 1)
		bp_redo_flush(lsn, true);
	else if (bp_flush_log_at_commit == 2)
		bp_redo_flush(lsn, false);
}

static void
bp_redo_wake_writer(void)
{
	uint32		procno = pg_atomic_read_u32(&BpRedo->writer_procno);

	if (procno != INVALID_PGPROCNO)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

/* ---------------------------------------------------------------- append */

static void
bp_redo_copy_in(uint64 lsn, const char *src, Size n)
{
	Size		bsize = BpRedo->buffer_size;

	while (n > 0)
	{
		Size		boff = (Size) (lsn % bsize);
		Size		k = Min(n, bsize - boff);

		memcpy(BpRedo->buffer + boff, src, k);
		src += k;
		lsn += k;
		n -= k;
	}
}

static void
bp_redo_zero_in(uint64 lsn, Size n)
{
	static const char zeros[8] = {0};

	if (n > 0)
		bp_redo_copy_in(lsn, zeros, n);
}

static uint32
bp_redo_record_crc(const BpRedoRecord *hdr, const char *data)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &hdr->len, sizeof(uint32));
	COMP_CRC32C(crc, &hdr->type, BP_REDO_HDR - offsetof(BpRedoRecord, type));
	COMP_CRC32C(crc, data, hdr->data_len);
	FIN_CRC32C(crc);
	return crc;
}

/*
 * Append a group of n records, contiguous in the log (one hold of
 * insert_lock): every record but the last has BP_REDO_F_MORE, so recovery
 * applies the group whole or not at all.  Returns the group's end LSN
 * (every page of the group takes it) and puts its start in *start_lsn.
 * The caller holds the pages' content locks exclusively and, for those
 * that were clean, their instances' flush_locks (ascending instance
 * order).  ERROR, nothing appended, if the group does not fit the log or
 * its buffer; a group of one record is a plain record.
 */
uint64
bp_redo_append_group(const BpRedoPart *parts, int n, uint64 *start_lsn)
{
	BpRedoRecord local[8];
	BpRedoRecord *hdrs = n <= lengthof(local) ? local : palloc(sizeof(BpRedoRecord) * n);
	uint64		start;
	uint64		end;
	uint64		total = 0;
	uint64		pos;
	bool		waited = false;
	bool		credit = my_log_credit;
	uint64		reserved = my_log_reserved;
	int			n_write = n;
	BpFaultGroup fg;
	int			i;

	Assert(n > 0);
	memset(hdrs, 0, sizeof(BpRedoRecord) * n);
	bp_redo_check_ready();
	my_log_credit = false;
	for (i = 0; i < n; i++)
	{
		BpRedoRecord *hdr = &hdrs[i];

		hdr->len = (uint32) TYPEALIGN(8, BP_REDO_HDR + parts[i].data_len);
		hdr->type = parts[i].type;
		hdr->space_id = parts[i].space_id;
		hdr->page_no = parts[i].page_no;
		hdr->offset = parts[i].offset;
		hdr->data_len = parts[i].data_len;
		hdr->flags = i < n - 1 ? BP_REDO_F_MORE : 0;
		hdr->crc = bp_redo_record_crc(hdr, parts[i].data);	/* the LSN is not in it */
		total += hdr->len;
	}
	/* a test cuts the group short: a crash in the middle of its write */
	fg.n = n;
	fg.pages = 0;
	fg.keep = n;
	if (n > 1 && BP_FAULT_ARMED())
	{
		for (i = 0; i < n; i++)	/* a page's records are consecutive */
			if (i == 0 || parts[i].page_no != parts[i - 1].page_no ||
				parts[i].space_id != parts[i - 1].space_id)
				fg.pages++;
	}
	if (n > 1 && BP_FAULT("redo-group", &fg) && fg.keep >= 1 && fg.keep < n)
	{
		n_write = fg.keep;
		total = 0;
		for (i = 0; i < n_write; i++)
			total += hdrs[i].len;
	}
	if (total > BpRedo->buffer_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("bufpool_ext redo group of %llu bytes is larger than the log buffer",
						(unsigned long long) total),
				 errdetail("The log buffer holds %llu bytes (bufpool_ext.log_buffer_size).",
						   (unsigned long long) BpRedo->buffer_size)));

	for (;;)
	{
		uint64		ckpt;

		LWLockAcquire(&BpRedo->insert_lock.lock, LW_EXCLUSIVE);
		start = pg_atomic_read_u64(&BpRedo->insert_lsn);
		end = start + total;
		ckpt = pg_atomic_read_u64(&BpRedo->checkpoint_lsn);
		/*
		 * A group within its reservation may use it; a credited record the
		 * margin; anything else must leave both free.
		 */
		if (end - ckpt +
			(total <= reserved ? 0 :
			 (credit ? 0 : BpRedo->margin) + pg_atomic_read_u64(&BpRedo->reserved) - reserved) >
			BpRedo->file_size)
		{
			/*
			 * The record would overwrite log recovery may need, or (without
			 * a credit) take room kept for the processes that hold one.
			 * Waiting here for a checkpoint could wait for ever: the caller
			 * holds this page's content lock, and perhaps flush_lock, which
			 * the checkpoint may need.  Nothing has changed yet.
			 */
			LWLockRelease(&BpRedo->insert_lock.lock);
			bp_redo_wake_writer();
			if (credit)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("bufpool_ext redo log has no room within its margin for a change of page %u of space %u",
								parts[n - 1].page_no, parts[n - 1].space_id),
						 errdetail("The change needs %llu bytes of log.", (unsigned long long) total),
						 errhint("Call bp_log_free_check() again, with no page locked, and retry.")));
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("bufpool_ext redo log has no room for a change of page %u of space %u made without bp_log_free_check()",
							parts[n - 1].page_no, parts[n - 1].space_id),
					 errdetail("%llu of the log's %llu bytes are in use since the checkpoint; the last %llu are kept for changes announced by bp_log_free_check().",
							   (unsigned long long) (start - ckpt),
							   (unsigned long long) BpRedo->file_size,
							   (unsigned long long) BpRedo->margin),
					 errhint("Call bp_log_free_check() before locking each page you change, with no page locked.")));
		}
		if (end - pg_atomic_read_u64(&BpRedo->write_lsn) <= BpRedo->buffer_size)
			break;
		LWLockRelease(&BpRedo->insert_lock.lock);
		if (!waited)
			pg_atomic_fetch_add_u64(&BpRedo->buffer_waits, 1);
		waited = true;
		bp_redo_flush(start, false);	/* make room in the buffer */
	}
	pos = start;
	for (i = 0; i < n_write; i++)
	{
		BpRedoRecord *hdr = &hdrs[i];

		hdr->lsn = pos;
		bp_redo_copy_in(pos, (const char *) hdr, BP_REDO_HDR);
		bp_redo_copy_in(pos + BP_REDO_HDR, parts[i].data, parts[i].data_len);
		bp_redo_zero_in(pos + BP_REDO_HDR + parts[i].data_len,
						hdr->len - BP_REDO_HDR - parts[i].data_len);
		pos += hdr->len;
	}
	pg_write_barrier();
	pg_atomic_write_u64(&BpRedo->insert_lsn, end);
	LWLockRelease(&BpRedo->insert_lock.lock);
	if (hdrs != local)
		pfree(hdrs);
	bp_redo_release_reservation();	/* spent: the room is now used log */

	if (n_write < n)
	{
		bp_redo_flush(end, true);
		elog(PANIC, "bufpool_ext fault point redo-group: a group of %d redo records on %d pages cut after %d, made durable",
			 n, fg.pages, n_write);
	}
	pg_atomic_fetch_add_u64(&BpRedo->records, n);
	pg_atomic_fetch_add_u64(&BpRedo->bytes, total);
	/* the log buffer is written when it is more than half full */
	if (end - pg_atomic_read_u64(&BpRedo->write_lsn) > BpRedo->buffer_size / 2)
		bp_redo_wake_writer();
	*start_lsn = start;
	return end;
}

/*
 * Append one record; returns its end LSN (the page's new LSN) and puts its
 * start in *start_lsn.  The caller holds the page's content lock
 * exclusively (so the records of a page are in the order of its changes)
 * and, when the page was clean, its instance's flush_lock.
 */
uint64
bp_redo_append(uint32 type, uint32 space_id, uint32 page_no,
			   uint32 offset, const char *data, uint32 data_len, uint64 *start_lsn)
{
	BpRedoPart	part = {type, space_id, page_no, offset, data, data_len};

	return bp_redo_append_group(&part, 1, start_lsn);
}

/* ---------------------------------------------------------------- checkpoints */

static void
bp_redo_write_control(uint64 lsn)
{
	char		slot[BP_REDO_SLOT];
	BpRedoControl *c = (BpRedoControl *) slot;
	File		f;
	uint32		no = BpRedo->checkpoint_no + 1;

	memset(slot, 0, sizeof(slot));
	c->magic = BP_REDO_CONTROL_MAGIC;
	c->version = BP_REDO_CONTROL_VERSION;
	c->checkpoint_lsn = lsn;
	c->file_size = BpRedo->file_size;
	c->page_size = (uint32) BpPageSize;
	c->checkpoint_no = no;
	c->time = GetCurrentTimestamp();
	INIT_CRC32C(c->crc);
	COMP_CRC32C(c->crc, c, offsetof(BpRedoControl, crc));
	FIN_CRC32C(c->crc);

	/* owner only, like every file of bufpool_ext (PostgreSQL's default is 0640 with group access) */
	f = PathNameOpenFilePerm(BP_REDO_CONTROL_FILE, O_RDWR | O_CREAT | PG_BINARY, S_IRUSR | S_IWUSR);
	if (f < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open \"%s\": %m", BP_REDO_CONTROL_FILE)));
	errno = 0;
	if (FileWrite(f, slot, BP_REDO_SLOT, (off_t) (no % 2) * BP_REDO_SLOT,
				  PG_WAIT_EXTENSION) != BP_REDO_SLOT)
	{
		if (errno == 0)
			errno = ENOSPC;
		FileClose(f);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", BP_REDO_CONTROL_FILE)));
	}
	if (FileSync(f, PG_WAIT_EXTENSION) != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync \"%s\": %m", BP_REDO_CONTROL_FILE)));
	FileClose(f);
	if (no == 1)
		fsync_fname(BP_DIR, true);	/* the file's first write: its directory entry too */
	BpRedo->checkpoint_no = no;
}

/* The newest valid slot of the control file; false if there is none. */
static bool
bp_redo_read_control(BpRedoControl *out)
{
	char		buf[2 * BP_REDO_SLOT];
	int			fd;
	int			n;
	int			i;
	bool		found = false;

	fd = OpenTransientFile(BP_REDO_CONTROL_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0)
	{
		if (errno == ENOENT)
			return false;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open \"%s\": %m", BP_REDO_CONTROL_FILE)));
	}
	memset(buf, 0, sizeof(buf));
	n = read(fd, buf, sizeof(buf));
	CloseTransientFile(fd);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read \"%s\": %m", BP_REDO_CONTROL_FILE)));
	for (i = 0; i < 2; i++)
	{
		BpRedoControl *c = (BpRedoControl *) (buf + i * BP_REDO_SLOT);
		pg_crc32c	crc;

		if (c->magic != BP_REDO_CONTROL_MAGIC)
			continue;
		INIT_CRC32C(crc);
		COMP_CRC32C(crc, c, offsetof(BpRedoControl, crc));
		FIN_CRC32C(crc);
		if (crc != c->crc || c->version != BP_REDO_CONTROL_VERSION)
			continue;
		/* the newer slot, also across a wrap of the counter */
		if (!found || (int32) (c->checkpoint_no - out->checkpoint_no) > 0)
			*out = *c;
		found = true;
	}
	if (n > 0 && !found)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("bufpool_ext redo control file \"%s\" has no valid checkpoint",
						BP_REDO_CONTROL_FILE),
				 errdetail("Both of its slots fail their CRC; recovery cannot know where to start.")));
	return found;
}

/*
 * A fuzzy checkpoint: the smallest oldest_lsn of the flush lists (the
 * insert LSN read first when nothing older is dirty) becomes the point
 * recovery starts from, once the data files and the log up to it are
 * durable.  Returns the checkpoint LSN.
 */
uint64
bp_redo_checkpoint(void)
{
	uint64		lsn;
	int			i;

	bp_redo_check_ready();
	bp_ensure_attached();
	/* an ERROR releases ckpt_lock with all others (LWLockReleaseAll) */
	LWLockAcquire(&BpRedo->ckpt_lock.lock, LW_EXCLUSIVE);
	lsn = pg_atomic_read_u64(&BpRedo->insert_lsn);
	for (i = 0; i < BpShmem->n_instances; i++)
	{
		BpInstance *inst = &BpShmem->instances[i];

		LWLockAcquire(&inst->flush_lock.lock, LW_SHARED);
		if (inst->flush_tail != BP_INVALID_BLOCK)
			lsn = Min(lsn, bp_desc(&BpLocal[i], inst->flush_tail)->oldest_lsn);
		LWLockRelease(&inst->flush_lock.lock);
	}
	if (lsn > pg_atomic_read_u64(&BpRedo->checkpoint_lsn))
	{
		/* pages written before now may be in the kernel's cache only */
		bp_space_sync_all();
		bp_redo_flush(lsn, true);
		bp_redo_write_control(lsn);
		pg_atomic_write_u64(&BpRedo->checkpoint_lsn, lsn);
	}
	BpRedo->last_checkpoint = GetCurrentTimestamp();
	pg_atomic_fetch_add_u64(&BpRedo->checkpoints, 1);
	LWLockRelease(&BpRedo->ckpt_lock.lock);
	return pg_atomic_read_u64(&BpRedo->checkpoint_lsn);
}

/*
 * Whether the log has room past the checkpoint for every process's next
 * record, on top of the mini-transactions' reservations; if it has, this
 * process gets the credit for its next record (bp_redo_append).  The first time in a wait that it has not (*counted
 * false), the wait is counted in log_full_waits.  The pool's
 * bp_log_free_check makes room by flushing and checkpointing until this
 * holds.
 */
/* The first time a wait finds no room (*counted false), count it in log_full_waits. */
static bool
bp_redo_no_room(bool *counted)
{
	if (!*counted)
		pg_atomic_fetch_add_u64(&BpRedo->log_full_waits, 1);
	*counted = true;
	return false;
}

bool
bp_redo_has_room(bool *counted)
{
	bp_redo_check_ready();
	if (bp_redo_age() + BpRedo->margin + pg_atomic_read_u64(&BpRedo->reserved) >
		BpRedo->file_size)
		return bp_redo_no_room(counted);
	my_log_credit = true;
	return true;
}

/*
 * Reserve bytes of log for this process's next group (a mini-transaction's
 * commit), if the log has them on top of the margin and of the others'
 * reservations; otherwise false, as bp_redo_has_room.  A reservation
 * still held (a mini-transaction started again) is given back first.
 */
bool
bp_redo_reserve(uint64 bytes, bool *counted)
{
	uint64		r;

	bp_redo_check_ready();
	bp_redo_release_reservation();
	r = pg_atomic_read_u64(&BpRedo->reserved);
	for (;;)
	{
		if (bp_redo_age() + BpRedo->margin + r + bytes > BpRedo->file_size)
			return bp_redo_no_room(counted);
		if (pg_atomic_compare_exchange_u64(&BpRedo->reserved, &r, r + bytes))
			break;
	}
	my_log_reserved = bytes;
	my_log_credit = true;
	return true;
}

void
bp_redo_release_reservation(void)
{
	if (my_log_reserved == 0)
		return;
	pg_atomic_fetch_sub_u64(&BpRedo->reserved, my_log_reserved);
	my_log_reserved = 0;
}

/* ---------------------------------------------------------------- recovery */

typedef struct BpRecPageKey
{
	uint32		space_id;
	uint32		page_no;
} BpRecPageKey;

typedef struct BpRecPage
{
	BpRecPageKey key;
	char	   *page;
	bool		dirty;
	bool		bad;			/* failed its checksum; only a full page fixes it */
} BpRecPage;

typedef struct BpRedoReader
{
	File		file;
	uint64		file_size;
	char	   *win;			/* BP_REDO_READ_WINDOW bytes of the log */
	uint64		win_start;		/* LSN of win[0] */
	Size		win_len;
} BpRedoReader;

/* Copy n bytes of the log from lsn (reading the file as needed). */
static void
bp_redo_read(BpRedoReader *r, uint64 lsn, char *dst, Size n)
{
	while (n > 0)
	{
		Size		k;

		if (lsn < r->win_start || lsn >= r->win_start + r->win_len)
		{
			uint64		foff;
			Size		len;
			int			got;

			r->win_start = lsn - lsn % 8192;
			foff = r->win_start % r->file_size;
			len = (Size) Min((uint64) BP_REDO_READ_WINDOW, r->file_size - foff);
			got = FileRead(r->file, r->win, len, (off_t) foff, PG_WAIT_EXTENSION);
			if (got < 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not read bufpool_ext redo log \"%s\": %m", BP_REDO_LOG_FILE)));
			if ((Size) got < len)
				memset(r->win + got, 0, len - got);
			r->win_len = len;
		}
		k = Min(n, (Size) (r->win_start + r->win_len - lsn));
		memcpy(dst, r->win + (lsn - r->win_start), k);
		dst += k;
		lsn += k;
		n -= k;
	}
}

/*
 * Write a batch of recovered pages (prepared: header and checksum set)
 * in place, through the doublewrite file when it is on, so a crash in
 * the middle of recovery cannot leave a torn page behind; fsync them.
 */
static void
bp_recovery_write_batch(char *buf, const BpRecPageKey *keys, int k, BpRedoRecovery *rec)
{
	volatile int region = -1;
	int			j;

	if (k == 0)
		return;
	if (bp_doublewrite)
		region = bp_dblwr_claim(k);
	PG_TRY();
	{
		if (region >= 0)
			bp_dblwr_write(region, buf, k);
		for (j = 0; j < k; j++)
			if (bp_space_write_prepared(keys[j].space_id, keys[j].page_no,
										buf + (Size) j * BpPageSize, BpPageSize))
				rec->pages++;
		bp_space_sync_pending();
	}
	PG_CATCH();
	{
		/* its copies may be all that protects pages half written: keep them */
		if (region >= 0)
			bp_dblwr_retire(region);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (region >= 0)
		bp_dblwr_release(region);
}

static void
bp_recovery_write_back(HTAB *pages, BpRedoRecovery *rec)
{
	HASH_SEQ_STATUS seq;
	BpRecPage  *p;
	int			cap;
	char	   *buf = bp_dblwr_buffer(true, &cap);
	BpRecPageKey *keys = palloc(sizeof(BpRecPageKey) * cap);
	int			k = 0;

	hash_seq_init(&seq, pages);
	while ((p = hash_seq_search(&seq)) != NULL)
	{
		if (p->dirty && !p->bad)
		{
			char	   *dst = buf + (Size) k * BpPageSize;

			memcpy(dst, p->page, BpPageSize);
			bp_page_prepare_write(dst, p->key.space_id, p->key.page_no);
			keys[k++] = p->key;
			if (k == cap)
			{
				bp_recovery_write_batch(buf, keys, k, rec);
				k = 0;
			}
		}
		if (p->bad)
			rec->bad_pages++;
		pfree(p->page);
	}
	bp_recovery_write_batch(buf, keys, k, rec);
	pfree(keys);
	hash_destroy(pages);
}

static HTAB *
bp_recovery_page_table(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(BpRecPageKey);
	ctl.entrysize = sizeof(BpRecPage);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create("bufpool_ext recovery pages", 1024, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* The page a record applies to, read on first use. */
static BpRecPage *
bp_recovery_page(HTAB *pages, uint32 space_id, uint32 page_no)
{
	BpRecPageKey key = {space_id, page_no};
	BpRecPage  *p;
	bool		found;
	MemoryContext cxt = CurrentMemoryContext;

	p = hash_search(pages, &key, HASH_ENTER, &found);
	if (found)
		return p;
	p->page = palloc(BpPageSize);
	p->dirty = false;
	p->bad = false;
	PG_TRY();
	{
		bp_space_read(space_id, page_no, p->page);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->sqlerrcode != ERRCODE_DATA_CORRUPTED)
		{
			ReThrowError(edata);
		}
		ereport(WARNING,
				(errmsg("bufpool_ext recovery: %s", edata->message),
				 errdetail("Only a full-page record can restore this page.")));
		FreeErrorData(edata);
		bp_page_init(p->page, space_id, page_no);
		p->bad = true;
	}
	PG_END_TRY();
	return p;
}

/* A record of a group read by recovery and not applied yet. */
typedef struct BpRecGroupRec
{
	BpRedoRecord hdr;
	uint64		end;
	char	   *data;
} BpRecGroupRec;

/* Apply one valid record ending at end to its page, if the page is older. */
static void
bp_recovery_apply(HTAB *pages, const BpRedoRecord *hdr, const char *data, uint64 end,
				  BpRedoRecovery *rec)
{
	BpRecPage  *p;

	if (!bp_space_lookup(hdr->space_id, NULL))
	{
		rec->skipped_space++;
		return;
	}
	p = bp_recovery_page(pages, hdr->space_id, hdr->page_no);
	if (hdr->type == BP_REDO_PAGE && p->bad)
	{
		/* a full page replaces what is there, torn or not */
		bp_page_init(p->page, hdr->space_id, hdr->page_no);
		p->bad = false;
	}
	if (!p->bad && ((BpPageHeader *) p->page)->lsn < end)
	{
		memcpy(p->page + BP_PAGE_HEADER_SIZE + hdr->offset, data, hdr->data_len);
		((BpPageHeader *) p->page)->lsn = end;
		p->dirty = true;
		rec->applied++;
	}
}

/* Write size bytes of zeros to fd from offset 0; false with errno set on failure. */
static bool
bp_redo_zero_fill(int fd, uint64 size)
{
	const Size	chunk = 1024 * 1024;
	char	   *zeros = palloc0(chunk);
	uint64		off;
	bool		ok = true;

	for (off = 0; off < size && ok; off += chunk)
	{
		Size		n = (Size) Min((uint64) chunk, size - off);
		ssize_t		w;

		errno = 0;
		w = pg_pwrite(fd, zeros, n, (off_t) off);
		if (w != (ssize_t) n)
		{
			if (w >= 0)
				errno = ENOSPC;
			ok = false;
		}
		CHECK_FOR_INTERRUPTS();
	}
	pfree(zeros);
	return ok;
}

/*
 * Whether the log of ctl has no valid record at its checkpoint (a clean
 * shutdown, or everything checkpointed): nothing to recover.
 */
static bool
bp_redo_log_is_clean(const BpRedoControl *ctl)
{
	BpRedoReader r;
	BpRedoRecord hdr;
	char	   *data;
	bool		clean;

	r.file = PathNameOpenFile(BP_REDO_LOG_FILE, O_RDONLY | PG_BINARY);
	if (r.file < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open bufpool_ext redo log \"%s\": %m", BP_REDO_LOG_FILE)));
	r.file_size = ctl->file_size;
	r.win = palloc(BP_REDO_READ_WINDOW);
	r.win_start = 0;
	r.win_len = 0;
	bp_redo_read(&r, ctl->checkpoint_lsn, (char *) &hdr, BP_REDO_HDR);
	clean = hdr.lsn != ctl->checkpoint_lsn || hdr.data_len > ctl->page_size ||
		hdr.len != TYPEALIGN(8, BP_REDO_HDR + hdr.data_len);
	if (!clean)
	{
		data = palloc(hdr.data_len + 1);
		bp_redo_read(&r, ctl->checkpoint_lsn + BP_REDO_HDR, data, hdr.data_len);
		clean = bp_redo_record_crc(&hdr, data) != hdr.crc;
		pfree(data);
	}
	FileClose(r.file);
	pfree(r.win);
	return clean;
}

/* First start of the log: a new file and a checkpoint at its start. */
static void
bp_redo_new_log(uint64 start)
{
	int			fd;

	fd = OpenTransientFilePerm(BP_REDO_LOG_FILE, O_RDWR | O_CREAT | O_TRUNC | PG_BINARY,
							   S_IRUSR | S_IWUSR);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create bufpool_ext redo log \"%s\": %m", BP_REDO_LOG_FILE)));
	if (!bp_redo_zero_fill(fd, BpRedo->file_size) || pg_fsync(fd) != 0)
	{
		int			save = errno;

		CloseTransientFile(fd);
		errno = save;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write bufpool_ext redo log \"%s\" of %llu bytes: %m",
						BP_REDO_LOG_FILE, (unsigned long long) BpRedo->file_size)));
	}
	CloseTransientFile(fd);
	fsync_fname(BP_DIR, true);
	if (log_file >= 0)
	{
		FileClose(log_file);
		log_file = -1;
	}
	start = TYPEALIGN(8, start);
	pg_atomic_write_u64(&BpRedo->insert_lsn, start);
	pg_atomic_write_u64(&BpRedo->write_lsn, start);
	pg_atomic_write_u64(&BpRedo->flush_lsn, start);
	bp_redo_write_control(start);
	pg_atomic_write_u64(&BpRedo->checkpoint_lsn, start);
}

/*
 * Crash recovery, in the pool manager before the pool is READY (the
 * space registry is loaded, the doublewrite repair has run).
 */
void
bp_redo_recover(void)
{
	BpRedoControl ctl;
	BpRedoRecovery *rec = &BpRedo->recovery;
	uint64		margin;
	instr_time	t0;
	instr_time	t1;

	INSTR_TIME_SET_CURRENT(t0);
	memset(&ctl, 0, sizeof(ctl));
	memset(rec, 0, sizeof(*rec));
	BpRedo->ready = false;
	if (log_file >= 0)
	{
		FileClose(log_file);
		log_file = -1;
	}
	BpRedo->file_size = (uint64) bp_log_file_size_mb * 1024 * 1024;
	/* one record of the largest kind in flight per process */
	margin = (uint64) (MaxBackends + max_worker_processes + 8) *
		TYPEALIGN(8, BP_REDO_HDR + BpPageSize);
	BpRedo->margin = margin;
	if (2 * margin > BpRedo->file_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bufpool_ext.log_file_size %d MB is too small", bp_log_file_size_mb),
				 errdetail("It must hold at least twice a full-page record for every process: %llu bytes.",
						   (unsigned long long) (2 * margin))));

	if (bp_redo_read_control(&ctl) && ctl.page_size != (uint32) BpPageSize)
	{
		/* another page size: fine if there is nothing to recover */
		if (!bp_redo_log_is_clean(&ctl))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("bufpool_ext redo log was written with page size %u, the pool has %d",
							ctl.page_size, BpPageSize),
					 errdetail("The log holds changes after its last checkpoint."),
					 errhint("Start once with bufpool_ext.page_size = %u so recovery can apply them.",
							 ctl.page_size)));
		ereport(LOG,
				(errmsg("bufpool_ext.page_size changed from %u to %d; the redo log has nothing to recover and starts again",
						ctl.page_size, BpPageSize)));
		BpRedo->checkpoint_no = ctl.checkpoint_no;	/* the new slot must be the newest */
		bp_redo_new_log(ctl.checkpoint_lsn + ctl.file_size);	/* a lap on: see below */
		rec->ran = false;
		rec->start_lsn = rec->end_lsn = pg_atomic_read_u64(&BpRedo->insert_lsn);
	}
	else if (ctl.magic == 0)
	{
		uint64		start = Max(bp_space_max_lsn(), 1) + BP_REDO_FIRST_GAP;

		bp_redo_new_log(start);
		rec->ran = false;
		rec->start_lsn = rec->end_lsn = pg_atomic_read_u64(&BpRedo->insert_lsn);
		ereport(LOG,
				(errmsg("bufpool_ext redo log created: %d MB at LSN %llu",
						bp_log_file_size_mb, (unsigned long long) rec->start_lsn)));
	}
	else
	{
		BpRedoReader r;
		HTAB	   *pages = bp_recovery_page_table();
		uint64		pos = ctl.checkpoint_lsn;
		char	   *data = palloc(BpPageSize + BP_REDO_HDR);
		int			cached = 0;
		int			n_group = 0;
		int			max_group = 16;
		BpRecGroupRec *group = palloc(sizeof(BpRecGroupRec) * max_group);
		uint64		group_start = pos;
		int			i;
		/* pages kept between write-backs: the pool is not built yet, use half its size */
		int			max_cached = (int) Min((uint64) INT_MAX,
										   Max((uint64) 64 * 1024 * 1024,
											   (uint64) bp_size_mb * 1024 * 1024 / 2) / BpPageSize);

		BpRedo->checkpoint_no = ctl.checkpoint_no;
		r.file = PathNameOpenFile(BP_REDO_LOG_FILE, O_RDONLY | PG_BINARY);
		if (r.file < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open bufpool_ext redo log \"%s\": %m", BP_REDO_LOG_FILE)));
		r.file_size = ctl.file_size;
		r.win = palloc(BP_REDO_READ_WINDOW);
		r.win_start = 0;
		r.win_len = 0;
		rec->ran = true;
		rec->start_lsn = pos;

		for (;;)
		{
			BpRedoRecord hdr;
			uint64		end;

			bp_redo_read(&r, pos, (char *) &hdr, BP_REDO_HDR);
			if (hdr.lsn != pos || hdr.len < BP_REDO_HDR || hdr.len % 8 != 0 ||
				hdr.data_len > (uint32) BpPageSize || hdr.len != TYPEALIGN(8, BP_REDO_HDR + hdr.data_len) ||
				pos + hdr.len - ctl.checkpoint_lsn > ctl.file_size)
				break;
			bp_redo_read(&r, pos + BP_REDO_HDR, data, hdr.data_len);
			if (bp_redo_record_crc(&hdr, data) != hdr.crc)
				break;
			end = pos + hdr.len;
			rec->records++;
			if ((hdr.type != BP_REDO_BYTES && hdr.type != BP_REDO_PAGE) ||
				(hdr.flags & ~BP_REDO_F_MORE) != 0 ||
				(uint64) hdr.offset + hdr.data_len > (uint64) (BpPageSize - BP_PAGE_HEADER_SIZE) ||
				(hdr.type == BP_REDO_PAGE && hdr.data_len != (uint32) (BpPageSize - BP_PAGE_HEADER_SIZE)))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("bufpool_ext redo record at LSN %llu is malformed (type %u, flags %u, offset %u, length %u)",
								(unsigned long long) pos, hdr.type, hdr.flags, hdr.offset, hdr.data_len)));

			/*
			 * A group is applied when its last record is read; if the log
			 * ends inside it, none of it is (the loop stops there).
			 */
			if (n_group == 0)
				group_start = pos;
			if (n_group == max_group)
			{
				max_group *= 2;
				group = repalloc(group, sizeof(BpRecGroupRec) * max_group);
			}
			group[n_group].hdr = hdr;
			group[n_group].end = end;
			group[n_group].data = palloc(Max(hdr.data_len, 1));
			memcpy(group[n_group].data, data, hdr.data_len);
			n_group++;
			pos = end;
			if (hdr.flags & BP_REDO_F_MORE)
				continue;
			for (i = 0; i < n_group; i++)
			{
				if (cached >= max_cached)
				{
					bp_recovery_write_back(pages, rec);
					pages = bp_recovery_page_table();
					cached = 0;
				}
				bp_recovery_apply(pages, &group[i].hdr, group[i].data, group[i].end, rec);
				cached = hash_get_num_entries(pages);
				pfree(group[i].data);
			}
			if (n_group > 1)
				rec->groups++;
			n_group = 0;
			if (rec->records % 4096 == 0)
				CHECK_FOR_INTERRUPTS();
		}
		if (n_group > 0)
		{
			/* the log ends inside a group: it never happened */
			rec->records -= n_group;
			rec->groups_cut++;
			pos = group_start;
		}
		pfree(group);
		bp_recovery_write_back(pages, rec);
		FileClose(r.file);
		pfree(r.win);
		pfree(data);
		rec->end_lsn = pos;

		/*
		 * Everything is applied and fsynced.  The next record starts a
		 * whole lap past the end found: no page can hold an LSN that high
		 * (an append never gets more than a lap ahead of the checkpoint),
		 * and no record left in the file past the end (after a hole an OS
		 * crash may leave) can match its position any more.
		 */
		pos += ctl.file_size;
		if (ctl.file_size != BpRedo->file_size)
			bp_redo_new_log(pos);	/* the old log is not needed */
		else
		{
			pg_atomic_write_u64(&BpRedo->insert_lsn, pos);
			pg_atomic_write_u64(&BpRedo->write_lsn, pos);
			pg_atomic_write_u64(&BpRedo->flush_lsn, pos);
			bp_redo_write_control(pos);
			pg_atomic_write_u64(&BpRedo->checkpoint_lsn, pos);
		}
	}
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	rec->duration_ms = INSTR_TIME_GET_MILLISEC(t1);
	rec->finished = GetCurrentTimestamp();
	BpRedo->last_checkpoint = rec->finished;
	if (rec->ran)
		ereport(LOG,
				(errmsg("bufpool_ext recovery: %lld redo records read from LSN %llu to %llu, %lld applied (%lld groups of several; %lld group cut by the log's end, left out), %lld pages written in %.1f ms",
						(long long) rec->records, (unsigned long long) rec->start_lsn,
						(unsigned long long) rec->end_lsn, (long long) rec->applied,
						(long long) rec->groups, (long long) rec->groups_cut,
						(long long) rec->pages, rec->duration_ms),
				 rec->bad_pages > 0 ?
				 errdetail("%lld page(s) failed their checksum and had no full-page record: they are left as they were.",
						   (long long) rec->bad_pages) : 0,
				 rec->skipped_space > 0 ?
				 errhint("%lld record(s) were of dropped spaces.", (long long) rec->skipped_space) : 0));
	pg_write_barrier();
	BpRedo->ready = true;
}
