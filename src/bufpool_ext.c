/*-------------------------------------------------------------------------
 *
 * bufpool_ext.c
 *	  Entry point of bufpool_ext: an InnoDB-style buffer pool in dynamic
 *	  shared memory for PostgreSQL.
 *
 * _PG_init calls each module's init and installs the shared-memory
 * hooks.  Main shared memory is a table of parts, each a {size, init}
 * pair owned by its module; the request hook asks for the sum, the
 * startup hook calls each init in table order with AddinShmemInitLock
 * held.  memstat comes first because every other part counts itself as
 * memory/bufpool/shmem when it is created.  The startup hook runs in the
 * postmaster, again after a crash-restart (which also destroys every DSM
 * segment), and under EXEC_BACKEND in every child, where the inits only
 * find their structs.
 *
 * The source tree is layered (README.md, Architecture): src/base,
 * shared, mmgr, storage, redo, pool, workers, sql, then this file, the
 * only one that may call into every layer.
 *
 * IDENTIFICATION
 *	  src/bufpool_ext.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "bufpool_ext/base/fault.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/mmgr/backend_mem.h"
#include "bufpool_ext/mmgr/buddy.h"
#include "bufpool_ext/mmgr/sizeclass.h"
#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/redo/redo.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/storage/dblwr.h"
#include "bufpool_ext/workers/workers.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* One part of main shared memory. */
typedef struct BpShmemPart
{
	Size		(*size) (void);
	void		(*init) (void);
} BpShmemPart;

static const BpShmemPart bp_shmem_parts[] = {
	{bp_memstat_shmem_size, bp_memstat_shmem_init},	/* first: counts the rest */
	{bp_fault_shmem_size, bp_fault_shmem_init},
	{bp_shmem_size, bp_shmem_init},	/* BpShared: instances, counters, pins */
	{bp_backend_mem_shmem_size, bp_backend_mem_shmem_init},
	{bp_buddy_shmem_size, bp_buddy_shmem_init},
	{bp_sc_shmem_size, bp_sc_shmem_init},
	{bp_redo_shmem_size, bp_redo_shmem_init},
	{bp_dblwr_shmem_size, bp_dblwr_shmem_init},
};

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
bp_shmem_request_hook(void)
{
	int			i;

	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	for (i = 0; i < lengthof(bp_shmem_parts); i++)
		RequestAddinShmemSpace(bp_shmem_parts[i].size());
}

static void
bp_shmem_startup_hook(void)
{
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (i = 0; i < lengthof(bp_shmem_parts); i++)
		bp_shmem_parts[i].init();
	LWLockRelease(AddinShmemInitLock);
}

void
_PG_init(void)
{
	bp_guc_init();
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = bp_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = bp_shmem_startup_hook;
	bp_workers_register();
	bp_buf_init();
	bp_backend_mem_init();
}
