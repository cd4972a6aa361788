/*-------------------------------------------------------------------------
 *
 * logwriter.c
 *	  The log writer worker: writes and fsyncs the redo log about once a
 *	  second, and checkpoints.
 *
 * It wakes every second, or earlier when a process sets its latch (the
 * log buffer half full, the log full), writes and fsyncs everything
 * inserted so far (flush_log_at_commit 0 and 2 rely on it), and
 * checkpoints every bufpool_ext.checkpoint_timeout or when the
 * checkpoint age passes half the log file.  The log itself, its locks
 * and the checkpoint are the redo layer's (src/redo/redo.c).
 *
 * IDENTIFICATION
 *	  src/workers/logwriter.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/proc.h"

#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/workers/workers.h"

void
bp_log_writer_main(Datum arg)
{
	TimestampTz last_ckpt;

	bp_worker_init();
	bp_worker_wait_ready();		/* and so for recovery */
	pg_atomic_write_u32(&BpRedo->writer_procno, MyProc->pgprocno);
	last_ckpt = GetCurrentTimestamp();

	while (!ShutdownRequestPending)
	{
		TimestampTz now;

		(void) bp_worker_sleep(1000L);
		/* about once a second, or when woken (buffer half full, log full) */
		bp_redo_flush(pg_atomic_read_u64(&BpRedo->insert_lsn), true);

		now = GetCurrentTimestamp();
		if (bp_redo_checkpoint_age() > BpRedo->file_size / 2 ||
			TimestampDifferenceExceeds(last_ckpt, now, bp_checkpoint_timeout_s * 1000))
		{
			(void) bp_redo_checkpoint();
			last_ckpt = now;
		}
	}
	pg_atomic_write_u32(&BpRedo->writer_procno, INVALID_PGPROCNO);
	bp_redo_flush(pg_atomic_read_u64(&BpRedo->insert_lsn), true);
	proc_exit(1);
}
