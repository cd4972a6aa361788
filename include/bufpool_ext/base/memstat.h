/*-------------------------------------------------------------------------
 *
 * memstat.h
 *	  Memory accounting by instrument, as performance_schema's memory
 *	  summary tables (see src/base/memstat.c for the design).
 *
 * An instrument is a name such as "memory/bufpool/chunk" or
 * "memory/bufpool/heap/flush_batch"; bp_mem_register() returns its key,
 * the same key for the same name in every process, for the life of the
 * server.  Every allocator of bufpool_ext calls bp_mem_alloc() and
 * bp_mem_free() with the key of what it allocates for.  The counts go
 * to the calling process's own slot in shared memory (no lock, no atomic
 * operation, no shared cache line written); the views sum the slots.
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/base/memstat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_MEMSTAT_H
#define BUFPOOL_EXT_MEMSTAT_H

#include "port/atomics.h"

#define BP_MEM_MAX_INSTRUMENTS	128
#define BP_MEM_NAME_LEN			64

typedef int BpMemKey;			/* 1 .. BP_MEM_MAX_INSTRUMENTS-1; 0 = none */

/*
 * One process's counts for one instrument.  Written only by the owning
 * process; read by the views without a lock (64-bit loads are atomic).
 * Raw counts only grow; a reset (bp_mem_reset) is applied through
 * base_count / base_bytes and epoch, see memstat.c.
 */
typedef struct BpMemStat
{
	int64		count_alloc;
	int64		count_free;
	int64		bytes_alloc;
	int64		bytes_free;
	int64		low_count;		/* lowest / highest current count ... */
	int64		high_count;
	int64		low_bytes;		/* ... and current bytes since the last reset */
	int64		high_bytes;
	int64		base_count;		/* count_free at the last reset */
	int64		base_bytes;		/* bytes_free at the last reset */
} BpMemStat;

/* this process's row of BpMemStat, or NULL before the first use */
extern PGDLLIMPORT BpMemStat *BpMemMine;
extern PGDLLIMPORT uint32 BpMemMyEpoch;
extern PGDLLIMPORT volatile uint32 *BpMemResetEpoch;

extern BpMemKey bp_mem_register(const char *name);
extern void bp_mem_attach(void);
extern void bp_mem_catch_up(void);
extern void bp_mem_count_slow(BpMemKey key, Size bytes, bool alloc);

/* shared memory set-up (the entry's startup hook calls memstat first) */
extern Size bp_memstat_shmem_size(void);
extern void bp_memstat_shmem_init(void);
extern void bp_mem_count_startup(const char *name, Size bytes);

/* reading, for the views */
extern int	bp_mem_n_instruments(void);
extern const char *bp_mem_name(BpMemKey key);
extern int	bp_mem_n_procs(void);
extern int	bp_mem_read_row(int procno, BpMemKey key, BpMemStat *out,
							const char **backend_type);
extern void bp_mem_read_global(BpMemKey key, BpMemStat *out);
extern void bp_mem_reset_all(void);

/*
 * Count an allocation or a free of `bytes` for instrument `key` in this
 * process.  Cheap: a few adds on the process's own cache lines.
 */
static inline void
bp_mem_update_watermarks(BpMemStat *s)
{
	int64		cur_count = s->count_alloc - s->count_free;
	int64		cur_bytes = s->bytes_alloc - s->bytes_free;

	if (cur_count > s->high_count)
		s->high_count = cur_count;
	if (cur_count < s->low_count)
		s->low_count = cur_count;
	if (cur_bytes > s->high_bytes)
		s->high_bytes = cur_bytes;
	if (cur_bytes < s->low_bytes)
		s->low_bytes = cur_bytes;
}

