/*-------------------------------------------------------------------------
 *
 * bufpool_ext.c
 *	  Entry point of bufpool_ext: an InnoDB-style buffer pool in dynamic
 *	  shared memory for PostgreSQL.
 *
 * _PG_init only calls each module's init.  The design is described in
 * README.md (Architecture) and at the top of each module:
 *	  shmem.c	fixed state in main shared memory, mapping the pool
 *	  chunk.c	chunks (DSM segments), page hash segments, NUMA
 *	  buf.c		page access: fetch, release, locks, eviction of a page
 *	  lru.c		free list, midpoint LRU, replacement
 *	  flush.c	flush list, writing pages
 *	  space.c	tablespace registry and files; page.c page header
 *	  manager.c	pool manager worker; cleaner.c page cleaners
 *	  sql_*.c	SQL functions and views; bench.c benchmark loops
 *
 * IDENTIFICATION
 *	  src/bufpool_ext.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "bufpool_ext/pool/buf.h"
#include "bufpool_ext/base/guc.h"
#include "bufpool_ext/base/memstat.h"
#include "bufpool_ext/shared/shmem.h"
#include "bufpool_ext/workers/workers.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	bp_guc_init();
	if (!process_shared_preload_libraries_in_progress)
		return;
	bp_shmem_request();
	bp_workers_register();
	bp_buf_init();
	bp_backend_mem_init();
}
