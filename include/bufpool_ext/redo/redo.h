/*-------------------------------------------------------------------------
 *
 * redo.h
 *	  The redo log of bufpool_ext: log buffer, log writer, checkpoints and
 *	  crash recovery (see src/redo/redo.c for the design).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/redo/redo.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_REDO_H
#define BUFPOOL_EXT_REDO_H

#include "port/atomics.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

/* record types */
#define BP_REDO_BYTES		1	/* data_len bytes at offset of the payload */
#define BP_REDO_PAGE		2	/* the whole payload */

/*
 * A record as it is in the log buffer and the log file: this header, then
 * data_len bytes, then zeros up to a multiple of 8.  The CRC covers
 * everything but lsn and crc; lsn must equal the record's position, which
 * is how recovery tells a record of this lap of the circular file from
 * an older one.
 */
typedef struct BpRedoRecord
{
	uint64		lsn;			/* where the record starts */
	uint32		len;			/* whole record, multiple of 8 */
	uint32		crc;			/* CRC-32C, see above */
	uint32		type;
	uint32		space_id;
	uint32		page_no;
	uint32		offset;			/* in the payload (after the page header) */
	uint32		data_len;
	uint32		flags;			/* BP_REDO_F_* */
} BpRedoRecord;

/*
 * More records of the same group follow this one.  A group (a
 * mini-transaction's records, bp_redo_append_group) is contiguous in the
 * log and recovery applies all of it or, if the log ends inside it, none.
 */
#define BP_REDO_F_MORE		1

/* One record of a group, for bp_redo_append_group. */
typedef struct BpRedoPart
{
	uint32		type;
	uint32		space_id;
	uint32		page_no;
	uint32		offset;
	const char *data;
	uint32		data_len;
} BpRedoPart;

#define BP_REDO_HDR			sizeof(BpRedoRecord)

/* What the last recovery did (in shared memory, shown by bufpool.redo_status). */
typedef struct BpRedoRecovery
{
	bool		ran;			/* false: a new log was made */
	uint64		start_lsn;		/* the checkpoint it started from */
	uint64		end_lsn;		/* end of the last valid record */
	int64		records;		/* valid records read */
	int64		applied;		/* records applied (page older) */
	int64		groups;			/* groups of several records applied */
	int64		groups_cut;		/* a group the log ended inside: not applied */
	int64		pages;			/* pages written back */
	int64		skipped_space;	/* records of spaces that no longer exist */
	int64		bad_pages;		/* pages that failed their checksum and no
								 * full-page record restored */
	double		duration_ms;
	TimestampTz finished;
} BpRedoRecovery;

typedef struct BpRedoShared
{
	LWLockPadded insert_lock;	/* reserve and copy into the log buffer */
	LWLockPadded write_lock;	/* write and fsync the log file */
	LWLockPadded ckpt_lock;		/* one checkpoint at a time; control file */
	int			tranche;		/* of the three locks */
	bool		ready;			/* recovery done, the log can be used */
	Size		buffer_size;	/* bytes of buffer[] */
	uint64		file_size;		/* of the circular log file */
	uint64		margin;			/* room kept free for records in flight */
	pg_atomic_uint64 reserved;	/* room promised to mini-transactions in flight */
	pg_atomic_uint64 insert_lsn;	/* end of the last record copied in */
	pg_atomic_uint64 write_lsn;	/* written to the log file */
	pg_atomic_uint64 flush_lsn;	/* written and fsynced */
	pg_atomic_uint64 checkpoint_lsn;	/* recovery would start here */
	uint32		checkpoint_no;	/* picks the control file slot */
	pg_atomic_uint32 writer_procno;	/* the log writer's latch, or -1 */
	/* statistics */
	pg_atomic_uint64 records;
	pg_atomic_uint64 bytes;
	pg_atomic_uint64 writes;
	pg_atomic_uint64 fsyncs;
	pg_atomic_uint64 buffer_waits;	/* appends that waited for buffer room */
	pg_atomic_uint64 log_full_waits;	/* free checks that had to checkpoint */
	pg_atomic_uint64 checkpoints;
	TimestampTz last_checkpoint;
	BpRedoRecovery recovery;
	char		buffer[FLEXIBLE_ARRAY_MEMBER];
} BpRedoShared;

extern PGDLLIMPORT BpRedoShared *BpRedo;

extern Size bp_redo_shmem_size(void);
extern void bp_redo_shmem_init(void);

/* startup (the pool manager, before the pool is READY) */
extern void bp_redo_recover(void);

/*
 * Whether the log has room for this process's next record (then it gets
 * the credit for it); the pool's bp_log_free_check flushes and
 * checkpoints until it has.
 */
extern bool bp_redo_has_room(bool *counted);
extern bool bp_redo_reserve(uint64 bytes, bool *counted);
extern void bp_redo_release_reservation(void);

/* log a change of a page whose content lock the caller holds exclusively */
extern uint64 bp_redo_append_group(const BpRedoPart *parts, int n, uint64 *start_lsn);
extern uint64 bp_redo_append(uint32 type, uint32 space_id, uint32 page_no,
							 uint32 offset, const char *data, uint32 data_len,
							 uint64 *start_lsn);

/* write (and with sync, fsync) the log at least up to lsn */
extern void bp_redo_flush(uint64 lsn, bool sync);

/* what bufpool_ext.flush_log_at_commit asks for a change that ended at lsn */
extern void bp_redo_commit(uint64 lsn);

extern uint64 bp_redo_checkpoint(void);
extern uint64 bp_redo_insert_lsn(void);
extern uint64 bp_redo_checkpoint_age(void);

#endif							/* BUFPOOL_EXT_REDO_H */
