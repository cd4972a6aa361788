/*-------------------------------------------------------------------------
 *
 * fault.h
 *	  Fault points: named places in the code where a test module can
 *	  make something go wrong (see src/base/fault.c for the design).
 *
 * A point costs one load and a compare while nothing is attached
 * anywhere in the cluster.  bp_fault_attach() is a C function only: no
 * SQL function or setting of bufpool_ext attaches anything; the test
 * module bufpool_test does (test/modules/bufpool_test).
 *
 * IDENTIFICATION
 *	  include/bufpool_ext/base/fault.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BUFPOOL_EXT_FAULT_H
#define BUFPOOL_EXT_FAULT_H

#include "port/atomics.h"

#define BP_FAULT_MAX		16		/* attached at once, cluster-wide */
#define BP_FAULT_NAME_LEN	64
#define BP_FAULT_LIB_LEN	128
#define BP_FAULT_FUNC_LEN	64
#define BP_FAULT_ARG_LEN	128

/* What a callback is given when its point is reached. */
typedef struct BpFaultHit
{
	const char *name;			/* the point */
	const char *arg;			/* the argument given at attach */
	uint64		hits;			/* 1 for the first hit of this attachment */
	void	   *ctx;			/* the point's own data (see bp_fault_points) */
} BpFaultHit;

/*
 * A callback returns whether the fault "fires"; what firing means is the
 * point's (a write fails with the errno the callback set, a pass is
 * skipped, ...).  It may also wait, raise an ERROR or a PANIC.
 */
typedef bool (*BpFaultCallback) (const BpFaultHit *hit);

/* ctx of the points that concern one page */
typedef struct BpFaultPage
{
	uint32		space_id;
	uint32		page_no;
	const char *page;			/* the prepared copy (page-write-in-place) */
} BpFaultPage;

/* ctx of redo-group: a group of n records; a firing callback sets keep */
typedef struct BpFaultGroup
{
	int			n;
	int			pages;			/* distinct pages the n records change */
	int			keep;			/* records to write before the crash, 1 .. n-1 */
} BpFaultGroup;

/* An attachment, as bp_fault_list() copies it out. */
typedef struct BpFaultEntry
{
	char		name[BP_FAULT_NAME_LEN];
	char		library[BP_FAULT_LIB_LEN];
	char		function[BP_FAULT_FUNC_LEN];
	char		arg[BP_FAULT_ARG_LEN];
	int			pid;			/* 0: every process */
	uint64		hits;
} BpFaultEntry;

/* The points this library has: name and what firing means. */
typedef struct BpFaultPointInfo
{
	const char *name;
	const char *description;
} BpFaultPointInfo;

extern PGDLLIMPORT const BpFaultPointInfo bp_fault_points[];
extern PGDLLIMPORT const int bp_fault_n_points;

/* NULL until shared memory is set up; then the number of attachments */
extern PGDLLIMPORT pg_atomic_uint32 *BpFaultArmed;

#define BP_FAULT_ARMED() \
	(unlikely(BpFaultArmed != NULL && pg_atomic_read_u32(BpFaultArmed) != 0))

/* Reach point name: true if a callback attached to it fired. */
#define BP_FAULT(name, ctx) \
	(BP_FAULT_ARMED() && bp_fault_run((name), (ctx)))

extern bool bp_fault_run(const char *name, void *ctx);
extern bool bp_fault_attached(const char *name);

extern void bp_fault_attach(const char *name, const char *library,
							const char *function, const char *arg, int pid);
extern int	bp_fault_detach(const char *name, int pid);
extern int	bp_fault_list(BpFaultEntry *out);

/* shared memory (a part of the entry's table) */
extern Size bp_fault_shmem_size(void);
extern void bp_fault_shmem_init(void);

#endif							/* BUFPOOL_EXT_FAULT_H */
