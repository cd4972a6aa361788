/*-------------------------------------------------------------------------
 *
 * backend_mem.h
 *	  Every process's PostgreSQL memory-context totals in shared memory
 *	  (see src/mmgr/backend_mem.c for the design).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/mmgr/backend_mem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_BACKEND_MEM_H
#define BUFPOOL_EXT_BACKEND_MEM_H

#include "postmaster/bgworker.h"
#include "utils/timestamp.h"

#include "bufpool_ext/mmgr/buddy.h"

#define BP_CTX_NAME_LEN		48
#define BP_CTX_MAX_LINES	256		/* lines per process at most */

/* A process's totals, as last published. */
typedef struct BpBackendMemRow
{
	int32		pid;
	char		backend_type[BGW_MAXLEN];
	TimestampTz published_at;
	int64		total_bytes;
	int64		free_bytes;
	int64		blocks;
	int32		contexts;
	/* total_bytes less the statement's and transaction's contexts */
	int64		kept_bytes;
} BpBackendMemRow;

/* One child of TopMemoryContext, its subtree summed (or depth 0: itself). */
typedef struct BpBackendMemLine
{
	BpShmAddr	next;			/* a size-class object, as this one */
	char		name[BP_CTX_NAME_LEN];
	int64		total_bytes;
	int64		free_bytes;
	int32		contexts;		/* in the subtree */
	int32		depth;			/* 0: TopMemoryContext itself, 1: a child */
} BpBackendMemLine;

extern Size bp_backend_mem_shmem_size(void);
extern void bp_backend_mem_shmem_init(void);
extern void bp_backend_mem_init(void);
extern void bp_backend_mem_publish(bool force);

/* reading, for the views: slots 0 .. bp_backend_mem_n_slots()-1 */
extern int	bp_backend_mem_n_slots(void);
extern bool bp_backend_mem_read(int slot, BpBackendMemRow *out);
extern int	bp_backend_mem_read_lines(int slot, BpBackendMemRow *row,
									  BpBackendMemLine *lines, bool *truncated);

#endif							/* BUFPOOL_EXT_BACKEND_MEM_H */
