/*-------------------------------------------------------------------------
 *
 * sizeclass.h
 *	  Size-class pools in shared memory: many small objects of a few
 *	  sizes, slabs carved from buddy blocks (see src/mmgr/sizeclass.c for
 *	  the design).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/mmgr/sizeclass.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_SIZECLASS_H
#define BUFPOOL_EXT_SIZECLASS_H

#include "bufpool_ext/bufpool.h"
#include "bufpool_ext/mmgr/buddy.h"

/* the largest request a class serves; larger ones go to the buddy allocator */
#define BP_SC_MAX_SIZE		4096
#define BP_SC_N_CLASSES		49

/* class sets: 0 is the shared one; the others are created by name */
#define BP_SC_MAX_SETS		7	/* shared, backend_memory, memory_leaks, 4 more */
#define BP_SC_SHARED		0
#define BP_SC_LINES			1	/* "backend_memory": reserved for backend_mem.c */
#define BP_SC_LEAKS			2	/* "memory_leaks": reserved for leaks.c */
#define BP_SC_NAME_LEN		64

extern int	bp_sc_class_of(Size size);	/* -1 above BP_SC_MAX_SIZE */
extern int	bp_sc_class_size(int cls);

extern BpShmAddr bp_sc_alloc(int set, Size size, BpMemKey key, int flags);
extern void bp_sc_free(int set, BpShmAddr addr, Size size, BpMemKey key);
extern void bp_sc_flush_cache(void);
extern void bp_sc_trim_cache(int set, Size size);
extern int	bp_sc_set_create(const char *name);
extern int	bp_sc_set_find(const char *name);
extern int	bp_sc_set_get(const char *name);
extern void bp_sc_set_drop(int set);

/* shared memory set-up (a part of the entry's table) */
extern Size bp_sc_shmem_size(void);
extern void bp_sc_shmem_init(void);

/* one row of bufpool.size_classes: a set's class, over every instance */
typedef struct BpScClassStats
{
	int			class_size;
	int			objects_per_slab;
	int64		slabs;
	int64		objects_used;	/* handed out (allocs - frees of every process) */
	int64		objects_free;	/* in slabs, or in processes' caches */
	int64		objects_cached; /* of those, in processes' caches */
	int64		bytes_requested;	/* by the objects in use */
	int64		alloc_count;
	int64		free_count;
} BpScClassStats;

/* what a process left at its exit (bp_sc_orphans, for the leak check) */
#define BP_SC_ORPHANS		16

typedef struct BpScOrphan
{
	int32		pid;			/* 0: slot unused or cleared */
	int			set;
	char		set_name[BP_SC_NAME_LEN];
	char		backend_type[64];
	int64		objects;		/* allocated less freed by the process */
	int64		bytes;			/* requested by those */
	TimestampTz exited_at;
} BpScOrphan;

extern int	bp_sc_orphans(BpScOrphan *out, int max);
extern bool bp_sc_set_name(int set, char *name);
extern void bp_sc_stats(int set, int cls, BpScClassStats *out);
extern int64 bp_sc_verify(int set, char *why, Size why_len);

#endif							/* BUFPOOL_EXT_SIZECLASS_H */