/* Count one allocation (or free) of bytes in row s. */
static inline void
bp_mem_apply(BpMemStat *s, Size bytes, bool alloc)
{
	/*
	 * An allocation only raises the current values and a free only lowers
	 * them, so each checks its own two watermarks (a reset starts both at
	 * the current values).
	 */
	if (alloc)
	{
		s->count_alloc++;
		s->bytes_alloc += (int64) bytes;
		if (s->count_alloc - s->count_free > s->high_count)
			s->high_count = s->count_alloc - s->count_free;
		if (s->bytes_alloc - s->bytes_free > s->high_bytes)
			s->high_bytes = s->bytes_alloc - s->bytes_free;
	}
	else
	{
		s->count_free++;
		s->bytes_free += (int64) bytes;
		if (s->count_alloc - s->count_free < s->low_count)
			s->low_count = s->count_alloc - s->count_free;
		if (s->bytes_alloc - s->bytes_free < s->low_bytes)
			s->low_bytes = s->bytes_alloc - s->bytes_free;
	}
}

static inline void
bp_mem_alloc(BpMemKey key, Size bytes)
{
#ifdef BP_NO_INSTRUMENTATION
	return;						/* scripts/bench_observe.sh's build without accounting */
#endif
	if (unlikely(BpMemMine == NULL || BpMemMyEpoch != *BpMemResetEpoch || key <= 0))
	{
		bp_mem_count_slow(key, bytes, true);
		return;
	}
	bp_mem_apply(&BpMemMine[key], bytes, true);
}

static inline void
bp_mem_free(BpMemKey key, Size bytes)
{
#ifdef BP_NO_INSTRUMENTATION
	return;						/* scripts/bench_observe.sh's build without accounting */
#endif
	if (unlikely(BpMemMine == NULL || BpMemMyEpoch != *BpMemResetEpoch || key <= 0))
	{
		bp_mem_count_slow(key, bytes, false);
		return;
	}
	bp_mem_apply(&BpMemMine[key], bytes, false);
}

/*
 * Live allocators, for the bufpool.heaps view.  A local allocator embeds
 * a BpAllocInfo and registers it with bp_alloc_register_local; it is
 * listed for the process that owns it.  A shared allocator gets its
 * BpAllocInfo from bp_alloc_shared_create, a slot in shared memory
 * listed for every process (no pointer to it is kept in shared memory);
 * bp_alloc_shared_drop gives the slot back.  The owner keeps the numbers
 * current (under its own lock, for shared allocators).
 */
typedef enum BpAllocKind
{
	BP_ALLOC_ARENA,
	BP_ALLOC_HEAP_DYNAMIC,
	BP_ALLOC_HEAP_BUFFER,
	BP_ALLOC_BUDDY
} BpAllocKind;

typedef struct BpAllocInfo
{
	char		name[BP_MEM_NAME_LEN];
	uint8		kind;			/* BpAllocKind */
	bool		shared;			/* its memory is shared memory */
	bool		in_use;			/* shared slot taken / local one registered */
	int32		owner_pid;		/* creating process */
	int64		blocks;			/* blocks (or frames, for buddy) held */
	int64		reserved;		/* bytes held from the system or the pool */
	int64		used;			/* bytes handed out and not freed */
	struct BpAllocInfo *next_local;	/* local list link (local ones only) */
	/* local ones only: bring the numbers up to date before they are read */
	void		(*refresh) (struct BpAllocInfo *info);
} BpAllocInfo;

/* shared allocators of the server; each process may own one more */
#define BP_MEM_MAX_SHARED_ALLOCATORS 64

extern void bp_alloc_register_local(BpAllocInfo *info, const char *name,
									BpAllocKind kind, bool shared);
extern void bp_alloc_unregister_local(BpAllocInfo *info);
extern BpAllocInfo *bp_alloc_shared_create(const char *name, BpAllocKind kind);
extern void bp_alloc_shared_drop(BpAllocInfo *info);
extern BpAllocInfo *bp_alloc_shared_slot(int index);
extern int	bp_alloc_shared_index(const BpAllocInfo *slot);
extern const char *bp_alloc_kind_name(BpAllocKind kind);
extern int	bp_alloc_snapshot(BpAllocInfo *out, int max);
extern int	bp_alloc_shared_max(void);
extern bool bp_alloc_shared_copy(int i, BpAllocInfo *out, char *owner_type);

extern void bp_my_backend_type(char *buf, Size len);
extern bool bp_pid_alive(int pid);

#endif							/* BUFPOOL_EXT_MEMSTAT_H */
